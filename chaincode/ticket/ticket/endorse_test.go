package ticket_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
)

const (
	P = "ProviderOrgMSP"
	C = "ClientOrgMSP"
	V = "VendorOrgMSP"
)

var epf = peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE

// The ticket key's policy is "a peer of each of the ticket's
// organizations", set when the ticket is created and once more when the
// vendor is assigned, never otherwise; every transition needs each of them.
func TestEndorsement(t *testing.T) {
	n, s := setup(t)
	key := cctest.TicketKey("sla-1", "t1")
	policy := func() string {
		t.Helper()
		orgs, err := ccpolicy.AllOfOrgs(n.World.ValidationParameter(cctest.Ticket, key))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(orgs, ",")
	}
	n.At("2026-03-10T13:00:00Z")
	create := cctest.CreateTicketCall(t, n.Client, s, "t1", "critical", "incident", "down")
	// The customer's and the provider's collections need their peers.
	n.ExpectInvalidCall([]string{P, V}, epf, create)
	n.ExpectInvalidCall([]string{C, V}, epf, create)
	create.Endorsers = []string{C, P}
	n.MustCall(create)
	if got := policy(); got != "ClientOrgMSP,ProviderOrgMSP" {
		t.Fatalf("policy after CreateTicket: %s", got)
	}
	assign := n.TicketCall(n.Provider, "AssignVendor", "sla-1", "t1", vendorInput(n.Vendor))
	// The vendor's collection needs the vendor's peer; the key the two
	// parties'.
	n.ExpectInvalidCall([]string{C, P}, epf, assign)
	n.ExpectInvalidCall([]string{P, V}, epf, assign)
	assign.Endorsers = []string{C, P, V}
	n.MustCall(assign)
	if got := policy(); got != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Fatalf("policy after AssignVendor: %s", got)
	}
	// From now on no transaction may set the policy again (the fake
	// refuses it), and each needs the three organizations' peers.
	n.World.AllowPolicyUpdates = false
	doc, _ := cctest.Doc(t, s)
	for _, st := range []struct {
		who   string
		fn    string
		input any
		args  []string
	}{
		{"vendor", "AcknowledgeTicket", nil, nil},
		{"provider", "Escalate", nil, []string{"1"}},
		{"vendor", "UpdateTicket", map[string]string{"reason": "x"}, nil},
		{"customer", "PauseTicket", map[string]string{"status": "customer_caused", "reason": "x"}, nil},
		{"vendor", "ResumeTicket", nil, nil},
		{"customer", "ChangeSeverity", map[string]string{"severity": "medium", "reason": "x"}, nil},
		{"vendor", "ResolveTicket", nil, nil},
		{"customer", "ReopenTicket", map[string]string{"reason": "x"}, nil},
		{"vendor", "ResolveTicket", nil, nil},
		{"provider", "CloseTicket", nil, nil},
	} {
		who := map[string]*fabricfake.Identity{"vendor": n.Vendor, "provider": n.Provider, "customer": n.Client}[st.who]
		if st.fn == "Escalate" {
			n.At("2026-03-10T15:05:00Z")
		}
		c := n.TicketCall(who, st.fn, "sla-1", "t1", st.input, st.args...)
		if st.fn == "ChangeSeverity" {
			c.Transient[ticket.TransientSLA] = []byte(doc)
		}
		for _, orgs := range [][]string{{C, P}, {P, V}, {C, V}} {
			n.ExpectInvalidCall(orgs, epf, c)
		}
		c.Endorsers = []string{C, P, V}
		n.MustCall(c)
	}
	if got := policy(); got != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Fatalf("policy at the end: %s", got)
	}
	// No transaction read private data: each endorser holds only its own
	// organization's collection, so reading it would make the endorsers'
	// results differ.
	if len(n.World.PrivateReads) != 0 {
		t.Fatalf("transactions read private data: %+v", n.World.PrivateReads)
	}
	// A forged write of the key by two organizations' peers is invalid.
	var pub ticket.TicketPublic
	_ = json.Unmarshal(n.World.State(cctest.Ticket, key), &pub)
	if code := n.Forge(n.Provider, cctest.Ticket, []string{P, V}, func(stub shim.ChaincodeStubInterface) {
		pub.Seq = 1
		raw, _ := json.Marshal(pub)
		_ = stub.PutState(key, raw)
	}); code != epf {
		t.Fatalf("forged write: %s", code)
	}
}
