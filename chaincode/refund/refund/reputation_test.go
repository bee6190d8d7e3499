package refund_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// reputationSummary reads every page (of size) of GetReputationSummary and
// adds them up.
func reputationSummary(t *testing.T, n *cctest.Net, who *fabricfake.Identity, provider, size string) refund.ReputationSummary {
	t.Helper()
	var sum refund.ReputationSummary
	for bookmark, pages := "", 0; ; pages++ {
		if pages > 100 {
			t.Fatal("GetReputationSummary: no end")
		}
		var page refund.ReputationSummary
		if err := json.Unmarshal([]byte(n.MustEvaluate(who, RF, "GetReputationSummary", provider, size, bookmark)), &page); err != nil {
			t.Fatal(err)
		}
		if pages == 0 {
			sum = page
		} else if err := sum.AddSummary(&page); err != nil {
			t.Fatal(err)
		}
		if bookmark = page.Bookmark; bookmark == "" {
			return sum
		}
	}
}

func compactReputation(t *testing.T, n *cctest.Net, who *fabricfake.Identity, provider string) refund.CompactReputationResult {
	t.Helper()
	var r refund.CompactReputationResult
	if err := json.Unmarshal([]byte(n.MustSubmit(who, RF, "CompactReputation", provider)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// fullScore is what GetReputation and GetProductScore (every page) say of
// the provider and of each of products.
func fullScore(t *testing.T, n *cctest.Net, provider string, products ...string) (refund.Score, []refund.ProductTally) {
	t.Helper()
	read := func(fn string, args ...string) refund.Score {
		var sum refund.Score
		for bookmark := ""; ; {
			var page refund.Score
			if err := json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, fn, append(args, "", bookmark)...)), &page); err != nil {
				t.Fatal(err)
			}
			if err := sum.Add(&page); err != nil {
				t.Fatal(err)
			}
			if bookmark = page.Bookmark; bookmark == "" {
				return sum
			}
		}
	}
	var tallies []refund.ProductTally
	for _, p := range products {
		tallies = append(tallies, refund.ProductTally{ProductID: p, Tally: read("GetProductScore", provider, p).Tally})
	}
	return read("GetReputation", provider), tallies
}

// sameScore fails unless the summary counts what the full reads count.
func sameScore(t *testing.T, what string, got refund.ReputationSummary, want refund.Score, products []refund.ProductTally) {
	t.Helper()
	if got.Tally != want.Tally || !reflect.DeepEqual(got.Months, want.Months) || !reflect.DeepEqual(got.Products, products) {
		t.Fatalf("%s: summary %+v %+v %+v\nwant %+v %+v %+v", what, got.Tally, got.Months, got.Products, want.Tally, want.Months, products)
	}
}

// The summary counts what GetReputation and GetProductScore count, before
// and after each compaction, whatever its page size; a compaction folds the
// entries older than twice the skew only, at most the limit per
// transaction, and changes no score.
func TestReputationSummary(t *testing.T) {
	n := cctest.New(t)
	first := cctest.ExampleSLA(t, "sla-0")
	fee := first.Price.AmountMinor
	n.Fund(first, 9*fee)
	type settled struct{ id, verdict string }
	var jan26, feb26 []settled
	for i := range 6 {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		if i%2 == 1 {
			s.Service.ProductID = "storage"
		}
		n.At(cctest.Start)
		d := n.Activate(s, 0)
		n.AnchorPeriod(s, jan, feb)
		bps := int64(i % 3 * 500)
		jan26 = append(jan26, settled{s.ID, cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, bps, fee*bps/10000, 0), n.EnclaveKey)})
		if i < 2 {
			n.At("2026-01-05T00:00:00Z")
			n.MustRenew(s)
			n.AnchorPeriod(s, feb, mar)
			feb26 = append(feb26, settled{s.ID, cctest.SignVerdict(t, n.Verdict(s, d, feb, mar, 1000, fee/10, 0), n.EnclaveKey)})
		}
	}
	// sla-6's January gets no verdict: its escrow is claimed once expired.
	expired := cctest.ExampleSLA(t, "sla-6")
	expired.Consequences.EscrowExpiry = &sla.EscrowExpiry{VerdictWithinSeconds: 7 * 24 * 3600, Outcome: sla.ExpiryRefundClient}
	n.At(cctest.Start)
	n.Activate(expired, 0)
	products := []string{"compute-region", "storage"}
	check := func(what string) refund.ReputationSummary {
		t.Helper()
		want, tallies := fullScore(t, n, "ProviderOrgMSP", products...)
		var got refund.ReputationSummary
		for _, size := range []string{"", "1", "2", "5"} {
			got = reputationSummary(t, n, n.Stranger, "ProviderOrgMSP", size)
			sameScore(t, fmt.Sprintf("%s, pages of %q", what, size), got, want, tallies)
		}
		return got
	}
	// January's periods settle ten minutes apart.
	base, _ := time.Parse(time.RFC3339, afterJanuary)
	for i, s := range jan26 {
		n.World.Now = base.Add(time.Duration(i) * 10 * time.Minute)
		n.MustSubmit(n.Provider, RF, "SettleVerdict", s.verdict)
	}
	if s := check("before any compaction"); s.Periods != 6 || s.Violated != 4 || s.Compacted != 0 || s.Next != "" || len(s.Products) != 2 {
		t.Fatalf("summary %+v", s)
	}

	// A minute after the last settlement, the entries older than twice
	// the skew (10 minutes): the first five, two per transaction.
	restore := refund.SetMaxCompactReputation(2)
	defer restore()
	n.World.Now = base.Add(51 * time.Minute)
	var runs []refund.CompactReputationResult
	for len(runs) == 0 || runs[len(runs)-1].More {
		runs = append(runs, compactReputation(t, n, n.Client, "ProviderOrgMSP"))
		check(fmt.Sprintf("after compaction %d", len(runs)))
	}
	if len(runs) != 3 || runs[0].Folded != 2 || runs[1].Folded != 2 || runs[2].Folded != 1 {
		t.Fatalf("compactions %+v", runs)
	}
	if s := check("after the first compactions"); s.Compacted != 5 || s.Next != runs[2].Next || s.CompactedTx == "" {
		t.Fatalf("summary %+v", s)
	}
	// Nothing more is old enough; an hour later the sixth is.
	if r := compactReputation(t, n, n.Provider, "ProviderOrgMSP"); r.Folded != 0 || r.More {
		t.Fatalf("compaction of nothing %+v", r)
	}
	n.World.Now = base.Add(2 * time.Hour)
	if r := compactReputation(t, n, n.Provider, "ProviderOrgMSP"); r.Folded != 1 || r.More {
		t.Fatalf("compaction of the sixth %+v", r)
	}
	// February's periods settle after the compactions and count on top.
	n.At("2026-03-01T00:10:00Z")
	for _, s := range feb26 {
		n.MustSubmit(n.Client, RF, "SettleVerdict", s.verdict)
	}
	n.MustSubmit(n.Provider, RF, "ClaimExpiredEscrow", "sla-6", jan)
	s := check("after February and an expired January")
	if s.Periods != 8 || s.Violated != 6 || s.NoVerdict != 1 || s.Compacted != 6 || len(s.Months) != 2 || s.Months[1].Periods != 2 || s.Months[0].NoVerdict != 1 {
		t.Fatalf("summary %+v", s)
	}
	// The one-page summary is the checkpoint plus the two new entries.
	var page refund.ReputationSummary
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputationSummary", "ProviderOrgMSP", "1", "")), &page)
	if page.Periods != 7 || page.NoVerdict != 0 || page.Bookmark == "" {
		t.Fatalf("first page %+v", page)
	}

	// Refusals: bad arguments and bookmarks outside the provider's index.
	other := "repx/ClientOrgMSP/00000000000000000000"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"", "", ""}, "providerMSP: must not be empty"},
		{[]string{"Provider/OrgMSP", "", ""}, `providerMSP: "Provider/OrgMSP" is not an MSP ID (it holds '/' or NUL)`},
		{[]string{"ProviderOrgMSP", "x", ""}, `pageSize: "x" is not a page size (0 for 1000, at most 10000)`},
		{[]string{"ProviderOrgMSP", "1", other}, fmt.Sprintf("bookmark: %q is not a bookmark of the reputation of ProviderOrgMSP", other)},
		{[]string{"ProviderOrgMSP", "1", "repx/ProviderOrgMSP0"}, `bookmark: "repx/ProviderOrgMSP0" is not a bookmark of the reputation of ProviderOrgMSP`},
	} {
		n.ExpectError(n.Stranger, RF, "GetReputationSummary", tc.want, tc.args...)
	}
	n.ExpectError(n.Provider, RF, "CompactReputation", "providerMSP: must not be empty", "")
	// Only members of the configuration's organizations compact.
	n.ExpectError(n.Stranger, RF, "CompactReputation",
		fmt.Sprintf("CompactReputation: the caller %s is not a member of an organization of the deploy configuration (ClientOrgMSP, ProviderOrgMSP)", cctest.ID(n.Stranger)), "ProviderOrgMSP")
}

// Another provider's entries never enter a summary, even through a
// bookmark, and a checkpoint key written outside CompactReputation (without
// the majority's policy) is refused by both functions.
func TestReputationSummaryIsolation(t *testing.T) {
	n := cctest.New(t)
	s, s2 := cctest.ExampleSLA(t, "sla-1"), cctest.ExampleSLA(t, "sla-2")
	n.Fund(s, 2*s.Price.AmountMinor)
	d, d2 := n.Activate(s, 0), n.Activate(s2, 0)
	n.AnchorPeriod(s, jan, feb)
	n.AnchorPeriod(s2, jan, feb)
	n.At(afterJanuary)
	n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 1000, 1000, 0), n.EnclaveKey))
	// A bookmark in the provider's index: from its only key on.
	start := "repx/ProviderOrgMSP/"
	var page refund.ReputationSummary
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputationSummary", "ProviderOrgMSP", "1", start)), &page)
	if page.Periods != 1 {
		t.Fatalf("page from the index's start %+v", page)
	}
	// The client organization has no settled period: its summary is empty
	// and a bookmark into the provider's index is refused.
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputationSummary", "ClientOrgMSP", "", "")), &page)
	if page.Periods != 0 || len(page.Products) != 0 {
		t.Fatalf("client's summary %+v", page)
	}
	n.ExpectError(n.Stranger, RF, "GetReputationSummary", fmt.Sprintf("bookmark: %q is not a bookmark of the reputation of ClientOrgMSP", start), "ClientOrgMSP", "1", start)

	// A checkpoint squatted by two organizations with the provider's
	// policy alone, claiming 100 met periods.
	forged := refund.ReputationSummary{Score: refund.Score{Provider: "ProviderOrgMSP", Tally: refund.Tally{Periods: 100, ComplianceBPS: 10000}, Months: []refund.MonthScore{}},
		Products: []refund.ProductTally{}, Next: "repx/ProviderOrgMSP0"}
	raw, _ := json.Marshal(forged)
	alone, _ := ccpolicy.AllOf("ProviderOrgMSP")
	if code := n.Forge(n.Provider, RF, []string{PO, CO}, func(stub shim.ChaincodeStubInterface) {
		_ = stub.PutState("repsum/ProviderOrgMSP", raw)
		_ = stub.SetStateValidationParameter("repsum/ProviderOrgMSP", alone)
	}); code != peer.TxValidationCode_VALID {
		t.Fatal(code)
	}
	want := "the reputation checkpoint of ProviderOrgMSP does not carry the policy of a majority of the organizations: it was not created by this chaincode; the organizations must investigate (see its creating transaction)"
	n.ExpectError(n.Stranger, RF, "GetReputationSummary", want, "ProviderOrgMSP", "", "")
	n.World.Now = n.World.Now.Add(time.Hour)
	n.ExpectError(n.Client, RF, "CompactReputation", want, "ProviderOrgMSP")
	// The squatted checkpoint blocks no settlement (its start is past
	// every key).
	n.MustSubmit(n.Client, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(s2, d2, jan, feb, 0, 0, 0), n.EnclaveKey))
	if sc, _ := fullScore(t, n, "ProviderOrgMSP"); sc.Periods != 2 {
		t.Fatalf("score after the squat %+v", sc)
	}
}

// A settlement whose time is before the checkpoint's start (a transaction
// backdated within the skew after a compaction) is refused and writes
// nothing; with a current time it settles and counts.
func TestSettlementBeforeTheCheckpointIsRefused(t *testing.T) {
	n := cctest.New(t)
	a, b := cctest.ExampleSLA(t, "sla-a"), cctest.ExampleSLA(t, "sla-b")
	n.Fund(a, 2*a.Price.AmountMinor)
	da, db := n.Activate(a, 0), n.Activate(b, 0)
	n.AnchorPeriod(a, jan, feb)
	n.AnchorPeriod(b, jan, feb)
	base, _ := time.Parse(time.RFC3339, afterJanuary)
	n.World.Now = base
	n.MustSubmit(n.Provider, RF, "SettleVerdict", cctest.SignVerdict(t, n.Verdict(a, da, jan, feb, 0, 0, 0), n.EnclaveKey))
	n.World.Now = base.Add(time.Hour)
	r := compactReputation(t, n, n.Client, "ProviderOrgMSP")
	if r.Folded != 1 {
		t.Fatalf("compaction %+v", r)
	}
	// Fifteen minutes before the compaction: before its cut (ten).
	n.World.Now = base.Add(45 * time.Minute)
	vb := cctest.SignVerdict(t, n.Verdict(b, db, jan, feb, 1000, 1000, 0), n.EnclaveKey)
	n.ExpectError(n.Client, RF, "SettleVerdict", fmt.Sprintf("the transaction time %s is before the reputation of ProviderOrgMSP was compacted to (%s): submit the transaction again with a current timestamp",
		n.World.Now.UTC().Format(time.RFC3339Nano), r.Next), vb)
	var e refund.Escrow
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetEscrow", "sla-b", jan)), &e)
	if e.Status != refund.EscrowHeld {
		t.Fatalf("escrow after the refusal %+v", e)
	}
	n.World.Now = base.Add(time.Hour + time.Minute)
	n.MustSubmit(n.Client, RF, "SettleVerdict", vb)
	want, tallies := fullScore(t, n, "ProviderOrgMSP", "compute-region")
	if got := reputationSummary(t, n, n.Stranger, "ProviderOrgMSP", ""); want.Periods != 2 || got.Compacted != 1 {
		t.Fatalf("summary %+v, full %+v", got, want)
	} else {
		sameScore(t, "after the late settlement", got, want, tallies)
	}
}

// Settlements and compactions of one provider in one block: a compaction
// after a settlement leaves both valid (the new entry is after its cut);
// a settlement after a compaction fails Fabric's read check (it read the
// checkpoint the compaction changed), writes nothing, and settles when
// submitted again. The summary always counts what the full reads count.
func TestCompactionAndSettlementsInOneBlock(t *testing.T) {
	n := cctest.New(t)
	first := cctest.ExampleSLA(t, "sla-0")
	n.Fund(first, 3*first.Price.AmountMinor)
	var verdicts []string
	for i := range 3 {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		n.At(cctest.Start)
		d := n.Activate(s, 0)
		n.AnchorPeriod(s, jan, feb)
		verdicts = append(verdicts, cctest.SignVerdict(t, n.Verdict(s, d, jan, feb, 500, 500, 0), n.EnclaveKey))
	}
	n.At(afterJanuary)
	n.MustSubmit(n.Provider, RF, "SettleVerdict", verdicts[0])
	n.World.Now = n.World.Now.Add(time.Hour)
	every := fabricfake.Endorsers{Every: true}
	codes := func(res []fabricfake.Result) []peer.TxValidationCode {
		var out []peer.TxValidationCode
		for _, r := range res {
			if r.Status != 200 {
				t.Fatalf("refused: %s", r.Message)
			}
			out = append(out, r.Code)
		}
		return out
	}
	blk := n.World.NewBlock()
	blk.SubmitEndorsed(every, n.Provider, RF, "SettleVerdict", verdicts[1])
	blk.SubmitEndorsed(every, n.Client, RF, "CompactReputation", "ProviderOrgMSP")
	if got := codes(blk.Commit()); fmt.Sprint(got) != fmt.Sprint([]peer.TxValidationCode{peer.TxValidationCode_VALID, peer.TxValidationCode_VALID}) {
		t.Fatalf("settlement, then compaction: %v", got)
	}
	n.World.Now = n.World.Now.Add(time.Hour)
	blk = n.World.NewBlock()
	blk.SubmitEndorsed(every, n.Client, RF, "CompactReputation", "ProviderOrgMSP")
	blk.SubmitEndorsed(every, n.Provider, RF, "SettleVerdict", verdicts[2])
	if got := codes(blk.Commit()); fmt.Sprint(got) != fmt.Sprint([]peer.TxValidationCode{peer.TxValidationCode_VALID, peer.TxValidationCode_MVCC_READ_CONFLICT}) {
		t.Fatalf("compaction, then settlement: %v", got)
	}
	var e refund.Escrow
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "GetEscrow", "sla-2", jan)), &e)
	if e.Status != refund.EscrowHeld {
		t.Fatalf("escrow of the invalid settlement %+v", e)
	}
	n.MustSubmit(n.Provider, RF, "SettleVerdict", verdicts[2])
	want, tallies := fullScore(t, n, "ProviderOrgMSP", "compute-region")
	got := reputationSummary(t, n, n.Stranger, "ProviderOrgMSP", "1")
	if want.Periods != 3 || got.Compacted != 2 {
		t.Fatalf("summary %+v, full %+v", got, want)
	}
	sameScore(t, "after both blocks", got, want, tallies)
}
