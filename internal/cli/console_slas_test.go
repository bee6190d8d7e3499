package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/slasa/slasa/internal/identity"
)

// TestConsoleSLACredit: the SLA list shows each SLA's settled periods, the
// violated ones and the credit so far (credits and penalties paid to the
// client, every page of GetSLAScore, in the SLA's currency); a score that
// cannot be read is the row's error, not the page's.
func TestConsoleSLACredit(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC) }
	view := consoleSLAView(t)
	rec := map[string]any{"id": billSLA, "status": "ACTIVE", "parties": view["parties"], "paid_through": testP1End, "last_period": testP1, "paid_periods": 2}
	cn := identity.CommonName(clientDN)
	c.fake.set(map[string]any{"records": []any{rec}, "bookmark": ""}, "agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "20", "")
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	c.fake.set(map[string]any{"provider_msp_id": "ProviderOrgMSP", "product_id": "demo-web", "sla_id": billSLA, "periods": 2, "violated": 1,
		"credits": 30000, "penalties": 5000, "bookmark": "rep-bm"}, "refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", "")
	c.fake.set(map[string]any{"provider_msp_id": "ProviderOrgMSP", "product_id": "demo-web", "sla_id": billSLA, "periods": 1, "no_verdict": 1,
		"credits": 0, "penalties": 1}, "refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", "rep-bm")
	c.signIn()
	code, _, body := c.get("/slas")
	wantPage(t, "SLA list", code, http.StatusOK, body,
		"<th>Settled periods</th><th>Violated</th><th>Credit so far</th>",
		// The parties by MSP and common name, the full name with the issuer in the cell's title.
		`<td title="ProviderOrgMSP/provider@providerorg.slasa.local (issuer `, `">ProviderOrgMSP/provider@providerorg.slasa.local</td>`,
		`">ClientOrgMSP/client@clientorg.slasa.local</td>`,
		"<td>3 (and 1 without a verdict)</td><td>1</td><td class=\"credit\">350.01 USD</td>")
	if n := c.fake.calls[fakeKey("refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", "rep-bm")]; n != 1 {
		t.Errorf("second score page read %d times", n)
	}

	delete(c.fake.answers, fakeKey("refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", ""))
	c.fake.errs[fakeKey("refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", "")] = errors.New(`chaincode response 500, read the parties of SLA "demo-sla": agreement GetParties: boom`)
	code, _, body = c.get("/slas")
	wantPage(t, "SLA list, score refused", code, http.StatusOK, body, "<td>demo-web</td>",
		`<td colspan="3" class="error">refund.GetSLAScore: chaincode response 500, read the parties of SLA &#34;demo-sla&#34;: agreement GetParties: boom</td>`)
}

// TestConsoleSLAFilterErrors: a bad filter is a 400 naming the field, and
// nothing is read.
func TestConsoleSLAFilterErrors(t *testing.T) {
	c := newConsoleTest(t, roleProvider, "")
	c.signIn()
	for _, tc := range []struct{ query, want string }{
		{"status=ENDED", "status: &#34;ENDED&#34; is not an SLA status (PROPOSED, ACTIVE, TERMINATED, WITHDRAWN): nothing was read"},
		{"status=active", "status: &#34;active&#34; is not an SLA status (PROPOSED, ACTIVE, TERMINATED, WITHDRAWN): nothing was read"},
		{"product=a+b", "product: not a product id (1 to 128 printable ASCII characters, no space): nothing was read"},
		{"counterparty=Client%2FOrg", "counterparty: not an MSP ID (letters, digits, &#39;.&#39;, &#39;_&#39; and &#39;-&#39;, at most 128): nothing was read"},
		{"status=ACTIVE&bookmark=a+b", "bookmark: not a bookmark of a page"},
	} {
		before := c.fake.evaluations()
		code, _, body := c.get("/slas?" + tc.query)
		wantPage(t, tc.query, code, http.StatusBadRequest, body, tc.want)
		if n := c.fake.evaluations() - before; n != 0 {
			t.Errorf("%s: %d queries evaluated", tc.query, n)
		}
	}
}

var (
	slaLink   = regexp.MustCompile(`<a href="/slas/(sla-\d+)">`)
	moreLink  = regexp.MustCompile(`<a href="(/slas\?[^"]*)">more →</a>`)
	searchedN = regexp.MustCompile(`Searched (\d+) SLAs \((\d+) pages of ListSLAs`)
)

// listed returns the SLA ids of a list page.
func listed(body string) []string {
	var ids []string
	for _, m := range slaLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestConsoleSLAFilters: on the fixture ledger (the provider's SLAs in id
// order; 1 in 20 terminated, 1 in 20 proposed, products product-0..6,
// clients of ClientOrgMSP and Client2OrgMSP), each filter shows exactly the
// provider's SLAs that pass it, in order, a page at a time; a selective
// filter stops after consoleSLAScanPages ListSLAs pages with "more →"; the
// pages' links keep the filters and continue where the search stopped.
func TestConsoleSLAFilters(t *testing.T) {
	l := newFixtureLedger(t, fixtureSmall)
	c := newConsoleFixture(t, l)
	type want func(id string) bool
	status := func(s string) want { return func(id string) bool { return l.slas[id].Status == s } }
	for _, tc := range []struct {
		name, query string
		match       want
	}{
		{"terminated", "status=TERMINATED", status("TERMINATED")},
		{"active", "status=ACTIVE", status("ACTIVE")},
		{"proposed", "status=PROPOSED", status("PROPOSED")},
		{"withdrawn", "status=WITHDRAWN", status("WITHDRAWN")},
		{"counterparty", "counterparty=Client2OrgMSP", func(id string) bool { return l.slas[id].Parties.Client.MSPID == "Client2OrgMSP" }},
		{"product and counterparty", "product=product-3&counterparty=ClientOrgMSP", func(id string) bool {
			return l.slas[id].Parties.Client.MSPID == "ClientOrgMSP" && strings.Contains(string(l.slas[id].Signed.Document), `"product_id":"product-3"`)
		}},
		{"active product", "status=ACTIVE&product=product-1", func(id string) bool {
			return l.slas[id].Status == "ACTIVE" && strings.Contains(string(l.slas[id].Signed.Document), `"product_id":"product-1"`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wantIDs []string
			for _, id := range l.mine {
				if tc.match(id) {
					wantIDs = append(wantIDs, id)
				}
			}
			var got []string
			path := "/slas?" + tc.query
			for requests := 1; ; requests++ {
				l.reset()
				code, body := c.get(path)
				if code != http.StatusOK || strings.Contains(body, `class="error"`) {
					t.Fatalf("%s: %d\n%s", path, code, body)
				}
				ids := listed(body)
				got = append(got, ids...)
				if len(ids) > consoleSLAPage {
					t.Fatalf("%s: %d rows", path, len(ids))
				}
				lists := l.calls - 2*len(ids) // every row: GetSLA and GetSLAScore
				if lists > consoleSLAScanPages+2*consoleSLAScanPages*consoleSLAPage {
					t.Fatalf("%s: %d evaluate calls", path, l.calls)
				}
				m := nextLink.FindStringSubmatch(body)
				if m == nil {
					if strings.Contains(body, "more →") {
						t.Fatalf("%s: more without Next", path)
					}
					break
				}
				next := html.UnescapeString(m[1])
				for _, kv := range strings.Split(tc.query, "&") {
					if !strings.Contains(next, kv) {
						t.Fatalf("%s: the Next link %s drops the filter %s", path, next, kv)
					}
				}
				if len(ids) < consoleSLAPage {
					// Cut by the bound: said on the page, with the same link.
					mm, ms := moreLink.FindStringSubmatch(body), searchedN.FindStringSubmatch(body)
					if mm == nil || html.UnescapeString(mm[1]) != next || ms == nil || ms[2] != fmt.Sprint(consoleSLAScanPages) {
						t.Fatalf("%s: %d rows and a Next link, but no \"Searched N SLAs (%d pages ...); more →\" with it:\n%s", path, len(ids), consoleSLAScanPages, body)
					}
				}
				if requests > len(l.mine) {
					t.Fatalf("%s: no end after %d requests", tc.query, requests)
				}
				path = next
			}
			if !slices.Equal(got, wantIDs) {
				t.Fatalf("%s: listed %d SLAs\n%v\nwant %d\n%v", tc.query, len(got), got, len(wantIDs), wantIDs)
			}
		})
	}
}

// TestConsoleSLAScanBound: a filter nothing passes reads exactly
// consoleSLAScanPages full ListSLAs pages and nothing else, and says how
// many SLAs it searched.
func TestConsoleSLAScanBound(t *testing.T) {
	l := newFixtureLedger(t, fixtureSmall)
	c := newConsoleFixture(t, l)
	l.reset()
	code, body := c.get("/slas?counterparty=NobodyMSP")
	wantPage(t, "no match", code, http.StatusOK, body, "No SLAs match the filters among the 100 searched.",
		"Searched 100 SLAs (5 pages of ListSLAs, the most one page reads);")
	if l.calls != consoleSLAScanPages || l.rows != consoleSLAScanPages*consoleSLAPage {
		t.Errorf("%d calls, %d rows; want %d ListSLAs pages of %d", l.calls, l.rows, consoleSLAScanPages, consoleSLAPage)
	}
	// The counterparty is the other party: a provider's clients.
	l.reset()
	code, body = c.get("/slas?counterparty=ProviderOrgMSP")
	wantPage(t, "own organization", code, http.StatusOK, body, "No SLAs match the filters among the 100 searched.")
}

// TestSLAListCredit: slasa sla list --credit adds each SLA's product,
// settled and violated periods and credit so far (readSLACredit, as the
// console), and prints the SLAs whose document or score could not be read
// after the table.
func TestSLAListCredit(t *testing.T) {
	f := newFakeLedger(t)
	view := consoleSLAView(t)
	f.set(view, "agreement", "GetSLA", billSLA)
	f.set(map[string]any{"provider_msp_id": "ProviderOrgMSP", "product_id": "demo-web", "sla_id": billSLA, "periods": 2, "violated": 1,
		"credits": 30000, "penalties": 5000}, "refund", "GetSLAScore", "ProviderOrgMSP", "demo-web", billSLA, "", "")
	f.errs[fakeKey("agreement", "GetSLA", "sla-2")] = errors.New(`agreement.GetSLA: chaincode response 500, SLA "sla-2" does not exist`)
	var a, b agreementRecord
	a.ID, a.Status, a.ValidityEnd, a.PaidThrough = billSLA, "ACTIVE", "2026-12-06T11:00:00Z", testP1End
	a.Parties.Provider, a.Parties.Client = agreementParty{MSPID: "ProviderOrgMSP", CommonName: "provider@p"}, agreementParty{MSPID: "ClientOrgMSP", CommonName: "client@c"}
	b = a
	b.ID = "sla-2"
	recs := []agreementRecord{a, b}
	credits := readSLACredits(context.Background(), newBillingSource(f, "agreement", "refund", "slasa"), recs, time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC))
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := writeSLAList(cmd, recs, credits, "", 20); err != nil {
		t.Fatal(err)
	}
	want := "ID        STATUS  PROVIDER    CLIENT    VALID UNTIL           PAID THROUGH          PRODUCT   SETTLED  VIOLATED  CREDIT SO FAR\n" +
		"demo-sla  ACTIVE  provider@p  client@c  2026-12-06T11:00:00Z  2026-12-06T10:04:00Z  demo-web  2        1         350.00 USD\n" +
		"sla-2     ACTIVE  provider@p  client@c  2026-12-06T11:00:00Z  2026-12-06T10:04:00Z  -         -        -         -\n" +
		`sla-2: agreement.GetSLA: chaincode response 500, SLA "sla-2" does not exist` + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
