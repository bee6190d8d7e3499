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
	s := &Server{cfg: cfg, backend: backend, cache: newLRU(cfg.CacheBytes), mux: http.NewServeMux(), sleep: ctxtime.Sleep}
	s.mux.HandleFunc("GET /v1/batches/{cid}", s.handleBatch)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
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
	// Status is "ok" when kubo answers, else "unavailable".
	Status string `json:"status"`
	// Kubo is "reachable" or "unreachable".
	Kubo string `json:"kubo"`
	// KuboVersion is the version kubo reports, when reachable.
	KuboVersion string `json:"kubo_version,omitempty"`
	// Error says why kubo is unreachable.
	Error string `json:"error,omitempty"`
	// Retryable is true when unavailable (the condition may pass).
	Retryable bool `json:"retryable,omitempty"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.m.healthChecks.Add(1)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AttemptTimeout)
	defer cancel()
	v, err := s.backend.Ping(ctx)
	h := Health{Status: "ok", Kubo: "reachable", KuboVersion: v}
	status := http.StatusOK
	if err != nil {
		h = Health{Status: "unavailable", Kubo: "unreachable", Error: err.Error(), Retryable: true}
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(h)
}

// Metrics returns the counters /metrics prints, as ordered name/value pairs.
func (s *Server) Metrics() [][2]string {
	entries, size := s.cache.stats()
	out := [][2]string{
		{"shim_requests_total", itoa(s.m.requests.Load())},
		{"shim_batch_requests_total", itoa(s.m.batchRequests.Load())},
		{"shim_batch_served_total", itoa(s.m.batchOK.Load())},
		{"shim_cache_hits_total", itoa(s.m.hits.Load())},
		{"shim_cache_misses_total", itoa(s.m.misses.Load())},
		{"shim_cache_entries", strconv.Itoa(entries)},
		{"shim_cache_bytes", itoa(size)},
		{"shim_bytes_served_total", itoa(s.m.bytes.Load())},
		{"shim_kubo_attempts_total", itoa(s.m.kuboAttempts.Load())},
		{"shim_kubo_retries_total", itoa(s.m.kuboRetries.Load())},
		{"shim_health_checks_total", itoa(s.m.healthChecks.Load())},
		{"shim_not_routed_total", itoa(s.m.notRouted.Load())},
	}
	for i, k := range Kinds {
		out = append(out, [2]string{`shim_errors_total{kind="` + string(k) + `"}`, itoa(s.m.errors[i].Load())})
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	for _, kv := range s.Metrics() {
		fmt.Fprintf(w, "%s %s\n", kv[0], kv[1])
	}
}
