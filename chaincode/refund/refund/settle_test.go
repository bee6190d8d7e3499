package refund_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

const (
	AG                    = cctest.Agreement
	jan, jan15, feb, mar  = "2026-01-01T00:00:00Z", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"
	afterJanuary          = "2026-02-01T00:10:00Z"
	notAnchoredBatchError = `verdict.batch_seq: log batch 99 of SLA "sla-1" is not anchored`
)

func settlement(t *testing.T, payload string) refund.Settlement {
	t.Helper()
	var s refund.Settlement
	if err := json.Unmarshal([]byte(payload), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// settleSetup activates sla-1 (with a collateral wallet holding 5000) for
// January and February, anchors January in two batches (the second ends
// the period) and sets the time to just after January.
func settleSetup(t *testing.T) (*cctest.Net, *sla.SLA, [32]byte) {
	t.Helper()
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Consequences.CollateralWallet = "collateral"
	d := n.Activate(s, 300_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "5000")
	n.At("2026-01-05T00:00:00Z")
	n.MustRenew(s)
	n.AnchorPeriod(s, jan, jan15)
	n.AnchorPeriod(s, jan15, feb)
	n.At(afterJanuary)
	return n, s, d
}

func TestSettleVerdict(t *testing.T) {
	n, s, d := settleSetup(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherID, _ := enclaveID(&other.PublicKey)
	good := n.Verdict(s, d, jan, feb, 1000, 10000, 8000)
	if good.BatchSeq != 2 || good.BatchCID != cctest.CID("sla-1", 2) {
		t.Fatalf("verdict names batch %d %s", good.BatchSeq, good.BatchCID)
	}
	edit := func(f func(v *verdictT)) string {
		v := good
		f(&v)
		return cctest.SignVerdict(t, v, n.EnclaveKey)
	}
	tampered := strings.Replace(cctest.SignVerdict(t, good, n.EnclaveKey), `"credit_amount":10000`, `"credit_amount":90000`, 1)

	for _, tc := range []struct {
		name string
		arg  string
		want string
	}{
		{"malformed", "{", "signedVerdictJSON: decode signed verdict: unexpected EOF"},
		{"invalid field", strings.Replace(cctest.SignVerdict(t, good, n.EnclaveKey), `"currency":"USD"`, `"currency":"usd"`, 1), "verdict.currency: must be an ISO 4217 code"},
		{"no escrow", cctest.SignVerdict(t, n.Verdict(s, d, mar, "2026-04-01T00:00:00Z", 0, 0, 0), n.EnclaveKey), `verdict.period: no escrow for period 2026-03-01T00:00:00Z of SLA "sla-1"`},
		{"unknown SLA", edit(func(v *verdictT) { v.SLAID = "nope" }), `verdict.period: no escrow for period 2026-01-01T00:00:00Z of SLA "nope"`},
		{"wrong period end", edit(func(v *verdictT) { v.PeriodEnd = mar }), "verdict.period_end: 2026-03-01T00:00:00Z is not the end 2026-02-01T00:00:00Z of period 2026-01-01T00:00:00Z"},
		{"wrong digest", edit(func(v *verdictT) { v.SLADigest = strings.Repeat("0", 64) }), fmt.Sprintf(`verdict.sla_digest: %s is not the digest of SLA "sla-1" (%s)`, strings.Repeat("0", 64), cctest.Hex(d))},
		{"other enclave chaincode", edit(func(v *verdictT) { v.Chaincode = "evil-enclave" }), `verdict.chaincode: "evil-enclave" is not the chaincode "slaenclave" of the enclave pinned by SLA "sla-1"`},
		{"enclave id of another key", cctest.SignVerdict(t, withEnclave(good, otherID), other), fmt.Sprintf(`verdict.enclave_id: %s is not the enclave %s pinned by SLA "sla-1"`, otherID, n.EnclaveID)},
		{"forged signature", cctest.SignVerdict(t, good, other), "verdict: verdict signature does not verify with the enclave key"},
		{"tampered verdict", tampered, "verdict: verdict signature does not verify with the enclave key"},
		{"batch not anchored", edit(func(v *verdictT) { v.BatchSeq, v.BatchCID = 99, "bafynotanchored" }), notAnchoredBatchError},
		{"another batch cid", edit(func(v *verdictT) { v.BatchCID = "bafyother" }), fmt.Sprintf(`verdict.batch_cid: bafyother is not the CID %s of log batch 2 of SLA "sla-1"`, cctest.CID("sla-1", 2))},
		{"batch that does not end the period", edit(func(v *verdictT) { v.BatchSeq, v.BatchCID = 1, cctest.CID("sla-1", 1) }),
			`verdict.batch_seq: log batch 1 of SLA "sla-1" ends at 2026-01-15T00:00:00Z, not at the period end 2026-02-01T00:00:00Z`},
		{"wrong currency", edit(func(v *verdictT) { v.Currency = "EUR" }), "verdict.currency: EUR is not the SLA's currency USD"},
		{"credit above fee", edit(func(v *verdictT) { v.CreditAmount = 100001 }), "verdict.credit_amount: 100001 exceeds the escrowed fee 100000"},
	} {
		t.Run(tc.name, func(t *testing.T) { n.ExpectError(n.Logger, RF, "SettleVerdict", tc.want, tc.arg) })
	}
	// A valid verdict relayed by a member of neither party's organization.
	for _, who := range []*fabricfake.Identity{n.Stranger, n.OtherAdmin} {
		n.ExpectError(who, RF, "SettleVerdict", fmt.Sprintf(`verdicts of SLA "sla-1" are relayed by members of ProviderOrgMSP and ClientOrgMSP only, not by %s`, cctest.ID(who)),
			cctest.SignVerdict(t, good, n.EnclaveKey))
	}
	// February is paid but not over.
	n.At("2026-02-20T00:00:00Z")
	n.ExpectError(n.Client, RF, "SettleVerdict", `verdict.period_end: period 2026-02-01T00:00:00Z of SLA "sla-1" ends at 2026-03-01T00:00:00Z, after this transaction (2026-02-20T00:00:00Z); a period is settled only once it is over`,
		cctest.SignVerdict(t, n.Verdict(s, d, feb, mar, 0, 0, 0), n.EnclaveKey))

	// January: 10% credit and a penalty of 8000 of which the collateral covers 5000.
	r := n.Submit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, good, n.EnclaveKey))
	if !r.OK() {
		t.Fatal(r.Message)
	}
	got := settlement(t, string(r.Payload))
	if r.Event.Name != refund.EventRefundIssued || got.Credit != 10000 || got.Released != 90000 || got.PenaltyPaid != 5000 || got.PenaltyUnpaid != 3000 || got.Refund != 15000 ||
		got.EnclaveID != n.EnclaveID || got.Chaincode != cctest.Enclave || got.BatchSeq != 2 || got.BatchCID != good.BatchCID ||
		got.Client.Subject != cctest.DN(n.Client) || got.Client.Issuer != cctest.IssuerDN(n.Client) || got.Provider.Subject != cctest.DN(n.Provider) || got.Client.Wallet != "client" {
		t.Fatalf("settlement %s %+v", r.Event.Name, got)
	}
	if n.Balance("client") != 100_000+15_000 || n.Balance("provider") != 90_000 || n.Balance("collateral") != 0 {
		t.Fatalf("balances client %d provider %d collateral %d", n.Balance("client"), n.Balance("provider"), n.Balance("collateral"))
	}
	// Replays of the settled verdict, by anyone.
	for _, who := range []*fabricfake.Identity{n.Logger, n.Client, n.Provider} {
		n.ExpectError(who, RF, "SettleVerdict", fmt.Sprintf(`verdict.period: period 2026-01-01T00:00:00Z of SLA "sla-1" is already settled (tx %s)`, r.TxID), cctest.SignVerdict(t, good, n.EnclaveKey))
	}

	// February: no violation, the whole fee goes to the provider; the SLA
	// was terminated meanwhile (its escrowed periods are still settled).
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-1", "moving on")
	n.AnchorPeriod(s, feb, mar)
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
	n.ExpectError(n.Client, RF, "GetEscrow", `period: no escrow for period 2026-05-01T00:00:00Z of SLA "sla-1"`, "sla-1", "2026-05-01T00:00:00Z")

	// Reputation: 2 periods, 1 violated.
	var sc refund.Score
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputation", "ProviderOrgMSP", "", "")), &sc)
	if sc.Periods != 2 || sc.Violated != 1 || sc.Credits != 10000 || sc.Penalties != 5000 || sc.ComplianceBPS != 5000 {
		t.Fatalf("reputation %+v", sc)
	}
	// Over time: January violated (credit and penalty), February met.
	months := []refund.MonthScore{
		{Month: "2026-01", Tally: refund.Tally{Periods: 1, Violated: 1, Credits: 10000, Penalties: 5000}},
		{Month: "2026-02", Tally: refund.Tally{Periods: 1, ComplianceBPS: 10000}},
	}
	if !reflect.DeepEqual(sc.Months, months) {
		t.Fatalf("reputation by month %+v, want %+v", sc.Months, months)
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetProductScore", "ProviderOrgMSP", "compute-region", "", "")), &sc)
	if sc.Periods != 2 || sc.ComplianceBPS != 5000 || sc.ProductID != "compute-region" {
		t.Fatalf("product score %+v", sc)
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetProductScore", "ProviderOrgMSP", "other-product", "", "")), &sc)
	if sc.Periods != 0 || sc.ComplianceBPS != 0 {
		t.Fatalf("empty product score %+v", sc)
	}
	// One period a page: the pages add up to the score.
	sum := scorePagesOfOne(t, n, n.Stranger, func(p refund.Score) bool { return true }, "GetReputation", "ProviderOrgMSP")
	if sum.Periods != 2 || sum.Violated != 1 || sum.Credits != 10000 || sum.Penalties != 5000 || sum.ComplianceBPS != 5000 {
		t.Fatalf("pages add up to %+v", sum)
	}
	if !reflect.DeepEqual(sum.Months, months) {
		t.Fatalf("pages add up by month to %+v, want %+v", sum.Months, months)
	}
	otherRep, _ := shim.CreateCompositeKey("rep", []string{"ClientOrgMSP"})
	n.ExpectError(n.Stranger, RF, "GetReputation", fmt.Sprintf("bookmark: %q is not a bookmark of the reputation of ProviderOrgMSP", otherRep), "ProviderOrgMSP", "1", otherRep)
	n.ExpectError(n.Stranger, RF, "GetProductScore", fmt.Sprintf("bookmark: %q is not a bookmark of the reputation of ProviderOrgMSP/compute-region", otherRep), "ProviderOrgMSP", "compute-region", "1", otherRep)
	n.ExpectError(n.Stranger, RF, "GetReputation", `pageSize: "x" is not a page size (0 for 1000, at most 10000)`, "ProviderOrgMSP", "x", "")

	expectSLAScore(t, n)
}

// expectSLAScore checks GetSLAScore on TestSettleVerdict's ledger: sla-1
// settled January (violated: credit 10000, penalty paid 5000) and February
// (met). A planted score entry of sla-10 (the same provider and product, an
// id that sla-1 is a prefix of) is not counted.
func expectSLAScore(t *testing.T, n *cctest.Net) {
	t.Helper()
	planted, _ := shim.CreateCompositeKey("rep", []string{"ProviderOrgMSP", "compute-region", "sla-10", jan})
	n.World.Put(RF, planted, []byte(`{"sla_id":"sla-10","period":"2026-01-01T00:00:00Z","violated":true,"credit":777}`))
	want := refund.Score{Provider: "ProviderOrgMSP", ProductID: "compute-region", SLAID: "sla-1",
		Months: []refund.MonthScore{{Month: "2026-01", Tally: refund.Tally{Periods: 1, Violated: 1, Credits: 10000, Penalties: 5000}}, {Month: "2026-02", Tally: refund.Tally{Periods: 1, ComplianceBPS: 10000}}}, Tally: refund.Tally{Periods: 2, Violated: 1, Credits: 10000, Penalties: 5000, ComplianceBPS: 5000}}
	for _, who := range []*fabricfake.Identity{n.Client, n.Provider, n.Logger} {
		var sc refund.Score
		if err := json.Unmarshal([]byte(n.MustEvaluate(who, RF, "GetSLAScore", "ProviderOrgMSP", "compute-region", "sla-1", "", "")), &sc); err != nil || !reflect.DeepEqual(sc, want) {
			t.Fatalf("GetSLAScore as %s: %+v %v, want %+v", cctest.ID(who), sc, err, want)
		}
	}
	// One period a page.
	sum := scorePagesOfOne(t, n, n.Client, func(p refund.Score) bool { return p.SLAID == "sla-1" }, "GetSLAScore", "ProviderOrgMSP", "compute-region", "sla-1")
	if sum.Periods != 2 || sum.Violated != 1 || sum.Credits != 10000 || sum.Penalties != 5000 || sum.ComplianceBPS != 5000 {
		t.Fatalf("pages add up to %+v", sum)
	}
	// Another product of the SLA's provider: no entries.
	var sc refund.Score
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetSLAScore", "ProviderOrgMSP", "other-product", "sla-1", "", "")), &sc)
	if !reflect.DeepEqual(sc, refund.Score{Provider: "ProviderOrgMSP", ProductID: "other-product", SLAID: "sla-1", Months: []refund.MonthScore{}}) {
		t.Fatalf("other product %+v", sc)
	}
	otherSLA, _ := shim.CreateCompositeKey("rep", []string{"ProviderOrgMSP", "compute-region", "sla-10"})
	for _, tc := range []struct {
		name string
		who  *fabricfake.Identity
		args []string
		want string
	}{
		{"no provider", n.Client, []string{"", "compute-region", "sla-1", "", ""}, "providerMSP: must not be empty"},
		{"no product", n.Client, []string{"ProviderOrgMSP", "", "sla-1", "", ""}, "productID: must not be empty"},
		{"no SLA", n.Client, []string{"ProviderOrgMSP", "compute-region", "", "", ""}, "slaID: must not be empty"},
		{"unknown SLA", n.Client, []string{"ProviderOrgMSP", "compute-region", "nope", "", ""}, `read the parties of SLA "nope": agreement GetParties: SLA "nope" does not exist`},
		{"not a party", n.Stranger, []string{"ProviderOrgMSP", "compute-region", "sla-1", "", ""},
			`read the parties of SLA "sla-1": agreement GetParties: SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`},
		{"not its provider", n.Client, []string{"ClientOrgMSP", "compute-region", "sla-1", "", ""}, `providerMSP: ClientOrgMSP is not the provider organization ProviderOrgMSP of SLA "sla-1"`},
		{"bad page size", n.Client, []string{"ProviderOrgMSP", "compute-region", "sla-1", "-1", ""}, `pageSize: "-1" is not a page size (0 for 1000, at most 10000)`},
		{"bookmark of another SLA", n.Client, []string{"ProviderOrgMSP", "compute-region", "sla-1", "1", otherSLA},
			fmt.Sprintf("bookmark: %q is not a bookmark of the reputation of ProviderOrgMSP/compute-region/sla-1", otherSLA)},
	} {
		t.Run("GetSLAScore "+tc.name, func(t *testing.T) { n.ExpectError(tc.who, RF, "GetSLAScore", tc.want, tc.args...) })
	}
}

// A period is settled only once it is over, by the transaction time (the
// skew guard bounds it) and by the logger's anchor of its last batch.
func TestSettleOnlyAfterThePeriod(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.Activate(s, 100_000)
	v := n.Verdict(s, d, jan, feb, 0, 0, 0) // names no anchored batch yet
	n.At("2026-01-31T23:59:59Z")
	n.ExpectError(n.Provider, RF, "SettleVerdict", `verdict.period_end: period 2026-01-01T00:00:00Z of SLA "sla-1" ends at 2026-02-01T00:00:00Z, after this transaction (2026-01-31T23:59:59Z); a period is settled only once it is over`,
		cctest.SignVerdict(t, v, n.EnclaveKey))
	n.At(feb)
	n.ExpectError(n.Provider, RF, "SettleVerdict", `verdict.batch_seq: log batch 99 of SLA "sla-1" is not anchored`,
		cctest.SignVerdict(t, v, n.EnclaveKey))
	n.AnchorPeriod(s, jan, feb)
	n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 0, 0, 0), n.EnclaveKey))
}

// SettleVerdict pays only the pinned enclave: not a later registration, not
// the old key after a handover, not a key the registry mislabels.
func TestSettlePaysOnlyThePinnedEnclave(t *testing.T) {
	n, s, d := settleSetup(t)
	old, oldID := n.EnclaveKey, n.EnclaveID
	newKey, newID := n.NewEnclave() // the registry's current enclave now
	byNew := n.Verdict(s, d, jan, feb, 0, 0, 0)
	byNew.EnclaveID = newID
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf(`verdict.enclave_id: %s is not the enclave %s pinned by SLA "sla-1"`, newID, oldID), cctest.SignVerdict(t, byNew, newKey))

	// One party's approval does not move the pin.
	n.MustSubmit(n.Provider, AG, "ApproveEnclaveHandover", "sla-1", newID)
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf(`verdict.enclave_id: %s is not the enclave %s pinned by SLA "sla-1"`, newID, oldID), cctest.SignVerdict(t, byNew, newKey))

	// Both parties: the new enclave judges, the old key no longer does.
	n.MustSubmit(n.Client, AG, "ApproveEnclaveHandover", "sla-1", newID)
	byOld := n.Verdict(s, d, jan, feb, 10000, 100000, 0)
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf(`verdict.enclave_id: %s is not the enclave %s pinned by SLA "sla-1"`, oldID, newID), cctest.SignVerdict(t, byOld, old))
	// The old key signing with the new enclave's id does not verify.
	n.ExpectError(n.Client, RF, "SettleVerdict", "verdict: verdict signature does not verify with the enclave key", cctest.SignVerdict(t, withEnclave(byOld, newID), old))
	out := n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, byNew, newKey))
	if got := settlement(t, out); got.EnclaveID != newID || got.Released != 100000 {
		t.Fatalf("settlement %+v", got)
	}
}

func TestSettleRegistryAndAgreementFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(n *cctest.Net)
		want  func(n *cctest.Net) string
	}{
		{"pin holds another enclave's key", func(n *cctest.Net) {
			_, b := n.NewEnclave()
			setPinKey(n, n.Registry.Records[cctest.Enclave][b].EnclaveVK)
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`the pin of enclave %s of chaincode "slaenclave" holds the key of enclave %s`, n.EnclaveID, n.Registry.Current[cctest.Enclave])
		}},
		{"pin holds no public key", func(n *cctest.Net) { setPinKey(n, "junk") }, func(n *cctest.Net) string {
			return fmt.Sprintf(`the pinned enclave %s of chaincode "slaenclave": enclave_vk: not a PEM "PUBLIC KEY" block`, n.EnclaveID)
		}},
		// Pins made before the agreement chaincode copied the key: the registry is asked.
		{"pin without key, pinned enclave not in the registry", func(n *cctest.Net) {
			setPinKey(n, "")
			delete(n.Registry.Records[cctest.Enclave], n.EnclaveID)
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`the pinned enclave %s of chaincode "slaenclave": ercc QueryEnclaveByID: enclave %s of chaincode "slaenclave" is not registered`, n.EnclaveID, n.EnclaveID)
		}},
		{"pin without key, registry answers with another enclave", func(n *cctest.Net) {
			setPinKey(n, "")
			_, b := n.NewEnclave()
			n.Registry.Records[cctest.Enclave][n.EnclaveID] = n.Registry.Records[cctest.Enclave][b]
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`the registry answered with enclave %q of chaincode "slaenclave", not the pinned enclave %s of chaincode "slaenclave"`, n.Registry.Current[cctest.Enclave], n.EnclaveID)
		}},
		{"pin without key, registry record with another key", func(n *cctest.Net) {
			setPinKey(n, "")
			_, b := n.NewEnclave()
			rec := n.Registry.Records[cctest.Enclave][b]
			rec.EnclaveID = n.EnclaveID
			n.Registry.Records[cctest.Enclave][n.EnclaveID] = rec
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`verdict: verdict.enclave_id: %s is not the id of the registered enclave key (%s)`, n.EnclaveID, n.Registry.Current[cctest.Enclave])
		}},
		{"SLA withdrawn", func(n *cctest.Net) {
			n.EditState(AG, cctest.SLAKey("sla-1"), func(m map[string]any) { m["status"] = "WITHDRAWN" })
		}, func(*cctest.Net) string { return `SLA "sla-1" is WITHDRAWN, not ACTIVE or TERMINATED` }},
		{"SLA proposed", func(n *cctest.Net) {
			n.EditState(AG, cctest.SLAKey("sla-1"), func(m map[string]any) { m["status"] = "PROPOSED" })
		}, func(*cctest.Net) string { return `SLA "sla-1" is PROPOSED, not ACTIVE or TERMINATED` }},
		{"SLA without a pinned enclave", func(n *cctest.Net) {
			n.EditState(AG, cctest.SLAKey("sla-1"), func(m map[string]any) { delete(m, "enclave") })
		}, func(*cctest.Net) string { return `SLA "sla-1" has no pinned enclave` }},
		{"SLA not readable", func(n *cctest.Net) {
			n.EditState(AG, cctest.SLAKey("sla-1"), func(m map[string]any) {
				m["parties"].(map[string]any)["provider"].(map[string]any)["msp_id"] = "OtherOrgMSP"
			})
		}, func(*cctest.Net) string {
			return `read SLA "sla-1": agreement GetSettlementView: SLA "sla-1" is readable by OtherOrgMSP and ClientOrgMSP only, not by ProviderOrgMSP`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, s, d := settleSetup(t)
			tc.setup(n)
			n.ExpectError(n.Logger, RF, "SettleVerdict", tc.want(n), cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 0, 0, 0), n.EnclaveKey))
		})
	}
}

// setPinKey sets the enclave key of sla-1's pin ("" removes it, as in a pin
// made before the agreement chaincode copied the key).
func setPinKey(n *cctest.Net, vk string) {
	n.EditState(AG, cctest.SLAKey("sla-1"), func(m map[string]any) {
		pin := m["enclave"].(map[string]any)
		if vk == "" {
			delete(pin, "enclave_vk")
		} else {
			pin["enclave_vk"] = vk
		}
	})
}

// The settlement verifies with the key in the pin and does not ask the
// registry; a pin without a key (made before the agreement chaincode copied
// it) is still settled with the registry's key.
func TestSettleWithThePinnedKey(t *testing.T) {
	t.Run("registry not asked", func(t *testing.T) {
		n, s, d := settleSetup(t)
		delete(n.Registry.Records[cctest.Enclave], n.EnclaveID)
		n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 0, 0, 0), n.EnclaveKey))
	})
	t.Run("pin without key", func(t *testing.T) {
		n, s, d := settleSetup(t)
		setPinKey(n, "")
		n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 0, 0, 0), n.EnclaveKey))
	})
}

// A valid verdict settles only its own SLA.
func TestSettleVerdictOfAnotherSLA(t *testing.T) {
	n := cctest.New(t)
	s1, s2 := cctest.ExampleSLA(t, "sla-1"), cctest.ExampleSLA(t, "sla-2")
	d1 := n.Activate(s1, 200_000)
	d2 := n.Activate(s2, 0)
	n.AnchorPeriod(s1, jan, feb)
	n.AnchorPeriod(s2, jan, feb)
	v1 := n.Verdict(s1, d1, jan, feb, 10000, 100000, 0)

	// The verdict of sla-1 relabelled for sla-2, and signed as such.
	relabelled := v1
	relabelled.SLAID = "sla-2"
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf(`verdict.sla_digest: %s is not the digest of SLA "sla-2" (%s)`, cctest.Hex(d1), cctest.Hex(d2)), cctest.SignVerdict(t, relabelled, n.EnclaveKey))
	// Relabelled without a new signature.
	raw := strings.Replace(cctest.SignVerdict(t, v1, n.EnclaveKey), `"sla_id":"sla-1"`, `"sla_id":"sla-2"`, 1)
	raw = strings.Replace(raw, cctest.Hex(d1), cctest.Hex(d2), 1)
	n.ExpectError(n.Client, RF, "SettleVerdict", "verdict: verdict signature does not verify with the enclave key", raw)
	// A verdict on sla-2 computed from sla-1's batches.
	mixed := n.Verdict(s2, d2, jan, feb, 10000, 100000, 0)
	mixed.BatchCID = v1.BatchCID
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf(`verdict.batch_cid: %s is not the CID %s of log batch 1 of SLA "sla-2"`, v1.BatchCID, cctest.CID("sla-2", 1)), cctest.SignVerdict(t, mixed, n.EnclaveKey))

	n.MustSubmit(n.Client, RF, "SettleVerdict", cctest.SignVerdict(t, v1, n.EnclaveKey))
	n.MustSubmit(n.Client, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s2, d2, jan, feb, 0, 0, 0), n.EnclaveKey))
	if n.Balance("client") != 100_000 || n.Balance("provider") != 100_000 {
		t.Fatalf("balances client %d provider %d", n.Balance("client"), n.Balance("provider"))
	}
}

func TestSettleNoCollateralPenaltyUnpaid(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.Activate(s, 100_000)
	n.AnchorPeriod(s, jan, feb)
	out := n.MustSubmit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 10000, 100000, 500), n.EnclaveKey))
	got := settlement(t, out)
	if got.Credit != 100000 || got.Released != 0 || got.PenaltyUnpaid != 500 || got.Refund != 100000 {
		t.Fatalf("settlement %+v", got)
	}
	if n.Balance("client") != 100000 || n.Balance("provider") != 0 {
		t.Fatal("balances")
	}
}

// scorePagesOfOne reads a score of two settled periods one period a page
// (fn(args..., "1", bookmark) as who): each page holds one period and
// passes ok, there are exactly two pages, and it returns their sum
// (Score.Add).
func scorePagesOfOne(t *testing.T, n *cctest.Net, who *fabricfake.Identity, ok func(refund.Score) bool, fn string, args ...string) refund.Score {
	t.Helper()
	var sum refund.Score
	bookmark := ""
	for pages := 1; ; pages++ {
		var page refund.Score
		_ = json.Unmarshal([]byte(n.MustEvaluate(who, RF, fn, append(args, "1", bookmark)...)), &page)
		if page.Periods != 1 || !ok(page) {
			t.Fatalf("%s page %d: %+v", fn, pages, page)
		}
		if err := sum.Add(&page); err != nil {
			t.Fatal(err)
		}
		if bookmark = page.Bookmark; bookmark == "" {
			if pages != 2 {
				t.Fatalf("%s: %d pages", fn, pages)
			}
			return sum
		}
	}
}
