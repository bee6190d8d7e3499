package ticket_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
)

// Direct calls with fakes: failures of the ledger and of the identity
// are reported, and nothing is written.
func TestLedgerAndIdentityFailures(t *testing.T) {
	n, s := setup(t)
	c := n.TicketContract()
	create := cctest.CreateTicketCall(t, n.Client, s, "t1", "critical", "incident", "down")
	key := cctest.TicketKey("sla-1", "t1")
	for _, tc := range []struct {
		name  string
		fault func(*fabricfake.Tx, *fabricfake.TransactionContext)
		want  string
	}{
		{"state", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.GetStateReturns(nil, errors.New("ledger down"))
		},
			`read ticket "t1" of SLA "sla-1": ledger down`},
		{"certificate", func(_ *fabricfake.Tx, ctx *fabricfake.TransactionContext) {
			ci := &fabricfake.ClientIdentity{}
			ci.GetMSPIDReturns("ClientOrgMSP", nil)
			ci.GetX509CertificateReturns(nil, errors.New("no cert"))
			ctx.GetClientIdentityReturns(ci)
		}, "submitter: read certificate: no cert"},
		{"put", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.PutStateReturns(errors.New("disk full"))
		},
			`write ticket "t1" of SLA "sla-1": disk full`},
		{"private", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.PutPrivateDataReturns(errors.New("no room"))
		},
			`write the record of ticket "t1" of SLA "sla-1" to _implicit_org_ClientOrgMSP: no room`},
		{"policy", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.SetStateValidationParameterReturns(errors.New("no policy"))
		}, `ticket "t1" of SLA "sla-1": set key-level policy: no policy`},
		{"transient", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.GetTransientReturns(nil, errors.New("no transient"))
		}, "read the transient map: no transient"},
		{"event", func(tx *fabricfake.Tx, _ *fabricfake.TransactionContext) {
			tx.Stub.SetEventReturns(errors.New("no event"))
		},
			"set event TicketCreated: no event"},
	} {
		tx := n.World.NewTx(n.Client, cctest.Ticket, "CreateTicket", "sla-1", "t1")
		tx.SetTransient(create.Transient)
		ctx := tx.Context()
		tc.fault(tx, ctx)
		err := c.CreateTicket(ctx, "sla-1", "t1")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
		if tc.name != "put" && tc.name != "private" && tc.name != "event" && tc.name != "policy" && tx.PendingWrites() != 0 {
			t.Errorf("%s: a failed CreateTicket wrote state", tc.name)
		}
	}
	n.MustCall(create)
	tx := n.World.NewTx(n.Provider, cctest.Ticket, "AssignVendor", "sla-1", "t1")
	tx.Stub.GetStateReturns(nil, errors.New("ledger down"))
	if err := c.AssignVendor(tx.Context(), "sla-1", "t1"); err == nil || err.Error() != `read ticket "t1" of SLA "sla-1": ledger down` {
		t.Errorf("transition: %v", err)
	}
	tx = n.World.NewTx(n.Provider, cctest.Ticket, "AssignVendor", "sla-1", "t1")
	tx.Stub.GetStateReturns([]byte("{"), nil)
	if err := c.AssignVendor(tx.Context(), "sla-1", "t1"); err == nil || err.Error() != `decode ticket "t1" of SLA "sla-1": unexpected end of JSON input` {
		t.Errorf("transition: %v", err)
	}
	call := n.TicketCall(n.Provider, "AssignVendor", "sla-1", "t1", vendorInput(n.Vendor))
	tx = n.World.NewTx(n.Provider, cctest.Ticket, "AssignVendor", "sla-1", "t1")
	tx.SetTransient(call.Transient)
	tx.Stub.GetTxTimestampReturns(nil, errors.New("no time"))
	if err := c.AssignVendor(tx.Context(), "sla-1", "t1"); err == nil || err.Error() != "read transaction timestamp: no time" {
		t.Errorf("transition: %v", err)
	}
	if n.World.State(cctest.Ticket, key) == nil || fmt.Sprint(n.World.Collections(cctest.Ticket)) != fmt.Sprint([]string{ticket.Collection("ClientOrgMSP"), ticket.Collection("ProviderOrgMSP")}) {
		t.Fatalf("collections %v", n.World.Collections(cctest.Ticket))
	}
}
