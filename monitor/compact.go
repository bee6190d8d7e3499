package monitor

import (
	"context"
	"fmt"
	"time"
)

// Reputation is what the reputation compactor needs of the refund
// chaincode (RefundClient implements it).
type Reputation interface {
	// CompactReputation submits CompactReputation(providerMSP) and waits
	// for the commit.
	CompactReputation(ctx context.Context, providerMSP string) (*CompactResult, error)
}

// CompactResult is the refund chaincode's CompactReputationResult.
type CompactResult struct {
	Provider string `json:"provider_msp_id"`
	Folded   int64  `json:"folded"`
	More     bool   `json:"more"`
	Next     string `json:"next"`
}

// maxCompactions bounds the CompactReputation transactions of one pass
// (each folds at most the chaincode's MaxCompactReputation entries).
const maxCompactions = 20

// CompactReputation folds the older settled periods of the monitor's own
// organization into its reputation checkpoint (refund CompactReputation),
// again while the chaincode says more are due, at most maxCompactions
// transactions. It returns the periods folded.
func (m *Monitor) CompactReputation(ctx context.Context) (int64, error) {
	var folded int64
	for range maxCompactions {
		r, err := m.cfg.Reputation.CompactReputation(ctx, m.cfg.Me.MSPID)
		if err != nil {
			return folded, fmt.Errorf("compact the reputation of %s: %w", m.cfg.Me.MSPID, err)
		}
		m.C.Compactions.Add(1)
		m.C.CompactedPeriods.Add(r.Folded)
		folded += r.Folded
		if !r.More || r.Folded == 0 {
			break
		}
	}
	return folded, nil
}

// compactIfDue runs CompactReputation when Config.CompactEvery has passed
// since the last pass (the first CompactEvery after New); a failed pass is
// counted, logged and tried again after BackoffMax.
func (m *Monitor) compactIfDue(ctx context.Context, now time.Time) {
	if m.cfg.Reputation == nil || m.cfg.CompactEvery <= 0 || ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	due := !now.Before(m.nextCompact)
	m.mu.Unlock()
	if !due {
		return
	}
	folded, err := m.CompactReputation(ctx)
	next := now.Add(m.cfg.CompactEvery)
	if err != nil {
		m.C.CompactionErrors.Add(1)
		next = now.Add(min(m.cfg.BackoffMax, m.cfg.CompactEvery))
		if ctx.Err() == nil {
			m.log.Warn("reputation compaction failed", "provider", m.cfg.Me.MSPID, "err", err, "retry_in", next.Sub(now))
		}
	} else {
		m.log.Info("reputation compacted", "provider", m.cfg.Me.MSPID, "folded", folded)
	}
	m.mu.Lock()
	m.nextCompact = next
	m.mu.Unlock()
}
