//go:build integration

// Integration tests of the IPFS node scripts, the verifying CID reader and the tunneling shim against a real
// kubo node started by ipfs/up.sh (package kubotest), on free ports in a temporary run folder.
package ipfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/ipfs/kubotest"
	shimtunnel "github.com/slasa/slasa/shim-tunnel"
	"github.com/slasa/slasa/shim-tunnel/shimclient"
)

func testData(n int, seed byte) []byte {
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// startShim serves a shim in-process in front of kuboAPI and returns a client for it.
func startShim(t testing.TB, be shimtunnel.Backend, cfg shimtunnel.Config) (*shimtunnel.Server, *shimclient.Client) {
	t.Helper()
	srv, err := shimtunnel.NewServer(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cl, err := shimclient.New(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

func TestAddFetchVerify(t *testing.T) {
	node := kubotest.Start(t)
	ctx := context.Background()
	sizes := []int{0, 1, cidverify.ChunkSize, cidverify.ChunkSize + 1, 3<<20 + 5, cidverify.MaxLinks*cidverify.ChunkSize + 1}
	blocks, err := shimtunnel.NewKuboBlocks(node.API, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, catClient := startShim(t, shimtunnel.NewKuboCat(node.API, nil), shimtunnel.Config{})
	_, blocksClient := startShim(t, blocks, shimtunnel.Config{})
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			data := testData(n, byte(n))
			id := node.Add(t, data)
			sum, err := cidverify.Sum(data)
			if err != nil {
				t.Fatal(err)
			}
			if sum.String() != id {
				t.Fatalf("cidverify.Sum = %s, kubo add = %s", sum, id)
			}
			for name, cl := range map[string]*shimclient.Client{"cat": catClient, "blocks": blocksClient} {
				got, err := cl.FetchVerified(ctx, id)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s shim: FetchVerified: %d bytes, %v", name, len(got), err)
				}
			}
			f := cidverify.Fetcher{Source: cidverify.KuboAPI{URL: node.API}}
			got, err := f.FetchBytes(ctx, sum)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("cidverify.Fetcher: %d bytes, %v", len(got), err)
			}
		})
	}
	t.Run("absent content is not found, not retryable", func(t *testing.T) {
		absent, _ := cidverify.Sum([]byte("never added " + t.Name()))
		_, err := catClient.Fetch(ctx, absent.String())
		var se *shimclient.Error
		if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound || shimclient.IsRetryable(err) {
			t.Fatalf("Fetch(absent) = %v, want a non-retryable 404", err)
		}
	})
}

func TestKuboDownThenUp(t *testing.T) {
	node := kubotest.Start(t)
	ctx := context.Background()
	data := testData(1<<20+3, 42)
	id := node.Add(t, data)
	srv, cl := startShim(t, shimtunnel.NewKuboCat(node.API, nil), shimtunnel.Config{
		Retries: 2, BackoffInitial: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
	})
	if h, err := cl.Health(ctx); err != nil || h.Status != "ok" || h.KuboVersion != "0.32.1" {
		t.Fatalf("Health = %+v, %v", h, err)
	}

	node.Down(t)
	_, err := cl.FetchVerified(ctx, id)
	var se *shimclient.Error
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable || !shimclient.IsRetryable(err) {
		t.Fatalf("FetchVerified with kubo down = %v, want a retryable 503", err)
	}
	if h, err := cl.Health(ctx); err != nil || h.Status != "degraded" || h.Kubo != "unreachable" {
		t.Fatalf("Health with kubo down = %+v, %v", h, err)
	}

	node.Up(t)
	got, err := cl.FetchVerified(ctx, id)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("FetchVerified after restart: %d bytes, %v", len(got), err)
	}
	var unavailable string
	for _, kv := range srv.Metrics() {
		if kv[0] == `shim_errors_total{kind="unavailable"}` {
			unavailable = kv[1]
		}
	}
	if unavailable != "1" {
		t.Fatalf("unavailable errors = %s, want 1; metrics %v", unavailable, srv.Metrics())
	}
}

// lyingProxy sits between the shim and kubo and alters kubo's answers.
func lyingProxy(t *testing.T, kuboAPI string, alter func(r *http.Request, body []byte) []byte, rewrite func(*http.Request)) string {
	t.Helper()
	target, _ := url.Parse("http://" + kuboAPI)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		if rewrite != nil {
			rewrite(pr.Out)
		}
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK || alter == nil {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		body = alter(resp.Request, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Del("Trailer")
		resp.Trailer = nil
		return nil
	}
	hs := httptest.NewServer(rp)
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://")
}

func TestLyingProxy(t *testing.T) {
	node := kubotest.Start(t)
	ctx := context.Background()
	data := testData(2*cidverify.ChunkSize+11, 9)
	other := testData(2*cidverify.ChunkSize+11, 10)
	id := node.Add(t, data)
	otherID := node.Add(t, other)

	flip := func(r *http.Request, body []byte) []byte {
		if len(body) > 1000 && (strings.HasSuffix(r.URL.Path, "/cat") || strings.HasSuffix(r.URL.Path, "/block/get")) {
			body[777] ^= 1
		}
		return body
	}
	flipping := lyingProxy(t, node.API, flip, nil)
	swapping := lyingProxy(t, node.API, nil, func(r *http.Request) {
		q := r.URL.Query()
		if q.Get("arg") == id {
			q.Set("arg", otherID)
			r.URL.RawQuery = q.Encode()
		}
	})
	for name, proxy := range map[string]string{"flipped byte": flipping, "another CID's content": swapping} {
		t.Run(name, func(t *testing.T) {
			_, cl := startShim(t, shimtunnel.NewKuboCat(proxy, nil), shimtunnel.Config{})
			raw, err := cl.Fetch(ctx, id)
			if err != nil {
				t.Fatalf("Fetch through the lying proxy: %v", err)
			}
			if bytes.Equal(raw, data) {
				t.Fatal("the proxy did not alter the content; the test proves nothing")
			}
			_, err = cl.FetchVerified(ctx, id)
			if !errors.Is(err, cidverify.ErrMismatch) || shimclient.IsRetryable(err) {
				t.Fatalf("FetchVerified = %v, want a non-retryable cidverify mismatch", err)
			}
			t.Logf("rejected: %v", err)

			// The blocks backend (and cidverify.Fetcher) catch the lie already in the shim.
			blocks, err := shimtunnel.NewKuboBlocks(proxy, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, bcl := startShim(t, blocks, shimtunnel.Config{})
			_, err = bcl.Fetch(ctx, id)
			var se *shimclient.Error
			if !errors.As(err, &se) || se.StatusCode != http.StatusBadGateway || se.Retryable {
				t.Fatalf("blocks shim through the lying proxy = %v, want a non-retryable 502", err)
			}
			c, _ := cidverify.Parse(id)
			if _, err := (&cidverify.Fetcher{Source: cidverify.KuboAPI{URL: proxy}}).FetchBytes(ctx, c); !errors.Is(err, cidverify.ErrMismatch) {
				t.Fatalf("cidverify.Fetcher through the lying proxy = %v, want a mismatch", err)
			}
		})
	}
}

// TestShimBinary runs the real cmd/shim-tunnel binary against the node, reading the API address from the file
// ipfs/up.sh writes.
func TestShimBinary(t *testing.T) {
	node := kubotest.Start(t)
	root, _ := kubotest.RepoRoot()
	bin := filepath.Join(t.TempDir(), "shim-tunnel")
	build := exec.Command("go", "build", "-o", bin, "./cmd/shim-tunnel")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the shim: %v\n%s", err, out)
	}
	port, err := kubotest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-listen", addr, "-ipfs-api-file", node.APIFile, "-max-size", "2000000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		t.Logf("shim log:\n%s", logs.String())
	})
	cl, err := shimclient.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h, err := cl.Health(ctx); err == nil && h.Status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shim did not become healthy; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	data := testData(1_500_000, 77)
	id := node.Add(t, data)
	got, err := cl.FetchVerified(ctx, id)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("FetchVerified through the shim binary: %d bytes, %v", len(got), err)
	}
	big := node.Add(t, testData(2_000_001, 78))
	_, err = cl.Fetch(ctx, big)
	var se *shimclient.Error
	if !errors.As(err, &se) || se.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("Fetch over -max-size = %v, want 413", err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Prometheus text format: counters are floats (1500000 is written 1.5e+06).
	samples := map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		if name, v, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				samples[name] = f
			}
		}
	}
	if samples["shim_bytes_served_total"] != 1_500_000 || samples[`shim_errors_total{kind="too_large"}`] != 1 || samples["process_open_fds"] == 0 {
		t.Fatalf("metrics:\n%s", body)
	}
}

// TestUpIsIdempotent checks that a second ipfs/up.sh on a running node changes nothing.
func TestUpIsIdempotent(t *testing.T) {
	node := kubotest.Start(t)
	pidFile := filepath.Join(node.RunDir, "ipfs", "ipfs.pid")
	before, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	node.Up(t)
	after, _ := os.ReadFile(pidFile)
	if !bytes.Equal(before, after) {
		t.Fatalf("second up changed the PID: %s -> %s", before, after)
	}
}

func BenchmarkFetchThroughShim50MB(b *testing.B) {
	node := kubotest.Start(b)
	data := testData(50<<20, 1)
	id := node.Add(b, data)
	ctx := context.Background()
	blocks, err := shimtunnel.NewKuboBlocks(node.API, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		be       shimtunnel.Backend
		verified bool
	}{
		{"cat", shimtunnel.NewKuboCat(node.API, nil), false},
		{"cat+FetchVerified", shimtunnel.NewKuboCat(node.API, nil), true},
		{"blocks+FetchVerified", blocks, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, cl := startShim(b, bc.be, shimtunnel.Config{})
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var got []byte
				var err error
				if bc.verified {
					got, err = cl.FetchVerified(ctx, id)
				} else {
					got, err = cl.Fetch(ctx, id)
				}
				if err != nil || len(got) != len(data) {
					b.Fatalf("%d bytes, %v", len(got), err)
				}
			}
		})
	}
	b.Run("cidverify.Fetcher direct", func(b *testing.B) {
		c, _ := cidverify.Parse(id)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			got, err := (&cidverify.Fetcher{Source: cidverify.KuboAPI{URL: node.API}}).FetchBytes(ctx, c)
			if err != nil || len(got) != len(data) {
				b.Fatalf("%d bytes, %v", len(got), err)
			}
		}
	})
}
