package driver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/sla"
)

// testSLA returns a small valid SLA: zones zone-a/b/c in region-1, one
// availability metric (ok == 0 fails; a zone is down when all its samples
// fail), tiers 99.99 -> 10%, 99 -> 30%, 95 -> 100%.
func testSLA(unit string, seconds int64) *sla.SLA {
	return &sla.SLA{
		SchemaVersion: sla.SchemaVersion,
		ID:            "test",
		Price:         sla.Price{AmountMinor: 100000, Currency: "USD"},
		Validity:      sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2029-01-01T00:00:00Z"},
		Interval: sla.Interval{BillingCycle: sla.BillingCycle{Unit: unit, Seconds: seconds}, TimeZone: "UTC",
			SamplingPeriodMS: 1000, SubIntervalSeconds: 60},
		Monitoring: sla.Monitoring{Zones: []sla.Zone{{ID: "zone-a", Region: "region-1"}, {ID: "zone-b", Region: "region-1"}, {ID: "zone-c", Region: "region-1"}}},
		Metrics: []sla.Metric{{
			ID: "availability", Name: "uptime", Unit: "percent",
			Driver:    sla.DriverRef{ID: "availability", Version: "1"},
			Objective: sla.Objective{Operator: ">=", Target: "99.99"},
			Rules: sla.Rules{
				Valid:       []sla.Condition{{Measurement: "ok", Op: "present"}},
				Failure:     []sla.Condition{{Measurement: "ok", Op: "==", Value: 0}},
				ZoneDownBPS: 10000, MinZonesDown: 1, MinSamples: 1, MissingData: "up",
			},
		}},
		Consequences: sla.Consequences{
			CreditTiers: []sla.CreditTier{
				{Metric: "availability", WorseThan: "99.99", CreditBPS: 1000},
				{Metric: "availability", WorseThan: "99", CreditBPS: 3000},
				{Metric: "availability", WorseThan: "95", CreditBPS: 10000},
			},
			MaxCreditBPS: 10000,
		},
	}
}

// logBuilder writes JSON Lines log records.
type logBuilder struct{ strings.Builder }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sample writes a measurement record; meas is the inside of the
// measurements object, e.g. `"ok":true`.
func (b *logBuilder) sample(t time.Time, probe, zone, meas string) {
	fmt.Fprintf(&b.Builder, `{"time":%q,"source":{"probe":%q,"zone":%q,"region":"region-1"},"measurements":{%s}}`+"\n", ts(t), probe, zone, meas)
}

func (b *logBuilder) event(t time.Time, incident, typ string) {
	fmt.Fprintf(&b.Builder, `{"time":%q,"source":{"probe":"noc","zone":"zone-a","region":"region-1"},"event":{"incident":%q,"type":%q}}`+"\n", ts(t), incident, typ)
}

func okMeas(ok bool) string { return fmt.Sprintf(`"ok":%v`, ok) }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustPlan(t *testing.T, s *sla.SLA) *Plan {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func mustPeriod(t *testing.T, s *sla.SLA, text string) Period {
	t.Helper()
	p, err := ParsePeriod(s, text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func evaluate(t *testing.T, s *sla.SLA, period, log string) *Outcome {
	t.Helper()
	p := mustPlan(t, s)
	o, err := Evaluate(p, mustPeriod(t, s, period), strings.NewReader(log))
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return o
}

func metric(t *testing.T, o *Outcome, id string) MetricOutcome {
	t.Helper()
	for _, m := range o.Metrics {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no metric %s in outcome", id)
	return MetricOutcome{}
}

func detail(m MetricOutcome, name string) int64 {
	for _, d := range m.Details {
		if d.Name == name {
			return d.Value
		}
	}
	return -1
}
