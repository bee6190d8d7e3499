package shimtunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	cid "github.com/ipfs/go-cid"
	shell "github.com/ipfs/go-ipfs-api"
	"github.com/slasa/slasa/ipfs/cidverify"
)

// Kind classifies a failed fetch; it is the "kind" of the JSON error body and the label of the error counters.
type Kind string

// The kinds of error the shim reports.
const (
	KindBadRequest  Kind = "bad_request" // the request itself is malformed (e.g. CID syntax)
	KindNotFound    Kind = "not_found"   // kubo answered that it does not hold the content
	KindTooLarge    Kind = "too_large"   // the content exceeds the size limit
	KindUpstream    Kind = "upstream"    // kubo refused the request or served inconsistent data
	KindUnavailable Kind = "unavailable" // kubo is unreachable or timed out (retryable)
)

// Kinds lists every Kind in the order /metrics prints them.
var Kinds = []Kind{KindBadRequest, KindNotFound, KindTooLarge, KindUpstream, KindUnavailable}

// FetchError is the error a Backend returns; Retryable tells the server whether another attempt may succeed.
type FetchError struct {
	// Kind classifies the failure.
	Kind Kind
	// Retryable is true when the same request may succeed later (kubo down, timeout, broken stream).
	Retryable bool
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *FetchError) Error() string { return fmt.Sprintf("%s: %v", e.Kind, e.Err) }

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// Backend fetches content from IPFS. Implementations classify their failures with *FetchError; any other error
// is treated as KindUpstream, not retryable.
type Backend interface {
	// Fetch returns the content of c, failing with KindTooLarge when it is longer than maxSize bytes.
	Fetch(ctx context.Context, c cid.Cid, maxSize int64) ([]byte, error)
	// Ping checks that the IPFS node answers and returns its version.
	Ping(ctx context.Context) (string, error)
}

// KuboCat is a Backend that reads content with kubo's `cat` command through github.com/ipfs/go-ipfs-api.
// Kubo reassembles the file; nothing is verified here (the enclave verifies).
type KuboCat struct {
	sh *shell.Shell
}

// NewKuboCat returns a KuboCat for the kubo API at addr ("host:port", "http://host:port" or a multiaddr such as
// "/ip4/127.0.0.1/tcp/27080"). client may be nil; the caller bounds each attempt with the context.
func NewKuboCat(addr string, client *http.Client) *KuboCat {
	if client == nil {
		client = &http.Client{}
	}
	return &KuboCat{sh: shell.NewShellWithClient(addr, client)}
}

// Fetch implements Backend.
func (k *KuboCat) Fetch(ctx context.Context, c cid.Cid, maxSize int64) ([]byte, error) {
	resp, err := k.sh.Request("cat", c.String()).Send(ctx)
	if err != nil {
		return nil, classifyTransport(ctx, err)
	}
	if resp.Error != nil {
		return nil, classifyKubo(resp.Error.Message)
	}
	defer resp.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Output, maxSize+1))
	if err != nil {
		// A broken stream, or kubo's X-Stream-Error trailer (go-ipfs-api turns it into a read error).
		var se *shell.Error
		if errors.As(err, &se) {
			return nil, classifyKubo(se.Message)
		}
		return nil, classifyTransport(ctx, err)
	}
	if int64(len(data)) > maxSize {
		return nil, &FetchError{Kind: KindTooLarge, Err: fmt.Errorf("content of %s is larger than the limit of %d bytes", c, maxSize)}
	}
	return data, nil
}

// Ping implements Backend.
func (k *KuboCat) Ping(ctx context.Context) (string, error) {
	var out struct{ Version string }
	if err := k.sh.Request("version").Exec(ctx, &out); err != nil {
		var se *shell.Error
		if errors.As(err, &se) {
			return "", classifyKubo(se.Message)
		}
		return "", classifyTransport(ctx, err)
	}
	return out.Version, nil
}

// KuboBlocks is a Backend that walks the file's DAG with raw block/get requests and checks every block against
// its CID (cidverify.Fetcher), so a corrupted kubo repository is detected here already. The enclave still
// verifies: the shim remains untrusted.
type KuboBlocks struct {
	api    cidverify.KuboAPI
	client *http.Client
}

// NewKuboBlocks returns a KuboBlocks for the kubo API at addr ("host:port" or "http://host:port").
func NewKuboBlocks(addr string, client *http.Client) (*KuboBlocks, error) {
	if strings.HasPrefix(addr, "/") {
		return nil, fmt.Errorf("kubo API address %q: the blocks backend needs host:port or http://host:port", addr)
	}
	if client == nil {
		client = &http.Client{}
	}
	return &KuboBlocks{api: cidverify.KuboAPI{URL: addr, Client: client}, client: client}, nil
}

// Fetch implements Backend.
func (k *KuboBlocks) Fetch(ctx context.Context, c cid.Cid, maxSize int64) ([]byte, error) {
	f := cidverify.Fetcher{Source: k.api, MaxSize: maxSize}
	data, err := f.FetchBytes(ctx, c)
	if err == nil {
		return data, nil
	}
	var se *cidverify.SourceError
	switch {
	case errors.As(err, &se):
		if strings.HasPrefix(se.Err.Error(), "kubo API answered") {
			return nil, classifyKubo(se.Err.Error())
		}
		return nil, classifyTransport(ctx, se.Err)
	case errors.Is(err, cidverify.ErrMismatch):
		return nil, &FetchError{Kind: KindUpstream, Err: fmt.Errorf("kubo served data that does not match: %w", err)}
	case strings.Contains(err.Error(), "size limit"):
		return nil, &FetchError{Kind: KindTooLarge, Err: err}
	case ctx.Err() != nil:
		return nil, classifyTransport(ctx, err)
	}
	return nil, &FetchError{Kind: KindUpstream, Err: err}
}

// Ping implements Backend.
func (k *KuboBlocks) Ping(ctx context.Context) (string, error) {
	base := k.api.URL
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/api/v0/version", nil)
	if err != nil {
		return "", &FetchError{Kind: KindUpstream, Err: err}
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return "", classifyTransport(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", classifyTransport(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", classifyKubo(fmt.Sprintf("kubo API answered %s: %s", resp.Status, bytes.TrimSpace(body)))
	}
	var out struct{ Version string }
	if err := json.Unmarshal(body, &out); err != nil {
		return "", &FetchError{Kind: KindUpstream, Err: fmt.Errorf("kubo version answer: %w", err)}
	}
	return out.Version, nil
}

// classifyKubo turns an error message of kubo's API into a FetchError.
func classifyKubo(msg string) *FetchError {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "not found") || strings.Contains(low, "could not find"):
		return &FetchError{Kind: KindNotFound, Err: fmt.Errorf("kubo: %s", msg)}
	case strings.Contains(low, "context deadline exceeded") || strings.Contains(low, "timeout"):
		return &FetchError{Kind: KindUnavailable, Retryable: true, Err: fmt.Errorf("kubo: %s", msg)}
	}
	return &FetchError{Kind: KindUpstream, Err: fmt.Errorf("kubo: %s", msg)}
}

// classifyTransport turns a network-level error into a retryable FetchError (kubo down, connection reset,
// timeout of the attempt).
func classifyTransport(ctx context.Context, err error) *FetchError {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &FetchError{Kind: KindUnavailable, Retryable: true, Err: fmt.Errorf("kubo timed out: %w", err)}
	case ctx.Err() != nil:
		return &FetchError{Kind: KindUnavailable, Retryable: true, Err: fmt.Errorf("request ended: %w", ctx.Err())}
	}
	return &FetchError{Kind: KindUnavailable, Retryable: true, Err: fmt.Errorf("kubo unreachable: %w", err)}
}

// backoff returns the delay before retry n (n >= 1): initial * 2^(n-1), capped at max.
func backoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}
