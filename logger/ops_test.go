package logger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/logger/ticketfeed"
)

// opsGet serves one GET of h.
func opsGet(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// TestHandler drives a publisher through the fakes (samples, an IPFS and a
// ledger failure, one batch published, a late sample, a second window
// spooled) and a ticket feed, then checks every logger_* sample of /metrics
// and /healthz, which turns degraded when IPFS keeps failing for StaleAfter.
func TestHandler(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, t0)
	p := r.open()
	reader := &fakeTickets{timelines: map[string][]ticketfeed.Transition{"sla-1/T-1": {tr(1, "2026-03-02T10:00:00.5Z", "CreateTicket", "critical")}}}
	feed, err := NewTicketFeed(TicketFeedConfig{Reader: reader,
		Sinks:     map[string]TicketSink{"sla-1": {Append: (&fakeSpool{}).Append, Source: ticketfeed.Source{Probe: "tickets", Zone: "site-1", Region: "metro-1"}}},
		StatePath: filepath.Join(t.TempDir(), "tickets.json"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(opshttp.New(r.clock.Now), []*Publisher{p}, feed, r.clock.Now)
	id := p.cfg.SLA.ID

	for _, at := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		if err := p.Spool().Append(sampleLine(t, t0.Add(at), "p1", "zone-a", true)); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Set(t0.Add(12 * time.Second))
	r.store.fail, r.ledger.failAnchor = 1, 1
	var steps []string
	for range 5 {
		s, err := p.Step(ctx)
		steps = append(steps, fmt.Sprint(s, err != nil))
	}
	if strings.Join(steps, ",") != "cut false,idle true,added false,idle true,anchored false" {
		t.Fatalf("steps %v", steps)
	}
	if err := p.Spool().Append(sampleLine(t, t0.Add(5*time.Second), "p1", "zone-a", true)); err == nil {
		t.Fatal("a sample of the published window was accepted")
	}
	if err := p.Spool().Append(sampleLine(t, t0.Add(15*time.Second), "p1", "zone-a", true)); err != nil {
		t.Fatal(err)
	}
	if err := feed.Handle(ctx, payload("sla-1", "T-1", 1)); err != nil {
		t.Fatal(err)
	}
	r.clock.Set(t0.Add(35 * time.Second)) // windows [10s,20s) and [20s,30s) have ended

	code, text := opsGet(h, "/metrics")
	got := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if name, v, ok := strings.Cut(l, " "); ok && strings.HasPrefix(name, "logger_") {
			got[name] = v
		}
	}
	lbl := fmt.Sprintf("{sla=%q}", id)
	want := map[string]string{
		"logger_samples_spooled_total" + lbl: "4", "logger_samples_late_total" + lbl: "1",
		"logger_batches_published_total" + lbl: "1", "logger_records_published_total" + lbl: "3",
		"logger_next_seq" + lbl: "2", "logger_step_errors_total" + lbl: "2",
		"logger_batches_added_total" + lbl: "1", "logger_batches_anchored_total" + lbl: "1",
		"logger_pending_batch" + lbl: "0", "logger_spool_segments" + lbl: "1", "logger_windows_behind" + lbl: "2",
		"logger_ticket_events_total": "1", "logger_ticket_lines_total": "1", "logger_ticket_late_total": "0", "logger_ticket_errors_total": "0",
	}
	if code != 200 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metrics %d:\n got %v\nwant %v", code, got, want)
	}
	if !strings.Contains(text, "# TYPE logger_batches_published_total counter\nlogger_batches_published_total"+lbl+" 1\n") ||
		!strings.Contains(text, "# TYPE logger_spool_segments gauge\n") || !strings.Contains(text, "\nprocess_resident_memory_bytes ") {
		t.Fatalf("metrics text:\n%s", text)
	}

	var body struct {
		Status  string          `json:"status"`
		Reasons []string        `json:"reasons"`
		SLAs    []Stats         `json:"slas"`
		Tickets TicketFeedStats `json:"tickets"`
	}
	health := func() int {
		t.Helper()
		code, b := opsGet(h, "/healthz")
		body.Reasons = nil
		if err := json.Unmarshal([]byte(b), &body); err != nil {
			t.Fatalf("healthz %s: %v", b, err)
		}
		return code
	}
	if code := health(); code != 200 || body.Status != "ok" || len(body.Reasons) != 0 || len(body.SLAs) != 1 || body.SLAs[0].Anchored != 1 || body.Tickets.Written != 1 {
		t.Fatalf("healthz %d %+v", code, body)
	}
	// IPFS goes away: the next window is cut, then adding it fails on and
	// on; degraded once the last good step is older than StaleAfter (1m).
	r.store.fail = 1000
	if s, err := p.Step(ctx); s != StepCut || err != nil {
		t.Fatalf("cut: %v %v", s, err)
	}
	for i := 0; i <= 60; i++ {
		r.clock.Set(t0.Add(35*time.Second + time.Duration(i)*time.Second))
		if _, err := p.Step(ctx); err == nil {
			t.Fatal("add succeeded with IPFS down")
		}
		if code := health(); code != 200 {
			t.Fatalf("degraded %s after the last good step: %+v", time.Duration(i)*time.Second, body)
		}
	}
	r.clock.Set(t0.Add(35*time.Second + 61*time.Second))
	wantReason := "sla " + id + ": last successful contact with IPFS and the ledger (a successful publishing step) 1m1s ago (limit 1m0s); last error: adding batch 2 to IPFS: connection refused"
	if code := health(); code != 503 || body.Status != "degraded" || strings.Join(body.Reasons, "|") != wantReason {
		t.Fatalf("healthz with IPFS down: %d %+v", code, body)
	}
	// IPFS is back: healthy again after one good step.
	r.store.fail = 0
	if s, err := p.Step(ctx); s != StepAdded || err != nil {
		t.Fatalf("add: %v %v", s, err)
	}
	if code := health(); code != 200 || body.Status != "ok" {
		t.Fatalf("healthz after recovery: %d %+v", code, body)
	}
}
