package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/slasa/slasa/signedsla"
)

// withSupportSLA makes GetSLA of testSLA answer examples/telecom's document (severities critical, high,
// medium, low) and returns the document.
func withSupportSLA(t *testing.T, c *consoleTest) string {
	t.Helper()
	doc, err := os.ReadFile(repo("examples", "telecom", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := json.Marshal(signedsla.Record{Version: signedsla.Version, Document: doc, Digest: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	c.fake.set([]byte(`{"id":"`+testSLA+`","status":"ACTIVE","signed":`+string(rec)+`}`), "agreement", "GetSLA", testSLA)
	return string(doc)
}

// wantSubmits checks the fake's transactions.
func wantSubmits(t *testing.T, what string, c *consoleTest, want []fakeSubmit) {
	t.Helper()
	if got, w := mustJSON(t, c.fake.tickets.submits), mustJSON(t, want); string(got) != string(w) {
		t.Errorf("%s: submitted\n%s\nwant\n%s", what, got, w)
	}
	c.fake.tickets.submits = nil
}

// refusal is a request the console must refuse without submitting.
type refusal struct {
	path string
	form url.Values
	code int
	want string
}

// wantRefused posts each refusal and checks that nothing was submitted.
func wantRefused(t *testing.T, c *consoleTest, refusals []refusal) {
	t.Helper()
	for _, tt := range refusals {
		code, _, body := c.post(tt.path, tt.form)
		wantPage(t, tt.path+" "+tt.form.Encode(), code, tt.code, body, tt.want)
	}
	if len(c.fake.tickets.submits) != 0 {
		t.Fatalf("refusals submitted %+v", c.fake.tickets.submits)
	}
}

// TestConsoleTicketCreate: the client and the provider open a ticket with a severity of the SLA (the
// same CreateTicket as slasa ticket create: the SLA document and the input in the transient map,
// endorsed by the provider's and the client's organizations); the vendor may not; bad input and a
// missing CSRF token submit nothing.
func TestConsoleTicketCreate(t *testing.T) {
	for _, role := range []string{roleProvider, roleClient} {
		c := newConsoleTest(t, role, "")
		doc := withSupportSLA(t, c)
		c.fake.tickets.views = []string{testView(testRecord, testClock)}
		csrf := c.signIn()
		code, _, body := c.get("/slas/" + testSLA + "/tickets/new")
		wantPage(t, role+": new ticket page", code, http.StatusOK, body, `action="/slas/telecom-tier1-2026/tickets"`,
			`<option value="critical" >critical</option><option value="high" >high</option><option value="medium" >medium</option><option value="low" >low</option>`,
			`name="ticket" value="T-`)
		code, _, body = c.get("/tickets?sla=" + testSLA)
		wantPage(t, role+": ticket list", code, http.StatusBadGateway, body, `href="/slas/telecom-tier1-2026/tickets/new" id="newticket"`)

		path := "/slas/" + testSLA + "/tickets"
		ok := url.Values{"csrf": {csrf}, "ticket": {"TT-2"}, "severity": {"high"}, "type": {"outage"}, "description": {"core router down"}}
		with := func(k, v string) url.Values {
			f := url.Values{}
			for key, vs := range ok {
				f[key] = vs
			}
			f.Set(k, v)
			return f
		}
		wantRefused(t, c, []refusal{
			{path, with("csrf", ""), http.StatusForbidden, "The form&#39;s CSRF token is missing or wrong: nothing was submitted."},
			{path, with("ticket", "TT 2"), http.StatusBadRequest, "ticket: &#34;TT 2&#34; is not 1..64 letters, digits, &#39;.&#39;, &#39;_&#39; or &#39;-&#39; starting with a letter or digit: nothing was submitted."},
			{path, with("severity", "urgent"), http.StatusBadRequest, "severity: &#34;urgent&#34; is not a severity of SLA telecom-tier1-2026 (critical, high, medium, low): nothing was submitted."},
			{path, with("type", "out\nage"), http.StatusBadRequest, "type: must be one line: nothing was submitted."},
			{path, with("description", ""), http.StatusBadRequest, "description is required: nothing was submitted."},
			{path, with("description", strings.Repeat("d", 4097)), http.StatusBadRequest, "description: 4097 bytes, more than 4096: nothing was submitted."},
		})
		code, loc, body := c.post(path, ok)
		if code != http.StatusSeeOther || loc != "/tickets/"+testSLA+"/TT-2?done=create&tx=tx1" {
			t.Fatalf("%s: create: %d %q\n%s", role, code, loc, body)
		}
		wantSubmits(t, role+": create", c, []fakeSubmit{{CC: "ticket", Fn: "CreateTicket", Args: []string{testSLA, "TT-2"},
			Transient: map[string]string{"sla": doc, "input": `{"description":"core router down","severity":"high","type":"outage"}`},
			Orgs:      []string{"ClientOrgMSP", "ProviderOrgMSP"}}})
		tx := strings.Repeat("cd", 32)
		code, _, body = c.get("/tickets/" + testSLA + "/TT-2?done=create&tx=" + tx)
		wantPage(t, role+": notice", code, http.StatusOK, body, "Ticket created: transaction CreateTicket committed (tx "+tx+").")
	}

	v := newConsoleTest(t, roleVendor, "")
	withSupportSLA(t, v)
	csrf := v.signIn()
	code, _, body := v.get("/slas/" + testSLA + "/tickets/new")
	wantPage(t, "vendor: new ticket page", code, http.StatusForbidden, body, "The vendor role may not create a ticket (client, provider may).")
	wantRefused(t, v, []refusal{{"/slas/" + testSLA + "/tickets", url.Values{"csrf": {csrf}, "ticket": {"TT-2"}, "severity": {"high"}, "type": {"outage"}, "description": {"d"}},
		http.StatusForbidden, "The vendor role may not create a ticket (client, provider may): nothing was submitted."}})
	if n := v.fake.evaluations(); n != 0 {
		t.Errorf("the vendor's refused creation read the ledger %d times", n)
	}
	code, _, body = v.get("/tickets?sla=" + testSLA)
	if strings.Contains(body, "newticket") {
		t.Errorf("the vendor's ticket list links to the create form (%d)", code)
	}
}

// TestConsoleTicketForms: each role is offered only the forms the chaincode lets it use in the
// ticket's status.
func TestConsoleTicketForms(t *testing.T) {
	due := `{"target":"closure","at":"2026-12-07T11:00:00Z","elapsed_ms":7200000,"remaining_ms":7200000,"used_bps":5000,"paused":false}`
	for _, tt := range []struct {
		role, record, clock string
		want, not           []string
	}{
		{roleVendor, testRecord, testClock, []string{"/update\"", "/pause\"", "/resolve\"", `<option value="waiting_on_customer">`}, []string{"/assign\"", "/severity\"", "/escalate\"", "/close\""}},
		{roleVendor, testRecord, due, []string{"/escalate\"", `name="level" value="1"`, "Escalate to level 1"}, nil},
		{roleClient, testRecord, testClock, []string{"/pause\"", "/severity\"", "now critical"}, []string{"/update\"", "/assign\"", "/resolve\"", "/escalate\""}},
		{roleProvider, ticketRecordWith("open", ""), "", []string{"/assign\"", "/pause\"", "/severity\"", `name="vendor-msp"`}, []string{"/update\"", "/ack\"", `name="vendor" `}},
		{roleVendor, ticketRecordWith("waiting_on_customer", "in_progress"), "", []string{"/resume\""}, []string{"/pause\"", "/update\"", "/resolve\""}},
		{roleProvider, ticketRecordWith("resolved", ""), "", []string{"/close\"", "/reopen\""}, []string{"/pause\"", "/severity\"", "/assign\""}},
	} {
		c := newConsoleTest(t, tt.role, "")
		c.fake.tickets.views = []string{testView(tt.record, tt.clock)}
		c.signIn()
		code, _, body := c.get("/tickets/" + testSLA + "/TT-1")
		what := tt.role + " on " + tt.record[strings.Index(tt.record, `"status"`):][:30]
		wantPage(t, what, code, http.StatusOK, body, tt.want...)
		for _, no := range tt.not {
			if strings.Contains(body, no) {
				t.Errorf("%s: offered %s", what, no)
			}
		}
	}
}

// TestConsoleTicketTransitions: assign, update, pause, severity and escalate submit the same
// transactions as the ticket commands for the roles the chaincode allows, and refuse other roles (403),
// bad input (400) and a missing CSRF token (403) without submitting.
func TestConsoleTicketTransitions(t *testing.T) {
	path := "/tickets/" + testSLA + "/TT-1/"
	all := []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}

	// The provider assigns an open ticket.
	open := ticketRecordWith("open", "")
	p := newConsoleTest(t, roleProvider, "")
	p.fake.tickets.views = []string{testView(open, "")}
	csrf := p.signIn()
	vendorForm := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "vendor-msp": {"VendorOrgMSP"}, "vendor-subject": {vendorDN}, "vendor-issuer": {vendorCA}, "note": {"yours"}}
	}
	wantRefused(t, p, []refusal{
		{path + "assign", url.Values{"vendor-msp": {"VendorOrgMSP"}}, http.StatusForbidden, "CSRF token is missing or wrong: nothing was submitted"},
		{path + "assign", url.Values{"csrf": {csrf}}, http.StatusBadRequest, "assign needs the vendor: vendor NAME, or vendor-msp, vendor-subject and vendor-issuer: nothing was submitted."},
		{path + "assign", url.Values{"csrf": {csrf}, "vendor": {"vendor"}}, http.StatusBadRequest, "vendor NAME names an identity of the local network&#39;s run folder; with an explicit identity give vendor-msp, vendor-subject and vendor-issuer: nothing was submitted."},
		{path + "assign", url.Values{"csrf": {csrf}, "vendor-msp": {"VendorOrgMSP"}, "vendor-subject": {vendorDN}}, http.StatusBadRequest, "vendor-issuer"},
		{path + "assign", url.Values{"csrf": {csrf}, "vendor-msp": {"ClientOrgMSP"}, "vendor-subject": {clientDN}, "vendor-issuer": {clientCA}}, http.StatusBadRequest,
			"vendor: ClientOrgMSP is the customer&#39;s organization; the vendor must be another organization: nothing was submitted."},
		{path + "update", url.Values{"csrf": {csrf}, "reason": {"r"}}, http.StatusForbidden, "The provider role may not update a ticket (vendor may): nothing was submitted."},
	})
	code, loc, body := p.post(path+"assign", vendorForm(csrf))
	if code != http.StatusSeeOther || loc != "/tickets/"+testSLA+"/TT-1?done=assign&tx=tx1" {
		t.Fatalf("assign: %d %q\n%s", code, loc, body)
	}
	wantSubmits(t, "assign", p, []fakeSubmit{{CC: "ticket", Fn: "AssignVendor", Args: []string{testSLA, "TT-1"},
		Transient: map[string]string{"ticket": open, "input": `{"note":"yours","vendor":` + testVendor + `}`}, Orgs: all}})
	tx := strings.Repeat("ef", 32)
	code, _, body = p.get("/tickets/" + testSLA + "/TT-1?done=assign&tx=" + tx)
	wantPage(t, "assign notice", code, http.StatusOK, body, "Ticket assigned: transaction AssignVendor committed (tx "+tx+").")

	// The vendor updates and pauses an in-progress ticket, and escalates when a level is due.
	v := newConsoleTest(t, roleVendor, "")
	v.fake.tickets.views = []string{testView(testRecord, testClock)}
	csrf = v.signIn()
	wantRefused(t, v, []refusal{
		{path + "update", url.Values{"reason": {"r"}}, http.StatusForbidden, "CSRF token is missing or wrong: nothing was submitted"},
		{path + "update", url.Values{"csrf": {csrf}}, http.StatusBadRequest, "reason is required: nothing was submitted."},
		{path + "update", url.Values{"csrf": {csrf}, "reason": {"r"}, "vendor-ticket-id": {"V\n1"}}, http.StatusBadRequest, "vendor-ticket-id: must be one line: nothing was submitted."},
		{path + "update", url.Values{"csrf": {csrf}, "reason": {"r"}, "vendor-ticket-id": {strings.Repeat("v", 129)}}, http.StatusBadRequest, "vendor-ticket-id: 129 bytes, more than 128: nothing was submitted."},
		{path + "pause", url.Values{"csrf": {csrf}, "reason": {"r"}}, http.StatusBadRequest, "status is required (a pause status of the SLA, e.g. waiting_on_customer): nothing was submitted."},
		{path + "pause", url.Values{"csrf": {csrf}, "status": {"Holiday"}, "reason": {"r"}}, http.StatusBadRequest, "status: &#34;Holiday&#34; is not a status (lower-case letters, digits and &#39;_&#39;): nothing was submitted."},
		{path + "pause", url.Values{"csrf": {csrf}, "status": {"holiday"}, "reason": {"r"}}, http.StatusBadRequest,
			"status: &#34;holiday&#34; is not a pause status of SLA telecom-tier1-2026 (waiting_on_customer, customer_caused): nothing was submitted."},
		{path + "pause", url.Values{"csrf": {csrf}, "status": {"waiting_on_customer"}}, http.StatusBadRequest, "reason is required: nothing was submitted."},
		{path + "escalate", url.Values{"csrf": {csrf}, "level": {"0"}}, http.StatusBadRequest, "level: &#34;0&#34; is not an escalation level 1..5: nothing was submitted."},
		{path + "escalate", url.Values{"csrf": {csrf}, "level": {"4"}}, http.StatusBadRequest, "level: 4 is not a level of SLA telecom-tier1-2026&#39;s escalation (1..3): nothing was submitted."},
		{path + "severity", url.Values{"csrf": {csrf}, "severity": {"high"}, "reason": {"r"}}, http.StatusForbidden,
			"The vendor role may not change the severity of a ticket (client, provider may): nothing was submitted."},
		{path + "assign", vendorForm(csrf), http.StatusForbidden, "The vendor role may not assign a ticket (provider may): nothing was submitted."},
	})
	if code, _, _ := v.post(path+"update", url.Values{"csrf": {csrf}, "reason": {"line card ordered"}, "vendor-ticket-id": {"VX-42"}}); code != http.StatusSeeOther {
		t.Fatalf("update: %d", code)
	}
	if code, _, _ := v.post(path+"pause", url.Values{"csrf": {csrf}, "status": {"waiting_on_customer"}, "reason": {"site access"}}); code != http.StatusSeeOther {
		t.Fatalf("pause: %d", code)
	}
	if code, _, _ := v.post(path+"escalate", url.Values{"csrf": {csrf}, "level": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("escalate: %d", code)
	}
	wantSubmits(t, "update, pause, escalate", v, []fakeSubmit{
		{CC: "ticket", Fn: "UpdateTicket", Args: []string{testSLA, "TT-1"},
			Transient: map[string]string{"ticket": testRecord, "input": `{"reason":"line card ordered","vendor_ticket_id":"VX-42"}`}, Orgs: all},
		{CC: "ticket", Fn: "PauseTicket", Args: []string{testSLA, "TT-1"},
			Transient: map[string]string{"ticket": testRecord, "input": `{"reason":"site access","status":"waiting_on_customer"}`}, Orgs: all},
		{CC: "ticket", Fn: "Escalate", Args: []string{testSLA, "TT-1", "1"}, Transient: map[string]string{"ticket": testRecord}, Orgs: all},
	})

	// The client changes the severity, with the SLA document; a severity the SLA lacks or the
	// ticket's own is refused.
	c := newConsoleTest(t, roleClient, "")
	doc := withSupportSLA(t, c)
	c.fake.tickets.views = []string{testView(testRecord, testClock)}
	csrf = c.signIn()
	wantRefused(t, c, []refusal{
		{path + "severity", url.Values{"severity": {"high"}, "reason": {"r"}}, http.StatusForbidden, "CSRF token is missing or wrong: nothing was submitted"},
		{path + "severity", url.Values{"csrf": {csrf}, "reason": {"r"}}, http.StatusBadRequest, "severity is required: nothing was submitted."},
		{path + "severity", url.Values{"csrf": {csrf}, "severity": {"high"}}, http.StatusBadRequest, "reason is required: nothing was submitted."},
		{path + "severity", url.Values{"csrf": {csrf}, "severity": {"urgent"}, "reason": {"r"}}, http.StatusBadRequest,
			"severity: &#34;urgent&#34; is not a severity of SLA telecom-tier1-2026 (critical, high, medium, low): nothing was submitted."},
		{path + "severity", url.Values{"csrf": {csrf}, "severity": {"critical"}, "reason": {"r"}}, http.StatusBadRequest,
			"severity: ticket TT-1 of SLA telecom-tier1-2026 is critical already: nothing was submitted."},
		{path + "update", url.Values{"csrf": {csrf}, "reason": {"r"}}, http.StatusForbidden, "The client role may not update a ticket (vendor may): nothing was submitted."},
		{path + "assign", vendorForm(csrf), http.StatusForbidden, "The client role may not assign a ticket (provider may): nothing was submitted."},
	})
	if code, loc, body := c.post(path+"severity", url.Values{"csrf": {csrf}, "severity": {"high"}, "reason": {"workaround in place"}}); code != http.StatusSeeOther ||
		loc != "/tickets/"+testSLA+"/TT-1?done=severity&tx=tx1" {
		t.Fatalf("severity: %d %q\n%s", code, loc, body)
	}
	wantSubmits(t, "severity", c, []fakeSubmit{{CC: "ticket", Fn: "ChangeSeverity", Args: []string{testSLA, "TT-1"},
		Transient: map[string]string{"sla": doc, "ticket": testRecord, "input": `{"reason":"workaround in place","severity":"high"}`}, Orgs: all}})
}
