package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slasa/slasa/sla"
)

// Due is an escalation level that a ticket's running target has reached.
type Due struct {
	// Target is sla.TargetAcceptance or sla.TargetClosure.
	Target string
	// Level is the level to record (1-based): the one after the target's
	// last recorded level.
	Level int
	// AtBPS is the level's threshold and UsedBPS the share of the target
	// the chaincode's clock had used at the query, both in basis points.
	AtBPS, UsedBPS int64
	Notify         []string
}

// DueEscalation returns the next escalation level of the running target of
// ticket v when the chaincode's clock in v, computed by the chaincode at
// the query's time, has reached it: the ticket is neither resolved nor
// closed, a target runs and is not paused, the target has a level after
// its last recorded one, and used_bps is at least that level's at_bps. ok
// is false when no level is due. The monitor's own clock plays no part.
func DueEscalation(v *TicketView) (d Due, ok bool, err error) {
	var r TicketRecord
	if err := json.Unmarshal(v.Record, &r); err != nil {
		return Due{}, false, fmt.Errorf("ticket %q of SLA %q: record: %w", v.Ticket.ID, v.Ticket.SLAID, err)
	}
	if r.Status == TicketResolved || r.Status == TicketClosed || v.Clock == nil {
		return Due{}, false, nil
	}
	// mutate:check monitor-escalate-paused
	if v.Clock.Paused {
		return Due{}, false, nil
	}
	last, err := r.level(v.Clock.Target)
	if err != nil {
		return Due{}, false, fmt.Errorf("ticket %q of SLA %q: %w", v.Ticket.ID, v.Ticket.SLAID, err)
	}
	next := last + 1
	if next > len(r.Terms.Escalation) {
		return Due{}, false, nil
	}
	lv := r.Terms.Escalation[next-1]
	// Never early: only the chaincode's clock says the share is reached.
	// mutate:check monitor-escalate-threshold
	if v.Clock.UsedBPS < lv.AtBPS {
		return Due{}, false, nil
	}
	return Due{Target: v.Clock.Target, Level: next, AtBPS: lv.AtBPS, UsedBPS: v.Clock.UsedBPS, Notify: lv.Notify}, true, nil
}

// level returns the last escalation level recorded for target.
func (r *TicketRecord) level(target string) (int, error) {
	switch target {
	case sla.TargetAcceptance:
		return r.Acceptance.Level, nil
	case sla.TargetClosure:
		return r.Closure.Level, nil
	}
	return 0, fmt.Errorf("clock.target %q is neither %s nor %s", target, sla.TargetAcceptance, sla.TargetClosure)
}

// Escalate runs one escalation pass over the tickets of SLA id: when the
// SLA is active or terminated, the monitor's identity is one of its
// parties and its support section has escalation levels, every page of
// the SLA's tickets its organization holds is listed, and each ticket with
// a level due (DueEscalation) is escalated by one level. A ticket that
// fails does not stop the others; the pass then returns their errors.
func (m *Monitor) Escalate(ctx context.Context, id string) error {
	if m.cfg.Tickets == nil {
		return nil
	}
	ag, err := m.cfg.Agreements.GetSLA(ctx, id)
	if err != nil {
		return err
	}
	if ag.Status != StatusActive && ag.Status != StatusTerminated {
		return nil
	}
	s, err := ag.SLA()
	if err != nil {
		return err
	}
	if !m.isParty(s) || s.Support == nil || len(s.Support.Escalation) == 0 {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	for bookmark := ""; ; {
		page, err := m.cfg.Tickets.ListTickets(ctx, id, bookmark)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("ListTickets of SLA %q: %w", id, err))...)
		}
		for i := range page.Records {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := m.escalateTicket(ctx, id, &page.Records[i]); err != nil {
				errs = append(errs, err)
			}
		}
		if page.Bookmark == "" {
			break
		}
		if seen[page.Bookmark] || page.Bookmark == bookmark {
			return errors.Join(append(errs, fmt.Errorf("ListTickets of SLA %q: bookmark %q again", id, page.Bookmark))...)
		}
		seen[page.Bookmark] = true
		bookmark = page.Bookmark
	}
	return errors.Join(errs...)
}

// escalateTicket escalates a listed ticket by one level when one is due,
// deciding again on a fresh GetTicket (the list may be a moment old) and
// submitting the record that GetTicket returned.
func (m *Monitor) escalateTicket(ctx context.Context, id string, listed *TicketView) error {
	if _, ok, err := DueEscalation(listed); err != nil || !ok {
		return err
	}
	tid := listed.Ticket.ID
	v, err := m.cfg.Tickets.GetTicket(ctx, id, tid)
	if err != nil {
		return fmt.Errorf("GetTicket %s of SLA %q: %w", tid, id, err)
	}
	d, ok, err := DueEscalation(v)
	if err != nil || !ok {
		return err
	}
	err = m.cfg.Tickets.Escalate(ctx, id, tid, d.Level, v.Record, v.Ticket.Orgs)
	if err == nil {
		m.C.Escalations.Add(1)
		m.log.Info("ticket escalated", "sla", id, "ticket", tid, "target", d.Target, "level", d.Level,
			"at_bps", d.AtBPS, "used_bps", d.UsedBPS, "notify", d.Notify)
		return nil
	}
	// Refused, or the reply was lost: read the ticket again to see why.
	now, err2 := m.cfg.Tickets.GetTicket(ctx, id, tid)
	if err2 == nil {
		var r TicketRecord
		if json.Unmarshal(now.Record, &r) == nil {
			if lv, _ := r.level(d.Target); lv >= d.Level {
				m.C.EscalationsRefused.Add(1)
				m.log.Info("escalation already recorded", "sla", id, "ticket", tid, "target", d.Target, "level", d.Level, "err", err)
				return nil
			}
		}
		if now.Ticket.Seq != v.Ticket.Seq {
			m.C.EscalationsRefused.Add(1)
			m.log.Info("ticket changed while escalating; looking again next pass", "sla", id, "ticket", tid,
				"target", d.Target, "level", d.Level, "seq", v.Ticket.Seq, "now_seq", now.Ticket.Seq, "err", err)
			return nil
		}
	}
	return fmt.Errorf("Escalate ticket %s of SLA %q to %s level %d: %w", tid, id, d.Target, d.Level, err)
}
