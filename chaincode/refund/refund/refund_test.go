package refund_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
)

const RF = cctest.Refund

func TestConfigure(t *testing.T) {
	n := cctest.New(t) // configured by the issuer
	var cfg refund.Config
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetConfig")), &cfg)
	if cfg.Issuer.CommonName != "issuer@providerorg.slasa.local" || cfg.EnclaveChaincode != cctest.Enclave || cfg.AgreementChaincode != cctest.Agreement {
		t.Fatalf("config %+v", cfg)
	}
	n.ExpectError(n.Issuer, RF, "Configure", "refund chaincode is already configured (issuer ProviderOrgMSP/issuer@providerorg.slasa.local at 2026-01-01T00:00:00Z)", "ProviderOrgMSP", "x", "y")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"", "e", "a"}, "issuerMSP: must not be empty"},
		{[]string{"P", "", "a"}, "enclaveChaincode: must not be empty"},
		{[]string{"P", "e", ""}, "agreementChaincode: must not be empty"},
		{[]string{"ClientOrgMSP", "e", "a"}, "issuerMSP: the submitter ProviderOrgMSP/issuer@providerorg.slasa.local does not belong to ClientOrgMSP"},
	} {
		n.ExpectError(n.Issuer, RF, "Configure", tc.want, tc.args...)
	}
}

func TestUnconfigured(t *testing.T) {
	n := cctest.New(t)
	w := fabricfake.NewWorld()
	w.Deploy(RF, n.World.ChaincodeFor(RF))
	r := w.Submit(n.Issuer, RF, "Mint", "x", "1")
	if r.Message != "refund chaincode is not configured; the issuer must call Configure first" {
		t.Fatalf("got %q", r.Message)
	}
	for _, fn := range []string{"GetConfig", "SettleVerdict", "DepositEscrow"} {
		r := w.Submit(n.Issuer, RF, fn, "{}")
		if fn == "GetConfig" {
			r = w.Submit(n.Issuer, RF, fn)
		}
		if r.Message != "refund chaincode is not configured; the issuer must call Configure first" {
			t.Fatalf("%s: got %q", fn, r.Message)
		}
	}
}

func TestWallets(t *testing.T) {
	n := cctest.New(t)
	var a refund.Account
	if err := json.Unmarshal([]byte(n.MustSubmit(n.Client, RF, "OpenAccount", "client")), &a); err != nil || a.Owner.CommonName != "client@clientorg.slasa.local" || a.Balance != 0 {
		t.Fatalf("open: %+v %v", a, err)
	}
	n.MustSubmit(n.Provider, RF, "OpenAccount", "provider")
	n.ExpectError(n.Provider, RF, "OpenAccount", `wallet "client" already exists`, "client")
	n.ExpectError(n.Provider, RF, "OpenAccount", `id: "-x" is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)`, "-x")
	n.ExpectError(n.Provider, RF, "OpenAccount", `id: "" is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)`, "")

	// Mint.
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "1000")
	n.ExpectError(n.Provider, RF, "Mint", "only the issuer ProviderOrgMSP/issuer@providerorg.slasa.local may mint, not ProviderOrgMSP/provider@providerorg.slasa.local", "provider", "1000")
	n.ExpectError(n.Client, RF, "Mint", "only the issuer ProviderOrgMSP/issuer@providerorg.slasa.local may mint, not ClientOrgMSP/client@clientorg.slasa.local", "client", "1000")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "0" is not a positive integer of minor units`, "client", "0")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "-5" is not a positive integer of minor units`, "client", "-5")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "1.5" is not a positive integer of minor units`, "client", "1.5")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "9223372036854775808" is not a positive integer of minor units`, "client", "9223372036854775808")
	n.ExpectError(n.Issuer, RF, "Mint", `wallet "ghost" does not exist`, "ghost", "5")
	n.ExpectError(n.Issuer, RF, "Mint", `wallet "client": amount overflow: 1000 + 9223372036854775807 exceeds 9223372036854775807`, "client", "9223372036854775807")

	// Transfer.
	n.MustSubmit(n.Client, RF, "Transfer", "client", "provider", "300")
	if n.Balance("client") != 700 || n.Balance("provider") != 300 {
		t.Fatalf("balances %d %d", n.Balance("client"), n.Balance("provider"))
	}
	n.ExpectError(n.Provider, RF, "Transfer", `wallet "client" is owned by ClientOrgMSP/client@clientorg.slasa.local, not by the submitter ProviderOrgMSP/provider@providerorg.slasa.local`, "client", "provider", "1")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "client": insufficient balance 700 for 701`, "client", "provider", "701")
	n.ExpectError(n.Client, RF, "Transfer", `to: "client" is the paying wallet itself`, "client", "client", "1")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "ghost" does not exist`, "client", "ghost", "1")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "ghost" does not exist`, "ghost", "client", "1")
	n.ExpectError(n.Client, RF, "Transfer", `amount: "abc" is not a positive integer of minor units`, "client", "provider", "abc")
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "9223372036854775000")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "provider": amount overflow: 9223372036854775300 + 700 exceeds 9223372036854775807`, "client", "provider", "700")

	// BalanceOf and History.
	n.MustEvaluate(n.Client, RF, "BalanceOf", "client")
	n.ExpectError(n.Provider, RF, "BalanceOf", `wallet "client" is readable by its owner ClientOrgMSP/client@clientorg.slasa.local or the issuer only, not by ProviderOrgMSP/provider@providerorg.slasa.local`, "client")
	n.ExpectError(n.Client, RF, "BalanceOf", `wallet "ghost" does not exist`, "ghost")
	var h []refund.Entry
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "History", "client")), &h); err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Kind != refund.KindMint || h[0].Amount != 1000 || h[1].Kind != refund.KindTransferOut || h[1].Amount != -300 || h[1].Balance != 700 || h[1].Counterparty != "provider" {
		t.Fatalf("history %+v", h)
	}
	n.ExpectError(n.Stranger, RF, "History", `wallet "client" is readable by its owner ClientOrgMSP/client@clientorg.slasa.local or the issuer only, not by OtherOrgMSP/stranger@otherorg.slasa.local`, "client")
}

func TestDepositEscrowOnlyFromAgreement(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.Fund(s, 100_000)
	dep := `{"sla_id":"sla-1","period":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":100000,"currency":"USD",` +
		`"payer":{"msp_id":"ClientOrgMSP","common_name":"client@clientorg.slasa.local","wallet":"client"},` +
		`"provider":{"msp_id":"ProviderOrgMSP","common_name":"provider@providerorg.slasa.local","wallet":"provider"},"product_id":"p"}`
	n.ExpectError(n.Client, RF, "DepositEscrow", `DepositEscrow may be called only by the agreement chaincode, not in a transaction of "refund"`, dep)

	// Called as if from the agreement chaincode: the payload checks.
	c := &refund.Contract{}
	for _, tc := range []struct {
		name string
		id   *fabricfake.Identity
		arg  string
		want string
	}{
		{"malformed", n.Client, "{", "depositJSON: unexpected EOF"},
		{"unknown field", n.Client, `{"x":1}`, `depositJSON: json: unknown field "x"`},
		{"no amount", n.Client, strings.Replace(dep, `"amount":100000`, `"amount":0`, 1), "deposit.amount: 0 is not positive"},
		{"bad period", n.Client, strings.Replace(dep, `"period":"2026-01-01T00:00:00Z"`, `"period":"2026-01"`, 1), `deposit.period: "2026-01" is not an RFC 3339 UTC timestamp (2006-01-02T15:04:05Z)`},
		{"not the payer", n.Provider, dep, "the submitter ProviderOrgMSP/provider@providerorg.slasa.local is not the payer ClientOrgMSP/client@clientorg.slasa.local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := n.World.NewCalledTx(tc.id, cctest.Agreement, RF)
			err := c.DepositEscrow(tx.Context(), tc.arg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if tx.PendingWrites() != 0 {
				t.Fatal("failed deposit wrote state")
			}
		})
	}
	tx := n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
	if err := c.DepositEscrow(tx.Context(), dep); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	tx = n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
	if err := c.DepositEscrow(tx.Context(), dep); err == nil || !strings.HasPrefix(err.Error(), `period 2026-01-01T00:00:00Z of SLA "sla-1" is already paid into escrow (tx `) {
		t.Fatalf("second deposit: %v", err)
	}
}

func settlement(t *testing.T, payload string) refund.Settlement {
	t.Helper()
	var s refund.Settlement
	if err := json.Unmarshal([]byte(payload), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSettleVerdict(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Consequences.CollateralWallet = "collateral"
	n.At("2026-01-05T00:00:00Z")
	d := n.Activate(s, 300_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "5000")
	n.MustSubmit(n.Client, cctest.Agreement, "RenewSLA", "sla-1")
	const jan, feb, mar = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := n.Verdict(s, d, jan, feb, 1000, 10000, 8000)
	wrongCC := good
	wrongCC.Chaincode = "evil-enclave"
	wrongDigest := good
	wrongDigest.SLADigest = strings.Repeat("0", 64)
	wrongEnd := good
	wrongEnd.PeriodEnd = mar
	tooMuch := good
	tooMuch.CreditAmount = 100001
	noEscrow := n.Verdict(s, d, mar, "2026-04-01T00:00:00Z", 0, 0, 0)
	wrongCur := good
	wrongCur.Currency = "EUR"
	unknownSLA := good
	unknownSLA.SLAID = "nope"
	forgedID := good
	forgedID.EnclaveID, _ = enclaveID(&other.PublicKey)

	tampered := cctest.SignVerdict(t, good, n.EnclaveKey)
	tampered = strings.Replace(tampered, `"credit_amount":10000`, `"credit_amount":90000`, 1)

	for _, tc := range []struct {
		name string
		arg  string
		want string
	}{
		{"malformed", "{", "signedVerdictJSON: decode signed verdict: unexpected EOF"},
		{"invalid field", strings.Replace(cctest.SignVerdict(t, good, n.EnclaveKey), `"currency":"USD"`, `"currency":"usd"`, 1), "verdict.currency: must be an ISO 4217 code"},
		{"other enclave chaincode", cctest.SignVerdict(t, wrongCC, n.EnclaveKey), `verdict.chaincode: "evil-enclave" is not the trusted enclave chaincode "slasa-monitor"`},
		{"forged signature", cctest.SignVerdict(t, good, other), "verdict: verdict signature does not verify with the enclave key"},
		{"tampered verdict", tampered, "verdict: verdict signature does not verify with the enclave key"},
		{"enclave id of another key", cctest.SignVerdict(t, forgedID, other), fmt.Sprintf("verdict: verdict.enclave_id: %s is not the id of the registered enclave key (%s)", forgedID.EnclaveID, n.EnclaveID)},
		{"no escrow", cctest.SignVerdict(t, noEscrow, n.EnclaveKey), `verdict.period: no escrow for period 2026-03-01T00:00:00Z of SLA "sla-1"`},
		{"unknown SLA", cctest.SignVerdict(t, unknownSLA, n.EnclaveKey), `verdict.period: no escrow for period 2026-01-01T00:00:00Z of SLA "nope"`},
		{"wrong period end", cctest.SignVerdict(t, wrongEnd, n.EnclaveKey), "verdict.period_end: 2026-03-01T00:00:00Z is not the end 2026-02-01T00:00:00Z of period 2026-01-01T00:00:00Z"},
		{"wrong currency", cctest.SignVerdict(t, wrongCur, n.EnclaveKey), "verdict.currency: EUR is not the SLA's currency USD"},
		{"credit above fee", cctest.SignVerdict(t, tooMuch, n.EnclaveKey), "verdict.credit_amount: 100001 exceeds the escrowed fee 100000"},
		{"wrong digest", cctest.SignVerdict(t, wrongDigest, n.EnclaveKey), fmt.Sprintf(`verdict.sla_digest: %s is not the digest of SLA "sla-1" (%s)`, wrongDigest.SLADigest, cctest.Hex(d))},
	} {
		t.Run(tc.name, func(t *testing.T) { n.ExpectError(n.Logger, RF, "SettleVerdict", tc.want, tc.arg) })
	}
	// A valid verdict relayed by a member of neither party's organization.
	n.ExpectError(n.Stranger, RF, "SettleVerdict", `verdicts of SLA "sla-1" are relayed by members of ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP/stranger@otherorg.slasa.local`,
		cctest.SignVerdict(t, good, n.EnclaveKey))

	// January: 10% credit and a penalty of 8000 of which the collateral covers 5000.
	r := n.Submit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, good, n.EnclaveKey))
	if !r.OK() {
		t.Fatal(r.Message)
	}
	got := settlement(t, string(r.Payload))
	if r.Event.Name != refund.EventRefundIssued || got.Credit != 10000 || got.Released != 90000 || got.PenaltyPaid != 5000 || got.PenaltyUnpaid != 3000 || got.Refund != 15000 {
		t.Fatalf("settlement %s %+v", r.Event.Name, got)
	}
	if n.Balance("client") != 100_000+15_000 || n.Balance("provider") != 90_000 || n.Balance("collateral") != 0 {
		t.Fatalf("balances client %d provider %d collateral %d", n.Balance("client"), n.Balance("provider"), n.Balance("collateral"))
	}
	n.ExpectErrorPrefix(n.Logger, RF, "SettleVerdict", `verdict.period: period 2026-01-01T00:00:00Z of SLA "sla-1" is already settled (tx `, cctest.SignVerdict(t, good, n.EnclaveKey))

	// February: no violation, the whole fee goes to the provider; the SLA
	// was terminated meanwhile (its escrowed periods are still settled).
	n.MustSubmit(n.Client, cctest.Agreement, "TerminateSLA", "sla-1", "moving on")
	r = n.Submit(n.Client, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, feb, mar, 0, 0, 0), n.EnclaveKey))
	if !r.OK() || r.Event.Name != refund.EventPeriodSettled {
		t.Fatalf("february: %s %+v", r.Message, r.Event)
	}
	if n.Balance("provider") != 190_000 {
		t.Fatalf("provider %d", n.Balance("provider"))
	}
	var e refund.Escrow
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetEscrow", "sla-1", feb)), &e)
	if e.Status != refund.EscrowSettled || e.Held != 0 || e.Settlement == nil {
		t.Fatalf("escrow %+v", e)
	}
	n.ExpectError(n.Stranger, RF, "GetEscrow", `escrow of SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1", feb)
	n.ExpectError(n.Client, RF, "GetEscrow", `no escrow for period 2026-05-01T00:00:00Z of SLA "sla-1"`, "sla-1", "2026-05-01T00:00:00Z")

	// Reputation: 2 periods, 1 violated.
	var sc refund.Score
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputation", "ProviderOrgMSP")), &sc)
	if sc.Periods != 2 || sc.Violated != 1 || sc.Credits != 10000 || sc.Penalties != 5000 || sc.ComplianceBPS != 5000 {
		t.Fatalf("reputation %+v", sc)
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetProductScore", "ProviderOrgMSP", "compute-region")), &sc)
	if sc.Periods != 2 || sc.ComplianceBPS != 5000 || sc.ProductID != "compute-region" {
		t.Fatalf("product score %+v", sc)
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetProductScore", "ProviderOrgMSP", "other-product")), &sc)
	if sc.Periods != 0 || sc.ComplianceBPS != 0 {
		t.Fatalf("empty product score %+v", sc)
	}
	n.ExpectError(n.Client, RF, "GetProductScore", "productID: must not be empty", "ProviderOrgMSP", "")
	n.ExpectError(n.Client, RF, "GetReputation", "providerMSP: must not be empty", "")
}

func TestSettleWithoutRegisteredEnclave(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.Activate(s, 100_000)
	delete(n.Registrations, cctest.Enclave)
	n.ExpectError(n.Logger, RF, "SettleVerdict", `no enclave registered for chaincode "slasa-monitor" in ercc: no enclave registered for slasa-monitor`,
		cctest.SignVerdict(t, n.Verdict(s, d, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 0, 0, 0), n.EnclaveKey))
	// A registration for the trusted name does not make a verdict naming
	// another chaincode acceptable, even when that chaincode has an enclave.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	n.Register("evil", &other.PublicKey)
	v := n.Verdict(s, d, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 0, 0, 0)
	v.Chaincode = "evil"
	v.EnclaveID, _ = enclaveID(&other.PublicKey)
	n.ExpectError(n.Logger, RF, "SettleVerdict", `verdict.chaincode: "evil" is not the trusted enclave chaincode "slasa-monitor"`, cctest.SignVerdict(t, v, other))
}

func TestSettleNoCollateralPenaltyUnpaid(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.Activate(s, 100_000)
	out := n.MustSubmit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 10000, 100000, 500), n.EnclaveKey))
	got := settlement(t, out)
	if got.Credit != 100000 || got.Released != 0 || got.PenaltyUnpaid != 500 || got.Refund != 100000 {
		t.Fatalf("settlement %+v", got)
	}
	if n.Balance("client") != 100000 || n.Balance("provider") != 0 {
		t.Fatal("balances")
	}
}
