package ticket_test

import (
	"fmt"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// path is how a ticket reaches each status: the transitions from open.
var path = map[string][]string{
	"open":                {},
	"assigned":            {"AssignVendor"},
	"acknowledged":        {"AssignVendor", "AcknowledgeTicket"},
	"in_progress":         {"AssignVendor", "AcknowledgeTicket", "UpdateTicket"},
	"resolved":            {"AssignVendor", "AcknowledgeTicket", "UpdateTicket", "ResolveTicket"},
	"closed":              {"AssignVendor", "AcknowledgeTicket", "UpdateTicket", "ResolveTicket", "CloseTicket"},
	"waiting_on_customer": {"AssignVendor", "AcknowledgeTicket", "UpdateTicket", "PauseTicket"},
}

// transition is a call of fn by its usual caller with a valid input.
func transition(t *testing.T, n *cctest.Net, s *sla.SLA, fn, ticketID string) fabricfake.Call {
	t.Helper()
	doc, _ := cctest.Doc(t, s)
	var c fabricfake.Call
	switch fn {
	case "AssignVendor":
		c = n.TicketCall(n.Provider, fn, s.ID, ticketID, vendorInput(n.Vendor))
	case "AcknowledgeTicket", "ResolveTicket":
		c = n.TicketCall(n.Vendor, fn, s.ID, ticketID, nil)
	case "UpdateTicket":
		c = n.TicketCall(n.Vendor, fn, s.ID, ticketID, map[string]string{"reason": "working"})
	case "CloseTicket", "ResumeTicket":
		c = n.TicketCall(n.Client, fn, s.ID, ticketID, nil)
	case "ReopenTicket":
		c = n.TicketCall(n.Client, fn, s.ID, ticketID, map[string]string{"reason": "not fixed"})
	case "PauseTicket":
		c = n.TicketCall(n.Client, fn, s.ID, ticketID, map[string]string{"status": "waiting_on_customer", "reason": "hold"})
	case "ChangeSeverity":
		c = n.TicketCall(n.Client, fn, s.ID, ticketID, map[string]string{"severity": "medium", "reason": "less urgent"})
		c.Transient[ticket.TransientSLA] = []byte(doc)
	case "Escalate":
		c = n.TicketCall(n.Client, fn, s.ID, ticketID, nil, "1")
	default:
		t.Fatalf("no call for %s", fn)
	}
	return c
}

// reach creates ticketID and moves it to status.
func reach(t *testing.T, n *cctest.Net, s *sla.SLA, ticketID, status string) {
	t.Helper()
	n.MustCall(cctest.CreateTicketCall(t, n.Client, s, ticketID, "critical", "incident", "down"))
	for _, fn := range path[status] {
		n.MustCall(transition(t, n, s, fn, ticketID))
	}
	if got, _ := n.TicketStatus(s.ID, ticketID); got != status {
		t.Fatalf("reached %s, want %s", got, status)
	}
}

// Every transition from every status: the legal ones move the ticket to
// the status of the table, the others fail naming the current status (or,
// before a vendor is assigned, refuse the vendor's organization) and
// change nothing.
func TestTransitions(t *testing.T) {
	n, s := setup(t)
	legal := map[string]map[string]string{
		"open":                {"AssignVendor": "assigned", "PauseTicket": "waiting_on_customer", "ChangeSeverity": "open"},
		"assigned":            {"AcknowledgeTicket": "acknowledged", "PauseTicket": "waiting_on_customer", "ChangeSeverity": "assigned"},
		"acknowledged":        {"UpdateTicket": "in_progress", "ResolveTicket": "resolved", "PauseTicket": "waiting_on_customer", "ChangeSeverity": "acknowledged"},
		"in_progress":         {"UpdateTicket": "in_progress", "ResolveTicket": "resolved", "PauseTicket": "waiting_on_customer", "ChangeSeverity": "in_progress"},
		"resolved":            {"CloseTicket": "closed", "ReopenTicket": "in_progress"},
		"closed":              {},
		"waiting_on_customer": {"ResumeTicket": "in_progress", "ChangeSeverity": "waiting_on_customer"},
	}
	needs := map[string]string{
		"AssignVendor":      "open",
		"AcknowledgeTicket": "assigned",
		"UpdateTicket":      "acknowledged or in_progress",
		"ResolveTicket":     "acknowledged or in_progress",
		"CloseTicket":       "resolved",
		"ReopenTicket":      "resolved",
		"PauseTicket":       "open or assigned or acknowledged or in_progress",
	}
	fns := []string{"AssignVendor", "AcknowledgeTicket", "UpdateTicket", "ResolveTicket", "CloseTicket", "ReopenTicket", "PauseTicket", "ResumeTicket", "ChangeSeverity"}
	for status, ok := range legal {
		for _, fn := range fns {
			id := fmt.Sprintf("%s-%s", status, fn)
			reach(t, n, s, id, status)
			c := transition(t, n, s, fn, id)
			if want, legal := ok[fn]; legal {
				n.MustCall(c)
				if got, _ := n.TicketStatus("sla-1", id); got != want {
					t.Errorf("%s from %s: status %s, want %s", fn, status, got, want)
				}
				continue
			}
			var msg string
			switch {
			case status == "open" && (fn == "AcknowledgeTicket" || fn == "UpdateTicket" || fn == "ResolveTicket"):
				msg = fmt.Sprintf(`%s: ticket %q of SLA "sla-1" belongs to ClientOrgMSP, ProviderOrgMSP; the caller's organization VendorOrgMSP has no part in it`, fn, id)
			case fn == "ResumeTicket":
				msg = fmt.Sprintf(`ticket %q of SLA "sla-1" is %s; ResumeTicket needs a paused ticket (a status of [waiting_on_customer customer_caused])`, id, status)
			case fn == "ChangeSeverity":
				msg = fmt.Sprintf(`ticket %q of SLA "sla-1" is %s; ChangeSeverity needs a ticket that is not resolved or closed`, id, status)
			default:
				msg = fmt.Sprintf(`ticket %q of SLA "sla-1" is %s; %s needs status %s`, id, status, fn, needs[fn])
			}
			n.ExpectCallError(c, msg)
		}
	}
}
