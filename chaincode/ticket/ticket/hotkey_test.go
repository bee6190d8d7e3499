package ticket_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

// No hot key: 100 tickets of one SLA are created in one block, then
// assigned, acknowledged and updated, each step for all of them in one
// block, endorsed by exactly the organizations a client names (the
// customer's and the provider's, then the three): every transaction is
// valid. A transaction reads its own ticket's key, the SLA's record and the
// recorded configurations, and no range.
func TestManyTicketsOfOneSLAInOneBlock(t *testing.T) {
	const tickets = 100
	n, s := setup(t)
	n.At("2026-03-10T13:00:00Z")
	parties := fabricfake.EndorsedBy(C, P)
	all := fabricfake.EndorsedBy(C, P, V)
	block := func(e fabricfake.Endorsers, call func(id string) fabricfake.Call) {
		t.Helper()
		b := n.World.NewBlock()
		for i := 0; i < tickets; i++ {
			b.SubmitCall(e, call(fmt.Sprintf("t%03d", i)))
		}
		for i, r := range b.Commit() {
			if r.Status != 200 || r.Code != peer.TxValidationCode_VALID {
				t.Fatalf("transaction %d: %q %s %s", i, r.Message, r.Code, r.Reason)
			}
		}
	}
	block(parties, func(id string) fabricfake.Call {
		return cctest.CreateTicketCall(t, n.Client, s, id, "critical", "incident", "down "+id)
	})
	block(all, func(id string) fabricfake.Call {
		return n.TicketCall(n.Provider, "AssignVendor", "sla-1", id, vendorInput(n.Vendor))
	})
	block(all, func(id string) fabricfake.Call { return n.TicketCall(n.Vendor, "AcknowledgeTicket", "sla-1", id, nil) })
	block(all, func(id string) fabricfake.Call {
		return n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", id, map[string]string{"reason": "on it", "vendor_ticket_id": "V-" + id})
	})
	ids, next := list(t, n, "in_progress", "", "100", "")
	if strings.Count(ids, ",")+1 != tickets || next != "" {
		t.Fatalf("in progress: %s %q", ids, next)
	}
	// Two transitions of one ticket in one block: the second is an MVCC
	// conflict (both read the ticket's key), and changes nothing.
	b := n.World.NewBlock()
	b.SubmitCall(all, n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", "t000", map[string]string{"reason": "first"}))
	b.SubmitCall(all, n.TicketCall(n.Vendor, "UpdateTicket", "sla-1", "t000", map[string]string{"reason": "second"}))
	res := b.Commit()
	if !res[0].OK() || res[1].Code != peer.TxValidationCode_MVCC_READ_CONFLICT {
		t.Fatalf("same ticket twice: %s, %s", res[0].Code, res[1].Code)
	}
	v := n.GetTicket(n.Vendor, "sla-1", "t000")
	if last := v.Record.Timeline[len(v.Record.Timeline)-1]; last.Note != "first" || v.Ticket.Seq != 5 {
		t.Fatalf("after the conflict: %+v seq %d", last, v.Ticket.Seq)
	}
}
