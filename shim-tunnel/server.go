package shimtunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	cid "github.com/ipfs/go-cid"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/ipfs/cidverify"
)

// Config configures a Server. Zero fields take the defaults below.
type Config struct {
	// MaxSize is the largest batch served, in bytes (default DefaultMaxSize).
	MaxSize int64
	// AttemptTimeout bounds one request to kubo (default 10s).
	AttemptTimeout time.Duration
	// RequestTimeout bounds a whole /v1/batches request, retries included (default 30s).
	RequestTimeout time.Duration
	// Retries is the number of extra attempts after a retryable failure (default 3; negative means none).
	Retries int
	// BackoffInitial is the delay before the first retry; it doubles each retry (default 200ms).
	BackoffInitial time.Duration
	// BackoffMax caps the delay between retries (default 2s).
	BackoffMax time.Duration
	// CacheBytes is the budget of the in-memory LRU cache of batch contents; 0 disables it.
	CacheBytes int64
	// Logger receives one line per failed request; nil means no logging.
	Logger *log.Logger
}

// Defaults of Config.
const (
	DefaultMaxSize        = 64 << 20
	DefaultAttemptTimeout = 10 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultRetries        = 3
	DefaultBackoffInitial = 200 * time.Millisecond
	DefaultBackoffMax     = 2 * time.Second
)

// Server is the shim's HTTP handler. Create it with NewServer.
type Server struct {
	cfg     Config
	backend Backend
	cache   *lru
	mux     *http.ServeMux
	m       metrics
	ops     *opshttp.Ops
	sleep   func(ctx context.Context, d time.Duration) error
}

type metrics struct {
	requests      atomic.Int64 // every HTTP request
	batchRequests atomic.Int64 // GET /v1/batches/{cid}
	batchOK       atomic.Int64
	hits          atomic.Int64
	misses        atomic.Int64
	bytes         atomic.Int64
	kuboAttempts  atomic.Int64
	kuboRetries   atomic.Int64
	healthChecks  atomic.Int64
	errors        [5]atomic.Int64 // indexed like Kinds
	notRouted     atomic.Int64
	kuboOK        atomic.Int64 // Unix seconds of the last successful contact with kubo (fetch or ping)
}

// NewServer returns a Server fetching from backend with cfg (defaults applied).
func NewServer(backend Backend, cfg Config) (*Server, error) {
	if backend == nil {
		return nil, errors.New("shimtunnel: backend is nil")
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("shimtunnel: MaxSize is %d, want a positive number of bytes", cfg.MaxSize)
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.AttemptTimeout < 0 || cfg.RequestTimeout < 0 {
		return nil, errors.New("shimtunnel: timeouts must not be negative")
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.BackoffInitial == 0 {
		cfg.BackoffInitial = DefaultBackoffInitial
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.BackoffInitial < 0 || cfg.BackoffMax < cfg.BackoffInitial {
		return nil, errors.New("shimtunnel: backoff must satisfy 0 <= BackoffInitial <= BackoffMax")
	}
	if cfg.CacheBytes < 0 {
		return nil, fmt.Errorf("shimtunnel: CacheBytes is %d, want 0 (off) or a positive budget", cfg.CacheBytes)
	}
	s := &Server{cfg: cfg, backend: backend, cache: newLRU(cfg.CacheBytes), mux: http.NewServeMux(), sleep: ctxtime.Sleep, ops: opshttp.New(nil)}
	s.registerMetrics()
	s.ops.Check("kubo", s.checkKubo)
	s.mux.HandleFunc("GET /v1/batches/{cid}", s.handleBatch)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.Handle("GET /metrics", s.ops.MetricsHandler())
	return s, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Server) Config() Config { return s.cfg }

// ServeHTTP implements http.Handler. Only the three documented routes are served; anything else, including
// paths that need cleaning and query strings on /v1/batches, is refused.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.m.requests.Add(1)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.m.notRouted.Add(1)
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, KindBadRequest, false, "method "+r.Method+" not allowed: only GET is served")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.m.notRouted.Add(1)
		writeError(w, http.StatusNotFound, KindBadRequest, false, "no such endpoint: only GET /v1/batches/{cid}, GET /healthz and GET /metrics are served")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	s.m.batchRequests.Add(1)
	if r.URL.RawQuery != "" {
		s.fail(w, r, &FetchError{Kind: KindBadRequest, Err: errors.New("query parameters are not accepted")})
		return
	}
	c, err := cidverify.Parse(r.PathValue("cid"))
	if err != nil {
		s.fail(w, r, &FetchError{Kind: KindBadRequest, Err: err})
		return
	}
	key := c.String()
	data, hit := s.cache.get(key)
	if hit {
		s.m.hits.Add(1)
	} else {
		s.m.misses.Add(1)
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		data, err = s.fetchWithRetry(ctx, c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.cache.put(key, data)
	}
	s.m.batchOK.Add(1)
	s.m.bytes.Add(int64(len(data)))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Slasa-Cid", key)
	h.Set("X-Slasa-Cache", map[bool]string{true: "hit", false: "miss"}[hit])
	h.Set("X-Slasa-Verified", "false")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// fetchWithRetry calls the backend until it succeeds, fails with a non-retryable error, runs out of retries, or
// ctx ends. Each attempt gets its own AttemptTimeout.
func (s *Server) fetchWithRetry(ctx context.Context, c cid.Cid) ([]byte, error) {
	var last error
	attempts := 0
	for attempt := 0; attempt <= s.cfg.Retries; attempt++ {
		if attempt > 0 {
			s.m.kuboRetries.Add(1)
			if err := s.sleep(ctx, backoff(attempt, s.cfg.BackoffInitial, s.cfg.BackoffMax)); err != nil {
				break
			}
		}
		s.m.kuboAttempts.Add(1)
		attempts++
		actx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
		data, err := s.backend.Fetch(actx, c, s.cfg.MaxSize)
		cancel()
		if err == nil {
			s.m.kuboOK.Store(time.Now().Unix())
			return data, nil
		}
		last = err
		var fe *FetchError
		if !errors.As(err, &fe) || !fe.Retryable {
			return nil, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		last = ctx.Err()
	}
	return nil, &FetchError{Kind: KindUnavailable, Retryable: true,
		Err: fmt.Errorf("IPFS unavailable for %s after %d attempt(s): %v", c, attempts, last)}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	fe := &FetchError{Kind: KindUpstream, Err: err}
	errors.As(err, &fe)
	for i, k := range Kinds {
		if k == fe.Kind {
			s.m.errors[i].Add(1)
		}
	}
	status := http.StatusBadGateway
	switch fe.Kind {
	case KindBadRequest:
		status = http.StatusBadRequest
	case KindNotFound:
		status = http.StatusNotFound
	case KindTooLarge:
		status = http.StatusRequestEntityTooLarge
	case KindUnavailable:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	if s.cfg.Logger != nil {
		s.cfg.Logger.Printf("%s %s: %d %s", r.Method, r.URL.Path, status, fe.Error())
	}
	writeError(w, status, fe.Kind, fe.Retryable, fe.Err.Error())
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	// Error describes the failure.
	Error string `json:"error"`
	// Kind classifies it (see Kinds).
	Kind Kind `json:"kind"`
	// Retryable tells the caller that the same request may succeed later.
	Retryable bool `json:"retryable"`
}

func writeError(w http.ResponseWriter, status int, kind Kind, retryable bool, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: msg, Kind: kind, Retryable: retryable})
}

// Health is the JSON body of GET /healthz.
type Health struct {
	// Status is "ok" when kubo answers, else "degraded".
	Status string `json:"status"`
	// Reasons say why it is degraded ("kubo: ...").
	Reasons []string `json:"reasons,omitempty"`
	// Checks are the outcome of each check (one: kubo).
	Checks []opshttp.Result `json:"checks"`
	// Kubo is "reachable" or "unreachable".
	Kubo string `json:"kubo"`
	// KuboVersion is the version kubo reports, when reachable.
	KuboVersion string `json:"kubo_version,omitempty"`
	// Error says why kubo is unreachable.
	Error string `json:"error,omitempty"`
	// Retryable is true when degraded (the condition may pass).
	Retryable bool `json:"retryable,omitempty"`
}

// ping is what the kubo check of one /healthz request found.
type ping struct {
	version string
	err     error
}

type pingKey struct{}

// checkKubo is the kubo health check: kubo must answer a version request
// within AttemptTimeout now (the shim's only component is kubo, and asking it
// costs one loopback request, so its last successful contact is this one).
func (s *Server) checkKubo(ctx context.Context, _ time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	v, err := s.backend.Ping(ctx)
	if p, ok := ctx.Value(pingKey{}).(*ping); ok {
		p.version, p.err = v, err
	}
	if err != nil {
		return err
	}
	s.m.kuboOK.Store(time.Now().Unix())
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.m.healthChecks.Add(1)
	p := &ping{}
	s.ops.HealthHandler(func(context.Context) map[string]any {
		if p.err != nil {
			return map[string]any{"kubo": "unreachable", "error": p.err.Error(), "retryable": true}
		}
		return map[string]any{"kubo": "reachable", "kubo_version": p.version}
	}).ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pingKey{}, p)))
}

// metricDefs are the shim's metrics in the order Metrics returns them.
func (s *Server) metricDefs() []metricDef {
	entries := func() int64 { e, _ := s.cache.stats(); return int64(e) }
	size := func() int64 { _, b := s.cache.stats(); return b }
	defs := []metricDef{
		{"shim_requests_total", "HTTP requests received (every path and method).", nil, s.m.requests.Load, true},
		{"shim_batch_requests_total", "GET /v1/batches/{cid} requests.", nil, s.m.batchRequests.Load, true},
		{"shim_batch_served_total", "Batches served (200).", nil, s.m.batchOK.Load, true},
		{"shim_cache_hits_total", "Batch requests answered from the LRU cache.", nil, s.m.hits.Load, true},
		{"shim_cache_misses_total", "Batch requests that went to kubo.", nil, s.m.misses.Load, true},
		{"shim_cache_entries", "Batches in the LRU cache.", nil, entries, false},
		{"shim_cache_bytes", "Bytes of the batches in the LRU cache.", nil, size, false},
		{"shim_bytes_served_total", "Bytes of batches served.", nil, s.m.bytes.Load, true},
		{"shim_kubo_attempts_total", "Fetch attempts to kubo.", nil, s.m.kuboAttempts.Load, true},
		{"shim_kubo_retries_total", "Fetch attempts to kubo after a retryable failure.", nil, s.m.kuboRetries.Load, true},
		{"shim_kubo_last_success_seconds", "Unix time of the last successful contact with kubo (a fetch or a health ping); 0: none yet.", nil, s.m.kuboOK.Load, false},
		{"shim_health_checks_total", "GET /healthz requests.", nil, s.m.healthChecks.Load, true},
		{"shim_not_routed_total", "Requests refused for their method or path.", nil, s.m.notRouted.Load, true},
	}
	for i, k := range Kinds {
		defs = append(defs, metricDef{"shim_errors_total", "Error answers by kind.", map[string]string{"kind": string(k)}, s.m.errors[i].Load, true})
	}
	return defs
}

type metricDef struct {
	name, help string
	labels     map[string]string
	v          func() int64
	counter    bool
}

func (d metricDef) key() string {
	if k, ok := d.labels["kind"]; ok {
		return d.name + `{kind="` + k + `"}`
	}
	return d.name
}

func (s *Server) registerMetrics() {
	for _, d := range s.metricDefs() {
		if d.counter {
			s.ops.CounterWith(d.name, d.help, d.labels, d.v)
		} else {
			s.ops.GaugeWith(d.name, d.help, d.labels, d.v)
		}
	}
}

// Metrics returns the samples GET /metrics serves (read from the same
// registry) as ordered name/value pairs, labels in the name
// (shim_errors_total{kind="unavailable"}), values as integers.
func (s *Server) Metrics() [][2]string {
	got, err := s.ops.Samples()
	if err != nil {
		return [][2]string{{"error", err.Error()}}
	}
	var out [][2]string
	for _, d := range s.metricDefs() {
		out = append(out, [2]string{d.key(), got[d.key()]})
	}
	return out
}
