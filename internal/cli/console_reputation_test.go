package cli

import (
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
	// Two pages of the provider's score, added up as slasa reputation does.
	c.fake.set(score{Provider: "ProviderOrgMSP", Periods: 3, Violated: 1, Credits: 30000, ComplianceBPS: 6666, Bookmark: "b1"}, "refund", "GetReputation", "ProviderOrgMSP", "", "")
	c.fake.set(score{Provider: "ProviderOrgMSP", Periods: 1, NoVerdict: 1, ComplianceBPS: 10000}, "refund", "GetReputation", "ProviderOrgMSP", "", "b1")
	c.fake.set(score{Provider: "ProviderOrgMSP", ProductID: "demo-web", Periods: 4, Violated: 1, Credits: 30000, ComplianceBPS: 7500}, "refund", "GetProductScore", "ProviderOrgMSP", "demo-web", "", "")
	c.signIn()
	code, _, body := c.get("/reputation")
	wantPage(t, "reputation", code, http.StatusOK, body, "Reputation of ProviderOrgMSP",
		"<tr><td>ProviderOrgMSP (all products)</td><td>4</td><td>1</td><td>25%</td><td>1</td><td>75%</td><td>30000</td><td>0</td></tr>",
		"<tr><td>demo-web</td><td>4</td><td>1</td><td>25%</td><td>0</td><td>75%</td><td>30000</td><td>0</td></tr>",
		`<svg class="chart" id="reputation-chart"`, `<rect x="260" y="10" width="300" height="18" fill="#2e8b57"><title>ProviderOrgMSP (all products): 75% of 4 settled periods</title></rect>`,
		`<rect x="560" y="10" width="100" height="18" fill="#c0392b">`)

	// Another provider's product, typed in; one with no settled period.
	c.fake.set(score{Provider: "OtherMSP"}, "refund", "GetReputation", "OtherMSP", "", "")
	c.fake.set(score{Provider: "OtherMSP", ProductID: "db"}, "refund", "GetProductScore", "OtherMSP", "db", "", "")
	code, _, body = c.get("/reputation?provider=OtherMSP&product=db")
	wantPage(t, "other provider", code, http.StatusOK, body, "Reputation of OtherMSP", "<tr><td>db</td><td>0</td><td>0</td><td>-</td>", "no settled period")
	if strings.Contains(body, "<td>demo-web</td>") {
		t.Error("the typed product's page shows the SLAs' products")
	}

	// A bookmark that does not advance is an error, not a loop.
	c.fake.set(score{Provider: "LoopMSP", Periods: 1, Bookmark: "same"}, "refund", "GetReputation", "LoopMSP", "", "")
	c.fake.set(score{Provider: "LoopMSP", Periods: 1, Bookmark: "same"}, "refund", "GetReputation", "LoopMSP", "", "same")
	code, _, body = c.get("/reputation?provider=LoopMSP")
	wantPage(t, "loop", code, http.StatusBadGateway, body, "refund: the score&#39;s bookmark &#34;same&#34; does not advance")

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
	v.fake.set(score{Provider: "ProviderOrgMSP", Periods: 2, ComplianceBPS: 10000}, "refund", "GetReputation", "ProviderOrgMSP", "", "")
	v.signIn()
	code, _, body = v.get("/reputation")
	wantPage(t, "vendor", code, http.StatusOK, body, "Type a provider's MSP ID")
	code, _, body = v.get("/reputation?provider=ProviderOrgMSP")
	wantPage(t, "vendor typed", code, http.StatusOK, body, "<tr><td>ProviderOrgMSP (all products)</td><td>2</td><td>0</td><td>0%</td>")
}
