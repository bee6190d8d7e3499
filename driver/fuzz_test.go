package driver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/sla"
)

// FuzzAccumulatorUnmarshal: restoring arbitrary bytes never panics, and a
// state that is accepted marshals again to the same bytes.
func FuzzAccumulatorUnmarshal(f *testing.F) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics = append(s.Metrics, latencySLA(50, "ms").Metrics[0], mttSLA("min", "h").Metrics[1])
	plan, err := Compile(s)
	if err != nil {
		f.Fatal(err)
	}
	period, _ := ParsePeriod(s, "2026-01-01T00:00:00Z")
	acc, _ := plan.NewAccumulator(period)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b logBuilder
	b.sample(t0, "pa", "zone-a", `"ok":true,"latency_ms":12`)
	b.sample(t0.Add(time.Minute), "pb", "zone-b", `"ok":false,"latency_ms":9000`)
	b.event(t0, "I", "opened")
	b.event(t0.Add(time.Minute), "I", "resolved")
	if err := acc.AddFrom(strings.NewReader(b.String())); err != nil {
		f.Fatal(err)
	}
	state, _ := acc.MarshalBinary()
	f.Add(state)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := plan.NewAccumulator(period)
		if a.UnmarshalBinary(data) != nil {
			return
		}
		if _, err := a.Outcome(); err != nil {
			t.Fatal(err)
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := plan.NewAccumulator(period)
		if err := b.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-marshalled state refused: %v", err)
		}
	})
}

// FuzzAccumulatorUnmarshalHeader: restoring an arbitrary header and
// arbitrary page bytes never panics; an accepted header with its pages
// accepted gives an outcome and marshals again to a header that is
// accepted.
func FuzzAccumulatorUnmarshalHeader(f *testing.F) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Metrics = append(s.Metrics, latencySLA(50, "ms").Metrics[0], mttSLA("min", "h").Metrics[1])
	plan, err := Compile(s)
	if err != nil {
		f.Fatal(err)
	}
	period, _ := ParsePeriod(s, "2026-01-01T00:00:00Z")
	acc, _ := plan.NewAccumulator(period)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b logBuilder
	b.sample(t0, "pa", "zone-a", `"ok":true,"latency_ms":12`)
	b.sample(t0.Add(time.Minute), "pb", "zone-b", `"ok":false,"latency_ms":9000`)
	b.event(t0, "I", "opened")
	if err := acc.AddFrom(strings.NewReader(b.String())); err != nil {
		f.Fatal(err)
	}
	header, pages, _ := acc.MarshalPaged()
	f.Add(header, pages[0].Data)
	f.Fuzz(func(t *testing.T, header, page []byte) {
		a, _ := plan.NewAccumulator(period)
		if a.UnmarshalHeader(header) != nil {
			return
		}
		for _, name := range a.PageNames() {
			if a.LoadPage(name, page) != nil {
				return
			}
		}
		if _, err := a.Outcome(); err != nil {
			t.Fatal(err)
		}
		again, _, err := a.MarshalPaged()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := plan.NewAccumulator(period)
		if err := b.UnmarshalHeader(again); err != nil {
			t.Fatalf("re-marshalled header refused: %v", err)
		}
	})
}

// FuzzSupportUnmarshal: restoring an arbitrary state of an SLA with a
// support section never panics; an accepted state gives an outcome and its
// open tickets, which a next period accepts as its carry.
func FuzzSupportUnmarshal(f *testing.F) {
	s := testSLA(sla.CycleSeconds, 600)
	s.Support = &sla.Support{
		Calendars:      []sla.SupportCalendar{{ID: "always", Kind: sla.CalendarTwentyFourSeven}},
		Severities:     []sla.Severity{{ID: "critical", Acceptance: sla.Target{TargetMS: 60000, Calendar: "always"}, Closure: sla.Target{TargetMS: 120000, Calendar: "always"}}},
		SeverityChange: sla.SeverityChangeKeepElapsed,
		Penalties:      []sla.TicketPenalty{{Severity: "critical", Target: sla.TargetAcceptance, AmountMinor: 5}},
		Objectives:     []sla.SupportObjective{{ID: "respond", Measure: sla.TargetAcceptance, Operator: sla.OpLE, TargetMS: 60000}},
	}
	plan, err := Compile(s)
	if err != nil {
		f.Fatal(err)
	}
	period, _ := ParsePeriod(s, "2026-01-01T00:00:00Z")
	next, _ := ParsePeriod(s, "2026-01-01T00:10:00Z")
	acc, _ := plan.NewAccumulator(period)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, ev := range []string{`"opened","severity":"critical"`, `"acknowledged"`, `"paused"`, `"resumed"`, `"resolved"`, `"reopened"`} {
		fmt.Fprintf(&b, `{"time":%q,"source":{"probe":"t","zone":"zone-a","region":"region-1"},"event":{"incident":"T","type":%s}}`+"\n",
			ts(t0.Add(time.Duration(i)*time.Second)), ev)
	}
	if err := acc.AddFrom(strings.NewReader(b.String())); err != nil {
		f.Fatal(err)
	}
	state, _ := acc.MarshalBinary()
	f.Add(state)
	header, _, _ := acc.MarshalPaged()
	f.Add(header)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, restore := range []func(*Accumulator, []byte) error{(*Accumulator).UnmarshalBinary, (*Accumulator).UnmarshalHeader} {
			a, _ := plan.NewAccumulator(period)
			if restore(a, data) != nil {
				continue
			}
			if a.checkPaging(true) != nil {
				continue // pages to load first
			}
			if _, err := a.Outcome(); err != nil {
				t.Fatal(err)
			}
			n, _ := plan.NewAccumulator(next)
			if err := n.CarryTickets(a.OpenTickets()); err != nil {
				t.Fatalf("the open tickets of an accepted state are refused as a carry: %v", err)
			}
		}
	})
}
