package ticket_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
)

// The record in the transient map must be the current one: a stale or
// edited record is refused, a re-indented one accepted.
func TestTransientRecord(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	stale := n.TicketRecord("ClientOrgMSP", "sla-1", "t1")
	n.MustTicket(n.Provider, "AssignVendor", "sla-1", "t1", vendorInput(n.Vendor))
	call := func(record []byte) fabricfake.Call {
		c := n.TicketCall(n.Vendor, "AcknowledgeTicket", "sla-1", "t1", nil)
		c.Transient[ticket.TransientTicket] = record
		return c
	}
	n.ExpectCallError(call(stale), `transient "ticket": it is not the current record of ticket "t1" of SLA "sla-1" (seq 2); read it again with GetTicket`)
	current := n.TicketRecord("VendorOrgMSP", "sla-1", "t1")
	var m map[string]any
	if err := json.Unmarshal(current, &m); err != nil {
		t.Fatal(err)
	}
	m["description"] = "something else"
	edited, _ := json.Marshal(m)
	n.ExpectCallError(call(edited), `transient "ticket": it is not the current record of ticket "t1" of SLA "sla-1" (seq 2); read it again with GetTicket`)
	m["description"], m["extra"] = "the VPN is down", 1
	extra, _ := json.Marshal(m)
	n.ExpectCallError(call(extra), `transient "ticket": not a ticket record: json: unknown field "extra"`)
	n.ExpectCallError(call([]byte("{")), `transient "ticket": not a ticket record: unexpected EOF`)
	n.ExpectCallError(call(append(append([]byte{}, current...), []byte(" {}")...)), `transient "ticket": not a ticket record: more than one JSON value`)
	missing := call(nil)
	delete(missing.Transient, ticket.TransientTicket)
	n.ExpectCallError(missing, `transient "ticket": missing: pass the ticket's current record (the record GetTicket returns) in the transient map under key "ticket"`)
	// The record of GetTicket, pretty-printed, is the same record.
	var view struct {
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Vendor, cctest.Ticket, "GetTicket", "sla-1", "t1")), &view); err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, view.Record, "", "  "); err != nil {
		t.Fatal(err)
	}
	n.MustCall(call(pretty.Bytes()))
}

// The transient map carries only the function's keys, the input is a
// JSON object of the function's fields, and free text is bounded.
func TestTransientInputs(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	c := n.TicketCall(n.Provider, "AssignVendor", "sla-1", "t1", vendorInput(n.Vendor))
	c.Transient["sla"] = []byte("{}")
	n.ExpectCallError(c, `transient: key "sla" is not used; this function reads only "ticket" and "input"`)
	c = n.TicketCall(n.Provider, "Escalate", "sla-1", "t1", map[string]string{"level": "1"}, "1")
	n.ExpectCallError(c, `transient: key "input" is not used; this function reads only "ticket"`)
	for _, tc := range []struct {
		who   *fabricfake.Identity
		fn    string
		input any
		want  string
	}{
		{n.Provider, "AssignVendor", nil, `transient "input": missing: pass the function's input as a JSON object in the transient map under key "input" (the arguments are written to the block, the transient map is not)`},
		{n.Provider, "AssignVendor", map[string]any{"vendor": cctest.ID(n.Vendor), "colour": "red"}, `transient "input": json: unknown field "colour"`},
		{n.Provider, "AssignVendor", "vendor", `transient "input": json: cannot unmarshal string into Go value of type ticket.assignInput`},
		{n.Provider, "AssignVendor", map[string]any{"vendor": map[string]string{"msp_id": "VendorOrgMSP", "issuer": "x"}}, `input.vendor.subject: must not be empty`},
		{n.Provider, "AssignVendor", vendorInput(n.Stranger), `input.vendor.msp_id: OtherOrgMSP runs no peer of the channel (the deploy configuration's organizations are [ClientOrgMSP ProviderOrgMSP VendorOrgMSP]); a vendor must endorse its tickets`},
		{n.Provider, "AssignVendor", vendorInput(n.ClientAdmin), `input.vendor.msp_id: ClientOrgMSP is the customer's organization; the vendor must be another organization`},
		{n.Provider, "AssignVendor", map[string]any{"vendor": cctest.ID(n.Vendor), "note": strings.Repeat("x", 1025)}, `input.note: 1025 bytes, more than 1024`},
		{n.Client, "PauseTicket", map[string]string{"status": "on_hold", "reason": "x"}, `input.status: "on_hold" is not a pause status of the SLA ([waiting_on_customer customer_caused])`},
		{n.Client, "PauseTicket", map[string]string{"status": "open", "reason": "x"}, `input.status: "open" is not a pause status of the SLA ([waiting_on_customer customer_caused])`},
		{n.Client, "PauseTicket", map[string]string{"status": "customer_caused"}, `input.reason: must not be empty`},
		{n.Client, "PauseTicket", map[string]string{"status": "customer_caused", "reason": "a\x00b"}, `input.reason: must be UTF-8 text without NUL`},
	} {
		n.ExpectCallError(n.TicketCall(tc.who, tc.fn, "sla-1", "t1", tc.input), tc.want)
	}
	n.MustTicket(n.Provider, "AssignVendor", "sla-1", "t1", vendorInput(n.Vendor))
	n.MustTicket(n.Vendor, "AcknowledgeTicket", "sla-1", "t1", nil)
	for _, tc := range []struct {
		input any
		want  string
	}{
		{map[string]string{"vendor_ticket_id": "V-1"}, `input.reason: must not be empty`},
		{map[string]string{"reason": "x", "vendor_ticket_id": "V\n1"}, `input.vendor_ticket_id: must be one line`},
		{map[string]string{"reason": "x", "vendor_ticket_id": strings.Repeat("v", 129)}, `input.vendor_ticket_id: 129 bytes, more than 128`},
		{map[string]string{"reason": "x", "status": "in_progress"}, `transient "input": json: unknown field "status"`},
	} {
		n.ExpectCallError(n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", "t1", tc.input), tc.want)
	}
	c = n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", "t1", nil)
	c.Transient[ticket.TransientInput] = []byte(`{"reason":"a"} {"reason":"b"}`)
	n.ExpectCallError(c, `transient "input": more than one JSON value`)
	// The arguments are the ids only (and Escalate's level).
	c = n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", "t1", map[string]string{"reason": "x"}, "router replaced")
	n.ExpectCallError(c, `arguments: UpdateTicket takes 2 (slaID, ticketID), not 3; pass everything else in the transient map under "input" (the arguments are written to the block, the transient map is not)`)
	c = n.TicketCall(n.Vendor, "Escalate", "sla-1", "t1", nil, "1", "x")
	n.ExpectCallError(c, `arguments: Escalate takes 3 (slaID, ticketID, level), not 4; pass everything else in the transient map under "input" (the arguments are written to the block, the transient map is not)`)
	c = cctest.CreateTicketCall(t, n.Client, s, "t9", "critical", "incident", "down")
	c.Args = append(c.Args, "the VPN is down")
	n.ExpectCallError(c, `arguments: CreateTicket takes 2 (slaID, ticketID), not 3; pass everything else in the transient map under "input" (the arguments are written to the block, the transient map is not)`)
}

// CreateTicket's checks: ids, the SLA's status, the document, the input.
func TestCreateTicketInputs(t *testing.T) {
	n, s := setup(t)
	doc, d := cctest.Doc(t, s)
	n.At("2026-03-10T13:00:00Z")
	base := func() fabricfake.Call {
		return cctest.CreateTicketCall(t, n.Client, s, "t1", "critical", "incident", "down")
	}
	with := func(edit func(*fabricfake.Call)) fabricfake.Call { c := base(); edit(&c); return c }
	input := func(m map[string]string) func(*fabricfake.Call) {
		return func(c *fabricfake.Call) { c.Transient[ticket.TransientInput] = cctest.TicketInput(t, m) }
	}
	other := cctest.SupportSLA(t, "sla-1")
	odoc, od := cctest.Doc(t, other)
	for _, tc := range []struct {
		call fabricfake.Call
		want string
	}{
		{with(func(c *fabricfake.Call) { c.Args[1] = "" }), `ticketID: "" is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit`},
		{with(func(c *fabricfake.Call) { c.Args[1] = "a~b" }), `ticketID: "a~b" is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit`},
		{with(func(c *fabricfake.Call) { c.Args[1] = strings.Repeat("a", 65) }), fmt.Sprintf(`ticketID: %q is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit`, strings.Repeat("a", 65))},
		{with(func(c *fabricfake.Call) { c.Args[0] = "" }), `slaID: must not be empty`},
		{with(func(c *fabricfake.Call) { c.Args[0] = "sla-9" }), `SLA "sla-9": agreement GetParties: SLA "sla-9" does not exist`},
		{with(func(c *fabricfake.Call) { delete(c.Transient, ticket.TransientSLA) }), `transient "sla": missing: pass the SLA document in the transient map under key "sla"`},
		{with(func(c *fabricfake.Call) { c.Transient[ticket.TransientSLA] = []byte(odoc) }), fmt.Sprintf(`transient "sla": the document's digest %s is not the digest of SLA "sla-1" (%s)`, cctest.Hex(od), cctest.Hex(d))},
		{with(func(c *fabricfake.Call) { c.Transient["ticket"] = []byte(doc) }), `transient: key "ticket" is not used; this function reads only "sla" and "input"`},
		{with(func(c *fabricfake.Call) { delete(c.Transient, ticket.TransientInput) }), `transient "input": missing: pass the function's input as a JSON object in the transient map under key "input" (the arguments are written to the block, the transient map is not)`},
		{with(input(map[string]string{"severity": "major", "type": "incident", "description": "x"})), `SLA "sla-1": input.severity: "major" is not a severity of the SLA (critical, medium)`},
		{with(input(map[string]string{"severity": "critical", "description": "x"})), `input.type: must not be empty`},
		{with(input(map[string]string{"severity": "critical", "type": "a\nb", "description": "x"})), `input.type: must be one line`},
		{with(input(map[string]string{"severity": "critical", "type": "incident"})), `input.description: must not be empty`},
		{with(input(map[string]string{"severity": "critical", "type": "incident", "description": strings.Repeat("d", 4097)})), `input.description: 4097 bytes, more than 4096`},
	} {
		n.ExpectCallError(tc.call, tc.want)
	}
	n.ExpectCallErrorPrefix(with(func(c *fabricfake.Call) { c.Transient[ticket.TransientSLA] = []byte(`{"id":"sla-1"}`) }), `transient "sla": invalid SLA: `)
	n.MustCall(base())
	n.ExpectCallError(base(), `ticket "t1" of SLA "sla-1" already exists`)

	// An SLA without a support section takes no tickets.
	plain := cctest.ExampleSLA(t, "sla-2")
	n.Activate(plain, 1_000_000)
	n.ExpectCallError(cctest.CreateTicketCall(t, n.Client, plain, "t1", "critical", "incident", "down"), `SLA "sla-2": the SLA has no support section: it takes no tickets`)
	// A proposed SLA takes none; a terminated one until the end of its
	// paid term.
	proposed := cctest.SupportSLA(t, "sla-3")
	n.MustPropose(proposed)
	n.ExpectCallError(cctest.CreateTicketCall(t, n.Client, proposed, "t1", "critical", "incident", "down"), `SLA "sla-3" is PROPOSED; tickets are opened on an ACTIVE SLA`)
	// Terminated once April (paid) has begun: April is still judged (a
	// period not started at the termination would be refunded).
	n.At("2026-04-10T00:00:00Z")
	n.MustSubmit(n.Client, cctest.Agreement, "TerminateSLA", "sla-1", "moving")
	n.At("2026-04-30T23:59:59Z")
	n.MustCall(cctest.CreateTicketCall(t, n.Client, s, "t2", "critical", "incident", "down"))
	n.ExpectCallError(cctest.CreateTicketCall(t, n.Client, s, "t3", "critical", "incident", "down"), `SLA "sla-1" was terminated and ended at 2026-05-01T00:00:00Z; it takes no tickets`)
}
