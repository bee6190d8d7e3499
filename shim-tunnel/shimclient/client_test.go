package shimclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/ipfs/cidverify"
)

// fakeShim answers every batch request with status, body and content type chosen by the test.
func fakeShim(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	c, err := New(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFetch(t *testing.T) {
	data := []byte(`{"batch":1}`)
	id, _ := cidverify.Sum(data)
	other, _ := cidverify.Sum([]byte("other"))
	cases := []struct {
		name          string
		handler       http.HandlerFunc
		cid           string
		verified      bool
		wantErr       string
		wantRetryable bool
		wantMismatch  bool
	}{
		{"ok", serve(200, "application/octet-stream", string(data)), id.String(), true, "", false, false},
		{"ok unverified", serve(200, "application/octet-stream", string(data)), id.String(), false, "", false, false},
		{"flipped byte passes Fetch", serve(200, "application/octet-stream", `{"batch":2}`), id.String(), false, "", false, false},
		{"flipped byte fails FetchVerified", serve(200, "application/octet-stream", `{"batch":2}`), id.String(), true, "fails verification", false, true},
		{"other content fails FetchVerified", serve(200, "application/octet-stream", "other"), id.String(), true, "fails verification", false, true},
		{"503 is retryable", serve(503, "application/json", `{"error":"IPFS unavailable","kind":"unavailable","retryable":true}`), id.String(), true, "IPFS unavailable", true, false},
		{"404 is not", serve(404, "application/json", `{"error":"kubo: not found","kind":"not_found","retryable":false}`), other.String(), true, "not_found", false, false},
		{"non-JSON 502 from a proxy", serve(502, "text/html", "<html>bad gateway</html>"), id.String(), false, "bad gateway", true, false},
		{"bad CID never sent", serve(500, "text/plain", "must not be called"), "Qm-not-a-cid", false, "does not parse", false, false},
		{"CIDv0 refused", serve(500, "text/plain", "must not be called"), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", false, "version is 0", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeShim(t, tc.handler)
			var err error
			if tc.verified {
				_, err = c.FetchVerified(context.Background(), tc.cid)
			} else {
				_, err = c.Fetch(context.Background(), tc.cid)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if IsRetryable(err) != tc.wantRetryable {
				t.Fatalf("IsRetryable(%v) = %v, want %v", err, IsRetryable(err), tc.wantRetryable)
			}
			if errors.Is(err, cidverify.ErrMismatch) != tc.wantMismatch {
				t.Fatalf("errors.Is(%v, ErrMismatch) = %v", err, !tc.wantMismatch)
			}
		})
	}
}

func serve(status int, ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if body == "must not be called" {
			panic("the client sent a request it should have refused")
		}
		if !strings.HasPrefix(r.URL.Path, "/v1/batches/") && r.URL.Path != "/healthz" {
			http.Error(w, "wrong path "+r.URL.Path, 400)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func TestShimUnreachableIsRetryable(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close()
	c, err := New(url)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := cidverify.Sum([]byte("x"))
	_, err = c.Fetch(context.Background(), id.String())
	if !IsRetryable(err) {
		t.Fatalf("Fetch from a stopped shim = %v, want retryable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Fetch(ctx, id.String()); err == nil || IsRetryable(err) {
		t.Fatalf("Fetch with a cancelled context = %v, want a non-retryable error", err)
	}
}

func TestSizeLimit(t *testing.T) {
	data := strings.Repeat("z", 100)
	id, _ := cidverify.Sum([]byte(data))
	c := fakeShim(t, serve(200, "application/octet-stream", data))
	small, _ := New(strings.TrimPrefix(c.base, "http://"), WithMaxSize(99), WithHTTPClient(&http.Client{Timeout: time.Second}))
	if _, err := small.Fetch(context.Background(), id.String()); err == nil || !strings.Contains(err.Error(), "limit is 99") || IsRetryable(err) {
		t.Fatalf("Fetch over the limit = %v", err)
	}
	exact, _ := New(c.base, WithMaxSize(100))
	if _, err := exact.FetchVerified(context.Background(), id.String()); err != nil {
		t.Fatalf("Fetch at the limit: %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	cases := []struct {
		url  string
		opts []Option
		ok   bool
	}{
		{"http://127.0.0.1:1", nil, true},
		{"127.0.0.1:1", nil, true},
		{"", nil, false},
		{"ftp://x", nil, false},
		{"http://", nil, false},
		{"127.0.0.1:1", []Option{WithMaxSize(0)}, false},
		{"127.0.0.1:1", []Option{WithHTTPClient(nil)}, false},
	}
	for _, tc := range cases {
		if _, err := New(tc.url, tc.opts...); (err == nil) != tc.ok {
			t.Errorf("New(%q) error = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestHealth(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
		err    bool
	}{
		{200, `{"status":"ok","kubo":"reachable","kubo_version":"0.32.1"}`, "ok", false},
		{503, `{"status":"degraded","reasons":["kubo: refused"],"kubo":"unreachable","error":"refused","retryable":true}`, "degraded", false},
		{500, `oops`, "", true},
	} {
		c := fakeShim(t, serve(tc.status, "application/json", tc.body))
		h, err := c.Health(context.Background())
		if (err != nil) != tc.err || h.Status != tc.want {
			t.Errorf("Health on %d = %+v, %v", tc.status, h, err)
		}
	}
}
