// Command demo-service is the small HTTP service the slasa demo (demo/demo.sh)
// and the end-to-end test (test/e2e) monitor: one health endpoint per
// availability zone, /zone-a, /zone-b, ..., that answers 200 "ok", except
// during an injected outage of that zone, when it answers 503.
//
// Outages are decided by the sample time the Cloud Logger's probe sends in
// the X-Slasa-Sample-Time header (the probe's sampling slot), not by the
// clock at which the request arrives, so an outage of whole seconds fails
// exactly the samples of those seconds however late a probe runs: the number
// of down sub-intervals is deterministic. A request without the header is
// judged by the current time.
//
//	demo-service -listen 127.0.0.1:0 -addr-file svc.addr \
//	  -zones zone-a,zone-b,zone-c -outage zone-a+zone-b@2026-01-01T00:00:40Z/2026-01-01T00:00:45Z
//
// -outage ZONES@FROM/TO (repeatable) fails the '+'-separated zones for sample
// times in [FROM, TO) (RFC 3339). GET /outages lists them as JSON, GET /healthz
// answers 200, GET /stats gives the requests served and failed per zone.
// Each injected failure is logged on stderr once per second and zone.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sampleTimeHeader is the header in which the Cloud Logger's probes send
// their sampling slot (logger.SampleTimeHeader).
const sampleTimeHeader = "X-Slasa-Sample-Time"

// outage fails Zones for sample times in [From, To).
type outage struct {
	Zones []string  `json:"zones"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// parseOutage parses ZONES@FROM/TO.
func parseOutage(s string) (outage, error) {
	zones, window, ok := strings.Cut(s, "@")
	if !ok || zones == "" {
		return outage{}, fmt.Errorf("outage %q: want ZONE[+ZONE...]@FROM/TO", s)
	}
	from, to, ok := strings.Cut(window, "/")
	if !ok {
		return outage{}, fmt.Errorf("outage %q: window %q: want FROM/TO", s, window)
	}
	f, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return outage{}, fmt.Errorf("outage %q: FROM: %w", s, err)
	}
	t, err := time.Parse(time.RFC3339, to)
	if err != nil {
		return outage{}, fmt.Errorf("outage %q: TO: %w", s, err)
	}
	if !t.After(f) {
		return outage{}, fmt.Errorf("outage %q: TO must be after FROM", s)
	}
	return outage{Zones: strings.Split(zones, "+"), From: f.UTC(), To: t.UTC()}, nil
}

// service is the demo service.
type service struct {
	zones   map[string]bool
	outages []outage
	now     func() time.Time
	log     io.Writer

	mu       sync.Mutex
	served   map[string]int64
	failed   map[string]int64
	lastLogs map[string]time.Time
}

func newService(zones []string, outages []outage, logw io.Writer) (*service, error) {
	s := &service{zones: map[string]bool{}, outages: outages, now: time.Now, log: logw,
		served: map[string]int64{}, failed: map[string]int64{}, lastLogs: map[string]time.Time{}}
	for _, z := range zones {
		if z == "" {
			return nil, errors.New("-zones: empty zone name")
		}
		s.zones[z] = true
	}
	for _, o := range outages {
		for _, z := range o.Zones {
			if !s.zones[z] {
				return nil, fmt.Errorf("-outage: zone %q is not one of -zones", z)
			}
		}
	}
	return s, nil
}

// down reports whether zone is in an outage at sample time at.
func (s *service) down(zone string, at time.Time) bool {
	for _, o := range s.outages {
		if at.Before(o.From) || !at.Before(o.To) {
			continue
		}
		for _, z := range o.Zones {
			if z == zone {
				return true
			}
		}
	}
	return false
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		fmt.Fprintln(w, "ok")
		return
	case "/outages":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.outages)
		return
	case "/stats":
		s.mu.Lock()
		zones := make([]string, 0, len(s.zones))
		for z := range s.zones {
			zones = append(zones, z)
		}
		sort.Strings(zones)
		type row struct {
			Zone   string `json:"zone"`
			Served int64  `json:"served"`
			Failed int64  `json:"failed"`
		}
		rows := make([]row, 0, len(zones))
		for _, z := range zones {
			rows = append(rows, row{z, s.served[z], s.failed[z]})
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rows)
		return
	}
	zone := strings.TrimPrefix(r.URL.Path, "/")
	if !s.zones[zone] {
		http.NotFound(w, r)
		return
	}
	at := s.now().UTC()
	if h := r.Header.Get(sampleTimeHeader); h != "" {
		t, err := time.Parse(time.RFC3339Nano, h)
		if err != nil {
			http.Error(w, "bad "+sampleTimeHeader+": "+err.Error(), http.StatusBadRequest)
			return
		}
		at = t.UTC()
	}
	fail := s.down(zone, at)
	s.mu.Lock()
	s.served[zone]++
	if fail {
		s.failed[zone]++
		if sec := at.Truncate(time.Second); !s.lastLogs[zone].Equal(sec) {
			s.lastLogs[zone] = sec
			fmt.Fprintf(s.log, "demo-service: %s DOWN for the sample at %s (injected outage)\n", zone, at.Format(time.RFC3339))
		}
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo-service:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("demo-service", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	addrFile := fs.String("addr-file", "", "write the bound address (host:port) to this file")
	zones := fs.String("zones", "zone-a,zone-b,zone-c", "comma-separated zone names, each served at /<zone>")
	var outs multiFlag
	fs.Var(&outs, "outage", "ZONE[+ZONE...]@FROM/TO: fail these zones for sample times in [FROM, TO) (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var outages []outage
	for _, o := range outs {
		p, err := parseOutage(o)
		if err != nil {
			return err
		}
		outages = append(outages, p)
	}
	svc, err := newService(strings.Split(*zones, ","), outages, os.Stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	log.SetFlags(0)
	log.Printf("demo-service: listening on http://%s (zones %s, %d outage(s))", ln.Addr(), *zones, len(outages))
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 5 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
