package driver

import (
	"encoding/binary"
	"fmt"
	"io"
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
// accepts; each costs one bit per sampling slot of the period.
const MaxProbes = 1024

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

type metricAcc struct {
	mp     *metricPlan
	st     State
	avail  *availabilityState // st when it is one, to avoid an interface call
	counts MetricSamples
	// Copies of the plan's sampling rules, next to the counters.
	presMask, absMask, requires, failPres, failAbs uint8
	eventsOnly                                     bool
	validR, failR                                  []rangeCond
}

func newMetricAcc(mp *metricPlan, st State) metricAcc {
	ma := metricAcc{mp: mp, st: st, presMask: mp.presMask, absMask: mp.absMask, requires: mp.requires,
		failPres: mp.failPres, failAbs: mp.failAbs, eventsOnly: mp.eventsOnly, validR: mp.validR, failR: mp.failR}
	ma.avail, _ = st.(*availabilityState)
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
// bounded by the period geometry (a duplicate bitmap of one bit per
// sampling slot per probe, counters per sub-interval and zone), the number
// of probes and incidents, and distinct latency values; never by the number
// of samples. It is not safe for concurrent use.
type Accumulator struct {
	plan       *Plan
	g          Geometry
	in         *logs.Interner
	zoneRegion []uint32 // region id of zone i (zone ids 0..n-1 are the SLA zones)
	nZones     uint32
	slotDiv    divider    // sampling period, ms
	subDiv     divider    // sub-interval, ms
	words      int        // bitmap words per probe
	bitmaps    [][]uint64 // by probe id, nil for probes without samples
	nProbes    int        // non-nil bitmaps
	counts     SampleCounts
	metrics    []metricAcc
	refs       []acceptedRef // scratch of Add
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
	slots := (g.EndMS - g.StartMS + iv.SamplingPeriodMS - 1) / iv.SamplingPeriodMS
	a := &Accumulator{plan: p, g: g, in: logs.NewInterner(), nZones: uint32(g.Zones),
		slotDiv: newDivider(iv.SamplingPeriodMS), subDiv: newDivider(g.SubIntervalMS), words: int((slots + 63) / 64)}
	for _, z := range p.sla.Monitoring.Zones {
		a.in.Zones.InternString(z.ID)
		r, _ := a.in.Regions.InternString(z.Region)
		a.zoneRegion = append(a.zoneRegion, r)
	}
	for _, mp := range p.metrics {
		a.metrics = append(a.metrics, newMetricAcc(mp, mp.calc.NewState(g)))
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

// bitmap returns the duplicate bitmap of probe, allocating it; nil when
// MaxProbes probes already have one.
func (a *Accumulator) bitmap(probe uint32) []uint64 {
	if int(probe) < len(a.bitmaps) && a.bitmaps[probe] != nil {
		return a.bitmaps[probe]
	}
	if a.nProbes >= MaxProbes {
		return nil
	}
	for int(probe) >= len(a.bitmaps) {
		a.bitmaps = append(a.bitmaps, nil)
	}
	bm := make([]uint64, a.words)
	a.bitmaps[probe] = bm
	a.nProbes++
	return bm
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
	// Layer 1 runs over a chunk and records the accepted samples; then each
	// metric runs over the accepted samples of the chunk in a tight loop.
	const chunk = 256
	if cap(a.refs) < chunk {
		a.refs = make([]acceptedRef, 0, chunk)
	}
	for len(samples) > 0 {
		n := min(len(samples), chunk)
		refs := a.sample(samples[:n], a.refs[:0])
		for j := range a.metrics {
			if ma := &a.metrics[j]; !ma.eventsOnly {
				ma.add(samples[:n], refs, a.g.Zones)
			}
		}
		samples = samples[n:]
	}
}

// acceptedRef is a sample that passed layer 1: its index in the chunk,
// zone and sub-interval.
type acceptedRef struct {
	i, zone uint32
	sub     int
}

// sample runs the layer-1 checks over samples (at most 2^32), counts the
// rejections and events, and appends the accepted samples to refs.
func (a *Accumulator) sample(samples []logs.Sample, refs []acceptedRef) []acceptedRef {
	start, end := a.g.StartMS, a.g.EndMS
	nZones, zoneRegion := a.nZones, a.zoneRegion
	slotDiv, subDiv := a.slotDiv, a.subDiv
	c := a.counts // counters live in a local during the loop
	var lastProbe uint32 = ^uint32(0)
	var bm []uint64
	bitmaps := a.bitmaps
	subLen := uint64(a.g.SubIntervalMS)
	sub, subStart := 0, ^uint64(0)>>1 // no sub-interval yet
	for i := range samples {
		s := &samples[i]
		c.Read++
		if s.Kind == logs.KindEvent {
			c.Events++
			for j := range a.metrics {
				a.metrics[j].st.AddEvent(s)
			}
			continue
		}
		if s.TimeMS < start || s.TimeMS >= end {
			c.OutsidePeriod++
			continue
		}
		if s.Zone >= nZones {
			c.UnknownZone++
			continue
		}
		if s.Region != zoneRegion[s.Zone] {
			c.ZoneRegionMismatch++
			continue
		}
		off := uint64(s.TimeMS - start)
		slot := slotDiv.div(off)
		if s.Probe != lastProbe {
			if int(s.Probe) < len(bitmaps) && bitmaps[s.Probe] != nil {
				bm = bitmaps[s.Probe]
			} else if bm = a.bitmap(s.Probe); bm == nil {
				c.TooManyProbes++
				lastProbe = ^uint32(0)
				continue
			} else {
				bitmaps = a.bitmaps
			}
			lastProbe = s.Probe
		}
		w, bit := slot>>6, uint64(1)<<(slot&63)
		if bm[w]&bit != 0 {
			c.Duplicate++
			continue
		}
		bm[w] |= bit
		c.Accepted++
		// Samples come mostly in time order: reuse the last sub-interval.
		if off-subStart >= subLen {
			sub = int(subDiv.div(off))
			subStart = uint64(sub) * subLen
		}
		refs = append(refs, acceptedRef{i: uint32(i), zone: s.Zone, sub: sub})
	}
	a.counts = c
	return refs
}

// classify applies the metric's sampling rules to an accepted sample.
func (ma *metricAcc) classify(s *logs.Sample) (verdict uint8) {
	p := s.Present
	if p&ma.presMask != ma.presMask || p&ma.absMask != 0 {
		return verdictRule
	}
	if p&ma.requires != ma.requires {
		return verdictMissing
	}
	for k := range ma.validR {
		if !ma.validR[k].holds(s) {
			return verdictRule
		}
	}
	if p&ma.failPres != 0 || ^p&ma.failAbs != 0 {
		return verdictFailed
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

// add counts the accepted samples refs of a chunk for one metric.
func (ma *metricAcc) add(samples []logs.Sample, refs []acceptedRef, zones int) {
	var n [4]int64 // by verdict
	if av := ma.avail; av != nil {
		// Availability without an interface call per sample.
		valid, failed := av.valid, av.failed
		for _, r := range refs {
			v := ma.classify(&samples[r.i])
			n[v]++
			if v <= verdictFailed {
				k := r.sub*zones + int(r.zone)
				valid[k]++
				if v == verdictFailed {
					failed[k]++
				}
			}
		}
	} else {
		for _, r := range refs {
			s := &samples[r.i]
			v := ma.classify(s)
			n[v]++
			if v <= verdictFailed {
				ma.st.AddSample(s, int(r.zone), r.sub, v == verdictFailed)
			}
		}
	}
	ma.counts.Valid += n[verdictValid] + n[verdictFailed]
	ma.counts.Failed += n[verdictFailed]
	ma.counts.RejectedRule += n[verdictRule]
	ma.counts.MissingMeasurement += n[verdictMissing]
}

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
// MarshalBinary.
const AccumulatorFormat = 1

// MarshalBinary encodes the aggregate (never raw samples): format version,
// the plan's fingerprint, the period, the intern tables, the counts, the
// per-probe duplicate bitmaps and each metric's state. The bytes are a
// deterministic function of the set of samples added (for the same order of
// first appearance of probes and incidents).
func (a *Accumulator) MarshalBinary() ([]byte, error) {
	e := enc{b: make([]byte, 0, 64+len(a.bitmaps)*a.words*8)}
	e.b = append(e.b, accumulatorMagic...)
	e.b = append(e.b, AccumulatorFormat)
	e.b = append(e.b, a.plan.fingerprint[:]...)
	e.i(a.g.StartMS)
	e.i(a.g.EndMS)
	for _, t := range []*logs.Table{&a.in.Probes, &a.in.Zones, &a.in.Regions, &a.in.Incidents} {
		e.u(uint64(t.Len()))
		for _, n := range t.Names() {
			e.s(n)
		}
	}
	c := a.counts
	for _, v := range []int64{c.Read, c.Events, c.Accepted, c.OutsidePeriod, c.UnknownZone, c.ZoneRegionMismatch, c.Duplicate, c.TooManyProbes} {
		e.i(v)
	}
	e.u(uint64(len(a.bitmaps)))
	for _, bm := range a.bitmaps {
		if bm == nil {
			e.u(0)
			continue
		}
		e.u(1)
		for _, w := range bm {
			e.b = binary.LittleEndian.AppendUint64(e.b, w)
		}
	}
	e.u(uint64(len(a.metrics)))
	for _, ma := range a.metrics {
		mc := ma.counts
		for _, v := range []int64{mc.Valid, mc.Failed, mc.RejectedRule, mc.MissingMeasurement} {
			e.i(v)
		}
		st, err := ma.st.MarshalBinary()
		if err != nil {
			return nil, err
		}
		e.bytes(st)
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
		return fmt.Errorf("accumulator: format version %d, this code reads %d", b[0], AccumulatorFormat)
	}
	if string(b[1:33]) != string(a.plan.fingerprint[:]) {
		return fmt.Errorf("accumulator: state belongs to another SLA")
	}
	d := dec{b: b[33:]}
	if s, e := d.i(), d.i(); d.err == nil && (s != a.g.StartMS || e != a.g.EndMS) {
		return fmt.Errorf("accumulator: state of another period")
	}
	in := logs.NewInterner()
	for _, t := range []*logs.Table{&in.Probes, &in.Zones, &in.Regions, &in.Incidents} {
		n := d.count(logs.MaxTableEntries)
		for i := 0; i < n && d.err == nil; i++ {
			if _, ok := t.InternString(d.s()); !ok || t.Len() != i+1 {
				return fmt.Errorf("accumulator: bad intern table: corrupt data")
			}
		}
	}
	if d.err != nil {
		return fmt.Errorf("accumulator: %w", d.err)
	}
	for i, z := range a.plan.sla.Monitoring.Zones {
		if in.Zones.Name(uint32(i)) != z.ID || in.Regions.Name(a.zoneRegion[i]) != z.Region {
			return fmt.Errorf("accumulator: zone table does not match the SLA: corrupt data")
		}
	}
	var c SampleCounts
	for _, p := range []*int64{&c.Read, &c.Events, &c.Accepted, &c.OutsidePeriod, &c.UnknownZone, &c.ZoneRegionMismatch, &c.Duplicate, &c.TooManyProbes} {
		*p = d.i()
	}
	nb := d.count(in.Probes.Len())
	bitmaps := make([][]uint64, nb)
	nProbes := 0
	for i := 0; i < nb && d.err == nil; i++ {
		switch d.u() {
		case 0:
		case 1:
			if len(d.b) < a.words*8 {
				return fmt.Errorf("accumulator: %w", errTruncated)
			}
			bm := make([]uint64, a.words)
			for k := range bm {
				bm[k] = binary.LittleEndian.Uint64(d.b[8*k:])
			}
			d.b = d.b[a.words*8:]
			bitmaps[i] = bm
			if nProbes++; nProbes > MaxProbes {
				return fmt.Errorf("accumulator: more than %d probes: corrupt data", MaxProbes)
			}
		default:
			return fmt.Errorf("accumulator: bad bitmap flag: corrupt data")
		}
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
	if err := d.done(); err != nil {
		return fmt.Errorf("accumulator: %w", err)
	}
	a.in, a.counts, a.bitmaps, a.nProbes, a.metrics = in, c, bitmaps, nProbes, metrics
	return nil
}
