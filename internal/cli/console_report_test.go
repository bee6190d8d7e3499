package cli

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/verdict"
)

// reportOf is a verified report of a period with one availability value.
func reportOf(period, end, value, exact string, met bool) *verdictReport {
	v := verdict.Verdict{SLAID: billSLA, Period: period, PeriodEnd: end, Violated: !met, Currency: "USD"}
	if !met {
		v.CreditBPS, v.CreditAmount = 3000, 30000
	}
	return &verdictReport{Verdict: &verdict.Signed{Verdict: v}, Verified: "report matches the verdict's report digest",
		Report: &driver.Outcome{SLAID: billSLA, Period: period, PeriodEnd: end, Violated: !met,
			Metrics: []driver.MetricOutcome{{ID: "availability", Name: "Availability", Unit: "percent", Value: value, Exact: exact, Objective: ">= 99.99", Met: met}}}}
}

func TestConsoleReport(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 5, 0, 0, time.UTC) }
	c.fake.set(consoleSLAView(t), "agreement", "GetSLA", billSLA)
	c.fake.reports = map[string]*verdictReport{
		billSLA + " " + testP0: reportOf(testP0, testP0End, "98.5", "197/2", false),
		billSLA + " " + testP1: reportOf(testP1, testP1End, "100", "100", true),
	}
	c.signIn()
	code, _, body := c.get("/slas/" + billSLA + "/report")
	// y axis: 98.5 .. 100 with a 10 % margin (98.35 .. 100.15) over rows 20 .. 180: 98.5 at 20 + 160 * 1.65/1.8 = 167, 100 at 33, the objective 99.99 at 34; x: two slots of 275 from 70.
	wantPage(t, "report", code, http.StatusOK, body, `<svg class="chart" id="chart-availability"`,
		`<polyline points="207,167 482,33"`, `<circle cx="207" cy="167" r="4" fill="#c0392b"><title>2026-12-06T10:00:00Z: 98.5% (missed)</title></circle>`,
		`<circle cx="482" cy="33" r="4" fill="#2e8b57">`, `<line class="objective" x1="70" y1="34" x2="620" y2="34"`,
		">100.1500<", ">98.3500<", ">12-06T10:00<",
		`<td class="breached">violated</td>`, "<td>30%</td><td>300.00 USD</td>", `<div class="met">availability: 100 (&gt;= 99.99)</div>`)
	if strings.Index(body, ">"+testP0+"<") > strings.Index(body, ">"+testP1+"<") {
		t.Error("periods not oldest first")
	}

	// A period not ended yet is not asked; an enclave error is shown in its row.
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC) }
	delete(c.fake.reports, billSLA+" "+testP0)
	c.fake.reported = 0
	code, _, body = c.get("/slas/" + billSLA + "/report")
	wantPage(t, "enclave error", code, http.StatusOK, body, "slaenclave.Evaluate: fake: no report of period 2026-12-06T10:00:00Z of SLA demo-sla")
	if c.fake.reported != 1 || strings.Contains(body, testP1+"</td>") {
		t.Errorf("asked %d reports, want 1 (the period that ended)", c.fake.reported)
	}

	// Another identity of the client's organization: not a party, no report asked.
	o := newConsoleTest(t, roleClient, "")
	o.fake.caller = identity.ID{MSPID: "ClientOrgMSP", Subject: "CN=other@clientorg.slasa.local", Issuer: clientCA}
	o.fake.set(consoleSLAView(t), "agreement", "GetSLA", billSLA)
	o.signIn()
	code, _, body = o.get("/slas/" + billSLA + "/report")
	wantPage(t, "not a party", code, http.StatusForbidden, body, "are not the client of SLA demo-sla: only the SLA&#39;s provider and client may read its reports.")
	if o.fake.reported != 0 {
		t.Error("a non-party's report was asked")
	}
	v := newConsoleTest(t, roleVendor, "")
	v.signIn()
	code, _, body = v.get("/slas/" + billSLA + "/report")
	wantPage(t, "vendor", code, http.StatusForbidden, body, "The vendor role may not open this page")
	if v.fake.evaluations() != 0 || v.fake.reported != 0 {
		t.Error("the vendor's refused report read")
	}
}
