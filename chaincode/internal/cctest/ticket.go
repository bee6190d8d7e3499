package cctest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// NewTickets is NewThreeOrgs with the ticket chaincode configured too (as
// ProviderOrg's admin, at Start) and a second client of VendorOrgMSP,
// Vendor2, that no ticket names. The world lets a transaction set the
// key-level policy of a committed key (AssignVendor sets the ticket key's
// once more, with the vendor's organization).
func NewTickets(t testing.TB) *Net {
	t.Helper()
	n := NewThreeOrgs(t)
	n.MustSubmit(n.ProviderAdmin, Ticket, "Configure", n.ConfigJSON)
	n.Vendor2 = n.VendorCA.MustIssue("vendor2@vendororg.slasa.local", "client")
	n.World.AllowPolicyUpdates = true
	return n
}

// Support returns the support section of the ticket tests: the telecom
// figures (critical: acceptance 20 minutes and closure 4 hours, 24x7;
// medium: 2 and 20 business hours of an office calendar, Europe/Rome
// Monday to Friday 08:00-18:00 without 2026-12-25 and 2026-12-26), two
// pause statuses, escalation at 50, 75 and 100 % and per-ticket penalties
// (critical 5000 and 20000, medium closure 3000).
func Support() *sla.Support {
	return &sla.Support{
		Calendars: []sla.SupportCalendar{
			{ID: "always", Kind: sla.CalendarTwentyFourSeven},
			{ID: "office", Kind: sla.CalendarBusinessHours, TimeZone: "Europe/Rome",
				Hours:    []sla.HoursRange{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00"}},
				Holidays: []string{"2026-12-25", "2026-12-26"}},
		},
		Severities: []sla.Severity{
			{ID: "critical", Acceptance: sla.Target{TargetMS: 1_200_000, Calendar: "always"}, Closure: sla.Target{TargetMS: 14_400_000, Calendar: "always"}},
			{ID: "medium", Acceptance: sla.Target{TargetMS: 7_200_000, Calendar: "office"}, Closure: sla.Target{TargetMS: 72_000_000, Calendar: "office"}},
		},
		PauseStatuses:  []string{"waiting_on_customer", "customer_caused"},
		SeverityChange: sla.SeverityChangeKeepElapsed,
		Escalation: []sla.Escalation{
			{AtBPS: 5000, Notify: []string{"provider"}},
			{AtBPS: 7500, Notify: []string{"provider", "vendor"}},
			{AtBPS: 10000, Notify: []string{"provider", "vendor", "customer"}},
		},
		Penalties: []sla.TicketPenalty{
			{Severity: "critical", Target: "acceptance", AmountMinor: 5000},
			{Severity: "critical", Target: "closure", AmountMinor: 20000},
			{Severity: "medium", Target: "closure", AmountMinor: 3000},
		},
	}
}

// SupportSLA is ExampleSLA with the support section Support.
func SupportSLA(t testing.TB, id string) *sla.SLA {
	t.Helper()
	s := ExampleSLA(t, id)
	s.Support = Support()
	if err := sla.Validate(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TicketKey returns the ticket chaincode's key of a ticket (public state
// and collections).
func TicketKey(slaID, ticketID string) string {
	k, _ := shim.CreateCompositeKey("ticket", []string{slaID, ticketID})
	return k
}

// TicketInput encodes a transient input.
func TicketInput(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// CreateTicketCall is the CreateTicket transaction of ticket ticketID on
// s by id, with the document and the input in the transient map.
func CreateTicketCall(t testing.TB, id *fabricfake.Identity, s *sla.SLA, ticketID, severity, kind, description string) fabricfake.Call {
	t.Helper()
	doc, _ := Doc(t, s)
	return fabricfake.Call{ID: id, Chaincode: Ticket, Fn: "CreateTicket", Args: []string{s.ID, ticketID}, Transient: map[string][]byte{
		ticket.TransientSLA:   []byte(doc),
		ticket.TransientInput: TicketInput(t, map[string]string{"severity": severity, "type": kind, "description": description}),
	}}
}

// TicketRecord returns the committed record of a ticket as the
// organization mspID holds it (nil when it holds none).
func (n *Net) TicketRecord(mspID, slaID, ticketID string) []byte {
	return n.World.PrivateState(Ticket, ticket.Collection(mspID), TicketKey(slaID, ticketID))
}

// TicketCall is transition fn of a ticket by id: the current record (as
// ProviderOrg holds it) under "ticket" and input, when not nil, encoded
// under "input"; args follow slaID and ticketID.
func (n *Net) TicketCall(id *fabricfake.Identity, fn, slaID, ticketID string, input any, args ...string) fabricfake.Call {
	n.T.Helper()
	tm := map[string][]byte{ticket.TransientTicket: n.TicketRecord("ProviderOrgMSP", slaID, ticketID)}
	if input != nil {
		tm[ticket.TransientInput] = TicketInput(n.T, input)
	}
	return fabricfake.Call{ID: id, Chaincode: Ticket, Fn: fn, Args: append([]string{slaID, ticketID}, args...), Transient: tm}
}

// MustTicket submits transition fn (see TicketCall), which must succeed.
func (n *Net) MustTicket(id *fabricfake.Identity, fn, slaID, ticketID string, input any, args ...string) {
	n.T.Helper()
	n.MustCall(n.TicketCall(id, fn, slaID, ticketID, input, args...))
}

// GetTicket evaluates GetTicket as id on a peer of its organization.
func (n *Net) GetTicket(id *fabricfake.Identity, slaID, ticketID string) ticket.TicketView {
	n.T.Helper()
	var v ticket.TicketView
	if err := json.Unmarshal([]byte(n.MustEvaluate(id, Ticket, "GetTicket", slaID, ticketID)), &v); err != nil {
		n.T.Fatal(err)
	}
	return v
}

// TicketStatus returns a ticket's status and timeline actions as the
// provider reads them.
func (n *Net) TicketStatus(slaID, ticketID string) (string, string) {
	n.T.Helper()
	v := n.GetTicket(n.Provider, slaID, ticketID)
	var actions []string
	for _, tr := range v.Record.Timeline {
		actions = append(actions, tr.Action)
	}
	return v.Record.Status, strings.Join(actions, ",")
}
