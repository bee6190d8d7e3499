package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slasa/slasa/internal/identity"
)

func TestConsoleReputation(t *testing.T) {
	c := newConsoleTest(t, roleProvider, "")
	cn := identity.CommonName(providerDN)
	view := consoleSLAView(t)
	c.fake.set(map[string]any{"records": []any{map[string]any{"id": billSLA, "status": "ACTIVE", "parties": view["parties"]}}},
		"agreement", "ListSLAs", "provider", "ProviderOrgMSP", cn, "20", "")
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	// Two pages of the provider's summary (the checkpoint and the periods
	// after it), added up as slasa reputation --summary does.
	c.fake.set(reputationSummary{score: score{Provider: "ProviderOrgMSP", Bookmark: "b1", Months: []monthScore{
		{Month: "2026-10", tally: tally{Periods: 2, Violated: 1, Credits: 30000, ComplianceBPS: 5000}}, {Month: "2026-12", tally: tally{Periods: 1, ComplianceBPS: 10000}}}, tally: tally{Periods: 3, Violated: 1, Credits: 30000, ComplianceBPS: 6666}},
		Products: []productTally{{ProductID: "demo-web", tally: tally{Periods: 3, Violated: 1, Credits: 30000, ComplianceBPS: 6666}}}, Compacted: 3, CompactedTx: "tx-c"},
		"refund", "GetReputationSummary", "ProviderOrgMSP", "", "")
	c.fake.set(reputationSummary{score: score{Provider: "ProviderOrgMSP", Months: []monthScore{
		{Month: "2026-11", tally: tally{NoVerdict: 1}}, {Month: "2026-12", tally: tally{Periods: 1, ComplianceBPS: 10000}}}, tally: tally{Periods: 1, NoVerdict: 1, ComplianceBPS: 10000}},
		Products: []productTally{{ProductID: "demo-web", tally: tally{Periods: 1, ComplianceBPS: 10000}}, {ProductID: "zz-other", tally: tally{NoVerdict: 1}}}},
		"refund", "GetReputationSummary", "ProviderOrgMSP", "", "b1")
	c.signIn()
	code, _, body := c.get("/reputation")
	wantPage(t, "reputation", code, http.StatusOK, body, "Reputation of ProviderOrgMSP",
		"<tr><td>ProviderOrgMSP (all products)</td><td>4</td><td>1</td><td>25%</td><td>1</td><td>75%</td><td>30000</td><td>0</td></tr>",
		"<tr><td>demo-web</td><td>4</td><td>1</td><td>25%</td><td>0</td><td>75%</td><td>30000</td><td>0</td></tr>",
		// A product of the provider's that none of the user's SLAs names.
		"<tr><td>zz-other</td><td>0</td><td>0</td><td>-</td><td>1</td><td>- (no settled period)</td><td>0</td><td>0</td></tr>",
		`<svg class="chart" id="reputation-chart"`, `<rect x="260" y="10" width="300" height="18" fill="#2e8b57"><title>ProviderOrgMSP (all products): 75% of 4 settled periods</title></rect>`,
		`<rect x="560" y="10" width="100" height="18" fill="#c0392b">`,
		// Over time: the pages' months added up, a column each.
		"<h2>Over time: ProviderOrgMSP (all products)</h2>", `<svg class="chart" id="months-chart"`,
		`<rect x="50" y="110" width="26" height="100" fill="#2e8b57"><title>2026-10: 50% of 2 settled periods</title></rect>`,
		`<rect x="50" y="10" width="26" height="100" fill="#c0392b"><title>2026-10: 1 violated</title></rect>`,
		`<rect x="86" y="10" width="26" height="200" fill="#dde1e8"><title>2026-11: no verdict for 1 periods</title></rect>`,
		`<rect x="122" y="10" width="26" height="200" fill="#2e8b57"><title>2026-12: 100% of 2 settled periods</title></rect>`,
		"<tr><td>2026-10</td><td>2</td><td>1</td><td>0</td><td>50%</td><td>30000</td><td>0</td></tr>",
		"<tr><td>2026-11</td><td>0</td><td>0</td><td>1</td><td>-</td><td>0</td><td>0</td></tr>",
		"<tr><td>2026-12</td><td>2</td><td>0</td><td>0</td><td>100%</td><td>0</td><td>0</td></tr>")

	// Another provider's product, typed in; one with no settled period.
	c.fake.set(reputationSummary{score: score{Provider: "OtherMSP"}}, "refund", "GetReputationSummary", "OtherMSP", "", "")
	code, _, body = c.get("/reputation?provider=OtherMSP&product=db")
	wantPage(t, "other provider", code, http.StatusOK, body, "Reputation of OtherMSP", "<tr><td>db</td><td>0</td><td>0</td><td>-</td>", "no settled period")
	if strings.Contains(body, "<td>demo-web</td>") {
		t.Error("the typed product's page shows the SLAs' products")
	}

	// A bookmark that does not advance is an error, not a loop.
	c.fake.set(reputationSummary{score: score{Provider: "LoopMSP", Bookmark: "same", tally: tally{Periods: 1}}}, "refund", "GetReputationSummary", "LoopMSP", "", "")
	c.fake.set(reputationSummary{score: score{Provider: "LoopMSP", Bookmark: "same", tally: tally{Periods: 1}}}, "refund", "GetReputationSummary", "LoopMSP", "", "same")
	code, _, body = c.get("/reputation?provider=LoopMSP")
	wantPage(t, "loop", code, http.StatusBadGateway, body, "refund: the reputation&#39;s bookmark &#34;same&#34; does not advance")

	// Bad input names the field and reads nothing.
	before := c.fake.evaluations()
	for _, tc := range []struct{ query, want string }{
		{"provider=" + url.QueryEscape("Org MSP"), "provider: not an MSP ID"},
		{"provider=ProviderOrgMSP&product=" + url.QueryEscape("a b"), "product: not a product id"},
		{"product=demo-web", "provider: a product&#39;s score needs its provider&#39;s MSP ID"},
	} {
		code, _, body := c.get("/reputation?" + tc.query)
		wantPage(t, tc.query, code, http.StatusBadRequest, body, tc.want, "nothing was read")
	}
	if n := c.fake.evaluations(); n != before {
		t.Errorf("bad input read the ledger %d times", n-before)
	}

	// A vendor types the provider; its SLAs are not listed (it has none).
	v := newConsoleTest(t, roleVendor, "")
	v.fake.set(reputationSummary{score: score{Provider: "ProviderOrgMSP", tally: tally{Periods: 2, ComplianceBPS: 10000}}}, "refund", "GetReputationSummary", "ProviderOrgMSP", "", "")
	v.signIn()
	code, _, body = v.get("/reputation")
	wantPage(t, "vendor", code, http.StatusOK, body, "Type a provider's MSP ID")
	code, _, body = v.get("/reputation?provider=ProviderOrgMSP")
	wantPage(t, "vendor typed", code, http.StatusOK, body, "<tr><td>ProviderOrgMSP (all products)</td><td>2</td><td>0</td><td>0%</td>")
}

// The chart over time shows the last chartMonths months.
func TestMonthBarsLastMonths(t *testing.T) {
	var months []monthScore
	for i := 0; i < 30; i++ {
		months = append(months, monthScore{Month: fmt.Sprintf("%04d-%02d", 2024+i/12, i%12+1), tally: tally{Periods: 1, ComplianceBPS: 10000}})
	}
	bars, width := monthBars(months)
	if len(bars) != chartMonths || bars[0].M.Month != "2024-07" || bars[23].M.Month != "2026-06" || width != monthChartLeft+10+24*monthColumn ||
		bars[23].X != monthChartLeft+23*monthColumn || bars[23].Height != monthChartHeight || bars[23].VHeight != 0 {
		t.Fatalf("%d bars from %s to %s, width %d, last %+v", len(bars), bars[0].M.Month, bars[len(bars)-1].M.Month, width, bars[len(bars)-1])
	}
}
