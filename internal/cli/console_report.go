package cli

// The console's metric report of an SLA: for its ended paid periods (the
// newest consoleReportPeriods), the enclave's verdict and report decrypted
// for the signed-in party and verified as `slasa verdict show` does
// (fetchVerdict), and for each metric an inline SVG chart of the period's
// value against the objective, drawn on the server.

import (
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"

	"github.com/slasa/slasa/driver"
)

// consoleReportPeriods bounds the periods the report page asks the enclave
// about (one Evaluate query each).
const consoleReportPeriods = 12

// Geometry of a metric chart (SVG user units).
const (
	mchartWidth  = 640
	mchartHeight = 220
	mchartLeft   = 70
	mchartRight  = 20
	mchartTop    = 20
	mchartBottom = 40
)

// reportRow is one period of the report.
type reportRow struct {
	Period string
	Rep    *verdictReport
	Err    string
}

// chartPoint is a period's value in a metric chart.
type chartPoint struct {
	X, Y          int
	Period, Label string
	Value         string
	Met           bool
}

// metricChart is a metric's chart: its values per period against its
// objective.
type metricChart struct {
	ID, Name, Unit, Objective string
	Width, Height             int
	Left, Right, Top, Bottom  int
	Points                    []chartPoint
	Line                      string
	TargetY                   int
	High, Low                 string
	NoData                    []string
}

// ratOf parses an outcome's exact value "num/den" (or a decimal).
func ratOf(s string) (*big.Rat, bool) {
	return new(big.Rat).SetString(s)
}

// objectiveTarget is the target of an objective "OPERATOR TARGET".
func objectiveTarget(obj string) (*big.Rat, bool) {
	f := strings.Fields(obj)
	if len(f) != 2 {
		return nil, false
	}
	return ratOf(f[1])
}

// metricCharts draws each metric of the rows' reports (oldest period
// first): the y axis spans the values and the target with a margin.
func metricCharts(rows []reportRow) []metricChart {
	var charts []metricChart
	index := map[string]int{}
	type sample struct {
		period string
		m      driver.MetricOutcome
	}
	samples := map[string][]sample{}
	for _, r := range rows {
		if r.Rep == nil || r.Rep.Report == nil {
			continue
		}
		for _, m := range r.Rep.Report.Metrics {
			if _, ok := index[m.ID]; !ok {
				index[m.ID] = len(charts)
				charts = append(charts, metricChart{ID: m.ID, Name: m.Name, Unit: unitText(m.Unit), Objective: m.Objective,
					Width: mchartWidth, Height: mchartHeight, Left: mchartLeft, Right: mchartWidth - mchartRight,
					Top: mchartTop, Bottom: mchartHeight - mchartBottom})
			}
			samples[m.ID] = append(samples[m.ID], sample{r.Period, m})
		}
	}
	for i := range charts {
		c := &charts[i]
		ss := samples[c.ID]
		target, hasTarget := objectiveTarget(c.Objective)
		var lo, hi *big.Rat
		widen := func(v *big.Rat) {
			if lo == nil || v.Cmp(lo) < 0 {
				lo = v
			}
			if hi == nil || v.Cmp(hi) > 0 {
				hi = v
			}
		}
		if hasTarget {
			widen(target)
		}
		values := make([]*big.Rat, len(ss))
		for j, s := range ss {
			if s.m.NoData {
				continue
			}
			if v, ok := ratOf(s.m.Exact); ok {
				values[j] = v
				widen(v)
			}
		}
		if lo == nil {
			continue
		}
		span := new(big.Rat).Sub(hi, lo)
		if span.Sign() == 0 {
			span.SetInt64(1)
		}
		margin := new(big.Rat).Quo(span, big.NewRat(10, 1))
		lo, hi = new(big.Rat).Sub(lo, margin), new(big.Rat).Add(hi, margin)
		span = new(big.Rat).Sub(hi, lo)
		plotH := c.Bottom - c.Top
		// y is the pixel row of v: presentation only, rounded.
		y := func(v *big.Rat) int {
			f, _ := new(big.Rat).Quo(new(big.Rat).Sub(hi, v), span).Float64()
			return c.Top + int(f*float64(plotH)+0.5)
		}
		c.High, c.Low = hi.FloatString(4), lo.FloatString(4)
		if hasTarget {
			c.TargetY = y(target)
		}
		step := (c.Right - c.Left) / max(len(ss), 1)
		var line []string
		for j, s := range ss {
			x := c.Left + j*step + step/2
			label := s.period
			if len(label) >= 16 {
				label = label[5:16]
			}
			if values[j] == nil {
				c.NoData = append(c.NoData, s.period)
				continue
			}
			p := chartPoint{X: x, Y: y(values[j]), Period: s.period, Label: label, Value: s.m.Value, Met: s.m.Met}
			c.Points = append(c.Points, p)
			line = append(line, fmt.Sprintf("%d,%d", p.X, p.Y))
		}
		c.Line = strings.Join(line, " ")
	}
	return charts
}

func (s *consoleServer) reportPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	id := r.PathValue("id")
	if !consoleIDText.MatchString(id) {
		s.fail(w, cs, http.StatusBadRequest, "sla: not an SLA id (1 to 256 printable ASCII characters, no space): nothing was read")
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	a, doc, ok := s.partySLA(ctx, w, cs, l, s.source(l), id, "may read its reports")
	if !ok {
		return
	}
	// The newest paid periods that have ended: walk back from the last
	// paid one, past those paid ahead (at most consolePeriods of them).
	now := s.now()
	var ended []driver.Period
	for _, p := range paidPeriods(a, doc, consoleReportPeriods+consolePeriods) {
		if !p.End.After(now) && len(ended) < consoleReportPeriods {
			ended = append(ended, p)
		}
	}
	slices.Reverse(ended)
	cc := verdictChaincodes{enclave: s.enclaveCC, registry: s.registryCC, refund: s.refundCC, agreement: s.agreementCC}
	rows := make([]reportRow, 0, len(ended))
	for _, p := range ended {
		row := reportRow{Period: p.String()}
		var err error
		if row.Rep, err = l.Report(ctx, cc, id, row.Period); err != nil {
			row.Err = err.Error()
		}
		rows = append(rows, row)
	}
	s.render(w, http.StatusOK, "report", cs, pageData{Title: "Metrics of SLA " + id, Nav: "slas", Data: map[string]any{
		"ID": id, "Rows": rows, "Charts": metricCharts(rows), "Max": consoleReportPeriods}})
}
