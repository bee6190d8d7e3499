package agreement_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
)

// Every function but Configure and GetConfig, with arguments.
var functions = []struct {
	name string
	args []string
}{
	{"ProposeSLA", []string{"AA=="}},
	{"AcceptSLA", []string{"sla-1", strings.Repeat("0", 64), "AA=="}},
	{"RenewSLA", []string{"sla-1"}},
	{"TerminateSLA", []string{"sla-1", "bye"}},
	{"ApproveEnclaveHandover", []string{"sla-1", strings.Repeat("A", 64)}},
	{"AnchorLogBatch", []string{"sla-1", "1", "bafyone", "", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "AA=="}},
	{"GetSLA", []string{"sla-1"}},
	{"ListSLAs", []string{"client", "ClientOrgMSP", "", "10", ""}},
	{"GetSLAHistory", []string{"sla-1"}},
	{"GetParties", []string{"sla-1"}},
	{"GetLogBatch", []string{"sla-1", "1"}},
	{"ListLogBatches", []string{"sla-1", "10", ""}},
}

func TestConfigure(t *testing.T) {
	n := cctest.NewUnconfigured(t)
	d := n.Guard.Digest()
	other := *n.Config
	other.IssuerMSPID = "ClientOrgMSP"
	otherJSON, _ := json.Marshal(other)
	od, _ := other.Digest()

	n.ExpectError(n.Provider, AG, "Configure", fmt.Sprintf(`Configure: the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Provider)), n.ConfigJSON)
	n.ExpectError(n.Client, AG, "Configure", fmt.Sprintf(`Configure: the caller %s is not an admin of ClientOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Client)), n.ConfigJSON)
	n.ExpectError(n.OtherAdmin, AG, "Configure", fmt.Sprintf(`Configure: the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP`, cctest.ID(n.OtherAdmin)), n.ConfigJSON)
	n.ExpectError(n.ClientAdmin, AG, "Configure", fmt.Sprintf(`configJSON: its digest %s is not this peer's deploy configuration (digest %s); every organization must give its chaincode servers the same file`, od, d), string(otherJSON))
	n.ExpectError(n.ClientAdmin, AG, "Configure", "configJSON: deploy configuration: unexpected EOF", "{")

	r := n.Submit(n.ClientAdmin, AG, "Configure", n.ConfigJSON)
	if !r.OK() {
		t.Fatal(r.Message)
	}
	var rec ccguard.Record
	if err := json.Unmarshal(r.Payload, &rec); err != nil || rec.Digest != d || rec.RecordedBy != cctest.ID(n.ClientAdmin) {
		t.Fatalf("record %+v %v", rec, err)
	}
	n.ExpectError(n.ProviderAdmin, AG, "Configure", fmt.Sprintf("the deploy configuration %s is already recorded (tx %s, by %s)", d, rec.TxID, cctest.ID(n.ClientAdmin)), n.ConfigJSON)
	var view ccguard.ConfigView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, AG, "GetConfig")), &view); err != nil || !view.Agrees || view.Digest != d || view.Config.Chaincodes.Refund != cctest.Refund {
		t.Fatalf("GetConfig %+v %v", view, err)
	}
}

func TestNothingRunsBeforeConfigure(t *testing.T) {
	n := cctest.NewUnconfigured(t)
	for _, f := range functions {
		n.ExpectError(n.Client, AG, f.name, n.NotConfiguredError(), f.args...)
	}
	var view ccguard.ConfigView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "GetConfig")), &view); err != nil || view.Agrees || view.Recorded != nil {
		t.Fatalf("GetConfig before Configure %+v %v", view, err)
	}
}

func TestMismatchedConfigurationRefusesEverything(t *testing.T) {
	n := cctest.New(t)
	recorded := n.Guard.Digest()
	other := *n.Config
	other.Enclave.Attestation = deploycfg.AttestationSGX
	n.Deploy(&other)
	for _, f := range functions {
		n.ExpectError(n.Client, AG, f.name, n.MismatchError(recorded), f.args...)
	}
}

// Every function that changes state refuses a timestamp more than the
// allowed skew away from the peer's clock, backdated or in the future, and
// accepts it within the skew.
func TestClockSkew(t *testing.T) {
	n := cctest.New(t)
	// sla-0: proposed, to accept; sla-1: active (January), to renew,
	// anchor, hand over and terminate.
	s0 := cctest.ExampleSLA(t, "sla-0")
	doc0, d0 := cctest.Doc(t, s0)
	n.Fund(s0, 500_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc0, cctest.Sign(t, n.Provider, d0)))
	s1 := cctest.ExampleSLA(t, "sla-1")
	n.Activate(s1, 0)
	doc1, _ := cctest.Doc(t, s1)
	_, b := n.NewEnclave()
	s2 := cctest.ExampleSLA(t, "sla-2")
	doc2, d2 := cctest.Doc(t, s2)
	n.At("2026-01-01T02:00:00Z")
	anchor := signedsla.Anchor{SLAID: "sla-1", Seq: 1, CID: "bafyone", PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T01:00:00Z"}

	for _, tc := range []fabricfake.Call{
		cctest.ProposeCall(n.Provider, doc2, cctest.Sign(t, n.Provider, d2)),
		cctest.WithDocument(n.Client, doc0, "AcceptSLA", "sla-0", cctest.Hex(d0), cctest.Sign(t, n.Client, d0)),
		cctest.WithDocument(n.Client, doc1, "RenewSLA", "sla-1"),
		{ID: n.Logger, Chaincode: AG, Fn: "AnchorLogBatch", Args: anchorArgs(t, n, anchor, nil)},
		{ID: n.Provider, Chaincode: AG, Fn: "ApproveEnclaveHandover", Args: []string{"sla-1", b}},
		{ID: n.Client, Chaincode: AG, Fn: "TerminateSLA", Args: []string{"sla-1", "bye"}},
	} {
		t.Run(tc.Fn, func(t *testing.T) {
			for _, clock := range []time.Duration{6 * time.Minute, -6 * time.Minute, 5*time.Minute + 2*time.Second} {
				want := n.SkewError(clock)
				n.Clock = clock
				n.ExpectCallError(tc, want)
			}
			n.Clock = -4 * time.Minute
			n.MustCall(tc)
			n.Clock = 0
		})
	}
}
