package driver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// monthPlan returns testSLA with calendar-month periods and its period
// 2026-01 (31 days: 2678400 one-second slots, 654 bitmap pages of which
// the last holds 3712 slots; 44640 one-minute sub-intervals, 175 counter
// pages).
func monthPlan(t testing.TB) (*Plan, Period) {
	t.Helper()
	s := testSLA(sla.CycleCalendarMonth, 0)
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	period, err := ParsePeriod(s, "2026-01")
	if err != nil {
		t.Fatal(err)
	}
	return p, period
}

// hourBatch returns 3 probes x n one-second samples from t0 (every 97th
// failing), like one logger batch.
func hourBatch(a *Accumulator, t0 time.Time, n int) []logs.Sample {
	in := a.Interner()
	region, _ := in.Regions.InternString("region-1")
	var out []logs.Sample
	for i := range n {
		for z, name := range []string{"zone-a", "zone-b", "zone-c"} {
			probe, _ := in.Probes.InternString("p-" + name)
			zone, _ := in.Zones.InternString(name)
			ok := int64(1)
			if (3*i+z)%97 == 0 {
				ok = 0
			}
			out = append(out, logs.Sample{TimeMS: t0.UnixMilli() + int64(i)*1000 + int64(z), Probe: probe, Zone: zone, Region: region,
				Kind: logs.KindMeasurement, Present: 1, Values: [logs.MaxMeasurements]int64{ok}})
		}
	}
	return out
}

// TestSparseState: a batch covering an hour of a month costs state bytes
// for that hour (one bitmap page per probe, one counter page), not for
// the month, and batches far apart in the month add a page each.
func TestSparseState(t *testing.T) {
	p, period := monthPlan(t)
	acc, err := p.NewAccumulator(period)
	if err != nil {
		t.Fatal(err)
	}
	acc.Add(hourBatch(acc, period.Start.Add(3*time.Hour), 3300))
	state, err := acc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// 3 probes x 1 page of 512 bytes, 1 page of 256 x 3 counters (2..3
	// bytes each): about 3.5 KB; the dense format wrote 1.2 MB.
	if len(state) > 6000 {
		t.Errorf("state of one hour: %d bytes", len(state))
	}
	for _, gap := range []time.Duration{10 * 24 * time.Hour, 30*24*time.Hour + 23*time.Hour} {
		acc2, _ := p.NewAccumulator(period)
		if err := acc2.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		acc2.Add(hourBatch(acc2, period.Start.Add(gap), 3300))
		s2, _ := acc2.MarshalBinary()
		if len(s2) > 2*len(state)+64 {
			t.Errorf("two hours %v apart: %d bytes (one hour: %d)", gap, len(s2), len(state))
		}
		o, err := acc2.Outcome()
		if err != nil {
			t.Fatal(err)
		}
		if o.Samples.Accepted != 2*3*3300 || detail(o.Metrics[0], "sub_intervals") != 44640 {
			t.Errorf("outcome %+v %v", o.Samples, o.Metrics[0].Details)
		}
	}
	// The whole batch again after a round trip: all duplicates.
	acc3, _ := p.NewAccumulator(period)
	if err := acc3.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	acc3.Add(hourBatch(acc3, period.Start.Add(3*time.Hour), 3300))
	if c := acc3.Counts(); c.Duplicate != 3*3300 || c.Accepted != 3*3300 {
		t.Errorf("replay: %+v", c)
	}
	// Format 1 is refused by name.
	old := bytes.Clone(state)
	old[len(accumulatorMagic)] = 1
	a, _ := p.NewAccumulator(period)
	if err := a.UnmarshalBinary(old); err == nil || !strings.Contains(err.Error(), "format version 1") {
		t.Errorf("format 1: %v", err)
	}
}

// TestUnmarshalPagesHostile: page counts, indices and contents that the
// period geometry rules out are refused with an error, never a panic or a
// large allocation.
func TestUnmarshalPagesHostile(t *testing.T) {
	p, period := monthPlan(t)
	acc, _ := p.NewAccumulator(period)
	if acc.dirLen != 654 || acc.slots != 2678400 {
		t.Fatalf("geometry: %d pages, %d slots", acc.dirLen, acc.slots)
	}
	page := func(word int, v uint64) []byte {
		b := make([]byte, bitPageWords*8)
		if word >= 0 {
			binary.LittleEndian.PutUint64(b[8*word:], v)
		}
		return b
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	u := func(vs ...uint64) []byte {
		var e enc
		for _, v := range vs {
			e.u(v)
		}
		return e.b
	}
	bitmapCases := []struct {
		name string
		in   []byte
		want string // "" when accepted
	}{
		{"one page", cat(u(1, 1, 0), page(0, 1)), ""},
		{"last slot of the period", cat(u(1, 1, 653<<1), page(57, 1<<63)), ""},
		{"no bitmap", u(1, 0), ""},
		{"full pages", u(1, 3, 1, 1, 600<<1|1), ""},
		{"more probes than interned", u(2), "exceeds"},
		{"more pages than the period", u(1, 655), "exceeds"},
		{"page index beyond the period", cat(u(1, 1, 654<<1), page(0, 1)), "beyond the period"},
		{"second index beyond", cat(u(1, 2, 600<<1), page(0, 1), u(53<<1), page(0, 1)), "beyond the period"},
		{"full page index beyond", u(1, 1, 654<<1|1), "beyond the period"},
		{"empty page", cat(u(1, 1, 0), page(-1, 0)), "empty or full"},
		{"full page written out", cat(u(1, 1, 0), bytes.Repeat([]byte{0xff}, bitPageWords*8)), "empty or full"},
		{"bit after the last slot", cat(u(1, 1, 653<<1), page(58, 1)), "beyond the period's last slot"},
		{"bit in the last word", cat(u(1, 1, 653<<1), page(63, 1<<63)), "beyond the period's last slot"},
		{"full last page", u(1, 1, 653<<1|1), "beyond the period's last slot"},
		{"truncated page", cat(u(1, 1, 0), page(0, 1)[:100]), "truncated"},
		{"page count without pages", u(1, 600), "truncated"},
	}
	for _, c := range bitmapCases {
		d := dec{b: c.in}
		_, _, err := acc.unmarshalBitmaps(&d, 1)
		if err == nil {
			err = d.done()
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("bitmaps %s: %v, want %q", c.name, err, c.want)
		}
	}
	st := acc.metrics[0].avail
	if st == nil || len(st.pages) != 175 || st.pageSubs(174) != 44640-174*256 {
		t.Fatalf("availability geometry: %d pages", len(st.pages))
	}
	zeros := func(n int) []byte { return make([]byte, n) }
	cells := 256 * 3
	availCases := []struct {
		name string
		in   []byte
		want string
	}{
		{"one page", cat(u(1, 0, 1, 0), zeros(2*cells-2)), ""},
		{"last, shorter page", cat(u(1, 174, 2, 1), zeros(2*(44640-174*256)*3-2)), ""},
		{"no page", u(0), ""},
		{"more pages than the period", u(176), "exceeds"},
		{"index beyond the period", cat(u(1, 175), zeros(2*cells)), "beyond the period"},
		{"empty page", cat(u(1, 0), zeros(2*cells)), "empty page"},
		{"more failed than valid", cat(u(1, 0, 1, 2), zeros(2*cells-2)), "more failed"},
		{"truncated", cat(u(1, 0, 1, 0), zeros(10)), "truncated"},
		{"trailing bytes", cat(u(1, 0, 1, 0), zeros(2*cells-2+1)), "trailing"},
	}
	for _, c := range availCases {
		s := p.metrics[0].calc.NewState(acc.g).(*availabilityState)
		err := s.UnmarshalBinary(c.in)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("availability %s: %v, want %q", c.name, err, c.want)
		}
		if c.want == "" {
			again, _ := s.MarshalBinary()
			if !bytes.Equal(again, c.in) {
				t.Errorf("availability %s: re-marshalled to other bytes", c.name)
			}
		}
	}
}

// FuzzAccumulatorUnmarshalMonth is FuzzAccumulatorUnmarshal on a month
// period (many pages) seeded with a sparse state.
func FuzzAccumulatorUnmarshalMonth(f *testing.F) {
	p, period := monthPlan(f)
	acc, _ := p.NewAccumulator(period)
	acc.Add(hourBatch(acc, period.Start.Add(time.Hour), 100))
	acc.Add(hourBatch(acc, period.End.Add(-time.Minute), 60))
	state, _ := acc.MarshalBinary()
	f.Add(state)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := p.NewAccumulator(period)
		if a.UnmarshalBinary(data) != nil {
			return
		}
		if _, err := a.Outcome(); err != nil {
			t.Fatal(err)
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := p.NewAccumulator(period)
		if err := b.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-marshalled state refused: %v", err)
		}
		if twice, _ := b.MarshalBinary(); !bytes.Equal(twice, again) {
			t.Fatal("marshal(unmarshal(marshal(state))) != marshal(state)")
		}
	})
}

// TestFullPageShared: full bitmap pages restored from a state share
// fullPage; replaying their samples counts duplicates without writing to
// it, and the state is the same after the replay (but for the counts).
func TestFullPageShared(t *testing.T) {
	p, period := monthPlan(t)
	acc, _ := p.NewAccumulator(period)
	acc.Add(hourBatch(acc, period.Start, 3*bitPageSlots)) // pages 0..2 full
	state, _ := acc.MarshalBinary()
	if len(state) > 20000 {
		t.Errorf("3 full pages x 3 probes: %d bytes", len(state))
	}
	restored, _ := p.NewAccumulator(period)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for _, dir := range restored.bitmaps {
		if dir[0] != fullPage || dir[2] != fullPage || dir[3] != nil {
			t.Fatalf("pages not shared: %p %p %p", dir[0], dir[2], dir[3])
		}
	}
	restored.Add(hourBatch(restored, period.Start, 3*bitPageSlots+10))
	c := restored.Counts()
	if c.Duplicate != 3*3*bitPageSlots || c.Accepted != 3*(3*bitPageSlots+10) {
		t.Errorf("replay: %+v", c)
	}
	for _, w := range fullPage {
		if w != ^uint64(0) {
			t.Fatal("fullPage was written to")
		}
	}
	o1, _ := restored.Outcome()
	fresh, _ := p.NewAccumulator(period)
	fresh.Add(hourBatch(fresh, period.Start, 3*bitPageSlots+10))
	o2, _ := fresh.Outcome()
	if fmt.Sprint(o1.Metrics) != fmt.Sprint(o2.Metrics) {
		t.Errorf("restored %v, fresh %v", o1.Metrics, o2.Metrics)
	}
}

// BenchmarkStateRoundTrip: what every batch pays besides its samples:
// NewAccumulator, UnmarshalBinary of the period's state and MarshalBinary,
// on a month period with one batch stored ("first") and with all but the
// last hour covered by 3 probes at one sample per second ("late").
func BenchmarkStateRoundTrip(b *testing.B) {
	p, period := monthPlan(b)
	for _, bc := range []struct {
		name string
		secs int
	}{{"first", 3300}, {"late", 31*86400 - 3600}} {
		acc, _ := p.NewAccumulator(period)
		for t0 := 0; t0 < bc.secs; t0 += 3600 {
			acc.Add(hourBatch(acc, period.Start.Add(time.Duration(t0)*time.Second), min(3600, bc.secs-t0)))
		}
		state, err := acc.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, err := p.NewAccumulator(period)
				if err != nil {
					b.Fatal(err)
				}
				if err := a.UnmarshalBinary(state); err != nil {
					b.Fatal(err)
				}
				if _, err := a.MarshalBinary(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(state)), "state-bytes")
		})
	}
}
