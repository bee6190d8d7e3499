// Command cloud-logger is the slasa Cloud Logger: it probes a service's
// endpoints (or reads JSON Lines log records), spools every sample to disk,
// cuts the samples into time-window batches, seals them to the SLA enclave,
// publishes them to IPFS and anchors them on the agreement chaincode. See
// package logger and docs/logger-monitor.md; run with -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/internal/flagvalue"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/logger/ticketfeed"
	"github.com/slasa/slasa/sla"
)

// config is the -config file.
type config struct {
	Probes []struct {
		SLA string `json:"sla,omitempty"`
		logger.ProbeSource
	} `json:"probes"`
}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		conn                  logger.ConnectOptions
		slaIDs, slaFiles      flagvalue.List
		probes                flagvalue.Multi
		configFile, stateDir  string
		ingestPath, ingestSLA string
		agreementCC           string
		enclaveCC, registryCC string
		ipfsAPI, ipfsAPIFile  string
		listen                string
		window, cutDelay      time.Duration
		probeTimeout          time.Duration
		maxClockOffset        time.Duration
		ipfsTimeout           time.Duration
		backoffMin, backoffMx time.Duration
		keepSealed            bool
		okStatusMax           int
		tickets               bool
		ticketCC, ticketProbe string
		ticketStart           uint64
	)
	fs := flag.NewFlagSet("cloud-logger", flag.ContinueOnError)
	conn.Register(fs, "logger")
	fs.Var(&slaIDs, "sla", "SLA id to log (repeatable, or space separated); the document is read with the agreement chaincode's GetSLA")
	fs.Var(&slaFiles, "sla-file", "SLA document file to log instead of reading it from the ledger (repeatable)")
	fs.Var(&probes, "probe", "probe NAME,ZONE,URL for every SLA (repeatable): GET URL once per sampling slot on behalf of ZONE")
	fs.StringVar(&configFile, "config", "", `JSON file of probes: {"probes":[{"sla":"id (optional)","name":"probe-a","zone":"zone-a","url":"http://..."}]}`)
	fs.StringVar(&ingestPath, "ingest", "", "read JSON Lines log records from this file, or - for stdin, into the SLA named by -ingest-sla")
	fs.StringVar(&ingestSLA, "ingest-sla", "", "SLA id the -ingest records belong to (default: the only SLA)")
	fs.StringVar(&stateDir, "state-dir", "", "state folder: spool, sealed batches and publishing state per SLA (required)")
	fs.DurationVar(&window, "window", 10*time.Second, "batch window width, whole seconds; windows are aligned to the SLA's billing periods. Fixed for the life of a state folder")
	fs.DurationVar(&cutDelay, "cut-delay", 3*time.Second, "cut a window this long after its end (must exceed -probe-timeout)")
	fs.DurationVar(&probeTimeout, "probe-timeout", 2*time.Second, "timeout of one probe request (capped at the sampling period)")
	fs.IntVar(&okStatusMax, "ok-status-max", 299, "a probe response with status 200..this counts as ok")
	fs.DurationVar(&maxClockOffset, "max-clock-offset", logger.DefaultMaxClockOffset, "report the logger degraded (/healthz check clock, gauge logger_clock_offset_seconds) when its clock is this far from the probed services' clocks (their responses' Date headers); 0: no check")
	fs.StringVar(&agreementCC, "agreement-cc", "agreement", "agreement chaincode name")
	fs.StringVar(&enclaveCC, "enclave-cc", "slaenclave", "SLA enclave chaincode name (its encryption key is read from the registry)")
	fs.StringVar(&registryCC, "registry-cc", fpcclient.DefaultRegistry, "enclave registry chaincode name")
	fs.StringVar(&ipfsAPI, "ipfs-api", "127.0.0.1:27080", "kubo API address (host:port, http://host:port or multiaddr)")
	fs.StringVar(&ipfsAPIFile, "ipfs-api-file", "", "read the kubo API address from this file (<run>/ipfs/api); overrides -ipfs-api")
	fs.DurationVar(&ipfsTimeout, "ipfs-timeout", 30*time.Second, "timeout of one IPFS add")
	fs.StringVar(&listen, "listen", "", "address for GET /healthz and /metrics (e.g. 127.0.0.1:27084); empty: none")
	fs.DurationVar(&backoffMin, "backoff-min", 500*time.Millisecond, "first retry delay after an IPFS or Fabric failure (doubles per retry)")
	fs.DurationVar(&backoffMx, "backoff-max", 30*time.Second, "largest retry delay")
	fs.BoolVar(&tickets, "tickets", false, "follow the ticket chaincode's events and log every ticket transition of the logged SLAs (those with a support section) as an incident event (needs -cut-delay >= 10s)")
	fs.StringVar(&ticketCC, "ticket-cc", "ticket", "ticket chaincode name (with -tickets)")
	fs.Uint64Var(&ticketStart, "ticket-start-block", 0, "block to follow the ticket events from when the checkpoint (state-dir/tickets-checkpoint.json) is empty (with -tickets)")
	fs.StringVar(&ticketProbe, "ticket-probe", "tickets", "source.probe of the ticket events (with -tickets); the zone is the SLA's first monitoring zone")
	fs.BoolVar(&keepSealed, "keep-sealed", false, "keep the sealed batch files after anchoring (state-dir/<sla>/sealed)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fail := func(msg string, args ...any) int { log.Error(msg, args...); return 1 }
	if stateDir == "" {
		return fail("-state-dir is required")
	}
	if len(slaIDs) == 0 && len(slaFiles) == 0 {
		return fail("at least one -sla or -sla-file is required")
	}
	if ipfsAPIFile != "" {
		b, err := os.ReadFile(ipfsAPIFile)
		if err != nil {
			return fail("reading -ipfs-api-file", "err", err)
		}
		ipfsAPI = strings.TrimSpace(string(b))
	}
	if maxClockOffset < 0 {
		return fail("-max-clock-offset must not be negative (0 turns the clock check off)", "max_clock_offset", maxClockOffset)
	}
	if cutDelay <= probeTimeout {
		return fail("-cut-delay must exceed -probe-timeout", "cut_delay", cutDelay, "probe_timeout", probeTimeout)
	}
	if tickets && cutDelay < minTicketCutDelay {
		return fail("-tickets needs -cut-delay of at least 10s: a ticket transition reaches the logger after its block commits, and a window must not be cut before", "cut_delay", cutDelay)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	gw, err := conn.Connect()
	if err != nil {
		return fail("connecting to the gateway", "err", err)
	}
	defer gw.Close()
	id, err := logger.LoadIdentityFiles(gw.User.CertPath, gw.User.KeyPath)
	if err != nil {
		return fail("logger identity", "err", err)
	}
	ledger := &logger.AgreementClient{Contract: gw.Network.GetContract(agreementCC), MSPID: gw.MSPID}
	keys := &logger.EnclaveKeys{Client: fpcclient.New(gw.Network, enclaveCC, fpcclient.WithRegistry(registryCC))}
	store := logger.NewKuboStore(ipfsAPI, ipfsTimeout)

	// The SLA documents.
	var docs []*sla.SLA
	for _, f := range slaFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return fail("reading -sla-file", "err", err)
		}
		s, err := sla.Parse(data)
		if err != nil {
			return fail("parsing -sla-file", "file", f, "err", err)
		}
		docs = append(docs, s)
	}
	for _, sid := range slaIDs {
		var s *sla.SLA
		err := logger.Retry(ctx, "GetSLA "+sid, backoffMin, backoffMx, log.Warn, func() error {
			ag, err := ledger.GetSLA(ctx, sid)
			if err != nil {
				return err
			}
			s, err = ag.SLA()
			return err
		})
		if err != nil {
			return fail("reading the SLA", "sla", sid, "err", err)
		}
		docs = append(docs, s)
	}
	// Every anchor of an SLA is endorsed by its provider's and its client's
	// organizations.
	if ledger.Orgs, err = logger.SLAOrgs(docs); err != nil {
		return fail("the SLAs' parties", "err", err)
	}

	// Probes per SLA.
	perSLA := map[string][]logger.ProbeSource{}
	for _, p := range probes {
		ps, err := logger.ParseProbe(p)
		if err != nil {
			return fail("-probe", "err", err)
		}
		for _, s := range docs {
			perSLA[s.ID] = append(perSLA[s.ID], ps)
		}
	}
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return fail("reading -config", "err", err)
		}
		var cfg config
		if err := strictjson.Unmarshal(data, &cfg); err != nil {
			return fail("parsing -config", "err", err)
		}
		for _, p := range cfg.Probes {
			for _, s := range docs {
				if p.SLA == "" || p.SLA == s.ID {
					perSLA[s.ID] = append(perSLA[s.ID], p.ProbeSource)
				}
			}
		}
	}

	// Publishers.
	pubs := map[string]*logger.Publisher{}
	var order []string
	for _, s := range docs {
		if pubs[s.ID] != nil {
			return fail("SLA given twice", "sla", s.ID)
		}
		var pub *logger.Publisher
		err := logger.Retry(ctx, "opening the publisher of "+s.ID, backoffMin, backoffMx, log.Warn, func() error {
			var err error
			pub, err = logger.NewPublisher(ctx, logger.PublisherConfig{SLA: s, Dir: filepath.Join(stateDir, logger.StateDirName(s.ID)),
				Window: window, CutDelay: cutDelay, Ledger: ledger, Store: store, Keys: keys, Identity: id, Log: log,
				KeepSealed: keepSealed, BackoffMin: backoffMin, BackoffMax: backoffMx})
			return err
		})
		if err != nil {
			return fail("opening the publisher", "sla", s.ID, "err", err)
		}
		pubs[s.ID] = pub
		order = append(order, s.ID)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(pubs)+1)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var clock *logger.ClockCheck
	if maxClockOffset > 0 {
		clock = logger.NewClockCheck(maxClockOffset)
	}
	for _, s := range docs {
		pub := pubs[s.ID]
		ps, err := logger.ResolveProbes(s, perSLA[s.ID])
		if err != nil {
			return fail("probes", "err", err)
		}
		// The SLA's probes stop when its publisher has published the last
		// window of the validity.
		slaCtx, slaDone := context.WithCancel(runCtx)
		if len(ps) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = logger.RunProbers(slaCtx, logger.ProberConfig{SLA: s, Probes: ps, Timeout: probeTimeout, Sink: pub.Spool().Append, Log: log, Clock: clock,
					OK: func(st int) bool { return st >= 200 && st <= okStatusMax }})
			}()
			log.Info("probing", "sla", s.ID, "probes", len(ps), "sampling_ms", s.Interval.SamplingPeriodMS)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer slaDone()
			if err := pub.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("SLA %s: %w", s.ID, err)
				cancel()
			}
		}()
	}
	if ingestPath != "" {
		target := ingestSLA
		if target == "" {
			if len(order) != 1 {
				return fail("-ingest with several SLAs needs -ingest-sla")
			}
			target = order[0]
		}
		pub := pubs[target]
		if pub == nil {
			return fail("-ingest-sla is not one of the SLAs logged", "sla", target)
		}
		var r io.Reader = os.Stdin
		if ingestPath != "-" {
			f, err := os.Open(ingestPath)
			if err != nil {
				return fail("-ingest", "err", err)
			}
			defer f.Close()
			r = f
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := logger.Ingest(runCtx, r, pub.Spool().Append, log)
			log.Info("ingest finished", "sla", target, "lines", st.Lines, "accepted", st.Accepted, "rejected", st.Rejected, "err", err)
		}()
	}
	var feed *logger.TicketFeed
	if tickets {
		sinks := map[string]logger.TicketSink{}
		for _, s := range docs {
			if s.Support == nil {
				log.Warn("-tickets: the SLA has no support section; its tickets are not logged", "sla", s.ID)
				continue
			}
			z := s.Monitoring.Zones[0]
			sinks[s.ID] = logger.TicketSink{Append: pubs[s.ID].Spool().Append, Source: ticketfeed.Source{Probe: ticketProbe, Zone: z.ID, Region: z.Region}}
		}
		feed, err = logger.NewTicketFeed(logger.TicketFeedConfig{Reader: &logger.TicketClient{Contract: gw.Network.GetContract(ticketCC), MSPID: gw.MSPID},
			Sinks: sinks, StatePath: filepath.Join(stateDir, "tickets-state.json"), Log: log})
		if err != nil {
			return fail("-tickets", "err", err)
		}
		cp, err := client.NewFileCheckpointer(filepath.Join(stateDir, "tickets-checkpoint.json"))
		if err != nil {
			return fail("-tickets: checkpoint", "err", err)
		}
		defer cp.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = logger.FollowTickets(runCtx, gw.Network, ticketCC, cp, ticketStart, feed, log)
		}()
	}
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fail("-listen", "err", err)
		}
		ordered := make([]*logger.Publisher, 0, len(order))
		for _, id := range order {
			ordered = append(ordered, pubs[id])
		}
		ops := opshttp.New(nil)
		if clock != nil {
			clock.Register(ops)
		}
		srv := &http.Server{Handler: logger.Handler(ops, ordered, feed, nil), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("serving /healthz and /metrics", "addr", ln.Addr().String())
	}
	log.Info("cloud logger running", "slas", strings.Join(order, ","), "state_dir", stateDir, "window", window, "ipfs", ipfsAPI)
	wg.Wait()
	for _, p := range pubs {
		p.Spool().Close()
	}
	select {
	case err := <-errs:
		return fail("stopped", "err", err)
	default:
	}
	log.Info("cloud logger stopped")
	return 0
}

// minTicketCutDelay is the least -cut-delay with -tickets.
const minTicketCutDelay = 10 * time.Second
