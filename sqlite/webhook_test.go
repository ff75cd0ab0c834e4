package sqlite_test

import (
	"testing"

	"chengdui/storetest"
	"chengdui/webhook"
)

func TestWebhookConformance(t *testing.T) {
	storetest.RunWebhook(t, func(t testing.TB) webhook.Store { return open(t) })
}
