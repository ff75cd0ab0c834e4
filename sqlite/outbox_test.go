package sqlite_test

import (
	"testing"

	"chengdui/storetest"
)

func TestOutboxConformance(t *testing.T) { storetest.RunOutbox(t, open(t)) }
