package ticket_test

import (
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
)

// fuzzSLA is the SLA of the fuzz targets: the ticket tests' support terms,
// active from 2026-03-10T12:00:00Z.
const fuzzSLA = "sla-1"

// FuzzCreateTicket drives CreateTicket with any SLA id, ticket id, input
// and SLA document (the real one when useDoc is set, doc otherwise) as any
// caller: never a panic, and a refusal changes nothing, public or private.
func FuzzCreateTicket(f *testing.F) {
	n, s := setup(f)
	doc, _ := cctest.Doc(f, s)
	callers := []*fabricfake.Identity{n.Client, n.Provider, n.Vendor, n.Stranger, n.Other}
	good := cctest.TicketInput(f, map[string]string{"severity": "critical", "type": "incident", "description": "the VPN is down"})
	f.Add(uint8(0), fuzzSLA, "t1", good, true, []byte(nil))
	f.Add(uint8(1), fuzzSLA, "t2", []byte(`{"severity":"medium","type":"x","description":""}`), true, []byte(nil))
	f.Add(uint8(2), fuzzSLA, "t3", good, true, []byte(nil))
	f.Add(uint8(0), fuzzSLA, "t4", []byte(`{"severity":"none"}`), false, []byte(`{"schema_version":"slasa.sla/v1"}`))
	f.Add(uint8(0), "sla-9", "t\x00", []byte(`[]`), false, []byte(doc[:len(doc)/2]))
	f.Fuzz(func(t *testing.T, who uint8, slaID, ticketID string, input []byte, useDoc bool, other []byte) {
		n.T = t
		d := other
		if useDoc {
			d = []byte(doc)
		}
		n.FuzzCall(t, fabricfake.Call{ID: callers[int(who)%len(callers)], Chaincode: TK, Fn: "CreateTicket",
			Args: []string{slaID, ticketID}, Transient: map[string][]byte{ticket.TransientSLA: d, ticket.TransientInput: input}})
	})
}

// FuzzTicketTransition drives every transition of an existing ticket with
// any caller, input, argument and "ticket" record (the current one when
// useRecord is set, record otherwise). Transitions that succeed move the
// ticket on, so later inputs meet it in other statuses.
func FuzzTicketTransition(f *testing.F) {
	n, s := setup(f)
	create(f, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	doc, _ := cctest.Doc(f, s)
	fns := []string{"AssignVendor", "AcknowledgeTicket", "UpdateTicket", "PauseTicket", "ResumeTicket",
		"ResolveTicket", "CloseTicket", "ReopenTicket", "ChangeSeverity", "Escalate"}
	callers := []*fabricfake.Identity{n.Client, n.Provider, n.Vendor, n.Vendor2, n.Stranger, n.Other}
	vendor := cctest.TicketInput(f, vendorInput(n.Vendor))
	f.Add(uint8(0), uint8(1), "t1", true, []byte(nil), vendor, "")
	f.Add(uint8(1), uint8(2), "t1", true, []byte(nil), []byte(`{"note":"on it"}`), "")
	f.Add(uint8(2), uint8(2), "t1", true, []byte(nil), []byte(`{"reason":"working","vendor_ticket_id":"V-1"}`), "")
	f.Add(uint8(3), uint8(0), "t1", true, []byte(nil), []byte(`{"status":"waiting_on_customer","reason":"hold"}`), "")
	f.Add(uint8(4), uint8(0), "t1", true, []byte(nil), []byte(nil), "")
	f.Add(uint8(5), uint8(2), "t1", true, []byte(nil), []byte(`{"note":"fixed"}`), "")
	f.Add(uint8(7), uint8(0), "t1", true, []byte(nil), []byte(`{"reason":"not fixed"}`), "")
	f.Add(uint8(8), uint8(1), "t1", true, []byte(nil), []byte(`{"severity":"medium","reason":"less urgent"}`), "")
	f.Add(uint8(9), uint8(0), "t1", true, []byte(nil), []byte(nil), "1")
	f.Add(uint8(6), uint8(3), "t1", false, []byte(`{"status":"resolved"}`), []byte(`{}`), "")
	f.Add(uint8(9), uint8(4), "t9", false, []byte(nil), []byte(`null`), "-1")
	f.Fuzz(func(t *testing.T, fn, who uint8, ticketID string, useRecord bool, record, input []byte, arg string) {
		n.T = t
		name := fns[int(fn)%len(fns)]
		rec := record
		if useRecord {
			rec = n.TicketRecord("ProviderOrgMSP", fuzzSLA, ticketID)
		}
		tm := map[string][]byte{ticket.TransientTicket: rec}
		if input != nil {
			tm[ticket.TransientInput] = input
		}
		if name == "ChangeSeverity" {
			tm[ticket.TransientSLA] = []byte(doc)
		}
		args := []string{fuzzSLA, ticketID}
		if name == "Escalate" {
			args = append(args, arg)
		}
		n.FuzzCall(t, fabricfake.Call{ID: callers[int(who)%len(callers)], Chaincode: TK, Fn: name, Args: args, Transient: tm})
	})
}
