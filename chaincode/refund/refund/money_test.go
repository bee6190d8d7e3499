package refund_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// collateralSLA returns sla-1 with a collateral of 4000 locked from wallet
// "collateral" and a verdict deadline of 7 days (outcome as given).
func collateralSLA(t *testing.T, outcome string, clientBPS int64) *sla.SLA {
	s := cctest.ExampleSLA(t, "sla-1")
	s.Consequences.CollateralWallet = "collateral"
	s.Consequences.CollateralMinor = 4000
	s.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 7 * 24 * 3600, Outcome: outcome, ClientBPS: clientBPS}
	return s
}

func hold(t *testing.T, n *cctest.Net, slaID string) refund.Hold {
	t.Helper()
	var h refund.Hold
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, RF, "GetCollateral", slaID)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func escrowOf(t *testing.T, n *cctest.Net, slaID, period string) refund.Escrow {
	t.Helper()
	var e refund.Escrow
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetEscrow", slaID, period)), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCollateralLockedAtProposal: the proposal locks the collateral, is
// refused when the wallet cannot cover it, and the hold is the provider's
// money out of reach until the SLA is over.
func TestCollateralLockedAtProposal(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	n.Fund(s, 300_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "3999")
	doc, d := cctest.Doc(t, s)
	n.ExpectCallError(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)),
		`lock the collateral of SLA "sla-1": refund LockCollateral: consequences.collateral_minor: the collateral wallet "collateral" holds 3999, less than the collateral 4000 USD of SLA "sla-1"`)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "1001")
	n.MustPropose(s)
	if got := n.Balance("collateral"); got != 1000 {
		t.Fatalf("collateral wallet %d after the lock, want 1000", got)
	}
	h := hold(t, n, "sla-1")
	if h.Status != refund.HoldLocked || h.Held != 4000 || h.Amount != 4000 || h.SLADigest != cctest.Hex(d) || h.Wallet != "collateral" {
		t.Fatalf("hold %+v", h)
	}
	// The provider cannot spend the locked money.
	n.ExpectError(n.Provider, RF, "Transfer", `wallet "collateral": insufficient balance 1000 for 1001`, "collateral", "provider", "1001")
	// Nobody releases it while the SLA is proposed or running.
	n.ExpectError(n.Provider, RF, "ReleaseCollateral", `SLA "sla-1" is PROPOSED: its collateral is released once it has ended, was terminated or was withdrawn`, "sla-1")
	n.MustAccept(s)
	n.ExpectError(n.Client, RF, "ReleaseCollateral", fmt.Sprintf(`SLA "sla-1" is ACTIVE until 2027-01-01T00:00:00Z, after this transaction (%s): its collateral still covers its penalties`, n.World.Now.Format("2006-01-02T15:04:05Z")), "sla-1")
	n.ExpectError(n.Stranger, RF, "ReleaseCollateral", fmt.Sprintf(`the collateral of SLA "sla-1" is released by members of ProviderOrgMSP and ClientOrgMSP only, not by %s`, cctest.ID(n.Stranger)), "sla-1")
	n.ExpectError(n.Stranger, RF, "GetCollateral", `the collateral of SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by `+n.Stranger.MSPID, "sla-1")
	n.ExpectError(n.Provider, RF, "GetCollateral", `SLA "sla-2" has no collateral hold`, "sla-2")
}

// TestWithdrawnReleasesCollateral: a withdrawn proposal's collateral goes
// back at once, and once only.
func TestWithdrawnReleasesCollateral(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	n.Fund(s, 0)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "4000")
	n.MustPropose(s)
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-1", "no thanks")
	out := n.MustSubmit(n.Client, RF, "ReleaseCollateral", "sla-1")
	var h refund.Hold
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.Status != refund.HoldReleased || h.Released != 4000 || h.Held != 0 {
		t.Fatalf("released %s %v", out, err)
	}
	if got := n.Balance("collateral"); got != 4000 {
		t.Fatalf("collateral wallet %d after the release, want 4000", got)
	}
	n.ExpectError(n.Provider, RF, "ReleaseCollateral", fmt.Sprintf(`the collateral of SLA "sla-1" is already released (tx %s)`, h.ReleaseTx), "sla-1")
}

// TestLockCollateralChecks: LockCollateral only from the agreement
// chaincode, by the provider, once.
func TestLockCollateralChecks(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	n.Fund(s, 0)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "9000")
	party := func(id *fabricfake.Identity, wallet string) string {
		return fmt.Sprintf(`{"msp_id":%q,"common_name":%q,"subject":%q,"issuer":%q,"wallet":%q}`, id.MSPID, id.Cert.Subject.CommonName, cctest.DN(id), cctest.IssuerDN(id), wallet)
	}
	lock := `{"sla_id":"sla-1","sla_digest":"` + strings.Repeat("ab", 32) + `","amount":4000,"currency":"USD","wallet":"collateral",` +
		`"provider":` + party(n.Provider, "provider") + `,"client":` + party(n.Client, "client") + `}`
	n.ExpectError(n.Provider, RF, "LockCollateral", `LockCollateral may be called only by the agreement chaincode, not in a transaction of "refund"`, lock)
	c := n.RefundContract()
	impostor := cctest.SameCN(n.ProviderCA2, n.Provider, "client")
	for _, tc := range []struct {
		name string
		id   *fabricfake.Identity
		arg  string
		want string
	}{
		{"unknown field", n.Provider, `{"x":1}`, `lockJSON: json: unknown field "x"`},
		{"no amount", n.Provider, strings.Replace(lock, `"amount":4000`, `"amount":0`, 1), "lock.amount: 0 is not positive"},
		{"bad digest", n.Provider, strings.Replace(lock, strings.Repeat("ab", 32), "AB", 1), `lock.sla_digest: "AB" is not 64 lower-case hex digits`},
		{"not the provider", n.Client, lock, fmt.Sprintf("the submitter %s is not the provider %s: only the provider locks its collateral", cctest.ID(n.Client), cctest.ID(n.Provider))},
		{"same common name", impostor, lock, fmt.Sprintf("the submitter %s is not the provider %s: only the provider locks its collateral", cctest.ID(impostor), cctest.ID(n.Provider))},
		{"short", n.Provider, strings.Replace(lock, `"amount":4000`, `"amount":9001`, 1), `consequences.collateral_minor: the collateral wallet "collateral" holds 9000, less than the collateral 9001 USD of SLA "sla-1"`},
		{"wallet of the client", n.Provider, strings.Replace(lock, `"wallet":"collateral"`, `"wallet":"client"`, 1), fmt.Sprintf(`collateral wallet "client" is owned by %s, not by the collateral %s`, cctest.ID(n.Client), cctest.ID(n.Provider))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := n.World.NewCalledTx(tc.id, cctest.Agreement, RF)
			err := c.LockCollateral(tx.Context(), tc.arg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if tx.PendingWrites() != 0 {
				t.Fatal("failed lock wrote state")
			}
		})
	}
	tx := n.World.NewCalledTx(n.Provider, cctest.Agreement, RF)
	if err := c.LockCollateral(tx.Context(), lock); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	first := tx.ID()
	tx = n.World.NewCalledTx(n.Provider, cctest.Agreement, RF)
	if err := c.LockCollateral(tx.Context(), lock); err == nil || err.Error() != fmt.Sprintf(`the collateral of SLA "sla-1" is already locked (tx %s)`, first) {
		t.Fatalf("second lock: %v", err)
	}
}

// TestDepositNeedsLockedHold: a deposit of an SLA with collateral is
// refused unless its hold is locked with the SLA's digest and amount.
func TestDepositNeedsLockedHold(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	n.Fund(s, 300_000)
	party := func(id *fabricfake.Identity, wallet string) string {
		return fmt.Sprintf(`{"msp_id":%q,"common_name":%q,"subject":%q,"issuer":%q,"wallet":%q}`, id.MSPID, id.Cert.Subject.CommonName, cctest.DN(id), cctest.IssuerDN(id), wallet)
	}
	digest := strings.Repeat("ab", 32)
	dep := `{"sla_id":"sla-1","period":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":100000,"currency":"USD",` +
		`"payer":` + party(n.Client, "client") + `,"provider":` + party(n.Provider, "provider") + `,"product_id":"p","sla_digest":"` + digest + `","collateral":4000}`
	c := n.RefundContract()
	try := func(arg, want string) {
		t.Helper()
		tx := n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
		err := c.DepositEscrow(tx.Context(), arg)
		if err == nil || err.Error() != want {
			t.Fatalf("got %v, want %s", err, want)
		}
		if tx.PendingWrites() != 0 {
			t.Fatal("failed deposit wrote state")
		}
	}
	try(dep, `SLA "sla-1" names a collateral of 4000 but its provider has not locked it (no collateral hold)`)
	try(strings.Replace(dep, `"collateral":4000`, `"collateral":-1`, 1), "deposit.collateral: -1 is negative")
	try(strings.Replace(dep, `"product_id":"p"`, `"product_id":"p","expiry":{"verdict_within_seconds":0,"outcome":"split"}`, 1), "deposit.expiry.verdict_within_seconds: 0 is not 1..31536000")
	try(strings.Replace(dep, `"product_id":"p"`, `"product_id":"p","expiry":{"verdict_within_seconds":60,"outcome":"burn"}`, 1), `deposit.expiry.outcome: "burn" is not refund_client, release_provider or split`)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "5000")
	tx := n.World.NewCalledTx(n.Provider, cctest.Agreement, RF)
	lock := `{"sla_id":"sla-1","sla_digest":"` + digest + `","amount":5000,"currency":"USD","wallet":"collateral",` +
		`"provider":` + party(n.Provider, "provider") + `,"client":` + party(n.Client, "client") + `}`
	if err := c.LockCollateral(tx.Context(), lock); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	try(dep, fmt.Sprintf(`the collateral hold of SLA "sla-1" (LOCKED, digest %s, 5000) is not the locked collateral 4000 of this SLA's digest %s and parties`, digest, digest))
	tx = n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
	if err := c.DepositEscrow(tx.Context(), strings.Replace(dep, `"collateral":4000`, `"collateral":5000`, 1)); err != nil {
		t.Fatal(err)
	}
}

// TestPenaltyFromCollateralHold: a penalty beyond the fee is drawn from the
// hold (the collateral wallet is not touched), at most what it holds; the
// hold goes back after the SLA ended and its last period is settled.
func TestPenaltyFromCollateralHold(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	s.Validity = sla.Validity{Start: jan, End: mar}
	n.Fund(s, 300_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "4500")
	n.At("2025-12-20T00:00:00Z")
	d := n.Activate(s, 0) // January
	n.At("2026-01-05T00:00:00Z")
	n.MustRenew(s) // February
	n.AnchorPeriod(s, jan, feb)
	n.At(afterJanuary)
	clientBefore := n.Balance("client")
	v := n.Verdict(s, d, jan, feb, 10000, 100000, 3000)
	st := settlement(t, n.MustSubmit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, v, n.EnclaveKey)))
	if st.PenaltyPaid != 3000 || st.PenaltyUnpaid != 0 || st.Refund != 103000 {
		t.Fatalf("settlement %+v", st)
	}
	if got := n.Balance("client"); got != clientBefore+103000 {
		t.Fatalf("client %d, want %d", got, clientBefore+103000)
	}
	if got := n.Balance("collateral"); got != 500 {
		t.Fatalf("the collateral wallet paid: %d left, want 500", got)
	}
	if h := hold(t, n, "sla-1"); h.Held != 1000 || h.Drawn != 3000 {
		t.Fatalf("hold %+v", h)
	}
	// February: more penalty than the hold has left.
	n.AnchorPeriod(s, feb, mar)
	n.At("2026-03-01T00:10:00Z")
	n.ExpectError(n.Provider, RF, "ReleaseCollateral", `period 2026-02-01T00:00:00Z of SLA "sla-1" is still in escrow (not settled, expired or refunded): its penalty may still be drawn from the collateral`, "sla-1")
	v = n.Verdict(s, d, feb, mar, 0, 0, 2500)
	st = settlement(t, n.MustSubmit(n.Client, RF, "SettleVerdict", cctest.SignVerdict(t, v, n.EnclaveKey)))
	if st.PenaltyPaid != 1000 || st.PenaltyUnpaid != 1500 {
		t.Fatalf("settlement %+v", st)
	}
	out := n.MustSubmit(n.Provider, RF, "ReleaseCollateral", "sla-1")
	var h refund.Hold
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.Released != 0 || h.Drawn != 4000 || h.Status != refund.HoldReleased {
		t.Fatalf("released %s %v", out, err)
	}
}

// TestSettleNeedsLockedHold: an escrow that names a collateral is settled
// with a penalty only from a locked hold.
func TestSettleNeedsLockedHold(t *testing.T) {
	n := cctest.New(t)
	s := collateralSLA(t, sla.ExpiryRefundClient, 0)
	n.Fund(s, 300_000)
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "4000")
	n.At("2025-12-20T00:00:00Z")
	d := n.Activate(s, 0)
	n.AnchorPeriod(s, jan, feb)
	n.At(afterJanuary)
	n.EditState(RF, holdKeyOf("sla-1"), func(m map[string]any) { m["status"] = refund.HoldReleased })
	v := n.Verdict(s, d, jan, feb, 0, 0, 100)
	n.ExpectError(n.Client, RF, "SettleVerdict", `SLA "sla-1" has no locked collateral hold to pay its penalty from`, cctest.SignVerdict(t, v, n.EnclaveKey))
}

// TestClaimExpiredEscrow: the outcomes, the deadline fixed at the deposit,
// the callers, the reputation's "no verdict", and a late verdict refused.
func TestClaimExpiredEscrow(t *testing.T) {
	for _, tc := range []struct {
		outcome              string
		bps                  int64
		toClient, toProvider int64
		by                   string
	}{
		{sla.ExpiryRefundClient, 0, 100000, 0, "client"},
		{sla.ExpiryReleaseProvider, 0, 0, 100000, "provider"},
		{sla.ExpirySplit, 3333, 33330, 66670, "client"},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			n := cctest.New(t)
			s := collateralSLA(t, tc.outcome, tc.bps)
			n.Fund(s, 300_000)
			n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "4000")
			n.At("2025-12-20T00:00:00Z")
			d := n.Activate(s, 0)
			e := escrowOf(t, n, "sla-1", jan)
			if e.VerdictDeadline != "2026-02-08T00:00:00Z" {
				t.Fatalf("deadline %q", e.VerdictDeadline)
			}
			n.AnchorPeriod(s, jan, feb)
			n.At("2026-02-07T23:59:59Z")
			n.ExpectError(n.Client, RF, "ClaimExpiredEscrow", `period 2026-01-01T00:00:00Z of SLA "sla-1" may get its verdict until 2026-02-08T00:00:00Z, after this transaction (2026-02-07T23:59:59Z)`, "sla-1", jan)
			n.ExpectError(n.Stranger, RF, "ClaimExpiredEscrow", fmt.Sprintf(`the escrow of SLA "sla-1" is claimed by members of ProviderOrgMSP and ClientOrgMSP only, not by %s`, cctest.ID(n.Stranger)), "sla-1", jan)
			n.ExpectError(n.Client, RF, "ClaimExpiredEscrow", `period: no escrow for period 2026-02-01T00:00:00Z of SLA "sla-1"`, "sla-1", feb)
			n.At("2026-02-08T00:00:00Z")
			who := n.Client
			if tc.by == "provider" {
				who = n.Provider
			}
			c, p := n.Balance("client"), n.Balance("provider")
			r := n.Submit(who, RF, "ClaimExpiredEscrow", "sla-1", jan)
			if !r.OK() || r.Event.Name != refund.EventEscrowExpired {
				t.Fatalf("claim: %s", r.Message)
			}
			var x refund.Expiry
			if err := json.Unmarshal(r.Payload, &x); err != nil || x.ToClient != tc.toClient || x.ToProvider != tc.toProvider || x.Outcome != tc.outcome {
				t.Fatalf("expiry %+v %v", x, err)
			}
			if gc, gp := n.Balance("client"), n.Balance("provider"); gc != c+tc.toClient || gp != p+tc.toProvider {
				t.Fatalf("client %d provider %d, want %d %d", gc, gp, c+tc.toClient, p+tc.toProvider)
			}
			// A late verdict is refused; a second claim too.
			v := n.Verdict(s, d, jan, feb, 0, 0, 0)
			n.ExpectError(n.Logger, RF, "SettleVerdict", fmt.Sprintf(`verdict.period: period 2026-01-01T00:00:00Z of SLA "sla-1" expired without a verdict and was claimed (tx %s); it is not settled again`, x.TxID), cctest.SignVerdict(t, v, n.EnclaveKey))
			n.ExpectError(n.Provider, RF, "ClaimExpiredEscrow", fmt.Sprintf(`period 2026-01-01T00:00:00Z of SLA "sla-1" expired without a verdict and was claimed (tx %s); it is not settled again`, x.TxID), "sla-1", jan)
			var sc refund.Score
			if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputation", "ProviderOrgMSP", "", "")), &sc); err != nil || sc.NoVerdict != 1 || sc.Periods != 0 ||
				len(sc.Months) != 1 || sc.Months[0] != (refund.MonthScore{Month: "2026-01", Tally: refund.Tally{NoVerdict: 1}}) {
				t.Fatalf("reputation %+v %v", sc, err)
			}
		})
	}
}

// TestClaimAfterSettlementRefused: a settled period is not claimed, and an
// SLA without escrow_expiry waits for its verdict.
func TestClaimAfterSettlementRefused(t *testing.T) {
	n, s, d := settleSetup(t)
	n.ExpectError(n.Client, RF, "ClaimExpiredEscrow", `SLA "sla-1" has no consequences.escrow_expiry: the escrow of period 2026-01-01T00:00:00Z waits for its verdict`, "sla-1", jan)
	v := n.Verdict(s, d, jan, feb, 0, 0, 0)
	st := settlement(t, n.MustSubmit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, v, n.EnclaveKey)))
	n.ExpectError(n.Client, RF, "ClaimExpiredEscrow", fmt.Sprintf(`period 2026-01-01T00:00:00Z of SLA "sla-1" is already settled (tx %s)`, st.TxID), "sla-1", jan)
}

// TestRefundUnstartedChecks: only from the agreement chaincode, by a party,
// only a held period that has not started.
func TestRefundUnstartedChecks(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.At("2025-12-20T00:00:00Z")
	n.Activate(s, 300_000) // January
	n.ExpectError(n.Client, RF, "RefundUnstarted", `RefundUnstarted may be called only by the agreement chaincode, not in a transaction of "refund"`, "sla-1", jan)
	c := n.RefundContract()
	try := func(id *fabricfake.Identity, period, want string) {
		t.Helper()
		tx := n.World.NewCalledTx(id, cctest.Agreement, RF)
		err := c.RefundUnstarted(tx.Context(), "sla-1", period)
		if err == nil || err.Error() != want {
			t.Fatalf("got %v, want %s", err, want)
		}
		if tx.PendingWrites() != 0 {
			t.Fatal("failed refund wrote state")
		}
	}
	try(n.Logger, jan, fmt.Sprintf(`the submitter %s is neither the provider nor the client of SLA "sla-1"`, cctest.ID(n.Logger)))
	try(n.Client, feb, `period: no escrow for period 2026-02-01T00:00:00Z of SLA "sla-1"`)
	n.At("2026-01-01T00:00:00Z")
	try(n.Client, jan, `period 2026-01-01T00:00:00Z of SLA "sla-1" has started (transaction time 2026-01-01T00:00:00Z): it is judged when it ends, not refunded`)
}

func holdKeyOf(slaID string) string {
	k, _ := shim.CreateCompositeKey("hold", []string{slaID})
	return k
}
