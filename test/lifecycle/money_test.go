//go:build integration

package lifecycle

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

// moneySLA is the aws-ec2-region example as SLA id, valid from start for a
// day in 30-second periods, changed by edit.
func moneySLA(t *testing.T, id string, start time.Time, edit func(*sla.SLA)) ([]byte, [32]byte, string) {
	t.Helper()
	s := harness.ExampleSLA(t, "aws-ec2-region", id)
	harness.ShortPeriods(s, start, 24*time.Hour, period)
	edit(s)
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatalf("test SLA: %v", err)
	}
	return doc, d, hex.EncodeToString(d[:])
}

func balance(t *testing.T, who, wallet string) int64 {
	t.Helper()
	return decode[refund.Account](t, evaluate(t, who, "refund", "BalanceOf", wallet)).Balance
}

// wallets are the balances of the three wallets of the test.
type wallets struct{ Client, Provider, Collateral int64 }

func readWallets(t *testing.T) wallets {
	t.Helper()
	return wallets{balance(t, "client", "client"), balance(t, "provider", "provider"), balance(t, "provider", "collateral")}
}

// testMoney: collateral locked at the proposal (refused when short), a
// penalty drawn from it, termination mid-period (the next period refunded),
// expired escrow claimed by each party, a late verdict refused, the
// collateral released after the last period; after each step the wallets
// move by exactly what the step says, and at the end the wallets hold all
// the money minted (no escrow or hold left).
func testMoney(t *testing.T, enc testEnclaveKey) {
	submit(t, "provider", "refund", "OpenAccount", "collateral")
	submit(t, "issuer", "refund", "Mint", "collateral", "5000")
	w := readWallets(t)
	expect := func(step string, want wallets) {
		t.Helper()
		if got := readWallets(t); got != want {
			t.Fatalf("after %s: wallets\n got %+v\nwant %+v", step, got, want)
		}
		w = want
	}

	stamp := time.Now().UnixNano()
	start := time.Now().UTC().Truncate(time.Second).Add(60 * time.Second)
	// m1: collateral 6000, a verdict may take 60 s, else the fee goes back to the client.
	m1 := fmt.Sprintf("money-a-%d", stamp)
	doc1, d1, hex1 := moneySLA(t, m1, start, func(s *sla.SLA) {
		s.Consequences.CollateralWallet = "collateral"
		s.Consequences.CollateralMinor = 6000
		s.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 60, Outcome: sla.ExpiryRefundClient}
	})
	// m2: no collateral; without a verdict the fee is split 50/50.
	m2 := fmt.Sprintf("money-b-%d", stamp)
	doc2, d2, hex2 := moneySLA(t, m2, start, func(s *sla.SLA) {
		s.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 60, Outcome: sla.ExpirySplit, ClientBPS: 5000}
	})

	// ---- The collateral is locked at the proposal, or the proposal fails.
	mustFailSLA(t, "provider", doc1, true, "ProposeSLA",
		fmt.Sprintf(`consequences.collateral_minor: the collateral wallet "collateral" holds 5000, less than the collateral 6000 USD of SLA %q`, m1), net.SignB64(t, "provider", d1[:]))
	expect("a proposal refused for want of collateral", w)
	submit(t, "issuer", "refund", "Mint", "collateral", "2000")
	w.Collateral += 2000
	submitSLA(t, "provider", doc1, true, "ProposeSLA", net.SignB64(t, "provider", d1[:]))
	w.Collateral -= 6000
	expect("the proposal with collateral", w)
	h := decode[refund.Hold](t, evaluate(t, "client", "refund", "GetCollateral", m1))
	if h.Status != refund.HoldLocked || h.Held != 6000 || h.SLADigest != hex1 {
		t.Fatalf("collateral hold %+v", h)
	}
	submitSLA(t, "provider", doc2, true, "ProposeSLA", net.SignB64(t, "provider", d2[:]))
	submitSLA(t, "client", doc1, true, "AcceptSLA", m1, hex1, net.SignB64(t, "client", d1[:]))
	submitSLA(t, "client", doc2, true, "AcceptSLA", m2, hex2, net.SignB64(t, "client", d2[:]))
	w.Client -= 200000
	expect("two acceptances", w)
	mustFail(t, "provider", "refund", "ReleaseCollateral", fmt.Sprintf("SLA %q is ACTIVE until", m1), m1)

	p1, p1End := start, start.Add(period)
	p2, p2End := p1End, p1End.Add(period)
	p3 := p2End
	f := func(t time.Time) string { return t.Format(time.RFC3339) }
	sleepUntil(t, "the first period has begun", p1)
	submitSLA(t, "client", doc1, true, "RenewSLA", m1)
	w.Client -= 100000
	expect("the renewal of the second period", w)

	// ---- Termination mid-period: the next period, paid, is refunded; the current one stays.
	sleepUntil(t, "the first period has ended", p1End)
	submitSLA(t, "client", doc1, true, "RenewSLA", m1)
	w.Client -= 100000
	expect("the renewal of the third period", w)
	submitSLA(t, "client", doc1, false, "TerminateSLA", m1, "moving to another provider")
	w.Client += 100000
	expect("the termination mid-period", w)
	a := readSLA(t, m1)
	if a.Status != agreement.StatusTerminated || a.EndsAt != f(p2End) || a.RefundedPeriod != f(p3) {
		t.Fatalf("terminated SLA: status %s, ends %s, refunded %s", a.Status, a.EndsAt, a.RefundedPeriod)
	}
	if e := decode[refund.Escrow](t, evaluate(t, "client", "refund", "GetEscrow", m1, f(p3))); e.Status != refund.EscrowRefunded || e.Held != 0 {
		t.Fatalf("escrow of the refunded period %+v", e)
	}
	mustFail(t, "provider", "refund", "ReleaseCollateral", fmt.Sprintf("SLA %q is TERMINATED until %s, after this transaction", m1, f(p2End)), m1)

	// ---- A penalty beyond the fee is drawn from the hold, not from the wallet.
	a1 := signedsla.Anchor{SLAID: m1, Seq: 1, CID: "bafymoneyone", PeriodStart: f(p1), PeriodEnd: f(p1End)}
	submitSLA(t, "logger", doc1, false, "AnchorLogBatch", anchorArgs(t, a1, "logger")...)
	v1 := verdict.Verdict{
		SLAID: m1, SLADigest: hex1, Period: f(p1), PeriodEnd: f(p1End), Violated: true, PenaltyAmount: 2500,
		Currency: "USD", ReportDigest: strings.Repeat("ab", 32), BatchSeq: 1, BatchCID: a1.CID, Chaincode: testEnclave, EnclaveID: enc.id,
	}
	s1 := decode[refund.Settlement](t, submit(t, "client", "refund", "SettleVerdict", signVerdict(t, v1, enc.key)))
	if s1.PenaltyPaid != 2500 || s1.Released != 100000 || s1.Refund != 2500 {
		t.Fatalf("settlement %+v", s1)
	}
	w.Client += 2500
	w.Provider += 100000
	expect("a settlement with a penalty from the collateral", w)
	if h = decode[refund.Hold](t, evaluate(t, "provider", "refund", "GetCollateral", m1)); h.Held != 3500 || h.Drawn != 2500 {
		t.Fatalf("collateral hold after the penalty %+v", h)
	}

	// ---- No verdict by the deadline: claims by each party, after the deadline only.
	deadline2 := p1End.Add(60 * time.Second)
	mustFail(t, "client", "refund", "ClaimExpiredEscrow", fmt.Sprintf("period %s of SLA %q may get its verdict until %s, after this transaction", f(p1), m2, f(deadline2)), m2, f(p1))
	sleepUntil(t, "the deadline of the second SLA's period", deadline2)
	x2 := decode[refund.Expiry](t, submit(t, "client", "refund", "ClaimExpiredEscrow", m2, f(p1)))
	if x2.ToClient != 50000 || x2.ToProvider != 50000 || x2.Outcome != sla.ExpirySplit {
		t.Fatalf("claim of the client %+v", x2)
	}
	w.Client += 50000
	w.Provider += 50000
	expect("the client's claim (split)", w)

	deadline1 := p2End.Add(60 * time.Second)
	sleepUntil(t, "the deadline of the terminated SLA's last period", deadline1)
	x1 := decode[refund.Expiry](t, submit(t, "provider", "refund", "ClaimExpiredEscrow", m1, f(p2)))
	if x1.ToClient != 100000 || x1.ToProvider != 0 {
		t.Fatalf("claim of the provider %+v", x1)
	}
	w.Client += 100000
	expect("the provider's claim (refund to the client)", w)

	// A verdict that comes after the claim is refused.
	a2 := signedsla.Anchor{SLAID: m1, Seq: 2, CID: "bafymoneytwo", PrevCID: a1.CID, PeriodStart: f(p2), PeriodEnd: f(p2End)}
	submitSLA(t, "logger", doc1, false, "AnchorLogBatch", anchorArgs(t, a2, "logger")...)
	late := v1
	late.Period, late.PeriodEnd, late.BatchSeq, late.BatchCID, late.PenaltyAmount = f(p2), f(p2End), 2, a2.CID, 1000
	mustFail(t, "client", "refund", "SettleVerdict",
		fmt.Sprintf("verdict.period: period %s of SLA %q expired without a verdict and was claimed (tx %s); it is not settled again", f(p2), m1, x1.TxID), signVerdict(t, late, enc.key))
	expect("a late verdict refused", w)

	// ---- The collateral goes back once the SLA is over and every period is settled or expired.
	rel := decode[refund.Hold](t, submit(t, "provider", "refund", "ReleaseCollateral", m1))
	if rel.Status != refund.HoldReleased || rel.Released != 3500 {
		t.Fatalf("released hold %+v", rel)
	}
	w.Collateral += 3500
	expect("the release of the collateral", w)
	mustFail(t, "client", "refund", "ReleaseCollateral", fmt.Sprintf("the collateral of SLA %q is already released (tx %s)", m1, rel.ReleaseTx), m1)

	// Reputation: the two claimed periods count as "no verdict".
	for _, who := range []string{"client", "provider"} {
		sc := decode[refund.Score](t, evaluate(t, who, "refund", "GetReputation", "ProviderOrgMSP", "", ""))
		if sc.NoVerdict != 2 || sc.Penalties != 2500 {
			t.Fatalf("reputation as %s %+v", who, sc)
		}
	}

	// Conservation: every escrow and hold is empty, so the wallets hold all the money minted.
	var supply []refund.Supply
	if err := json.Unmarshal([]byte(evaluate(t, "client", "refund", "GetSupply")), &supply); err != nil || len(supply) != 1 {
		t.Fatalf("supply %v %v", supply, err)
	}
	if total := w.Client + w.Provider + w.Collateral; total != supply[0].Minted {
		t.Fatalf("wallets %+v hold %d, minted %d", w, total, supply[0].Minted)
	}
}
