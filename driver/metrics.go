package driver

import (
	"bytes"
	"fmt"
	"math/big"
	"math/bits"
	"sort"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// Limits that keep the per-period aggregates small.
const (
	// MaxAvailabilityCells bounds sub-intervals x zones of one period.
	MaxAvailabilityCells = 1 << 22
)

func checkUnit(m *sla.Metric, c *CompileContext, allowed ...string) {
	for _, u := range allowed {
		if m.Unit == u {
			return
		}
	}
	c.Problem("unit", "driver %s cannot produce unit %q (allowed: %v)", m.Driver.ID, m.Unit, allowed)
}

// ---------------------------------------------------------------- availability

// availabilityDriver computes the uptime percentage over sub-intervals:
// a zone is down in a sub-interval when failed/valid >= zone_down_bps/10000
// among its valid samples there; a sub-interval is down when at least
// min_zones_down zones are down. A zone with fewer than min_samples (at
// least 1) valid samples in a sub-interval is unobserved and counts per
// missing_data: "down" as a down zone, "up" as an up zone, "excluded" as
// unknown. A sub-interval with down zones >= min_zones_down is down; else,
// if down zones + unknown zones >= min_zones_down, its state cannot be
// decided and it is excluded (it leaves the denominator); else it is up.
// Uptime = 100 * (counted - down) / counted with counted = sub-intervals -
// excluded. There is no value when every sub-interval is excluded.
type availabilityDriver struct{}

func (availabilityDriver) ID() string      { return "availability" }
func (availabilityDriver) Version() string { return "1" }

func (availabilityDriver) Compile(m *sla.Metric, c *CompileContext) Calculator {
	n := len(c.SLA.Monitoring.Zones)
	checkUnit(m, c, "percent")
	r := m.Rules
	if len(r.Failure) == 0 {
		c.Problem("rules.failure", "availability needs at least one failure condition")
	}
	if r.ZoneDownBPS < 1 || r.ZoneDownBPS > 10000 {
		c.Problem("rules.zone_down_bps", "must be 1..10000, got %d", r.ZoneDownBPS)
	}
	if r.MinZonesDown < 1 || r.MinZonesDown > int64(n) {
		c.Problem("rules.min_zones_down", "must be 1..%d (the number of zones), got %d", n, r.MinZonesDown)
	}
	if r.MinSamples < 0 {
		c.Problem("rules.min_samples", "must not be negative")
	}
	switch r.MissingData {
	case sla.MissingDown, sla.MissingUp, sla.MissingExcluded:
	default:
		c.Problem("rules.missing_data", "%q is not one of down, up, excluded", r.MissingData)
	}
	if sub := c.SLA.Interval.SubIntervalSeconds; sub > 0 {
		if cells := maxPeriodSeconds(c.SLA) / sub * int64(n); cells > MaxAvailabilityCells {
			c.Problem("rules", "%d sub-intervals x zones per period exceed the limit of %d; use longer sub-intervals", cells, MaxAvailabilityCells)
		}
	}
	return &availabilityCalc{bps: r.ZoneDownBPS, minDown: r.MinZonesDown, minSamples: max(r.MinSamples, 1), missing: r.MissingData}
}

type availabilityCalc struct {
	bps, minDown, minSamples int64
	missing                  string
}

func (*availabilityCalc) Requires() []int { return nil }

func (a *availabilityCalc) NewState(g Geometry) State {
	return &availabilityState{c: a, g: g, pages: make([][]availCell, (g.SubIntervals+availPageSubs-1)/availPageSubs)}
}

// availPageSubs is the number of sub-intervals of one page of availability
// counters; a page is allocated when a sample first falls in it.
const availPageSubs = 256

// availCell counts the valid and failed samples of one zone in one
// sub-interval.
type availCell struct{ valid, failed uint64 }

type availabilityState struct {
	c *availabilityCalc
	g Geometry
	// pages holds the counters by page (sub / availPageSubs), nil until a
	// sample falls in it; page p has the sub-intervals p*availPageSubs..
	// (fewer in the last page), cell (sub - p*availPageSubs)*zones + zone.
	pages [][]availCell
	// raw holds the encoded cells of the pages restored by UnmarshalBinary
	// and not used since (pages[p] is nil then); page decodes them on first
	// use and MarshalBinary copies them, so a batch pays for the pages it
	// touches, not for those the state holds. nil when nothing was restored.
	raw [][]byte
	// unloaded marks the stored pages the page-level API has not loaded
	// (nil unless restored with Accumulator.UnmarshalHeader); fault is 1 +
	// the first such page a sample fell in, 0 when none.
	unloaded []bool
	fault    int
}

// pageSubs returns the number of sub-intervals of page p.
func (s *availabilityState) pageSubs(p int) int {
	return min(availPageSubs, s.g.SubIntervals-p*availPageSubs)
}

// page returns the page holding sub-interval sub, allocating it, and the
// offset of the sub-interval's first cell in it.
func (s *availabilityState) page(sub int) ([]availCell, int) {
	p := sub / availPageSubs
	cells := s.pages[p]
	if cells == nil {
		if s.unloaded != nil && s.unloaded[p] && s.fault == 0 {
			s.fault = p + 1
		}
		cells = make([]availCell, s.pageSubs(p)*s.g.Zones)
		if s.raw != nil && s.raw[p] != nil {
			s.decoded(p, cells)
			s.raw[p] = nil
		}
		s.pages[p] = cells
	}
	return cells, (sub - p*availPageSubs) * s.g.Zones
}

// decoded decodes the restored page p into cells (checked by
// UnmarshalBinary) and returns them.
func (s *availabilityState) decoded(p int, cells []availCell) []availCell {
	d := dec{b: s.raw[p]}
	decodeCells(&d, len(cells), cells)
	return cells
}

// decodeCells reads n cells (valid, failed) into cells, or only checks
// them when cells is nil, and reports whether one is not zero. It fails on
// more failed than valid samples.
func decodeCells(d *dec, n int, cells []availCell) (bool, error) {
	nonZero := false
	for i := range n {
		var v, f uint64
		if b := d.b; len(b) >= 2 && b[0] < 0x80 && b[1] < 0x80 { // both one byte
			v, f, d.b = uint64(b[0]), uint64(b[1]), b[2:]
		} else if v, f = d.u(), d.u(); d.err != nil {
			return false, d.err
		}
		if f > v {
			return false, fmt.Errorf("availability state: more failed than valid samples: corrupt data")
		}
		nonZero = nonZero || v != 0
		if cells != nil {
			cells[i] = availCell{v, f}
		}
	}
	return nonZero, nil
}

// cell returns the counters of zone in sub-interval sub.
func (s *availabilityState) cell(sub, zone int) *availCell {
	cells, base := s.page(sub)
	return &cells[base+zone]
}

func (s *availabilityState) AddSample(_ *logs.Sample, zone, sub int, failed bool) {
	c := s.cell(sub, zone)
	c.valid++
	if failed {
		c.failed++
	}
}

func (*availabilityState) AddEvent(*logs.Sample) {}

func (s *availabilityState) Result() (*big.Rat, Details) {
	var down, excluded, zoneDown, unobserved int64
	z := s.g.Zones
	// classify counts a sub-interval with dz down and unknown unknown zones.
	classify := func(dz, unknown, n int64) {
		switch {
		case dz >= s.c.minDown:
			down += n
		case dz+unknown >= s.c.minDown:
			excluded += n
		}
	}
	var untouched int64 // sub-intervals of pages without samples
	var scratch []availCell
	for p, cells := range s.pages {
		if cells == nil && s.raw != nil && s.raw[p] != nil {
			if k := s.pageSubs(p) * z; cap(scratch) < k {
				scratch = make([]availCell, k)
			} else {
				scratch = scratch[:k]
			}
			cells = s.decoded(p, scratch) // every cell overwritten
		}
		if cells == nil {
			untouched += int64(s.pageSubs(p))
			continue
		}
		for k0 := 0; k0 < len(cells); k0 += z {
			var dz, unknown int64
			for _, c := range cells[k0 : k0+z] {
				v, f := c.valid, c.failed
				if v < uint64(s.c.minSamples) {
					unobserved++
					switch s.c.missing {
					case sla.MissingDown:
						dz++
					case sla.MissingExcluded:
						unknown++
					}
					continue
				}
				// failed/valid >= bps/10000, exactly, without overflow.
				if !lessProduct(f, 10000, v, uint64(s.c.bps)) {
					dz++
					zoneDown++
				}
			}
			classify(dz, unknown, 1)
		}
	}
	// A sub-interval without samples has every zone unobserved.
	unobserved += untouched * int64(z)
	switch s.c.missing {
	case sla.MissingDown:
		classify(int64(z), 0, untouched)
	case sla.MissingExcluded:
		classify(0, int64(z), untouched)
	default:
		classify(0, 0, untouched)
	}
	counted := int64(s.g.SubIntervals) - excluded
	d := Details{{"sub_intervals", int64(s.g.SubIntervals)}, {"counted", counted}, {"down", down}, {"excluded", excluded},
		{"zone_down", zoneDown}, {"zone_unobserved", unobserved}}
	if counted == 0 {
		return nil, d
	}
	return big.NewRat(100*(counted-down), counted), d
}

// lessProduct reports a*b < c*d on 128-bit products.
func lessProduct(a, b, c, d uint64) bool {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	return h1 < h2 || h1 == h2 && l1 < l2
}

// rawPage returns the encoded cells of page p when it was restored and not
// used since, else nil.
func (s *availabilityState) rawPage(p int) []byte {
	if s.raw == nil {
		return nil
	}
	return s.raw[p]
}

// MarshalBinary encodes the pages with a non-zero counter, by increasing
// index: their number, then for each the gap from the previous index and
// its cells (valid, failed).
func (s *availabilityState) MarshalBinary() ([]byte, error) {
	n, size := 0, 0
	for p, cells := range s.pages {
		if raw := s.rawPage(p); raw != nil {
			n++
			size += 2 + len(raw)
		} else if !zeroCells(cells) {
			n++
			size += 2 + 2*len(cells)
		}
	}
	e := enc{b: make([]byte, 0, 8+size)}
	e.u(uint64(n))
	next := 0
	for p, cells := range s.pages {
		raw := s.rawPage(p)
		if raw == nil && zeroCells(cells) {
			continue
		}
		e.u(uint64(p - next))
		next = p + 1
		if raw != nil {
			e.b = append(e.b, raw...)
			continue
		}
		for _, c := range cells {
			if c.valid < 0x80 { // so is failed: one byte each
				e.b = append(e.b, byte(c.valid), byte(c.failed))
				continue
			}
			e.u(c.valid)
			e.u(c.failed)
		}
	}
	return e.b, nil
}

// zeroCells reports whether every counter of cells is zero (true for nil).
func zeroCells(cells []availCell) bool {
	for _, c := range cells {
		if c.valid != 0 {
			return false
		}
	}
	return true
}

// UnmarshalBinary reads what MarshalBinary wrote; page counts and indices
// are bounded by the geometry. It checks every page but keeps them encoded
// (in a copy of b) until used (see raw). An all-zero page is refused (not
// canonical).
func (s *availabilityState) UnmarshalBinary(b []byte) error {
	d := dec{b: bytes.Clone(b)}
	n := d.count(len(s.pages))
	raw := make([][]byte, len(s.pages))
	next := 0
	for range n {
		gap := d.u()
		if d.err != nil {
			break
		}
		if gap >= uint64(len(raw)-next) {
			return fmt.Errorf("availability state: page index beyond the period: corrupt data")
		}
		p := next + int(gap)
		next = p + 1
		start := d.b
		nonZero, err := decodeCells(&d, s.pageSubs(p)*s.g.Zones, nil)
		if err != nil {
			if err == errTruncated {
				return fmt.Errorf("availability state: %w", err)
			}
			return err
		}
		if !nonZero {
			return fmt.Errorf("availability state: empty page %d: corrupt data", p)
		}
		raw[p] = start[: len(start)-len(d.b) : len(start)-len(d.b)]
	}
	if err := d.done(); err != nil {
		return err
	}
	s.pages, s.raw = make([][]availCell, len(s.pages)), raw
	return nil
}

// ---------------------------------------------------------------- error rate

// errorRateDriver computes 100 * failed / valid samples of the period.
type errorRateDriver struct{}

func (errorRateDriver) ID() string      { return "error-rate" }
func (errorRateDriver) Version() string { return "1" }

func (errorRateDriver) Compile(m *sla.Metric, c *CompileContext) Calculator {
	checkUnit(m, c, "percent")
	if len(m.Rules.Failure) == 0 {
		c.Problem("rules.failure", "error-rate needs at least one failure condition")
	}
	return errorRateCalc{}
}

type errorRateCalc struct{}

func (errorRateCalc) Requires() []int         { return nil }
func (errorRateCalc) NewState(Geometry) State { return &errorRateState{} }

type errorRateState struct{ valid, failed uint64 }

func (s *errorRateState) AddSample(_ *logs.Sample, _, _ int, failed bool) {
	s.valid++
	if failed {
		s.failed++
	}
}

func (*errorRateState) AddEvent(*logs.Sample) {}

func (s *errorRateState) Result() (*big.Rat, Details) {
	d := Details{{"valid", int64(s.valid)}, {"failed", int64(s.failed)}}
	if s.valid == 0 {
		return nil, d
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(new(big.Int).SetUint64(s.failed), big.NewInt(100)), new(big.Int).SetUint64(s.valid))
	return r, d
}

func (s *errorRateState) MarshalBinary() ([]byte, error) {
	e := enc{}
	e.u(s.valid)
	e.u(s.failed)
	return e.b, nil
}

func (s *errorRateState) UnmarshalBinary(b []byte) error {
	d := dec{b: b}
	s.valid, s.failed = d.u(), d.u()
	if d.err == nil && s.failed > s.valid {
		return fmt.Errorf("error-rate state: more failed than valid samples: corrupt data")
	}
	return d.done()
}

// ---------------------------------------------------------------- latency

// latencyDriver computes the nearest-rank percentile p of
// parameters.measurement over the valid samples: the smallest value v such
// that at least ceil(p * N / 100) of the N values are <= v. The measurement
// is in milliseconds; unit "s" divides by 1000. Memory is bounded by the
// number of distinct values (a dense table for 0..4095, a map beyond).
type latencyDriver struct{}

func (latencyDriver) ID() string      { return "latency-percentile" }
func (latencyDriver) Version() string { return "1" }

func (latencyDriver) Compile(m *sla.Metric, c *CompileContext) Calculator {
	checkUnit(m, c, "ms", "s")
	idx := -1
	if m.Parameters.Measurement == "" {
		c.Problem("parameters.measurement", "latency-percentile needs the measurement to read (e.g. latency_ms)")
	} else {
		idx = c.Measurement("parameters.measurement", m.Parameters.Measurement)
	}
	if m.Parameters.Percentile < 1 || m.Parameters.Percentile > 100 {
		c.Problem("parameters.percentile", "must be 1..100, got %d", m.Parameters.Percentile)
	}
	div := int64(1)
	if m.Unit == "s" {
		div = 1000
	}
	return &latencyCalc{idx: idx, p: m.Parameters.Percentile, div: div}
}

type latencyCalc struct {
	idx    int
	p, div int64
}

func (l *latencyCalc) Requires() []int { return []int{l.idx} }
func (l *latencyCalc) NewState(Geometry) State {
	return &latencyState{c: l}
}

const denseLatency = 4096

type latencyState struct {
	c      *latencyCalc
	n      uint64
	dense  []uint64 // counts of values 0..denseLatency-1, allocated on first use
	sparse map[int64]uint64
}

func (s *latencyState) AddSample(x *logs.Sample, _, _ int, _ bool) { s.add(x.Values[s.c.idx]) }

// add counts the value v.
func (s *latencyState) add(v int64) {
	s.n++
	if v >= 0 && v < denseLatency {
		if s.dense == nil {
			s.dense = make([]uint64, denseLatency)
		}
		s.dense[v]++
		return
	}
	if s.sparse == nil {
		s.sparse = map[int64]uint64{}
	}
	s.sparse[v]++
}

func (*latencyState) AddEvent(*logs.Sample) {}

type valueCount struct {
	v int64
	n uint64
}

// sorted returns the histogram in increasing value order.
func (s *latencyState) sorted() []valueCount {
	out := make([]valueCount, 0, len(s.sparse)+64)
	for v, n := range s.sparse {
		out = append(out, valueCount{v, n})
	}
	for v, n := range s.dense {
		if n != 0 {
			out = append(out, valueCount{int64(v), n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].v < out[j].v })
	return out
}

func (s *latencyState) Result() (*big.Rat, Details) {
	if s.n == 0 {
		return nil, Details{{"samples", 0}, {"rank", 0}}
	}
	// rank = ceil(p*n/100), computed in 128 bits.
	hi, lo := bits.Mul64(uint64(s.c.p), s.n)
	q, r := bits.Div64(hi, lo, 100)
	if r != 0 {
		q++
	}
	var cum uint64
	var v int64
	for _, vc := range s.sorted() {
		cum += vc.n
		if cum >= q {
			v = vc.v
			break
		}
	}
	return big.NewRat(v, s.c.div), Details{{"samples", int64(s.n)}, {"rank", int64(q)}}
}

func (s *latencyState) MarshalBinary() ([]byte, error) {
	e := enc{}
	h := s.sorted()
	e.u(uint64(len(h)))
	for _, vc := range h {
		e.i(vc.v)
		e.u(vc.n)
	}
	return e.b, nil
}

func (s *latencyState) UnmarshalBinary(b []byte) error {
	d := dec{b: b}
	n := d.count(len(b))
	s.n, s.dense, s.sparse = 0, nil, nil
	x := logs.Sample{}
	for i := 0; i < n && d.err == nil; i++ {
		v, c := d.i(), d.u()
		if d.err != nil || c == 0 {
			break
		}
		x.Values[s.c.idx] = v
		s.AddSample(&x, 0, 0, false)
		if v >= 0 && v < denseLatency {
			s.dense[v] += c - 1
		} else {
			s.sparse[v] += c - 1
		}
		s.n += c - 1
	}
	return d.done()
}

// ---------------------------------------------------------------- incidents

// mttDriver computes a mean time from incident events: for
// mean-time-to-respond the time from "opened" to "acknowledged", for
// mean-time-to-resolve from "opened" to "resolved". An incident counts in
// the period in which its end event (acknowledgement, resolution) falls,
// with its full duration, even when it was opened in an earlier period (the
// opening event must then be in the same log or earlier batches, or be
// carried from the previous period: see Accumulator.OpenIncidents and
// Plan.NewAccumulatorWithCarry). When an
// event is repeated, the earliest time of each type is used. Incidents whose
// end event falls in the period but that have no "opened" event are counted
// as unmatched and ignored; those ending before they were opened (clock
// skew) are counted as inconsistent and ignored. With no incident the metric
// has no value and is met.
type mttDriver struct {
	id  string
	end logs.EventType
}

func (d mttDriver) ID() string    { return d.id }
func (mttDriver) Version() string { return "1" }

var unitMS = map[string]int64{"ms": 1, "s": 1000, "min": 60000, "h": 3600000}

func (d mttDriver) Compile(m *sla.Metric, c *CompileContext) Calculator {
	checkUnit(m, c, "ms", "s", "min", "h")
	return &mttCalc{end: d.end, unit: max(unitMS[m.Unit], 1)}
}

type mttCalc struct {
	end  logs.EventType
	unit int64
}

func (*mttCalc) Requires() []int { return nil }

// EventsOnly implements EventsOnly: incidents come from events only.
func (*mttCalc) EventsOnly() bool { return true }
func (c *mttCalc) NewState(g Geometry) State {
	return &mttState{c: c, g: g}
}

type incident struct {
	opened, end int64
	has         uint8 // bit 0: opened seen, bit 1: end seen
}

type mttState struct {
	c         *mttCalc
	g         Geometry
	incidents []incident // by interned incident id
}

func (*mttState) AddSample(*logs.Sample, int, int, bool) {}

func (s *mttState) AddEvent(x *logs.Sample) {
	var bit uint8
	switch x.Event {
	case logs.EventOpened:
		bit = 1
	case s.c.end:
		bit = 2
	default:
		return
	}
	id := int(x.Incident)
	for id >= len(s.incidents) {
		s.incidents = append(s.incidents, incident{})
	}
	in := &s.incidents[id]
	t := &in.opened
	if bit == 2 {
		t = &in.end
	}
	if in.has&bit == 0 || x.TimeMS < *t {
		*t = x.TimeMS
	}
	in.has |= bit
}

func (s *mttState) Result() (*big.Rat, Details) {
	var n, unmatched, inconsistent int64
	sum := new(big.Int)
	for _, in := range s.incidents {
		if in.has&2 == 0 || in.end < s.g.StartMS || in.end >= s.g.EndMS {
			continue
		}
		switch {
		case in.has&1 == 0:
			unmatched++
		case in.end < in.opened:
			inconsistent++
		default:
			n++
			sum.Add(sum, big.NewInt(in.end-in.opened))
		}
	}
	d := Details{{"incidents", n}, {"unmatched", unmatched}, {"inconsistent", inconsistent}}
	if n == 0 {
		return nil, d
	}
	return new(big.Rat).SetFrac(sum, big.NewInt(n*s.c.unit)), d
}

func (s *mttState) MarshalBinary() ([]byte, error) {
	e := enc{}
	e.u(uint64(len(s.incidents)))
	for _, in := range s.incidents {
		e.u(uint64(in.has))
		e.i(in.opened)
		e.i(in.end)
	}
	return e.b, nil
}

func (s *mttState) UnmarshalBinary(b []byte) error {
	d := dec{b: b}
	n := d.count(len(b))
	s.incidents = make([]incident, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		has := d.u()
		if has > 3 {
			return fmt.Errorf("incident state: bad flags: corrupt data")
		}
		s.incidents = append(s.incidents, incident{has: uint8(has), opened: d.i(), end: d.i()})
	}
	return d.done()
}

// ---------------------------------------------------------------- throughput

// throughputDriver computes the sum of parameters.measurement over the valid
// samples divided by the period length in seconds (unit per_second).
type throughputDriver struct{}

func (throughputDriver) ID() string      { return "throughput" }
func (throughputDriver) Version() string { return "1" }

func (throughputDriver) Compile(m *sla.Metric, c *CompileContext) Calculator {
	checkUnit(m, c, "per_second")
	idx := -1
	if m.Parameters.Measurement == "" {
		c.Problem("parameters.measurement", "throughput needs the measurement to sum (e.g. requests)")
	} else {
		idx = c.Measurement("parameters.measurement", m.Parameters.Measurement)
	}
	return &throughputCalc{idx: idx}
}

type throughputCalc struct{ idx int }

func (t *throughputCalc) Requires() []int { return []int{t.idx} }
func (t *throughputCalc) NewState(g Geometry) State {
	return &throughputState{c: t, g: g}
}

type throughputState struct {
	c  *throughputCalc
	g  Geometry
	n  uint64
	hi int64 // the sum is the signed 128-bit hi:lo
	lo uint64
}

func (s *throughputState) AddSample(x *logs.Sample, _, _ int, _ bool) { s.add(x.Values[s.c.idx]) }

// add adds v to the sum.
func (s *throughputState) add(v int64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(v), 0)
	s.hi += int64(carry) + v>>63
	s.n++
}

func (*throughputState) AddEvent(*logs.Sample) {}

func (s *throughputState) sum() *big.Int {
	r := new(big.Int).Lsh(big.NewInt(s.hi), 64)
	return r.Add(r, new(big.Int).SetUint64(s.lo))
}

func (s *throughputState) Result() (*big.Rat, Details) {
	d := Details{{"samples", int64(s.n)}}
	if s.n == 0 {
		return nil, d
	}
	secs := (s.g.EndMS - s.g.StartMS) / 1000
	return new(big.Rat).SetFrac(s.sum(), big.NewInt(secs)), d
}

func (s *throughputState) MarshalBinary() ([]byte, error) {
	e := enc{}
	e.u(s.n)
	e.i(s.hi)
	e.u(s.lo)
	return e.b, nil
}

func (s *throughputState) UnmarshalBinary(b []byte) error {
	d := dec{b: b}
	s.n, s.hi, s.lo = d.u(), d.i(), d.u()
	return d.done()
}
