package driver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/sla"
)

// ValueDecimals is the number of decimal places of MetricOutcome.Value.
const ValueDecimals = 4

// Outcome is the result of one period: the metric values, objectives met,
// credits and penalties. Its JSON form is deterministic (no maps).
type Outcome struct {
	SLAID string `json:"sla_id"`
	// Period is the RFC 3339 start of the period; PeriodEnd its end.
	Period    string          `json:"period"`
	PeriodEnd string          `json:"period_end"`
	Metrics   []MetricOutcome `json:"metrics"`
	// Violated is true when some metric missed its objective, or (SLAs
	// with a support section) a support objective was missed or a ticket
	// target counted in the period was breached: a verdict that carries a
	// penalty is a violated one.
	Violated bool `json:"violated"`
	// CreditBPS = min(sum of the metrics' credit_bps, max_credit_bps).
	CreditBPS int64 `json:"credit_bps"`
	// CreditAmount = price.amount_minor * CreditBPS / 10000, rounded down
	// (in favour of the payer of the fee; exact integer arithmetic).
	CreditAmount int64 `json:"credit_amount"`
	// PenaltyAmount sums the penalties of the metrics that missed their
	// objective and those of the tickets' breached targets (Support).
	PenaltyAmount int64  `json:"penalty_amount"`
	Currency      string `json:"currency"`
	// Terminate is true when a metric is worse than the termination
	// threshold.
	Terminate bool         `json:"terminate"`
	Samples   SampleCounts `json:"samples"`
	// Support is the result of the SLA's support section (trouble
	// tickets): its objectives and the tickets' targets counted in the
	// period; nil when the SLA has none. Its penalty amount is part of
	// PenaltyAmount; a missed objective or a breached target makes the
	// period Violated.
	Support *SupportOutcome `json:"support,omitempty"`
}

// MetricOutcome is the result of one metric in one period.
type MetricOutcome struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Value is the value in Unit as a decimal string truncated (toward
	// zero) to ValueDecimals places, trailing zeros removed ("99.9861",
	// "100", "12.5"); "" when there is no data (see NoData).
	Value string `json:"value"`
	// Exact is the exact value as a reduced fraction "num/den" ("" when
	// there is no data); comparisons use it, never Value.
	Exact string `json:"exact"`
	// NoData is true when the metric has no value in the period (no
	// counted sub-interval, no valid sample, no incident): it is then met,
	// earns no credit, no penalty and no termination.
	NoData bool `json:"no_data"`
	// Objective is "OPERATOR TARGET", e.g. ">= 99.99".
	Objective string `json:"objective"`
	// Met is value OPERATOR target, exactly.
	Met bool `json:"met"`
	// CreditBPS is the credit of the tier with the highest credit_bps whose
	// worse_than threshold the value is worse than (0 when none).
	CreditBPS int64 `json:"credit_bps"`
	// PenaltyAmount is owed when the objective is missed.
	PenaltyAmount int64 `json:"penalty_amount"`
	// Terminate is true when the value is worse than the termination
	// threshold of this metric.
	Terminate bool `json:"terminate"`
	// Driver is "id@version".
	Driver  string        `json:"driver"`
	Samples MetricSamples `json:"samples"`
	// Details are driver-specific counts (sub-intervals down, rank...).
	Details Details `json:"details"`
	// Rat is the exact value (nil without data). It is not in the JSON
	// form; UnmarshalJSON restores it from Exact.
	Rat *big.Rat `json:"-"`
}

// UnmarshalJSON decodes a metric outcome written by Outcome.JSON and
// restores Rat from Exact, which must then be a reduced fraction "num/den"
// as Outcome writes it (so that encoding again gives the same bytes).
// Unknown fields are errors.
func (m *MetricOutcome) UnmarshalJSON(b []byte) error {
	type plain MetricOutcome // without this method
	var p plain
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return err
	}
	p.Rat = nil
	if p.Exact != "" {
		r, ok := new(big.Rat).SetString(p.Exact)
		if !ok || r.String() != p.Exact {
			return fmt.Errorf("metric %q: exact %q is not a reduced fraction num/den", p.ID, p.Exact)
		}
		p.Rat = r
	}
	*m = MetricOutcome(p)
	return nil
}

// ParseOutcome decodes an Outcome from its JSON form (Outcome.JSON, e.g.
// the enclave's detailed report), strictly: unknown fields, trailing data
// and malformed values are errors. Encoding the result with JSON gives the
// same bytes as the report, apart from insignificant whitespace and a
// missing final newline.
func ParseOutcome(b []byte) (*Outcome, error) {
	var o Outcome
	if err := strictjson.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("outcome: %v", err)
	}
	return &o, nil
}

// worse reports whether v is worse than threshold t for an objective with
// operator op: below for >= and >, above for <= and <.
func worse(op string, v, t *big.Rat) bool {
	switch op {
	case sla.OpGE, sla.OpGT:
		return v.Cmp(t) < 0
	default:
		return v.Cmp(t) > 0
	}
}

// meets reports v OP t.
func meets(op string, v, t *big.Rat) bool {
	c := v.Cmp(t)
	switch op {
	case sla.OpGE:
		return c >= 0
	case sla.OpGT:
		return c > 0
	case sla.OpLE:
		return c <= 0
	case sla.OpLT:
		return c < 0
	}
	return false
}

// FormatDecimal formats r truncated toward zero to places decimal places,
// without trailing zeros.
func FormatDecimal(r *big.Rat, places int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	n := new(big.Int).Mul(r.Num(), scale)
	n.Quo(n, r.Denom()) // truncates toward zero
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	for len(digits) <= places {
		digits = "0" + digits
	}
	ip, fp := digits[:len(digits)-places], digits[len(digits)-places:]
	for len(fp) > 0 && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	s := ip
	if fp != "" {
		s += "." + fp
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// Outcome computes the period's outcome from the samples added so far. It
// does not change the accumulator: more batches may follow.
func (a *Accumulator) Outcome() (*Outcome, error) {
	if err := a.checkPaging(true); err != nil {
		return nil, err
	}
	s := a.plan.sla
	o := &Outcome{SLAID: s.ID, Period: a.g.Period.String(), PeriodEnd: a.g.Period.End.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Currency: s.Price.Currency, Samples: a.counts, Metrics: make([]MetricOutcome, 0, len(a.metrics))}
	var sum int64
	for _, ma := range a.metrics {
		mp := ma.mp
		v, details := ma.st.Result()
		mo := MetricOutcome{ID: mp.m.ID, Name: mp.m.Name, Unit: mp.m.Unit, Objective: mp.op + " " + mp.m.Objective.Target,
			Driver: mp.m.Driver.ID + "@" + mp.m.Driver.Version, Samples: ma.counts, Details: details, Rat: v, Met: true}
		if v == nil {
			mo.NoData = true
		} else {
			mo.Value = FormatDecimal(v, ValueDecimals)
			mo.Exact = v.String()
			mo.Met = meets(mp.op, v, mp.target)
			for _, t := range mp.tiers {
				if worse(mp.op, v, t.worse) && t.bps > mo.CreditBPS {
					mo.CreditBPS = t.bps
				}
			}
			if !mo.Met {
				mo.PenaltyAmount = mp.penalty
			}
			mo.Terminate = mp.term != nil && worse(mp.op, v, mp.term)
		}
		sum += mo.CreditBPS
		o.Violated = o.Violated || !mo.Met
		o.PenaltyAmount += mo.PenaltyAmount
		o.Terminate = o.Terminate || mo.Terminate
		o.Metrics = append(o.Metrics, mo)
	}
	if a.sup != nil {
		o.Support = a.supportOutcome()
		o.PenaltyAmount += o.Support.PenaltyAmount
		for _, so := range o.Support.Objectives {
			o.Violated = o.Violated || !so.Met
		}
		for _, to := range o.Support.Tickets {
			o.Violated = o.Violated || to.Result == "breached"
		}
	}
	o.CreditBPS = min(sum, s.Consequences.MaxCreditBPS)
	amt := new(big.Int).Mul(big.NewInt(s.Price.AmountMinor), big.NewInt(o.CreditBPS))
	o.CreditAmount = amt.Quo(amt, big.NewInt(10000)).Int64()
	return o, nil
}

// JSON returns the outcome as one line of JSON (no HTML escaping, so
// objectives read ">= 99.99"), followed by a newline. The bytes are the
// same on every run.
func (o *Outcome) JSON() ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
