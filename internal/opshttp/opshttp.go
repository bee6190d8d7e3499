// Package opshttp serves a slasa service's operations endpoints the way
// Hyperledger Fabric's operations service does: GET /healthz answers 200
// {"status":"ok",...} or 503 {"status":"degraded", "reasons":[...]...}, and
// GET /metrics serves the Prometheus text format of a registry that belongs
// to the Ops value (never the global default registry, so that every test and
// every process has its own).
//
// A service registers its metrics with Counter, Gauge (and their With forms
// for constant labels), which read the service's own counters at scrape time,
// and its health checks with Check (a Freshness gives the common "last
// successful contact is too old" check).
package opshttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Status words of the /healthz body.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
)

// CheckFunc reports a component's health at now: nil when healthy, else an
// error saying why not (it becomes a reason of the /healthz answer). ctx is
// the /healthz request's, for checks that contact the component.
type CheckFunc func(ctx context.Context, now time.Time) error

// Ops is one process's health checks and metrics registry.
type Ops struct {
	// Registry holds the process's metrics. New registers the Go runtime and
	// process collectors (go_*, process_* such as
	// process_resident_memory_bytes and process_open_fds) on it.
	Registry *prometheus.Registry

	now    func() time.Time
	mu     sync.Mutex
	checks []check
}

type check struct {
	name string
	fn   CheckFunc
}

// New returns an Ops with a fresh registry holding the Go and process
// collectors. now is the clock of the health checks (time.Now when nil).
func New(now func() time.Time) *Ops {
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Ops{Registry: reg, now: now}
}

// Check adds a named health check. Checks run in the order added on every
// GET /healthz.
func (o *Ops) Check(name string, fn CheckFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checks = append(o.checks, check{name: name, fn: fn})
}

// Counter registers a counter that reads v at scrape time. name must be a
// valid metric name; it panics (at start) when name is taken.
func (o *Ops) Counter(name, help string, v func() int64) { o.CounterWith(name, help, nil, v) }

// CounterWith is Counter with constant labels: one name may be registered
// with several label values (same label names, same help).
func (o *Ops) CounterWith(name, help string, labels map[string]string, v func() int64) {
	o.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
		func() float64 { return float64(v()) }))
}

// Gauge registers a gauge that reads v at scrape time.
func (o *Ops) Gauge(name, help string, v func() int64) { o.GaugeWith(name, help, nil, v) }

// GaugeWith is Gauge with constant labels.
func (o *Ops) GaugeWith(name, help string, labels map[string]string, v func() int64) {
	o.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels},
		func() float64 { return float64(v()) }))
}

// Result is one check's outcome in the /healthz body.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// Health is the body of GET /healthz (Detail's fields are added to it).
type Health struct {
	// Status is "ok" when every check passes, else "degraded".
	Status string `json:"status"`
	// Reasons are the failing checks' reasons, "name: reason", in order.
	Reasons []string `json:"reasons,omitempty"`
	Checks  []Result `json:"checks"`
}

// Health runs the checks.
func (o *Ops) Health(ctx context.Context) Health {
	o.mu.Lock()
	checks := append([]check(nil), o.checks...)
	o.mu.Unlock()
	now := o.now()
	h := Health{Status: StatusOK, Checks: []Result{}}
	for _, c := range checks {
		r := Result{Name: c.name, OK: true}
		if err := c.fn(ctx, now); err != nil {
			r.OK, r.Reason = false, err.Error()
			h.Status = StatusDegraded
			h.Reasons = append(h.Reasons, c.name+": "+r.Reason)
		}
		h.Checks = append(h.Checks, r)
	}
	return h
}

// HealthHandler serves GET /healthz: 200 when every check passes, else 503
// with Retry-After. detail (may be nil) adds service-specific fields to the
// JSON body; it is called after the checks, with the request's context, and
// must not use the keys status, reasons and checks.
func (o *Ops) HealthHandler(detail func(ctx context.Context) map[string]any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := o.Health(r.Context())
		body := map[string]any{}
		if detail != nil {
			for k, v := range detail(r.Context()) {
				body[k] = v
			}
		}
		body["status"], body["checks"] = h.Status, h.Checks
		if len(h.Reasons) > 0 {
			body["reasons"] = h.Reasons
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if h.Status != StatusOK {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
}

// MetricsHandler serves the registry in the Prometheus text format.
func (o *Ops) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Mux returns a mux serving GET /healthz (with detail) and GET /metrics.
func (o *Ops) Mux(detail func(ctx context.Context) map[string]any) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", o.HealthHandler(detail))
	mux.Handle("GET /metrics", o.MetricsHandler())
	return mux
}

// Samples gathers the registry and returns every sample except the go_* and
// process_* ones as "name{label="value",...}" (labels sorted by name) mapped
// to its value, integers printed without exponent. It is what tests compare.
func (o *Ops) Samples() (map[string]string, error) {
	fams, err := o.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range fams {
		name := f.GetName()
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		for _, m := range f.GetMetric() {
			out[name+labels(m.GetLabel())] = value(m)
		}
	}
	return out, nil
}

func labels(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func value(m *dto.Metric) string {
	var v float64
	switch {
	case m.Counter != nil:
		v = m.Counter.GetValue()
	case m.Gauge != nil:
		v = m.Gauge.GetValue()
	case m.Untyped != nil:
		v = m.Untyped.GetValue()
	default:
		return "?"
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

// Freshness records a component's last successful contact and fails its
// check when that is older than MaxAge. The zero time counts from Since.
type Freshness struct {
	// What names the contact in the reason, e.g. "the peer (qscc GetChainInfo)".
	What   string
	MaxAge time.Duration

	mu     sync.Mutex
	since  time.Time
	last   time.Time
	lastEr string
}

// NewFreshness returns a Freshness whose grace period starts at since.
func NewFreshness(what string, maxAge time.Duration, since time.Time) *Freshness {
	return &Freshness{What: what, MaxAge: maxAge, since: since}
}

// OK records a successful contact at t.
func (f *Freshness) OK(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.last) {
		f.last = t
	}
	f.lastEr = ""
}

// Failed records a failed contact (its error appears in the reason).
func (f *Freshness) Failed(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastEr = err.Error()
}

// Last returns the last successful contact (zero if none).
func (f *Freshness) Last() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Check is a CheckFunc: an error when the last successful contact (or, if
// none, the start) is more than MaxAge before now.
func (f *Freshness) Check(_ context.Context, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref, what := f.last, "last successful contact with "+f.What
	if ref.IsZero() {
		ref, what = f.since, "no successful contact with "+f.What+" since start"
	}
	if age := now.Sub(ref); age > f.MaxAge {
		msg := fmt.Sprintf("%s %s ago (limit %s)", what, age.Truncate(time.Millisecond), f.MaxAge)
		if f.lastEr != "" {
			msg += "; last error: " + f.lastEr
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}
