package shimtunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/ipfs/cidverify"
)

// fakeKubo imitates the parts of kubo's RPC API the shim uses: cat, block/get (single-block contents only)
// and version. failFirst requests are answered by dropping the connection.
type fakeKubo struct {
	mu        sync.Mutex
	content   map[string][]byte
	failFirst int
	calls     atomic.Int64
	lie       bool // flip the first byte of every answer
}

func newFakeKubo() *fakeKubo { return &fakeKubo{content: map[string][]byte{}} }

func (f *fakeKubo) add(t testing.TB, data []byte) string {
	t.Helper()
	c, err := cidverify.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.content[c.String()] = data
	f.mu.Unlock()
	return c.String()
}

func kuboError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `{"Message":%q,"Code":0,"Type":"error"}`, msg)
}

func (f *fakeKubo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	f.mu.Lock()
	fail := n <= int64(f.failFirst)
	f.mu.Unlock()
	if fail {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/api/v0/version":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"Version":"0.32.1-fake"}`)
	case "/api/v0/cat", "/api/v0/block/get":
		arg := r.URL.Query().Get("arg")
		c, err := cid.Decode(arg)
		if err != nil {
			kuboError(w, "invalid path: "+err.Error())
			return
		}
		f.mu.Lock()
		data, ok := f.content[c.String()]
		f.mu.Unlock()
		if !ok {
			kuboError(w, "block was not found locally (offline): ipld: could not find "+c.String())
			return
		}
		data = bytes.Clone(data)
		if f.lie && len(data) > 0 {
			data[0] ^= 1
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(data)
	default:
		http.Error(w, "404 page not found", http.StatusNotFound)
	}
}

func newTestServer(t *testing.T, be Backend, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.BackoffInitial == 0 {
		cfg.BackoffInitial = time.Millisecond
		cfg.BackoffMax = 4 * time.Millisecond
	}
	s, err := NewServer(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func errBody(t *testing.T, body []byte) ErrorBody {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return e
}

func metric(s *Server, name string) string {
	for _, kv := range s.Metrics() {
		if kv[0] == name {
			return kv[1]
		}
	}
	return "absent"
}

func TestServeBatchAndCache(t *testing.T) {
	for _, backend := range []string{"cat", "blocks"} {
		t.Run(backend, func(t *testing.T) {
			fk := newFakeKubo()
			kubo := httptest.NewServer(fk)
			defer kubo.Close()
			data := []byte(`{"samples":[1,2,3]}`)
			id := fk.add(t, data)
			var be Backend = NewKuboCat(kubo.URL, nil)
			if backend == "blocks" {
				var err error
				if be, err = NewKuboBlocks(kubo.URL, nil); err != nil {
					t.Fatal(err)
				}
			}
			s, hs := newTestServer(t, be, Config{CacheBytes: 1 << 20})
			for i, wantCache := range []string{"miss", "hit"} {
				resp, body := get(t, hs.URL+"/v1/batches/"+id)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
					t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
				}
				if got := resp.Header.Get("X-Slasa-Cache"); got != wantCache {
					t.Fatalf("request %d: X-Slasa-Cache = %q, want %q", i, got, wantCache)
				}
				if resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("X-Slasa-Cid") != id {
					t.Fatalf("headers: %v", resp.Header)
				}
			}
			if fk.calls.Load() != 1 {
				t.Fatalf("kubo called %d times, want 1 (second answer from the cache)", fk.calls.Load())
			}
			for name, want := range map[string]string{
				"shim_cache_hits_total": "1", "shim_cache_misses_total": "1", "shim_bytes_served_total": fmt.Sprint(2 * len(data)),
				"shim_batch_served_total": "2", "shim_cache_entries": "1",
			} {
				if got := metric(s, name); got != want {
					t.Errorf("%s = %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestRefusedRequests(t *testing.T) {
	fk := newFakeKubo()
	kubo := httptest.NewServer(fk)
	defer kubo.Close()
	id := fk.add(t, []byte("x"))
	v1, _ := cid.Decode(id)
	v0 := cid.NewCidV0(v1.Hash()).String()
	_, hs := newTestServer(t, NewKuboCat(kubo.URL, nil), Config{})
	cases := []struct {
		method, path string
		status       int
		kind         Kind
		contains     string
	}{
		{"GET", "/v1/batches/not-a-cid", 400, KindBadRequest, "does not parse"},
		{"GET", "/v1/batches/" + v0, 400, KindBadRequest, "version is 0"},
		{"GET", "/v1/batches/" + id + "?url=http://evil", 400, KindBadRequest, "query"},
		{"GET", "/v1/batches/" + id + "/extra", 404, KindBadRequest, "no such endpoint"},
		{"GET", "/v1/batches/", 404, KindBadRequest, "no such endpoint"},
		{"GET", "/api/v0/cat?arg=" + id, 404, KindBadRequest, "no such endpoint"},
		{"GET", "/ipfs/" + id, 404, KindBadRequest, "no such endpoint"},
		{"POST", "/v1/batches/" + id, 405, KindBadRequest, "not allowed"},
		{"DELETE", "/healthz", 405, KindBadRequest, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, hs.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			e := errBody(t, body)
			if e.Kind != tc.kind || e.Retryable || !strings.Contains(e.Error, tc.contains) {
				t.Fatalf("body %+v, want kind %s containing %q", e, tc.kind, tc.contains)
			}
		})
	}
	if fk.calls.Load() != 0 {
		t.Fatalf("kubo was called %d times for refused requests", fk.calls.Load())
	}
}

func TestKuboFailures(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1000)
	t.Run("not found", func(t *testing.T) {
		fk := newFakeKubo()
		kubo := httptest.NewServer(fk)
		defer kubo.Close()
		absent, _ := cidverify.Sum([]byte("absent"))
		s, hs := newTestServer(t, NewKuboCat(kubo.URL, nil), Config{})
		resp, body := get(t, hs.URL+"/v1/batches/"+absent.String())
		e := errBody(t, body)
		if resp.StatusCode != 404 || e.Kind != KindNotFound || e.Retryable {
			t.Fatalf("%d %+v", resp.StatusCode, e)
		}
		if metric(s, `shim_errors_total{kind="not_found"}`) != "1" || metric(s, "shim_kubo_attempts_total") != "1" {
			t.Fatalf("metrics: %v", s.Metrics())
		}
	})
	t.Run("too large", func(t *testing.T) {
		fk := newFakeKubo()
		kubo := httptest.NewServer(fk)
		defer kubo.Close()
		id := fk.add(t, big)
		for _, be := range []Backend{NewKuboCat(kubo.URL, nil), mustBlocks(t, kubo.URL)} {
			_, hs := newTestServer(t, be, Config{MaxSize: 999})
			resp, body := get(t, hs.URL+"/v1/batches/"+id)
			e := errBody(t, body)
			if resp.StatusCode != 413 || e.Kind != KindTooLarge || e.Retryable {
				t.Fatalf("%T: %d %+v", be, resp.StatusCode, e)
			}
		}
	})
	t.Run("kubo down", func(t *testing.T) {
		kubo := httptest.NewServer(newFakeKubo())
		url := kubo.URL
		kubo.Close()
		s, hs := newTestServer(t, NewKuboCat(url, nil), Config{Retries: 3})
		id, _ := cidverify.Sum([]byte("x"))
		resp, body := get(t, hs.URL+"/v1/batches/"+id.String())
		e := errBody(t, body)
		if resp.StatusCode != 503 || e.Kind != KindUnavailable || !e.Retryable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %+v %v", resp.StatusCode, e, resp.Header)
		}
		if !strings.Contains(e.Error, "after 4 attempt(s)") {
			t.Fatalf("error %q does not count the attempts", e.Error)
		}
		if metric(s, "shim_kubo_attempts_total") != "4" || metric(s, "shim_kubo_retries_total") != "3" {
			t.Fatalf("metrics: %v", s.Metrics())
		}
		resp, body = get(t, hs.URL+"/healthz")
		var h Health
		_ = json.Unmarshal(body, &h)
		if resp.StatusCode != 503 || h.Status != "degraded" || h.Kubo != "unreachable" || !h.Retryable || h.Error == "" ||
			len(h.Reasons) != 1 || h.Reasons[0] != "kubo: "+h.Error || len(h.Checks) != 1 || h.Checks[0].OK || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("healthz: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("transient failures then success", func(t *testing.T) {
		fk := newFakeKubo()
		fk.failFirst = 2
		kubo := httptest.NewServer(fk)
		defer kubo.Close()
		id := fk.add(t, big)
		s, hs := newTestServer(t, NewKuboCat(kubo.URL, nil), Config{Retries: 3})
		resp, body := get(t, hs.URL+"/v1/batches/"+id)
		if resp.StatusCode != 200 || !bytes.Equal(body, big) {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		if metric(s, "shim_kubo_retries_total") != "2" {
			t.Fatalf("metrics: %v", s.Metrics())
		}
	})
	t.Run("lying kubo caught by the blocks backend", func(t *testing.T) {
		fk := newFakeKubo()
		fk.lie = true
		kubo := httptest.NewServer(fk)
		defer kubo.Close()
		id := fk.add(t, big)
		_, hs := newTestServer(t, mustBlocks(t, kubo.URL), Config{})
		resp, body := get(t, hs.URL+"/v1/batches/"+id)
		e := errBody(t, body)
		if resp.StatusCode != 502 || e.Kind != KindUpstream || e.Retryable || !strings.Contains(e.Error, "does not match") {
			t.Fatalf("%d %+v", resp.StatusCode, e)
		}
		// The cat backend passes the lie on: it is the enclave's job to verify (see shimclient).
		_, hs = newTestServer(t, NewKuboCat(kubo.URL, nil), Config{})
		resp, body = get(t, hs.URL+"/v1/batches/"+id)
		if resp.StatusCode != 200 || bytes.Equal(body, big) {
			t.Fatalf("cat backend: %d, altered=%v", resp.StatusCode, !bytes.Equal(body, big))
		}
	})
}

func mustBlocks(t *testing.T, url string) *KuboBlocks {
	t.Helper()
	kb, err := NewKuboBlocks(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// TestHealthAndMetricsFormat drives each backend (a batch served from kubo
// then from the cache, a bad CID, a POST, a health check) and reads /healthz
// and every shim_* sample of /metrics in the Prometheus text format.
func TestHealthAndMetricsFormat(t *testing.T) {
	fk := newFakeKubo()
	kubo := httptest.NewServer(fk)
	defer kubo.Close()
	data := []byte(`{"samples":[1,2,3]}`)
	id := fk.add(t, data)
	for _, be := range []Backend{NewKuboCat(kubo.URL, nil), mustBlocks(t, kubo.URL)} {
		before := time.Now().Unix()
		s, hs := newTestServer(t, be, Config{CacheBytes: 1 << 20})
		for range 2 {
			if resp, _ := get(t, hs.URL+"/v1/batches/"+id); resp.StatusCode != 200 {
				t.Fatalf("%T batch: %d", be, resp.StatusCode)
			}
		}
		if resp, _ := get(t, hs.URL+"/v1/batches/nocid"); resp.StatusCode != 400 {
			t.Fatalf("%T bad cid: %d", be, resp.StatusCode)
		}
		if resp, err := hs.Client().Post(hs.URL+"/v1/batches/"+id, "text/plain", nil); err != nil || resp.StatusCode != 405 {
			t.Fatalf("%T POST: %v %v", be, resp, err)
		}
		resp, body := get(t, hs.URL+"/healthz")
		var h Health
		if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.Status != "ok" || h.Kubo != "reachable" ||
			h.KuboVersion != "0.32.1-fake" || len(h.Reasons) != 0 || len(h.Checks) != 1 || h.Checks[0] != (opshttp.Result{Name: "kubo", OK: true}) {
			t.Fatalf("%T healthz: %d %s", be, resp.StatusCode, body)
		}
		resp, body = get(t, hs.URL+"/metrics")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %d %v", resp.StatusCode, resp.Header)
		}
		text := string(body)
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if strings.HasPrefix(l, "shim_") {
				name, v, _ := strings.Cut(l, " ")
				got[name] = v
			}
		}
		last, err := strconv.ParseFloat(got["shim_kubo_last_success_seconds"], 64)
		if err != nil || int64(last) < before || int64(last) > time.Now().Unix() {
			t.Errorf("%T shim_kubo_last_success_seconds = %q, want the time of the last fetch or ping", be, got["shim_kubo_last_success_seconds"])
		}
		delete(got, "shim_kubo_last_success_seconds")
		want := map[string]string{
			"shim_requests_total": "6", "shim_batch_requests_total": "3", "shim_batch_served_total": "2",
			"shim_cache_hits_total": "1", "shim_cache_misses_total": "1", "shim_cache_entries": "1", "shim_cache_bytes": strconv.Itoa(len(data)),
			"shim_bytes_served_total": strconv.Itoa(2 * len(data)), "shim_kubo_attempts_total": "1", "shim_kubo_retries_total": "0",
			"shim_health_checks_total": "1", "shim_not_routed_total": "1",
			`shim_errors_total{kind="bad_request"}`: "1", `shim_errors_total{kind="not_found"}`: "0", `shim_errors_total{kind="too_large"}`: "0",
			`shim_errors_total{kind="upstream"}`: "0", `shim_errors_total{kind="unavailable"}`: "0",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%T metrics:\n got %v\nwant %v", be, got, want)
		}
		if !strings.Contains(text, "# TYPE shim_requests_total counter\nshim_requests_total 6\n") || !strings.Contains(text, "# TYPE shim_cache_entries gauge\n") ||
			!strings.Contains(text, "\nprocess_open_fds ") {
			t.Errorf("%T metrics text:\n%s", be, text)
		}
		// Metrics reads the same registry, in its documented order.
		if m := s.Metrics(); len(m) != 18 || m[0] != [2]string{"shim_requests_total", "6"} || m[17] != [2]string{`shim_errors_total{kind="unavailable"}`, "0"} {
			t.Errorf("%T Metrics() = %v", be, m)
		}
	}
}

func TestNewServerValidation(t *testing.T) {
	be := NewKuboCat("127.0.0.1:1", nil)
	cases := []struct {
		name string
		be   Backend
		cfg  Config
		ok   bool
	}{
		{"defaults", be, Config{}, true},
		{"nil backend", nil, Config{}, false},
		{"negative size", be, Config{MaxSize: -1}, false},
		{"negative timeout", be, Config{AttemptTimeout: -1}, false},
		{"backoff max below initial", be, Config{BackoffInitial: time.Second, BackoffMax: time.Millisecond}, false},
		{"negative cache", be, Config{CacheBytes: -1}, false},
		{"no retries", be, Config{Retries: -1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(tc.be, tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewServer error = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && tc.name == "defaults" {
				c := s.Config()
				if c.MaxSize != DefaultMaxSize || c.Retries != DefaultRetries || c.RequestTimeout != DefaultRequestTimeout {
					t.Fatalf("defaults not applied: %+v", c)
				}
			}
			if tc.ok && tc.name == "no retries" && s.Config().Retries != 0 {
				t.Fatalf("Retries = %d, want 0", s.Config().Retries)
			}
		})
	}
	if _, err := NewKuboBlocks("/ip4/127.0.0.1/tcp/1", nil); err == nil {
		t.Fatal("NewKuboBlocks accepted a multiaddr")
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 500 * time.Millisecond},
		{10, 500 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := backoff(tc.n, 100*time.Millisecond, 500*time.Millisecond); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestLRU(t *testing.T) {
	c := newLRU(10)
	c.put("a", []byte("aaaa"))
	c.put("b", []byte("bbbb"))
	if _, ok := c.get("a"); !ok { // a becomes most recent
		t.Fatal("a missing")
	}
	c.put("c", []byte("cccc")) // evicts b
	cases := []struct {
		key string
		ok  bool
	}{{"a", true}, {"b", false}, {"c", true}}
	for _, tc := range cases {
		if _, ok := c.get(tc.key); ok != tc.ok {
			t.Errorf("get(%s) ok = %v, want %v", tc.key, ok, tc.ok)
		}
	}
	c.put("huge", make([]byte, 11))
	if _, ok := c.get("huge"); ok {
		t.Error("content over the whole budget was cached")
	}
	if n, size := c.stats(); n != 2 || size != 8 {
		t.Errorf("stats = %d entries, %d bytes; want 2, 8", n, size)
	}
	var off *lru = newLRU(0)
	off.put("a", []byte("a"))
	if _, ok := off.get("a"); ok {
		t.Error("disabled cache returned an entry")
	}
}

func TestRequestTimeoutBoundsRetries(t *testing.T) {
	kubo := httptest.NewServer(newFakeKubo())
	url := kubo.URL
	kubo.Close()
	s, err := NewServer(NewKuboCat(url, nil), Config{Retries: 100, BackoffInitial: 20 * time.Millisecond, BackoffMax: 20 * time.Millisecond, RequestTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	id, _ := cidverify.Sum([]byte("x"))
	start := time.Now()
	resp, body := get(t, hs.URL+"/v1/batches/"+id.String())
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("request took %v despite a 150ms request timeout", el)
	}
	if e := errBody(t, body); resp.StatusCode != 503 || !e.Retryable {
		t.Fatalf("%d %+v", resp.StatusCode, e)
	}
	_ = context.Background
}
