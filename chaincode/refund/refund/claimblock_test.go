package refund_test

import (
	"fmt"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// TestClaimsOfManySLAsInOneBlock: the claim-expired round of the Caliper
// benchmark on the fakes. 100 SLAs, each with a client and a provider
// wallet of its own and an escrow_expiry of 60 s (outcome split, half to
// each party), whose January periods get no verdict; at the deadline the
// client claims every escrow, all simulated against the same state and
// committed in one block, each endorsed by exactly the SLA's two
// organizations of the three (as the workloads name them): every claim is
// valid (no MVCC or phantom conflict, every policy met) and every wallet
// received exactly its half.
func TestClaimsOfManySLAsInOneBlock(t *testing.T) {
	const slas = 100
	n := cctest.NewThreeOrgs(t)
	n.At("2025-12-20T00:00:00Z")
	var fee int64
	for i := 0; i < slas; i++ {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%03d", i))
		s.Parties.Client.Wallet, s.Parties.Provider.Wallet = fmt.Sprintf("c-%03d", i), fmt.Sprintf("p-%03d", i)
		s.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 60, Outcome: sla.ExpirySplit, ClientBPS: 5000}
		fee = s.Price.AmountMinor
		n.Activate(s, fee)
	}
	n.At("2026-02-01T00:01:00Z") // January's end plus 60 s
	b := n.World.NewBlock()
	parties := fabricfake.EndorsedBy("ProviderOrgMSP", "ClientOrgMSP")
	for i := 0; i < slas; i++ {
		b.SubmitEndorsed(parties, n.Client, RF, "ClaimExpiredEscrow", fmt.Sprintf("sla-%03d", i), jan)
	}
	res := b.Commit()
	codes := map[peer.TxValidationCode]int{}
	for i, r := range res {
		if r.Status != 200 {
			t.Fatalf("claim %d refused: %s", i, r.Message)
		}
		if r.Block != res[0].Block {
			t.Fatal("not one block")
		}
		codes[r.Code]++
	}
	if len(res) != slas || codes[peer.TxValidationCode_VALID] != slas {
		t.Fatalf("%d claims, validation codes %v", len(res), codes)
	}
	for i := 0; i < slas; i++ {
		if c, p := n.Balance(fmt.Sprintf("c-%03d", i)), n.Balance(fmt.Sprintf("p-%03d", i)); c != fee/2 || p != fee-fee/2 {
			t.Fatalf("SLA %d: client %d, provider %d; want %d and %d", i, c, p, fee/2, fee-fee/2)
		}
	}
}
