package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/billing"
	"github.com/slasa/slasa/internal/identity"
)

// moneyConsole is a console of role over the demo's ledger (demoLedger)
// with the client's wallet history.
func moneyConsole(t *testing.T, role string) *consoleTest {
	t.Helper()
	c := newConsoleTest(t, role, "")
	c.fake.fakeLedger = demoLedger(t)
	c.fake.withHistory("client", billClient, clientHistory(), 3)
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC) }
	return c
}

// download fetches path and returns the status, the headers and the body.
func (c *consoleTest) download(path string) (int, http.Header, []byte) {
	c.t.Helper()
	resp, err := c.browser.Get(c.ts.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, buf.Bytes()
}

func TestConsoleStatements(t *testing.T) {
	c := moneyConsole(t, roleClient)
	cn := identity.CommonName(clientDN)
	c.fake.set(map[string]any{"records": []any{map[string]any{"id": billSLA, "parties": map[string]any{"client": billClient}}}}, "agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "100", "")
	c.signIn()

	// This month by default: the statement's table, as slasa statement builds it.
	code, _, body := c.get("/statements")
	wantPage(t, "statement", code, http.StatusOK, body, "Statement 2026-12 of wallet client",
		`<dd id="opening">USD 10,000.00</dd>`, `<dd id="closing" class="balance">USD 8,275.00</dd>`,
		"Period fee paid into escrow", "SLA service credit refunded from escrow (30.00%)", "USD -1,000.00", "tx-settle0",
		`<td>SETTLED</td>`, `<td>HELD</td>`, `<a href="/slas/demo-sla/invoice?period=2026-12-06T10%3A00%3A00Z">PDF</a>`,
		`href="/statements?format=csv&amp;month=2026-12"`)
	// One SLA.
	code, _, body = c.get("/statements?month=2026-12&sla=" + billSLA)
	wantPage(t, "SLA statement", code, http.StatusOK, body, "(SLA demo-sla only)", `<dd id="opening">USD 0.00</dd>`, `<dd id="closing" class="balance">USD -1,700.00</dd>`)

	// The downloads: the CLI's CSV and JSON, byte for byte.
	want, err := buildStatement(t.Context(), newBillingSource(c.fake, "agreement", "refund", "slasa"), statementRequest{Role: "client", Wallet: "client", Month: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	var wantCSV, wantJSON bytes.Buffer
	if want.WriteCSV(&wantCSV) != nil || billing.WriteJSON(&wantJSON, want) != nil {
		t.Fatal("render")
	}
	code, h, got := c.download("/statements?month=2026-12&format=csv")
	if code != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" ||
		h.Get("Content-Disposition") != `attachment; filename="statement-client-2026-12.csv"` || !bytes.Equal(got, wantCSV.Bytes()) {
		t.Fatalf("CSV: %d %v\n%s", code, h, got)
	}
	code, h, got = c.download("/statements?month=2026-12&format=json&sla=" + billSLA)
	var js map[string]any
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" ||
		h.Get("Content-Disposition") != `attachment; filename="statement-client-2026-12-demo-sla.json"` || json.Unmarshal(got, &js) != nil || js["sla_id"] != billSLA {
		t.Fatalf("JSON: %d %v\n%s", code, h, got)
	}

	// Bad input: the field named, nothing read.
	before := c.fake.evaluations()
	for _, tc := range []struct{ query, want string }{
		{"month=2026-13", `month: &#34;2026-13&#34; is not a month YYYY-MM: nothing was read`},
		{"month=december", `month: &#34;december&#34; is not a month YYYY-MM`},
		{"sla=" + url.QueryEscape("a b"), "sla: not an SLA id (1 to 256 printable ASCII characters, no space): nothing was read"},
		{"currency=XXX", "currency: currency &#34;XXX&#34;"},
		{"format=pdf", `format: &#34;pdf&#34; is not csv or json (or empty for the page): nothing was read`},
	} {
		code, _, body := c.get("/statements?" + tc.query)
		wantPage(t, tc.query, code, http.StatusBadRequest, body, tc.want)
	}
	if n := c.fake.evaluations(); n != before {
		t.Errorf("bad input read the ledger %d times", n-before)
	}
	// A month without SLA lines and no currency: the CLI's message, as a field.
	code, _, body = c.get("/statements?month=2027-02")
	wantPage(t, "no currency", code, http.StatusBadRequest, body, "currency: no line of wallet client in 2027-02 names an SLA period")

	// The vendor has no statement.
	v := newConsoleTest(t, roleVendor, "vendor")
	v.signIn()
	code, _, body = v.get("/statements?month=2026-12")
	wantPage(t, "vendor", code, http.StatusForbidden, body, "The vendor role may not open this page (it is for provider, client).")
	if n := v.fake.evaluations(); n != 0 {
		t.Errorf("vendor: %d reads", n)
	}
	if _, _, body := v.get("/wallet"); strings.Contains(body, `href="/statements"`) {
		t.Error("the vendor's navigation offers statements")
	}
}

func TestConsoleInvoice(t *testing.T) {
	for _, role := range []string{roleProvider, roleClient} {
		t.Run(role, func(t *testing.T) {
			c := moneyConsole(t, role)
			c.signIn()
			inv, err := buildInvoice(t.Context(), newBillingSource(c.fake, "agreement", "refund", "slasa"), billSLA, testP0, dueDate{Days: 30})
			if err != nil {
				t.Fatal(err)
			}
			code, h, got := c.download("/slas/" + billSLA + "/invoice?period=" + url.QueryEscape(testP0))
			if code != http.StatusOK || h.Get("Content-Type") != "application/pdf" ||
				h.Get("Content-Disposition") != `attachment; filename="`+inv.Number+`.pdf"` || !bytes.HasPrefix(got, []byte("%PDF-")) {
				t.Fatalf("PDF: %d %v\n%.200s", code, h, got)
			}
			code, h, got = c.download("/slas/" + billSLA + "/invoice?format=csv&period=" + url.QueryEscape(testP0))
			var want bytes.Buffer
			if inv.WriteCSV(&want) != nil || code != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("CSV: %d %v\n%s", code, h, got)
			}
		})
	}

	c := moneyConsole(t, roleClient)
	c.signIn()
	before := c.fake.evaluations()
	for _, tc := range []struct{ path, want string }{
		{"/slas/" + billSLA + "/invoice", `period: &#34;&#34; is not the period&#39;s start as RFC 3339 (e.g. 2026-12-01T00:00:00Z): nothing was read`},
		{"/slas/" + billSLA + "/invoice?period=yesterday", `period: &#34;yesterday&#34; is not the period&#39;s start as RFC 3339`},
		{"/slas/" + billSLA + "/invoice?format=docx&period=" + url.QueryEscape(testP0), `format: &#34;docx&#34; is not pdf, csv or json: nothing was read`},
	} {
		code, _, body := c.get(tc.path)
		wantPage(t, tc.path, code, http.StatusBadRequest, body, tc.want)
	}
	if n := c.fake.evaluations(); n != before {
		t.Errorf("bad input read the ledger %d times", n-before)
	}

	// Not the SLA's client (another identity of ClientOrg): refused before the escrow is read.
	o := moneyConsole(t, roleClient)
	o.fake.caller = identity.ID{MSPID: "ClientOrgMSP", Subject: "CN=other@clientorg.slasa.local,OU=client", Issuer: clientCA}
	o.signIn()
	code, _, body := o.get("/slas/" + billSLA + "/invoice?period=" + url.QueryEscape(testP0))
	wantPage(t, "not a party", code, http.StatusForbidden, body, "are not the client of SLA demo-sla: only the SLA&#39;s provider and client get its invoices.")
	if n := o.fake.calls[fakeKey("refund", "GetEscrow", billSLA, testP0)]; n != 0 {
		t.Errorf("the escrow was read %d times for a non-party", n)
	}

	// A vendor: no invoice.
	v := newConsoleTest(t, roleVendor, "vendor")
	v.signIn()
	code, _, body = v.get("/slas/" + billSLA + "/invoice?period=" + url.QueryEscape(testP0))
	wantPage(t, "vendor", code, http.StatusForbidden, body, "The vendor role may not open this page")
	if n := v.fake.evaluations(); n != 0 {
		t.Errorf("vendor: %d reads", n)
	}
}
