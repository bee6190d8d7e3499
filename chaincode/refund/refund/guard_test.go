package refund_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/fabricfake"
)

// Every function but Configure and GetConfig, with arguments.
var functions = []struct {
	name string
	args []string
}{
	{"OpenAccount", []string{"w"}},
	{"Mint", []string{"client", "1"}},
	{"Transfer", []string{"client", "provider", "1"}},
	{"BalanceOf", []string{"client"}},
	{"History", []string{"client", "", ""}},
	{"HistoryFrom", []string{"client", "2026-01-01T00:00:00Z", "", ""}},
	{"Compact", []string{"client"}},
	{"GetSupply", nil},
	{"AuditWallets", []string{"", ""}},
	{"AuditEscrows", []string{"", ""}},
	{"DepositEscrow", []string{"{}"}},
	{"SettleVerdict", []string{"{}"}},
	{"GetEscrow", []string{"sla-1", "2026-01-01T00:00:00Z"}},
	{"GetReputation", []string{"ProviderOrgMSP", "", ""}},
	{"GetReputationSummary", []string{"ProviderOrgMSP", "", ""}},
	{"CompactReputation", []string{"ProviderOrgMSP"}},
	{"GetProductScore", []string{"ProviderOrgMSP", "p", "", ""}},
	{"GetSLAScore", []string{"ProviderOrgMSP", "p", "sla-1", "", ""}},
}

func TestConfigure(t *testing.T) {
	n := cctest.NewUnconfigured(t)
	d := n.Guard.Digest()
	// The old first-caller setup: a configuration naming the caller's own
	// MSP as the issuer is not this peer's, whoever sends it.
	other := *n.Config
	other.IssuerMSPID = "OtherOrgMSP"
	otherJSON, _ := json.Marshal(other)
	od, _ := other.Digest()
	for _, tc := range []struct {
		who  *fabricfake.Identity
		arg  string
		want string
	}{
		{n.Stranger, n.ConfigJSON, fmt.Sprintf("Configure: the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP", cctest.ID(n.Stranger))},
		{n.OtherAdmin, string(otherJSON), fmt.Sprintf("Configure: the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP", cctest.ID(n.OtherAdmin))},
		{n.Provider, n.ConfigJSON, fmt.Sprintf(`Configure: the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Provider))},
		{n.IssuerClient, n.ConfigJSON, fmt.Sprintf(`Configure: the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.IssuerClient))},
		{n.Client, n.ConfigJSON, fmt.Sprintf(`Configure: the caller %s is not an admin of ClientOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Client))},
		{n.ClientAdmin, string(otherJSON), fmt.Sprintf(`configJSON: its digest %s is not this peer's deploy configuration (digest %s); every organization must give its chaincode servers the same file`, od, d)},
	} {
		n.ExpectError(tc.who, RF, "Configure", tc.want, tc.arg)
	}
	// Nothing was minted or configured by the attempts.
	n.ExpectError(n.Stranger, RF, "Mint", n.NotConfiguredError(), "client", "1")
	r := n.Submit(n.ProviderAdmin, RF, "Configure", n.ConfigJSON)
	if !r.OK() {
		t.Fatal(r.Message)
	}
	var rec ccguard.Record
	_ = json.Unmarshal(r.Payload, &rec)
	n.ExpectError(n.ClientAdmin, RF, "Configure", fmt.Sprintf("the deploy configuration %s is already recorded (tx %s, by %s)", d, rec.TxID, cctest.ID(n.ProviderAdmin)), n.ConfigJSON)
	n.ExpectError(n.OtherAdmin, RF, "Configure", fmt.Sprintf("Configure: the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP", cctest.ID(n.OtherAdmin)), string(otherJSON))
	var view ccguard.ConfigView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetConfig")), &view); err != nil || !view.Agrees || view.Config.IssuerMSPID != "ProviderOrgMSP" {
		t.Fatalf("GetConfig %+v %v", view, err)
	}
}

func TestNothingRunsBeforeConfigure(t *testing.T) {
	n := cctest.NewUnconfigured(t)
	for _, f := range functions {
		n.ExpectError(n.Issuer, RF, f.name, n.NotConfiguredError(), f.args...)
	}
}

func TestMismatchedConfigurationRefusesEverything(t *testing.T) {
	n := cctest.New(t)
	recorded := n.Guard.Digest()
	other := *n.Config
	other.IssuerMSPID = "ClientOrgMSP"
	n.Deploy(&other)
	for _, f := range functions {
		n.ExpectError(n.Issuer, RF, f.name, n.MismatchError(recorded), f.args...)
		n.ExpectError(n.ClientAdmin, RF, f.name, n.MismatchError(recorded), f.args...)
	}
}

// Every money function refuses a timestamp more than the allowed skew away
// from the peer's clock, backdated or in the future, and accepts it within
// the skew.
func TestClockSkew(t *testing.T) {
	n, s, d := settleSetup(t)
	for _, tc := range []struct {
		fn   string
		who  *fabricfake.Identity
		args []string
	}{
		{"OpenAccount", n.Client, []string{"savings"}},
		{"Mint", n.Issuer, []string{"client", "1000"}},
		{"Transfer", n.Client, []string{"client", "savings", "10"}},
		{"Compact", n.Client, []string{"client"}},
		{"SettleVerdict", n.Client, []string{cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 0, 0, 0), n.EnclaveKey)}},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			for _, clock := range []time.Duration{6 * time.Minute, -6 * time.Minute, -5*time.Minute - 2*time.Second} {
				want := n.SkewError(clock)
				n.Clock = clock
				n.ExpectError(tc.who, RF, tc.fn, want, tc.args...)
			}
			n.Clock = 4 * time.Minute
			n.MustSubmit(tc.who, RF, tc.fn, tc.args...)
			n.Clock = 0
		})
	}
}
