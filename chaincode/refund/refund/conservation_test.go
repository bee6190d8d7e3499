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

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// totals sums the committed wallet balances and held escrow, failing on a
// negative balance.
func totals(t *testing.T, n *cctest.Net) (wallets, escrow int64, settled map[string]int) {
	t.Helper()
	acctPrefix, _ := shim.CreateCompositeKey("account", nil)
	escPrefix, _ := shim.CreateCompositeKey("escrow", nil)
	settled = map[string]int{}
	for _, k := range n.World.Keys(RF) {
		v := n.World.State(RF, k)
		switch {
		case strings.HasPrefix(k, acctPrefix):
			var a refund.Account
			if err := json.Unmarshal(v, &a); err != nil {
				t.Fatal(err)
			}
			if a.Balance < 0 {
				t.Fatalf("wallet %s has negative balance %d", a.ID, a.Balance)
			}
			wallets += a.Balance
		case strings.HasPrefix(k, escPrefix):
			var e refund.Escrow
			if err := json.Unmarshal(v, &e); err != nil {
				t.Fatal(err)
			}
			if e.Held < 0 || (e.Status == refund.EscrowSettled) != (e.Held == 0) {
				t.Fatalf("escrow %s/%s status %s holds %d", e.SLAID, e.Period, e.Status, e.Held)
			}
			escrow += e.Held
			if e.Status == refund.EscrowSettled {
				settled[e.SLAID+"/"+e.Period]++
			}
		}
	}
	return wallets, escrow, settled
}

// TestMoneyConservation runs random operation sequences (seeded) and checks
// after every transaction that wallets + escrow equals the money minted,
// that no balance is negative, and that a settled period stays settled with
// its settlement unchanged. The operations include refused ones: mints by
// non-admins, transfers by non-owners, renewals of started periods,
// settlements before a period's end or without its anchor, and verdicts of
// an enclave that is not (or no longer) pinned, across enclave handovers.
func TestMoneyConservation(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { conservation(t, seed) })
	}
}

func conservation(t *testing.T, seed int64) {
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
		if i == 1 {
			s.Consequences.CollateralWallet = "collateral"
		}
		n.Fund(s, 0)
		slas = append(slas, agreementInfo{s: s})
	}
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "20000")
	minted += 20000
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
	handovers, refusedEarly := 0, 0

	months := []string{"2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"}
	at := func(month int, offset time.Duration) {
		m, _ := time.Parse(time.RFC3339, months[month])
		n.World.Now = m.Add(offset)
	}
	for step := 0; step < 400; step++ {
		month := rng.Intn(len(months) - 1)
		a := slas[rng.Intn(len(slas))]
		switch rng.Intn(7) {
		case 0: // mint, sometimes as an identity that is not an issuer admin
			w := wallets[rng.Intn(len(wallets))]
			amt := rng.Int63n(5000) + 1
			who := []*fabricfake.Identity{n.Issuer, n.Issuer, n.ProviderAdmin, n.IssuerClient, n.ClientAdmin, w.owner}[rng.Intn(6)]
			if n.Submit(who, RF, "Mint", w.id, fmt.Sprint(amt)).OK() {
				minted += amt
			}
		case 1: // transfer, sometimes too much or by the wrong owner
			from, to := wallets[rng.Intn(len(wallets))], wallets[rng.Intn(len(wallets))]
			who := from.owner
			if rng.Intn(5) == 0 {
				who = n.Client
			}
			n.Submit(who, RF, "Transfer", from.id, to.id, fmt.Sprint(rng.Int63n(8000)+1))
		case 2: // renew around a month's start (refused once it has begun), rarely terminate
			at(month, time.Duration(rng.Int63n(int64(96*time.Hour)))-48*time.Hour)
			if rng.Intn(40) == 0 {
				n.Submit(n.Client, cctest.Agreement, "TerminateSLA", a.s.ID, "random")
			} else {
				n.Renew(a.s)
			}
		case 3: // the logger anchors the next month of an SLA once it is over
			if k := anchored[a.s.ID]; k < len(months)-1 {
				n.AnchorPeriod(a.s, months[k], months[k+1])
				anchored[a.s.ID]++
			}
		case 4: // a party approves a handover to one of the two enclaves
			who := []*fabricfake.Identity{n.Provider, n.Client}[rng.Intn(2)]
			before := pinned(a.s.ID)
			n.Submit(who, cctest.Agreement, "ApproveEnclaveHandover", a.s.ID, ids[rng.Intn(2)])
			if pinned(a.s.ID) != before {
				handovers++
			}
		case 5, 6: // settle, sometimes before the period ends, by a key that is not pinned, or a replay
			fee := a.s.Price.AmountMinor
			bps := rng.Int63n(10001)
			if rng.Intn(2) == 0 {
				bps = 0
			}
			credit := fee * bps / 10000
			penalty := int64(0)
			if bps > 0 && rng.Intn(2) == 0 {
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
			r := n.Submit(n.Logger, RF, "SettleVerdict", cctest.SignVerdict(t, v, keys[v.EnclaveID]))
			if early {
				if r.OK() {
					t.Fatalf("step %d: a verdict of %s/%s was settled at %s, before the period ended", step, v.SLAID, v.Period, n.World.Now)
				}
				refusedEarly++
			}
			if r.OK() && v.EnclaveID != pinned(a.s.ID) {
				t.Fatalf("step %d: a verdict of enclave %s settled SLA %s pinned to %s", step, v.EnclaveID, v.SLAID, pinned(a.s.ID))
			}
		}
		w, e, settled := totals(t, n)
		if w+e != minted {
			t.Fatalf("step %d: wallets %d + escrow %d = %d, minted %d", step, w, e, w+e, minted)
		}
		for k, c := range settled {
			if c != 1 {
				t.Fatalf("period %s settled %d times", k, c)
			}
		}
		// A settled escrow record never changes again.
		escPrefix, _ := shim.CreateCompositeKey("escrow", nil)
		for _, k := range n.World.Keys(RF) {
			if !strings.HasPrefix(k, escPrefix) {
				continue
			}
			v := string(n.World.State(RF, k))
			if old, ok := settledBefore[k]; ok && old != v {
				t.Fatalf("settled escrow %q changed", k)
			}
			if strings.Contains(v, `"status":"SETTLED"`) {
				settledBefore[k] = v
			}
		}
	}
	if len(settledBefore) == 0 || handovers == 0 || refusedEarly == 0 {
		t.Fatalf("the sequence tests too little: %d periods settled, %d handovers, %d early settlements", len(settledBefore), handovers, refusedEarly)
	}
}
