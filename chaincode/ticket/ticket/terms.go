package ticket

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/ticketclock"
)

// MaxTargetMS bounds a target (ten years of 366 days): the clock
// arithmetic multiplies milliseconds by basis points in int64.
const MaxTargetMS = 10 * 366 * 24 * 3600 * 1000

// TicketTerms are the SLA's support terms for one severity, as a ticket
// keeps them: everything the ticket's transitions need after its creation,
// so that the vendor never needs the SLA document.
type TicketTerms struct {
	Severity string `json:"severity"`
	// Currency is the SLA's price currency, the unit of the penalties.
	Currency   string     `json:"currency"`
	Acceptance TermTarget `json:"acceptance"`
	Closure    TermTarget `json:"closure"`
	// PauseStatuses are the statuses that stop the clocks.
	PauseStatuses []string `json:"pause_statuses"`
	// SeverityChange is sla.SeverityChangeKeepElapsed or
	// sla.SeverityChangeRestart.
	SeverityChange string `json:"severity_change"`
	// Escalation are the levels (level n is Escalation[n-1]).
	Escalation []sla.Escalation `json:"escalation"`
	// AcceptancePenaltyMinor and ClosurePenaltyMinor are owed per breach
	// of the target (0 when the SLA sets none).
	AcceptancePenaltyMinor int64 `json:"acceptance_penalty_minor"`
	ClosurePenaltyMinor    int64 `json:"closure_penalty_minor"`
}

// TermTarget is a target with its calendar.
type TermTarget struct {
	TargetMS int64               `json:"target_ms"`
	Calendar sla.SupportCalendar `json:"calendar"`
}

// NewTerms returns the terms of severity in the support section s of an
// SLA whose price is in currency. It fails when the severity is not one of
// s, or when a target or a calendar of it is unusable.
func NewTerms(s *sla.Support, currency, severity string) (TicketTerms, error) {
	if s == nil {
		return TicketTerms{}, fmt.Errorf("the SLA has no support section: it takes no tickets")
	}
	sev, ok := s.Severity(severity)
	if !ok {
		ids := make([]string, 0, len(s.Severities))
		for _, v := range s.Severities {
			ids = append(ids, v.ID)
		}
		return TicketTerms{}, fmt.Errorf("input.severity: %q is not a severity of the SLA (%s)", clip(severity), strings.Join(ids, ", "))
	}
	t := TicketTerms{
		Severity: sev.ID, Currency: currency,
		PauseStatuses:  slices.Clone(s.PauseStatuses),
		SeverityChange: s.SeverityChange,
		Escalation:     slices.Clone(s.Escalation),
	}
	if t.PauseStatuses == nil {
		t.PauseStatuses = []string{}
	}
	if t.Escalation == nil {
		t.Escalation = []sla.Escalation{}
	}
	for _, tg := range []struct {
		name string
		in   sla.Target
		out  *TermTarget
	}{{sla.TargetAcceptance, sev.Acceptance, &t.Acceptance}, {sla.TargetClosure, sev.Closure, &t.Closure}} {
		if tg.in.TargetMS < 1 || tg.in.TargetMS > MaxTargetMS {
			return TicketTerms{}, fmt.Errorf("severity %q: %s target_ms %d is not in 1..%d", sev.ID, tg.name, tg.in.TargetMS, int64(MaxTargetMS))
		}
		cal, ok := s.LookupCalendar(tg.in.Calendar)
		if !ok {
			return TicketTerms{}, fmt.Errorf("severity %q: %s calendar %q is not a calendar of the SLA", sev.ID, tg.name, tg.in.Calendar)
		}
		*tg.out = TermTarget{TargetMS: tg.in.TargetMS, Calendar: *cal}
		if _, err := tg.out.calendar(); err != nil {
			return TicketTerms{}, fmt.Errorf("severity %q: %s: %w", sev.ID, tg.name, err)
		}
	}
	t.AcceptancePenaltyMinor, _ = s.Penalty(sev.ID, sla.TargetAcceptance)
	t.ClosurePenaltyMinor, _ = s.Penalty(sev.ID, sla.TargetClosure)
	return t, nil
}

// pauses reports whether status is one of the terms' pause statuses.
func (t *TicketTerms) pauses(status string) bool { return slices.Contains(t.PauseStatuses, status) }

// target returns the terms of target (sla.TargetAcceptance or
// sla.TargetClosure) with the penalty of its breach.
func (t *TicketTerms) target(name string) (TermTarget, int64) {
	if name == sla.TargetAcceptance {
		return t.Acceptance, t.AcceptancePenaltyMinor
	}
	return t.Closure, t.ClosurePenaltyMinor
}

// calendar builds the target's calendar.
func (tt TermTarget) calendar() (*calendar.Calendar, error) { return ticketclock.Calendar(tt.Calendar) }

// CalendarSpec converts a support calendar of an SLA into the calendar
// package's Spec (ticketclock.CalendarSpec).
func CalendarSpec(c sla.SupportCalendar) (calendar.Spec, error) { return ticketclock.CalendarSpec(c) }
