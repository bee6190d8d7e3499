package ticket_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

const TK = cctest.Ticket

// vendorInput names n's vendor for AssignVendor.
func vendorInput(id *fabricfake.Identity) map[string]any {
	return map[string]any{"vendor": cctest.ID(id)}
}

// setup activates a support SLA "sla-1" at 2026-03-10T12:00:00Z.
func setup(t testing.TB) (*cctest.Net, *sla.SLA) {
	t.Helper()
	n := cctest.NewTickets(t)
	s := cctest.SupportSLA(t, "sla-1")
	n.At("2026-03-10T12:00:00Z")
	n.Activate(s, 1_000_000)
	return n, s
}

// create opens ticket id on s as the client at ts.
func create(t testing.TB, n *cctest.Net, s *sla.SLA, id, severity, ts string) {
	t.Helper()
	n.At(ts)
	n.MustCall(cctest.CreateTicketCall(t, n.Client, s, id, severity, "incident", "the VPN is down"))
}

// step runs transition fn as who at ts.
func step(t *testing.T, n *cctest.Net, who *fabricfake.Identity, fn, ticketID, ts string, input any, args ...string) {
	t.Helper()
	n.At(ts)
	n.MustTicket(who, fn, "sla-1", ticketID, input, args...)
}

func outcomeText(o *ticket.Outcome) string {
	if o == nil {
		return "none"
	}
	return fmt.Sprintf("%s at %s elapsed %d margin %d penalty %d %s (%s)", o.Result, o.At, o.ElapsedMS, o.MarginMS, o.PenaltyMinor, o.Currency, o.Severity)
}

// The whitepaper's story on a critical (24x7) ticket: acknowledged late
// (acceptance breached), paused while waiting on the customer, resolved in
// time, reopened, resolved late, closed; every deadline and outcome exact.
func TestLifecycleCritical(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	deadlines := func(acc, clo string) {
		t.Helper()
		v := n.GetTicket(n.Client, "sla-1", "t1")
		if v.Record.Acceptance.Deadline != acc || v.Record.Closure.Deadline != clo {
			t.Fatalf("deadlines %q %q, want %q %q", v.Record.Acceptance.Deadline, v.Record.Closure.Deadline, acc, clo)
		}
	}
	deadlines("2026-03-10T13:20:00Z", "2026-03-10T17:00:00Z")
	step(t, n, n.Provider, "AssignVendor", "t1", "2026-03-10T13:05:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t1", "2026-03-10T13:30:00Z", map[string]string{"note": "on it"})
	step(t, n, n.Vendor, "UpdateTicket", "t1", "2026-03-10T14:00:00Z", map[string]string{"reason": "router replaced", "vendor_ticket_id": "VND-42"})
	step(t, n, n.Vendor, "PauseTicket", "t1", "2026-03-10T14:10:00Z", map[string]string{"status": "waiting_on_customer", "reason": "need the site's access code"})
	deadlines("2026-03-10T13:20:00Z", "")
	step(t, n, n.Client, "ResumeTicket", "t1", "2026-03-10T15:10:00Z", nil)
	deadlines("2026-03-10T13:20:00Z", "2026-03-10T18:00:00Z")
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T16:00:00Z", map[string]string{"note": "fixed"})
	v := n.GetTicket(n.Vendor, "sla-1", "t1")
	if got := outcomeText(v.Record.Closure.Outcome); got != "met at 2026-03-10T16:00:00Z elapsed 7200000 margin 7200000 penalty 0 USD (critical)" {
		t.Fatalf("closure %s", got)
	}
	step(t, n, n.Client, "ReopenTicket", "t1", "2026-03-10T16:30:00Z", map[string]string{"reason": "still down"})
	v = n.GetTicket(n.Client, "sla-1", "t1")
	if v.Record.Closure.Outcome != nil || v.Record.Status != ticket.StatusInProgress || v.Record.Closure.Deadline != "2026-03-10T18:00:00Z" {
		t.Fatalf("after reopen: %+v", v.Record.Closure)
	}
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T18:30:00Z", nil)
	step(t, n, n.Provider, "CloseTicket", "t1", "2026-03-10T19:00:00Z", nil)

	v = n.GetTicket(n.Provider, "sla-1", "t1")
	r := v.Record
	if got := outcomeText(r.Acceptance.Outcome); got != "breached at 2026-03-10T13:30:00Z elapsed 1800000 margin -600000 penalty 5000 USD (critical)" {
		t.Errorf("acceptance %s", got)
	}
	if got := outcomeText(r.Closure.Outcome); got != "breached at 2026-03-10T18:30:00Z elapsed 16200000 margin -1800000 penalty 20000 USD (critical)" {
		t.Errorf("closure %s", got)
	}
	if v.PenaltyOwedMinor != 25_000 || !v.Breached || v.Clock != nil {
		t.Errorf("owed %d breached %v clock %+v", v.PenaltyOwedMinor, v.Breached, v.Clock)
	}
	if r.Status != ticket.StatusClosed || r.VendorTicketID != "VND-42" || r.Vendor == nil || *r.Vendor != cctest.ID(n.Vendor) ||
		r.Customer != cctest.ID(n.Client) || r.Provider != cctest.ID(n.Provider) || r.CreatedBy != ticket.RoleCustomer {
		t.Errorf("record %+v", r)
	}
	if len(r.Pauses) != 1 || r.Pauses[0] != (ticket.Pause{Status: "waiting_on_customer", From: "2026-03-10T14:10:00Z", To: "2026-03-10T15:10:00Z"}) {
		t.Errorf("pauses %+v", r.Pauses)
	}
	var trail []string
	for _, tr := range r.Timeline {
		trail = append(trail, fmt.Sprintf("%d %s %s %s->%s %q", tr.Seq, tr.Action, tr.Role, tr.From, tr.To, tr.Note))
	}
	want := []string{
		`1 CreateTicket customer ->open ""`,
		fmt.Sprintf(`2 AssignVendor provider open->assigned "vendor %s"`, cctest.ID(n.Vendor)),
		`3 AcknowledgeTicket vendor assigned->acknowledged "on it"`,
		`4 UpdateTicket vendor acknowledged->in_progress "router replaced"`,
		`5 PauseTicket vendor in_progress->waiting_on_customer "need the site's access code"`,
		`6 ResumeTicket customer waiting_on_customer->in_progress ""`,
		`7 ResolveTicket vendor in_progress->resolved "fixed"`,
		`8 ReopenTicket customer resolved->in_progress "still down"`,
		`9 ResolveTicket vendor in_progress->resolved ""`,
		`10 CloseTicket provider resolved->closed ""`,
	}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	if v.Ticket.Seq != 10 || strings.Join(v.Ticket.Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Errorf("public %+v", v.Ticket)
	}
	var h []ticket.Transition
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Vendor, TK, "GetTicketHistory", "sla-1", "t1")), &h); err != nil || len(h) != 10 || h[9].By != cctest.ID(n.Provider) {
		t.Errorf("history %v %+v", err, h)
	}
	// One event per transition, nothing but the ids and the sequence.
	var names []string
	for _, ev := range n.World.Events {
		if ev.Chaincode != TK {
			continue
		}
		names = append(names, ev.Name)
		var m map[string]any
		if err := json.Unmarshal(ev.Payload, &m); err != nil || len(m) != 3 || m["sla_id"] != "sla-1" || m["ticket_id"] != "t1" {
			t.Errorf("event %s: %s", ev.Name, ev.Payload)
		}
	}
	if got := strings.Join(names, ","); got != "TicketCreated,TicketVendorAssigned,TicketAcknowledged,TicketUpdated,TicketPaused,TicketResumed,TicketResolved,TicketReopened,TicketResolved,TicketClosed" {
		t.Errorf("events %s", got)
	}
}

// A medium ticket counts the office calendar: opened on Thursday
// 2026-12-24 at 17:00 in Rome, one business hour that day, then a holiday,
// a holiday on Saturday, Sunday, and Monday from 08:00.
func TestBusinessHoursDeadlines(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t2", "medium", "2026-12-24T16:00:00Z")
	v := n.GetTicket(n.Client, "sla-1", "t2")
	if v.Record.Acceptance.Deadline != "2026-12-28T08:00:00Z" || v.Record.Closure.Deadline != "2026-12-29T16:00:00Z" {
		t.Fatalf("deadlines %q %q", v.Record.Acceptance.Deadline, v.Record.Closure.Deadline)
	}
	if v.Record.Terms.Acceptance.Calendar.ID != "office" || v.Record.Terms.ClosurePenaltyMinor != 3000 || v.Record.Terms.AcceptancePenaltyMinor != 0 {
		t.Fatalf("terms %+v", v.Record.Terms)
	}
	step(t, n, n.Provider, "AssignVendor", "t2", "2026-12-24T16:30:00Z", vendorInput(n.Vendor))
	// Acknowledged on Monday at 08:30 Rome: 1 h 30 of business time,
	// within 2 h, while 88 h 30 passed on the wall clock.
	step(t, n, n.Vendor, "AcknowledgeTicket", "t2", "2026-12-28T07:30:00Z", nil)
	v = n.GetTicket(n.Client, "sla-1", "t2")
	if got := outcomeText(v.Record.Acceptance.Outcome); got != "met at 2026-12-28T07:30:00Z elapsed 5400000 margin 1800000 penalty 0 USD (medium)" {
		t.Fatalf("acceptance %s", got)
	}
	// The closure clock at Monday 10:00 Rome: 3 h counted of 20 h.
	n.At("2026-12-28T09:00:00Z")
	v = n.GetTicket(n.Client, "sla-1", "t2")
	if v.Clock == nil || *v.Clock != (ticket.ClockView{Target: "closure", At: "2026-12-28T09:00:00Z", ElapsedMS: 10_800_000, RemainingMS: 61_200_000, UsedBPS: 1500}) {
		t.Fatalf("clock %+v", v.Clock)
	}
	// Across the change to summer time (Sunday 2026-03-29 in Rome): opened
	// on Friday at 17:00 (UTC+1), one hour counts; the second is Monday
	// 08:00-09:00 (UTC+2).
	create(t, n, s, "t3", "medium", "2026-03-27T16:00:00Z")
	if v := n.GetTicket(n.Client, "sla-1", "t3"); v.Record.Acceptance.Deadline != "2026-03-30T07:00:00Z" {
		t.Fatalf("deadline across DST %q", v.Record.Acceptance.Deadline)
	}
}
