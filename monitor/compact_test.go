package monitor

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeReputation answers CompactReputation with its results in turn (the
// last one again once they run out), or with err.
type fakeReputation struct {
	calls   []string
	results []CompactResult
	err     error
}

func (f *fakeReputation) CompactReputation(_ context.Context, provider string) (*CompactResult, error) {
	f.calls = append(f.calls, provider)
	if f.err != nil {
		return nil, f.err
	}
	r := f.results[0]
	if len(f.results) > 1 {
		f.results = f.results[1:]
	}
	return &r, nil
}

// The monitor compacts its organization's reputation every CompactEvery
// (not at start), again while more is due, and after a failure once
// BackoffMax has passed.
func TestCompactReputationEvery(t *testing.T) {
	w := newWorld(t)
	rep := &fakeReputation{results: []CompactResult{{Folded: 2, More: true}, {Folded: 1}}}
	who := me(t)
	m, err := New(Config{StateDir: t.TempDir(), Me: who, Agreements: w, Enclave: w, Refund: w, Reputation: rep, CompactEvery: time.Hour,
		Now: func() time.Time { return w.now }, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m.ReconcileAll(ctx)
	if len(rep.calls) != 0 {
		t.Fatalf("compacted at start: %v", rep.calls)
	}
	w.now = w.now.Add(time.Hour)
	m.ReconcileAll(ctx)
	if len(rep.calls) != 2 || rep.calls[0] != who.MSPID || m.C.Compactions.Load() != 2 || m.C.CompactedPeriods.Load() != 3 {
		t.Fatalf("first pass: calls %v, %d compactions, %d periods", rep.calls, m.C.Compactions.Load(), m.C.CompactedPeriods.Load())
	}
	w.now = w.now.Add(59 * time.Minute)
	m.ReconcileAll(ctx)
	if len(rep.calls) != 2 {
		t.Fatalf("compacted before the hour: %v", rep.calls)
	}
	// A failed pass is tried again after BackoffMax (a minute), not an hour.
	w.now = w.now.Add(time.Minute)
	rep.err = errors.New("peer unavailable")
	m.ReconcileAll(ctx)
	if len(rep.calls) != 3 || m.C.CompactionErrors.Load() != 1 {
		t.Fatalf("failed pass: calls %v, %d errors", rep.calls, m.C.CompactionErrors.Load())
	}
	rep.err = nil
	w.now = w.now.Add(59 * time.Second)
	m.ReconcileAll(ctx)
	if len(rep.calls) != 3 {
		t.Fatal("retried before BackoffMax")
	}
	w.now = w.now.Add(time.Second)
	m.ReconcileAll(ctx)
	if len(rep.calls) != 4 || m.C.Compactions.Load() != 3 || m.C.CompactedPeriods.Load() != 4 {
		t.Fatalf("retry: calls %v, %d compactions, %d periods", rep.calls, m.C.Compactions.Load(), m.C.CompactedPeriods.Load())
	}

	// Off: no Reputation, or CompactEvery 0.
	off, err := New(Config{StateDir: t.TempDir(), Me: who, Agreements: w, Enclave: w, Refund: w, Reputation: rep,
		Now: func() time.Time { return w.now }, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(24 * time.Hour)
	off.ReconcileAll(ctx)
	if len(rep.calls) != 4 {
		t.Fatal("compacted with CompactEvery 0")
	}
}
