package refund_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
)

const (
	PO = "ProviderOrgMSP"
	CO = "ClientOrgMSP"
	VO = "VendorOrgMSP"
)

func account(t *testing.T, n *cctest.Net, wallet string) refund.Account {
	t.Helper()
	var a refund.Account
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Issuer, RF, "BalanceOf", wallet)), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func compact(t *testing.T, n *cctest.Net, who *fabricfake.Identity, wallet string) refund.CompactResult {
	t.Helper()
	var r refund.CompactResult
	if err := json.Unmarshal([]byte(n.MustSubmit(who, RF, "Compact", wallet)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// walletsWithMoney opens client and provider and mints 1000 to the client
// and 500 to the provider, at Start.
func walletsWithMoney(t *testing.T, n *cctest.Net) {
	t.Helper()
	n.MustSubmit(n.Client, RF, "OpenAccount", "client")
	n.MustSubmit(n.Provider, RF, "OpenAccount", "provider")
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "1000")
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "500")
}

// Compact moves the credits older than twice the clock skew into the base
// and the history; only the owner compacts.
func TestCompact(t *testing.T) {
	n := cctest.New(t)
	walletsWithMoney(t, n)
	n.MustSubmit(n.Client, RF, "Transfer", "client", "provider", "300")
	for _, who := range []*fabricfake.Identity{n.Client, n.Issuer, n.Logger, cctest.SameCN(n.ProviderCA2, n.Provider, "client"), cctest.SameCN(n.ProviderCA, n.Provider, "admin")} {
		n.ExpectError(who, RF, "Compact", fmt.Sprintf(`wallet "provider" is owned by %s, not by the submitter %s`, cctest.ID(n.Provider), cctest.ID(who)), "provider")
	}
	n.ExpectError(n.Provider, RF, "Compact", `wallet "ghost" does not exist`, "ghost")
	// The credits are younger than twice the skew (10 minutes): nothing to do.
	if r := compact(t, n, n.Provider, "provider"); r.Compacted != 0 || r.Base != 0 || r.More {
		t.Fatalf("early compaction %+v", r)
	}
	if a := account(t, n, "provider"); a.Base != 0 || a.Pending != 800 || a.PendingCredits != 2 || a.Balance != 800 {
		t.Fatalf("provider %+v", a)
	}
	n.World.Now = n.World.Now.Add(10*time.Minute + time.Second)
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "7") // a young credit stays pending
	r := compact(t, n, n.Provider, "provider")
	if r.Compacted != 2 || r.Amount != 800 || r.Base != 800 || r.More || r.Skipped != 0 {
		t.Fatalf("compaction %+v", r)
	}
	if a := account(t, n, "provider"); a.Base != 800 || a.Pending != 7 || a.PendingCredits != 1 || a.Balance != 807 {
		t.Fatalf("provider %+v", a)
	}
	// The client's base went negative with the transfer; its mint covers it.
	if a := account(t, n, "client"); a.Base != -300 || a.Balance != 700 {
		t.Fatalf("client %+v", a)
	}
	if r := compact(t, n, n.Client, "client"); r.Compacted != 1 || r.Base != 700 {
		t.Fatalf("client compaction %+v", r)
	}
	h := history(t, n, n.Provider, "provider", "", "")
	if len(h.Entries) != 3 || h.Entries[0].Kind != refund.KindMint || h.Entries[0].Amount != 500 || h.Entries[0].CompactedTx == "" ||
		h.Entries[1].Kind != refund.KindTransferIn || h.Entries[1].Amount != 300 || h.Entries[1].Pending ||
		h.Entries[2].Amount != 7 || !h.Entries[2].Pending {
		t.Fatalf("history %+v", h)
	}
	// History entries keep the wallet's policy; a compacted credit is gone
	// with its policy.
	for _, k := range n.World.Keys(RF) {
		if strings.HasPrefix(k, "entry/provider/") {
			if p := fabricfake.DescribePolicy(n.World.ValidationParameter(RF, k)); p != "OutOf(2, 'ProviderOrgMSP.peer', OutOf(1, 'ClientOrgMSP.peer'))" {
				t.Fatalf("entry %s policy %s", k, p)
			}
		}
	}
}

// One Compact folds at most MaxCompact credits and says when more remain.
func TestCompactBatches(t *testing.T) {
	n := cctest.New(t)
	walletsWithMoney(t, n)
	for i := 0; i < refund.MaxCompact+1; i++ { // mints update the supply: one at a time
		n.MustSubmit(n.Issuer, RF, "Mint", "provider", "1")
	}
	n.World.Now = n.World.Now.Add(time.Hour)
	if r := compact(t, n, n.Provider, "provider"); r.Compacted != refund.MaxCompact || !r.More || r.Amount != refund.MaxCompact-1+500 {
		t.Fatalf("first %+v", r)
	}
	if r := compact(t, n, n.Provider, "provider"); r.Compacted != 2 || r.More || r.Base != refund.MaxCompact+1+500 {
		t.Fatalf("second %+v", r)
	}
}

// Keys that two colluding organizations plant in a wallet's credit range
// (they can create any new key) neither lower its balance nor block its
// compaction: a credit counts only with a positive amount, its own wallet
// and transaction, the wallet's policy, and no history entry of its name.
func TestPlantedCredits(t *testing.T) {
	n := cctest.NewThreeOrgs(t)
	walletsWithMoney(t, n)
	n.World.Now = n.World.Now.Add(time.Hour)
	compact(t, n, n.Client, "client")
	if a := account(t, n, "client"); a.Base != 1000 || a.Balance != 1000 {
		t.Fatalf("client %+v", a)
	}
	var folded string
	for _, k := range n.World.Keys(RF) {
		if strings.HasPrefix(k, "entry/client/") {
			folded = "delta/" + strings.TrimPrefix(k, "entry/")
		}
	}
	clientPolicy, _ := ccpolicy.OwnerAndOneOf(CO, n.Config.Orgs)
	foreign, _ := ccpolicy.AllOf(VO, PO)
	peerless, _ := ccpolicy.OwnerAndOneOf(CO, []string{"OtherOrgMSP"})
	vendorOwned, _ := ccpolicy.OwnerAndOneOf(VO, n.Config.Orgs)
	ts := fmt.Sprintf("%020d", n.World.Now.Add(-time.Hour).UnixNano())
	credit := func(wallet string, amount int64, tx string) []byte {
		b, _ := json.Marshal(refund.Credit{Wallet: wallet, Amount: amount, Kind: "mint", TxID: tx, Timestamp: "2025-12-01T00:00:00Z"})
		return b
	}
	for _, tc := range []struct {
		name   string
		key    string
		value  []byte
		policy []byte
	}{
		{"negative amount", "delta/client/" + ts + "/evil1/000", credit("client", -900, "evil1"), clientPolicy},
		{"zero amount", "delta/client/" + ts + "/evil2/000", credit("client", 0, "evil2"), clientPolicy},
		{"another wallet's credit", "delta/client/" + ts + "/evil3/000", credit("provider", 900, "evil3"), clientPolicy},
		{"another transaction", "delta/client/" + ts + "/evil4/000", credit("client", 900, "other"), clientPolicy},
		{"not a credit", "delta/client/" + ts + "/evil5/000", []byte(`{"amount":900}`), clientPolicy},
		{"malformed key", "delta/client/" + ts + "/evil6", credit("client", 900, ""), clientPolicy},
		{"foreign policy", "delta/client/" + ts + "/evil7/000", credit("client", 900, "evil7"), foreign},
		{"no policy", "delta/client/" + ts + "/evil8/000", credit("client", 900, "evil8"), nil},
		{"another owner's wallet policy", "delta/client/" + ts + "/evil10/000", credit("client", 900, "evil10"), vendorOwned},
		{"co-endorser without a peer", "delta/client/" + ts + "/evil9/000", credit("client", 900, "evil9"), peerless},
		{"a compacted credit again", folded, credit("client", 1000, strings.Split(folded, "/")[3]), clientPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Vendor and Provider meet the chaincode policy: the key is created.
			code := n.Forge(n.Vendor, RF, []string{VO, PO}, func(stub shim.ChaincodeStubInterface) {
				_ = stub.PutState(tc.key, tc.value)
				if tc.policy != nil {
					_ = stub.SetStateValidationParameter(tc.key, tc.policy)
				}
			})
			if code != peer.TxValidationCode_VALID || n.World.State(RF, tc.key) == nil {
				t.Fatalf("planting: %s", code)
			}
			if a := account(t, n, "client"); a.Balance != 1000 || a.PendingCredits != 0 {
				t.Fatalf("client %+v", a)
			}
			if h := history(t, n, n.Client, "client", "", ""); len(h.Entries) != 1 {
				t.Fatalf("history %+v", h)
			}
			// The owner still spends exactly its money, and compacts.
			n.ExpectError(n.Client, RF, "Transfer", `wallet "client": insufficient balance 1000 for 1001`, "client", "provider", "1001")
			if r := compact(t, n, n.Client, "client"); r.Compacted != 0 || r.Skipped == 0 {
				t.Fatalf("compaction %+v", r)
			}
		})
	}
}

// A supply key of the issuer that this chaincode did not create (two
// colluding organizations can create it before the first Mint) stops the
// mints instead of being used.
func TestSupplyPolicy(t *testing.T) {
	n := cctest.NewThreeOrgs(t)
	walletsWithMoney(t, n)
	sk, _ := shim.CreateCompositeKey("supply", []string{PO})
	if p := fabricfake.DescribePolicy(n.World.ValidationParameter(RF, sk)); p != "OutOf(1, 'ProviderOrgMSP.peer')" {
		t.Fatalf("supply policy %s", p)
	}
	var sup []refund.Supply
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetSupply")), &sup); err != nil || len(sup) != 1 || sup[0].Minted != 1500 || sup[0].IssuerMSPID != PO {
		t.Fatalf("supply %+v %v", sup, err)
	}

	n2 := cctest.NewThreeOrgs(t)
	n2.MustSubmit(n2.Client, RF, "OpenAccount", "client")
	squat, _ := ccpolicy.AllOf(CO, VO)
	if code := n2.Forge(n2.Vendor, RF, []string{VO, CO}, func(stub shim.ChaincodeStubInterface) {
		_ = stub.PutState(sk, []byte(`{"issuer_msp_id":"ProviderOrgMSP","minted":0,"tx_id":"x","updated_at":"x"}`))
		_ = stub.SetStateValidationParameter(sk, squat)
	}); code != peer.TxValidationCode_VALID {
		t.Fatal(code)
	}
	n2.ExpectError(n2.Issuer, RF, "Mint", "the supply key of ProviderOrgMSP does not carry the policy of the issuer's organization: it was not created by this chaincode; the organizations must investigate (see its creating transaction)", "client", "5")
}

func TestHistoryPages(t *testing.T) {
	n := cctest.New(t)
	walletsWithMoney(t, n)
	for i := 1; i <= 4; i++ {
		n.MustSubmit(n.Client, RF, "Transfer", "client", "provider", fmt.Sprint(i))
	}
	n.World.Now = n.World.Now.Add(time.Hour)
	compact(t, n, n.Provider, "provider") // 5 entries, then 2 pending credits
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "10")
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "20")
	all := history(t, n, n.Provider, "provider", "", "")
	if len(all.Entries) != 7 || all.Bookmark != "" || !all.Entries[5].Pending || all.Entries[6].Amount != 20 {
		t.Fatalf("history %+v", all)
	}
	for _, size := range []string{"1", "2", "3", "5", "7"} {
		var got []refund.Entry
		bookmark := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("no end")
			}
			p := history(t, n, n.Provider, "provider", size, bookmark)
			got = append(got, p.Entries...)
			if p.Bookmark == "" {
				break
			}
			bookmark = p.Bookmark
		}
		if fmt.Sprint(got) != fmt.Sprint(all.Entries) {
			t.Fatalf("pages of %s: %+v", size, got)
		}
	}
	n.ExpectError(n.Provider, RF, "History", `bookmark: "delta/client/0" is not a bookmark of the history of wallet "provider"`, "provider", "", "delta/client/0")
	n.ExpectError(n.Provider, RF, "History", `bookmark: "entry/client/0" is not a bookmark of the history of wallet "provider"`, "provider", "", "entry/client/0")
	n.ExpectError(n.Provider, RF, "History", `pageSize: "1001" is not a page size (0 for 100, at most 1000)`, "provider", "1001", "")
	n.ExpectError(n.Provider, RF, "History", `pageSize: "-1" is not a page size (0 for 100, at most 1000)`, "provider", "-1", "")
}

// HistoryFrom is the part of History at or after a time, in the same order
// and pages, and accepts only bookmarks in that part.
func TestHistoryFrom(t *testing.T) {
	n := cctest.New(t)
	walletsWithMoney(t, n)
	var times []time.Time
	for i := 1; i <= 4; i++ {
		n.World.Now = n.World.Now.Add(time.Minute)
		times = append(times, n.World.Now)
		n.MustSubmit(n.Client, RF, "Transfer", "client", "provider", fmt.Sprint(i))
	}
	n.World.Now = n.World.Now.Add(time.Hour)
	compact(t, n, n.Provider, "provider")
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "10")
	n.World.Now = n.World.Now.Add(time.Minute)
	times = append(times, n.World.Now)
	n.MustSubmit(n.Issuer, RF, "Mint", "provider", "20")
	all := history(t, n, n.Provider, "provider", "", "")
	walk := func(from, size string) []refund.Entry {
		var got []refund.Entry
		for bookmark, pages := "", 0; ; pages++ {
			if pages > 10 {
				t.Fatal("no end")
			}
			var p refund.HistoryPage
			if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, RF, "HistoryFrom", "provider", from, size, bookmark)), &p); err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Entries...)
			if p.Bookmark == "" {
				return got
			}
			bookmark = p.Bookmark
		}
	}
	for _, from := range append([]time.Time{time.Unix(0, 0)}, times...) {
		var want []refund.Entry
		for _, e := range all.Entries {
			at, err := time.Parse(time.RFC3339Nano, e.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			if !at.Before(from) {
				want = append(want, e)
			}
		}
		if from.Equal(times[2]) && (len(want) != 4 || !want[2].Pending || want[3].Amount != 20) {
			t.Fatalf("from the third transfer: %+v", want)
		}
		for _, size := range []string{"1", "2", "3", "7", ""} {
			if got := walk(from.Format(time.RFC3339Nano), size); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("from %s in pages of %q: %+v, want %+v", from, size, got, want)
			}
		}
	}
	from := times[2].Format(time.RFC3339Nano)
	for _, bm := range []string{"entry/provider/0", "delta/provider/0", "entry/client/" + fmt.Sprintf("%020d", times[3].UnixNano())} {
		n.ExpectError(n.Provider, RF, "HistoryFrom", fmt.Sprintf(`bookmark: %q is not a bookmark of the history of wallet "provider"`, bm), "provider", from, "", bm)
	}
	n.ExpectError(n.Provider, RF, "HistoryFrom", `from: "2026-13-01" is not an RFC 3339 time`, "provider", "2026-13-01", "", "")
	n.ExpectError(n.Provider, RF, "HistoryFrom", `from: "1969-12-31T23:59:59Z" is outside the times a wallet key holds (1970 to 2262)`, "provider", "1969-12-31T23:59:59Z", "", "")
	n.ExpectError(n.Provider, RF, "HistoryFrom", `pageSize: "1001" is not a page size (0 for 100, at most 1000)`, "provider", from, "1001", "")
}
