package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/opshttp"
)

// consoleOps counts what the console does, for its operations endpoint
// (slasa console --ops-listen): GET /healthz and GET /metrics, the way the
// logger, the monitor and the shim serve them (internal/opshttp).
type consoleOps struct {
	// requests counts the answers by status class (index 1..5 for 1xx..5xx).
	requests [6]atomic.Int64
	// evaluations and submissions count the ledger calls of every user;
	// the failed ones are counted again in evaluateErrors / submitErrors.
	evaluations, evaluateErrors atomic.Int64
	submissions, submitErrors   atomic.Int64
	// streams is the number of event streams (SSE pages) open now.
	streams atomic.Int64
}

// handler wraps h: every answer is counted by its status class.
func (o *consoleOps) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if c := rec.code / 100; c >= 1 && c <= 5 {
			o.requests[c].Add(1)
		}
	})
}

// statusRecorder remembers the status code of an answer. It keeps the
// writer's Flush (the event pages stream) through Unwrap.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush flushes the underlying writer when it can.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// countedLedger is a consoleLedger whose calls are counted in ops.
type countedLedger struct {
	consoleLedger
	ops *consoleOps
}

func (c countedLedger) Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	c.ops.evaluations.Add(1)
	out, err := c.consoleLedger.Evaluate(ctx, cc, fn, args...)
	if err != nil {
		c.ops.evaluateErrors.Add(1)
	}
	return out, err
}

func (c countedLedger) Submit(ctx context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error) {
	c.ops.submissions.Add(1)
	id, err := c.consoleLedger.Submit(ctx, cc, fn, args, transient, orgs)
	if err != nil {
		c.ops.submitErrors.Add(1)
	}
	return id, err
}

func (c countedLedger) Events(ctx context.Context, cc string, start int64) (<-chan *client.ChaincodeEvent, error) {
	ch, err := c.consoleLedger.Events(ctx, cc, start)
	if err != nil {
		return nil, err
	}
	c.ops.streams.Add(1)
	go func() {
		<-ctx.Done()
		c.ops.streams.Add(-1)
	}()
	return ch, nil
}

// countLedgers wraps every user's ledger so that its calls are counted.
func (o *consoleOps) countLedgers(ledgers map[string]consoleLedger) {
	for name, l := range ledgers {
		ledgers[name] = countedLedger{consoleLedger: l, ops: o}
	}
}

// peerCheckTimeout bounds the health check's call to the peer.
const peerCheckTimeout = 5 * time.Second

// opsHandler is the console's operations endpoint: /metrics with the
// counters above, the open sessions and the Go and process collectors;
// /healthz checks, with the first configured user's identity, that the
// organization's peer answers the agreement chaincode's GetConfig (readable
// by anyone), so a peer or chaincode server that is down shows as
// degraded.
func (s *consoleServer) opsHandler(o *consoleOps, reg *opshttp.Ops) http.Handler {
	for c := 1; c <= 5; c++ {
		reg.CounterWith("console_requests_total", "HTTP answers of the console's pages by status class.",
			map[string]string{"code": fmt.Sprintf("%dxx", c)}, o.requests[c].Load)
	}
	reg.Counter("console_evaluations_total", "Chaincode queries the console evaluated for its users.", o.evaluations.Load)
	reg.Counter("console_evaluation_errors_total", "Chaincode queries that failed (endorsement refused, peer unreachable).", o.evaluateErrors.Load)
	reg.Counter("console_transactions_total", "Transactions the console submitted for its users.", o.submissions.Load)
	reg.Counter("console_transaction_errors_total", "Submitted transactions that failed (refused, not committed, or invalid in their block).", o.submitErrors.Load)
	reg.Gauge("console_event_streams", "Live event streams (Server-Sent Events) open now.", o.streams.Load)
	reg.Gauge("console_sessions", "Signed-in sessions held now (expired ones until they are swept).", func() int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return int64(len(s.sessions))
	})
	reg.Check("peer", func(ctx context.Context, _ time.Time) error {
		names := make([]string, 0, len(s.ledgers))
		for n := range s.ledgers {
			names = append(names, n)
		}
		if len(names) == 0 {
			return errors.New("no user is configured")
		}
		sort.Strings(names)
		ctx, cancel := context.WithTimeout(ctx, peerCheckTimeout)
		defer cancel()
		if _, err := s.ledgers[names[0]].Evaluate(ctx, s.agreementCC, "GetConfig"); err != nil {
			return fmt.Errorf("%s.GetConfig as %s: %w", s.agreementCC, names[0], err)
		}
		return nil
	})
	return reg.Mux(func(context.Context) map[string]any {
		return map[string]any{"organization": s.cfg.Organization, "users": len(s.cfg.Users)}
	})
}
