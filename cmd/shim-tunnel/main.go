// Command shim-tunnel runs the slasa tunneling shim: an untrusted loopback HTTP service that serves
// GET /v1/batches/{cid} from the local kubo node (see package shimtunnel and shim-tunnel/README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	shimtunnel "github.com/slasa/slasa/shim-tunnel"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "shim-tunnel:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("shim-tunnel", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27082", "address to listen on (loopback only unless -allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback -listen address")
	api := fs.String("ipfs-api", "127.0.0.1:27080", "kubo API address: host:port, http://host:port or multiaddr")
	apiFile := fs.String("ipfs-api-file", "", "read the kubo API address from this file (e.g. <run>/ipfs/api); overrides -ipfs-api")
	backend := fs.String("backend", "cat", "how to read from kubo: cat (go-ipfs-api cat) or blocks (block/get, each block hash-checked)")
	maxSize := fs.Int64("max-size", shimtunnel.DefaultMaxSize, "largest batch served, in bytes")
	attempt := fs.Duration("attempt-timeout", shimtunnel.DefaultAttemptTimeout, "timeout of one request to kubo")
	reqTimeout := fs.Duration("request-timeout", shimtunnel.DefaultRequestTimeout, "timeout of one batch request, retries included")
	retries := fs.Int("retries", shimtunnel.DefaultRetries, "extra attempts after a retryable kubo failure (0: none)")
	bInit := fs.Duration("backoff", shimtunnel.DefaultBackoffInitial, "delay before the first retry (doubles each retry)")
	bMax := fs.Duration("backoff-max", shimtunnel.DefaultBackoffMax, "largest delay between retries")
	cacheBytes := fs.Int64("cache-bytes", 128<<20, "budget of the in-memory LRU cache of batches, in bytes (0: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *apiFile != "" {
		b, err := os.ReadFile(*apiFile)
		if err != nil {
			return fmt.Errorf("-ipfs-api-file: %w", err)
		}
		*api = strings.TrimSpace(string(b))
		if *api == "" {
			return fmt.Errorf("-ipfs-api-file %s is empty", *apiFile)
		}
	}
	if err := checkLoopback(*listen, *allowRemote); err != nil {
		return err
	}
	var be shimtunnel.Backend
	switch *backend {
	case "cat":
		be = shimtunnel.NewKuboCat(*api, nil)
	case "blocks":
		kb, err := shimtunnel.NewKuboBlocks(*api, nil)
		if err != nil {
			return err
		}
		be = kb
	default:
		return fmt.Errorf("-backend must be cat or blocks, got %q", *backend)
	}
	retriesCfg := *retries
	if retriesCfg == 0 {
		retriesCfg = -1 // Config treats 0 as "default"; the flag's 0 means none
	}
	logger := log.New(os.Stderr, "shim-tunnel: ", log.LstdFlags|log.LUTC)
	srv, err := shimtunnel.NewServer(be, shimtunnel.Config{
		MaxSize: *maxSize, AttemptTimeout: *attempt, RequestTimeout: *reqTimeout, Retries: retriesCfg,
		BackoffInitial: *bInit, BackoffMax: *bMax, CacheBytes: *cacheBytes, Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      *reqTimeout + 30*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Printf("serving on http://%s, kubo API %s (backend %s); untrusted: callers verify with cidverify", ln.Addr(), *api, *backend)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkLoopback refuses a listen address that is not on loopback, unless allowed.
func checkLoopback(addr string, allow bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", addr, err)
	}
	if allow {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q is not a loopback address; the shim is meant for loopback (use -allow-remote to override)", addr)
	}
	return nil
}
