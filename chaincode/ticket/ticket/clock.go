package ticket

import (
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/ticketclock"
)

// The clocks of a ticket: integer arithmetic on time.Time and
// time.Duration (nanoseconds), reported in whole milliseconds.

// txTime is the guard's skew-checked transaction time truncated to the
// millisecond: the ticket clocks work in whole milliseconds, the resolution
// of the logs the Cloud Logger's ticket feed writes, so that the SLA
// enclave, replaying a ticket from its log events, counts exactly the
// chaincode's times (package ticketclock).
func (c *Contract) txTime(ctx contractapi.TransactionContextInterface) (time.Time, error) {
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return now.Truncate(time.Millisecond), nil
}

// intervals returns the ticket's pauses for package calendar (an open
// pause has a zero To).
func (r *TicketRecord) intervals() ([]calendar.Interval, error) {
	out := make([]calendar.Interval, 0, len(r.Pauses))
	for i, p := range r.Pauses {
		from, err := parseTime(fmt.Sprintf("pauses[%d].from", i), p.From)
		if err != nil {
			return nil, err
		}
		var to time.Time
		if p.To != "" {
			if to, err = parseTime(fmt.Sprintf("pauses[%d].to", i), p.To); err != nil {
				return nil, err
			}
		}
		out = append(out, calendar.Interval{From: from, To: to})
	}
	return out, nil
}

// clock returns the state of target name (sla.TargetAcceptance or
// sla.TargetClosure).
func (r *TicketRecord) clock(name string) *TargetClock {
	if name == sla.TargetAcceptance {
		return &r.Acceptance
	}
	return &r.Closure
}

// running returns the target whose clock runs: the acceptance target until
// it has an outcome, then the closure target until it has one; "" when
// both have one.
func (r *TicketRecord) running() string {
	switch {
	case r.Acceptance.Outcome == nil:
		return sla.TargetAcceptance
	case r.Closure.Outcome == nil:
		return sla.TargetClosure
	}
	return ""
}

// elapsed returns the time counted by target name's clock at now.
func (r *TicketRecord) elapsed(name string, now time.Time) (time.Duration, error) {
	tt, _ := r.Terms.target(name)
	cal, err := tt.calendar()
	if err != nil {
		return 0, err
	}
	c := r.clock(name)
	start, err := parseTime(name+".start", c.Start)
	if err != nil {
		return 0, err
	}
	pauses, err := r.intervals()
	if err != nil {
		return 0, err
	}
	return ticketclock.Elapsed(cal, start, now, time.Duration(c.CarriedMS)*time.Millisecond, pauses), nil
}

// refreshDeadlines sets the target and the deadline of every target
// without an outcome from the terms, its clock and the pauses.
func (r *TicketRecord) refreshDeadlines() error {
	pauses, err := r.intervals()
	if err != nil {
		return err
	}
	for _, name := range []string{sla.TargetAcceptance, sla.TargetClosure} {
		c := r.clock(name)
		if c.Outcome != nil {
			continue
		}
		start, err := parseTime(name+".start", c.Start)
		if err != nil {
			return err
		}
		tt, _ := r.Terms.target(name)
		cal, err := tt.calendar()
		if err != nil {
			return err
		}
		c.TargetMS = tt.TargetMS
		c.Deadline = format(start)
		if left := tt.TargetMS - c.CarriedMS; left > 0 {
			c.Deadline = ""
			if d, ok := cal.Deadline(start, time.Duration(left)*time.Millisecond, pauses); ok {
				c.Deadline = format(d)
			}
		}
	}
	return nil
}

// restartClocks prepares the clocks without an outcome for new terms at
// now: under "restart" they start again from zero, else the time counted
// so far (under the current terms) is carried over.
func (r *TicketRecord) restartClocks(now time.Time, restart bool) error {
	for _, name := range []string{sla.TargetAcceptance, sla.TargetClosure} {
		c := r.clock(name)
		if c.Outcome != nil {
			continue
		}
		carried := int64(0)
		if !restart {
			el, err := r.elapsed(name, now)
			if err != nil {
				return err
			}
			carried = el.Milliseconds()
		}
		c.Start, c.CarriedMS, c.Level = format(now), carried, 0
	}
	return nil
}

// stop stops target name's clock at now and records its outcome.
func (r *TicketRecord) stop(name string, now time.Time) error {
	el, err := r.elapsed(name, now)
	if err != nil {
		return err
	}
	tt, penalty := r.Terms.target(name)
	o := outcome(tt.TargetMS, el, penalty)
	o.At, o.Severity, o.Currency = format(now), r.Terms.Severity, r.Terms.Currency
	r.clock(name).Outcome = &o
	return nil
}

// outcome judges a target of targetMS milliseconds whose clock counted
// elapsed: met when elapsed <= target, and then nothing is owed; breached
// otherwise, and then penalty is owed. The counted time and the margin are
// in whole milliseconds (truncated towards zero).
func outcome(targetMS int64, elapsed time.Duration, penalty int64) Outcome {
	j := ticketclock.Judge(targetMS, elapsed, penalty)
	o := Outcome{Result: OutcomeMet, ElapsedMS: j.ElapsedMS, MarginMS: j.MarginMS, PenaltyMinor: j.PenaltyMinor}
	if j.Breached {
		o.Result = OutcomeBreached
	}
	return o
}

// reached reports whether elapsed has reached atBPS basis points of a
// target of targetMS milliseconds: elapsed_ms * 10000 >= atBPS * targetMS,
// in int64 (elapsed is capped at the target, targetMS <= MaxTargetMS and
// atBPS <= 10000, so nothing overflows).
func reached(elapsed time.Duration, targetMS, atBPS int64) bool {
	ms := min(elapsed.Milliseconds(), targetMS)
	return ms*10000 >= atBPS*targetMS
}

// bps returns the share of the target elapsed, in basis points, capped at
// 10000.
func bps(elapsed time.Duration, targetMS int64) int64 {
	ms := min(elapsed.Milliseconds(), targetMS)
	return ms * 10000 / targetMS
}

// breached reports whether a target of the ticket is breached at now: an
// outcome breached, or a running clock past its known deadline.
func (r *TicketRecord) breached(now time.Time) bool {
	for _, c := range []*TargetClock{&r.Acceptance, &r.Closure} {
		if c.Outcome != nil {
			if c.Outcome.Result == OutcomeBreached {
				return true
			}
			continue
		}
		if c.Deadline == "" || r.Status == StatusClosed {
			continue
		}
		if d, err := time.Parse(time.RFC3339Nano, c.Deadline); err == nil && now.After(d) {
			return true
		}
	}
	return false
}
