// Package driver holds the algorithmic drivers of slasa: the deterministic
// code that turns decoded log samples into metric values, objectives met or
// missed, service credits and penalties for one billing period of a
// Parametric SLA.
//
// The computation is layered:
//
//  1. Sampling: each sample is accepted or rejected with a counted reason
//     (outside the period, unknown zone, zone/region mismatch, duplicate in
//     its probe's sampling slot; then per metric: a rules.valid condition
//     failing, a missing measurement).
//  2. Computation interval: accepted samples are assigned to the period's
//     sub-intervals per zone; missing data follows rules.missing_data.
//  3. Metric calculation by a versioned driver from the registry
//     (availability, error-rate, latency-percentile, mean-time-to-respond,
//     mean-time-to-resolve, throughput), exact (integers and big.Rat).
//
// Then values are compared with their objectives and mapped to credits.
//
// Compile turns an SLA into a Plan; a Plan's Accumulator aggregates one
// period, batch by batch in any order, and can be persisted between batches
// with MarshalBinary (the whole aggregate) or page by page with
// MarshalPaged (a header and the pages a batch changed; see paged.go).
// Evaluate does it all from a JSON Lines reader.
package driver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// MaxSlotsPerPeriod bounds period length / sampling period, the size of the
// per-probe duplicate bitmap (16 MiB per probe at the limit).
const MaxSlotsPerPeriod = 1 << 27

// Plan is a compiled SLA: every metric bound to its driver, every condition
// bound to a measurement index. It is immutable and safe for concurrent use.
type Plan struct {
	sla          *sla.SLA
	vstart, vend time.Time
	measurements []string
	metrics      []*metricPlan
	// support is the compiled support section, nil without one.
	support     *supportPlan
	fingerprint [32]byte
}

const (
	opEQ uint8 = iota + 1
	opNE
	opLT
	opLE
	opGT
	opGE
	opPresent
	opAbsent
)

var condOps = map[string]uint8{sla.CondEQ: opEQ, sla.CondNE: opNE, sla.CondLT: opLT, sla.CondLE: opLE,
	sla.CondGT: opGT, sla.CondGE: opGE, sla.CondPresent: opPresent, sla.CondAbsent: opAbsent}

// rangeCond is a comparison condition rewritten as a range test: it holds
// when (lo <= v && v <= hi) != neg for the value v of measurement idx.
type rangeCond struct {
	idx    int
	lo, hi int64
	neg    bool
}

func (c *rangeCond) holds(s *logs.Sample) bool {
	v := s.Values[c.idx]
	return (v >= c.lo && v <= c.hi) != c.neg
}

// toRange rewrites a comparison as a range; one that can never hold
// (v < MinInt64, v > MaxInt64) becomes an empty range.
func toRange(idx int, op uint8, c int64) rangeCond {
	r := rangeCond{idx: idx, lo: math.MinInt64, hi: math.MaxInt64}
	switch op {
	case opEQ:
		r.lo, r.hi = c, c
	case opNE:
		r.lo, r.hi, r.neg = c, c, true
	case opLT:
		if c == math.MinInt64 {
			r.lo, r.hi = 1, 0 // empty
		} else {
			r.hi = c - 1
		}
	case opLE:
		r.hi = c
	case opGT:
		if c == math.MaxInt64 {
			r.lo, r.hi = 1, 0
		} else {
			r.lo = c + 1
		}
	case opGE:
		r.lo = c
	}
	return r
}

type tier struct {
	worse *big.Rat
	bps   int64
}

type metricPlan struct {
	m    *sla.Metric
	drv  Driver
	calc Calculator
	// presMask and absMask: measurements rules.valid wants present and
	// absent. requires: measurements compared by any rule or read by the
	// driver. validR and failR: the comparisons of rules.valid (all must
	// hold) and rules.failure (any one makes the sample failed).
	// failPres and failAbs: a valid sample carrying a measurement of
	// failPres, or lacking one of failAbs, is failed.
	presMask, absMask, requires, failPres, failAbs uint8
	eventsOnly                                     bool       // the driver reads only incident events
	pres                                           [256]uint8 // presence verdict by Present bits (presTable)
	validR, failR                                  []rangeCond
	op                                             string
	target                                         *big.Rat
	tiers                                          []tier
	penalty                                        int64
	term                                           *big.Rat // termination threshold, nil when none
}

// presTable tabulates the rules that depend only on which measurements a
// sample carries, by its Present bits, in the order Add applies them: a
// present/absent condition of rules.valid failing (verdictRule), then a
// required measurement missing (verdictMissing); otherwise verdictFailed
// when a present/absent condition of rules.failure holds, else
// verdictValid (both still subject to the comparisons).
func presTable(presMask, absMask, requires, failPres, failAbs uint8) (t [256]uint8) {
	for i := range t {
		p := uint8(i)
		switch {
		case p&presMask != presMask || p&absMask != 0:
			t[i] = verdictRule
		case p&requires != requires:
			t[i] = verdictMissing
		case p&failPres != 0 || ^p&failAbs != 0:
			t[i] = verdictFailed
		default:
			t[i] = verdictValid
		}
	}
	return t
}

// SLA returns the compiled SLA (do not modify it).
func (p *Plan) SLA() *sla.SLA { return p.sla }

// Measurements returns the measurement names the plan reads, in index
// order; pass them to logs.Options.Measurements.
func (p *Plan) Measurements() []string { return append([]string(nil), p.measurements...) }

// Fingerprint is the SHA-256 of the SLA's encoding/json form; accumulator
// states carry it so that they are never merged into another SLA's plan.
func (p *Plan) Fingerprint() [32]byte { return p.fingerprint }

// maxPeriodSeconds is the longest period of the SLA's billing cycle.
func maxPeriodSeconds(s *sla.SLA) int64 {
	switch s.Interval.BillingCycle.Unit {
	case sla.CycleCalendarMonth:
		return 31 * 86400
	case sla.CycleDay:
		return 86400
	case sla.CycleHour:
		return 3600
	case sla.CycleSeconds:
		return s.Interval.BillingCycle.Seconds
	}
	return 0
}

// Compile checks what the drivers rely on and binds every metric to its
// registered driver. Problems (unknown driver id or version, missing or
// invalid parameters, a unit the driver cannot produce, bad interval or
// consequences) are returned together in a *sla.ValidationError whose paths
// are JSON paths such as "metrics[1].driver.version". Compile does not
// repeat the schema checks of sla.Parse; it re-checks only what evaluation
// depends on, so a hand-built SLA cannot make it panic.
func Compile(s *sla.SLA) (*Plan, error) {
	if s == nil {
		return nil, &sla.ValidationError{Problems: []sla.Problem{{Path: sla.RootPath, Reason: "SLA is nil"}}}
	}
	var problems []sla.Problem
	add := func(path, format string, args ...any) {
		problems = append(problems, sla.Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	p := &Plan{sla: s}
	var err error
	if p.vstart, err = sla.ParseInstant(s.Validity.Start); err != nil {
		add("validity.start", "%v", err)
	}
	if p.vend, err = sla.ParseInstant(s.Validity.End); err != nil {
		add("validity.end", "%v", err)
	}
	if !p.vstart.Before(p.vend) {
		add("validity.end", "must be after validity.start")
	}
	iv := s.Interval
	var cycle int64 // seconds every period length is a multiple of
	switch iv.BillingCycle.Unit {
	case sla.CycleCalendarMonth, sla.CycleDay:
		cycle = 86400
	case sla.CycleHour:
		cycle = 3600
	case sla.CycleSeconds:
		cycle = iv.BillingCycle.Seconds
		if cycle <= 0 || cycle > 100*366*86400 {
			add("interval.billing_cycle.seconds", "must be 1..%d for unit seconds", 100*366*86400)
			cycle = 0
		}
	default:
		add("interval.billing_cycle.unit", "%q is not one of calendar_month, day, hour, seconds", iv.BillingCycle.Unit)
	}
	if iv.TimeZone != "UTC" {
		add("interval.time_zone", "must be UTC")
	}
	if iv.SubIntervalSeconds <= 0 || cycle > 0 && cycle%iv.SubIntervalSeconds != 0 {
		add("interval.sub_interval_seconds", "%d must be positive and divide every period (%d s)", iv.SubIntervalSeconds, cycle)
	}
	if iv.SamplingPeriodMS <= 0 {
		add("interval.sampling_period_ms", "must be positive")
	} else if cycle > 0 && maxPeriodSeconds(s)*1000/iv.SamplingPeriodMS > MaxSlotsPerPeriod {
		add("interval.sampling_period_ms", "%d ms gives more than %d sampling slots per period", iv.SamplingPeriodMS, MaxSlotsPerPeriod)
	}
	if len(s.Monitoring.Zones) == 0 {
		add("monitoring.zones", "at least one zone is needed")
	}
	zoneSeen := map[string]bool{}
	for i, z := range s.Monitoring.Zones {
		if z.ID == "" || z.Region == "" {
			add(fmt.Sprintf("monitoring.zones[%d]", i), "zone id and region must not be empty")
		}
		if zoneSeen[z.ID] {
			add(fmt.Sprintf("monitoring.zones[%d].id", i), "duplicate zone id %q", z.ID)
		}
		zoneSeen[z.ID] = true
	}
	if s.Price.AmountMinor < 0 {
		add("price.amount_minor", "must not be negative")
	}
	if len(s.Metrics) == 0 {
		add("metrics", "at least one metric is needed")
	}
	metricIdx := map[string]int{}
	for i := range s.Metrics {
		m := &s.Metrics[i]
		path := fmt.Sprintf("metrics[%d]", i)
		if _, dup := metricIdx[m.ID]; dup || m.ID == "" {
			add(path+".id", "metric id %q is empty or not unique", m.ID)
		}
		metricIdx[m.ID] = i
		mp := &metricPlan{m: m}
		p.metrics = append(p.metrics, mp)
		ctx := &CompileContext{SLA: s, Path: path, problems: &problems, names: &p.measurements}
		d, ok := Lookup(m.Driver.ID, m.Driver.Version)
		if !ok {
			if vs := versionsOf(m.Driver.ID); len(vs) > 0 {
				ctx.Problem("driver.version", "driver %s has no version %q (registered: %v)", m.Driver.ID, m.Driver.Version, vs)
			} else {
				ctx.Problem("driver.id", "unknown driver %q (registered: %v)", m.Driver.ID, Registered())
			}
		} else {
			mp.drv = d
			mp.calc = d.Compile(m, ctx)
			if mp.calc != nil {
				if eo, ok := mp.calc.(EventsOnly); ok {
					mp.eventsOnly = eo.EventsOnly()
				}
				for _, r := range mp.calc.Requires() {
					if r >= 0 {
						mp.requires |= 1 << uint(r)
					}
				}
			}
		}
		compileConds := func(field string, cs []sla.Condition) []rangeCond {
			var out []rangeCond
			for j, c := range cs {
				f := fmt.Sprintf("%s[%d]", field, j)
				op, ok := condOps[c.Op]
				if !ok {
					ctx.Problem(f+".op", "%q is not a condition operator", c.Op)
					continue
				}
				idx := ctx.Measurement(f+".measurement", c.Measurement)
				if idx < 0 {
					continue
				}
				bit := uint8(1) << uint(idx)
				switch {
				case op == opPresent && field == "rules.valid":
					mp.presMask |= bit
				case op == opAbsent && field == "rules.valid":
					mp.absMask |= bit
				case op == opPresent:
					mp.failPres |= bit
				case op == opAbsent:
					mp.failAbs |= bit
				default:
					mp.requires |= bit
					out = append(out, toRange(idx, op, c.Value))
				}
			}
			return out
		}
		mp.validR = compileConds("rules.valid", m.Rules.Valid)
		mp.failR = compileConds("rules.failure", m.Rules.Failure)
		mp.pres = presTable(mp.presMask, mp.absMask, mp.requires, mp.failPres, mp.failAbs)
		mp.op = m.Objective.Operator
		switch mp.op {
		case sla.OpGE, sla.OpGT, sla.OpLE, sla.OpLT:
		default:
			ctx.Problem("objective.operator", "%q is not one of >=, >, <=, <", mp.op)
		}
		if mp.target, err = sla.ParseDecimal(m.Objective.Target); err != nil {
			ctx.Problem("objective.target", "%v", err)
		}
	}
	cons := s.Consequences
	if cons.MaxCreditBPS < 0 || cons.MaxCreditBPS > 10000 {
		add("consequences.max_credit_bps", "must be 0..10000")
	}
	for i, t := range cons.CreditTiers {
		path := fmt.Sprintf("consequences.credit_tiers[%d]", i)
		mi, ok := metricIdx[t.Metric]
		if !ok {
			add(path+".metric", "no metric with id %q", t.Metric)
			continue
		}
		w, err := sla.ParseDecimal(t.WorseThan)
		if err != nil {
			add(path+".worse_than", "%v", err)
			continue
		}
		if t.CreditBPS < 0 || t.CreditBPS > 10000 {
			add(path+".credit_bps", "must be 0..10000")
			continue
		}
		p.metrics[mi].tiers = append(p.metrics[mi].tiers, tier{w, t.CreditBPS})
	}
	for i, pen := range cons.Penalties {
		path := fmt.Sprintf("consequences.penalties[%d]", i)
		mi, ok := metricIdx[pen.Metric]
		switch {
		case !ok:
			add(path+".metric", "no metric with id %q", pen.Metric)
		case pen.AmountMinor < 0 || pen.AmountMinor > 1<<53:
			add(path+".amount_minor", "must be 0..2^53")
		default:
			p.metrics[mi].penalty += pen.AmountMinor
		}
	}
	if t := cons.Termination; t != nil {
		mi, ok := metricIdx[t.Metric]
		if !ok {
			add("consequences.termination.metric", "no metric with id %q", t.Metric)
		} else if w, err := sla.ParseDecimal(t.WorseThan); err != nil {
			add("consequences.termination.worse_than", "%v", err)
		} else {
			p.metrics[mi].term = w
		}
	}
	if s.Support != nil {
		p.support = compileSupport(s.Support, add)
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
		return nil, &sla.ValidationError{Problems: problems}
	}
	data, err := json.Marshal(s)
	if err != nil {
		return nil, &sla.ValidationError{Problems: []sla.Problem{{Path: sla.RootPath, Reason: "cannot encode SLA: " + err.Error()}}}
	}
	p.fingerprint = sha256.Sum256(data)
	return p, nil
}
