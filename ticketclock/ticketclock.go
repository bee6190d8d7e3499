// Package ticketclock is the clock arithmetic of trouble tickets shared by
// the ticket chaincode (chaincode/ticket), which computes a ticket's
// outcomes on each transition, and the SLA enclave's support evaluation
// (package driver), which computes them again from the ticket's incident
// events in the period's logs. One function each, used by both, so that the
// enclave's per-ticket outcomes are the chaincode's.
//
// It is a pure package (sla and calendar only): it links into the v1-shim
// enclave and into the v2 chaincode alike. Integers only.
package ticketclock

import (
	"fmt"
	"slices"
	"time"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/sla"
)

// CalendarSpec converts a support calendar of an SLA into the calendar
// package's Spec.
func CalendarSpec(c sla.SupportCalendar) (calendar.Spec, error) {
	switch c.Kind {
	case sla.CalendarTwentyFourSeven:
		return calendar.Spec{TwentyFourSeven: true, TimeZone: c.TimeZone, Holidays: c.Holidays}, nil
	case sla.CalendarBusinessHours:
	default:
		return calendar.Spec{}, fmt.Errorf("calendar %q: kind %q is not %s or %s", c.ID, c.Kind, sla.CalendarTwentyFourSeven, sla.CalendarBusinessHours)
	}
	spec := calendar.Spec{TimeZone: c.TimeZone, Holidays: slices.Clone(c.Holidays)}
	for i, h := range c.Hours {
		from, err := sla.ParseClock(h.From)
		if err != nil {
			return calendar.Spec{}, fmt.Errorf("calendar %q: hours[%d].from: %w", c.ID, i, err)
		}
		to, err := sla.ParseClock(h.To)
		if err != nil {
			return calendar.Spec{}, fmt.Errorf("calendar %q: hours[%d].to: %w", c.ID, i, err)
		}
		for j, d := range h.Days {
			day, ok := sla.ParseDay(d)
			if !ok {
				return calendar.Spec{}, fmt.Errorf("calendar %q: hours[%d].days[%d]: %q is not a week day mon..sun", c.ID, i, j, d)
			}
			spec.Hours = append(spec.Hours, calendar.Range{Day: day, From: from, To: to})
		}
	}
	return spec, nil
}

// Calendar builds the calendar of a support calendar of an SLA.
func Calendar(c sla.SupportCalendar) (*calendar.Calendar, error) {
	spec, err := CalendarSpec(c)
	if err != nil {
		return nil, err
	}
	cal, err := calendar.New(spec)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: %w", c.ID, err)
	}
	return cal, nil
}

// Elapsed is the time a target's clock has counted at now: carried (the
// time counted under earlier terms, kept across a severity change) plus the
// calendar time of cal from start to now, pauses excluded; only carried
// before start.
func Elapsed(cal *calendar.Calendar, start, now time.Time, carried time.Duration, pauses []calendar.Interval) time.Duration {
	if now.Before(start) {
		return carried
	}
	return carried + cal.Elapsed(start, now, pauses)
}

// Judgement is the outcome of a target whose clock stopped.
type Judgement struct {
	// Breached is true when the counted time exceeds the target.
	Breached bool
	// ElapsedMS is the counted time and MarginMS the target minus it
	// (negative when breached), in whole milliseconds truncated towards
	// zero.
	ElapsedMS, MarginMS int64
	// PenaltyMinor is the penalty owed: the breach penalty when breached,
	// else 0.
	PenaltyMinor int64
}

// Judge judges a target of targetMS milliseconds whose clock counted
// elapsed: met when elapsed <= target, and then nothing is owed; breached
// otherwise, and then penalty is owed.
func Judge(targetMS int64, elapsed time.Duration, penalty int64) Judgement {
	target := time.Duration(targetMS) * time.Millisecond
	j := Judgement{ElapsedMS: elapsed.Milliseconds(), MarginMS: (target - elapsed).Milliseconds()}
	if elapsed > target {
		j.Breached, j.PenaltyMinor = true, penalty
	}
	return j
}
