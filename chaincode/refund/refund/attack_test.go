package refund_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

var epf = peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE

// attackSetup is a three-organization channel (ProviderOrg, ClientOrg and
// VendorOrg run peers; the chaincode policy is any two of them) with sla-1
// active (January and February paid, January anchored and over), a
// collateral wallet, and credits pending in both wallets.
func attackSetup(t *testing.T) (*cctest.Net, *sla.SLA, string) {
	t.Helper()
	n := cctest.NewThreeOrgs(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Consequences.CollateralWallet = "collateral"
	d := n.Activate(s, 500_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "5000")
	n.At("2026-01-05T00:00:00Z")
	n.MustRenew(s)
	n.AnchorPeriod(s, jan, feb)
	n.At(afterJanuary)
	return n, s, cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 1000, 10000, 2000), n.EnclaveKey)
}

// A third organization, alone or with one party, cannot change a wallet,
// an escrow, a score entry or the supply it does not own: each write path
// of the chaincode, endorsed without the owners, is invalidated at commit
// and changes nothing; with the owners it commits.
func TestThirdOrganizationCannotWrite(t *testing.T) {
	n, s, verdict := attackSetup(t)
	type endorsement []string
	for _, tc := range []struct {
		name    string
		who     func() *fabricfake.Identity
		cc, fn  string
		args    []string
		doc     *sla.SLA // passed as transient data
		invalid []endorsement
		valid   endorsement
	}{
		// The client's base (a debit) needs ClientOrg and one more.
		{"transfer", func() *fabricfake.Identity { return n.Client }, RF, "Transfer", []string{"client", "provider", "10"}, nil,
			[]endorsement{{VO}, {CO}, {VO, PO}}, endorsement{CO, VO}},
		// The deposit debits the client's base inside the agreement's transaction.
		{"deposit", func() *fabricfake.Identity { return n.Client }, AG, "RenewSLA", []string{"sla-1"}, s,
			[]endorsement{{VO, PO}, {PO}}, endorsement{CO, PO}},
		// The settlement rewrites the escrow (both parties) and debits the
		// provider's collateral wallet for the penalty.
		{"settlement", func() *fabricfake.Identity { return n.Logger }, RF, "SettleVerdict", []string{verdict}, nil,
			[]endorsement{{VO, PO}, {VO, CO}, {PO}, {CO}}, endorsement{PO, CO}},
		// Compaction rewrites the base and deletes credits.
		{"compaction", func() *fabricfake.Identity { return n.Client }, RF, "Compact", []string{"client"}, nil,
			[]endorsement{{VO, PO}, {CO}}, endorsement{CO, VO}},
		// A mint rewrites the issuer's supply and creates a credit.
		{"mint", func() *fabricfake.Identity { return n.Issuer }, RF, "Mint", []string{"client", "10"}, nil,
			[]endorsement{{CO, VO}, {PO}}, endorsement{PO, VO}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "compaction" {
				n.World.Now = n.World.Now.Add(time.Hour)
			}
			c := fabricfake.Call{ID: tc.who(), Chaincode: tc.cc, Fn: tc.fn, Args: tc.args}
			if tc.doc != nil {
				doc, _ := cctest.Doc(t, tc.doc)
				c.Transient = cctest.WithDocument(nil, doc, "").Transient
			}
			for _, e := range tc.invalid {
				n.ExpectInvalidCall(e, epf, c)
			}
			c.Endorsers = tc.valid
			if r := n.World.SubmitCall(c); !r.OK() {
				t.Fatalf("endorsed by %v: %s %s %s", tc.valid, r.Message, r.Code, r.Reason)
			}
		})
	}
}

// The same, with write sets a peer running another binary would endorse:
// rewriting or deleting the keys directly, or changing their policies.
func TestForgedWritesAreInvalid(t *testing.T) {
	n, _, verdict := attackSetup(t)
	n.MustSubmit(n.Logger, RF, "SettleVerdict", verdict)
	n.World.Now = n.World.Now.Add(time.Hour)
	compact(t, n, n.Client, "client")
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "10")
	var base, credit, entry, escrow, rep, supply string
	for _, k := range n.World.Keys(RF) {
		switch {
		case k == cctest.AccountKey("client"):
			base = k
		case strings.HasPrefix(k, "delta/client/"):
			credit = k
		case strings.HasPrefix(k, "entry/client/"):
			entry = k
		case strings.HasPrefix(k, "\x00escrow\x00sla-1\x00"+jan):
			escrow = k
		case strings.HasPrefix(k, "\x00rep\x00"):
			rep = k
		case strings.HasPrefix(k, "\x00supply\x00"):
			supply = k
		}
	}
	for _, k := range []string{base, credit, entry, escrow, rep, supply} {
		if k == "" || n.World.ValidationParameter(RF, k) == nil {
			t.Fatalf("setup: key %q without a policy", k)
		}
	}
	mine, _ := ccpolicy.AllOf(VO)
	rich, _ := json.Marshal(map[string]any{"id": "client", "owner": cctest.ID(n.Vendor), "base": 1 << 40})
	n.World.AllowPolicyUpdates = true // the forging peer sets what it likes
	for _, tc := range []struct {
		name  string
		key   string
		write func(stub shim.ChaincodeStubInterface, k string)
		by    [][]string
	}{
		{"rewrite the client's base", base, func(s shim.ChaincodeStubInterface, k string) { _ = s.PutState(k, rich) }, [][]string{{VO, PO}, {VO}, {CO}}},
		{"delete the client's base", base, func(s shim.ChaincodeStubInterface, k string) { _ = s.DelState(k) }, [][]string{{VO, PO}}},
		{"take over the client's base", base, func(s shim.ChaincodeStubInterface, k string) { _ = s.SetStateValidationParameter(k, mine) }, [][]string{{VO, PO}, {VO}}},
		{"delete a client's credit", credit, func(s shim.ChaincodeStubInterface, k string) { _ = s.DelState(k) }, [][]string{{VO, PO}}},
		{"rewrite a client's credit", credit, func(s shim.ChaincodeStubInterface, k string) { _ = s.PutState(k, []byte(`{}`)) }, [][]string{{VO, PO}}},
		{"rewrite the client's history", entry, func(s shim.ChaincodeStubInterface, k string) { _ = s.PutState(k, []byte(`{}`)) }, [][]string{{VO, PO}}},
		{"reopen a settled escrow", escrow, func(s shim.ChaincodeStubInterface, k string) {
			_ = s.PutState(k, bytes.Replace(n.World.State(RF, k), []byte(`"status":"SETTLED"`), []byte(`"status":"HELD"`), 1))
		}, [][]string{{VO, PO}, {VO, CO}, {PO}, {CO}}},
		{"delete an escrow", escrow, func(s shim.ChaincodeStubInterface, k string) { _ = s.DelState(k) }, [][]string{{VO, PO}, {VO, CO}}},
		{"whitewash a score entry", rep, func(s shim.ChaincodeStubInterface, k string) {
			_ = s.PutState(k, bytes.Replace(n.World.State(RF, k), []byte(`"violated":true`), []byte(`"violated":false`), 1))
		}, [][]string{{VO, PO}, {VO, CO}, {PO}}},
		{"delete a score entry", rep, func(s shim.ChaincodeStubInterface, k string) { _ = s.DelState(k) }, [][]string{{VO, PO}}},
		{"inflate the supply", supply, func(s shim.ChaincodeStubInterface, k string) { _ = s.PutState(k, []byte(`{"minted":1}`)) }, [][]string{{VO, CO}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := n.World.ValidationParameter(RF, tc.key)
			for _, orgs := range tc.by {
				if code := n.Forge(n.Vendor, RF, orgs, func(s shim.ChaincodeStubInterface) { tc.write(s, tc.key) }); code != epf {
					t.Fatalf("endorsed by %v: %s", orgs, code)
				}
				if !bytes.Equal(n.World.ValidationParameter(RF, tc.key), policy) {
					t.Fatal("the key's policy changed")
				}
			}
		})
	}
	if a := account(t, n, "client"); a.Owner != cctest.ID(n.Client) {
		t.Fatalf("client wallet %+v", a)
	}
	var e refund.Escrow
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetEscrow", "sla-1", jan)), &e)
	if e.Status != refund.EscrowSettled {
		t.Fatalf("escrow %+v", e)
	}
}
