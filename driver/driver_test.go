package driver

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/sla"
)

// TestTierBoundary: a period of 10000 one-minute sub-intervals (seconds
// cycle of 600000 s), one failed sample in zone-a per down minute,
// min_zones_down 1, missing data counts as up. Uptime = 100*(10000-d)/10000.
func TestTierBoundary(t *testing.T) {
	tests := []struct {
		down      int
		value     string
		met       bool
		creditBPS int64
	}{
		{0, "100", true, 0},
		{1, "99.99", true, 0},       // exactly the objective: met, and not worse than the 99.99 tier
		{2, "99.98", false, 1000},   // below 99.99
		{100, "99", false, 1000},    // exactly 99: worse than 99.99 only
		{101, "98.99", false, 3000}, // below 99
		{500, "95", false, 3000},    // exactly 95: not worse than 95
		{501, "94.99", false, 10000},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.down), func(t *testing.T) {
			s := testSLA(sla.CycleSeconds, 600000)
			start := mustTime(t, "2026-01-01T00:00:00Z")
			var b logBuilder
			for m := 0; m < tc.down; m++ {
				b.sample(start.Add(time.Duration(m)*time.Minute), "pa", "zone-a", okMeas(false))
			}
			o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
			m := o.Metrics[0]
			if m.Value != tc.value || m.Met != tc.met || m.CreditBPS != tc.creditBPS || o.CreditBPS != tc.creditBPS ||
				o.CreditAmount != 100000*tc.creditBPS/10000 || o.Violated == tc.met {
				t.Errorf("got value %s met %v credit %d/%d amount %d violated %v", m.Value, m.Met, m.CreditBPS, o.CreditBPS, o.CreditAmount, o.Violated)
			}
		})
	}
}

// TestMonthLengths: one down minute in months of 28, 29, 30 and 31 days;
// uptime = 100*(N-1)/N over N = days*1440 minutes.
func TestMonthLengths(t *testing.T) {
	tests := []struct {
		period string
		n      int64
		value  string
	}{
		{"2026-02", 40320, "99.9975"}, // 100*40319/40320 = 99.99751...
		{"2028-02", 41760, "99.9976"}, // leap year: 99.99760...
		{"2026-04", 43200, "99.9976"}, // 99.99768...
		{"2026-03", 44640, "99.9977"}, // 99.99775...
	}
	for _, tc := range tests {
		t.Run(tc.period, func(t *testing.T) {
			s := testSLA(sla.CycleCalendarMonth, 0)
			p := mustPeriod(t, s, tc.period)
			if got := p.End.Sub(p.Start); got != time.Duration(tc.n)*time.Minute {
				t.Fatalf("period length %v", got)
			}
			var b logBuilder
			b.sample(p.Start.Add(time.Hour), "pa", "zone-a", okMeas(false))
			b.sample(p.End.Add(-time.Millisecond), "pa", "zone-a", okMeas(true))
			b.sample(p.End, "pa", "zone-a", okMeas(false)) // first instant of the next period
			o := evaluate(t, s, tc.period, b.String())
			m := o.Metrics[0]
			want := big.NewRat(100*(tc.n-1), tc.n)
			if m.Rat.Cmp(want) != 0 || m.Exact != want.String() || m.Value != tc.value || detail(m, "sub_intervals") != tc.n {
				t.Errorf("value %s exact %s sub-intervals %d; want %s %s %d", m.Value, m.Exact, detail(m, "sub_intervals"), tc.value, want, tc.n)
			}
			if o.Samples.OutsidePeriod != 1 || o.Samples.Accepted != 2 {
				t.Errorf("samples %+v", o.Samples)
			}
		})
	}
}

// gapLog: 3 zones, min_zones_down 2, a 10-minute period (seconds cycle 600).
// Minutes 0-5: every zone ok. Minute 6: zone-a failed, zone-b missing,
// zone-c ok. Minute 7: no data. Minute 8: zone-a and zone-b failed, zone-c
// ok. Minute 9: zone-a ok, zone-b and zone-c missing.
func gapLog(start time.Time) string {
	var b logBuilder
	at := func(m int) time.Time { return start.Add(time.Duration(m)*time.Minute + 30*time.Second) }
	for m := 0; m < 6; m++ {
		for _, z := range []string{"a", "b", "c"} {
			b.sample(at(m), "p"+z, "zone-"+z, okMeas(true))
		}
	}
	b.sample(at(6), "pa", "zone-a", okMeas(false))
	b.sample(at(6), "pc", "zone-c", okMeas(true))
	b.sample(at(8), "pa", "zone-a", okMeas(false))
	b.sample(at(8), "pb", "zone-b", okMeas(false))
	b.sample(at(8), "pc", "zone-c", okMeas(true))
	b.sample(at(9), "pa", "zone-a", okMeas(true))
	return b.String()
}

// TestMissingData evaluates gapLog under each policy.
//   - down: minute 6 has 1 down + 1 missing = 2 down zones: down; minute 7
//     (3 missing) down; minute 8 down; minute 9 (2 missing) down. 4 of 10
//     down: 60%.
//   - up: only minute 8 is down: 90%.
//   - excluded: minute 6 (1 down + 1 unknown >= 2: undecidable), 7 and 9
//     (2+ unknown) are excluded; minute 8 is down. 7 counted, 1 down:
//     600/7 = 85.714285...%.
func TestMissingData(t *testing.T) {
	tests := []struct {
		policy         string
		value, exact   string
		down, excluded int64
	}{
		{"down", "60", "60/1", 4, 0},
		{"up", "90", "90/1", 1, 0},
		{"excluded", "85.7142", "600/7", 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			s := testSLA(sla.CycleSeconds, 600)
			s.Metrics[0].Rules.MinZonesDown = 2
			s.Metrics[0].Rules.MissingData = tc.policy
			o := evaluate(t, s, "2026-01-01T00:00:00Z", gapLog(mustTime(t, "2026-01-01T00:00:00Z")))
			m := o.Metrics[0]
			if m.Value != tc.value || m.Exact != tc.exact || detail(m, "down") != tc.down || detail(m, "excluded") != tc.excluded {
				t.Errorf("got %s (%s) down %d excluded %d", m.Value, m.Exact, detail(m, "down"), detail(m, "excluded"))
			}
		})
	}
}

// TestMinZonesDown: 2 of 3 zones, missing data excluded, 10 minutes.
// Minute 0: only zone-a down -> up. Minute 1: a, b down -> down. Minute 2:
// all down -> down. Minute 3: a, b down, c missing -> down. Minute 4: a
// down, b missing, c ok -> 1 down + 1 unknown: excluded. Minutes 5-9: no
// data: excluded. Counted 4, down 3: 25%.
func TestMinZonesDown(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics[0].Rules.MinZonesDown = 2
	s.Metrics[0].Rules.MissingData = "excluded"
	start := mustTime(t, "2026-01-01T00:00:00Z")
	var b logBuilder
	rows := []string{"FOO", "FFO", "FFF", "FF-", "F-O"} // per minute, zones a b c: F failed, O ok, - missing
	for m, row := range rows {
		for zi, c := range row {
			z := string(rune('a' + zi))
			if c != '-' {
				b.sample(start.Add(time.Duration(m)*time.Minute), "p"+z, "zone-"+z, okMeas(c == 'O'))
			}
		}
	}
	o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
	m := o.Metrics[0]
	if m.Value != "25" || detail(m, "counted") != 4 || detail(m, "down") != 3 {
		t.Errorf("got %s counted %d down %d", m.Value, detail(m, "counted"), detail(m, "down"))
	}
}

// TestZoneDownShare: zone_down_bps 5000 (half the samples failed is
// enough). Minute 0: zone-a has 2 of 4 samples failed (50%: down); minute
// 1: 1 of 3 (33%: up). Partial minutes never count by themselves.
func TestZoneDownShare(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics[0].Rules.ZoneDownBPS = 5000
	start := mustTime(t, "2026-01-01T00:00:00Z")
	var b logBuilder
	for i, ok := range []bool{false, true, false, true} {
		b.sample(start.Add(time.Duration(i)*time.Second), "pa", "zone-a", okMeas(ok))
	}
	for i, ok := range []bool{false, true, true} {
		b.sample(start.Add(time.Minute+time.Duration(i)*time.Second), "pa", "zone-a", okMeas(ok))
	}
	o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
	if m := o.Metrics[0]; m.Value != "90" || detail(m, "down") != 1 {
		t.Errorf("got %s down %d", m.Value, detail(m, "down"))
	}
}

// TestOutOfOrderAndDuplicates: the gap log (excluded policy) with every
// line repeated 1-3 times and shuffled gives the same metrics and credits
// as the sorted, de-duplicated log; the repeats are counted as duplicates.
func TestOutOfOrderAndDuplicates(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics[0].Rules.MinZonesDown = 2
	s.Metrics[0].Rules.MissingData = "excluded"
	sorted := gapLog(mustTime(t, "2026-01-01T00:00:00Z"))
	lines := strings.Split(strings.TrimSpace(sorted), "\n")
	r := rand.New(rand.NewPCG(1, 2))
	var mixed []string
	extra := 0
	for _, l := range lines {
		n := 1 + r.IntN(3)
		extra += n - 1
		for range n {
			mixed = append(mixed, l)
		}
	}
	r.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	a := evaluate(t, s, "2026-01-01T00:00:00Z", sorted)
	b := evaluate(t, s, "2026-01-01T00:00:00Z", strings.Join(mixed, "\n"))
	if b.Samples.Duplicate != int64(extra) || b.Samples.Accepted != a.Samples.Accepted {
		t.Errorf("samples %+v, want %d duplicates", b.Samples, extra)
	}
	a.Samples, b.Samples = SampleCounts{}, SampleCounts{}
	ja, _ := a.JSON()
	jb, _ := b.JSON()
	if !bytes.Equal(ja, jb) {
		t.Errorf("sorted:\n%s\nmixed:\n%s", ja, jb)
	}
}

// TestClockSkew documents what the rules do with probes whose clocks
// differ. Each sample is placed by its own timestamp: its sampling slot
// (duplicates) and its sub-interval. 3 zones, min_zones_down 2, missing
// data up, 10 minutes.
//   - zone-a (exact clock) fails during true seconds 0..59: minute 0.
//   - zone-b (clock 1.5 s ahead) fails during true seconds 0..59 too, and is
//     ok during true seconds 60..119. Its stamps are 1.5..60.5 (failed) and
//     61.5..120.5 (ok): minute 0 holds 59 failed samples (down), minute 1
//     holds the failed 60.5 and 59 ok samples (1/60 failed: not down), and
//     120.5 goes into minute 2.
//
// So minute 0 is down (a and b down) and the skewed failure cannot make
// minute 1 down: 9 of 10 minutes up. A probe whose clock steps back 0.4 s
// reports two samples in one 1-second slot: the second is a duplicate.
func TestClockSkew(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics[0].Rules.MinZonesDown = 2
	start := mustTime(t, "2026-01-01T00:00:00Z")
	var b logBuilder
	for sec := 0; sec < 60; sec++ {
		b.sample(start.Add(time.Duration(sec)*time.Second), "pa", "zone-a", okMeas(false))
	}
	for sec := 0; sec < 120; sec++ {
		b.sample(start.Add(time.Duration(sec)*time.Second+1500*time.Millisecond), "pb", "zone-b", okMeas(sec >= 60))
	}
	b.sample(start.Add(5*time.Minute+10*time.Second), "pc", "zone-c", okMeas(true))
	b.sample(start.Add(5*time.Minute+10600*time.Millisecond), "pc", "zone-c", okMeas(true)) // clock stepped back: same slot 310
	o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
	m := o.Metrics[0]
	if m.Value != "90" || detail(m, "down") != 1 || o.Samples.Duplicate != 1 || o.Samples.Accepted != 181 {
		t.Errorf("value %s down %d samples %+v", m.Value, detail(m, "down"), o.Samples)
	}
}

// TestOutageAcrossPeriods: daily periods; zone-a fails every minute from
// 2026-03-01T23:50 to 2026-03-02T00:19 (30 minutes). Day 1 gets 10 down
// minutes: 100*1430/1440 = 99.30555...; day 2 gets 20: 100*1420/1440 =
// 98.6111...
func TestOutageAcrossPeriods(t *testing.T) {
	s := testSLA(sla.CycleDay, 0)
	start := mustTime(t, "2026-03-01T23:50:00Z")
	var b logBuilder
	for m := 0; m < 30; m++ {
		b.sample(start.Add(time.Duration(m)*time.Minute), "pa", "zone-a", okMeas(false))
	}
	tests := []struct {
		period, value, exact string
		outside, credit      int64
	}{
		{"2026-03-01", "99.3055", "3575/36", 20, 1000}, // worse than 99.99, not than 99
		{"2026-03-02", "98.6111", "3550/36", 10, 3000}, // worse than 99
	}
	for _, tc := range tests {
		o := evaluate(t, s, tc.period, b.String())
		m := o.Metrics[0]
		want, _ := new(big.Rat).SetString(tc.exact)
		if m.Value != tc.value || m.Rat.Cmp(want) != 0 || o.Samples.OutsidePeriod != tc.outside || m.CreditBPS != tc.credit {
			t.Errorf("%s: value %s (%s) outside %d credit %d", tc.period, m.Value, m.Exact, o.Samples.OutsidePeriod, m.CreditBPS)
		}
	}
}

// TestRejections: each layer-1 reason is counted.
func TestRejections(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics = append(s.Metrics, sla.Metric{ID: "errors", Name: "errors", Unit: "percent",
		Driver: sla.DriverRef{ID: "error-rate", Version: "1"}, Objective: sla.Objective{Operator: "<=", Target: "1"},
		Rules: sla.Rules{Failure: []sla.Condition{{Measurement: "status", Op: ">=", Value: 500}}}})
	t0 := mustTime(t, "2026-01-01T00:00:00Z")
	var b logBuilder
	b.sample(t0, "pa", "zone-a", `"ok":true,"status":200`)                   // accepted, valid for both
	b.sample(t0.Add(time.Second), "pa", "zone-a", `"ok":false,"status":503`) // accepted, failed for both
	b.sample(t0.Add(2*time.Second), "pa", "zone-a", `"status":200`)          // availability: rules.valid (ok present) fails
	b.sample(t0.Add(3*time.Second), "pa", "zone-a", `"ok":true`)             // error-rate: missing status
	b.sample(t0.Add(3*time.Second), "pa", "zone-a", `"ok":true`)             // duplicate
	b.sample(t0.Add(-time.Second), "pa", "zone-a", `"ok":true`)              // outside
	b.sample(t0, "px", "zone-x", `"ok":true`)                                // unknown zone
	fmt.Fprintf(&b, `{"time":%q,"source":{"probe":"pb","zone":"zone-b","region":"region-2"},"measurements":{"ok":true}}`+"\n", ts(t0))
	b.event(t0, "INC-1", "opened")
	o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
	want := SampleCounts{Read: 9, Events: 1, Accepted: 4, OutsidePeriod: 1, UnknownZone: 1, ZoneRegionMismatch: 1, Duplicate: 1}
	if o.Samples != want {
		t.Errorf("samples %+v, want %+v", o.Samples, want)
	}
	if got := metric(t, o, "availability").Samples; got != (MetricSamples{Valid: 3, Failed: 1, RejectedRule: 1}) {
		t.Errorf("availability samples %+v", got)
	}
	if got := metric(t, o, "errors").Samples; got != (MetricSamples{Valid: 3, Failed: 1, MissingMeasurement: 1}) {
		t.Errorf("error-rate samples %+v", got)
	}
	if e := metric(t, o, "errors"); e.Exact != "100/3" || e.Value != "33.3333" || e.Met {
		t.Errorf("error rate %s %s %v", e.Value, e.Exact, e.Met)
	}
}

func latencySLA(percentile int64, unit string) *sla.SLA {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics = []sla.Metric{{ID: "lat", Name: "latency", Unit: unit, Driver: sla.DriverRef{ID: "latency-percentile", Version: "1"},
		Objective:  sla.Objective{Operator: "<=", Target: "300"},
		Parameters: sla.Parameters{Measurement: "latency_ms", Percentile: percentile},
		Rules:      sla.Rules{Valid: []sla.Condition{{Measurement: "latency_ms", Op: ">=", Value: 0}}}}}
	s.Consequences = sla.Consequences{CreditTiers: []sla.CreditTier{{Metric: "lat", WorseThan: "300", CreditBPS: 500}}, MaxCreditBPS: 10000}
	return s
}

// TestLatencyPercentile: nearest rank = ceil(p*N/100).
//   - values 1..100: pP is P.
//   - values {5, 5000, 10, 10, 3, 7000, 1, -4}: -4 is rejected by
//     rules.valid; sorted 1,3,5,10,10,5000,7000 (N=7): p50 rank 4 -> 10, p85
//     rank 6 -> 5000, p90 rank 7 -> 7000, p1 rank 1 -> 1.
func TestLatencyPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	seven := []int64{5, 5000, 10, 10, 3, 7000, 1, -4}
	tests := []struct {
		values []int64
		p      int64
		unit   string
		value  string
		met    bool
	}{
		{hundred, 1, "ms", "1", true},
		{hundred, 50, "ms", "50", true},
		{hundred, 95, "ms", "95", true},
		{hundred, 99, "ms", "99", true},
		{hundred, 100, "ms", "100", true},
		{seven, 50, "ms", "10", true},
		{seven, 85, "ms", "5000", false},
		{seven, 90, "ms", "7000", false},
		{seven, 1, "ms", "1", true},
		{seven, 50, "s", "0.01", true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n%d-p%d-%s", len(tc.values), tc.p, tc.unit), func(t *testing.T) {
			t0 := mustTime(t, "2026-01-01T00:00:00Z")
			var b logBuilder
			for i, v := range tc.values {
				b.sample(t0.Add(time.Duration(i)*time.Second), "pa", "zone-a", fmt.Sprintf(`"latency_ms":%d`, v))
			}
			o := evaluate(t, latencySLA(tc.p, tc.unit), "2026-01-01T00:00:00Z", b.String())
			m := o.Metrics[0]
			if m.Value != tc.value || m.Met != tc.met {
				t.Errorf("p%d = %s met %v, want %s %v", tc.p, m.Value, m.Met, tc.value, tc.met)
			}
			if !tc.met && o.CreditBPS != 500 {
				t.Errorf("credit %d", o.CreditBPS)
			}
		})
	}
}

func mttSLA(respondUnit, resolveUnit string) *sla.SLA {
	s := testSLA(sla.CycleCalendarMonth, 0)
	s.Metrics = []sla.Metric{
		{ID: "respond", Name: "MTTRespond", Unit: respondUnit, Driver: sla.DriverRef{ID: "mean-time-to-respond", Version: "1"},
			Objective: sla.Objective{Operator: "<=", Target: "20"}},
		{ID: "resolve", Name: "MTTResolve", Unit: resolveUnit, Driver: sla.DriverRef{ID: "mean-time-to-resolve", Version: "1"},
			Objective: sla.Objective{Operator: "<=", Target: "4"}},
	}
	s.Consequences = sla.Consequences{MaxCreditBPS: 10000,
		Penalties: []sla.Penalty{{Metric: "respond", AmountMinor: 20000}, {Metric: "resolve", AmountMinor: 50000}}}
	return s
}

// incidentLog: four incidents around February 2026.
//   - INC-1 opened 01-31 22:00, acknowledged 01-31 22:15 (January),
//     resolved 02-01 01:00 (February, 3 h).
//   - INC-2 opened 02-10 10:30 (and again, repeated, at 10:35: the earliest
//     counts), acknowledged 10:40 (10 min), resolved 13:30 (3 h).
//   - INC-3 opened 02-20 08:00, acknowledged 08:26 (26 min), resolved 14:00
//     (6 h). Its events are written out of order.
//   - INC-4 opened 02-28 23:00, acknowledged 23:20 (20 min), resolved 03-01
//     02:00 (March).
//   - INC-5 resolved 02-15 without an opening event: unmatched.
//
// February: respond = (10+26+20)/3 = 56/3 = 18.666... min (met); resolve =
// (3+3+6)/3 = 4 h exactly (met).
func incidentLog(t *testing.T) string {
	var b logBuilder
	e := func(at, inc, typ string) { b.event(mustTime(t, at), inc, typ) }
	e("2026-01-31T22:00:00Z", "INC-1", "opened")
	e("2026-01-31T22:15:00Z", "INC-1", "acknowledged")
	e("2026-02-01T01:00:00Z", "INC-1", "resolved")
	e("2026-02-10T10:30:00Z", "INC-2", "opened")
	e("2026-02-10T10:35:00Z", "INC-2", "opened")
	e("2026-02-10T10:40:00Z", "INC-2", "acknowledged")
	e("2026-02-10T13:30:00Z", "INC-2", "resolved")
	e("2026-02-20T14:00:00Z", "INC-3", "resolved")
	e("2026-02-20T08:26:00Z", "INC-3", "acknowledged")
	e("2026-02-20T08:00:00Z", "INC-3", "opened")
	e("2026-02-15T00:00:00Z", "INC-5", "resolved")
	e("2026-02-28T23:00:00Z", "INC-4", "opened")
	e("2026-02-28T23:20:00Z", "INC-4", "acknowledged")
	e("2026-03-01T02:00:00Z", "INC-4", "resolved")
	return b.String()
}

func TestMeanTimes(t *testing.T) {
	tests := []struct {
		period                   string
		respondUnit, resolveUnit string
		respond, resolve         string
		respondMet, resolveMet   bool
		noData                   bool
		penalty                  int64
	}{
		{"2026-02", "min", "h", "18.6666", "4", true, true, false, 0},
		{"2026-02", "s", "min", "1120", "240", false, false, false, 70000}, // same durations, targets 20 s and 4 min: missed
		{"2026-02", "ms", "s", "1120000", "14400", false, false, false, 70000},
		// January: INC-1 acknowledged after 15 min; nothing resolved.
		{"2026-01", "min", "h", "15", "", true, true, true, 0},
		// March: INC-4 resolved after 3 h; nothing acknowledged.
		{"2026-03", "min", "h", "", "3", true, true, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.period+"-"+tc.respondUnit, func(t *testing.T) {
			o := evaluate(t, mttSLA(tc.respondUnit, tc.resolveUnit), tc.period, incidentLog(t))
			rp, rs := metric(t, o, "respond"), metric(t, o, "resolve")
			if rp.Value != tc.respond || rs.Value != tc.resolve || rp.Met != tc.respondMet || rs.Met != tc.resolveMet ||
				o.PenaltyAmount != tc.penalty || (rp.NoData || rs.NoData) != tc.noData {
				t.Errorf("respond %s %v resolve %s %v penalty %d", rp.Value, rp.Met, rs.Value, rs.Met, o.PenaltyAmount)
			}
			if tc.period == "2026-02" && detail(rs, "unmatched") != 1 {
				t.Errorf("unmatched %d", detail(rs, "unmatched"))
			}
		})
	}
}

// TestThroughput: 60 samples of 10 requests and one of 7 in a 600 s
// period: 607/600 = 1.011666... per second. A sample without the
// measurement is rejected as missing it.
func TestThroughput(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics = []sla.Metric{{ID: "tput", Name: "throughput", Unit: "per_second", Driver: sla.DriverRef{ID: "throughput", Version: "1"},
		Objective: sla.Objective{Operator: ">=", Target: "1"}, Parameters: sla.Parameters{Measurement: "requests"}}}
	s.Consequences = sla.Consequences{MaxCreditBPS: 10000}
	t0 := mustTime(t, "2026-01-01T00:00:00Z")
	var b logBuilder
	for i := 0; i < 60; i++ {
		b.sample(t0.Add(time.Duration(i)*time.Second), "pa", "zone-a", `"requests":10`)
	}
	b.sample(t0.Add(100*time.Second), "pa", "zone-a", `"requests":7`)
	b.sample(t0.Add(101*time.Second), "pa", "zone-a", `"ok":true`)
	o := evaluate(t, s, "2026-01-01T00:00:00Z", b.String())
	m := o.Metrics[0]
	if m.Value != "1.0116" || m.Exact != "607/600" || !m.Met || m.Samples.MissingMeasurement != 1 {
		t.Errorf("throughput %s (%s) met %v samples %+v", m.Value, m.Exact, m.Met, m.Samples)
	}
}

// TestCompileErrors: problems are reported at their JSON paths.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(s *sla.SLA)
		path   string
	}{
		{"unknown driver", func(s *sla.SLA) { s.Metrics[0].Driver.ID = "uptime" }, "metrics[0].driver.id"},
		{"unknown version", func(s *sla.SLA) { s.Metrics[0].Driver.Version = "2" }, "metrics[0].driver.version"},
		{"bad unit", func(s *sla.SLA) { s.Metrics[0].Unit = "ms" }, "metrics[0].unit"},
		{"no failure rule", func(s *sla.SLA) { s.Metrics[0].Rules.Failure = nil }, "metrics[0].rules.failure"},
		{"bad missing_data", func(s *sla.SLA) { s.Metrics[0].Rules.MissingData = "" }, "metrics[0].rules.missing_data"},
		{"too many zones down", func(s *sla.SLA) { s.Metrics[0].Rules.MinZonesDown = 4 }, "metrics[0].rules.min_zones_down"},
		{"latency without percentile", func(s *sla.SLA) {
			s.Metrics[0] = latencySLA(0, "ms").Metrics[0]
			s.Consequences.CreditTiers = nil
		}, "metrics[0].parameters.percentile"},
		{"latency without measurement", func(s *sla.SLA) {
			s.Metrics[0] = latencySLA(95, "ms").Metrics[0]
			s.Metrics[0].Parameters.Measurement = ""
			s.Consequences.CreditTiers = nil
		}, "metrics[0].parameters.measurement"},
		{"throughput in percent", func(s *sla.SLA) {
			s.Metrics[0] = sla.Metric{ID: "availability", Unit: "percent", Driver: sla.DriverRef{ID: "throughput", Version: "1"},
				Objective: sla.Objective{Operator: ">=", Target: "1"}, Parameters: sla.Parameters{Measurement: "requests"}}
		}, "metrics[0].unit"},
		{"mtt in percent", func(s *sla.SLA) {
			s.Metrics[0] = sla.Metric{ID: "availability", Unit: "percent", Driver: sla.DriverRef{ID: "mean-time-to-resolve", Version: "1"},
				Objective: sla.Objective{Operator: "<=", Target: "4"}}
		}, "metrics[0].unit"},
		{"bad target", func(s *sla.SLA) { s.Metrics[0].Objective.Target = "99,9" }, "metrics[0].objective.target"},
		{"bad operator", func(s *sla.SLA) { s.Metrics[0].Objective.Operator = "=" }, "metrics[0].objective.operator"},
		{"bad condition op", func(s *sla.SLA) { s.Metrics[0].Rules.Failure[0].Op = "~" }, "metrics[0].rules.failure[0].op"},
		{"bad measurement name", func(s *sla.SLA) { s.Metrics[0].Rules.Failure[0].Measurement = "OK" }, "metrics[0].rules.failure[0].measurement"},
		{"tier of unknown metric", func(s *sla.SLA) { s.Consequences.CreditTiers[1].Metric = "nope" }, "consequences.credit_tiers[1].metric"},
		{"sub-interval not dividing", func(s *sla.SLA) { s.Interval.SubIntervalSeconds = 7 }, "interval.sub_interval_seconds"},
		{"bad cycle", func(s *sla.SLA) { s.Interval.BillingCycle.Unit = "week" }, "interval.billing_cycle.unit"},
		{"sampling too fine", func(s *sla.SLA) { s.Interval.SamplingPeriodMS = 1 }, "interval.sampling_period_ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSLA(sla.CycleCalendarMonth, 0)
			tc.modify(s)
			_, err := Compile(s)
			var ve *sla.ValidationError
			if !errors.As(err, &ve) || !ve.Has(tc.path) {
				t.Fatalf("error %v, want a problem at %s", err, tc.path)
			}
		})
	}
	if _, err := Compile(nil); err == nil {
		t.Error("nil SLA compiled")
	}
}

func TestParsePeriod(t *testing.T) {
	month := testSLA(sla.CycleCalendarMonth, 0)
	day := testSLA(sla.CycleDay, 0)
	hour := testSLA(sla.CycleHour, 0)
	secs := testSLA(sla.CycleSeconds, 7200)
	secs.Validity.Start = "2026-01-01T00:30:00Z"
	tests := []struct {
		s          *sla.SLA
		text       string
		start, end string // "" when an error is expected
	}{
		{month, "2026-02", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		{month, "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{month, "2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
		{month, "2026-03-05", "", ""}, // not a month start
		{month, "2025-12", "", ""},    // before validity
		{month, "2029-01", "", ""},    // after validity
		{month, "March", "", ""},      // not a period name
		{day, "2026-03-05", "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"},
		{day, "2026-03", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"}, // the 1st of March is a day start
		{hour, "2026-03-05T14", "2026-03-05T14:00:00Z", "2026-03-05T15:00:00Z"},
		{hour, "2026-03-05T14:30:00Z", "", ""},
		{hour, "2026-03-05T14:00:00+01:00", "", ""},
		{secs, "2026-01-01T02:30:00Z", "2026-01-01T02:30:00Z", "2026-01-01T04:30:00Z"},
		{secs, "2026-01-01T02:00:00Z", "", ""}, // not aligned to validity.start
		{secs, "2026-01-01", "", ""},           // before validity.start
	}
	for _, tc := range tests {
		p, err := ParsePeriod(tc.s, tc.text)
		if tc.start == "" {
			if err == nil {
				t.Errorf("%s (%s): got %v, want an error", tc.text, tc.s.Interval.BillingCycle.Unit, p)
			}
			continue
		}
		if err != nil || p.String() != tc.start || p.End.Format(time.RFC3339) != tc.end {
			t.Errorf("%s: got %v..%v, %v; want %s..%s", tc.text, p, p.End, err, tc.start, tc.end)
		}
	}
	p, err := PeriodOf(month, mustTime(t, "2026-02-28T23:59:59Z"))
	if err != nil || p.String() != "2026-02-01T00:00:00Z" {
		t.Errorf("PeriodOf: %v %v", p, err)
	}
}

// TestAccumulatorBatches: the gap log split into batches added in reverse
// order, with a Marshal/Unmarshal round trip between batches, gives the
// same outcome as one pass; duplicates across the round trip are caught.
func TestAccumulatorBatches(t *testing.T) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics[0].Rules.MinZonesDown = 2
	s.Metrics[0].Rules.MissingData = "excluded"
	s.Metrics = append(s.Metrics, latencySLA(50, "ms").Metrics[0], mttSLA("min", "h").Metrics[1])
	plan := mustPlan(t, s)
	period := mustPeriod(t, s, "2026-01-01T00:00:00Z")
	t0 := mustTime(t, "2026-01-01T00:00:00Z")
	log := gapLog(t0)
	var extra logBuilder
	extra.sample(t0.Add(5*time.Minute+time.Second), "pa", "zone-a", `"ok":true,"latency_ms":120`)
	extra.sample(t0.Add(5*time.Minute+2*time.Second), "pb", "zone-b", `"ok":true,"latency_ms":5000`)
	extra.event(t0.Add(time.Minute), "I", "opened")
	extra.event(t0.Add(3*time.Minute), "I", "resolved")
	log += extra.String()

	one, err := Evaluate(plan, period, strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := one.JSON()

	lines := strings.SplitAfter(log, "\n")
	acc, _ := plan.NewAccumulator(period)
	var state []byte
	for i := len(lines); i > 0; i -= 4 {
		batch := strings.Join(lines[max(i-4, 0):i], "")
		if state != nil {
			acc, _ = plan.NewAccumulator(period)
			if err := acc.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
		}
		if err := acc.AddFrom(strings.NewReader(batch)); err != nil {
			t.Fatal(err)
		}
		if state, err = acc.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := acc.Outcome()
	gj, _ := got.JSON()
	if !bytes.Equal(gj, want) {
		t.Errorf("batched:\n%s\none pass:\n%s", gj, want)
	}
	// Deterministic bytes: a restored accumulator marshals to the same bytes.
	restored, _ := plan.NewAccumulator(period)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	again, _ := restored.MarshalBinary()
	if !bytes.Equal(again, state) {
		t.Error("marshal(unmarshal(state)) != state")
	}
	// The whole log again, after the round trip: every sample is a duplicate.
	if err := restored.AddFrom(strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	o2, _ := restored.Outcome()
	if o2.Samples.Duplicate != one.Samples.Accepted || o2.Metrics[0].Value != one.Metrics[0].Value {
		t.Errorf("after replay: %+v", o2.Samples)
	}
	// Corrupt and foreign states are refused, never a panic.
	for i := 0; i < len(state); i += 7 {
		bad := append([]byte(nil), state[:i]...)
		a, _ := plan.NewAccumulator(period)
		if a.UnmarshalBinary(bad) == nil {
			t.Fatalf("truncated state of %d bytes accepted", i)
		}
	}
	other := testSLA(sla.CycleSeconds, 600)
	a, _ := mustPlan(t, other).NewAccumulator(period)
	if err := a.UnmarshalBinary(state); err == nil || !strings.Contains(err.Error(), "another SLA") {
		t.Errorf("foreign state: %v", err)
	}
}

func TestDivider(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int64{1, 2, 3, 7, 10, 60, 1000, 60000, 86400000, 1<<32 - 1, 1 << 32, 1<<40 + 3} {
		dv := newDivider(d)
		for range 20000 {
			n := r.Uint64N(1 << 33)
			if r.IntN(4) == 0 {
				n = r.Uint64()
			}
			if got := dv.div(n); got != n/uint64(d) {
				t.Fatalf("%d/%d = %d, want %d", n, d, got, n/uint64(d))
			}
		}
		for _, n := range []uint64{0, 1<<32 - 1, uint64(d) - 1, uint64(d), uint64(d) + 1} {
			if got := dv.div(n); got != n/uint64(d) {
				t.Fatalf("%d/%d = %d", n, d, got)
			}
		}
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		r    *big.Rat
		want string
	}{
		{big.NewRat(9999, 100), "99.99"},
		{big.NewRat(100, 1), "100"},
		{big.NewRat(1, 3), "0.3333"},
		{big.NewRat(2, 3), "0.6666"},
		{big.NewRat(-2, 3), "-0.6666"},
		{big.NewRat(-1, 100000), "0"},
		{big.NewRat(1, 20000), "0"},
		{big.NewRat(0, 1), "0"},
	}
	for _, tc := range tests {
		if got := FormatDecimal(tc.r, 4); got != tc.want {
			t.Errorf("FormatDecimal(%s) = %s, want %s", tc.r, got, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"availability@1", "error-rate@1", "latency-percentile@1", "mean-time-to-resolve@1", "mean-time-to-respond@1", "throughput@1"}
	if got := Registered(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("registered %v", got)
	}
	if err := Register(availabilityDriver{}); err == nil {
		t.Error("duplicate registration accepted")
	}
	if _, ok := Lookup("availability", "2"); ok {
		t.Error("availability v2 found")
	}
}
