package driver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slasa/slasa/sla"
)

// The example SLAs and their hand-made logs (examples/*/logs.jsonl), with
// the outcome computed by hand.

func loadExample(t *testing.T, name string) (*sla.SLA, *os.File) {
	t.Helper()
	dir := filepath.Join("..", "examples", name)
	data, err := os.ReadFile(filepath.Join(dir, "sla.json"))
	if err != nil {
		t.Skipf("example %s not present: %v", name, err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	f, err := os.Open(filepath.Join(dir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return s, f
}

type wantMetric struct {
	id, value string
	met       bool
	credit    int64
}

func checkOutcome(t *testing.T, o *Outcome, metrics []wantMetric, violated bool, creditBPS, creditAmount, penalty int64, terminate bool, samples SampleCounts) {
	t.Helper()
	for _, w := range metrics {
		m := metric(t, o, w.id)
		if m.Value != w.value || m.Met != w.met || m.CreditBPS != w.credit {
			t.Errorf("%s: value %q met %v credit %d; want %q %v %d", w.id, m.Value, m.Met, m.CreditBPS, w.value, w.met, w.credit)
		}
	}
	if o.Violated != violated || o.CreditBPS != creditBPS || o.CreditAmount != creditAmount || o.PenaltyAmount != penalty || o.Terminate != terminate {
		t.Errorf("violated %v credit %d bps %d minor penalty %d terminate %v; want %v %d %d %d %v",
			o.Violated, o.CreditBPS, o.CreditAmount, o.PenaltyAmount, o.Terminate, violated, creditBPS, creditAmount, penalty, terminate)
	}
	if o.Samples != samples {
		t.Errorf("samples %+v, want %+v", o.Samples, samples)
	}
	if testing.Verbose() {
		j, _ := o.JSON()
		t.Logf("%s", j)
	}
}

// AWS-EC2-style region SLA, April 2026 (30 days, 43200 minutes), 3 zones,
// a minute is down when >= 2 zones have all samples failed, unobserved
// zones are excluded. The log covers minutes 12:00..13:40 of 04-15 (101
// minutes, one sample per zone per minute at hh:mm:07, plus):
//   - 12:20 zone-a and zone-b fail: the only down minute.
//   - 12:25 zone-a and zone-b fail at :07 and are ok at :37 (50% failed):
//     not down (partial minutes do not count).
//   - 12:30 only zone-b fails: not down.
//   - 12:50 zone-a fails, zone-c has no sample: 1 down + 1 unknown could be
//     2: excluded.
//   - minutes 13:00..13:09 are written in reverse order; 12:40 zone-a is
//     repeated (duplicate); one line from 03-31 (outside the period); one
//     from zone-d (unknown zone).
//
// Every other minute of April has no data (excluded). Counted = 101 - 1 =
// 100 minutes, 1 down: uptime 99.00% exactly: missed 99.99, worse than the
// 99.99 tier but not than 99.0: credit 10% = 10000 of 100000 minor units.
// Lines: 101*3 - 1 + 2 = 304 accepted + 3 rejected = 307.
func TestExampleAWS(t *testing.T) {
	s, f := loadExample(t, "aws-ec2-region")
	o, err := Evaluate(mustPlan(t, s), mustPeriod(t, s, "2026-04"), f)
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, o, []wantMetric{{"availability", "99", false, 1000}}, true, 1000, 10000, 0, false,
		SampleCounts{Read: 307, Accepted: 304, OutsidePeriod: 1, UnknownZone: 1, Duplicate: 1})
	if m := o.Metrics[0]; detail(m, "counted") != 100 || detail(m, "excluded") != 43100 || detail(m, "down") != 1 {
		t.Errorf("details %v", m.Details)
	}
}

// Azure-VM-style SLA, February 2026 (28 days), 3 zones, down only when all
// 3 zones fail, unobserved zones excluded. The log: minutes 09:00..09:39
// of 02-14, one sample per zone per minute (ok, latency_ms, status):
//   - availability: 09:10 all zones fail (down); 09:11 two zones fail (up).
//     Counted 40 (the rest of the month has no data), down 1: 97.5%:
//     missed 99.99, worse than 99.99 and 99 (not 95): 25% = 2500 bps.
//   - latency p95: 120 values (100 x 80 ms, zone-2 at 09:20..09:33 14 x 250
//     ms, zone-3 at 09:34..09:39 6 x 900 ms); rank ceil(0.95*120) = 114:
//     250 ms <= 300: met. An extra zone-1 sample at 09:05:45 without
//     latency_ms is rejected by the latency rule (latency_ms present).
//   - error rate: status >= 500 fails: 5 of 121 (the extra sample counts):
//     500/121 = 4.1322...% > 1.0: missed, worse than 1.0 (not 5.0): 500 bps.
//   - one zone-2 sample claims region northeurope: zone/region mismatch.
//
// Credit 2500 + 500 = 3000 bps of 250000 = 75000.
func TestExampleAzure(t *testing.T) {
	s, f := loadExample(t, "azure-vm")
	o, err := Evaluate(mustPlan(t, s), mustPeriod(t, s, "2026-02"), f)
	if err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, o, []wantMetric{
		{"availability", "97.5", false, 2500},
		{"latency-p95", "250", true, 0},
		{"error-rate", "4.1322", false, 500},
	}, true, 3000, 75000, 0, false,
		SampleCounts{Read: 122, Accepted: 121, ZoneRegionMismatch: 1})
	if m := metric(t, o, "latency-p95"); m.Samples.RejectedRule != 1 || m.Samples.Valid != 120 {
		t.Errorf("latency samples %+v", m.Samples)
	}
	if m := metric(t, o, "error-rate"); m.Exact != "500/121" {
		t.Errorf("error rate exact %s", m.Exact)
	}
	// Byte-identical on every run.
	first, _ := o.JSON()
	for range 3 {
		if _, err := f.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		again, err := Evaluate(mustPlan(t, s), mustPeriod(t, s, "2026-02"), f)
		if err != nil {
			t.Fatal(err)
		}
		if j, _ := again.JSON(); string(j) != string(first) {
			t.Fatalf("outcome changed between runs:\n%s\n%s", first, j)
		}
	}
}

// Telecom SLA, February 2026 (28 days, 40320 minutes), one site, 60 s
// sampling. Incidents:
//   - INC-1 opened 01-31 22:00, acknowledged 22:15 (January), resolved
//     02-01 01:00: 3 h, counts for resolution in February.
//   - INC-2 opened 02-10 10:30 (repeated at 10:35: the earliest counts),
//     acknowledged 10:40 (10 min), resolved 13:30 (3 h).
//   - INC-3 (events out of order) opened 02-20 08:00, acknowledged 08:26
//     (26 min), resolved 14:00 (6 h).
//   - INC-4 opened 02-28 23:00, acknowledged 23:20 (20 min), resolved 03-01
//     02:00 (March: not in February's resolution mean).
//
// MTTRespond = (10+26+20)/3 = 18.666... min <= 20: met. MTTResolve =
// (3+3+6)/3 = 4 h exactly <= 4: met.
// Availability: 300 one-minute samples 02-10 10:00..14:59, 10:30-10:32
// failed; plus a duplicate, an unknown site and a sample on 03-01.
//   - with missing_data "excluded": 297/300 = 99% exactly >= 99: met, no
//     credit (99 is not worse than 99).
//   - with missing_data "down": the 40020 minutes without data are down:
//     100*297/40320 = 0.7366...%: missed (penalty 100000), worse than 97
//     (2500 bps, under the 5000 cap: 125000 of 500000) and than the
//     termination threshold 95.
func TestExampleTelecom(t *testing.T) {
	s, f := loadExample(t, "telecom")
	o, err := Evaluate(mustPlan(t, s), mustPeriod(t, s, "2026-02"), f)
	if err != nil {
		t.Fatal(err)
	}
	counts := SampleCounts{Read: 316, Events: 13, Accepted: 300, OutsidePeriod: 1, UnknownZone: 1, Duplicate: 1}
	mtt := []wantMetric{{"mttrespond", "18.6666", true, 0}, {"mttresolve", "4", true, 0}}
	var avail *sla.Metric
	for i := range s.Metrics {
		if s.Metrics[i].ID == "availability" {
			avail = &s.Metrics[i]
		}
	}
	switch avail.Rules.MissingData {
	case sla.MissingExcluded:
		checkOutcome(t, o, append(mtt, wantMetric{"availability", "99", true, 0}), false, 0, 0, 0, false, counts)
	case sla.MissingDown:
		checkOutcome(t, o, append(mtt, wantMetric{"availability", "0.7366", false, 2500}), true, 2500, 125000, 100000, true, counts)
	default:
		t.Skipf("no hand-computed outcome for missing_data %q", avail.Rules.MissingData)
	}
}
