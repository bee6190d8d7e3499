// Package shimclient is the Go client of the slasa tunneling shim (package shimtunnel), for the enclave host, the
// monitor and tests. It depends only on the standard library and ipfs/cidverify (no Fabric, no kubo client).
//
// The shim is untrusted: Fetch returns whatever it served. Use FetchVerified, or call cidverify.Verify yourself
// inside the enclave, before believing the bytes.
package shimclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slasa/slasa/ipfs/cidverify"
)

// DefaultMaxSize is the default limit on a fetched batch (64 MiB, the shim's default too).
const DefaultMaxSize = 64 << 20

// Client fetches batches from a shim. The zero value is not usable; create it with New.
type Client struct {
	base    string
	http    *http.Client
	maxSize int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client use hc (default: a client with a 60-second timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithMaxSize limits the bytes accepted from the shim (default DefaultMaxSize).
func WithMaxSize(n int64) Option { return func(c *Client) { c.maxSize = n } }

// New returns a Client for the shim at baseURL ("http://127.0.0.1:27082" or "127.0.0.1:27082").
func New(baseURL string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		return nil, errors.New("shimclient: base URL is empty")
	}
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("shimclient: base URL %q is not an http(s) URL with a host", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 60 * time.Second}, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(c)
	}
	if c.maxSize <= 0 {
		return nil, fmt.Errorf("shimclient: max size %d must be positive", c.maxSize)
	}
	if c.http == nil {
		return nil, errors.New("shimclient: HTTP client is nil")
	}
	return c, nil
}

// Error is a failure reported by the shim (an HTTP error status with the shim's JSON body), or a failure to
// reach the shim at all (StatusCode 0).
type Error struct {
	// StatusCode is the HTTP status (0 when the shim could not be reached or the answer was cut short).
	StatusCode int
	// Kind is the shim's classification ("bad_request", "not_found", "too_large", "upstream", "unavailable"),
	// or "transport" when the shim itself could not be reached.
	Kind string
	// Message is the shim's error text.
	Message string
	// Retryable is true when the same request may succeed later.
	Retryable bool
}

// Error implements error.
func (e *Error) Error() string {
	r := ""
	if e.Retryable {
		r = " (retryable)"
	}
	if e.StatusCode == 0 {
		return fmt.Sprintf("shimclient: %s: %s%s", e.Kind, e.Message, r)
	}
	return fmt.Sprintf("shimclient: shim answered %d %s: %s%s", e.StatusCode, e.Kind, e.Message, r)
}

// IsRetryable reports whether err (from Fetch or FetchVerified) may go away if the request is repeated later:
// the shim said so (IPFS down, timeout), or the shim itself was unreachable. Verification failures, bad CIDs,
// missing content and oversized content are not retryable.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// Fetch returns the bytes the shim serves for the CIDv1 cidStr. They are NOT verified.
func (c *Client) Fetch(ctx context.Context, cidStr string) ([]byte, error) {
	id, err := cidverify.Parse(cidStr)
	if err != nil {
		return nil, &Error{Kind: "bad_request", Message: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/batches/"+id.String(), nil)
	if err != nil {
		return nil, &Error{Kind: "bad_request", Message: err.Error()}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp)
	}
	if resp.ContentLength > c.maxSize {
		return nil, &Error{StatusCode: resp.StatusCode, Kind: "too_large", Message: fmt.Sprintf("shim announces %d bytes, limit is %d", resp.ContentLength, c.maxSize)}
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxSize+1)); err != nil {
		return nil, transportError(ctx, err)
	}
	data := buf.Bytes()
	if int64(len(data)) > c.maxSize {
		return nil, &Error{StatusCode: resp.StatusCode, Kind: "too_large", Message: fmt.Sprintf("shim sent more than %d bytes", c.maxSize)}
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, &Error{Kind: "transport", Message: fmt.Sprintf("shim sent %d bytes, announced %d", len(data), resp.ContentLength), Retryable: true}
	}
	return data, nil
}

// FetchVerified is Fetch followed by cidverify.Verify: it returns the bytes only when they are exactly the
// content kubo's `ipfs add --cid-version=1` names cidStr. A mismatch is returned as an error matching
// cidverify.ErrMismatch (errors.Is), which is not retryable.
func (c *Client) FetchVerified(ctx context.Context, cidStr string) ([]byte, error) {
	id, err := cidverify.Parse(cidStr)
	if err != nil {
		return nil, &Error{Kind: "bad_request", Message: err.Error()}
	}
	data, err := c.Fetch(ctx, cidStr)
	if err != nil {
		return nil, err
	}
	if err := cidverify.Verify(id, data); err != nil {
		return nil, fmt.Errorf("shimclient: the shim's answer for %s fails verification: %w", id, err)
	}
	return data, nil
}

// Health is the shim's /healthz answer.
type Health struct {
	// Status is "ok" or "degraded".
	Status string `json:"status"`
	// Reasons say why it is degraded.
	Reasons []string `json:"reasons,omitempty"`
	// Kubo is "reachable" or "unreachable".
	Kubo string `json:"kubo"`
	// KuboVersion is kubo's version when reachable.
	KuboVersion string `json:"kubo_version,omitempty"`
	// Error says why kubo is unreachable.
	Error string `json:"error,omitempty"`
}

// Health asks the shim whether it reaches kubo. It returns the decoded answer for both 200 and 503, and an
// error only when the shim could not be asked or answered something else.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return h, transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return h, decodeError(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil {
		return h, fmt.Errorf("shimclient: decoding /healthz: %w", err)
	}
	return h, nil
}

func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var b struct {
		Error     string `json:"error"`
		Kind      string `json:"kind"`
		Retryable bool   `json:"retryable"`
	}
	e := &Error{StatusCode: resp.StatusCode}
	if json.Unmarshal(body, &b) == nil && b.Error != "" {
		e.Kind, e.Message, e.Retryable = b.Kind, b.Error, b.Retryable
	} else {
		e.Kind = "http"
		e.Message = strings.TrimSpace(string(body))
		// An answer that is not the shim's JSON (e.g. a proxy): 502/503/504 may pass.
		e.Retryable = resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		e.Retryable = true
	}
	return e
}

// transportError classifies a failure to talk to the shim. A cancelled context is not retryable (the caller
// gave up); everything else (refused, reset, timeout) is.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("shimclient: %w", err)
	}
	var ne net.Error
	kind := "transport"
	if errors.As(err, &ne) && ne.Timeout() {
		kind = "timeout"
	}
	return &Error{Kind: kind, Message: err.Error(), Retryable: true}
}
