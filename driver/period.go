package driver

import (
	"fmt"
	"time"

	"github.com/slasa/slasa/sla"
)

// Period is one evaluation period (billing period) [Start, End), both UTC.
type Period struct {
	Start time.Time
	End   time.Time
}

// String returns the RFC 3339 start of the period ("2026-03-01T00:00:00Z"),
// the name under which outcomes are reported.
func (p Period) String() string { return p.Start.UTC().Format(time.RFC3339) }

// Contains reports whether t lies in [Start, End).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Duration is End - Start.
func (p Period) Duration() time.Duration { return p.End.Sub(p.Start) }

// validity returns the SLA's validity window.
func validity(s *sla.SLA) (time.Time, time.Time, error) {
	start, err := sla.ParseInstant(s.Validity.Start)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.start: %v", err)
	}
	end, err := sla.ParseInstant(s.Validity.End)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.end: %v", err)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.end: must be after validity.start")
	}
	return start, end, nil
}

// periodAt returns the billing period of s containing t, without checking
// the validity window.
func periodAt(s *sla.SLA, vstart, t time.Time) (Period, error) {
	t = t.UTC()
	switch s.Interval.BillingCycle.Unit {
	case sla.CycleCalendarMonth:
		st := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return Period{st, st.AddDate(0, 1, 0)}, nil
	case sla.CycleDay:
		st := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return Period{st, st.AddDate(0, 0, 1)}, nil
	case sla.CycleHour:
		st := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, time.UTC)
		return Period{st, st.Add(time.Hour)}, nil
	case sla.CycleSeconds:
		n := s.Interval.BillingCycle.Seconds
		if n <= 0 {
			return Period{}, fmt.Errorf("interval.billing_cycle.seconds: must be positive")
		}
		d := t.Sub(vstart)
		k := int64(d / time.Second / time.Duration(n))
		if d < 0 && d%(time.Duration(n)*time.Second) != 0 {
			k--
		}
		st := vstart.Add(time.Duration(k*n) * time.Second)
		return Period{st, st.Add(time.Duration(n) * time.Second)}, nil
	}
	return Period{}, fmt.Errorf("interval.billing_cycle.unit: %q is not one of calendar_month, day, hour, seconds", s.Interval.BillingCycle.Unit)
}

// PeriodOf returns the billing period of s that contains t. Calendar
// periods are aligned to UTC calendar boundaries, periods of unit "seconds"
// to validity.start. The period must lie inside the validity window.
func PeriodOf(s *sla.SLA, t time.Time) (Period, error) {
	if s == nil {
		return Period{}, fmt.Errorf("nil SLA")
	}
	vs, ve, err := validity(s)
	if err != nil {
		return Period{}, err
	}
	p, err := periodAt(s, vs, t)
	if err != nil {
		return Period{}, err
	}
	if p.Start.Before(vs) || p.End.After(ve) {
		return Period{}, fmt.Errorf("period %s..%s is not inside the validity window %s..%s",
			p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), s.Validity.Start, s.Validity.End)
	}
	return p, nil
}

// ParsePeriod parses the name of a billing period of s: its RFC 3339 start
// ("2026-03-01T00:00:00Z") or a shorthand of the same instant: "2026-03"
// (a month), "2026-03-05" (a day), "2026-03-05T14" (an hour). The instant
// must be the start of a billing period inside the validity window; for
// example "2026-03-05" names a period of a daily SLA, not of a monthly one.
func ParsePeriod(s *sla.SLA, text string) (Period, error) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02T15", "2006-01-02", "2006-01"} {
		t, err = time.Parse(layout, text)
		if err == nil {
			break
		}
	}
	if err != nil {
		return Period{}, fmt.Errorf("period %q: not an RFC 3339 start (2026-03-01T00:00:00Z) or a shorthand 2026-03, 2026-03-05, 2026-03-05T14", text)
	}
	if _, off := t.Zone(); off != 0 {
		return Period{}, fmt.Errorf("period %q: must be in UTC", text)
	}
	t = t.UTC()
	p, err := PeriodOf(s, t)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: %v", text, err)
	}
	if !p.Start.Equal(t) {
		return Period{}, fmt.Errorf("period %q: %s is not the start of a billing period (%s cycle; the period containing it starts at %s)",
			text, t.Format(time.RFC3339), s.Interval.BillingCycle.Unit, p)
	}
	return p, nil
}
