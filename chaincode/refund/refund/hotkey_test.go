package refund_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
)

// No hot key: 1,000 SLAs (150 under -short, as the mutants run) of one
// provider with one client, whose January periods all settle at the same
// moment. The settlements are all simulated
// against the same state and committed in one block, after a transfer out
// of the provider's wallet and a compaction of the client's in the same
// block (both rewrite a wallet's base): every settlement is valid (no MVCC
// or phantom conflict, every key-level and chaincode policy met), and the
// balances are exactly the sums. On two organizations every peer endorses;
// on three (the any-two chaincode policy over ProviderOrg, ClientOrg and
// VendorOrg, as on the Caliper network) each transaction is endorsed by
// exactly the organizations its client names: the SLA's two for the
// settlements (as the round settle-shared-provider does), the owner's and
// the other party's for the transfer and the compaction.
func TestThousandSettlementsOfOneProviderInOneBlock(t *testing.T) {
	every := fabricfake.Endorsers{Every: true}
	parties := fabricfake.EndorsedBy("ProviderOrgMSP", "ClientOrgMSP")
	for _, tc := range []struct {
		name     string
		net      func(testing.TB) *cctest.Net
		endorsed fabricfake.Endorsers
	}{
		{"two organizations", cctest.New, every},
		{"three organizations, the SLA's two endorse", cctest.NewThreeOrgs, parties},
	} {
		t.Run(tc.name, func(t *testing.T) { settleOneBlock(t, tc.net(t), tc.endorsed) })
	}
}

func settleOneBlock(t *testing.T, n *cctest.Net, endorsed fabricfake.Endorsers) {
	slas := int64(1000)
	if testing.Short() {
		slas = 150 // the mutants: tools/mutate runs go test -short
	}
	first := cctest.ExampleSLA(t, "sla-0000")
	fee := first.Price.AmountMinor
	n.Fund(first, slas*fee)
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "1000")
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "1")
	var verdicts []string
	var credits int64
	for i := range slas {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%04d", i))
		n.At(cctest.Start)
		d := n.Activate(s, 0)
		n.AnchorPeriod(s, jan, feb)
		bps := int64(i % 3 * 500) // 0, 5 % or 10 % credit
		credit := fee * bps / 10000
		credits += credit
		verdicts = append(verdicts, cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, bps, credit, 0), n.EnclaveKey))
	}
	n.At(afterJanuary)
	n.World.Now = n.World.Now.Add(time.Hour) // the mints are old enough to compact
	before := account(t, n, "client")
	if before.Balance != 1 {
		t.Fatalf("client after the deposits %+v", before)
	}

	b := n.World.NewBlock()
	b.SubmitEndorsed(endorsed, n.Provider, RF, "Transfer", "provider", "client", "600")
	b.SubmitEndorsed(endorsed, n.Client, RF, "Compact", "client")
	for _, v := range verdicts {
		b.SubmitEndorsed(endorsed, n.Provider, RF, "SettleVerdict", v)
	}
	res := b.Commit()
	codes := map[peer.TxValidationCode]int{}
	for i, r := range res {
		if r.Status != 200 {
			t.Fatalf("transaction %d refused: %s", i, r.Message)
		}
		codes[r.Code]++
		if r.Block != res[0].Block {
			t.Fatal("not one block")
		}
	}
	if int64(codes[peer.TxValidationCode_VALID]) != slas+2 {
		t.Fatalf("validation codes %v", codes)
	}
	released := slas*fee - credits
	if p := account(t, n, "provider"); p.Balance != 1000-600+released || p.PendingCredits != slas+1 {
		t.Fatalf("provider %+v, want balance %d", p, 1000-600+released)
	}
	if c := account(t, n, "client"); c.Balance != 1+600+credits || c.Base != 1 {
		t.Fatalf("client %+v, want balance %d", c, 1+600+credits)
	}
	// The provider's credits (1,001 at full size) compact MaxCompact per transaction.
	n.World.Now = n.World.Now.Add(time.Hour)
	var runs []refund.CompactResult
	for len(runs) == 0 || runs[len(runs)-1].More {
		runs = append(runs, compact(t, n, n.Provider, "provider"))
	}
	pending := slas + 1
	last := runs[len(runs)-1]
	if want := (pending + refund.MaxCompact - 1) / refund.MaxCompact; int64(len(runs)) != want || last.Compacted != pending-(want-1)*refund.MaxCompact ||
		last.Base != 1000-600+released {
		t.Fatalf("compactions %+v, want %d", runs, want)
	}
	if p := account(t, n, "provider"); p.PendingCredits != 0 || p.Balance != last.Base {
		t.Fatalf("provider after compaction %+v", p)
	}
}
