package monitor

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/internal/opshttp"
)

// Health is the monitor's /healthz answer.
type Health struct {
	// Status is "ok", or "degraded" when a check fails.
	Status string `json:"status"`
	// Reasons say why it is degraded ("check: reason").
	Reasons []string `json:"reasons,omitempty"`
	// Checks are the outcome of each check (events, peer).
	Checks []opshttp.Result `json:"checks"`
	// Events is true while the event stream is connected.
	Events bool `json:"events_connected"`
	SLAs   int  `json:"slas"`
}

// ChainInfo tells the height of the channel's chain (number of blocks).
type ChainInfo interface {
	Height(ctx context.Context) (uint64, error)
}

// MinPeerMaxAge is the least age of the last successful chain poll after
// which /healthz reports the monitor degraded (see Handler).
const MinPeerMaxAge = 30 * time.Second

// PeerFreshness returns the freshness of the monitor's contact with its peer
// for WatchChain and Handler: degraded when the last successful chain poll
// is older than three poll intervals (at least MinPeerMaxAge).
func (m *Monitor) PeerFreshness() *opshttp.Freshness {
	return opshttp.NewFreshness("the peer (chain height)", max(3*m.cfg.Poll, MinPeerMaxAge), m.cfg.Now())
}

// WatchChain reads the chain's height every interval until ctx ends,
// storing it in C.ChainHeight and recording each successful read (and the
// error of each failed one) in fresh.
func (m *Monitor) WatchChain(ctx context.Context, chain ChainInfo, every time.Duration, fresh *opshttp.Freshness) error {
	for {
		actx, cancel := context.WithTimeout(ctx, max(every, 5*time.Second))
		h, err := chain.Height(actx)
		cancel()
		switch {
		case err == nil:
			m.C.ChainHeight.Store(int64(h))
			fresh.OK(m.cfg.Now())
		case ctx.Err() == nil:
			fresh.Failed(err)
			m.log.Warn("reading the chain height", "err", err)
		}
		if ctxtime.Sleep(ctx, every) != nil {
			return ctx.Err()
		}
	}
}

// Lag returns how many blocks of the chain come after the last agreement
// event the monitor handled: ChainHeight-1-EventBlock, 0 before the first
// chain poll. Blocks without agreement events count too, so it is an upper
// bound that stays put while the monitor is idle and keeps growing while it
// is behind.
func (m *Monitor) Lag() int64 {
	h := m.C.ChainHeight.Load()
	if h == 0 {
		return 0
	}
	return max(0, h-1-m.C.EventBlock.Load())
}

// Handler registers the monitor's metrics and health checks on o (call it
// once per Ops) and returns the mux serving them: GET /healthz is 200 while
// the event stream is connected (connected) and the last successful contact
// with the peer recorded in peer (nil: not checked) is fresh, else 503
// "degraded" with the reasons; its body also has events_connected and slas
// (the number of SLAs the monitor knows). GET /metrics serves the counters
// of docs/logger-monitor.md.
func (m *Monitor) Handler(o *opshttp.Ops, connected *atomic.Bool, peer *opshttp.Freshness) http.Handler {
	for _, c := range []struct {
		name, help string
		v          *atomic.Int64
	}{
		{"monitor_events_total", "Agreement chaincode events handled (SLA signed, renewed, terminated, log batch anchored).", &m.C.Events},
		{"monitor_reconciles_total", "Reconcile passes of an SLA.", &m.C.Reconciles},
		{"monitor_registered_total", "RegisterAgreement calls on the enclave that succeeded.", &m.C.Registered},
		{"monitor_batches_ingested_total", "Log batches ingested by the enclave (IngestBatch committed).", &m.C.Ingested},
		{"monitor_evaluations_total", "Period evaluations by the enclave.", &m.C.Evaluations},
		{"monitor_settlements_total", "Verdicts settled on the refund chaincode by this monitor (SettleVerdict committed).", &m.C.Settlements},
		{"monitor_credits_minor_total", "Credit settled by this monitor, in minor units of the SLA's currency.", &m.C.Credits},
		{"monitor_errors_total", "Reconcile passes that failed (each retried with backoff).", &m.C.Errors},
		{"monitor_escalations_total", "Escalate transactions submitted and committed.", &m.C.Escalations},
		{"monitor_escalations_refused_total", "Escalate submissions refused because the level was recorded or the ticket changed meanwhile.", &m.C.EscalationsRefused},
		{"monitor_escalation_errors_total", "Escalation passes that failed (each retried with backoff).", &m.C.EscalationErrors},
		{"monitor_retries_total", "Reconcile and escalation passes run again after a failure.", &m.C.Retries},
		{"monitor_reputation_compactions_total", "CompactReputation transactions committed.", &m.C.Compactions},
		{"monitor_reputation_compacted_periods_total", "Settled periods folded into the organization's reputation checkpoint.", &m.C.CompactedPeriods},
		{"monitor_reputation_compaction_errors_total", "Reputation compaction passes that failed (each tried again after -backoff-max).", &m.C.CompactionErrors},
	} {
		o.Counter(c.name, c.help, c.v.Load)
	}
	o.Gauge("monitor_event_block", "Highest block of an agreement chaincode event handled.", m.C.EventBlock.Load)
	o.Gauge("monitor_chain_height", "Height of the channel's chain at the last successful poll (blocks).", m.C.ChainHeight.Load)
	o.Gauge("monitor_lag_blocks", "Blocks of the chain after the last agreement event handled (upper bound of how far behind the monitor is).", m.Lag)
	o.Gauge("monitor_slas", "SLAs the monitor knows (skipped ones included).", func() int64 { return int64(len(m.Snapshot().SLAs)) })
	o.Check("events", func(context.Context, time.Time) error {
		if !connected.Load() {
			return errors.New("the event stream of the agreement chaincode is not connected")
		}
		return nil
	})
	if peer != nil {
		o.Check("peer", peer.Check)
	}
	return o.Mux(func(context.Context) map[string]any {
		return map[string]any{"events_connected": connected.Load(), "slas": len(m.Snapshot().SLAs)}
	})
}
