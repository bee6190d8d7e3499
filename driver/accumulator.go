package driver

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"

	"github.com/slasa/slasa/logs"
)

// SampleCounts are the layer-1 (sampling) counts of a period. Every record
// given to an Accumulator is counted once in Events or in exactly one of
// Accepted, OutsidePeriod, UnknownZone, ZoneRegionMismatch, Duplicate,
// TooManyProbes.
type SampleCounts struct {
	// Read is the number of records added.
	Read int64 `json:"read"`
	// Events is the number of incident events (not subject to the checks
	// below; see the mean-time drivers).
	Events int64 `json:"events"`
	// Accepted samples passed every common check; each metric then counts
	// them as valid or rejected (MetricSamples).
	Accepted int64 `json:"accepted"`
	// OutsidePeriod samples have a time outside [start, end).
	OutsidePeriod int64 `json:"outside_period"`
	// UnknownZone samples name a zone not declared in monitoring.zones.
	UnknownZone int64 `json:"unknown_zone"`
	// ZoneRegionMismatch samples name a declared zone with another region.
	ZoneRegionMismatch int64 `json:"zone_region_mismatch"`
	// Duplicate samples are a second sample of one probe in one sampling
	// slot: slot = (time - period start) / sampling_period_ms.
	Duplicate int64 `json:"duplicate"`
	// TooManyProbes samples come from a probe beyond the first MaxProbes
	// distinct probes of the period (a bound on the duplicate bitmaps).
	TooManyProbes int64 `json:"too_many_probes"`
}

// MaxProbes bounds the distinct probes whose samples one Accumulator
// accepts; each costs at most one bit per sampling slot of the period.
const MaxProbes = 1024

// The duplicate bitmap of a probe is paged: a page of bitPageSlots
// sampling slots is allocated when a sample first falls in it, so a batch
// costs memory (and state bytes) for the part of the period it covers, not
// for the whole period.
const (
	bitPageShift = 12
	bitPageSlots = 1 << bitPageShift // slots per page
	bitPageWords = bitPageSlots / 64
)

// bitPage is one page of a duplicate bitmap: bit k of word w is slot
// page*bitPageSlots + 64*w + k.
type bitPage [bitPageWords]uint64

// fullPage is a page with every slot taken. UnmarshalBinary points every
// full page of every probe at it instead of allocating one: Add writes to
// a page only to set a bit that is clear, so it never writes to fullPage.
var fullPage = func() *bitPage {
	var p bitPage
	for i := range p {
		p[i] = ^uint64(0)
	}
	return &p
}()

// MetricSamples are the per-metric counts of accepted samples.
type MetricSamples struct {
	// Valid samples are counted by the metric's driver.
	Valid int64 `json:"valid"`
	// Failed valid samples meet one of rules.failure.
	Failed int64 `json:"failed"`
	// RejectedRule samples fail a rules.valid condition.
	RejectedRule int64 `json:"rejected_rule"`
	// MissingMeasurement samples lack a measurement the metric compares or
	// reads.
	MissingMeasurement int64 `json:"missing_measurement"`
}

// Metric kinds that Add updates with concrete code; kindGeneric goes
// through the State interface (drivers registered by other packages).
const (
	kindGeneric uint8 = iota
	kindAvailability
	kindErrorRate
	kindLatency
	kindThroughput
)

type metricAcc struct {
	mp     *metricPlan
	st     State
	counts MetricSamples
	kind   uint8
	// st as its concrete type, for the kind.
	avail *availabilityState
	errs  *errorRateState
	lat   *latencyState
	thr   *throughputState
	// pres is the verdict of the presence rules by the sample's Present
	// bits: verdictRule and verdictMissing are final; verdictValid and
	// verdictFailed (failed by a present/absent failure condition) still
	// need the comparisons validR and then, if not failed, failR.
	pres          *[256]uint8
	eventsOnly    bool
	validR, failR []rangeCond
}

func newMetricAcc(mp *metricPlan, st State) metricAcc {
	ma := metricAcc{mp: mp, st: st, pres: &mp.pres, eventsOnly: mp.eventsOnly, validR: mp.validR, failR: mp.failR}
	switch s := st.(type) {
	case *availabilityState:
		ma.kind, ma.avail = kindAvailability, s
	case *errorRateState:
		ma.kind, ma.errs = kindErrorRate, s
	case *latencyState:
		ma.kind, ma.lat = kindLatency, s
	case *throughputState:
		ma.kind, ma.thr = kindThroughput, s
	}
	return ma
}

// divider divides by a constant: by multiply-high when both operands fit
// in 32 bits (exact for every 32-bit numerator), by the CPU otherwise.
type divider struct {
	d, m uint64
}

func newDivider(d int64) divider {
	dv := divider{d: uint64(d)}
	if d > 1 && d < 1<<32 {
		dv.m = ^uint64(0)/uint64(d) + 1
	}
	return dv
}

func (dv divider) div(n uint64) uint64 {
	if dv.m != 0 && n < 1<<32 {
		hi, _ := bits.Mul64(dv.m, n)
		return hi
	}
	return n / dv.d
}

// Accumulator aggregates the samples of one period of one SLA. Give it
// batches in any order: the result depends only on the set of samples
// (exact duplicates in any order give the same result; of two different
// samples of one probe in one slot, the first added counts, so only
// conflicting samples make the order matter). Its memory is
// bounded by the period geometry (a duplicate bitmap of at most one bit per
// sampling slot per probe, counters per sub-interval and zone), the number
// of probes and incidents, and distinct latency values; never by the number
// of samples. The bitmaps and the availability counters are paged (pages of
// 4096 sampling slots, of 256 sub-intervals) and allocated on first use, so
// memory, MarshalBinary's output and Outcome's work grow with the part of
// the period that samples cover, not with the period. It is not safe for
// concurrent use.
type Accumulator struct {
	plan       *Plan
	g          Geometry
	in         *logs.Interner
	zoneRegion []uint32 // region id of zone i (zone ids 0..n-1 are the SLA zones)
	slotDiv    divider  // sampling period, ms
	subDiv     divider  // sub-interval, ms
	slots      uint64   // sampling slots of the period
	dirLen     int      // bitmap pages per probe: ceil(slots / bitPageSlots)
	// bitmaps is the paged duplicate bitmap by probe id: nil for probes
	// without samples, else dirLen pages, nil until a sample falls in them.
	bitmaps [][]*bitPage
	nProbes int // non-nil bitmaps
	counts  SampleCounts
	metrics []metricAcc
	// sup holds the ticket events when the SLA has a support section.
	sup    *supportState
	single int // index of the only metric reading samples, -1 when none or several
	// pg is the storage state of the page-level API (paged.go), nil when
	// the accumulator is not restored from or written to pages.
	pg *paging
}

// NewAccumulator returns an empty Accumulator for period p, which must be a
// billing period of the plan's SLA (see PeriodOf, ParsePeriod).
func (p *Plan) NewAccumulator(period Period) (*Accumulator, error) {
	want, err := PeriodOf(p.sla, period.Start)
	if err != nil {
		return nil, err
	}
	if !want.Start.Equal(period.Start) || !want.End.Equal(period.End) {
		return nil, fmt.Errorf("%s..%s is not a billing period of SLA %s", period.Start, period.End, p.sla.ID)
	}
	iv := p.sla.Interval
	g := Geometry{Period: want, StartMS: want.Start.UnixMilli(), EndMS: want.End.UnixMilli(),
		SubIntervalMS: iv.SubIntervalSeconds * 1000, Zones: len(p.sla.Monitoring.Zones)}
	g.SubIntervals = int((g.EndMS - g.StartMS) / g.SubIntervalMS)
	slots := uint64((g.EndMS - g.StartMS + iv.SamplingPeriodMS - 1) / iv.SamplingPeriodMS)
	a := &Accumulator{plan: p, g: g, in: logs.NewInterner(), slotDiv: newDivider(iv.SamplingPeriodMS), subDiv: newDivider(g.SubIntervalMS),
		slots: slots, dirLen: int((slots + bitPageSlots - 1) / bitPageSlots)}
	for _, z := range p.sla.Monitoring.Zones {
		a.in.Zones.InternString(z.ID)
		r, _ := a.in.Regions.InternString(z.Region)
		a.zoneRegion = append(a.zoneRegion, r)
	}
	for _, mp := range p.metrics {
		a.metrics = append(a.metrics, newMetricAcc(mp, mp.calc.NewState(g)))
	}
	if p.support != nil {
		a.sup = &supportState{}
	}
	a.single = -1
	for i, mp := range p.metrics {
		if !mp.eventsOnly {
			if a.single != -1 {
				a.single = -1
				break
			}
			a.single = i
		}
	}
	return a, nil
}

// Period returns the accumulator's period.
func (a *Accumulator) Period() Period { return a.g.Period }

// Interner returns the intern tables that the samples given to Add must
// have been decoded with (use NewDecoder, or logs.Options.Interner).
func (a *Accumulator) Interner() *logs.Interner { return a.in }

// NewDecoder returns a decoder of JSON Lines logs producing samples for Add:
// it extracts the plan's measurements and shares the accumulator's intern
// tables.
func (a *Accumulator) NewDecoder(r io.Reader) (*logs.Decoder, error) {
	return logs.NewDecoder(r, logs.Options{Measurements: a.plan.measurements, Interner: a.in})
}

// Counts returns the sampling counts so far.
func (a *Accumulator) Counts() SampleCounts { return a.counts }

// bitmapPage returns page pi of the duplicate bitmap of probe, allocating
// the page and the probe's page directory; nil when the probe has no
// bitmap and MaxProbes probes already have one.
func (a *Accumulator) bitmapPage(probe uint32, pi uint64) *bitPage {
	if int(probe) >= len(a.bitmaps) || a.bitmaps[probe] == nil {
		if a.nProbes >= MaxProbes {
			return nil
		}
		for int(probe) >= len(a.bitmaps) {
			a.bitmaps = append(a.bitmaps, nil)
		}
		a.bitmaps[probe] = make([]*bitPage, a.dirLen)
		a.nProbes++
	}
	dir := a.bitmaps[probe]
	if dir[pi] == nil {
		if a.pg != nil {
			a.pg.missBitmap(probe, pi)
		}
		dir[pi] = new(bitPage)
	}
	return dir[pi]
}

// fastPath reports whether addSingle can add the samples of metric ma, and
// its failure condition: no comparison in rules.valid, exactly one in
// rules.failure (not always or never true), offsets in the period below
// 2^32 and a sampling period of 2..2^32-1 ms (slot by multiplication).
func (a *Accumulator) fastPath(ma *metricAcc) (modRange, bool) {
	if len(ma.validR) != 0 || len(ma.failR) != 1 || a.g.EndMS-a.g.StartMS > 1<<32 || a.slotDiv.m == 0 {
		return modRange{}, false
	}
	return ma.failR[0].modular()
}

// newPage returns page pi of the duplicate bitmap of probe when it is not
// allocated yet, allocating it, or counts the sample as too_many_probes and
// returns nil.
//
//go:noinline
func (a *Accumulator) newPage(probe uint32, pi uint64) *bitPage {
	pg := a.bitmapPage(probe, pi)
	if pg == nil {
		a.counts.TooManyProbes++
	}
	return pg
}

// Add aggregates a batch of samples decoded with the accumulator's
// Interner. Samples outside the period are counted as rejected, not errors.
//
// Each measurement sample goes through these checks, in this order, and is
// counted under the first that rejects it (SampleCounts): outside the
// period; zone not declared; region not the zone's; duplicate (its probe
// already has a sample in the same sampling slot, slot = (time - period
// start) / sampling_period_ms; the slot is taken even if the sample is
// then rejected by a metric). An accepted sample is then checked per metric
// (MetricSamples): a "present"/"absent" condition of rules.valid failing
// (rejected_rule); a measurement compared by a rule or read by the driver
// missing (missing_measurement); a comparison of rules.valid failing
// (rejected_rule). What remains is valid, and failed when a rules.failure
// condition holds. Incident events skip these checks and go to every
// metric's AddEvent.
func (a *Accumulator) Add(samples []logs.Sample) {
	if a.single >= 0 {
		ma := &a.metrics[a.single]
		if fc, ok := a.fastPath(ma); ok {
			a.addSingle(samples, ma, fc)
			return
		}
	}
	a.addMany(samples)
}

// addMany is Add for any number of metrics reading samples: the layer-1
// checks of addSingle, then each metric in turn.
func (a *Accumulator) addMany(samples []logs.Sample) {
	start, span := a.g.StartMS, uint64(a.g.EndMS-a.g.StartMS)
	zoneRegion := a.zoneRegion
	slotDiv := a.slotDiv
	bitmaps := a.bitmaps
	subLen := uint64(a.g.SubIntervalMS)
	subStart, sub := ^uint64(0)>>1, 0 // no sub-interval yet
	var accepted int64
	ms := a.metrics
	for i := range samples {
		s := &samples[i]
		off := uint64(s.TimeMS - start) // wraps above span when before start
		zone := s.Zone
		if s.Kind == logs.KindEvent || off >= span || zone >= uint32(len(zoneRegion)) || s.Region != zoneRegion[zone] {
			a.addOther(s)
			continue
		}
		slot := slotDiv.div(off)
		pi := slot >> bitPageShift
		var pg *bitPage
		if p := int(s.Probe); p < len(bitmaps) {
			if dir := bitmaps[p]; pi < uint64(len(dir)) {
				pg = dir[pi]
			}
		}
		if pg == nil {
			if pg = a.newPage(s.Probe, pi); pg == nil {
				continue
			}
			bitmaps = a.bitmaps
		}
		w, bit := (slot>>6)&(bitPageWords-1), uint64(1)<<(slot&63)
		if pg[w]&bit != 0 {
			a.counts.Duplicate++
			continue
		}
		pg[w] |= bit
		accepted++
		if off-subStart >= subLen {
			sub = int(a.subDiv.div(off))
			subStart = uint64(sub) * subLen
		}
		for j := range ms {
			ma := &ms[j]
			if ma.eventsOnly {
				continue
			}
			v := ma.pres[s.Present]
			if v <= verdictFailed {
				v = ma.compare(s, v)
			}
			if v > verdictFailed {
				ma.reject(v)
				continue
			}
			ma.counts.Valid++
			ma.counts.Failed += int64(v)
			if ma.kind == kindAvailability {
				c := ma.avail.cell(sub, int(zone))
				c.valid++
				c.failed += uint64(v)
			} else {
				ma.addValid(s, int(zone), sub, v == verdictFailed)
			}
		}
	}
	a.counts.Read += int64(len(samples))
	a.counts.Accepted += accepted
}

// addSingle is Add for plans with one metric that reads measurement
// samples (ma; any others read events only) whose only comparison is one
// rules.failure condition, and periods shorter than 2^32 ms: the common
// case, and the benchmark's (see fastPath). Its loop keeps few values live
// so that they stay in registers: rare outcomes (events, rejections) go to
// helpers that count them in memory, the failure condition is one
// unsigned comparison, the slot division one multiplication, and the
// availability cells are updated inline (other drivers in addValid). It
// must count exactly as addMany does (TestDifferential checks both against
// a reference implementation).
func (a *Accumulator) addSingle(samples []logs.Sample, ma *metricAcc, fc modRange) {
	start, span := a.g.StartMS, uint64(a.g.EndMS-a.g.StartMS)
	zoneRegion := a.zoneRegion
	slotMul := a.slotDiv.m
	bitmaps := a.bitmaps
	subLen := uint64(a.g.SubIntervalMS)
	// sub-interval of the last sample; cells is the availability page
	// holding it and subBase its offset there (sub - page start) * zones.
	subStart, sub, subBase := ^uint64(0)>>1, 0, 0 // no sub-interval yet
	var failed int64
	c0, mc := a.counts, &ma.counts
	rejected0 := mc.RejectedRule + mc.MissingMeasurement
	pres := ma.pres
	avail := ma.avail
	var cells []availCell
	for i := range samples {
		s := &samples[i]
		off := uint64(s.TimeMS - start) // wraps above span when before start
		zone := s.Zone
		if s.Kind == logs.KindEvent || off >= span || zone >= uint32(len(zoneRegion)) || s.Region != zoneRegion[zone] {
			a.addOther(s)
			continue
		}
		slot, _ := bits.Mul64(slotMul, off) // off / sampling period: off < 2^32
		pi := slot >> bitPageShift
		var pg *bitPage
		if p := int(s.Probe); p < len(bitmaps) {
			if dir := bitmaps[p]; pi < uint64(len(dir)) {
				pg = dir[pi]
			}
		}
		if pg == nil {
			if pg = a.newPage(s.Probe, pi); pg == nil {
				continue
			}
			bitmaps = a.bitmaps
		}
		w, bit := (slot>>6)&(bitPageWords-1), uint64(1)<<(slot&63)
		if pg[w]&bit != 0 {
			a.counts.Duplicate++
			continue
		}
		pg[w] |= bit
		if off-subStart >= subLen {
			sub = int(a.subDiv.div(off))
			subStart = uint64(sub) * subLen
			if avail != nil {
				cells, subBase = avail.page(sub)
			}
		}
		v := pres[s.Present]
		if v == verdictValid && uint64(s.Values[fc.idx&(logs.MaxMeasurements-1)]-fc.lo) <= fc.width {
			v = verdictFailed
		}
		if v > verdictFailed {
			ma.reject(v)
			continue
		}
		failed += int64(v)
		if cells != nil {
			c := &cells[subBase+int(zone)]
			c.valid++
			c.failed += uint64(v)
		} else {
			ma.addValid(s, int(zone), sub, v == verdictFailed)
		}
	}
	c := &a.counts
	c.Read += int64(len(samples))
	rejected := c.Events - c0.Events + c.OutsidePeriod - c0.OutsidePeriod + c.UnknownZone - c0.UnknownZone +
		c.ZoneRegionMismatch - c0.ZoneRegionMismatch + c.Duplicate - c0.Duplicate + c.TooManyProbes - c0.TooManyProbes
	accepted := int64(len(samples)) - rejected
	c.Accepted += accepted
	mc.Valid += accepted - (mc.RejectedRule + mc.MissingMeasurement - rejected0)
	mc.Failed += failed
}

// modRange is a comparison condition as one test on the wrapping
// difference: it holds when uint64(Values[idx] - lo) <= width. Every range
// and the complement of every range can be written so, except the full and
// the empty range.
type modRange struct {
	lo    int64
	width uint64
	idx   int
}

// modular returns the condition as a modRange, false for the full and the
// empty range.
func (c *rangeCond) modular() (modRange, bool) {
	if c.lo > c.hi || c.lo == math.MinInt64 && c.hi == math.MaxInt64 {
		return modRange{}, false
	}
	if !c.neg {
		return modRange{lo: c.lo, width: uint64(c.hi) - uint64(c.lo), idx: c.idx}, true
	}
	// The complement of [lo, hi] is [hi+1, lo-1], wrapping.
	return modRange{lo: c.hi + 1, width: uint64(c.lo-1) - uint64(c.hi+1), idx: c.idx}, true
}

// addOther counts a sample that is an event or fails one of the first
// layer-1 checks (outside the period, unknown zone, zone/region mismatch).
//
//go:noinline
func (a *Accumulator) addOther(s *logs.Sample) {
	c := &a.counts
	switch {
	case s.Kind == logs.KindEvent:
		c.Events++
		for j := range a.metrics {
			a.metrics[j].st.AddEvent(s)
		}
		if a.sup != nil {
			a.sup.add(a.plan.support, a.in, s)
		}
	case s.TimeMS < a.g.StartMS || s.TimeMS >= a.g.EndMS:
		c.OutsidePeriod++
	case s.Zone >= uint32(len(a.zoneRegion)):
		c.UnknownZone++
	default:
		c.ZoneRegionMismatch++
	}
}

// reject counts an accepted sample the metric rejects (verdict v).
//
//go:noinline
func (ma *metricAcc) reject(v uint8) {
	if v == verdictRule {
		ma.counts.RejectedRule++
	} else {
		ma.counts.MissingMeasurement++
	}
}

// addValid adds a valid sample to a metric state of another kind than
// availability.
//
//go:noinline
func (ma *metricAcc) addValid(s *logs.Sample, zone, sub int, failed bool) {
	switch ma.kind {
	case kindErrorRate:
		ma.errs.valid++
		if failed {
			ma.errs.failed++
		}
	case kindLatency:
		ma.lat.add(s.Values[ma.lat.c.idx&(logs.MaxMeasurements-1)])
	case kindThroughput:
		ma.thr.add(s.Values[ma.thr.c.idx&(logs.MaxMeasurements-1)])
	default:
		ma.st.AddSample(s, zone, sub, failed)
	}
}

// compare applies the comparisons of the metric's rules to a sample whose
// presence verdict v is verdictValid or verdictFailed.
func (ma *metricAcc) compare(s *logs.Sample, v uint8) uint8 {
	for k := range ma.validR {
		if !ma.validR[k].holds(s) {
			return verdictRule
		}
	}
	if v == verdictFailed {
		return v
	}
	for k := range ma.failR {
		if ma.failR[k].holds(s) {
			return verdictFailed
		}
	}
	return verdictValid
}

const (
	verdictValid uint8 = iota
	verdictFailed
	verdictRule
	verdictMissing
)

// AddFrom decodes JSON Lines from r with NewDecoder and adds every record;
// it stops at the first malformed line and returns its *logs.LineError.
func (a *Accumulator) AddFrom(r io.Reader) error {
	d, err := a.NewDecoder(r)
	if err != nil {
		return err
	}
	buf := make([]logs.Sample, 1024)
	for {
		n, err := d.Decode(buf)
		a.Add(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Evaluate computes the outcome of period from a JSON Lines log, streaming:
// memory does not grow with the number of lines. Samples outside the period
// are counted as rejected; a malformed line is an error naming its line.
// Incident events are taken from the whole log (see the mean-time drivers).
func Evaluate(plan *Plan, period Period, r io.Reader) (*Outcome, error) {
	a, err := plan.NewAccumulator(period)
	if err != nil {
		return nil, err
	}
	if err := a.AddFrom(r); err != nil {
		return nil, err
	}
	return a.Outcome()
}

// accumulatorMagic starts the binary form; the byte after it is the format
// version.
const accumulatorMagic = "SLASA-ACC"

// AccumulatorFormat is the version of the binary form written by
// MarshalBinary. Version 2 encodes only the touched pages of the duplicate
// bitmaps and of the availability counters; version 1 (dense, whole
// period) is refused.
const AccumulatorFormat = 2

// MarshalBinary encodes the aggregate (never raw samples): format version,
// the plan's fingerprint, the period, the intern tables, the counts, the
// per-probe duplicate bitmaps (their non-zero pages, by increasing page
// index) and each metric's state. The bytes are a deterministic function of
// the set of samples added (for the same order of first appearance of
// probes and incidents), and their length grows with the part of the period
// the samples cover.
func (a *Accumulator) MarshalBinary() ([]byte, error) {
	if err := a.checkPaging(true); err != nil {
		return nil, err
	}
	// Size the buffer once: the metric states, the bitmap pages (as raw
	// pages unless restored as full ones) and the intern tables.
	states := make([][]byte, len(a.metrics))
	size := 256
	for i, ma := range a.metrics {
		st, err := ma.st.MarshalBinary()
		if err != nil {
			return nil, err
		}
		states[i] = st
		size += len(st) + 64
	}
	for _, dir := range a.bitmaps {
		size += 4
		for _, pg := range dir {
			if pg == fullPage {
				size += 4
			} else if pg != nil {
				size += bitPageWords*8 + 4
			}
		}
	}
	for _, t := range a.tables() {
		for _, n := range t.Names() {
			size += len(n) + 4
		}
	}
	e := enc{b: make([]byte, 0, size)}
	e.b = append(e.b, accumulatorMagic...)
	e.b = append(e.b, AccumulatorFormat)
	e.b = append(e.b, a.plan.fingerprint[:]...)
	e.i(a.g.StartMS)
	e.i(a.g.EndMS)
	a.marshalTablesAndCounts(&e)
	e.u(uint64(len(a.bitmaps)))
	for _, dir := range a.bitmaps {
		// Per probe: the number of non-zero pages (0: no bitmap), then
		// for each 2 * the gap from the previous index, plus 1 for a
		// full page (every bit set), and the words of other pages.
		n := 0
		for _, pg := range dir {
			if pg != nil && *pg != (bitPage{}) {
				n++
			}
		}
		e.u(uint64(n))
		next := 0
		for pi, pg := range dir {
			if pg == nil || *pg == (bitPage{}) {
				continue
			}
			gap := uint64(pi - next)
			next = pi + 1
			if *pg == *fullPage {
				e.u(gap<<1 | 1)
				continue
			}
			e.u(gap << 1)
			for _, w := range pg {
				e.b = binary.LittleEndian.AppendUint64(e.b, w)
			}
		}
	}
	e.u(uint64(len(a.metrics)))
	for i, ma := range a.metrics {
		mc := ma.counts
		for _, v := range []int64{mc.Valid, mc.Failed, mc.RejectedRule, mc.MissingMeasurement} {
			e.i(v)
		}
		e.bytes(states[i])
	}
	if a.sup != nil {
		a.sup.marshal(&e)
	}
	return e.b, nil
}

// UnmarshalBinary restores an aggregate written by MarshalBinary into an
// Accumulator created by NewAccumulator of the same plan and period; it
// fails (leaving a unchanged) on another SLA, period, format version, or
// corrupt data. It replaces the intern tables: decoders made before by
// NewDecoder must not be used afterwards; make new ones.
func (a *Accumulator) UnmarshalBinary(b []byte) error {
	if len(b) < len(accumulatorMagic)+1+32 || string(b[:len(accumulatorMagic)]) != accumulatorMagic {
		return fmt.Errorf("accumulator: not an accumulator state")
	}
	b = b[len(accumulatorMagic):]
	if b[0] != AccumulatorFormat {
		if b[0] == 1 {
			return fmt.Errorf("accumulator: format version 1 (dense bitmaps and counters) is no longer read; this code reads version %d", AccumulatorFormat)
		}
		return fmt.Errorf("accumulator: format version %d, this code reads %d", b[0], AccumulatorFormat)
	}
	if string(b[1:33]) != string(a.plan.fingerprint[:]) {
		return fmt.Errorf("accumulator: state belongs to another SLA")
	}
	d := dec{b: b[33:]}
	if s, e := d.i(), d.i(); d.err == nil && (s != a.g.StartMS || e != a.g.EndMS) {
		return fmt.Errorf("accumulator: state of another period")
	}
	in, c, err := a.unmarshalTablesAndCounts(&d)
	if err != nil {
		return fmt.Errorf("accumulator: %w", err)
	}
	bitmaps, nProbes, err := a.unmarshalBitmaps(&d, in.Probes.Len())
	if err != nil {
		return fmt.Errorf("accumulator: %w", err)
	}
	if n := d.count(len(a.metrics)); d.err == nil && n != len(a.metrics) {
		return fmt.Errorf("accumulator: %d metric states, want %d", n, len(a.metrics))
	}
	metrics := make([]metricAcc, len(a.metrics))
	for i, ma := range a.metrics {
		mc := &metrics[i].counts
		for _, p := range []*int64{&mc.Valid, &mc.Failed, &mc.RejectedRule, &mc.MissingMeasurement} {
			*p = d.i()
		}
		st := ma.mp.calc.NewState(a.g)
		raw := d.bytes()
		if d.err != nil {
			break
		}
		if err := st.UnmarshalBinary(raw); err != nil {
			return fmt.Errorf("accumulator: metric %s: %w", ma.mp.m.ID, err)
		}
		counts := metrics[i].counts
		metrics[i] = newMetricAcc(ma.mp, st)
		metrics[i].counts = counts
	}
	var sup *supportState
	if a.sup != nil && d.err == nil {
		if sup, err = unmarshalSupport(&d, in.Incidents.Len(), len(a.plan.support.sevs)); err != nil {
			return fmt.Errorf("accumulator: %w", err)
		}
	}
	if err := d.done(); err != nil {
		return fmt.Errorf("accumulator: %w", err)
	}
	a.in, a.counts, a.bitmaps, a.nProbes, a.metrics, a.pg, a.sup = in, c, bitmaps, nProbes, metrics, nil, sup
	return nil
}

// tables returns the intern tables in their encoding order.
func (a *Accumulator) tables() []*logs.Table {
	return []*logs.Table{&a.in.Probes, &a.in.Zones, &a.in.Regions, &a.in.Incidents}
}

// unmarshalTablesAndCounts reads what marshalTablesAndCounts wrote: new
// intern tables, checked against the SLA's zones, and the sample counts.
func (a *Accumulator) unmarshalTablesAndCounts(d *dec) (*logs.Interner, SampleCounts, error) {
	var c SampleCounts
	in := logs.NewInterner()
	for _, t := range []*logs.Table{&in.Probes, &in.Zones, &in.Regions, &in.Incidents} {
		n := d.count(logs.MaxTableEntries)
		for i := 0; i < n && d.err == nil; i++ {
			if _, ok := t.InternString(d.s()); !ok || t.Len() != i+1 {
				return nil, c, fmt.Errorf("bad intern table: corrupt data")
			}
		}
	}
	if d.err != nil {
		return nil, c, d.err
	}
	for i, z := range a.plan.sla.Monitoring.Zones {
		if in.Zones.Name(uint32(i)) != z.ID || in.Regions.Name(a.zoneRegion[i]) != z.Region {
			return nil, c, fmt.Errorf("zone table does not match the SLA: corrupt data")
		}
	}
	for _, p := range []*int64{&c.Read, &c.Events, &c.Accepted, &c.OutsidePeriod, &c.UnknownZone, &c.ZoneRegionMismatch, &c.Duplicate, &c.TooManyProbes} {
		*p = d.i()
	}
	return in, c, d.err
}

// unmarshalBitmaps reads the paged duplicate bitmaps of at most maxProbes
// probes. Page counts and indices are bounded by the period geometry, a
// page is allocated only once its bytes are known to be present and full
// pages share fullPage, so hostile input cannot make it allocate more than
// the directories of the probes it names (dirLen pointers each, as Add
// would) plus its own length. Only the canonical form MarshalBinary writes
// is accepted: no all-zero page, no full page written out, no bit beyond
// the period's last slot.
func (a *Accumulator) unmarshalBitmaps(d *dec, maxProbes int) ([][]*bitPage, int, error) {
	nb := d.count(maxProbes)
	if d.err != nil {
		return nil, 0, d.err
	}
	bitmaps := make([][]*bitPage, nb)
	nProbes := 0
	const pageBytes = bitPageWords * 8
	for i := range bitmaps {
		n := d.count(a.dirLen)
		if d.err != nil {
			return nil, 0, d.err
		}
		if n == 0 {
			continue
		}
		if nProbes++; nProbes > MaxProbes {
			return nil, 0, fmt.Errorf("more than %d probes with bitmaps: corrupt data", MaxProbes)
		}
		if len(d.b) < n {
			return nil, 0, errTruncated
		}
		dir := make([]*bitPage, a.dirLen)
		next := uint64(0)
		for range n {
			v := d.u()
			if d.err != nil {
				return nil, 0, d.err
			}
			gap := v >> 1
			if gap >= uint64(a.dirLen)-next {
				return nil, 0, fmt.Errorf("probe %d: bitmap page index beyond the period: corrupt data", i)
			}
			pi := next + gap
			next = pi + 1
			pg := fullPage
			if v&1 == 0 {
				if len(d.b) < pageBytes {
					return nil, 0, errTruncated
				}
				pg = new(bitPage)
				for k := range pg {
					pg[k] = binary.LittleEndian.Uint64(d.b[8*k:])
				}
				d.b = d.b[pageBytes:]
				if *pg == (bitPage{}) || *pg == *fullPage {
					return nil, 0, fmt.Errorf("probe %d: bitmap page %d empty or full, not written in short form: corrupt data", i, pi)
				}
			}
			if pi == uint64(a.dirLen-1) {
				if used := a.slots - pi*bitPageSlots; used < bitPageSlots {
					w, r := used/64, used%64
					if r != 0 {
						if pg[w]>>r != 0 {
							return nil, 0, fmt.Errorf("probe %d: bitmap bit beyond the period's last slot: corrupt data", i)
						}
						w++
					}
					for _, x := range pg[w:] {
						if x != 0 {
							return nil, 0, fmt.Errorf("probe %d: bitmap bit beyond the period's last slot: corrupt data", i)
						}
					}
				}
			}
			dir[pi] = pg
		}
		bitmaps[i] = dir
	}
	return bitmaps, nProbes, nil
}
