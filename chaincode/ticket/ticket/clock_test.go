package ticket_test

import (
	"fmt"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/sla"
)

// Escalation levels of the running target: each once, in order, only when
// the counted share of the target has reached the level's at_bps.
func TestEscalate(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	escalate := func(ts, level, wantErr string) {
		t.Helper()
		n.At(ts)
		c := n.TicketCall(n.Provider, "Escalate", "sla-1", "t1", nil, level)
		if wantErr != "" {
			n.ExpectCallError(c, wantErr)
			return
		}
		r := n.World.SubmitCall(c)
		if !r.OK() || r.Event == nil || r.Event.Name != ticket.EventTicketEscalated {
			t.Fatalf("Escalate %s at %s: %q %+v", level, ts, r.Message, r.Event)
		}
	}
	escalate("2026-03-10T13:09:59.9Z", "1", `level: the acceptance target of ticket "t1" of SLA "sla-1" has used 4999 of 10000 basis points at 2026-03-10T13:09:59.9Z; level 1 needs 5000`)
	escalate("2026-03-10T13:10:00Z", "2", `level: ticket "t1" of SLA "sla-1" is at escalation level 0 of its acceptance target; the next level is 1, not 2`)
	escalate("2026-03-10T13:10:00Z", "1", "")
	escalate("2026-03-10T13:12:00Z", "1", `level: ticket "t1" of SLA "sla-1" is at escalation level 1 of its acceptance target; the next level is 2, not 1`)
	escalate("2026-03-10T13:12:00Z", "4", `level: "4" is not a level of the SLA's escalation (1..3)`)
	escalate("2026-03-10T13:12:00Z", "0", `level: "0" is not a level of the SLA's escalation (1..3)`)
	escalate("2026-03-10T13:12:00Z", "x", `level: "x" is not a level of the SLA's escalation (1..3)`)
	escalate("2026-03-10T13:14:59.9Z", "2", `level: the acceptance target of ticket "t1" of SLA "sla-1" has used 7499 of 10000 basis points at 2026-03-10T13:14:59.9Z; level 2 needs 7500`)
	escalate("2026-03-10T13:15:00Z", "2", "")
	escalate("2026-03-10T13:25:00Z", "3", "")
	// The vendor acknowledges: the closure target runs, from level 0. A
	// pause of 30 minutes moves its 50 % mark from 15:00 to 15:30.
	step(t, n, n.Provider, "AssignVendor", "t1", "2026-03-10T13:26:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t1", "2026-03-10T13:27:00Z", nil)
	step(t, n, n.Vendor, "PauseTicket", "t1", "2026-03-10T14:00:00Z", map[string]string{"status": "customer_caused", "reason": "power cut at the customer"})
	step(t, n, n.Client, "ResumeTicket", "t1", "2026-03-10T14:30:00Z", nil)
	escalate("2026-03-10T15:29:59Z", "1", `level: the closure target of ticket "t1" of SLA "sla-1" has used 4999 of 10000 basis points at 2026-03-10T15:29:59Z; level 1 needs 5000`)
	escalate("2026-03-10T15:30:00Z", "1", "")
	v := n.GetTicket(n.Vendor, "sla-1", "t1")
	var got []string
	for _, e := range v.Record.Escalations {
		got = append(got, fmt.Sprintf("%s %d %d %v %s", e.Target, e.Level, e.AtBPS, e.Notify, e.At))
	}
	want := "[acceptance 1 5000 [provider] 2026-03-10T13:10:00Z acceptance 2 7500 [provider vendor] 2026-03-10T13:15:00Z acceptance 3 10000 [provider vendor customer] 2026-03-10T13:25:00Z closure 1 5000 [provider] 2026-03-10T15:30:00Z]"
	if fmt.Sprint(got) != want || v.Record.Acceptance.Level != 3 || v.Record.Closure.Level != 1 {
		t.Fatalf("escalations %v", got)
	}
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T15:40:00Z", nil)
	escalate("2026-03-10T17:00:00Z", "2", `ticket "t1" of SLA "sla-1" is resolved: no target runs, nothing to escalate`)
	step(t, n, n.Client, "CloseTicket", "t1", "2026-03-10T17:01:00Z", nil)
	escalate("2026-03-10T17:02:00Z", "2", `ticket "t1" of SLA "sla-1" is closed: no target runs, nothing to escalate`)
}

// ChangeSeverity under "keep_elapsed": the time counted so far stays
// counted, the clock goes on in the new calendar; a target with an outcome
// keeps it.
func TestChangeSeverityKeepElapsed(t *testing.T) {
	n, s := setup(t)
	doc, _ := cctest.Doc(t, s)
	change := func(ticketID, ts, severity string) {
		t.Helper()
		n.At(ts)
		c := n.TicketCall(n.Provider, "ChangeSeverity", "sla-1", ticketID, map[string]string{"severity": severity, "reason": "reassessed"})
		c.Transient[ticket.TransientSLA] = []byte(doc)
		n.MustCall(c)
	}
	// Tuesday 14:00 in Rome; 30 minutes of 24x7 time counted, then the
	// office calendar: 1 h 30 left to acknowledge (16:00 Rome), 19 h 30 to
	// resolve (Tuesday 3 h 30, Wednesday 10 h, Thursday 6 h: 14:00 Rome).
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	n.At("2026-03-10T13:10:00Z")
	n.MustTicket(n.Provider, "Escalate", "sla-1", "t1", nil, "1")
	change("t1", "2026-03-10T13:30:00Z", "medium")
	v := n.GetTicket(n.Client, "sla-1", "t1")
	r := v.Record
	if r.Severity != "medium" || r.Terms.Severity != "medium" || r.Acceptance.CarriedMS != 1_800_000 || r.Acceptance.Start != "2026-03-10T13:30:00Z" ||
		r.Acceptance.Deadline != "2026-03-10T15:00:00Z" || r.Closure.Deadline != "2026-03-12T13:00:00Z" || r.Acceptance.Level != 0 || r.Acceptance.TargetMS != 7_200_000 {
		t.Fatalf("after the change: %+v %+v", r.Acceptance, r.Closure)
	}
	if last := r.Timeline[len(r.Timeline)-1]; last.Action != "ChangeSeverity" || last.Note != "severity critical -> medium: reassessed" || last.From != "open" || last.To != "open" {
		t.Fatalf("timeline %+v", last)
	}
	// Acknowledged at 16:30 Rome: 30 min + 2 h = 2 h 30 of 2 h, breached,
	// and a medium acceptance breach costs nothing.
	step(t, n, n.Provider, "AssignVendor", "t1", "2026-03-10T14:00:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t1", "2026-03-10T15:30:00Z", nil)
	r = n.GetTicket(n.Client, "sla-1", "t1").Record
	if got := outcomeText(r.Acceptance.Outcome); got != "breached at 2026-03-10T15:30:00Z elapsed 9000000 margin -1800000 penalty 0 USD (medium)" {
		t.Fatalf("acceptance %s", got)
	}
	// Back to critical: the acceptance outcome stays; the closure clock
	// carries 30 min of 24x7 time and 2 h 30 of office time, 1 h is left.
	change("t1", "2026-03-10T16:00:00Z", "critical")
	r = n.GetTicket(n.Client, "sla-1", "t1").Record
	if got := outcomeText(r.Acceptance.Outcome); got != "breached at 2026-03-10T15:30:00Z elapsed 9000000 margin -1800000 penalty 0 USD (medium)" ||
		r.Closure.CarriedMS != 10_800_000 || r.Closure.Deadline != "2026-03-10T17:00:00Z" || r.Terms.ClosurePenaltyMinor != 20_000 {
		t.Fatalf("after the second change: %s %+v", got, r.Closure)
	}
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T17:30:00Z", nil)
	v = n.GetTicket(n.Client, "sla-1", "t1")
	if got := outcomeText(v.Record.Closure.Outcome); got != "breached at 2026-03-10T17:30:00Z elapsed 16200000 margin -1800000 penalty 20000 USD (critical)" || v.PenaltyOwedMinor != 20_000 {
		t.Fatalf("closure %s, owed %d", got, v.PenaltyOwedMinor)
	}
}

// ChangeSeverity under "restart": the clocks start again at the change.
// A target whose carried time already reached the new target has its
// deadline at the change.
func TestChangeSeverityRestart(t *testing.T) {
	n := cctest.NewTickets(t)
	s := cctest.SupportSLA(t, "sla-1")
	s.Support.SeverityChange = sla.SeverityChangeRestart
	n.At("2026-03-10T12:00:00Z")
	n.Activate(s, 1_000_000)
	doc, _ := cctest.Doc(t, s)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	n.At("2026-03-10T13:30:00Z")
	c := n.TicketCall(n.Client, "ChangeSeverity", "sla-1", "t1", map[string]string{"severity": "medium", "reason": "reassessed"})
	c.Transient[ticket.TransientSLA] = []byte(doc)
	n.MustCall(c)
	r := n.GetTicket(n.Client, "sla-1", "t1").Record
	if r.Acceptance.CarriedMS != 0 || r.Acceptance.Start != "2026-03-10T13:30:00Z" || r.Acceptance.Deadline != "2026-03-10T15:30:00Z" {
		t.Fatalf("restart: %+v", r.Acceptance)
	}
}

// A keep_elapsed change to a target already used up: the deadline is the
// change itself.
func TestChangeSeverityUsedUp(t *testing.T) {
	n, s := setup(t)
	doc, _ := cctest.Doc(t, s)
	// Saturday: critical counts 2 h 30 of 24x7 time, more than medium's
	// 2 h to acknowledge; 17 h 30 of office time are left to resolve
	// (Monday 10 h, Tuesday 7 h 30: 15:30 Rome).
	create(t, n, s, "t1", "critical", "2026-03-14T10:00:00Z")
	n.At("2026-03-14T12:30:00Z")
	c := n.TicketCall(n.Client, "ChangeSeverity", "sla-1", "t1", map[string]string{"severity": "medium", "reason": "reassessed"})
	c.Transient[ticket.TransientSLA] = []byte(doc)
	n.MustCall(c)
	r := n.GetTicket(n.Client, "sla-1", "t1").Record
	if r.Acceptance.CarriedMS != 9_000_000 || r.Acceptance.Deadline != "2026-03-14T12:30:00Z" || r.Closure.Deadline != "2026-03-17T14:30:00Z" {
		t.Fatalf("used up: %+v %+v", r.Acceptance, r.Closure)
	}
}
