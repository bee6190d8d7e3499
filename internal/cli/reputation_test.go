package cli

import (
	"context"
	"strings"
	"testing"
)

// slasa reputation --summary: the pages added up (months and products),
// printed as fields, a months table, a products table and the checkpoint.
func TestReputationSummaryRead(t *testing.T) {
	f := newFakeLedger(t)
	f.set(reputationSummary{score: score{Provider: "P", Bookmark: "b1", Months: []monthScore{{Month: "2026-01", tally: tally{Periods: 2, Violated: 1, ComplianceBPS: 5000}}},
		tally: tally{Periods: 2, Violated: 1, ComplianceBPS: 5000}}, Products: []productTally{{ProductID: "web", tally: tally{Periods: 2, Violated: 1, ComplianceBPS: 5000}}},
		Compacted: 2, CompactedTx: "tx-c", CompactedAt: "2026-02-01T01:00:00Z"}, "refund", "GetReputationSummary", "P", "", "")
	f.set(reputationSummary{score: score{Provider: "P", Months: []monthScore{{Month: "2026-02", tally: tally{Periods: 1, Credits: 7, ComplianceBPS: 10000}}},
		tally: tally{Periods: 1, Credits: 7, ComplianceBPS: 10000}}, Products: []productTally{{ProductID: "db", tally: tally{Periods: 1, Credits: 7, ComplianceBPS: 10000}}}},
		"refund", "GetReputationSummary", "P", "", "b1")
	sum, err := readReputation(context.Background(), f.Evaluate, "refund", "P")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Periods != 3 || sum.Violated != 1 || sum.ComplianceBPS != 6666 || len(sum.Months) != 2 || len(sum.Products) != 2 ||
		sum.Products[0].ProductID != "db" || sum.Bookmark != "" || sum.CompactedTx != "tx-c" {
		t.Fatalf("summary %+v", sum)
	}
	if web := sum.product("web"); web.Periods != 2 || web.ProductID != "web" {
		t.Fatalf("product web %+v", web)
	}
	if none := sum.product("none"); none.Periods != 0 || none.ProductID != "none" {
		t.Fatalf("product none %+v", none)
	}
	var b strings.Builder
	if err := writeReputation(&b, sum); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-02  1        0         0           100%        7", "PRODUCT", "db       1        0         0           100%        7",
		"web      2        1         0           50%         0", "compliance:        66.66%", "checkpoint:", "2 periods folded, last at 2026-02-01T01:00:00Z (tx tx-c)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
