package logger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/signedsla"
)

var (
	t0    = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func TestWindows(t *testing.T) {
	s := testSLA(t, t0, 60)
	w, err := NewWindows(s, 25*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at         time.Duration
		start, end time.Duration
	}{
		{0, 0, 25 * time.Second},
		{24*time.Second + 999*time.Millisecond, 0, 25 * time.Second},
		{25 * time.Second, 25 * time.Second, 50 * time.Second},
		{55 * time.Second, 50 * time.Second, 60 * time.Second}, // cut at the period end
		{60 * time.Second, 60 * time.Second, 85 * time.Second}, // next period starts its own grid
		{119 * time.Second, 110 * time.Second, 120 * time.Second},
	}
	for _, tc := range tests {
		got, err := w.Containing(t0.Add(tc.at))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Start.Equal(t0.Add(tc.start)) || !got.End.Equal(t0.Add(tc.end)) {
			t.Errorf("Containing(+%s) = %s, want +%s..+%s", tc.at, got, tc.start, tc.end)
		}
	}
	// Consecutive windows are contiguous and never span a period boundary.
	cur, _ := w.First(t0.Add(70 * time.Second))
	if !cur.Start.Equal(t0.Add(60 * time.Second)) {
		t.Fatalf("First = %s, want the period start", cur)
	}
	for i := 0; i < 20; i++ {
		next, err := w.Next(cur.End)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Start.Equal(cur.End) {
			t.Fatalf("gap between %s and %s", cur, next)
		}
		p, _ := w.Period(next.Start)
		if next.End.After(p.End) {
			t.Fatalf("window %s spans the period end %s", next, p.End)
		}
		cur = next
	}
	if _, err := w.Containing(t0.Add(-time.Second)); !errors.Is(err, ErrBeforeValidity) {
		t.Errorf("before validity: %v", err)
	}
	if _, err := w.Containing(w.ValidityEnd()); !errors.Is(err, ErrAfterValidity) {
		t.Errorf("after validity: %v", err)
	}
	for _, bad := range []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond} {
		if _, err := NewWindows(s, bad); err == nil {
			t.Errorf("width %s accepted", bad)
		}
	}
}

func TestFormatRecordDecodes(t *testing.T) {
	line := sampleLine(t, t0.Add(1500*time.Millisecond), `probe "a"`, "zone-a", false)
	want := `{"time":"2026-03-01T00:00:01.500Z","source":{"probe":"probe \"a\"","zone":"zone-a","region":"region-1"},"measurements":{"ok":false,"latency_ms":12,"status":200}}`
	if string(line) != want {
		t.Fatalf("got  %s\nwant %s", line, want)
	}
	ms, err := CheckRecord(line)
	if err != nil || ms != t0.Add(1500*time.Millisecond).UnixMilli() {
		t.Fatalf("CheckRecord = %d, %v", ms, err)
	}
	d, err := logs.NewDecoder(bytes.NewReader(line), logs.Options{Measurements: []string{"ok", "latency_ms", "status"}})
	if err != nil {
		t.Fatal(err)
	}
	var s logs.Sample
	if err := d.Next(&s); err != nil || s.Values[0] != 0 || s.Values[1] != 12 || s.Values[2] != 200 {
		t.Fatalf("decoded %+v %v", s, err)
	}
	for _, bad := range []Sample{
		{Time: t0, Probe: "p", Zone: "z", Region: "r"},
		{Time: t0, Zone: "z", Region: "r", Measurements: []Measurement{{Name: "ok"}}},
		{Time: t0, Probe: "p", Zone: "z", Region: "r", Measurements: []Measurement{{Name: "Bad"}}},
		{Time: t0, Probe: "p", Zone: "z", Region: "r", Measurements: []Measurement{{Name: "ok"}, {Name: "ok"}}},
	} {
		if _, err := FormatRecord(bad); err == nil {
			t.Errorf("FormatRecord(%+v) accepted", bad)
		}
	}
}

func TestSpool(t *testing.T) {
	s := testSLA(t, t0, 60)
	w, _ := NewWindows(s, 10*time.Second)
	clock := &fakeClock{t: t0.Add(30 * time.Second)}
	dir := t.TempDir()
	sp, err := OpenSpool(dir, w, t0.Add(10*time.Second), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	// Out of order within a window; one in the next window.
	for _, at := range []time.Duration{15 * time.Second, 11 * time.Second, 19*time.Second + 999*time.Millisecond, 20 * time.Second} {
		if err := sp.Append(sampleLine(t, t0.Add(at), "p1", "zone-a", true)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		line []byte
		want string
	}{
		{"late", sampleLine(t, t0.Add(9*time.Second), "p1", "zone-a", true), "late record"},
		{"future", sampleLine(t, clock.Now().Add(2*MaxFutureSkew), "p1", "zone-a", true), "ahead of the clock"},
		{"malformed", []byte(`{"time":"2026-03-01T00:00:12Z"}`), "source"},
		{"two lines", append(sampleLine(t, t0.Add(12*time.Second), "p1", "zone-a", true), []byte("\nx")...), "line break"},
		{"after validity", sampleLine(t, w.ValidityEnd(), "p1", "zone-a", true), "ahead of the clock"},
	}
	for _, tc := range tests {
		if err := sp.Append(tc.line); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	// A torn last line (a crash during the write) is cut off on reopen.
	seg := filepath.Join(dir, "1772323210000.jsonl")
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-03-01T00:00:1`)
	f.Close()
	sp.Close()
	sp, _ = OpenSpool(dir, w, t0.Add(10*time.Second), clock.Now)
	if err := sp.Append(sampleLine(t, t0.Add(10*time.Second), "p1", "zone-a", true)); err != nil {
		t.Fatal(err)
	}
	recs, n, err := sp.Cut(Window{Start: t0.Add(10 * time.Second), End: t0.Add(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var times []string
	for _, l := range strings.Split(strings.TrimSuffix(string(recs), "\n"), "\n") {
		times = append(times, l[len(`{"time":"2026-03-01T00:00:`):len(`{"time":"2026-03-01T00:00:`)+6])
	}
	if n != 4 || strings.Join(times, " ") != "10.000 11.000 15.000 19.999" {
		t.Fatalf("cut %d records at %v", n, times)
	}
	if err := sp.Append(sampleLine(t, t0.Add(19*time.Second), "p2", "zone-b", true)); !errors.Is(err, ErrLate) {
		t.Fatalf("append after cut: %v", err)
	}
	if a, l := sp.Counts(); a != 1 || l != 1 {
		t.Errorf("counts after reopen %d appended %d late", a, l)
	}
	// An empty window cuts to no records.
	if recs, n, err := sp.Cut(Window{Start: t0.Add(30 * time.Second), End: t0.Add(40 * time.Second)}); err != nil || n != 0 || len(recs) != 0 {
		t.Fatalf("empty cut: %q %d %v", recs, n, err)
	}
}

func TestDecideAnchor(t *testing.T) {
	pend := Pending{Seq: 2, PrevCID: "bafyone", WindowStart: "2026-03-01T00:00:10Z", WindowEnd: "2026-03-01T00:00:20Z", CID: "bafytwo"}
	same := signedsla.Anchor{SLAID: "s", Seq: 2, CID: "bafytwo", PrevCID: "bafyone", PeriodStart: pend.WindowStart, PeriodEnd: pend.WindowEnd}
	other := same
	other.CID = "bafyother"
	shifted := same
	shifted.PeriodEnd = "2026-03-01T00:00:30Z"
	tests := []struct {
		name   string
		ledger *signedsla.Anchor
		want   AnchorDecision
	}{
		{"absent", nil, AnchorSubmit},
		{"same", &same, AnchorDone},
		{"other cid", &other, AnchorConflict},
		{"other window", &shifted, AnchorConflict},
	}
	for _, tc := range tests {
		if got := DecideAnchor(tc.ledger, pend); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

type rig struct {
	t      *testing.T
	dir    string
	clock  *fakeClock
	ledger *fakeLedger
	store  *fakeStore
	id     Identity
	cfg    PublisherConfig
}

func newRig(t *testing.T, start time.Time) *rig {
	id, cert := testIdentity(t)
	r := &rig{t: t, dir: t.TempDir(), clock: &fakeClock{t: start}, ledger: newFakeLedger(cert), store: &fakeStore{}, id: id}
	r.ledger.now = r.clock.Now
	r.cfg = PublisherConfig{SLA: testSLA(t, t0, 60), Window: 10 * time.Second, CutDelay: 2 * time.Second,
		Ledger: r.ledger, Store: r.store, Keys: fakeKeys{testRSA(t)}, Identity: id, Now: r.clock.Now, Log: quiet}
	return r
}

func (r *rig) open() *Publisher {
	r.t.Helper()
	r.cfg.Dir = r.dir
	p, err := NewPublisher(context.Background(), r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// published opens every anchored batch and returns its records in order,
// checking the chain.
func (r *rig) published() []string {
	r.t.Helper()
	var out []string
	prevCID, prevEnd := "", ""
	for seq := int64(1); ; seq++ {
		a, ok := r.ledger.anchors[seq]
		if !ok {
			break
		}
		if a.PrevCID != prevCID || (prevEnd != "" && a.PeriodStart != prevEnd) {
			r.t.Fatalf("batch %d breaks the chain", seq)
		}
		opened, err := logbatch.Open(r.store.data[a.CID], testRSA(r.t))
		if err != nil {
			r.t.Fatalf("batch %d: %v", seq, err)
		}
		if opened.Header.Seq != seq || opened.Header.WindowStart != a.PeriodStart || opened.Header.PrevCID != prevCID {
			r.t.Fatalf("batch %d header %+v", seq, opened.Header)
		}
		for _, l := range strings.Split(string(opened.Records), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		prevCID, prevEnd = a.CID, a.PeriodEnd
	}
	return out
}

func TestPublisherStartsAtPeriodStart(t *testing.T) {
	r := newRig(t, t0.Add(71*time.Second))
	p := r.open()
	if st := p.State(); st.NextWindowStart != "2026-03-01T00:01:00Z" || st.NextSeq != 1 {
		t.Fatalf("initial state %+v", st)
	}
	if step, err := p.Step(context.Background()); err != nil || step != StepIdle {
		t.Fatalf("step before the window closed: %v %v", step, err)
	}
	// The windows before the start are published empty once closed.
	r.clock.Set(t0.Add(92 * time.Second))
	for i := 0; i < 9; i++ {
		if _, err := p.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.ledger.anchors) != 3 || r.ledger.anchors[3].PeriodEnd != "2026-03-01T00:01:30Z" {
		t.Fatalf("anchors %+v", r.ledger.anchors)
	}
	if step, _ := p.Step(context.Background()); step != StepIdle {
		t.Fatalf("step %v, want idle", step)
	}
}

// TestPublisherCrashesAndOutages runs a publisher through every step with
// injected IPFS and Fabric failures and a crash (a new Publisher on the same
// folder) after every step, and checks that every sample is published
// exactly once, in order, on a contiguous chain.
func TestPublisherCrashesAndOutages(t *testing.T) {
	r := newRig(t, t0)
	p := r.open()
	var want []string
	ctx := context.Background()
	failures := 0
	for sec := 0; sec < 65; sec++ {
		r.clock.Set(t0.Add(time.Duration(sec) * time.Second))
		if sec%7 != 3 { // some seconds have no sample, window [30s,40s) has few
			for _, z := range []string{"zone-b", "zone-a"} {
				line := sampleLine(t, t0.Add(time.Duration(sec)*time.Second), "probe-"+z, z, sec%11 != 0)
				if err := p.Spool().Append(line); err != nil {
					t.Fatal(err)
				}
				want = append(want, string(line))
			}
		}
		switch sec % 5 {
		case 1:
			r.store.fail = 2
		case 2:
			r.ledger.failAnchor = 1
		case 3:
			r.ledger.failGet = 1
		case 4:
			r.ledger.anchorThenFail = 1
		}
		for i := 0; i < 12; i++ {
			step, err := p.Step(ctx)
			if err != nil {
				if Permanent(err) {
					t.Fatal(err)
				}
				failures++
			}
			if step == StepIdle && err == nil {
				break
			}
			p.Spool().Close()
			p = r.open() // crash and restart after every step
		}
	}
	r.clock.Set(t0.Add(200 * time.Second))
	for i := 0; i < 100; i++ {
		if step, err := p.Step(ctx); err == nil && step == StepIdle {
			break
		}
	}
	// zone-b sorts after zone-a only by append order: within one
	// millisecond the append order is kept.
	got := r.published()
	var wantSorted []string
	for sec := 0; sec < 65; sec++ {
		prefix := `{"time":"` + t0.Add(time.Duration(sec)*time.Second).Format(timeLayout)
		for _, l := range want {
			if strings.HasPrefix(l, prefix) {
				wantSorted = append(wantSorted, l)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantSorted, "\n") {
		t.Fatalf("published %d records, want %d", len(got), len(wantSorted))
	}
	if failures == 0 {
		t.Fatal("no failure was injected")
	}
	st := p.State()
	if st.PublishedRecords != int64(len(want)) || r.ledger.submits != len(r.ledger.anchors) {
		t.Fatalf("state %+v, %d submits for %d anchors", st, r.ledger.submits, len(r.ledger.anchors))
	}
	if n, _ := p.Spool().Pending(); n != 0 {
		t.Errorf("%d spool segments left", n)
	}
}

// A batch is cut and anchored only once its window is over by the
// logger's clock (the transaction time of the anchor), also when the clock
// was set back after the batch was cut; a negative cut delay is refused.
func TestPublisherAnchorsOnlyAfterWindowEnd(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, t0)
	r.cfg.CutDelay = -time.Second
	r.cfg.Dir = r.dir
	if _, err := NewPublisher(ctx, r.cfg); err == nil || err.Error() != "publisher: cut delay -1s is negative: a window is cut only after its end" {
		t.Fatalf("negative cut delay: %v", err)
	}
	r.cfg.CutDelay = 0
	p := r.open()
	step := func(want Step) {
		t.Helper()
		got, err := p.Step(ctx)
		if err != nil || got != want {
			t.Fatalf("at %s: step %v %v, want %v", r.clock.Now().Format(time.RFC3339Nano), got, err, want)
		}
	}
	// The first window [0s, 10s) is open until 10s.
	r.clock.Set(t0.Add(10*time.Second - time.Millisecond))
	step(StepIdle)
	if st := p.State(); st.Pending != nil || len(r.ledger.anchors) != 0 {
		t.Fatalf("a window was cut before its end: %+v, %d anchors", st, len(r.ledger.anchors))
	}
	r.clock.Set(t0.Add(10 * time.Second))
	step(StepCut)
	step(StepAdded)
	step(StepAnchored)
	if a := r.ledger.anchors[1]; a.PeriodEnd != "2026-03-01T00:00:10Z" {
		t.Fatalf("anchor 1: %+v", a)
	}
	// Batch 2 is cut at its window's end; then the clock is set back.
	r.clock.Set(t0.Add(20 * time.Second))
	step(StepCut)
	step(StepAdded)
	r.clock.Set(t0.Add(19 * time.Second))
	step(StepIdle)
	if st := p.State(); st.Pending == nil || r.ledger.submits != 1 || len(r.ledger.anchors) != 1 {
		t.Fatalf("after the clock went back: pending %+v, %d submits, %d anchors; want batch 2 pending, not submitted", st.Pending, r.ledger.submits, len(r.ledger.anchors))
	}
	if next := p.NextCut(); !next.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("NextCut %s, want the pending window's end", next)
	}
	r.clock.Set(t0.Add(20 * time.Second))
	step(StepAnchored)
	if r.ledger.submits != 2 || r.ledger.anchors[2].PeriodEnd != "2026-03-01T00:00:20Z" {
		t.Fatalf("%d submits, anchors %+v", r.ledger.submits, r.ledger.anchors)
	}
}

func TestPublisherConflict(t *testing.T) {
	r := newRig(t, t0)
	p := r.open()
	r.ledger.anchors[1] = signedsla.Anchor{SLAID: "unit-sla", Seq: 1, CID: "bafyother", PeriodStart: "2026-03-01T00:00:00Z", PeriodEnd: "2026-03-01T00:00:10Z"}
	r.clock.Set(t0.Add(15 * time.Second))
	ctx := context.Background()
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = p.Step(ctx)
	}
	if !errors.Is(err, ErrConflict) || !Permanent(err) {
		t.Fatalf("err %v, want ErrConflict", err)
	}
}

func TestPublisherCIDMismatch(t *testing.T) {
	r := newRig(t, t0)
	r.store.wrong = true
	p := r.open()
	r.clock.Set(t0.Add(15 * time.Second))
	p.Step(context.Background())
	if _, err := p.Step(context.Background()); !errors.Is(err, ErrCIDMismatch) {
		t.Fatalf("err %v", err)
	}
}

func TestPublisherAdoptsLedgerHead(t *testing.T) {
	r := newRig(t, t0.Add(45*time.Second))
	r.ledger.anchors[1] = signedsla.Anchor{SLAID: "unit-sla", Seq: 1, CID: "bafkone", PeriodStart: "2026-03-01T00:00:00Z", PeriodEnd: "2026-03-01T00:00:10Z"}
	p := r.open()
	if st := p.State(); st.NextSeq != 2 || st.PrevCID != "bafkone" || st.NextWindowStart != "2026-03-01T00:00:10Z" {
		t.Fatalf("state %+v", st)
	}
	// A ledger head off this window grid is refused with a clear error.
	r2 := newRig(t, t0.Add(45*time.Second))
	r2.ledger.anchors[1] = signedsla.Anchor{SLAID: "unit-sla", Seq: 1, CID: "bafkone", PeriodStart: "2026-03-01T00:00:00Z", PeriodEnd: "2026-03-01T00:00:15Z"}
	r2.cfg.Dir = r2.dir
	if _, err := NewPublisher(context.Background(), r2.cfg); err == nil || !strings.Contains(err.Error(), "not a window start") {
		t.Fatalf("off-grid head: %v", err)
	}
	// The window width is part of the state.
	r.cfg.Window = 20 * time.Second
	r.cfg.Dir = r.dir
	if _, err := NewPublisher(context.Background(), r.cfg); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("window change accepted: %v", err)
	}
}

func TestPublisherDoneAtValidityEnd(t *testing.T) {
	r := newRig(t, t0)
	s := testSLA(t, t0, 60)
	s.Validity.End = t0.Add(120 * time.Second).Format(time.RFC3339)
	r.cfg.SLA = s
	p := r.open()
	r.clock.Set(t0.Add(10 * time.Minute))
	var step Step
	for i := 0; i < 100 && step != StepDone; i++ {
		var err error
		if step, err = p.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if step != StepDone || len(r.ledger.anchors) != 12 {
		t.Fatalf("step %v after %d anchors, want done after 12", step, len(r.ledger.anchors))
	}
}

func TestIngest(t *testing.T) {
	var got []string
	sink := func(line []byte) error {
		if _, err := CheckRecord(line); err != nil {
			return err
		}
		got = append(got, string(line))
		return nil
	}
	in := string(sampleLine(t, t0, "p", "zone-a", true)) + "\r\n\n" + "not json\n" + strings.Repeat("x", logs.DefaultMaxLineBytes+10) + "\n" +
		string(sampleLine(t, t0.Add(time.Second), "p", "zone-a", false))
	st, err := Ingest(context.Background(), strings.NewReader(in), sink, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 2 || st.Rejected != 2 || len(got) != 2 {
		t.Fatalf("stats %+v, got %d", st, len(got))
	}
}

func TestStateDirName(t *testing.T) {
	a, b := StateDirName("sla/1"), StateDirName("sla_1")
	if a == b || strings.ContainsAny(a, "/\\") || !strings.HasPrefix(a, "sla_1-") {
		t.Fatalf("%q %q", a, b)
	}
}
