package refund_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

// FuzzSettleVerdict drives SettleVerdict with any signed verdict JSON, the
// seeds being a valid verdict of an anchored period and variations of it:
// never a panic, and a refusal changes nothing (no partial payment).
func FuzzSettleVerdict(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "sla-1")
	d := n.Activate(s, 300_000)
	n.AnchorPeriod(s, jan, jan15)
	n.AnchorPeriod(s, jan15, feb)
	n.At(afterJanuary)
	good := cctest.SignVerdict(f, n.Verdict(s, d, jan, feb, 1000, 10000, 0), n.EnclaveKey)
	f.Add(good)
	f.Add(strings.Replace(good, `"credit_amount":10000`, `"credit_amount":-1`, 1))
	f.Add(strings.Replace(good, `"sla_id":"sla-1"`, `"sla_id":"sla-2"`, 1))
	f.Add(`{"verdict":{},"signature":""}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, signed string) {
		n.T = t
		n.FuzzCall(t, fabricfake.Call{ID: n.Provider, Chaincode: cctest.Refund, Fn: "SettleVerdict", Args: []string{signed}})
	})
}

// fuzzParty is the SLA party JSON naming id with wallet.
func fuzzParty(id *fabricfake.Identity, wallet string) string {
	return fmt.Sprintf(`{"msp_id":%q,"common_name":%q,"subject":%q,"issuer":%q,"wallet":%q}`, id.MSPID, id.Cert.Subject.CommonName, cctest.DN(id), cctest.IssuerDN(id), wallet)
}

// FuzzDepositEscrow drives DepositEscrow, as the agreement chaincode calls
// it inside a transaction submitted by the client, with any deposit JSON:
// never a panic, and a refusal leaves no write.
func FuzzDepositEscrow(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "sla-1")
	n.Fund(s, 300_000)
	c := n.RefundContract()
	dep := `{"sla_id":"sla-1","period":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":100000,"currency":"USD",` +
		`"payer":` + fuzzParty(n.Client, "client") + `,"provider":` + fuzzParty(n.Provider, "provider") + `,"product_id":"p"}`
	f.Add(dep)
	f.Add(strings.Replace(dep, `"amount":100000`, `"amount":-1`, 1))
	f.Add(strings.Replace(dep, `"product_id":"p"`, `"product_id":"p","expiry":{"verdict_within_seconds":0,"outcome":"split"}`, 1))
	f.Add(strings.Replace(dep, `"product_id":"p"`, `"product_id":"p","sla_digest":"`+strings.Repeat("ab", 32)+`","collateral":4000`, 1))
	f.Add(`{"sla_id":"sla-1"}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, deposit string) {
		n.T = t
		_ = n.FuzzCalled(t, n.Client, cctest.Agreement, cctest.Refund, func(ctx contractapi.TransactionContextInterface) error {
			return c.DepositEscrow(ctx, deposit)
		})
	})
}

// FuzzLockCollateral drives LockCollateral, as the agreement chaincode
// calls it inside a transaction submitted by the provider, with any lock
// JSON: never a panic, and a refusal leaves no write.
func FuzzLockCollateral(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "sla-1")
	s.Consequences.CollateralWallet, s.Consequences.CollateralMinor = "collateral", 4000
	n.Fund(s, 0)
	n.MustSubmit(n.Issuer, cctest.Refund, "Mint", "collateral", "9000")
	c := n.RefundContract()
	lock := `{"sla_id":"sla-1","sla_digest":"` + strings.Repeat("ab", 32) + `","amount":4000,"currency":"USD","wallet":"collateral",` +
		`"provider":` + fuzzParty(n.Provider, "provider") + `,"client":` + fuzzParty(n.Client, "client") + `}`
	f.Add(lock)
	f.Add(strings.Replace(lock, `"amount":4000`, `"amount":9001`, 1))
	f.Add(strings.Replace(lock, `"wallet":"collateral"`, `"wallet":"client"`, 1))
	f.Add(`{"x":1}`)
	f.Fuzz(func(t *testing.T, lockJSON string) {
		n.T = t
		_ = n.FuzzCalled(t, n.Provider, cctest.Agreement, cctest.Refund, func(ctx contractapi.TransactionContextInterface) error {
			return c.LockCollateral(ctx, lockJSON)
		})
	})
}

// FuzzConfigure drives the refund chaincode's Configure with any
// configuration JSON (cctest.FuzzConfigure).
func FuzzConfigure(f *testing.F) { cctest.FuzzConfigure(f, cctest.Refund) }
