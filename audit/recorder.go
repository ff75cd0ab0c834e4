package audit

import (
	"context"
	"log/slog"
	"time"

	"chengdui"
)

// Recorder appends events with the time and the client address of the
// request (chengdui.RequestInfo). Recording is best effort: the action it
// describes has already happened, so a storage failure is logged at Error
// level rather than turned into a failure of that action. A nil Recorder
// records nothing.
type Recorder struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
}

// Record appends one event. detail must hold no secret: ids, names, emails.
func (r *Recorder) Record(ctx context.Context, event, actor string, detail map[string]string) {
	if r == nil || r.Store == nil {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	e := chengdui.AuditEvent{At: now().UTC().Truncate(time.Microsecond), Event: event, Actor: actor,
		IP: chengdui.RequestInfoFrom(ctx).IP, Detail: detail}
	if err := r.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil && r.Log != nil {
		r.Log.ErrorContext(ctx, "audit event not recorded", "event", event, "actor", actor, "err", err)
	}
}
