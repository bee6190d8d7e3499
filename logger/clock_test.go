package logger

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/opshttp"
)

func TestClockCheck(t *testing.T) {
	base := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	date := func(off time.Duration) string { return base.Add(off).Format(http.TimeFormat) }
	// The services read their clocks between sent and received, half a second into the second the Date
	// header names.
	sent, received := base.Add(400*time.Millisecond), base.Add(600*time.Millisecond)

	c := NewClockCheck(10 * time.Second)
	if err := c.Check(context.Background(), base); err != nil {
		t.Fatalf("no response yet: %v", err)
	}
	// Two services 2 minutes ahead of the logger: not enough responses to judge.
	c.Observe(sent, received, date(2*time.Minute))
	c.Observe(sent, received, date(2*time.Minute))
	c.Observe(sent, received, "")          // no Date header: ignored
	c.Observe(sent, received, "yesterday") // malformed: ignored
	if off, n := c.Offset(); n != 2 || off != 2*time.Minute {
		t.Fatalf("Offset = %v, %d", off, n)
	}
	if err := c.Check(context.Background(), base); err != nil {
		t.Fatalf("two responses: %v", err)
	}
	c.Observe(sent, received, date(2*time.Minute))
	want := "the logger's clock is 2m0s behind the probed services' clocks (median of the Date headers of the latest 3 responses; limit 10s): samples and anchors carry this clock's times"
	if err := c.Check(context.Background(), base); err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %s", err, want)
	}

	// A logger 2 minutes ahead; one service with a wrong clock does not move the median.
	c = NewClockCheck(10 * time.Second)
	for i := 0; i < 4; i++ {
		c.Observe(sent, received, date(-2*time.Minute))
	}
	c.Observe(sent, received, date(time.Hour))
	want = "the logger's clock is 2m0s ahead of the probed services' clocks (median of the Date headers of the latest 5 responses; limit 10s): samples and anchors carry this clock's times"
	if err := c.Check(context.Background(), base); err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %s", err, want)
	}

	// Within the limit (the Date header's second resolution and the round trip included): healthy. The
	// window keeps the latest responses only, so a corrected clock heals the check.
	for i := 0; i < clockWindow; i++ {
		c.Observe(sent, received, date(0))
	}
	if off, n := c.Offset(); n != clockWindow || off != 0 {
		t.Fatalf("Offset after the fix = %v, %d", off, n)
	}
	if err := c.Check(context.Background(), base); err != nil {
		t.Fatalf("corrected clock: %v", err)
	}
}

// TestClockCheckThroughProbes runs the probers against a service whose Date header is 2 minutes behind
// the logger's clock and reads the report on the operations endpoint.
func TestClockCheckThroughProbes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(-2*time.Minute).UTC().Format(http.TimeFormat))
	}))
	defer srv.Close()
	s := testSLA(t, time.Now().UTC().Add(-time.Hour).Truncate(time.Second), 60)
	s.Interval.SamplingPeriodMS = 100
	clock := NewClockCheck(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = RunProbers(ctx, ProberConfig{SLA: s, Probes: []ProbeSource{{Name: "p", Zone: "z", Region: "r", URL: srv.URL}}, Clock: clock,
		Sink: func([]byte) error { return nil }})

	o := opshttp.New(nil)
	clock.Register(o)
	h := o.Health(context.Background())
	if h.Status != "degraded" || len(h.Reasons) != 1 || !strings.HasPrefix(h.Reasons[0], "clock: the logger's clock is 2m0s ahead of the probed services' clocks") {
		t.Fatalf("health %+v, want degraded by the clock", h)
	}
	samples, err := o.Samples()
	if err != nil {
		t.Fatal(err)
	}
	if v := samples["logger_clock_offset_seconds"]; v != "-120" && v != "-119" {
		t.Fatalf("logger_clock_offset_seconds = %q, want about -120 (the logger is ahead)", v)
	}
}
