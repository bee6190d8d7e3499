package driver

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// This file keeps a straightforward reference implementation of
// Accumulator.Add (maps instead of bitmaps, the rules read from the SLA
// document instead of the compiled tables, every metric through the State
// interface) and checks the optimised paths against it on random inputs.

// record is a log record by name, interned into a Sample per accumulator.
type record struct {
	timeMS              int64
	probe, zone, region string
	event               logs.EventType // 0 for a measurement record
	incident            string
	present             uint8
	values              [logs.MaxMeasurements]int64
}

func (r *record) sample(in *logs.Interner) logs.Sample {
	s := logs.Sample{TimeMS: r.timeMS, Values: r.values, Present: r.present, Kind: logs.KindMeasurement}
	s.Probe, _ = in.Probes.InternString(r.probe)
	s.Zone, _ = in.Zones.InternString(r.zone)
	s.Region, _ = in.Regions.InternString(r.region)
	if r.event != 0 {
		s.Kind, s.Event, s.Present, s.Values = logs.KindEvent, r.event, 0, [logs.MaxMeasurements]int64{}
		s.Incident, _ = in.Incidents.InternString(r.incident)
	}
	return s
}

func samplesOf(recs []record, in *logs.Interner) []logs.Sample {
	out := make([]logs.Sample, len(recs))
	for i := range recs {
		out[i] = recs[i].sample(in)
	}
	return out
}

// refCompare is a condition of the SLA evaluated on a measurement value.
func refCompare(v int64, op string, c int64) bool {
	switch op {
	case sla.CondEQ:
		return v == c
	case sla.CondNE:
		return v != c
	case sla.CondLT:
		return v < c
	case sla.CondLE:
		return v <= c
	case sla.CondGT:
		return v > c
	case sla.CondGE:
		return v >= c
	}
	panic("bad op " + op)
}

// refVerdict applies a metric's rules to an accepted sample, in the
// documented order, reading the SLA's conditions directly.
func refVerdict(p *Plan, mp *metricPlan, s *logs.Sample) uint8 {
	idx := func(name string) int {
		for i, n := range p.measurements {
			if n == name {
				return i
			}
		}
		panic("no measurement " + name)
	}
	has := func(name string) bool { return s.Present&(1<<uint(idx(name))) != 0 }
	isPresence := func(op string) bool { return op == sla.CondPresent || op == sla.CondAbsent }
	r := mp.m.Rules
	for _, c := range r.Valid {
		if c.Op == sla.CondPresent && !has(c.Measurement) || c.Op == sla.CondAbsent && has(c.Measurement) {
			return verdictRule
		}
	}
	for _, c := range append(append([]sla.Condition(nil), r.Valid...), r.Failure...) {
		if !isPresence(c.Op) && !has(c.Measurement) {
			return verdictMissing
		}
	}
	for _, i := range mp.calc.Requires() {
		if s.Present&(1<<uint(i)) == 0 {
			return verdictMissing
		}
	}
	for _, c := range r.Valid {
		if !isPresence(c.Op) && !refCompare(s.Values[idx(c.Measurement)], c.Op, c.Value) {
			return verdictRule
		}
	}
	for _, c := range r.Failure {
		switch c.Op {
		case sla.CondPresent:
			if has(c.Measurement) {
				return verdictFailed
			}
		case sla.CondAbsent:
			if !has(c.Measurement) {
				return verdictFailed
			}
		default:
			if refCompare(s.Values[idx(c.Measurement)], c.Op, c.Value) {
				return verdictFailed
			}
		}
	}
	return verdictValid
}

// referenceOutcome evaluates records (in order) the straightforward way.
func referenceOutcome(t *testing.T, p *Plan, period Period, recs []record) []byte {
	t.Helper()
	ref, err := p.NewAccumulator(period)
	if err != nil {
		t.Fatal(err)
	}
	in := ref.Interner()
	iv := p.sla.Interval
	start, end := period.Start.UnixMilli(), period.End.UnixMilli()
	seen := map[uint32]map[int64]bool{}
	var c SampleCounts
	for i := range recs {
		s := recs[i].sample(in)
		c.Read++
		if s.Kind == logs.KindEvent {
			c.Events++
			for j := range ref.metrics {
				ref.metrics[j].st.AddEvent(&s)
			}
			continue
		}
		if s.TimeMS < start || s.TimeMS >= end {
			c.OutsidePeriod++
			continue
		}
		if int(s.Zone) >= len(p.sla.Monitoring.Zones) {
			c.UnknownZone++
			continue
		}
		if in.Regions.Name(s.Region) != p.sla.Monitoring.Zones[s.Zone].Region {
			c.ZoneRegionMismatch++
			continue
		}
		slots, ok := seen[s.Probe]
		if !ok {
			if len(seen) >= MaxProbes {
				c.TooManyProbes++
				continue
			}
			slots = map[int64]bool{}
			seen[s.Probe] = slots
		}
		slot := (s.TimeMS - start) / iv.SamplingPeriodMS
		if slots[slot] {
			c.Duplicate++
			continue
		}
		slots[slot] = true
		c.Accepted++
		sub := int((s.TimeMS - start) / (iv.SubIntervalSeconds * 1000))
		for j := range ref.metrics {
			ma := &ref.metrics[j]
			if ma.mp.eventsOnly {
				continue
			}
			switch refVerdict(p, ma.mp, &s) {
			case verdictRule:
				ma.counts.RejectedRule++
			case verdictMissing:
				ma.counts.MissingMeasurement++
			case verdictFailed:
				ma.counts.Valid++
				ma.counts.Failed++
				ma.st.AddSample(&s, int(s.Zone), sub, true)
			default:
				ma.counts.Valid++
				ma.st.AddSample(&s, int(s.Zone), sub, false)
			}
		}
	}
	ref.counts = c
	o, err := ref.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	j, err := o.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// randomMetric returns metric kind k (0 availability, 1 error-rate, 2
// latency, 3 throughput, 4 respond, 5 resolve) with random rules.
func randomMetric(r *rand.Rand, k int) sla.Metric {
	pick := func(cs ...[]sla.Condition) []sla.Condition { return cs[r.IntN(len(cs))] }
	ok0 := sla.Condition{Measurement: "ok", Op: "==", Value: 0}
	switch k {
	case 0:
		return sla.Metric{ID: "availability", Name: "uptime", Unit: "percent", Driver: sla.DriverRef{ID: "availability", Version: "1"},
			Objective: sla.Objective{Operator: ">=", Target: "99.5"},
			Rules: sla.Rules{
				Valid: pick(nil, []sla.Condition{{Measurement: "ok", Op: "present"}},
					[]sla.Condition{{Measurement: "ok", Op: "present"}, {Measurement: "latency_ms", Op: ">=", Value: 0}},
					[]sla.Condition{{Measurement: "status", Op: "absent"}}),
				Failure: pick([]sla.Condition{ok0}, []sla.Condition{ok0}, []sla.Condition{ok0, {Measurement: "status", Op: ">=", Value: 500}},
					[]sla.Condition{{Measurement: "latency_ms", Op: ">", Value: 1000}}, []sla.Condition{{Measurement: "ok", Op: "absent"}},
					[]sla.Condition{{Measurement: "ok", Op: "!=", Value: 1}}, []sla.Condition{{Measurement: "status", Op: "present"}, ok0},
					[]sla.Condition{{Measurement: "status", Op: "<", Value: math.MinInt64}}), // never holds
				ZoneDownBPS: []int64{1, 5000, 10000}[r.IntN(3)], MinZonesDown: 1 + r.Int64N(3), MinSamples: r.Int64N(4),
				MissingData: []string{sla.MissingDown, sla.MissingUp, sla.MissingExcluded}[r.IntN(3)],
			}}
	case 1:
		return sla.Metric{ID: "errors", Name: "errors", Unit: "percent", Driver: sla.DriverRef{ID: "error-rate", Version: "1"},
			Objective: sla.Objective{Operator: "<=", Target: "1"},
			Rules: sla.Rules{Valid: pick(nil, []sla.Condition{{Measurement: "status", Op: "present"}}),
				Failure: pick([]sla.Condition{{Measurement: "status", Op: ">=", Value: 500}}, []sla.Condition{ok0},
					[]sla.Condition{{Measurement: "status", Op: ">", Value: math.MaxInt64}})}}
	case 2:
		return sla.Metric{ID: "lat", Name: "latency", Unit: []string{"ms", "s"}[r.IntN(2)], Driver: sla.DriverRef{ID: "latency-percentile", Version: "1"},
			Objective:  sla.Objective{Operator: "<=", Target: "300"},
			Parameters: sla.Parameters{Measurement: "latency_ms", Percentile: 1 + r.Int64N(100)},
			Rules: sla.Rules{Valid: pick(nil, []sla.Condition{{Measurement: "latency_ms", Op: ">=", Value: 0}}),
				Failure: pick(nil, []sla.Condition{{Measurement: "status", Op: ">=", Value: 500}})}}
	case 3:
		return sla.Metric{ID: "tput", Name: "throughput", Unit: "per_second", Driver: sla.DriverRef{ID: "throughput", Version: "1"},
			Objective:  sla.Objective{Operator: ">=", Target: "2"},
			Parameters: sla.Parameters{Measurement: "requests"},
			Rules: sla.Rules{Valid: pick(nil, []sla.Condition{{Measurement: "ok", Op: "==", Value: 1}}),
				Failure: pick(nil, []sla.Condition{{Measurement: "ok", Op: "==", Value: 0}})}}
	case 4:
		return sla.Metric{ID: "respond", Name: "MTTRespond", Unit: "min", Driver: sla.DriverRef{ID: "mean-time-to-respond", Version: "1"},
			Objective: sla.Objective{Operator: "<=", Target: "2"}}
	default:
		return sla.Metric{ID: "resolve", Name: "MTTResolve", Unit: "s", Driver: sla.DriverRef{ID: "mean-time-to-resolve", Version: "1"},
			Objective: sla.Objective{Operator: "<=", Target: "100"}}
	}
}

// randomCase returns an SLA (10-minute periods) and records around its
// second period: out of order, with duplicates (exact and conflicting),
// foreign zones and regions, events, measurements present or not.
func randomCase(r *rand.Rand, kinds []int) (*sla.SLA, []record) {
	s := randomSLA(r, kinds, sla.CycleSeconds, 600, []int64{60, 60, 120, 600})
	start := int64(1767225600000) + 600_000 // 2026-01-01T00:10:00Z, the second period
	recs := randomRecords(r, 50+r.IntN(700), func() int64 {
		switch r.IntN(20) {
		case 0:
			return start - 1 - r.Int64N(600_000)
		case 1:
			return start + 600_000 + r.Int64N(600_000)
		case 2:
			return start + []int64{0, 599_999, 600_000, -1}[r.IntN(4)]
		default:
			return start + r.Int64N(600_000)
		}
	})
	r.Shuffle(len(recs), func(i, j int) {
		if r.IntN(4) == 0 { // mostly in time order, partly shuffled
			recs[i], recs[j] = recs[j], recs[i]
		}
	})
	return s, recs
}

// randomMonthCase returns an SLA with calendar-month periods and records
// of its period 2026-01 in a few bursts (a second to an hour long) spread
// across the month, plus some outside it and on its bounds: batches then
// touch few pages of the bitmaps and counters, far apart.
func randomMonthCase(r *rand.Rand, kinds []int) (*sla.SLA, []record) {
	s := randomSLA(r, kinds, sla.CycleCalendarMonth, 0, []int64{60, 60, 120, 600, 3600})
	start, span := int64(1767225600000), int64(31*86400_000) // 2026-01
	centers := make([]int64, 1+r.IntN(6))
	for i := range centers {
		centers[i] = start + r.Int64N(span)
	}
	width := []int64{1000, 60_000, 3_600_000}[r.IntN(3)]
	recs := randomRecords(r, 50+r.IntN(1500), func() int64 {
		switch r.IntN(30) {
		case 0:
			return start - 1 - r.Int64N(span)
		case 1:
			return start + span + r.Int64N(span)
		case 2:
			return start + []int64{0, span - 1, span, -1}[r.IntN(4)]
		default:
			return centers[r.IntN(len(centers))] + r.Int64N(width) - width/2
		}
	})
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].timeMS < recs[j].timeMS })
	r.Shuffle(len(recs), func(i, j int) {
		if r.IntN(16) == 0 { // in time order (sparse batches), a little shuffled
			recs[i], recs[j] = recs[j], recs[i]
		}
	})
	return s, recs
}

// randomSLA returns testSLA with the given billing cycle, a random
// sampling period and sub-interval (one of subs) and the metrics kinds.
func randomSLA(r *rand.Rand, kinds []int, unit string, seconds int64, subs []int64) *sla.SLA {
	s := testSLA(unit, seconds)
	s.Monitoring.Zones[2].Region = "region-2"
	s.Interval.SamplingPeriodMS = []int64{250, 1000, 1000, 1500, 7000, 60000}[r.IntN(6)]
	s.Interval.SubIntervalSeconds = subs[r.IntN(len(subs))]
	s.Metrics = nil
	s.Consequences = sla.Consequences{MaxCreditBPS: 10000}
	for _, k := range kinds {
		s.Metrics = append(s.Metrics, randomMetric(r, k))
		if k == 0 {
			s.Consequences.CreditTiers = []sla.CreditTier{{Metric: "availability", WorseThan: "99.5", CreditBPS: 1000}, {Metric: "availability", WorseThan: "90", CreditBPS: 5000}}
		}
	}
	return s
}

// randomRecords returns n records of randomSLA's zones and measurements,
// with duplicates (exact and conflicting), foreign zones and regions,
// events and measurements present or not; at gives the times.
func randomRecords(r *rand.Rand, n int, at func() int64) []record {
	zones := []string{"zone-a", "zone-b", "zone-c", "zone-x"}
	regions := map[string]string{"zone-a": "region-1", "zone-b": "region-1", "zone-c": "region-2", "zone-x": "region-1"}
	var recs []record
	for len(recs) < n {
		if len(recs) > 0 && r.IntN(8) == 0 { // a duplicate, maybe conflicting
			d := recs[r.IntN(len(recs))]
			if r.IntN(2) == 0 {
				d.values[0] ^= 1
			}
			recs = append(recs, d)
			continue
		}
		var rec record
		rec.timeMS = at()
		if r.IntN(10) == 0 {
			rec.event = logs.EventType(1 + r.IntN(3))
			rec.incident = fmt.Sprintf("INC-%d", r.IntN(6))
			rec.probe, rec.zone, rec.region = "noc", "zone-a", "region-1"
			recs = append(recs, rec)
			continue
		}
		z := r.IntN(3)
		if r.IntN(25) == 0 {
			z = 3
		}
		rec.zone = zones[z]
		rec.region = regions[rec.zone]
		if r.IntN(25) == 0 {
			rec.region = "region-9"
		}
		rec.probe = fmt.Sprintf("p%d", z*2+r.IntN(2))
		// measurements: ok, latency_ms, status, requests in the order the
		// plan names them is unknown here, so fill by name below.
		rec.present = uint8(r.IntN(256))
		if r.IntN(3) > 0 {
			rec.present = 0xff
		}
		for i := range rec.values {
			switch r.IntN(6) {
			case 0:
				rec.values[i] = r.Int64N(2)
			case 1:
				rec.values[i] = []int64{200, 503, 500, 499}[r.IntN(4)]
			case 2:
				rec.values[i] = r.Int64N(6000) - 5
			case 3:
				rec.values[i] = []int64{-1 << 63, 1<<63 - 1, 1 << 40}[r.IntN(3)]
			default:
				rec.values[i] = r.Int64N(2) // ok-like values dominate
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// optimisedOutcome adds recs in random batches, sometimes persisting the
// accumulator between batches, and returns the outcome JSON and state.
func optimisedOutcome(t *testing.T, r *rand.Rand, p *Plan, period Period, recs []record) ([]byte, []byte) {
	t.Helper()
	return optimisedOutcomeEvery(t, r, p, period, recs, 3)
}

// optimisedOutcomeEvery is optimisedOutcome persisting after one batch in
// every (on average).
func optimisedOutcomeEvery(t *testing.T, r *rand.Rand, p *Plan, period Period, recs []record, every int) ([]byte, []byte) {
	t.Helper()
	acc, err := p.NewAccumulator(period)
	if err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 {
		n := min(len(recs), 1+r.IntN(300))
		acc.Add(samplesOf(recs[:n], acc.Interner()))
		recs = recs[n:]
		if r.IntN(every) == 0 {
			state, err := acc.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if acc, err = p.NewAccumulator(period); err != nil {
				t.Fatal(err)
			}
			if err := acc.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
		}
	}
	o, err := acc.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	j, err := o.JSON()
	if err != nil {
		t.Fatal(err)
	}
	state, err := acc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return j, state
}

// TestDifferential: the optimised Add (the single-metric and the
// several-metric loops) gives the same outcome as referenceOutcome on
// random SLAs and logs, whatever the batching and persistence, and the
// persisted state does not depend on the batching.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(19086, 2))
	const cases = 400
	fast := map[uint8]int{} // cases on addSingle, by metric kind
	for i := range cases {
		var kinds []int
		switch {
		case i%3 == 0: // one metric reading samples (addSingle), maybe with events-only metrics
			kinds = []int{i / 3 % 4}
			if r.IntN(2) == 0 {
				kinds = append(kinds, 4+r.IntN(2))
			}
		default: // a random non-empty subset
			for k := range 6 {
				if r.IntN(2) == 0 {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) == 0 {
				kinds = []int{r.IntN(6)}
			}
		}
		s, recs := randomCase(r, kinds)
		p, err := Compile(s)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		period, err := ParsePeriod(s, "2026-01-01T00:10:00Z")
		if err != nil {
			t.Fatal(err)
		}
		if acc, _ := p.NewAccumulator(period); acc.single >= 0 {
			if _, ok := acc.fastPath(&acc.metrics[acc.single]); ok {
				fast[acc.metrics[acc.single].kind]++
			}
		}
		want := referenceOutcome(t, p, period, recs)
		got, state := optimisedOutcome(t, r, p, period, recs)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (kinds %v, sampling %d ms):\noptimised %s\nreference %s", i, kinds, s.Interval.SamplingPeriodMS, got, want)
		}
		_, state2 := optimisedOutcome(t, r, p, period, recs)
		if !bytes.Equal(state, state2) {
			t.Fatalf("case %d: the state depends on the batching", i)
		}
	}
	for _, k := range []uint8{kindAvailability, kindErrorRate, kindLatency, kindThroughput} {
		if fast[k] == 0 {
			t.Errorf("no case of metric kind %d took the single-metric path", k)
		}
	}
}

// TestDifferentialMonth: as TestDifferential on calendar-month periods
// with sparse batches spread across the month (the paged bitmaps and
// counters), persisting the accumulator after nearly every batch; also
// checks the availability result, whose untouched pages are counted in
// closed form, against a dense walk over every sub-interval, and that the
// state stays small (it grows with the pages touched, not the period).
func TestDifferentialMonth(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 12))
	cases := 150
	if testing.Short() {
		cases = 30
	}
	for i := range cases {
		kinds := []int{i % 4}
		if i%2 == 1 {
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
		s, recs := randomMonthCase(r, kinds)
		p := mustPlan(t, s)
		period := mustPeriod(t, s, "2026-01")
		want := referenceOutcome(t, p, period, recs)
		got, state := optimisedOutcomeEvery(t, r, p, period, recs, 1+r.IntN(2))
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (kinds %v, sampling %d ms, sub %d s):\noptimised %s\nreference %s", i, kinds, s.Interval.SamplingPeriodMS, s.Interval.SubIntervalSeconds, got, want)
		}
		_, state2 := optimisedOutcomeEvery(t, r, p, period, recs, 2)
		if !bytes.Equal(state, state2) {
			t.Fatalf("case %d: the state depends on the batching", i)
		}
		acc, _ := p.NewAccumulator(period)
		if err := acc.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		// Sampling slots and sub-intervals touched bound the state: one
		// bitmap page per probe and slot, one counter page per
		// sub-interval (as varints, 2 bytes per counter at most here).
		const bound = 1 << 16
		if len(recs) < 400 && len(state) > bound {
			t.Errorf("case %d: %d records give a state of %d bytes", i, len(recs), len(state))
		}
		for _, ma := range acc.metrics {
			if ma.avail == nil {
				continue
			}
			v, d := ma.avail.Result()
			dv, dd := denseAvailability(ma.avail)
			if fmt.Sprint(d) != fmt.Sprint(dd) || (v == nil) != (dv == nil) || v != nil && v.Cmp(dv) != 0 {
				t.Fatalf("case %d: paged availability %v %v, dense %v %v", i, v, d, dv, dd)
			}
		}
	}
}

// denseAvailability is availabilityState.Result walking every sub-interval
// of the period (the pre-paging algorithm).
func denseAvailability(s *availabilityState) (*big.Rat, Details) {
	var down, excluded, zoneDown, unobserved int64
	for sub := 0; sub < s.g.SubIntervals; sub++ {
		var dz, unknown int64
		for z := range s.g.Zones {
			var c availCell
			cells := s.pages[sub/availPageSubs]
			if p := sub / availPageSubs; cells == nil && s.rawPage(p) != nil {
				cells = s.decoded(p, make([]availCell, s.pageSubs(p)*s.g.Zones))
			}
			if cells != nil {
				c = cells[(sub%availPageSubs)*s.g.Zones+z]
			}
			if c.valid < uint64(s.c.minSamples) {
				unobserved++
				switch s.c.missing {
				case sla.MissingDown:
					dz++
				case sla.MissingExcluded:
					unknown++
				}
				continue
			}
			if c.failed*10000 >= c.valid*uint64(s.c.bps) {
				dz++
				zoneDown++
			}
		}
		switch {
		case dz >= s.c.minDown:
			down++
		case dz+unknown >= s.c.minDown:
			excluded++
		}
	}
	counted := int64(s.g.SubIntervals) - excluded
	d := Details{{"sub_intervals", int64(s.g.SubIntervals)}, {"counted", counted}, {"down", down}, {"excluded", excluded},
		{"zone_down", zoneDown}, {"zone_unobserved", unobserved}}
	if counted == 0 {
		return nil, d
	}
	return big.NewRat(100*(counted-down), counted), d
}

// TestDifferentialTooManyProbes: beyond MaxProbes distinct probes, samples
// are counted as too_many_probes by both implementations alike.
func TestDifferentialTooManyProbes(t *testing.T) {
	for _, kinds := range [][]int{{0}, {0, 1}} {
		r := rand.New(rand.NewPCG(7, uint64(len(kinds))))
		s, _ := randomCase(r, kinds)
		p := mustPlan(t, s)
		period := mustPeriod(t, s, "2026-01-01T00:10:00Z")
		start := period.Start.UnixMilli()
		var recs []record
		for i := range MaxProbes + 40 {
			for k := range 2 {
				recs = append(recs, record{timeMS: start + int64(i*k*37%600_000), probe: fmt.Sprintf("p%d", i), zone: "zone-a", region: "region-1",
					present: 0xff, values: [logs.MaxMeasurements]int64{int64(i % 2), 1, 1, 1}})
			}
		}
		want := referenceOutcome(t, p, period, recs)
		got, _ := optimisedOutcome(t, r, p, period, recs)
		if !bytes.Equal(got, want) {
			t.Fatalf("kinds %v:\noptimised %s\nreference %s", kinds, got, want)
		}
		if !bytes.Contains(got, []byte(`"too_many_probes":80`)) {
			t.Errorf("expected 80 samples beyond MaxProbes: %s", got)
		}
	}
}
