package refund_test

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// totals sums the committed wallet bases and credits, the held escrow, the
// collateral holds and the supply, straight from the state, failing on a
// negative balance, escrow or hold, or when the chaincode's BalanceOf does
// not agree with the state.
func totals(t *testing.T, n *cctest.Net) (wallets, escrow, holds, supply int64, settled map[string]int) {
	t.Helper()
	acctPrefix, _ := shim.CreateCompositeKey("account", nil)
	escPrefix, _ := shim.CreateCompositeKey("escrow", nil)
	supPrefix, _ := shim.CreateCompositeKey("supply", nil)
	holdPrefix, _ := shim.CreateCompositeKey("hold", nil)
	settled = map[string]int{}
	balances := map[string]int64{}
	for _, k := range n.World.Keys(RF) {
		v := n.World.State(RF, k)
		switch {
		case strings.HasPrefix(k, acctPrefix):
			var a struct {
				ID   string `json:"id"`
				Base int64  `json:"base"`
			}
			if err := json.Unmarshal(v, &a); err != nil {
				t.Fatal(err)
			}
			balances[a.ID] += a.Base
		case strings.HasPrefix(k, "delta/"):
			var c refund.Credit
			if err := json.Unmarshal(v, &c); err != nil {
				t.Fatal(err)
			}
			if c.Amount <= 0 || !strings.HasPrefix(k, "delta/"+c.Wallet+"/") {
				t.Fatalf("credit %s: %+v", k, c)
			}
			balances[c.Wallet] += c.Amount
		case strings.HasPrefix(k, escPrefix):
			var e refund.Escrow
			if err := json.Unmarshal(v, &e); err != nil {
				t.Fatal(err)
			}
			if e.Held < 0 || (e.Status != refund.EscrowHeld) != (e.Held == 0) {
				t.Fatalf("escrow %s/%s status %s holds %d", e.SLAID, e.Period, e.Status, e.Held)
			}
			// One outcome per period, never two.
			outcomes := 0
			for _, o := range []bool{e.Settlement != nil, e.Expired != nil, e.Refunded != nil} {
				if o {
					outcomes++
				}
			}
			if (e.Status == refund.EscrowHeld) != (outcomes == 0) || outcomes > 1 {
				t.Fatalf("escrow %s/%s status %s has %d outcomes", e.SLAID, e.Period, e.Status, outcomes)
			}
			escrow += e.Held
			if e.Status != refund.EscrowHeld {
				settled[e.SLAID+"/"+e.Period]++
			}
		case strings.HasPrefix(k, holdPrefix):
			var h refund.Hold
			if err := json.Unmarshal(v, &h); err != nil {
				t.Fatal(err)
			}
			if h.Held < 0 || h.Drawn < 0 || h.Released < 0 || h.Held+h.Drawn+h.Released != h.Amount || (h.Status == refund.HoldReleased) != (h.ReleaseTx != "") {
				t.Fatalf("collateral hold of %s: %+v", h.SLAID, h)
			}
			holds += h.Held
		case strings.HasPrefix(k, supPrefix):
			var s refund.Supply
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatal(err)
			}
			supply += s.Minted
		}
	}
	for id, b := range balances {
		if b < 0 {
			t.Fatalf("wallet %s has negative balance %d", id, b)
		}
		if got := n.Balance(id); got != b {
			t.Fatalf("BalanceOf(%s) = %d, the state holds %d", id, got, b)
		}
		wallets += b
	}
	return wallets, escrow, holds, supply, settled
}

// TestMoneyConservation runs random operation sequences (seeded) and checks
// after every block that the wallets (bases and credits) + escrow equal the
// supply on the ledger and the money minted, that no balance is negative,
// and that a settled period stays settled with its settlement unchanged.
// Blocks hold one transaction or several simulated against the same state
// (concurrent settlements, transfers, renewals, compactions and mints: some
// meet MVCC or phantom conflicts and change nothing). The operations
// include refused ones: mints by non-admins, transfers and compactions by
// non-owners, renewals of started periods, settlements before a period's
// end or without its anchor, and verdicts of an enclave that is not (or no
// longer) pinned, across enclave handovers.
func TestMoneyConservation(t *testing.T) {
	var all coverage
	for seed := int64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := conservation(t, seed)
			all.claims += c.claims
			all.claimsEarly += c.claimsEarly
			all.drawn += c.drawn
			all.locks += c.locks
			all.locksShort += c.locksShort
		})
	}
	t.Logf("over all seeds: %d claims, %d early claims refused, %d drawn from collateral holds, %d collateral locks, %d refused for want of collateral",
		all.claims, all.claimsEarly, all.drawn, all.locks, all.locksShort)
	if all.claims == 0 || all.claimsEarly == 0 || all.drawn == 0 || all.locks == 0 || all.locksShort == 0 {
		t.Fatalf("the sequences test too little: %+v", all)
	}
}

// coverage counts what a conservation run exercised.
type coverage struct {
	claims, claimsEarly, locks, locksShort int
	drawn                                  int64
}

// op is one transaction of the conservation test: what to submit, and
// what to check of its result.
type op struct {
	who       *fabricfake.Identity
	cc        string
	fn        string
	args      []string
	transient map[string][]byte
	check     func(step int, r fabricfake.Result)
}

func (o op) call() fabricfake.Call {
	return fabricfake.Call{ID: o.who, Chaincode: o.cc, Fn: o.fn, Args: o.args, Transient: o.transient}
}

func conservation(t *testing.T, seed int64) coverage {
	rng := rand.New(rand.NewSource(seed))
	n := cctest.New(t)
	n.At("2025-12-15T00:00:00Z")
	n.World.Step = 0
	var minted int64
	type agreementInfo struct {
		s      *sla.SLA
		digest [32]byte
	}
	var slas []agreementInfo
	for i := 0; i < 3; i++ {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		s.Price.AmountMinor = int64(1000 * (i + 1))
		s.Consequences.EscrowExpiry = []*sla.EscrowExpiry{
			{VerdictWithinSeconds: 86400, Outcome: sla.ExpirySplit, ClientBPS: 3000},
			{VerdictWithinSeconds: 172800, Outcome: sla.ExpiryRefundClient},
			{VerdictWithinSeconds: 3600, Outcome: sla.ExpiryReleaseProvider},
		}[i]
		switch i {
		case 1: // penalties from a locked collateral hold
			s.Consequences.CollateralWallet = "collateral"
			s.Consequences.CollateralMinor = 4000
		case 2: // penalties from the collateral wallet, as far as it has funds
			s.Consequences.CollateralWallet = "collateral"
		}
		n.Fund(s, 0)
		slas = append(slas, agreementInfo{s: s})
	}
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "20000")
	n.MustSubmit(n.Issuer, RF, "Mint", "collateral", "6000")
	minted += 26000
	for i := range slas {
		slas[i].digest = n.Activate(slas[i].s, 0)
	}
	keyB, idB := n.NewEnclave()
	keys := map[string]*ecdsa.PrivateKey{n.EnclaveID: n.EnclaveKey, idB: keyB}
	ids := []string{n.EnclaveID, idB}
	pinned := func(id string) string {
		var a struct {
			Enclave struct {
				EnclaveID string `json:"enclave_id"`
			} `json:"enclave"`
		}
		if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, cctest.Agreement, "GetSLA", id)), &a); err != nil {
			t.Fatal(err)
		}
		return a.Enclave.EnclaveID
	}
	wallets := []struct {
		id    string
		owner *fabricfake.Identity
	}{{"client", n.Client}, {"provider", n.Provider}, {"collateral", n.Provider}}
	settledBefore := map[string]string{}
	anchored := map[string]int{}
	handovers, refusedEarly, compacted, conflicts, blocks := 0, 0, 0, 0, 0
	claims, claimsEarly, releases, locks, locksShort := 0, 0, 0, 0, 0
	var proposed []string // SLAs proposed with collateral during the run
	var drawn int64
	escPrefix, _ := shim.CreateCompositeKey("escrow", nil)
	// held lists the escrows of an SLA (all when slaID is "") still held.
	held := func(slaID string) []refund.Escrow {
		var out []refund.Escrow
		for _, k := range n.World.Keys(RF) {
			if !strings.HasPrefix(k, escPrefix) {
				continue
			}
			var e refund.Escrow
			if err := json.Unmarshal(n.World.State(RF, k), &e); err != nil {
				t.Fatal(err)
			}
			if e.Status == refund.EscrowHeld && (slaID == "" || e.SLAID == slaID) {
				out = append(out, e)
			}
		}
		return out
	}

	months := []string{"2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"}
	at := func(month int, offset time.Duration) {
		m, _ := time.Parse(time.RFC3339, months[month])
		n.World.Now = m.Add(offset)
	}
	noCheck := func(int, fabricfake.Result) {}
	// money returns a random money operation (it may set the time).
	money := func() op {
		month := rng.Intn(len(months) - 1)
		a := slas[rng.Intn(len(slas))]
		switch rng.Intn(10) {
		case 0: // mint, sometimes as an identity that is not an issuer admin
			w := wallets[rng.Intn(len(wallets))]
			amt := rng.Int63n(5000) + 1
			who := []*fabricfake.Identity{n.Issuer, n.Issuer, n.ProviderAdmin, n.IssuerClient, n.ClientAdmin, w.owner}[rng.Intn(6)]
			return op{who, RF, "Mint", []string{w.id, fmt.Sprint(amt)}, nil, func(_ int, r fabricfake.Result) {
				if r.OK() {
					minted += amt
				}
			}}
		case 1: // transfer, sometimes too much or by the wrong owner
			from, to := wallets[rng.Intn(len(wallets))], wallets[rng.Intn(len(wallets))]
			who := from.owner
			if rng.Intn(5) == 0 {
				who = n.Client
			}
			return op{who, RF, "Transfer", []string{from.id, to.id, fmt.Sprint(rng.Int63n(8000) + 1)}, nil, noCheck}
		case 2: // renew around a month's start (refused once it has begun): a deposit
			at(month, time.Duration(rng.Int63n(int64(96*time.Hour)))-48*time.Hour)
			doc, _ := cctest.Doc(t, a.s)
			c := cctest.WithDocument(n.Client, doc, "RenewSLA", a.s.ID)
			return op{c.ID, c.Chaincode, c.Fn, c.Args, c.Transient, noCheck}
		case 3: // compact, sometimes by somebody else
			w := wallets[rng.Intn(len(wallets))]
			who := w.owner
			if rng.Intn(5) == 0 {
				who = n.Client
			}
			return op{who, RF, "Compact", []string{w.id}, nil, func(_ int, r fabricfake.Result) {
				var res refund.CompactResult
				if r.OK() && json.Unmarshal(r.Payload, &res) == nil && res.Compacted > 0 {
					compacted++
				}
			}}
		case 6: // claim an expired escrow, sometimes before its deadline or by a third organization
			at(month+1, time.Duration(rng.Int63n(int64(76*time.Hour)))-4*time.Hour)
			who := []*fabricfake.Identity{n.Client, n.Provider, n.Logger, n.Stranger}[rng.Intn(4)]
			end, _ := time.Parse(time.RFC3339, months[month+1])
			deadline := end.Add(time.Duration(a.s.Consequences.EscrowExpiry.VerdictWithinSeconds) * time.Second)
			early := n.World.Now.Before(deadline)
			return op{who, RF, "ClaimExpiredEscrow", []string{a.s.ID, months[month]}, nil, func(step int, r fabricfake.Result) {
				if !r.OK() {
					if early && strings.Contains(r.Message, "may get its verdict until") {
						claimsEarly++
					}
					return
				}
				if early || who == n.Stranger {
					t.Fatalf("step %d: %s claimed the escrow of %s/%s at %s (deadline %s)", step, who.MSPID, a.s.ID, months[month], n.World.Now, deadline)
				}
				claims++
			}}
		case 7: // release a collateral, allowed only once the SLA is over and every period is settled
			at(month+1, time.Duration(rng.Int63n(int64(30*24*time.Hour))))
			who := []*fabricfake.Identity{n.Client, n.Provider, n.Stranger}[rng.Intn(3)]
			id := slas[1].s.ID
			if len(proposed) > 0 && rng.Intn(2) == 0 {
				id = proposed[rng.Intn(len(proposed))]
			}
			return op{who, RF, "ReleaseCollateral", []string{id}, nil, func(step int, r fabricfake.Result) {
				if !r.OK() {
					return
				}
				if h := held(id); len(h) > 0 || who == n.Stranger {
					t.Fatalf("step %d: the collateral of %s was released by %s with %d periods held", step, id, who.MSPID, len(h))
				}
				releases++
			}}
		case 8: // a provider proposes an SLA with collateral: a lock, refused when the wallet is short
			s := cctest.ExampleSLA(t, fmt.Sprintf("col-%d-%d", seed, len(proposed)+rng.Intn(1000000)))
			s.Consequences.CollateralWallet = "collateral"
			s.Consequences.CollateralMinor = rng.Int63n(6000) + 1
			s.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 3600, Outcome: sla.ExpiryRefundClient}
			at(month, time.Duration(rng.Int63n(int64(20*24*time.Hour))))
			doc, d := cctest.Doc(t, s)
			c := cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d))
			return op{c.ID, c.Chaincode, c.Fn, c.Args, c.Transient, func(step int, r fabricfake.Result) {
				switch {
				case r.OK():
					proposed = append(proposed, s.ID)
					locks++
				case strings.Contains(r.Message, "consequences.collateral_minor: the collateral wallet"):
					locksShort++
				}
			}}
		case 9: // a party withdraws a proposal with collateral
			if len(proposed) == 0 {
				return op{n.Client, RF, "GetSupply", nil, nil, noCheck}
			}
			who := []*fabricfake.Identity{n.Client, n.Provider}[rng.Intn(2)]
			return op{who, cctest.Agreement, "TerminateSLA", []string{proposed[rng.Intn(len(proposed))], "withdrawn"}, nil, noCheck}
		default: // settle, sometimes before the period ends, by a key that is not pinned, or a replay
			fee := a.s.Price.AmountMinor
			bps := rng.Int63n(10001)
			if rng.Intn(2) == 0 {
				bps = 0
			}
			credit := fee * bps / 10000
			penalty := int64(0)
			if rng.Intn(2) == 0 {
				penalty = rng.Int63n(3000)
			}
			at(month+1, time.Duration(rng.Int63n(int64(26*time.Hour)))-2*time.Hour)
			early := rng.Intn(5) == 0
			if early {
				at(month+1, -time.Duration(rng.Int63n(int64(48*time.Hour)))-time.Second)
			}
			v := n.Verdict(a.s, a.digest, months[month], months[month+1], bps, credit, penalty)
			v.EnclaveID = pinned(a.s.ID)
			if rng.Intn(4) == 0 {
				v.EnclaveID = ids[rng.Intn(2)]
			}
			return op{n.Logger, RF, "SettleVerdict", []string{cctest.SignVerdict(t, v, keys[v.EnclaveID])}, nil, func(step int, r fabricfake.Result) {
				if early {
					if r.OK() {
						t.Fatalf("step %d: a verdict of %s/%s was settled at %s, before the period ended", step, v.SLAID, v.Period, n.World.Now)
					}
					refusedEarly++
				}
				if r.OK() && v.EnclaveID != pinned(a.s.ID) {
					t.Fatalf("step %d: a verdict of enclave %s settled SLA %s pinned to %s", step, v.EnclaveID, v.SLAID, pinned(a.s.ID))
				}
			}}
		}
	}
	for step := 0; step < 400; step++ {
		a := slas[rng.Intn(len(slas))]
		switch rng.Intn(8) {
		case 0: // rarely terminate
			if rng.Intn(10) == 0 {
				who := []*fabricfake.Identity{n.Client, n.Provider}[rng.Intn(2)]
				n.Submit(who, cctest.Agreement, "TerminateSLA", a.s.ID, "random")
			}
		case 1: // the logger anchors the next month of an SLA once it is over
			if k := anchored[a.s.ID]; k < len(months)-1 {
				n.AnchorPeriod(a.s, months[k], months[k+1])
				anchored[a.s.ID]++
			}
		case 2: // a party approves a handover to one of the two enclaves
			who := []*fabricfake.Identity{n.Provider, n.Client}[rng.Intn(2)]
			before := pinned(a.s.ID)
			n.Submit(who, cctest.Agreement, "ApproveEnclaveHandover", a.s.ID, ids[rng.Intn(2)])
			if pinned(a.s.ID) != before {
				handovers++
			}
		case 3, 4: // several money operations simulated against one state, in one block
			b := n.World.NewBlock()
			var ops []op
			for k := 0; k < 2+rng.Intn(5); k++ {
				o := money()
				ops = append(ops, o)
				b.SubmitCall(fabricfake.Endorsers{Every: true}, o.call())
			}
			blocks++
			for i, r := range b.Commit() {
				if r.Code != peer.TxValidationCode_VALID {
					conflicts++
					// Two transactions of a block that create the same key
					// with its policy (two compactions of a wallet, two
					// deposits of a period): Fabric invalidates the second
					// for the policy set by the first before its MVCC check.
					samePolicy := r.Code == peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE && strings.Contains(r.Reason, "was set by an earlier transaction of block")
					if r.Code != peer.TxValidationCode_MVCC_READ_CONFLICT && r.Code != peer.TxValidationCode_PHANTOM_READ_CONFLICT && !samePolicy {
						t.Fatalf("step %d: %s %s: %s", step, ops[i].fn, r.Code, r.Reason)
					}
				}
				ops[i].check(step, r)
			}
		default:
			o := money()
			o.check(step, n.World.SubmitCall(o.call()))
		}
		conserved := func(step int) {
			w, e, h, sup, settled := totals(t, n)
			if w+e+h != minted || sup != minted {
				t.Fatalf("step %d: wallets %d + escrow %d + holds %d = %d, supply %d, minted %d", step, w, e, h, w+e+h, sup, minted)
			}
			for k, c := range settled {
				if c != 1 {
					t.Fatalf("period %s settled %d times", k, c)
				}
			}
			// A settled, expired or refunded escrow record never changes
			// again: a late verdict after a claim, or a claim after a
			// settlement, changes nothing.
			for _, k := range n.World.Keys(RF) {
				if !strings.HasPrefix(k, escPrefix) {
					continue
				}
				v := string(n.World.State(RF, k))
				if old, ok := settledBefore[k]; ok && old != v {
					t.Fatalf("step %d: escrow %q changed after its outcome", step, k)
				}
				if !strings.Contains(v, `"status":"HELD"`) {
					settledBefore[k] = v
				}
			}
		}
		conserved(step)
		if step == 399 {
			// Nothing stays stuck: terminate what is active, claim every
			// escrow left once its deadline has passed, release the
			// collateral. Then all money is in wallets.
			n.At("2026-06-20T00:00:00Z")
			for _, a := range slas {
				n.Submit(n.Provider, cctest.Agreement, "TerminateSLA", a.s.ID, "the end")
			}
			n.At("2026-07-10T00:00:00Z")
			for _, e := range held("") {
				n.MustSubmit(n.Client, RF, "ClaimExpiredEscrow", e.SLAID, e.Period)
				claims++
			}
			var h refund.Hold
			if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, RF, "GetCollateral", slas[1].s.ID)), &h); err != nil {
				t.Fatal(err)
			}
			drawn = h.Drawn
			if h.Status == refund.HoldLocked {
				n.MustSubmit(n.Provider, RF, "ReleaseCollateral", slas[1].s.ID)
				releases++
			}
			for _, id := range proposed {
				n.Submit(n.Client, cctest.Agreement, "TerminateSLA", id, "the end")
				if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, RF, "GetCollateral", id)), &h); err != nil {
					t.Fatal(err)
				}
				if h.Status == refund.HoldLocked {
					n.MustSubmit(n.Provider, RF, "ReleaseCollateral", id)
					releases++
				}
			}
			conserved(step)
			if w, e, hs, _, _ := totals(t, n); e != 0 || hs != 0 || w != minted {
				t.Fatalf("after the end: wallets %d, escrow %d, holds %d, minted %d", w, e, hs, minted)
			}
		}
	}
	t.Logf("%d periods settled or claimed, %d handovers, %d early settlements refused, %d compactions, %d blocks, %d conflicts, %d claims (%d early refused), %d releases, %d drawn from the collateral, %d locks (%d short)",
		len(settledBefore), handovers, refusedEarly, compacted, blocks, conflicts, claims, claimsEarly, releases, drawn, locks, locksShort)
	if len(settledBefore) == 0 || handovers == 0 || refusedEarly == 0 || compacted == 0 || conflicts == 0 || releases == 0 {
		t.Fatalf("the sequence tests too little: %d periods settled, %d handovers, %d early settlements, %d compactions, %d conflicts, %d claims, %d releases", len(settledBefore), handovers, refusedEarly, compacted, conflicts, claims, releases)
	}
	return coverage{claims: claims, claimsEarly: claimsEarly, drawn: drawn, locks: locks, locksShort: locksShort}
}
