package monitor

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Agreements is what the monitor needs of the agreement chaincode
// (logger.AgreementClient implements it).
type Agreements interface {
	GetSLA(ctx context.Context, id string) (*logger.AgreementView, error)
	// GetLogBatch returns an error wrapping logger.ErrNotAnchored for a
	// batch that is not anchored.
	GetLogBatch(ctx context.Context, slaID string, seq int64) (*signedsla.Anchor, error)
}

// Enclave is what the monitor needs of the SLA enclave chaincode. Its
// transactions (RegisterAgreement, IngestBatch, Evaluate) are endorsed by
// exactly the organizations orgs: the SLA's provider's and client's.
type Enclave interface {
	RegisterAgreement(ctx context.Context, signedRecord []byte, orgs []string) (*Status, error)
	Status(ctx context.Context, slaID string) (*Status, error)
	IngestBatch(ctx context.Context, slaID string, seq int64, cid string, orgs []string) (*IngestResult, error)
	Evaluate(ctx context.Context, slaID, period string, orgs []string) (*Evaluation, error)
	// VerifyingKey is the verdict key of enclave enclaveID of the SLA
	// enclave chaincode, from the enclave registry.
	VerifyingKey(ctx context.Context, enclaveID string) (*ecdsa.PublicKey, error)
}

// Refund is what the monitor needs of the refund chaincode.
type Refund interface {
	GetEscrow(ctx context.Context, slaID, period string) (*Escrow, error)
	// SettleVerdict settles with a verdict, endorsed by exactly the
	// organizations orgs (the SLA's provider's and client's).
	SettleVerdict(ctx context.Context, signedVerdict []byte, orgs []string) (*Settlement, error)
}

// Tickets is what the escalator needs of the ticket chaincode
// (TicketClient implements it). Its queries run on a peer of the monitor's
// own organization: the chaincode reads the records from the implicit
// collection of the peer's organization, which must be the caller's.
type Tickets interface {
	// ListTickets returns the page of the SLA's tickets (any status) that
	// starts at ticket id bookmark ("" for the first page).
	ListTickets(ctx context.Context, slaID, bookmark string) (*TicketPage, error)
	GetTicket(ctx context.Context, slaID, ticketID string) (*TicketView, error)
	// Escalate submits Escalate(slaID, ticketID, level) with record (the
	// ticket's current record as GetTicket returned it) in the transient
	// map under "ticket", endorsed by exactly the organizations orgs (the
	// ticket's), and waits for the commit.
	Escalate(ctx context.Context, slaID, ticketID string, level int, record []byte, orgs []string) error
}

// Config configures a Monitor.
type Config struct {
	// StateDir holds the monitor's state file (and the event checkpoint,
	// see FollowEvents).
	StateDir string
	// Me is the monitor's identity (MSP ID, certificate subject and issuer):
	// it handles the SLAs in which it is the provider or the client.
	Me identity.ID
	// SLAs, when not empty, restricts the monitor to these SLA ids.
	SLAs []string
	// Agreements, Enclave and Refund are the chaincodes.
	Agreements Agreements
	Enclave    Enclave
	Refund     Refund
	// Tickets is the ticket chaincode; nil turns escalation off.
	Tickets Tickets
	// Reputation and CompactEvery: every CompactEvery (the first time
	// CompactEvery after New), the monitor folds its own organization's
	// older settled periods into its reputation checkpoint
	// (CompactReputation). A settlement in flight while a compaction
	// commits fails Fabric's read check and is retried like any failure.
	// Nil or 0 turns it off.
	Reputation   Reputation
	CompactEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per step; nil means slog.Default().
	Log *slog.Logger
	// Poll is how often every SLA is reconciled without an event (default
	// 5 s); BackoffMin and BackoffMax bound the per-SLA retry delay after
	// a failure (defaults 1 s and 60 s).
	Poll                   time.Duration
	BackoffMin, BackoffMax time.Duration
}

// SLAState is the monitor's persisted knowledge of one SLA.
type SLAState struct {
	ID string `json:"id"`
	// Skip is why the SLA is not handled (not a party of it, withdrawn);
	// empty when it is.
	Skip string `json:"skip,omitempty"`
	// Registered is true once RegisterAgreement succeeded.
	Registered bool `json:"registered"`
	// Anchored is the highest anchored batch seq seen in events.
	Anchored int64 `json:"anchored"`
	// Settled lists the periods whose settlement the monitor has seen on
	// the ledger (by it or by someone else), by start.
	Settled []string `json:"settled"`
	// Done is true once the SLA has ended and every paid period is settled.
	Done bool `json:"done"`
}

// State is the monitor's state file.
type State struct {
	Version int                  `json:"version"`
	SLAs    map[string]*SLAState `json:"slas"`
}

// Counters are the monitor's counters, exposed on /metrics.
type Counters struct {
	Events      atomic.Int64
	Reconciles  atomic.Int64
	Registered  atomic.Int64
	Ingested    atomic.Int64
	Evaluations atomic.Int64
	Settlements atomic.Int64
	Credits     atomic.Int64
	Errors      atomic.Int64
	// Escalations counts the Escalate transactions the escalator
	// submitted and saw committed; EscalationsRefused the submissions that
	// failed while the ledger shows the level recorded or the ticket
	// changed (not errors); EscalationErrors the escalation passes of an
	// SLA that failed (each retried with backoff).
	Escalations        atomic.Int64
	EscalationsRefused atomic.Int64
	EscalationErrors   atomic.Int64
	// Retries counts the reconcile and escalation passes run again after
	// a failure of the same SLA's pass.
	Retries atomic.Int64
	// Compactions counts the CompactReputation transactions committed,
	// CompactedPeriods the settled periods they folded, CompactionErrors
	// the compaction passes that failed.
	Compactions      atomic.Int64
	CompactedPeriods atomic.Int64
	CompactionErrors atomic.Int64
	// EventBlock is the highest block of an agreement chaincode event the
	// monitor has handled (0 before the first); ChainHeight the channel's
	// height at the last successful WatchChain poll (0 before the first).
	EventBlock  atomic.Int64
	ChainHeight atomic.Int64
}

// Monitor reconciles SLAs with the enclave and the refund chaincode, and
// escalates their tickets on the ticket chaincode.
type Monitor struct {
	cfg  Config
	log  *slog.Logger
	path string
	only map[string]bool
	// C are the counters.
	C Counters

	mu    sync.Mutex
	st    State
	retry map[string]time.Time // next attempt after a failure
	wait  map[string]time.Duration
	// escRetry and escWait are the same for the escalation passes.
	escRetry map[string]time.Time
	escWait  map[string]time.Duration
	// nextCompact is when the next reputation compaction is due.
	nextCompact time.Time
	wake        chan struct{}
}

// New loads (or creates) the monitor's state.
func New(cfg Config) (*Monitor, error) {
	if cfg.Agreements == nil || cfg.Enclave == nil || cfg.Refund == nil {
		return nil, errors.New("monitor: agreements, enclave and refund are required")
	}
	if err := cfg.Me.Validate("monitor: its identity"); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = time.Second
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = time.Minute
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("monitor state: %w", err)
	}
	m := &Monitor{cfg: cfg, log: cfg.Log, path: filepath.Join(cfg.StateDir, "monitor-state.json"),
		retry: map[string]time.Time{}, wait: map[string]time.Duration{},
		escRetry: map[string]time.Time{}, escWait: map[string]time.Duration{}, wake: make(chan struct{}, 1),
		nextCompact: cfg.Now().Add(cfg.CompactEvery)}
	if len(cfg.SLAs) > 0 {
		m.only = map[string]bool{}
		for _, id := range cfg.SLAs {
			m.only[id] = true
		}
	}
	data, err := os.ReadFile(m.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		m.st = State{Version: 1, SLAs: map[string]*SLAState{}}
	case err != nil:
		return nil, fmt.Errorf("monitor state: %w", err)
	default:
		if err := json.Unmarshal(data, &m.st); err != nil {
			return nil, fmt.Errorf("monitor state %s: %w", m.path, err)
		}
		if m.st.SLAs == nil {
			m.st.SLAs = map[string]*SLAState{}
		}
	}
	for _, id := range cfg.SLAs {
		if m.st.SLAs[id] == nil {
			m.st.SLAs[id] = &SLAState{ID: id}
		}
	}
	return m, nil
}

func (m *Monitor) saveLocked() error {
	data, err := json.MarshalIndent(m.st, "", "  ")
	if err != nil {
		return err
	}
	return logger.WriteFileAtomic(m.path, append(data, '\n'))
}

// Snapshot returns a copy of the state.
func (m *Monitor) Snapshot() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := State{Version: m.st.Version, SLAs: map[string]*SLAState{}}
	for id, s := range m.st.SLAs {
		c := *s
		c.Settled = append([]string(nil), s.Settled...)
		out.SLAs[id] = &c
	}
	return out
}

func (m *Monitor) update(id string, fn func(s *SLAState)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.st.SLAs[id]
	if s == nil {
		s = &SLAState{ID: id}
		m.st.SLAs[id] = s
	}
	fn(s)
	return m.saveLocked()
}

// ErrBadEvent is returned (wrapped) by HandleEvent for an event whose
// payload it cannot read; the event is skipped.
var ErrBadEvent = errors.New("unreadable event")

// Event is one chaincode event of the agreement chaincode.
type Event struct {
	Block   uint64
	TxID    string
	Name    string
	Payload []byte
}

// HandleEvent records what an event says (the SLA to look at, the highest
// anchored seq), persists it and wakes the reconciler. Events of other names
// are ignored.
func (m *Monitor) HandleEvent(ev Event) error {
	for b := int64(ev.Block); ; {
		if cur := m.C.EventBlock.Load(); b <= cur || m.C.EventBlock.CompareAndSwap(cur, b) {
			break
		}
	}
	switch ev.Name {
	case EventSLASigned, EventSLARenewed, EventSLATerminated, EventLogBatchAnchored:
	default:
		return nil
	}
	var p struct {
		SLAID string `json:"sla_id"`
		Seq   int64  `json:"seq"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil || p.SLAID == "" {
		return fmt.Errorf("%w: %s in block %d: payload without sla_id (%v)", ErrBadEvent, ev.Name, ev.Block, err)
	}
	m.C.Events.Add(1)
	if m.only != nil && !m.only[p.SLAID] {
		return nil
	}
	err := m.update(p.SLAID, func(s *SLAState) {
		if p.Seq > s.Anchored {
			s.Anchored = p.Seq
		}
		if ev.Name == EventSLARenewed {
			s.Done = false
		}
	})
	if err != nil {
		return err
	}
	m.log.Info("event", "name", ev.Name, "sla", p.SLAID, "block", ev.Block, "tx", ev.TxID, "seq", p.Seq)
	m.mu.Lock()
	delete(m.retry, p.SLAID)
	m.mu.Unlock()
	m.Wake()
	return nil
}

// Wake asks the reconciler to run now.
func (m *Monitor) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run reconciles every known SLA at start, on every event and every poll
// interval, until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	for {
		m.ReconcileAll(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-m.wake:
		}
	}
}

// ReconcileAll reconciles every known SLA that is due (not skipped, not
// done, not waiting after a failure), in id order; with Config.Tickets set
// it also runs an escalation pass (Escalate) for every SLA that is not
// skipped and not waiting after a failed pass, done or not (tickets may
// outlive the SLA's term); then, when one is due, a reputation compaction
// (Config.CompactEvery).
func (m *Monitor) ReconcileAll(ctx context.Context) {
	snap := m.Snapshot()
	ids := make([]string, 0, len(snap.SLAs))
	for id := range snap.SLAs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	now := m.cfg.Now()
	for _, id := range ids {
		s := snap.SLAs[id]
		if s.Skip != "" || ctx.Err() != nil {
			continue
		}
		if !s.Done {
			m.attempt(ctx, id, now, m.retry, m.wait, m.Reconcile, &m.C.Errors, "reconcile failed")
		}
		if m.cfg.Tickets != nil && ctx.Err() == nil {
			m.attempt(ctx, id, now, m.escRetry, m.escWait, m.Escalate, &m.C.EscalationErrors, "escalation failed")
		}
	}
	m.compactIfDue(ctx, now)
}

// attempt runs step for SLA id unless it waits after a failure (retry and
// wait are the step's per-SLA schedule); a failure is counted in errs,
// logged as msg and retried after a delay that doubles from BackoffMin up
// to BackoffMax, a success clears the schedule.
func (m *Monitor) attempt(ctx context.Context, id string, now time.Time, retry map[string]time.Time, wait map[string]time.Duration,
	step func(context.Context, string) error, errs *atomic.Int64, msg string) {
	m.mu.Lock()
	due, retrying := !now.Before(retry[id]), wait[id] != 0
	m.mu.Unlock()
	if !due {
		return
	}
	if retrying {
		m.C.Retries.Add(1)
	}
	err := step(ctx, id)
	m.mu.Lock()
	if err != nil {
		w := wait[id]
		if w == 0 {
			w = m.cfg.BackoffMin
		} else {
			w = min(2*w, m.cfg.BackoffMax)
		}
		wait[id], retry[id] = w, now.Add(w)
		m.mu.Unlock()
		errs.Add(1)
		if ctx.Err() == nil {
			m.log.Warn(msg, "sla", id, "err", err, "retry_in", w)
		}
		return
	}
	delete(wait, id)
	delete(retry, id)
	m.mu.Unlock()
}

// Reconcile brings one SLA up to date: register, ingest, evaluate, settle.
func (m *Monitor) Reconcile(ctx context.Context, id string) error {
	m.C.Reconciles.Add(1)
	ag, err := m.cfg.Agreements.GetSLA(ctx, id)
	if err != nil {
		return err
	}
	switch ag.Status {
	case StatusActive, StatusTerminated:
	case StatusWithdrawn:
		return m.skip(id, "withdrawn")
	default:
		return nil // proposed: nothing to do yet
	}
	s, err := ag.SLA()
	if err != nil {
		return err
	}
	if !m.isParty(s) {
		return m.skip(id, fmt.Sprintf("%s is neither the provider nor the client", m.cfg.Me))
	}
	// Every transaction of the SLA is endorsed by its two parties'
	// organizations only, never by a third one.
	orgs, err := ag.Orgs()
	if err != nil {
		return fmt.Errorf("SLA %s: %w", id, err)
	}
	snap := m.Snapshot().SLAs[id]
	if snap == nil || !snap.Registered {
		if _, err := m.cfg.Enclave.RegisterAgreement(ctx, ag.Signed, orgs); err != nil {
			return fmt.Errorf("RegisterAgreement: %w", err)
		}
		m.C.Registered.Add(1)
		m.log.Info("agreement registered in the enclave", "sla", id, "digest", ag.Digest)
		if err := m.update(id, func(s *SLAState) { s.Registered = true }); err != nil {
			return err
		}
	}
	st, err := m.cfg.Enclave.Status(ctx, id)
	if err != nil {
		return fmt.Errorf("GetAgreementStatus: %w", err)
	}
	if st, err = m.ingest(ctx, id, st, orgs); err != nil {
		return err
	}
	return m.settle(ctx, ag, s, st)
}

func (m *Monitor) skip(id, why string) error {
	m.log.Info("SLA skipped", "sla", id, "reason", why)
	return m.update(id, func(s *SLAState) { s.Skip = why })
}

// isParty reports whether the monitor's identity is the SLA's provider or
// client (full identity; the enclave admits only them to Evaluate).
func (m *Monitor) isParty(s *sla.SLA) bool {
	return m.cfg.Me == s.Parties.Provider.ID() || m.cfg.Me == s.Parties.Client.ID()
}

// ingest passes every anchored batch after the enclave's chain head to
// IngestBatch, in order, and returns the enclave's status afterwards.
func (m *Monitor) ingest(ctx context.Context, id string, st *Status, orgs []string) (*Status, error) {
	ingested := false
	for seq := st.LastSeq + 1; ; seq++ {
		a, err := m.cfg.Agreements.GetLogBatch(ctx, id, seq)
		if errors.Is(err, logger.ErrNotAnchored) {
			break
		}
		if err != nil {
			return nil, err
		}
		res, err := m.cfg.Enclave.IngestBatch(ctx, id, seq, a.CID, orgs)
		if err != nil {
			return nil, fmt.Errorf("IngestBatch %d (%s): %w", seq, a.CID, err)
		}
		ingested = true
		m.C.Ingested.Add(1)
		m.log.Info("batch ingested", "sla", id, "seq", seq, "cid", a.CID, "period", res.Period, "covered_end", res.CoveredEnd, "complete", res.Complete)
	}
	if !ingested {
		return st, nil
	}
	return m.cfg.Enclave.Status(ctx, id)
}

// PaidPeriod reports whether period p of s is paid into escrow,
// according to the agreement record: paid periods run from the first
// period that had not started at the acceptance (AcceptSLA pays the first
// period whose start is at or after the transaction time, the validity
// start at the earliest) up to paid_through.
func PaidPeriod(ag *logger.AgreementView, s *sla.SLA, p driver.Period) (bool, error) {
	if ag.AcceptedAt == "" || ag.PaidThrough == "" {
		return false, nil
	}
	accepted, err := signedsla.ParseInstant(ag.AcceptedAt)
	if err != nil {
		return false, fmt.Errorf("accepted_at: %w", err)
	}
	through, err := signedsla.ParseInstant(ag.PaidThrough)
	if err != nil {
		return false, fmt.Errorf("paid_through: %w", err)
	}
	vs, err := signedsla.ParseInstant(s.Validity.Start)
	if err != nil {
		return false, fmt.Errorf("validity.start: %w", err)
	}
	at := accepted
	if at.Before(vs) {
		at = vs
	}
	first, err := driver.PeriodOf(s, at)
	if err != nil {
		return false, fmt.Errorf("period of accepted_at: %w", err)
	}
	if first.Start.Before(accepted) {
		// Accepted after this period started: the next one was paid.
		first.Start = first.End
	}
	return !p.Start.Before(first.Start) && !p.End.After(through), nil
}

// Candidates returns the periods the enclave can give a verdict for
// (complete or evaluated), sorted, without those already settled.
func Candidates(st *Status, settled []string) []string {
	done := map[string]bool{}
	for _, p := range settled {
		done[p] = true
	}
	set := map[string]bool{}
	for _, p := range st.Periods {
		if p.Complete || p.Evaluated {
			set[p.Period] = true
		}
	}
	for _, p := range st.EvaluatedPeriods {
		set[p] = true
	}
	var out []string
	for p := range set {
		if !done[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (m *Monitor) settle(ctx context.Context, ag *logger.AgreementView, s *sla.SLA, st *Status) error {
	id := s.ID
	snap := m.Snapshot().SLAs[id]
	for _, name := range Candidates(st, snap.Settled) {
		p, err := driver.ParsePeriod(s, name)
		if err != nil {
			return fmt.Errorf("period %s: %w", name, err)
		}
		paid, err := PaidPeriod(ag, s, p)
		if err != nil {
			return err
		}
		if !paid {
			continue // never paid, or not yet renewed
		}
		// The refund chaincode settles a period only after its end; the
		// enclave's coverage says the period is complete, this clock must
		// agree before the verdict is relayed.
		// mutate:check monitor-period-over
		if m.cfg.Now().Before(p.End) {
			continue
		}
		if err := m.settlePeriod(ctx, ag, name); err != nil {
			return err
		}
	}
	// Done once the SLA's term is over and every paid period is settled.
	end, err := signedsla.ParseInstant(s.Validity.End)
	if err != nil {
		return err
	}
	if ag.EndsAt != "" {
		if e, err := signedsla.ParseInstant(ag.EndsAt); err == nil && e.Before(end) {
			end = e
		}
	}
	if m.cfg.Now().Before(end) {
		return nil
	}
	settled := map[string]bool{}
	for _, p := range m.Snapshot().SLAs[id].Settled {
		settled[p] = true
	}
	through, err := signedsla.ParseInstant(ag.PaidThrough)
	if err != nil {
		return nil
	}
	// Walk the paid periods back from paid_through: each must be settled.
	for t := through; ; {
		p, err := driver.PeriodOf(s, t.Add(-time.Second))
		if err != nil {
			break
		}
		if paid, _ := PaidPeriod(ag, s, p); !paid {
			break
		}
		if !settled[p.Start.Format(time.RFC3339)] {
			return nil
		}
		t = p.Start
	}
	m.log.Info("SLA finished: every paid period is settled", "sla", id)
	return m.update(id, func(s *SLAState) { s.Done = true })
}

// settlePeriod settles one period of an SLA unless its escrow is settled.
func (m *Monitor) settlePeriod(ctx context.Context, ag *logger.AgreementView, period string) error {
	id := ag.ID
	esc, err := m.cfg.Refund.GetEscrow(ctx, id, period)
	if err != nil {
		return fmt.Errorf("GetEscrow %s: %w", period, err)
	}
	if escrowClosed(esc.Status) {
		m.log.Info("period already settled", "sla", id, "period", period, "status", esc.Status)
		return m.markSettled(id, period)
	}
	orgs, err := ag.Orgs()
	if err != nil {
		return fmt.Errorf("SLA %s: %w", id, err)
	}
	ev, err := m.cfg.Enclave.Evaluate(ctx, id, period, orgs)
	if err != nil {
		return fmt.Errorf("Evaluate %s: %w", period, err)
	}
	m.C.Evaluations.Add(1)
	signed, err := CheckEvaluation(ctx, ev, m.cfg.Enclave, ag.Enclave, id, period)
	if err != nil {
		return err
	}
	v := signed.Verdict
	if err := CheckBatch(ctx, m.cfg.Agreements, &v); err != nil {
		return err
	}
	m.log.Info("period evaluated", "sla", id, "period", period, "violated", v.Violated, "credit_bps", v.CreditBPS,
		"credit_amount", v.CreditAmount, "penalty_amount", v.PenaltyAmount, "batch_seq", v.BatchSeq, "batch_cid", v.BatchCID)
	res, err := m.cfg.Refund.SettleVerdict(ctx, ev.Verdict, orgs)
	if err != nil {
		// The settlement may have committed although we saw an error, or
		// another party's monitor may have settled first.
		if esc2, err2 := m.cfg.Refund.GetEscrow(ctx, id, period); err2 == nil && escrowClosed(esc2.Status) {
			m.log.Info("period settled (seen after an error)", "sla", id, "period", period, "err", err)
			return m.markSettled(id, period)
		}
		return fmt.Errorf("SettleVerdict %s: %w", period, err)
	}
	m.C.Settlements.Add(1)
	m.C.Credits.Add(res.Credit)
	m.log.Info("period settled", "sla", id, "period", period, "credit", res.Credit, "released", res.Released,
		"penalty_paid", res.PenaltyPaid, "tx", res.TxID)
	return m.markSettled(id, period)
}

func (m *Monitor) markSettled(id, period string) error {
	return m.update(id, func(s *SLAState) {
		for _, p := range s.Settled {
			if p == period {
				return
			}
		}
		s.Settled = append(s.Settled, period)
		sort.Strings(s.Settled)
	})
}

// CheckEvaluation parses an evaluation's signed verdict and checks it before
// it is relayed: it is for the SLA and period asked, its report is the one
// it commits to (the report's HMAC-SHA256 under the report key the enclave
// returned with it is the verdict's report_digest), it
// comes from the enclave the SLA is pinned to (pin), and it verifies with
// that enclave's key from the registry (whatever enclave is current). The
// monitor trusts no enclave answer it did not check: the peer that ran the
// enclave could return any bytes.
func CheckEvaluation(ctx context.Context, ev *Evaluation, e Enclave, pin *logger.EnclavePin, id, period string) (*verdict.Signed, error) {
	signed, err := verdict.ParseSigned(ev.Verdict)
	if err != nil {
		return nil, fmt.Errorf("Evaluate %s: verdict: %w", period, err)
	}
	// mutate:check monitor-verdict-target
	if signed.Verdict.SLAID != id || signed.Verdict.Period != period {
		return nil, fmt.Errorf("Evaluate %s: the verdict is for SLA %q period %s, not SLA %q period %s", period, signed.Verdict.SLAID, signed.Verdict.Period, id, period)
	}
	if ev.Format != enclaveapi.EvaluationFormat {
		return nil, fmt.Errorf("Evaluate %s: evaluation format %q, this monitor reads %q", period, ev.Format, enclaveapi.EvaluationFormat)
	}
	key, err := ev.Key()
	if err != nil {
		return nil, fmt.Errorf("Evaluate %s: %w", period, err)
	}
	// mutate:check monitor-report-digest
	if err := signed.Verdict.CheckReport(key, ev.Report); err != nil {
		return nil, fmt.Errorf("Evaluate %s: %w", period, err)
	}
	// mutate:check monitor-verdict-pin
	if pin == nil || signed.Verdict.Chaincode != pin.Chaincode || signed.Verdict.EnclaveID != pin.EnclaveID {
		return nil, fmt.Errorf("Evaluate %s: the verdict comes from enclave %s of %q, not from the enclave SLA %q is pinned to (%+v)", period, signed.Verdict.EnclaveID, signed.Verdict.Chaincode, id, pin)
	}
	vk, err := e.VerifyingKey(ctx, pin.EnclaveID)
	if err != nil {
		return nil, fmt.Errorf("enclave key: %w", err)
	}
	// mutate:check monitor-verdict-signature
	if err := verdict.Verify(signed, vk); err != nil {
		return nil, fmt.Errorf("Evaluate %s: %w", period, err)
	}
	return signed, nil
}

// CheckBatch checks that the log batch a verdict names as its period's
// last (batch_seq, batch_cid) is anchored on the agreement chaincode with
// that CID and a window ending at the period's end, as the refund chaincode
// requires: the enclave evaluated the anchored batch chain up to the
// period's end, which the logger witnessed.
func CheckBatch(ctx context.Context, a Agreements, v *verdict.Verdict) error {
	anchor, err := a.GetLogBatch(ctx, v.SLAID, v.BatchSeq)
	if err != nil {
		return fmt.Errorf("Evaluate %s: the verdict's last batch %d: %w", v.Period, v.BatchSeq, err)
	}
	// mutate:check monitor-verdict-batch
	if anchor.CID != v.BatchCID || anchor.PeriodEnd != v.PeriodEnd {
		return fmt.Errorf("Evaluate %s: the verdict names batch %d with CID %s as the period's last (ending at %s), but the anchored batch %d has CID %s and ends at %s",
			v.Period, v.BatchSeq, v.BatchCID, v.PeriodEnd, anchor.Seq, anchor.CID, anchor.PeriodEnd)
	}
	return nil
}
