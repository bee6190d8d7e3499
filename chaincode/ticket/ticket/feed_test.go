package ticket_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/logger/ticketfeed"
	"github.com/slasa/slasa/sla"
)

// crossCheck writes the closed ticket's timeline as the Cloud Logger's
// ticket feed does (logger/ticketfeed), evaluates the period with the
// enclave's driver and checks that its per-ticket outcomes are the ticket
// chaincode's, field by field (the two share package ticketclock; the
// timeline's times are whole milliseconds here, the log's resolution).
func crossCheck(t *testing.T, n *cctest.Net, s *sla.SLA, ticketID string) {
	t.Helper()
	r := n.GetTicket(n.Client, s.ID, ticketID).Record
	if r.Status != ticket.StatusClosed {
		t.Fatalf("ticket %s is %s, want closed", ticketID, r.Status)
	}
	var tl []ticketfeed.Transition
	for _, tr := range r.Timeline {
		tl = append(tl, ticketfeed.Transition{Seq: tr.Seq, At: tr.At, Action: tr.Action, Severity: tr.Severity})
	}
	evs, err := ticketfeed.Events(tl, 0)
	if err != nil {
		t.Fatal(err)
	}
	z := s.Monitoring.Zones[0]
	var b strings.Builder
	for _, ev := range evs {
		line, err := ticketfeed.Line(ticketID, ev, ticketfeed.Source{Probe: "tickets", Zone: z.ID, Region: z.Region})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	plan, err := driver.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := driver.PeriodOf(s, evs[0].Time)
	if err != nil {
		t.Fatal(err)
	}
	o, err := driver.Evaluate(plan, p, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]driver.TicketOutcome{}
	for _, to := range o.Support.Tickets {
		got[to.Target] = to
	}
	if len(o.Support.Tickets) != 2 {
		t.Fatalf("the enclave counted %+v, want both targets of %s", o.Support.Tickets, ticketID)
	}
	for name, want := range map[string]*ticket.Outcome{sla.TargetAcceptance: r.Acceptance.Outcome, sla.TargetClosure: r.Closure.Outcome} {
		g := got[name]
		wantAt, _ := time.Parse(time.RFC3339Nano, want.At)
		gotAt, _ := time.Parse(time.RFC3339Nano, g.At)
		if g.Result != want.Result || !gotAt.Equal(wantAt) || g.Severity != want.Severity || g.ElapsedMS != want.ElapsedMS ||
			g.MarginMS != want.MarginMS || g.PenaltyMinor != want.PenaltyMinor {
			t.Errorf("%s %s: the enclave's %+v, the chaincode's %s", ticketID, name, g, outcomeText(want))
		}
	}
	var owed int64
	for _, to := range o.Support.Tickets {
		owed += to.PenaltyMinor
	}
	if owed != r.PenaltyOwedMinor() || o.Support.PenaltyAmount != owed {
		t.Errorf("%s: the enclave's penalty %d (sum %d), the chaincode's %d", ticketID, o.Support.PenaltyAmount, owed, r.PenaltyOwedMinor())
	}
}

// The enclave's per-ticket outcomes equal the ticket chaincode's for the
// same timelines: late acknowledgement, a pause while waiting on the
// customer, a reopening, severity changes across calendars.
func TestFeedCrossCheck(t *testing.T) {
	n, s := setup(t)
	doc, _ := cctest.Doc(t, s)
	change := func(ticketID, ts, severity string) {
		t.Helper()
		n.At(ts)
		c := n.TicketCall(n.Provider, "ChangeSeverity", "sla-1", ticketID, map[string]string{"severity": severity, "reason": "reassessed"})
		c.Transient[ticket.TransientSLA] = []byte(doc)
		n.MustCall(c)
	}

	// The whitepaper's critical ticket (TestLifecycleCritical).
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	step(t, n, n.Provider, "AssignVendor", "t1", "2026-03-10T13:05:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t1", "2026-03-10T13:30:00Z", nil)
	step(t, n, n.Vendor, "PauseTicket", "t1", "2026-03-10T14:10:00Z", map[string]string{"status": "waiting_on_customer", "reason": "access code"})
	step(t, n, n.Client, "ResumeTicket", "t1", "2026-03-10T15:10:00Z", nil)
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T16:00:00Z", nil)
	step(t, n, n.Client, "ReopenTicket", "t1", "2026-03-10T16:30:00Z", map[string]string{"reason": "still down"})
	step(t, n, n.Vendor, "ResolveTicket", "t1", "2026-03-10T18:30:00Z", nil)
	step(t, n, n.Provider, "CloseTicket", "t1", "2026-03-10T19:00:00Z", nil)
	crossCheck(t, n, s, "t1")

	// Paused while waiting on the customer, resolved in time.
	create(t, n, s, "t2", "critical", "2026-03-11T09:00:00.9996Z")
	step(t, n, n.Provider, "AssignVendor", "t2", "2026-03-11T09:01:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t2", "2026-03-11T09:10:01.0001Z", nil)
	step(t, n, n.Client, "PauseTicket", "t2", "2026-03-11T09:30:00Z", map[string]string{"status": "waiting_on_customer", "reason": "on site visit"})
	step(t, n, n.Client, "ResumeTicket", "t2", "2026-03-11T13:30:00Z", nil)
	step(t, n, n.Vendor, "ResolveTicket", "t2", "2026-03-11T14:00:00Z", nil)
	step(t, n, n.Client, "CloseTicket", "t2", "2026-03-11T14:05:00Z", nil)
	crossCheck(t, n, s, "t2")

	// Severity changes across the 24x7 and the office calendars
	// (TestChangeSeverityKeepElapsed), then closed.
	create(t, n, s, "t3", "critical", "2026-03-10T13:00:00Z")
	change("t3", "2026-03-10T13:30:00Z", "medium")
	step(t, n, n.Provider, "AssignVendor", "t3", "2026-03-10T14:00:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t3", "2026-03-10T15:30:00Z", nil)
	change("t3", "2026-03-10T16:00:00Z", "critical")
	step(t, n, n.Vendor, "ResolveTicket", "t3", "2026-03-10T17:30:00Z", nil)
	step(t, n, n.Client, "CloseTicket", "t3", "2026-03-10T17:40:00Z", nil)
	crossCheck(t, n, s, "t3")

	// A medium ticket over a weekend in office hours, paused across it.
	create(t, n, s, "t4", "medium", "2026-03-13T15:00:00Z") // Friday 16:00 Rome
	step(t, n, n.Provider, "AssignVendor", "t4", "2026-03-13T15:05:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "t4", "2026-03-16T08:30:00Z", nil) // Monday 09:30 Rome
	step(t, n, n.Vendor, "PauseTicket", "t4", "2026-03-16T09:00:00Z", map[string]string{"status": "customer_caused", "reason": "power cut at the site"})
	step(t, n, n.Client, "ResumeTicket", "t4", "2026-03-17T09:00:00Z", nil)
	step(t, n, n.Vendor, "ResolveTicket", "t4", "2026-03-18T16:00:00Z", nil)
	step(t, n, n.Provider, "CloseTicket", "t4", "2026-03-18T16:10:00Z", nil)
	crossCheck(t, n, s, "t4")
}
