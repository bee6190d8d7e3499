// Command slasa-monitor follows the agreement chaincode's events and drives
// the SLA enclave and the refund chaincode: it registers signed SLAs in the
// enclave, ingests every anchored log batch, evaluates every complete paid
// period and settles its verdict; it also escalates the trouble tickets of
// those SLAs whose escalation thresholds have passed (-escalate). See
// package monitor and
// docs/logger-monitor.md; run with -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/internal/flagvalue"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/monitor"
	"github.com/slasa/slasa/signedsla"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		conn                         logger.ConnectOptions
		slas                         flagvalue.List
		stateDir, listen, addrFile   string
		agreementCC, refundCC        string
		enclaveCC, registryCC        string
		ticketCC                     string
		escalate                     bool
		startBlock                   uint64
		poll, backoffMin, backoffMax time.Duration
		compactEvery                 time.Duration
	)
	fs := flag.NewFlagSet("slasa-monitor", flag.ContinueOnError)
	conn.Register(fs, "client")
	fs.StringVar(&stateDir, "state-dir", "", "state folder: monitor-state.json and the event checkpoint (required)")
	fs.Var(&slas, "sla", "handle only these SLA ids (repeatable, or space separated); default: every SLA the identity is the provider or client of")
	fs.Uint64Var(&startBlock, "start-block", 0, "block to read events from when there is no checkpoint yet (0: the whole chain)")
	fs.StringVar(&agreementCC, "agreement-cc", "agreement", "agreement chaincode name")
	fs.StringVar(&refundCC, "refund-cc", "refund", "refund chaincode name")
	fs.StringVar(&enclaveCC, "enclave-cc", "slaenclave", "SLA enclave chaincode name")
	fs.StringVar(&registryCC, "registry-cc", fpcclient.DefaultRegistry, "enclave registry chaincode name")
	fs.StringVar(&ticketCC, "ticket-cc", "ticket", "ticket chaincode name")
	fs.BoolVar(&escalate, "escalate", true, "escalate the tickets of the SLAs it is a party of when a level's threshold has passed, every -poll")
	fs.DurationVar(&poll, "poll", 5*time.Second, "reconcile every SLA at least this often, events or not")
	fs.DurationVar(&backoffMin, "backoff-min", time.Second, "first retry delay of an SLA after a failure (doubles per retry)")
	fs.DurationVar(&backoffMax, "backoff-max", time.Minute, "largest retry delay")
	fs.DurationVar(&compactEvery, "compact-reputation", time.Hour, "every this long, fold the identity's organization's older settled periods into its reputation checkpoint (refund CompactReputation); 0: never")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "address for GET /healthz and /metrics; empty: none")
	fs.StringVar(&addrFile, "addr-file", "", "write the -listen address actually bound to this file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fail := func(msg string, args ...any) int { log.Error(msg, args...); return 1 }
	if stateDir == "" {
		return fail("-state-dir is required")
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fail("-state-dir", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	gw, err := conn.Connect()
	if err != nil {
		return fail("connecting to the gateway", "err", err)
	}
	defer gw.Close()
	certPEM, err := os.ReadFile(gw.User.CertPath)
	if err != nil {
		return fail("reading the identity's certificate", "err", err)
	}
	cert, err := signedsla.ParseCertificatePEM(certPEM)
	if err != nil {
		return fail("identity certificate", "err", err)
	}
	var tickets monitor.Tickets
	if escalate {
		tickets = &monitor.TicketClient{Contract: gw.Network.GetContract(ticketCC), MSPID: gw.MSPID}
	}
	m, err := monitor.New(monitor.Config{
		StateDir:   stateDir,
		Me:         identity.FromCert(gw.MSPID, cert),
		SLAs:       slas,
		Agreements: &logger.AgreementClient{Contract: gw.Network.GetContract(agreementCC), MSPID: gw.MSPID},
		Enclave:    &monitor.EnclaveClient{FPC: fpcclient.New(gw.Network, enclaveCC, fpcclient.WithRegistry(registryCC))},
		Refund:     &monitor.RefundClient{Contract: gw.Network.GetContract(refundCC)},
		Tickets:    tickets,
		Reputation: &monitor.RefundClient{Contract: gw.Network.GetContract(refundCC)}, CompactEvery: compactEvery,
		Log:  log,
		Poll: poll, BackoffMin: backoffMin, BackoffMax: backoffMax,
	})
	if err != nil {
		return fail("monitor", "err", err)
	}
	cp, err := client.NewFileCheckpointer(filepath.Join(stateDir, "checkpoint.json"))
	if err != nil {
		return fail("checkpoint", "err", err)
	}
	defer cp.Close()

	var connected atomic.Bool
	peer := m.PeerFreshness()
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fail("-listen", "err", err)
		}
		srv := &http.Server{Handler: m.Handler(opshttp.New(nil), &connected, peer), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		if addrFile != "" {
			if err := logger.WriteFileAtomic(addrFile, []byte(ln.Addr().String()+"\n")); err != nil {
				return fail("-addr-file", "err", err)
			}
		}
		log.Info("serving /healthz and /metrics", "addr", ln.Addr().String())
	}
	log.Info("monitor running", "identity", identity.FromCert(gw.MSPID, cert).String(), "state_dir", stateDir,
		"checkpoint_block", cp.BlockNumber(), "checkpoint_tx", cp.TransactionID(), "escalate", escalate)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		_ = m.WatchChain(ctx, &monitor.QSCCChainInfo{Network: gw.Network}, poll, peer)
	}()
	go func() {
		defer wg.Done()
		_ = monitor.FollowEvents(ctx, gw.Network, agreementCC, cp, startBlock, m, connected.Store)
	}()
	go func() {
		defer wg.Done()
		if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("monitor stopped", "err", err)
		}
	}()
	wg.Wait()
	log.Info("monitor stopped")
	return 0
}
