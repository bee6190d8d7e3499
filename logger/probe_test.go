package logger

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestResolveProbes(t *testing.T) {
	s := testSLA(t, t0, 60)
	good, err := ResolveProbes(s, []ProbeSource{{Name: "a", Zone: "zone-a", URL: "http://127.0.0.1:1/x"}})
	if err != nil || good[0].Region != "region-1" {
		t.Fatalf("%+v %v", good, err)
	}
	tests := []struct {
		name string
		in   []ProbeSource
		want string
	}{
		{"unknown zone", []ProbeSource{{Name: "a", Zone: "zone-x", URL: "http://h/"}}, "not a monitoring zone"},
		{"region", []ProbeSource{{Name: "a", Zone: "zone-a", Region: "r9", URL: "http://h/"}}, "region"},
		{"dup", []ProbeSource{{Name: "a", Zone: "zone-a", URL: "http://h/"}, {Name: "a", Zone: "zone-b", URL: "http://h/"}}, "twice"},
		{"url", []ProbeSource{{Name: "a", Zone: "zone-a", URL: "ftp://h/"}}, "http or https"},
	}
	for _, tc := range tests {
		if _, err := ResolveProbes(s, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if p, err := ParseProbe("a,zone-a,http://h:1/p?x=1,2"); err != nil || p.URL != "http://h:1/p?x=1,2" {
		t.Errorf("ParseProbe: %+v %v", p, err)
	}
	if _, err := ParseProbe("a,zone-a"); err == nil {
		t.Error("ParseProbe accepted two fields")
	}
}

func TestNextSlot(t *testing.T) {
	o := t0
	tests := []struct{ at, want time.Duration }{{0, 0}, {1, time.Second}, {time.Second, time.Second}, {1500 * time.Millisecond, 2 * time.Second}}
	for _, tc := range tests {
		if got := NextSlot(o, time.Second, o.Add(tc.at)); !got.Equal(o.Add(tc.want)) {
			t.Errorf("NextSlot(+%s) = %s", tc.at, got)
		}
	}
}

func TestProbeAndRunProbers(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	p := ProbeSource{Name: "pa", Zone: "zone-a", Region: "region-1", URL: srv.URL}
	line, err := Probe(context.Background(), srv.Client(), time.Second, func(s int) bool { return s < 300 }, p, t0)
	if err != nil || !strings.Contains(string(line), `"measurements":{"ok":true,"latency_ms":`) || !strings.HasSuffix(string(line), `"status":200}}`) {
		t.Fatalf("%s %v", line, err)
	}
	fail.Store(true)
	line, _ = Probe(context.Background(), srv.Client(), time.Second, func(s int) bool { return s < 300 }, p, t0)
	if !strings.Contains(string(line), `"ok":false`) || !strings.Contains(string(line), `"status":503`) {
		t.Fatalf("%s", line)
	}
	down := ProbeSource{Name: "pd", Zone: "zone-b", Region: "region-1", URL: "http://127.0.0.1:1/"}
	line, _ = Probe(context.Background(), srv.Client(), time.Second, func(s int) bool { return s < 300 }, down, t0)
	if !strings.Contains(string(line), `"ok":false`) || strings.Contains(string(line), "status") {
		t.Fatalf("%s", line)
	}
	// RunProbers samples once per slot, at slot times.
	s := testSLA(t, time.Now().UTC().Truncate(time.Second).Add(-time.Hour), 60)
	s.Interval.SamplingPeriodMS = 200
	var n atomic.Int64
	var bad atomic.Value
	ctx, cancel := context.WithTimeout(context.Background(), 1100*time.Millisecond)
	defer cancel()
	RunProbers(ctx, ProberConfig{SLA: s, Log: quiet, Probes: []ProbeSource{p}, Sink: func(line []byte) error {
		ms, err := CheckRecord(line)
		if err != nil || ms%200 != 0 {
			bad.Store(string(line))
		}
		n.Add(1)
		return nil
	}})
	if n.Load() < 4 || n.Load() > 6 || bad.Load() != nil {
		t.Fatalf("%d samples, bad %v", n.Load(), bad.Load())
	}
}
