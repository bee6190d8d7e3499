package agreement_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// marker is planted in every text of the SLA's terms; markedPrice is the
// fee, long enough not to occur by chance in base64 or hex.
const (
	marker      = "Q7Zmarker"
	markedPrice = 7_315_904_286_113
)

// markedSLA is the example SLA with the marker in its title, service,
// metric, zones and thresholds, a marked price and a penalty.
func markedSLA(t *testing.T, id string) *sla.SLA {
	s := cctest.ExampleSLA(t, id)
	s.Title = "Title " + marker
	s.Service.Name = "Service " + marker
	s.Service.Description = "Description " + marker
	s.Price.AmountMinor = markedPrice
	m := &s.Metrics[0]
	m.Name, m.Description = "Metric "+marker, "Metric description "+marker
	m.Objective.Target = "99.97310731"
	for i := range s.Monitoring.Zones {
		s.Monitoring.Zones[i].Region = "region-" + strings.ToLower(marker)
	}
	s.Consequences.CreditTiers[0].WorseThan = "99.97310731"
	s.Consequences.CreditTiers[1].WorseThan = "98.44170731"
	s.Consequences.CreditTiers[2].WorseThan = "94.22190731"
	s.Consequences.Penalties = []sla.Penalty{{Metric: "availability", AmountMinor: 8_241_377_019_553}}
	if err := sla.Validate(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// secrets are what must not appear anywhere public: the marker, the
// thresholds and the penalty.
var secrets = []string{strings.ToLower(marker), "97310731", "44170731", "22190731", "8241377019553"}

// TestTermsStayPrivate runs an SLA's whole life and searches what every
// channel member can read (every block: arguments, responses, events,
// public writes of every chaincode, and the world state) for the terms. The
// fee is public only as the escrow of the refund chaincode.
func TestTermsStayPrivate(t *testing.T) {
	n := cctest.New(t)
	s := markedSLA(t, "sla-1")
	n.Fund(s, 3*markedPrice)
	n.At("2025-12-20T00:00:00Z")
	n.Activate(s, 0)
	n.At("2026-01-10T00:00:00Z")
	n.MustRenew(s)
	n.AnchorPeriod(s, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z")
	_, b := n.NewEnclave()
	n.MustSubmit(n.Provider, AG, "ApproveEnclaveHandover", "sla-1", b)
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-1", "done")
	s2 := markedSLA(t, "sla-2")
	n.MustPropose(s2)
	n.MustSubmit(n.Provider, AG, "TerminateSLA", "sla-2", "withdrawn")

	// The search can find the terms: the parties hold them.
	doc, _ := cctest.Doc(t, s)
	for _, msp := range []string{"ProviderOrgMSP", "ClientOrgMSP"} {
		held := strings.ToLower(string(n.World.PrivateState(AG, agreement.Collection(msp), cctest.SLAKey("sla-1"))))
		if held != strings.ToLower(doc) || !strings.Contains(held, fmt.Sprint(markedPrice)) {
			t.Fatalf("%s does not hold the document", msp)
		}
		for _, sec := range secrets {
			if !strings.Contains(held, sec) {
				t.Fatalf("the document lacks %q", sec)
			}
		}
	}

	price := fmt.Sprint(markedPrice)
	find := func(where string, data []byte, agreementNS bool) {
		text := strings.ToLower(string(data))
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("%s holds %q: %s", where, sec, data)
			}
		}
		if agreementNS && strings.Contains(text, price) {
			t.Errorf("%s holds the price: %s", where, data)
		}
	}
	if len(n.World.Blocks) < 10 {
		t.Fatalf("%d blocks", len(n.World.Blocks))
	}
	for _, b := range n.World.Blocks {
		for i, a := range b.Args {
			find(fmt.Sprintf("tx %s argument %d", b.TxID, i), []byte(a), true)
		}
		find("tx "+b.TxID+" response", b.Response, true)
		if b.Event != nil {
			find("tx "+b.TxID+" event "+b.Event.Name, b.Event.Payload, true)
		}
		for _, w := range b.Writes {
			find(fmt.Sprintf("tx %s write %s %q", b.TxID, w.Namespace, w.Key), append([]byte(w.Key), w.Value...), w.Namespace == AG)
		}
	}
	for _, ev := range n.World.Events {
		find("event "+ev.Name, ev.Payload, true)
	}
	for ns, kv := range n.World.Snapshot() {
		for k, v := range kv {
			find(fmt.Sprintf("state %s %q", ns, k), []byte(k+v), ns == AG)
		}
	}
	// The public record names the parties and the window, nothing else of
	// the document.
	var rec map[string]any
	if err := json.Unmarshal(n.World.State(AG, cctest.SLAKey("sla-1")), &rec); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for k := range rec {
		fields = append(fields, k)
	}
	for _, f := range fields {
		switch f {
		case "id", "status", "digest", "parties", "validity_start", "validity_end", "signatures", "proposed_at", "accepted_at", "last_period",
			"paid_through", "paid_periods", "enclave", "enclave_history", "handover", "terminated_at", "terminated_by", "terminated_as", "reason", "ends_at", "refunded_period":
		default:
			t.Errorf("the public record has field %q", f)
		}
	}
	var parties map[string]map[string]any
	_ = json.Unmarshal(n.World.State(AG, cctest.SLAKey("sla-1")), &struct {
		P *map[string]map[string]any `json:"parties"`
	}{&parties})
	for role, p := range parties {
		if _, ok := p["wallet"]; ok || len(p) != 4 {
			t.Errorf("public %s: %v", role, p)
		}
	}
}

// GetSLA: only members of the parties' organizations, on their own
// organization's peer, and nothing private is read for anybody else.
func TestGetSLAReadsTheCallersCollectionOnly(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.MustPropose(s)
	doc, d := cctest.Doc(t, s)
	evaluate := func(id *fabricfake.Identity, peer string) fabricfake.Result {
		return n.World.EvaluateCall(fabricfake.Call{ID: id, Chaincode: AG, Fn: "GetSLA", Args: []string{"sla-1"}, Peer: peer})
	}

	// A third organization's client or admin, through any peer.
	reads := len(n.World.PrivateReads)
	for _, who := range []*fabricfake.Identity{n.Stranger, n.OtherAdmin} {
		for _, peer := range []string{"ProviderOrgMSP", "ClientOrgMSP", "OtherOrgMSP"} {
			r := evaluate(who, peer)
			if r.OK() || r.Message != `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP` || len(r.Payload) != 0 {
				t.Errorf("%s on a peer of %s: %q %q", who.MSPID, peer, r.Payload, r.Message)
			}
		}
	}
	if len(n.World.PrivateReads) != reads {
		t.Fatalf("private data read for a third organization: %+v", n.World.PrivateReads[reads:])
	}
	// A party's member on the other party's peer.
	for _, tc := range []struct {
		who  *fabricfake.Identity
		peer string
	}{{n.Provider, "ClientOrgMSP"}, {n.Client, "ProviderOrgMSP"}} {
		r := evaluate(tc.who, tc.peer)
		want := fmt.Sprintf(`SLA "sla-1": evaluate GetSLA on a peer of your organization %s: this peer belongs to %s, and the document is read from the caller's organization's implicit collection`, tc.who.MSPID, tc.peer)
		if r.Message != want {
			t.Errorf("%s on %s: %q", tc.who.MSPID, tc.peer, r.Message)
		}
	}
	if len(n.World.PrivateReads) != reads {
		t.Fatalf("private data read on another organization's peer: %+v", n.World.PrivateReads[reads:])
	}
	// Each party's members on their own peer read their own copy.
	for _, who := range []*fabricfake.Identity{n.Provider, n.Logger, n.Other, n.Client, n.ClientAdmin} {
		r := evaluate(who, who.MSPID)
		var v agreement.SLAView
		if !r.OK() || json.Unmarshal(r.Payload, &v) != nil || string(v.Signed.Document) != doc || v.Signed.Digest != cctest.Hex(d) || v.ID != "sla-1" {
			t.Fatalf("%s: %q", cctest.ID(who), r.Message)
		}
		last := n.World.PrivateReads[len(n.World.PrivateReads)-1]
		if last.Collection != agreement.Collection(who.MSPID) || last.Peer != who.MSPID || last.Key != cctest.SLAKey("sla-1") {
			t.Fatalf("read %+v", last)
		}
	}
}

// GetSLA's failures, with a faked collection.
func TestGetSLAFailures(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.MustPropose(s)
	other := cctest.ExampleSLA(t, "sla-1")
	odoc, _ := cctest.Doc(t, other)
	c := n.AgreementContract()
	t.Setenv("CORE_PEER_LOCALMSPID", "ClientOrgMSP")
	for _, tc := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"no copy", nil, `SLA "sla-1": this peer holds no copy of its document in _implicit_org_ClientOrgMSP`},
		{"another document", []byte(odoc), fmt.Sprintf(`SLA "sla-1": the document in _implicit_org_ClientOrgMSP is not the document of the recorded digest %s`, cctest.Hex(d))},
		{"not a document", []byte("{"), fmt.Sprintf(`SLA "sla-1": the document in _implicit_org_ClientOrgMSP is not the document of the recorded digest %s`, cctest.Hex(d))},
	} {
		tx := n.World.NewTx(n.Client, AG)
		tx.Stub.GetPrivateDataReturns(tc.value, nil)
		if _, err := c.GetSLA(tx.Context(), "sla-1"); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	tx := n.World.NewTx(n.Client, AG)
	tx.Stub.GetPrivateDataReturns(nil, fmt.Errorf("pvt down"))
	if _, err := c.GetSLA(tx.Context(), "sla-1"); err == nil || err.Error() != `read the document of SLA "sla-1" from _implicit_org_ClientOrgMSP: pvt down` {
		t.Errorf("read error: %v", err)
	}
	t.Setenv("CORE_PEER_LOCALMSPID", "")
	os.Unsetenv("CORE_PEER_LOCALMSPID")
	tx = n.World.NewTx(n.Client, AG)
	if _, err := c.GetSLA(tx.Context(), "sla-1"); err == nil ||
		err.Error() != "this chaincode server does not know its organization: 'CORE_PEER_LOCALMSPID' is not set (set CORE_PEER_LOCALMSPID to the MSP ID of its peer's organization)" {
		t.Errorf("no local MSP: %v", err)
	}
}

// Every key of an SLA gets the key-level policy "both parties' peers" once,
// in the transaction that creates it, and never again.
func TestKeyLevelPolicies(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.Fund(s, 300_000)
	doc, d := cctest.Doc(t, s)
	c := n.AgreementContract()
	policies := func(tx *fabricfake.Tx) map[string]string {
		out := map[string]string{}
		for i := 0; i < tx.Stub.SetStateValidationParameterCallCount(); i++ {
			k, p := tx.Stub.SetStateValidationParameterArgsForCall(i)
			orgs, err := ccpolicy.AllOfOrgs(p)
			if err != nil {
				t.Fatal(err)
			}
			out[k] = strings.Join(orgs, ",")
		}
		if tx.Stub.SetPrivateDataValidationParameterCallCount() != 0 {
			t.Fatal("a private key got a key-level policy")
		}
		return out
	}
	run := func(id *fabricfake.Identity, call func(*fabricfake.Tx) error) map[string]string {
		t.Helper()
		tx := n.World.NewTx(id, AG)
		tx.SetTransient(map[string][]byte{agreement.TransientSLA: []byte(doc)})
		if err := call(tx); err != nil {
			t.Fatal(err)
		}
		tx.Commit()
		return policies(tx)
	}
	both := "ClientOrgMSP,ProviderOrgMSP"
	byProvider := cctest.SLAKey("sla-1")
	idx := func(role, msp, cn string) string {
		k, _ := fabricStubKey("sla-by-party", role, msp, cn, "sla-1")
		return k
	}
	got := run(n.Provider, func(tx *fabricfake.Tx) error { return c.ProposeSLA(tx.Context(), cctest.Sign(t, n.Provider, d)) })
	want := map[string]string{byProvider: both, idx("provider", "ProviderOrgMSP", s.Parties.Provider.CommonName): both, idx("client", "ClientOrgMSP", s.Parties.Client.CommonName): both}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ProposeSLA set %v, want %v", got, want)
	}
	n.At("2025-12-20T00:00:00Z")
	if got := run(n.Client, func(tx *fabricfake.Tx) error {
		return c.AcceptSLA(tx.Context(), "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d))
	}); len(got) != 0 {
		t.Fatalf("AcceptSLA set %v", got)
	}
	n.At("2026-01-02T00:00:00Z")
	if got := run(n.Client, func(tx *fabricfake.Tx) error { return c.RenewSLA(tx.Context(), "sla-1") }); len(got) != 0 {
		t.Fatalf("RenewSLA set %v", got)
	}
	a := signedsla.Anchor{SLAID: "sla-1", Seq: 1, CID: "bafyone", PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T01:00:00Z"}
	got = run(n.Logger, func(tx *fabricfake.Tx) error {
		args := anchorArgs(t, n, a, nil)
		return c.AnchorLogBatch(tx.Context(), args[0], args[1], args[2], args[3], args[4], args[5], args[6])
	})
	anchorKey, _ := fabricStubKey("anchor", "sla-1", fmt.Sprintf("%020d", 1))
	if fmt.Sprint(got) != fmt.Sprint(map[string]string{anchorKey: both}) {
		t.Fatalf("AnchorLogBatch set %v", got)
	}
	_, b := n.NewEnclave()
	if got := run(n.Provider, func(tx *fabricfake.Tx) error { return c.ApproveEnclaveHandover(tx.Context(), "sla-1", b) }); len(got) != 0 {
		t.Fatalf("ApproveEnclaveHandover set %v", got)
	}
	if got := run(n.Client, func(tx *fabricfake.Tx) error { return c.TerminateSLA(tx.Context(), "sla-1", "bye") }); len(got) != 0 {
		t.Fatalf("TerminateSLA set %v", got)
	}
}

func fabricStubKey(objectType string, attrs ...string) (string, error) {
	return shim.CreateCompositeKey(objectType, attrs)
}
