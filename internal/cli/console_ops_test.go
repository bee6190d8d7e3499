package cli

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/slasa/slasa/internal/opshttp"
)

// opsConsole is a console test whose pages and ledger are counted, with
// its operations endpoint served next to it.
func opsConsole(t *testing.T) (*consoleTest, *opshttp.Ops, *httptest.Server) {
	t.Helper()
	c := newConsoleTest(t, roleClient, "")
	ops := &consoleOps{}
	ops.countLedgers(c.srv.ledgers)
	c.ts.Close()
	c.ts = httptest.NewServer(ops.handler(c.srv))
	t.Cleanup(c.ts.Close)
	reg := opshttp.New(nil)
	ots := httptest.NewServer(c.srv.opsHandler(ops, reg))
	t.Cleanup(ots.Close)
	return c, reg, ots
}

func TestConsoleOpsMetrics(t *testing.T) {
	c, reg, _ := opsConsole(t)
	c.signIn()                    // GET /login 200, POST /login 303, GET /events 200
	c.get("/no-such-page")        // 404
	c.get("/tickets/no-sla/TT-1") // the fake has no such ticket: an error page, one failed query
	// Two transactions through the counted ledger, the second refused.
	c.fake.tickets.submitErrs = []error{nil, errors.New("endorsement failed")}
	l := c.srv.ledgers[c.user]
	for range 2 {
		_, _ = l.Submit(t.Context(), "ticket", "AcknowledgeTicket", []string{"s", "TT-1"}, nil, nil)
	}
	got, err := reg.Samples()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		`console_requests_total{code="1xx"}`: "0",
		`console_requests_total{code="2xx"}`: "2",
		`console_requests_total{code="3xx"}`: "1",
		`console_requests_total{code="4xx"}`: "1",
		`console_requests_total{code="5xx"}`: "1",
		"console_evaluations_total":          "1",
		"console_evaluation_errors_total":    "1",
		"console_transactions_total":         "2",
		"console_transaction_errors_total":   "1",
		"console_event_streams":              "0",
		"console_sessions":                   "1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestConsoleOpsHealth(t *testing.T) {
	c, _, ots := opsConsole(t)
	health := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(ots.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("/healthz: %v\n%s", err, raw)
		}
		return resp.StatusCode, body
	}
	c.fake.errs[fakeKey("agreement", "GetConfig")] = errors.New("connection refused")
	code, body := health()
	if code != http.StatusServiceUnavailable || body["status"] != opshttp.StatusDegraded {
		t.Fatalf("peer down: %d %v, want 503 degraded", code, body)
	}
	reasons, _ := json.Marshal(body["reasons"])
	if want := `["peer: agreement.GetConfig as client-user: connection refused"]`; string(reasons) != want {
		t.Errorf("reasons %s, want %s", reasons, want)
	}
	delete(c.fake.errs, fakeKey("agreement", "GetConfig"))
	c.fake.set(map[string]any{"digest": "ab"}, "agreement", "GetConfig")
	code, body = health()
	if code != http.StatusOK || body["status"] != opshttp.StatusOK || body["organization"] != "ClientOrgMSP" {
		t.Fatalf("peer up: %d %v, want 200 ok for ClientOrgMSP", code, body)
	}
	resp, err := http.Get(ots.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics: %d", resp.StatusCode)
	}
}
