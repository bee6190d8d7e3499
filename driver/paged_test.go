package driver

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// pagedStore is what the enclave keeps: the header and the pages by name.
type pagedStore struct {
	header []byte
	pages  map[string][]byte
}

// addWindow is one batch through the page-level API: restore the header,
// load the pages of [from, to), add recs (all in the window), write back
// the header and the changed pages. It returns the changed pages.
func (st *pagedStore) addWindow(t *testing.T, p *Plan, period Period, from, to int64, recs []record) []Page {
	t.Helper()
	acc, err := p.NewAccumulator(period)
	if err != nil {
		t.Fatal(err)
	}
	if st.header != nil {
		if err := acc.UnmarshalHeader(st.header); err != nil {
			t.Fatal(err)
		}
		for _, name := range acc.PagesIn(from, to) {
			data, ok := st.pages[name]
			if !ok {
				t.Fatalf("page %s listed but not stored", name)
			}
			if err := acc.LoadPage(name, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	acc.Add(samplesOf(recs, acc.Interner()))
	header, dirty, err := acc.MarshalPaged()
	if err != nil {
		t.Fatal(err)
	}
	st.header = header
	for _, pg := range dirty {
		st.pages[pg.Name] = pg.Data
	}
	return dirty
}

// load restores the whole aggregate from the store.
func (st *pagedStore) load(t *testing.T, p *Plan, period Period) *Accumulator {
	t.Helper()
	acc, err := p.NewAccumulator(period)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.UnmarshalHeader(st.header); err != nil {
		t.Fatal(err)
	}
	names := acc.PageNames()
	if len(names) != len(st.pages) {
		t.Fatalf("header lists %d pages, %d stored", len(names), len(st.pages))
	}
	for _, name := range names {
		if err := acc.LoadPage(name, st.pages[name]); err != nil {
			t.Fatal(err)
		}
	}
	return acc
}

// pageRange returns the bitmap and counter page indices a sample in
// [from, to) can fall in.
func pageRange(a *Accumulator, from, to int64) (slot0, slot1, sub0, sub1 uint64, ok bool) {
	from, to = max(from, a.g.StartMS), min(to, a.g.EndMS)
	if from >= to {
		return 0, 0, 0, 0, false
	}
	o0, o1 := uint64(from-a.g.StartMS), uint64(to-1-a.g.StartMS)
	return o0 / uint64(a.plan.sla.Interval.SamplingPeriodMS) >> bitPageShift, o1 / uint64(a.plan.sla.Interval.SamplingPeriodMS) >> bitPageShift,
		o0 / uint64(a.g.SubIntervalMS) / availPageSubs, o1 / uint64(a.g.SubIntervalMS) / availPageSubs, true
}

// windows splits recs (any order) into k+1 contiguous time windows with
// random bounds covering every record.
func windows(r *rand.Rand, recs []record, k int) (bounds []int64, parts [][]record) {
	lo, hi := recs[0].timeMS, recs[0].timeMS
	for _, rc := range recs {
		lo, hi = min(lo, rc.timeMS), max(hi, rc.timeMS)
	}
	bounds = []int64{lo}
	for range k {
		bounds = append(bounds, lo+r.Int64N(hi-lo+1))
	}
	bounds = append(bounds, hi+1)
	sort.Slice(bounds, func(i, j int) bool { return bounds[i] < bounds[j] })
	parts = make([][]record, len(bounds)-1)
	for _, rc := range recs {
		i := sort.Search(len(bounds), func(i int) bool { return bounds[i] > rc.timeMS }) - 1
		parts[i] = append(parts[i], rc)
	}
	return bounds, parts
}

// TestPagedMatchesWhole: storing the aggregate as a header and pages, a
// batch per random time window reading the pages of its window and
// writing back the pages it changed, gives the same outcome as the
// reference and as whole-state persistence after every batch, and the
// same whole state once every page is loaded; each batch writes only pages
// its window can touch.
func TestPagedMatchesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 6))
	cases := 160
	if testing.Short() {
		cases = 40
	}
	for i := range cases {
		kinds := []int{i % 6}
		if i%3 == 1 {
			kinds = nil
			for k := range 6 {
				if r.IntN(2) == 0 {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) == 0 {
				kinds = []int{0}
			}
		}
		var (
			recs   []record
			period Period
			p      *Plan
		)
		if i%2 == 0 {
			s, rs := randomMonthCase(r, kinds)
			p, period, recs = mustPlan(t, s), mustPeriod(t, mustPlan(t, s).sla, "2026-01"), rs
		} else {
			s, rs := randomCase(r, kinds)
			p, recs = mustPlan(t, s), rs
			period = mustPeriod(t, s, "2026-01-01T00:10:00Z")
		}
		bounds, parts := windows(r, recs, r.IntN(40))
		// Of two different samples of one probe in one slot the first
		// added counts: the reference adds the records in batch order.
		var ordered []record
		for _, part := range parts {
			ordered = append(ordered, part...)
		}
		want := referenceOutcome(t, p, period, ordered)
		st := &pagedStore{pages: map[string][]byte{}}
		whole, err := p.NewAccumulator(period)
		if err != nil {
			t.Fatal(err)
		}
		for w, part := range parts {
			dirty := st.addWindow(t, p, period, bounds[w], bounds[w+1], part)
			s0, s1, a0, a1, ok := pageRange(whole, bounds[w], bounds[w+1])
			for _, pg := range dirty {
				id, _ := parsePageName(pg.Name)
				lo, hi := s0, s1
				if id.kind == pageAvail {
					lo, hi = a0, a1
				}
				if !ok || uint64(id.page) < lo || uint64(id.page) > hi {
					t.Fatalf("case %d window %d..%d: wrote page %s outside it", i, bounds[w], bounds[w+1], pg.Name)
				}
			}
			// Whole-state persistence after every batch, the reference.
			whole.Add(samplesOf(part, whole.Interner()))
			state, err := whole.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if whole, err = p.NewAccumulator(period); err != nil {
				t.Fatal(err)
			}
			if err := whole.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
		}
		acc := st.load(t, p, period)
		o, err := acc.Outcome()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := o.JSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (kinds %v): paged outcome\n%s\nreference\n%s", i, kinds, got, want)
		}
		ow, _ := whole.Outcome()
		gw, _ := ow.JSON()
		if !bytes.Equal(gw, want) {
			t.Fatalf("case %d: whole-state outcome differs from the reference", i)
		}
		s1, err := acc.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := whole.MarshalBinary()
		if !bytes.Equal(s1, s2) {
			t.Fatalf("case %d: the paged aggregate, loaded, is not the whole-state aggregate", i)
		}
		// Written again unchanged: no page is dirty.
		if _, dirty, err := acc.MarshalPaged(); err != nil || len(dirty) != 0 {
			t.Fatalf("case %d: %d pages dirty after no change (%v)", i, len(dirty), err)
		}
	}
}

// TestPagedBatchBytes: with 1-second samples of three probes in 1-minute
// batches, what a batch writes (the header and the pages it changed) stays
// the same size at the end of a month as at its start: O(batch), not
// O(period).
func TestPagedBatchBytes(t *testing.T) {
	p, period := monthPlan(t)
	st := &pagedStore{pages: map[string][]byte{}}
	written := func(at time.Duration) int {
		acc, _ := p.NewAccumulator(period)
		from := period.Start.Add(at)
		var n int
		if st.header != nil {
			if err := acc.UnmarshalHeader(st.header); err != nil {
				t.Fatal(err)
			}
			for _, name := range acc.PagesIn(from.UnixMilli(), from.Add(time.Minute).UnixMilli()) {
				if err := acc.LoadPage(name, st.pages[name]); err != nil {
					t.Fatal(err)
				}
			}
		}
		acc.Add(hourBatch(acc, from, 60))
		header, dirty, err := acc.MarshalPaged()
		if err != nil {
			t.Fatal(err)
		}
		st.header, n = header, len(header)
		for _, pg := range dirty {
			st.pages[pg.Name] = pg.Data
			n += len(pg.Data)
		}
		return n
	}
	first := written(0)
	// Fill the month (hour batches, whole-hour steps) but the last hour.
	acc, _ := p.NewAccumulator(period)
	if err := acc.UnmarshalHeader(st.header); err != nil {
		t.Fatal(err)
	}
	for _, name := range acc.PageNames() {
		_ = acc.LoadPage(name, st.pages[name])
	}
	for h := time.Duration(0); h < 30*24*time.Hour+23*time.Hour; h += time.Hour {
		from := period.Start.Add(h)
		if h == 0 {
			from = from.Add(time.Minute)
		}
		acc.Add(hourBatch(acc, from, int(period.Start.Add(h+time.Hour).Sub(from)/time.Second)))
	}
	header, dirty, err := acc.MarshalPaged()
	if err != nil {
		t.Fatal(err)
	}
	st.header = header
	for _, pg := range dirty {
		st.pages[pg.Name] = pg.Data
	}
	whole, _ := acc.MarshalBinary()
	last := written(30*24*time.Hour + 23*time.Hour + 59*time.Minute)
	// 3 partial bitmap pages (513 bytes), one counter page (256 x 3 x 2
	// bytes) and the header.
	if first > 5000 || last > 5000 {
		t.Errorf("a 1-minute batch writes %d bytes at the start of the month, %d at its end", first, last)
	}
	if len(whole) < 200_000 {
		t.Errorf("the whole aggregate of the month is only %d bytes", len(whole))
	}
	t.Logf("1-minute batch: %d bytes written first, %d last; whole aggregate %d bytes, %d pages, header %d bytes",
		first, last, len(whole), len(st.pages), len(st.header))
}

// TestPagedRefusals: a sample in a stored page that is not loaded, an
// evaluation before every page is loaded, unknown or repeated page names
// and pages that are not canonical are refused.
func TestPagedRefusals(t *testing.T) {
	p, period := monthPlan(t)
	acc, _ := p.NewAccumulator(period)
	acc.Add(hourBatch(acc, period.Start.Add(time.Hour), 3600))
	acc.Add(hourBatch(acc, period.Start.Add(20*24*time.Hour), 60))
	header, dirty, err := acc.MarshalPaged()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][]byte{}
	for _, pg := range dirty {
		pages[pg.Name] = pg.Data
	}
	restore := func() *Accumulator {
		a, _ := p.NewAccumulator(period)
		if err := a.UnmarshalHeader(header); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := restore()
	if got := strings.Join(a.PageNames(), ","); got != "b0-0,b0-1,b0-421,b1-0,b1-1,b1-421,b2-0,b2-1,b2-421,a0-0,a0-112" {
		t.Fatalf("pages %s", got)
	}
	if got := strings.Join(a.PagesIn(period.Start.Add(20*24*time.Hour).UnixMilli(), period.Start.Add(20*24*time.Hour+time.Second).UnixMilli()), ","); got != "b0-421,b1-421,b2-421,a0-112" {
		t.Fatalf("pages in the window: %s", got)
	}
	if _, err := a.Outcome(); err == nil || !strings.Contains(err.Error(), "11 stored pages are not loaded (first: b0-0)") {
		t.Fatalf("outcome without pages: %v", err)
	}
	if _, err := a.MarshalBinary(); err == nil {
		t.Fatal("whole state without pages")
	}
	// A batch whose samples fall outside the loaded window.
	a.Add(hourBatch(a, period.Start.Add(time.Hour+30*time.Minute), 10))
	if _, _, err := a.MarshalPaged(); err == nil || !strings.Contains(err.Error(), "a sample falls in stored page b0-1, which is not loaded") {
		t.Fatalf("sample in an unloaded page: %v", err)
	}
	// The same for a counter page only (bitmap pages loaded).
	a = restore()
	for _, n := range []string{"b0-1", "b1-1", "b2-1"} {
		if err := a.LoadPage(n, pages[n]); err != nil {
			t.Fatal(err)
		}
	}
	a.Add(hourBatch(a, period.Start.Add(2*time.Hour+5*time.Minute), 10)) // slots of page 1 not taken yet
	if _, _, err := a.MarshalPaged(); err == nil || !strings.Contains(err.Error(), "stored page a0-0, which is not loaded") {
		t.Fatalf("sample in an unloaded counter page: %v", err)
	}
	a = restore()
	for _, tc := range []struct{ name, want string }{
		{"b0-2", "not a stored page"}, {"b00-0", "not a stored page"}, {"x0-0", "not a stored page"}, {"a0-0 ", "not a stored page"},
	} {
		if err := a.LoadPage(tc.name, pages["b0-0"]); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadPage(%q): %v", tc.name, err)
		}
	}
	bad := map[string][]byte{
		"b0-0":   append([]byte{bitPagePartial}, make([]byte, bitPageWords*8)...), // empty
		"b1-0":   {bitPageFull, 0},
		"b2-0":   pages["a0-0"],
		"a0-0":   append(bytes.Clone(pages["a0-0"]), 0),
		"a0-112": pages["a0-0"][:10],
	}
	for name, data := range bad {
		if err := a.LoadPage(name, data); err == nil {
			t.Errorf("LoadPage(%s) of bad bytes succeeded", name)
		}
	}
	if err := a.LoadPage("b0-0", pages["b0-0"]); err != nil {
		t.Fatal(err)
	}
	if err := a.LoadPage("b0-0", pages["b0-0"]); err == nil || !strings.Contains(err.Error(), "already loaded") {
		t.Fatalf("loaded twice: %v", err)
	}
	// Headers of another period or corrupt are refused.
	other, _ := p.NewAccumulator(Period{Start: period.End, End: period.End.AddDate(0, 1, 0)})
	if err := other.UnmarshalHeader(header); err == nil || !strings.Contains(err.Error(), "another period") {
		t.Fatalf("other period: %v", err)
	}
	for n := range len(header) {
		b, _ := p.NewAccumulator(period)
		_ = b.UnmarshalHeader(header[:n]) // must not panic
	}
	if err := restore().UnmarshalHeader(append(bytes.Clone(header), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}
