package refund_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
)

// auditSums pages through AuditWallets and AuditEscrows as who.
func auditSums(t *testing.T, n *cctest.Net, who *fabricfake.Identity, size string) (wallets []refund.Account, held int64) {
	t.Helper()
	for bookmark := ""; ; {
		var p refund.WalletsPage
		if err := json.Unmarshal([]byte(n.MustEvaluate(who, RF, "AuditWallets", size, bookmark)), &p); err != nil {
			t.Fatal(err)
		}
		wallets = append(wallets, p.Wallets...)
		if bookmark = p.Bookmark; bookmark == "" {
			break
		}
	}
	for bookmark := ""; ; {
		var p refund.EscrowsPage
		if err := json.Unmarshal([]byte(n.MustEvaluate(who, RF, "AuditEscrows", size, bookmark)), &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Escrows {
			held += e.Held
		}
		if bookmark = p.Bookmark; bookmark == "" {
			break
		}
	}
	return wallets, held
}

func supplyOf(t *testing.T, n *cctest.Net) int64 {
	t.Helper()
	var s []refund.Supply
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetSupply")), &s); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, x := range s {
		sum += x.Minted
	}
	return sum
}

// The audit pages recompute the money on the ledger: the wallets and the
// held escrow add up to the supply, until two colluding organizations
// create money from nothing (a credit key of their own), which the audit
// shows.
func TestAudit(t *testing.T) {
	n, _, verdict := attackSetup(t)
	n.MustSubmit(n.Logger, RF, "SettleVerdict", verdict)
	for _, size := range []string{"", "1", "2"} {
		wallets, held := auditSums(t, n, n.Issuer, size)
		var sum int64
		for _, w := range wallets {
			sum += w.Balance
		}
		if len(wallets) != 3 || held != 100_000 || sum+held != supplyOf(t, n) || supplyOf(t, n) != 505_000 {
			t.Fatalf("page size %q: %d wallets, balances %d, held %d, supply %d", size, len(wallets), sum, held, supplyOf(t, n))
		}
	}
	// Vendor and Provider create a credit for the provider's wallet.
	policy, _ := ccpolicy.OwnerAndOneOf(PO, n.Config.Orgs)
	key := fmt.Sprintf("delta/provider/%020d/forged/000", n.World.Now.UnixNano())
	cr, _ := json.Marshal(refund.Credit{Wallet: "provider", Amount: 1_000_000, Kind: refund.KindMint, TxID: "forged", Timestamp: "x"})
	if code := n.Forge(n.Vendor, RF, []string{VO, PO}, func(s shim.ChaincodeStubInterface) {
		_ = s.PutState(key, cr)
		_ = s.SetStateValidationParameter(key, policy)
	}); code != peer.TxValidationCode_VALID {
		t.Fatal(code)
	}
	wallets, held := auditSums(t, n, n.VendorAdmin, "")
	var sum int64
	for _, w := range wallets {
		sum += w.Balance
	}
	if sum+held-supplyOf(t, n) != 1_000_000 {
		t.Fatalf("the audit does not see the forged credit: balances %d + held %d, supply %d", sum, held, supplyOf(t, n))
	}

	// Admins of the issuer and of the configuration's organizations only.
	for _, tc := range []struct {
		who  *fabricfake.Identity
		want string
	}{
		{n.Provider, fmt.Sprintf(`the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Provider))},
		{n.Client, fmt.Sprintf(`the caller %s is not an admin of ClientOrgMSP (NodeOU role "client", admin required)`, cctest.ID(n.Client))},
		{n.OtherAdmin, fmt.Sprintf(`the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP or VendorOrgMSP`, cctest.ID(n.OtherAdmin))},
	} {
		for _, fn := range []string{"AuditWallets", "AuditEscrows", "AuditCollateral"} {
			n.ExpectError(tc.who, RF, fn, "the audit is for admins of the issuer and of the deploy configuration's organizations: "+tc.want, "", "")
		}
	}
	n.MustEvaluate(n.ClientAdmin, RF, "AuditEscrows", "", "")
	escrowKey, _ := shim.CreateCompositeKey("escrow", []string{"sla-1"})
	n.ExpectError(n.Issuer, RF, "AuditWallets", fmt.Sprintf("bookmark: %q is not a bookmark of the account keys", escrowKey), "", escrowKey)
	n.ExpectError(n.Issuer, RF, "AuditEscrows", fmt.Sprintf("bookmark: %q is not a bookmark of the escrow keys", cctest.AccountKey("client")), "", cctest.AccountKey("client"))
	n.ExpectError(n.Issuer, RF, "AuditEscrows", `pageSize: "5000" is not a page size (0 for 100, at most 1000)`, "5000", "")
}

// TestAuditCollateral: the held collateral is part of the money on the
// ledger: wallets + held escrow + held collateral = supply.
func TestAuditCollateral(t *testing.T) {
	n := cctest.New(t)
	for i, amount := range []int64{4000, 2500} {
		s := collateralSLA(t, "refund_client", 0)
		s.ID = fmt.Sprintf("sla-%d", i+1)
		n.Fund(s, 0)
		n.MustSubmit(n.Issuer, RF, "Mint", "collateral", fmt.Sprint(amount))
		s.Consequences.CollateralMinor = amount
		n.MustPropose(s)
	}
	for _, size := range []string{"", "1"} {
		var holds []refund.HoldSummary
		for bookmark := ""; ; {
			var p refund.HoldsPage
			if err := json.Unmarshal([]byte(n.MustEvaluate(n.Issuer, RF, "AuditCollateral", size, bookmark)), &p); err != nil {
				t.Fatal(err)
			}
			holds = append(holds, p.Holds...)
			if bookmark = p.Bookmark; bookmark == "" {
				break
			}
		}
		wallets, held := auditSums(t, n, n.Issuer, size)
		var sum, locked int64
		for _, w := range wallets {
			sum += w.Balance
		}
		for _, h := range holds {
			locked += h.Held
		}
		if len(holds) != 2 || locked != 6500 || held != 0 || sum+held+locked != supplyOf(t, n) {
			t.Fatalf("page size %q: %d holds, locked %d, balances %d, held %d, supply %d", size, len(holds), locked, sum, held, supplyOf(t, n))
		}
	}
	n.ExpectError(n.Issuer, RF, "AuditCollateral", fmt.Sprintf("bookmark: %q is not a bookmark of the hold keys", cctest.AccountKey("client")), "", cctest.AccountKey("client"))
}
