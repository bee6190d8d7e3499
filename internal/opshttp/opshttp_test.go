package opshttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthAndMetrics(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	o := New(func() time.Time { return now })
	peer := NewFreshness("the peer", 30*time.Second, start)
	o.Check("peer", peer.Check)
	var n int64 = 1_500_000
	o.Counter("x_bytes_total", "Bytes.", func() int64 { return n })
	o.Gauge("x_depth", "Depth.", func() int64 { return 3 })
	mux := o.Mux(func(context.Context) map[string]any { return map[string]any{"slas": 2, "status": "overwritten"} })

	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(b)
	}
	for _, tc := range []struct {
		name    string
		advance time.Duration
		touch   bool
		fail    error
		code    int
		reason  string
	}{
		{"grace period", 30 * time.Second, false, nil, 200, ""},
		{"never reached", time.Second, false, errors.New("dial refused"), 503,
			"peer: no successful contact with the peer since start 31s ago (limit 30s); last error: dial refused"},
		{"contact", 0, true, nil, 200, ""},
		{"fresh", 30 * time.Second, false, nil, 200, ""},
		{"stale", 5 * time.Second, false, nil, 503, "peer: last successful contact with the peer 35s ago (limit 30s)"},
	} {
		now = now.Add(tc.advance)
		if tc.touch {
			peer.OK(now)
		}
		if tc.fail != nil {
			peer.Failed(tc.fail)
		}
		code, body := get("/healthz")
		var h struct {
			Status  string   `json:"status"`
			Reasons []string `json:"reasons"`
			Checks  []Result `json:"checks"`
			SLAs    int      `json:"slas"`
		}
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, body)
		}
		wantStatus, wantReasons := StatusOK, 0
		if tc.reason != "" {
			wantStatus, wantReasons = StatusDegraded, 1
		}
		if code != tc.code || h.Status != wantStatus || len(h.Reasons) != wantReasons || h.SLAs != 2 || len(h.Checks) != 1 || h.Checks[0].OK != (tc.reason == "") {
			t.Fatalf("%s: %d %s", tc.name, code, body)
		}
		if tc.reason != "" && h.Reasons[0] != tc.reason {
			t.Fatalf("%s: reason %q, want %q", tc.name, h.Reasons[0], tc.reason)
		}
	}

	code, body := get("/metrics")
	for _, want := range []string{
		"# HELP x_bytes_total Bytes.\n# TYPE x_bytes_total counter\nx_bytes_total 1.5e+06\n",
		"# TYPE x_depth gauge\nx_depth 3\n",
		"\nprocess_open_fds ", "\ngo_goroutines ",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics %d lacks %q:\n%s", code, want, body)
		}
	}
	s, err := o.Samples()
	if err != nil || len(s) != 2 || s["x_bytes_total"] != "1500000" || s["x_depth"] != "3" {
		t.Fatalf("Samples = %v, %v", s, err)
	}
	// Each Ops has its own registry: the same names register again; one
	// name takes several label values.
	o2 := New(nil)
	o2.Counter("x_bytes_total", "Bytes.", func() int64 { return 0 })
	for i, k := range []string{"b", "a"} {
		o2.CounterWith("x_errors_total", "Errors.", map[string]string{"kind": k}, func() int64 { return int64(i) })
	}
	if s, err := o2.Samples(); err != nil || len(s) != 3 || s[`x_errors_total{kind="a"}`] != "1" || s[`x_errors_total{kind="b"}`] != "0" {
		t.Fatalf("Samples = %v, %v", s, err)
	}
}
