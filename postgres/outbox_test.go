package postgres_test

import (
	"testing"

	"chengdui/storetest"
)

func TestOutboxConformance(t *testing.T) { storetest.RunOutbox(t, Fresh(t)) }
