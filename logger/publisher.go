package logger

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// ErrNotAnchored is returned by Ledger.GetLogBatch for a batch that is not
// anchored.
var ErrNotAnchored = errors.New("log batch is not anchored")

// ErrConflict means the ledger holds another CID for a batch the logger is
// publishing: something else anchored as this logger, or the state folder
// does not belong to this ledger. It is not retried.
var ErrConflict = errors.New("conflicting anchor on the ledger")

// ErrCIDMismatch means IPFS returned another CID than the one computed
// locally for a sealed batch (kubo not using CIDv1, raw leaves and the
// default chunker). It is not retried.
var ErrCIDMismatch = errors.New("IPFS returned another CID than computed")

// Ledger is what a Publisher needs of the agreement chaincode.
type Ledger interface {
	// GetLogBatch returns the anchor of batch seq of an SLA, or an error
	// wrapping ErrNotAnchored when there is none.
	GetLogBatch(ctx context.Context, slaID string, seq int64) (*signedsla.Anchor, error)
	// LastLogBatch returns the anchor with the highest seq of an SLA, or
	// nil when none is anchored.
	LastLogBatch(ctx context.Context, slaID string) (*signedsla.Anchor, error)
	// AnchorLogBatch anchors a batch with the logger's signature over it.
	AnchorLogBatch(ctx context.Context, a signedsla.Anchor, signature []byte) error
}

// Store is the IPFS node.
type Store interface {
	// Add stores data (CIDv1, raw leaves, pinned) and returns its CID.
	Add(ctx context.Context, data []byte) (string, error)
}

// KeySource gives the enclave's chaincode encryption key.
type KeySource interface {
	EncryptionKey(ctx context.Context) (*rsa.PublicKey, error)
}

// Identity is the logger's signing identity.
type Identity struct {
	// CertPEM is the logger's X.509 certificate (PEM).
	CertPEM string
	// Key is its private key.
	Key *ecdsa.PrivateKey
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// SLA is the SLA document the batches are for.
	SLA *sla.SLA
	// Dir is the SLA's state folder (state file, spool, sealed batches).
	Dir string
	// Window is the batch window width (whole seconds).
	Window time.Duration
	// CutDelay is how long after a window's end it is cut, so that samples
	// taken just before the end reach the spool first. It must exceed the
	// probe timeout, and it is never negative: a batch is cut, and anchored,
	// only once its window is over (the agreement chaincode refuses an anchor
	// whose window ends after the transaction time).
	CutDelay time.Duration
	// Ledger, Store, Keys and Identity are the collaborators.
	Ledger   Ledger
	Store    Store
	Keys     KeySource
	Identity Identity
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per step; nil means slog.Default().
	Log *slog.Logger
	// KeepSealed keeps the sealed batch files after anchoring.
	KeepSealed bool
	// BackoffMin and BackoffMax bound the retry delay of Run (defaults
	// 500ms and 30s).
	BackoffMin, BackoffMax time.Duration
	// StaleAfter is how long the publisher may go without a successful
	// Step before Check reports it (default: twice BackoffMax, at least a
	// minute). Run steps at least every second while it is healthy.
	StaleAfter time.Duration
}

// Step is what one call of Publisher.Step did.
type Step int

// Steps.
const (
	StepIdle     Step = iota // nothing to do yet (the next window is still open)
	StepCut                  // a window was cut and sealed
	StepAdded                // the pending batch was added to IPFS
	StepAnchored             // the pending batch is anchored and committed
	StepDone                 // the SLA's validity has ended and every window is published
)

// String names the step.
func (s Step) String() string {
	return [...]string{"idle", "cut", "added", "anchored", "done"}[s]
}

// Stats are a Publisher's counters.
type Stats struct {
	SLAID            string `json:"sla_id"`
	NextSeq          int64  `json:"next_seq"`
	NextWindowStart  string `json:"next_window_start"`
	Published        int64  `json:"published"`
	PublishedRecords int64  `json:"published_records"`
	Pending          bool   `json:"pending"`
	Appended         int64  `json:"appended"`
	Late             int64  `json:"late"`
	// Errors counts the failed steps (each retried by Run after a backoff).
	Errors int64 `json:"errors"`
	// Added and Anchored count the batches this process added to IPFS and
	// anchored (AnchorLogBatch submitted and committed).
	Added    int64 `json:"added"`
	Anchored int64 `json:"anchored"`
}

// Publisher publishes the batches of one SLA exactly once, in order.
type Publisher struct {
	cfg     PublisherConfig
	windows *Windows
	spool   *Spool
	log     *slog.Logger
	path    string

	mu     sync.Mutex
	st     State
	errors int64

	// added and anchored count the batches this process added to IPFS and
	// anchored (AnchorLogBatch submitted and committed); done is set once
	// Step reported StepDone; fresh is the time of the last successful Step.
	added, anchored atomic.Int64
	done            atomic.Bool
	fresh           *opshttp.Freshness
}

// StateDirName returns the folder name of an SLA's state: the id with
// characters other than letters, digits, '.', '_' and '-' replaced, and a
// hash of the id so that distinct ids never share a folder.
func StateDirName(slaID string) string {
	var b strings.Builder
	for _, r := range slaID {
		if r < 128 && (r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 64 {
		name = name[:64]
	}
	sum := sha256.Sum256([]byte(slaID))
	return name + "-" + hex.EncodeToString(sum[:4])
}

// NewPublisher loads the SLA's state from cfg.Dir, or creates it: when the
// ledger already holds batches of the SLA (a lost state folder), publishing
// continues after the last one; otherwise it starts with the first window of
// the billing period that contains the current time. It reads the ledger
// only when there is no state, and fails if the ledger cannot be read.
func NewPublisher(ctx context.Context, cfg PublisherConfig) (*Publisher, error) {
	if cfg.SLA == nil {
		return nil, errors.New("publisher: no SLA")
	}
	if cfg.Ledger == nil || cfg.Store == nil || cfg.Keys == nil || cfg.Identity.Key == nil || cfg.Identity.CertPEM == "" {
		return nil, errors.New("publisher: ledger, store, key source and identity are required")
	}
	if cfg.CutDelay < 0 {
		return nil, fmt.Errorf("publisher: cut delay %s is negative: a window is cut only after its end", cfg.CutDelay)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 500 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = 30 * time.Second
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = max(2*cfg.BackoffMax, time.Minute)
	}
	w, err := NewWindows(cfg.SLA, cfg.Window)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "sealed"), 0o700); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &Publisher{cfg: cfg, windows: w, log: cfg.Log.With("sla", cfg.SLA.ID), path: filepath.Join(cfg.Dir, "state.json"),
		fresh: opshttp.NewFreshness("IPFS and the ledger (a successful publishing step)", cfg.StaleAfter, cfg.Now())}
	st, err := LoadState(p.path)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if st.SLAID != cfg.SLA.ID {
			return nil, fmt.Errorf("state file %s: belongs to SLA %q, not %q", p.path, st.SLAID, cfg.SLA.ID)
		}
		if st.WindowSeconds != int64(cfg.Window/time.Second) {
			return nil, fmt.Errorf("state file %s: created with a %ds window, cannot switch to %s (finish or move the state folder)", p.path, st.WindowSeconds, cfg.Window)
		}
		p.log.Info("resuming", "next_seq", st.NextSeq, "next_window", st.NextWindowStart, "pending", st.Pending != nil)
	} else {
		st, err = p.initialState(ctx)
		if err != nil {
			return nil, err
		}
		if err := SaveState(p.path, st); err != nil {
			return nil, err
		}
	}
	p.st = *st
	closed, err := p.closedBefore()
	if err != nil {
		return nil, err
	}
	if p.spool, err = OpenSpool(filepath.Join(cfg.Dir, "spool"), w, closed, cfg.Now); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Publisher) initialState(ctx context.Context) (*State, error) {
	st := &State{Version: StateVersion, SLAID: p.cfg.SLA.ID, WindowSeconds: int64(p.cfg.Window / time.Second), NextSeq: 1}
	last, err := p.cfg.Ledger.LastLogBatch(ctx, p.cfg.SLA.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the SLA's anchored batches: %w", err)
	}
	if last != nil {
		end, err := signedsla.ParseInstant(last.PeriodEnd)
		if err != nil {
			return nil, fmt.Errorf("anchored batch %d: period_end: %w", last.Seq, err)
		}
		if end.Before(p.windows.ValidityEnd()) {
			w, err := p.windows.Containing(end)
			if err != nil {
				return nil, fmt.Errorf("anchored batch %d: %w", last.Seq, err)
			}
			if !w.Start.Equal(end) {
				return nil, fmt.Errorf("the last anchored batch %d ends at %s, which is not a window start of %s windows: run with the -window of the logger that anchored it",
					last.Seq, last.PeriodEnd, p.cfg.Window)
			}
		}
		st.NextSeq, st.PrevCID, st.NextWindowStart = last.Seq+1, last.CID, end.Format(time.RFC3339)
		p.log.Warn("no state folder but the ledger holds batches: continuing after the last one (samples of a lost spool are lost)",
			"last_seq", last.Seq, "last_window_end", last.PeriodEnd)
		return st, nil
	}
	first, err := p.windows.First(p.cfg.Now())
	if err != nil {
		return nil, err
	}
	st.NextWindowStart = first.Start.Format(time.RFC3339)
	p.log.Info("starting at the beginning of the current billing period", "first_window", first.String())
	return st, nil
}

func (p *Publisher) closedBefore() (time.Time, error) {
	if p.st.Pending != nil {
		return signedsla.ParseInstant(p.st.Pending.WindowEnd)
	}
	return signedsla.ParseInstant(p.st.NextWindowStart)
}

// Spool is the SLA's write-ahead spool: append samples to it.
func (p *Publisher) Spool() *Spool { return p.spool }

// Windows are the SLA's batch windows.
func (p *Publisher) Windows() *Windows { return p.windows }

// State returns a copy of the current state.
func (p *Publisher) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	if st.Pending != nil {
		pend := *st.Pending
		st.Pending = &pend
	}
	return st
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, l := p.spool.Counts()
	return Stats{SLAID: p.st.SLAID, NextSeq: p.st.NextSeq, NextWindowStart: p.st.NextWindowStart, Published: p.st.Published,
		PublishedRecords: p.st.PublishedRecords, Pending: p.st.Pending != nil, Appended: a, Late: l, Errors: p.errors,
		Added: p.added.Load(), Anchored: p.anchored.Load()}
}

func (p *Publisher) save(st State) error {
	if err := SaveState(p.path, &st); err != nil {
		return err
	}
	p.mu.Lock()
	p.st = st
	p.mu.Unlock()
	return nil
}

// NextCut returns when the next window can be cut, or, when a batch is
// pending, the end of its window (from then on it can be anchored); zero
// when the validity has ended.
func (p *Publisher) NextCut() time.Time {
	st := p.State()
	if st.Pending != nil {
		end, err := signedsla.ParseInstant(st.Pending.WindowEnd)
		if err != nil {
			return time.Time{}
		}
		return end
	}
	start, err := signedsla.ParseInstant(st.NextWindowStart)
	if err != nil {
		return time.Time{}
	}
	w, err := p.windows.Containing(start)
	if err != nil {
		return time.Time{}
	}
	return w.End.Add(p.cfg.CutDelay)
}

// Step makes one transition of the publishing state machine (see the
// package documentation) and saves the state. After an error the state is
// unchanged and Step can be called again; errors wrapping ErrConflict or
// ErrCIDMismatch are permanent.
func (p *Publisher) Step(ctx context.Context) (Step, error) {
	step, err := p.step(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		p.mu.Lock()
		p.errors++
		p.mu.Unlock()
		p.fresh.Failed(err)
	case err == nil:
		p.fresh.OK(p.cfg.Now())
		switch step {
		case StepAdded:
			p.added.Add(1)
		case StepDone:
			p.done.Store(true)
		}
	}
	return step, err
}

// Check is the publisher's health check (opshttp.CheckFunc): an error when
// no Step has succeeded for StaleAfter (or since the publisher was opened),
// with the last step's error; nil once every window is published.
func (p *Publisher) Check(ctx context.Context, now time.Time) error {
	if p.done.Load() {
		return nil
	}
	return p.fresh.Check(ctx, now)
}

// WindowsBehind returns the number of windows that have ended by now and
// are not yet anchored (the pending batch's included): how far publishing
// lags behind the clock. It is 0 or 1 while the logger keeps up (a window
// waits CutDelay after its end).
func (p *Publisher) WindowsBehind(now time.Time) int64 {
	st := p.State()
	start, err := signedsla.ParseInstant(st.NextWindowStart)
	if err != nil {
		return 0
	}
	w, err := p.windows.Containing(start)
	var n int64
	for ; err == nil && n < 1<<20 && w.Start.Before(p.windows.ValidityEnd()) && !w.End.After(now); n++ {
		w, err = p.windows.Next(w.End)
	}
	return n
}

func (p *Publisher) step(ctx context.Context) (Step, error) {
	st := p.State()
	if st.Pending == nil {
		return p.cut(ctx, st)
	}
	if !st.Pending.Added {
		return p.add(ctx, st)
	}
	return p.anchor(ctx, st)
}

func (p *Publisher) cut(ctx context.Context, st State) (Step, error) {
	start, err := signedsla.ParseInstant(st.NextWindowStart)
	if err != nil {
		return StepIdle, fmt.Errorf("state: next_window_start: %w", err)
	}
	if !start.Before(p.windows.ValidityEnd()) {
		return StepDone, nil
	}
	w, err := p.windows.Containing(start)
	if err != nil {
		return StepIdle, err
	}
	if !w.Start.Equal(start) {
		return StepIdle, fmt.Errorf("state: next_window_start %s is not a window start (window %s)", st.NextWindowStart, w)
	}
	if p.cfg.Now().Before(w.End.Add(p.cfg.CutDelay)) {
		return StepIdle, nil
	}
	ek, err := p.cfg.Keys.EncryptionKey(ctx)
	if err != nil {
		return StepIdle, fmt.Errorf("enclave encryption key: %w", err)
	}
	records, n, err := p.spool.Cut(w)
	if err != nil {
		return StepIdle, err
	}
	h := logbatch.Header{SLAID: st.SLAID, Seq: st.NextSeq, PrevCID: st.PrevCID,
		WindowStart: w.Start.Format(time.RFC3339), WindowEnd: w.End.Format(time.RFC3339)}
	sealed, err := logbatch.Seal(h, records, n, ek, p.cfg.Identity.CertPEM, p.cfg.Identity.Key)
	if err != nil {
		return StepIdle, fmt.Errorf("sealing batch %d: %w", st.NextSeq, err)
	}
	c, err := cidverify.Sum(sealed)
	if err != nil {
		return StepIdle, fmt.Errorf("CID of batch %d: %w", st.NextSeq, err)
	}
	file := fmt.Sprintf("%020d.batch", st.NextSeq)
	if err := WriteFileAtomic(filepath.Join(p.cfg.Dir, "sealed", file), sealed); err != nil {
		return StepIdle, err
	}
	st.Pending = &Pending{Seq: st.NextSeq, PrevCID: st.PrevCID, WindowStart: h.WindowStart, WindowEnd: h.WindowEnd,
		Records: n, CID: c.String(), File: file}
	if err := p.save(st); err != nil {
		return StepIdle, err
	}
	p.log.Info("batch cut and sealed", "seq", st.Pending.Seq, "window", w.String(), "records", n, "bytes", len(sealed), "cid", st.Pending.CID)
	return StepCut, nil
}

func (p *Publisher) add(ctx context.Context, st State) (Step, error) {
	pend := *st.Pending
	data, err := os.ReadFile(filepath.Join(p.cfg.Dir, "sealed", pend.File))
	if err != nil {
		return StepIdle, fmt.Errorf("sealed batch %d: %w", pend.Seq, err)
	}
	got, err := p.cfg.Store.Add(ctx, data)
	if err != nil {
		return StepIdle, fmt.Errorf("adding batch %d to IPFS: %w", pend.Seq, err)
	}
	if got != pend.CID {
		return StepIdle, fmt.Errorf("batch %d: %w: IPFS says %s, computed %s", pend.Seq, ErrCIDMismatch, got, pend.CID)
	}
	pend.Added = true
	st.Pending = &pend
	if err := p.save(st); err != nil {
		return StepIdle, err
	}
	p.log.Info("batch added to IPFS (pinned)", "seq", pend.Seq, "cid", pend.CID)
	return StepAdded, nil
}

// AnchorDecision is what to do about a pending batch given what the ledger
// holds for its sequence number.
type AnchorDecision int

// Anchor decisions.
const (
	AnchorSubmit   AnchorDecision = iota // not anchored: submit AnchorLogBatch
	AnchorDone                           // anchored with the same CID: commit
	AnchorConflict                       // anchored with another CID: hard error
)

// DecideAnchor compares the ledger's anchor of the pending batch's sequence
// number (nil when none) with the pending batch.
func DecideAnchor(onLedger *signedsla.Anchor, pend Pending) AnchorDecision {
	switch {
	case onLedger == nil:
		return AnchorSubmit
	case onLedger.CID == pend.CID && onLedger.PrevCID == pend.PrevCID &&
		onLedger.PeriodStart == pend.WindowStart && onLedger.PeriodEnd == pend.WindowEnd:
		return AnchorDone
	default:
		return AnchorConflict
	}
}

func (p *Publisher) anchor(ctx context.Context, st State) (Step, error) {
	pend := *st.Pending
	end, err := signedsla.ParseInstant(pend.WindowEnd)
	if err != nil {
		return StepIdle, fmt.Errorf("state: pending batch %d: window end: %w", pend.Seq, err)
	}
	// An anchor witnesses that its window is over: never submit one before
	// the window's end by this clock (a batch sealed under a clock that has
	// since been set back waits).
	// mutate:check logger-window-over
	if p.cfg.Now().Before(end) {
		p.log.Warn("the pending batch's window has not ended by this clock: waiting to anchor it", "seq", pend.Seq, "window_end", pend.WindowEnd)
		return StepIdle, nil
	}
	onLedger, err := p.cfg.Ledger.GetLogBatch(ctx, st.SLAID, pend.Seq)
	if err != nil && !errors.Is(err, ErrNotAnchored) {
		return StepIdle, fmt.Errorf("reading anchor of batch %d: %w", pend.Seq, err)
	}
	if errors.Is(err, ErrNotAnchored) {
		onLedger = nil
	}
	switch DecideAnchor(onLedger, pend) {
	case AnchorConflict:
		return StepIdle, fmt.Errorf("batch %d: %w: the ledger holds CID %s window %s/%s, this logger sealed CID %s window %s/%s",
			pend.Seq, ErrConflict, onLedger.CID, onLedger.PeriodStart, onLedger.PeriodEnd, pend.CID, pend.WindowStart, pend.WindowEnd)
	case AnchorSubmit:
		a := signedsla.Anchor{SLAID: st.SLAID, Seq: pend.Seq, CID: pend.CID, PrevCID: pend.PrevCID, PeriodStart: pend.WindowStart, PeriodEnd: pend.WindowEnd}
		sig, err := signedsla.SignAnchor(a, p.cfg.Identity.Key)
		if err != nil {
			return StepIdle, fmt.Errorf("signing anchor of batch %d: %w", pend.Seq, err)
		}
		if err := p.cfg.Ledger.AnchorLogBatch(ctx, a, sig); err != nil {
			return StepIdle, fmt.Errorf("anchoring batch %d: %w", pend.Seq, err)
		}
		p.anchored.Add(1)
		p.log.Info("batch anchored", "seq", pend.Seq, "cid", pend.CID, "window", pend.WindowStart+"/"+pend.WindowEnd, "records", pend.Records)
	case AnchorDone:
		p.log.Info("batch already anchored with the same CID", "seq", pend.Seq, "cid", pend.CID)
	}
	start, _ := signedsla.ParseInstant(pend.WindowStart)
	next := State{Version: st.Version, SLAID: st.SLAID, WindowSeconds: st.WindowSeconds, NextSeq: pend.Seq + 1, PrevCID: pend.CID,
		NextWindowStart: pend.WindowEnd, Published: st.Published + 1, PublishedRecords: st.PublishedRecords + pend.Records}
	if err := p.save(next); err != nil {
		return StepIdle, err
	}
	if err := p.spool.Remove(Window{Start: start, End: end}); err != nil {
		p.log.Warn("removing spool segment", "err", err)
	}
	if !p.cfg.KeepSealed {
		if err := os.Remove(filepath.Join(p.cfg.Dir, "sealed", pend.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
			p.log.Warn("removing sealed batch", "err", err)
		}
	}
	return StepAnchored, nil
}

// Permanent reports whether a Step error will not go away by retrying.
func Permanent(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrCIDMismatch)
}

// Run steps the publisher until ctx ends, the SLA's validity has ended
// (nil) or a permanent error occurs. Other errors are logged and retried with
// exponential backoff.
func (p *Publisher) Run(ctx context.Context) error {
	backoff := p.cfg.BackoffMin
	for {
		step, err := p.Step(ctx)
		switch {
		case err != nil && Permanent(err):
			p.log.Error("stopping: permanent error", "err", err)
			return err
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("step failed, retrying", "err", err, "retry_in", backoff)
			if ctxtime.Sleep(ctx, backoff) != nil {
				return ctx.Err()
			}
			backoff = min(backoff*2, p.cfg.BackoffMax)
			continue
		case step == StepDone:
			p.log.Info("validity ended: every window is published")
			return nil
		}
		backoff = p.cfg.BackoffMin
		if step == StepIdle {
			wait := time.Until(p.NextCut())
			if wait > time.Second {
				wait = time.Second
			}
			if wait < 50*time.Millisecond {
				wait = 50 * time.Millisecond
			}
			if ctxtime.Sleep(ctx, wait) != nil {
				return ctx.Err()
			}
		}
	}
}
