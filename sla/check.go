package sla

import (
	"fmt"
	"github.com/slasa/slasa/internal/identity"
	"math/big"
	"regexp"
	"sort"
	"time"
)

// check runs the semantic checks that a JSON Schema cannot express. It is
// robust against values the schema rejects (it skips what it cannot
// interpret) so that it can run on any decoded document.
func check(s *SLA) []Problem {
	var c checker
	c.parties(s)
	c.window(s)
	c.interval(s)
	c.zones(s)
	c.metrics(s)
	c.consequences(s)
	c.support(s)
	return c.problems
}

type checker struct {
	problems []Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{path, fmt.Sprintf(format, args...)})
}

func (c *checker) parties(s *SLA) {
	p, cl := s.Parties.Provider, s.Parties.Client
	for _, party := range []struct {
		role string
		p    Party
	}{{"provider", p}, {"client", cl}, {"logger", s.Parties.Logger}} {
		if party.p.Subject == "" || party.p.CommonName == "" {
			continue // the schema reports it
		}
		if cn := identity.CommonName(party.p.Subject); cn != party.p.CommonName {
			c.add("parties."+party.role+".common_name", "must be the common name (CN) of parties.%s.subject, %q", party.role, cn)
		}
	}
	if p.MSPID != "" && p.MSPID == cl.MSPID {
		c.add("parties.client.msp_id", "must differ from the provider's MSP ID %q: provider and client are different organizations", p.MSPID)
	}
	if p.Wallet != "" && p.Wallet == cl.Wallet {
		c.add("parties.client.wallet", "must differ from the provider's wallet %q", p.Wallet)
	}
	if w := s.Consequences.CollateralWallet; w != "" {
		if w == p.Wallet {
			c.add("consequences.collateral_wallet", "must differ from the provider's wallet %q", w)
		}
		if w == cl.Wallet {
			c.add("consequences.collateral_wallet", "must differ from the client's wallet %q", w)
		}
	}
}

// window checks the validity window against the billing cycle.
func (c *checker) window(s *SLA) {
	start, errStart := parseInstant(s.Validity.Start)
	if errStart != nil {
		c.add("validity.start", "%v", errStart)
	}
	end, errEnd := parseInstant(s.Validity.End)
	if errEnd != nil {
		c.add("validity.end", "%v", errEnd)
	}
	if errStart != nil || errEnd != nil {
		return
	}
	if !start.Before(end) {
		c.add("validity.end", "must be after validity.start (%s)", s.Validity.Start)
		return
	}
	var aligned func(time.Time) bool
	var what string
	switch s.Interval.BillingCycle.Unit {
	case CycleCalendarMonth:
		aligned = func(t time.Time) bool { return t.Day() == 1 && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
		what = "the first day of a month at 00:00:00Z"
	case CycleDay:
		aligned = func(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
		what = "a day boundary (00:00:00Z)"
	case CycleHour:
		aligned = func(t time.Time) bool { return t.Minute() == 0 && t.Second() == 0 }
		what = "a whole hour (hh:00:00Z)"
	case CycleSeconds:
		n := s.Interval.BillingCycle.Seconds
		if n <= 0 {
			return
		}
		if d := int64(end.Sub(start) / time.Second); d%n != 0 {
			c.add("validity.end", "the window is %d s long, not a whole number of billing periods of %d s", d, n)
		}
		return
	default:
		return
	}
	unit := s.Interval.BillingCycle.Unit
	if !aligned(start) {
		c.add("validity.start", "must be %s to start a whole billing period (billing cycle %s)", what, unit)
	}
	if !aligned(end) {
		c.add("validity.end", "must be %s to end a whole billing period (billing cycle %s)", what, unit)
	}
}

func (c *checker) interval(s *SLA) {
	iv := s.Interval
	sub := iv.SubIntervalSeconds
	if sub <= 0 {
		return
	}
	var period int64
	var what string
	switch iv.BillingCycle.Unit {
	case CycleCalendarMonth:
		period, what = 86400, "86400 (calendar months are whole days)"
	case CycleDay:
		period, what = 86400, "86400 (one day)"
	case CycleHour:
		period, what = 3600, "3600 (one hour)"
	case CycleSeconds:
		if iv.BillingCycle.Seconds > 0 {
			period = iv.BillingCycle.Seconds
			what = fmt.Sprintf("%d (billing_cycle.seconds)", period)
		}
	}
	if period > 0 && period%sub != 0 {
		c.add("interval.sub_interval_seconds", "%d does not divide %s: every period must be a whole number of sub-intervals", sub, what)
	}
	if iv.SamplingPeriodMS > 0 && sub <= 1<<40 && iv.SamplingPeriodMS > sub*1000 {
		c.add("interval.sampling_period_ms", "%d ms is longer than the sub-interval (%d s): every sub-interval must be able to hold a sample", iv.SamplingPeriodMS, sub)
	}
}

func (c *checker) zones(s *SLA) {
	seen := map[string]int{}
	for i, z := range s.Monitoring.Zones {
		if j, dup := seen[z.ID]; dup {
			c.add(fmt.Sprintf("monitoring.zones[%d].id", i), "duplicate zone id %q (also monitoring.zones[%d].id)", z.ID, j)
			continue
		}
		seen[z.ID] = i
	}
}

func (c *checker) metrics(s *SLA) {
	seen := map[string]int{}
	for i, m := range s.Metrics {
		base := fmt.Sprintf("metrics[%d]", i)
		if j, dup := seen[m.ID]; dup {
			c.add(base+".id", "duplicate metric id %q (also metrics[%d].id)", m.ID, j)
		} else {
			seen[m.ID] = i
		}
		if m.Unit == "percent" {
			if v, err := ParseDecimal(m.Objective.Target); err == nil && v.Cmp(hundred) > 0 {
				c.add(base+".objective.target", "%s is more than 100 percent", m.Objective.Target)
			}
		}
		if n := m.Rules.MinZonesDown; n > 0 && n > int64(len(s.Monitoring.Zones)) {
			c.add(base+".rules.min_zones_down", "%d is more than the number of zones (%d)", n, len(s.Monitoring.Zones))
		}
		c.conditions(base+".rules.valid", m.Rules.Valid)
		c.conditions(base+".rules.failure", m.Rules.Failure)
	}
}

func (c *checker) conditions(base string, conds []Condition) {
	for j, cd := range conds {
		if (cd.Op == CondPresent || cd.Op == CondAbsent) && cd.Value != 0 {
			c.add(fmt.Sprintf("%s[%d].value", base, j), "must be left out with op %q, which ignores the value", cd.Op)
		}
	}
}

// tierRef is a credit tier of one metric with its parsed threshold.
type tierRef struct {
	index     int
	threshold *big.Rat
	credit    int64
}

func (c *checker) consequences(s *SLA) {
	cons := s.Consequences
	byMetric := map[string][]tierRef{}
	for i, t := range cons.CreditTiers {
		base := fmt.Sprintf("consequences.credit_tiers[%d]", i)
		m, ok := s.Metric(t.Metric)
		if !ok {
			c.add(base+".metric", "unknown metric %q", t.Metric)
			continue
		}
		w, ok := c.threshold(base+".worse_than", t.WorseThan, m)
		if !ok {
			continue
		}
		byMetric[t.Metric] = append(byMetric[t.Metric], tierRef{i, w, t.CreditBPS})
	}
	metricIDs := make([]string, 0, len(byMetric))
	for id := range byMetric {
		metricIDs = append(metricIDs, id)
	}
	sort.Strings(metricIDs)
	for _, id := range metricIDs {
		tiers := byMetric[id]
		m, _ := s.Metric(id)
		lowerIsWorse := m.Objective.Operator == OpGE || m.Objective.Operator == OpGT
		// Order from the best threshold to the worst.
		sort.SliceStable(tiers, func(a, b int) bool {
			cmp := tiers[a].threshold.Cmp(tiers[b].threshold)
			if lowerIsWorse {
				return cmp > 0
			}
			return cmp < 0
		})
		for k := 1; k < len(tiers); k++ {
			prev, cur := tiers[k-1], tiers[k]
			if prev.threshold.Cmp(cur.threshold) == 0 {
				first, second := prev.index, cur.index
				if first > second {
					first, second = second, first
				}
				c.add(fmt.Sprintf("consequences.credit_tiers[%d].worse_than", second), "metric %q already has a tier with this threshold (consequences.credit_tiers[%d])", id, first)
				continue
			}
			if cur.credit < prev.credit {
				c.add(fmt.Sprintf("consequences.credit_tiers[%d].credit_bps", cur.index), "grants %d bps at a worse threshold than consequences.credit_tiers[%d] (%d bps): credits must not decrease as the metric gets worse", cur.credit, prev.index, prev.credit)
			}
		}
	}

	seen := map[string]int{}
	for i, p := range cons.Penalties {
		path := fmt.Sprintf("consequences.penalties[%d].metric", i)
		if _, ok := s.Metric(p.Metric); !ok {
			c.add(path, "unknown metric %q", p.Metric)
			continue
		}
		if j, dup := seen[p.Metric]; dup {
			c.add(path, "metric %q already has a penalty (consequences.penalties[%d])", p.Metric, j)
			continue
		}
		seen[p.Metric] = i
	}

	if cons.CollateralMinor > 0 && cons.CollateralWallet == "" {
		c.add("consequences.collateral_minor", "needs consequences.collateral_wallet, the provider's wallet the collateral is locked from")
	}
	if cons.CollateralMinor > 0 && cons.EscrowExpiry == nil {
		c.add("consequences.collateral_minor", "needs consequences.escrow_expiry: the collateral is released once every period is settled, and a period whose verdict never comes would keep it locked for ever")
	}
	if x := cons.EscrowExpiry; x != nil {
		switch {
		case x.Outcome == ExpirySplit && x.ClientBPS == 0:
			c.add("consequences.escrow_expiry.client_bps", "must be 1..10000 with outcome %q (use %q for nothing to the client)", ExpirySplit, ExpiryReleaseProvider)
		case x.Outcome != ExpirySplit && x.ClientBPS != 0:
			c.add("consequences.escrow_expiry.client_bps", "is only for outcome %q, not %q", ExpirySplit, x.Outcome)
		}
	}
	if t := cons.Termination; t != nil {
		if m, ok := s.Metric(t.Metric); !ok {
			c.add("consequences.termination.metric", "unknown metric %q", t.Metric)
		} else {
			c.threshold("consequences.termination.worse_than", t.WorseThan, m)
		}
	}
}

// threshold parses a worse_than threshold of metric m and checks it
// against the objective; ok is false when it cannot be interpreted.
func (c *checker) threshold(path, value string, m *Metric) (*big.Rat, bool) {
	w, err := ParseDecimal(value)
	if err != nil {
		return nil, false // the schema reports the syntax
	}
	if m.Unit == "percent" && w.Cmp(hundred) > 0 {
		c.add(path, "%s is more than 100 percent", value)
	}
	target, err := ParseDecimal(m.Objective.Target)
	if err != nil {
		return w, true
	}
	switch m.Objective.Operator {
	case OpGE, OpGT:
		if w.Cmp(target) > 0 {
			c.add(path, "%s is above the objective target %s of metric %q (%s): a value can only be worse than it by missing the objective, so it must be at most the target", value, m.Objective.Target, m.ID, m.Objective.Operator)
		}
	case OpLE, OpLT:
		if w.Cmp(target) < 0 {
			c.add(path, "%s is below the objective target %s of metric %q (%s): a value can only be worse than it by missing the objective, so it must be at least the target", value, m.Objective.Target, m.ID, m.Objective.Operator)
		}
	}
	return w, true
}

var hundred = big.NewRat(100, 1)

var decimalPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// MaxDecimalLen is the longest exact decimal string the model accepts.
const MaxDecimalLen = 40

// ParseDecimal parses an exact non-negative decimal string of the model
// ("99.99", "20", "1.0": digits, optionally a point and more digits, at
// most MaxDecimalLen characters) into an exact rational number.
func ParseDecimal(s string) (*big.Rat, error) {
	if len(s) > MaxDecimalLen || !decimalPattern.MatchString(s) {
		return nil, fmt.Errorf("%q is not an exact decimal (digits, optionally '.' and digits, at most %d characters)", clip(s), MaxDecimalLen)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not an exact decimal", s)
	}
	return r, nil
}

var instantPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// ParseInstant parses a validity timestamp: RFC 3339 in UTC with whole
// seconds ("2026-01-01T00:00:00Z").
func ParseInstant(s string) (time.Time, error) { return parseInstant(s) }

func parseInstant(s string) (time.Time, error) {
	if !instantPattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 UTC timestamp in whole seconds like 2026-01-01T00:00:00Z", clip(s))
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	return t.UTC(), nil
}
