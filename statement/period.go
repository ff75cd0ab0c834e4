package statement

import (
	"strconv"
	"time"

	"chengdui/invoice"
)

// MaxPeriod is the longest period ParsePeriod accepts: 366 days.
const MaxPeriod = 366 * 24 * time.Hour

// maxUnix is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const maxUnix = 253402300799

// ParseTime reads an instant as a client writes it: RFC 3339 ("2026-11-01T00:00:00+08:00",
// fractions allowed), Unix seconds ("1793491200"), or a date YYYY-MM-DD
// in UTC, which is the start of that day, or with end set the start of
// the next: a period "to 2026-11-30" includes the 30th. The result is in
// UTC. Codes: EInvalid.
func ParseTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, fieldError("time", "is empty")
	}
	if digits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxUnix {
			return time.Time{}, fieldError("time", "Unix seconds must be at most 253402300799 (the year 9999)")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if len(s) == len(time.DateOnly) {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fieldError("time", "is not a date YYYY-MM-DD")
		}
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldError("time", "must be an RFC 3339 time (2026-11-01T00:00:00Z), Unix seconds or a date YYYY-MM-DD")
	}
	return t.UTC(), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ParsePeriod reads a statement's period [from, to) from a client's from
// and to (ParseTime; to as an end). now is the clock. Without to, the
// period ends now; a to after now is now, so that a closing balance is
// never one of the future. Without from, it starts at the start (UTC) of
// the month it ends in: with neither, it is the current month to date.
// Codes: EInvalid as an *invoice.ValidationError naming "from" or "to":
// a malformed time, a from after to (or in the future), a period longer
// than MaxPeriod.
func ParsePeriod(from, to string, now time.Time) (time.Time, time.Time, error) {
	now = now.UTC()
	end := now
	if to != "" {
		t, err := ParseTime(to, true)
		if err != nil {
			return time.Time{}, time.Time{}, named(err, "to")
		}
		if t.Before(end) {
			end = t
		}
	}
	var start time.Time
	if from == "" {
		last := end.Add(-time.Nanosecond) // the month of the period's last instant
		start = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
	} else {
		t, err := ParseTime(from, false)
		if err != nil {
			return time.Time{}, time.Time{}, named(err, "from")
		}
		start = t
	}
	switch {
	case start.After(end) && start.After(now):
		return time.Time{}, time.Time{}, fieldError("from", "is in the future")
	case start.After(end):
		return time.Time{}, time.Time{}, fieldError("from", "is after to")
	case end.Sub(start) > MaxPeriod:
		return time.Time{}, time.Time{}, fieldError("to", "the period is longer than 366 days; ask for one at a time")
	}
	return start, end, nil
}

func fieldError(field, msg string) *invoice.ValidationError {
	return &invoice.ValidationError{Fields: []invoice.FieldError{{Field: field, Message: msg}}}
}

// named sets the field of a ParseTime error.
func named(err error, field string) error {
	if ve, ok := err.(*invoice.ValidationError); ok {
		ve.Fields[0].Field = field
	}
	return err
}
