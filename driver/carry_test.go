package driver

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCarryAcrossMonths: incidents open at the end of January are carried
// into February and count there with their full duration.
//   - INC-A: opened 01-31 22:00, acknowledged 22:10 (January: respond 10
//     min), resolved 02-01 02:00: February resolve 4 h.
//   - INC-B: opened 01-31 23:50, acknowledged 02-01 00:15 (February:
//     respond 25 min) and again 00:20 (ignored: the earliest counts),
//     resolved 03:50 (February: 4 h).
//   - INC-C: opened and resolved on 01-30: closed, not carried.
//   - INC-D: opened 02-01 01:00 in the January log (an event after the
//     period's end): not open at the end of January, not carried.
//
// February: respond 25 min (1 incident), resolve (4 h + 4 h) / 2 = 4 h.
// Without the carry both February incidents are unmatched.
func TestCarryAcrossMonths(t *testing.T) {
	s := mttSLA("min", "h")
	plan := mustPlan(t, s)
	at := func(v string) time.Time { return mustTime(t, v) }
	var jan, feb logBuilder
	jan.event(at("2026-01-30T10:00:00Z"), "INC-C", "opened")
	jan.event(at("2026-01-30T11:00:00Z"), "INC-C", "resolved")
	jan.event(at("2026-01-31T22:00:00Z"), "INC-A", "opened")
	jan.event(at("2026-01-31T22:10:00Z"), "INC-A", "acknowledged")
	jan.event(at("2026-01-31T23:50:00Z"), "INC-B", "opened")
	jan.event(at("2026-02-01T01:00:00Z"), "INC-D", "opened")
	feb.event(at("2026-02-01T00:20:00Z"), "INC-B", "acknowledged")
	feb.event(at("2026-02-01T00:15:00Z"), "INC-B", "acknowledged")
	feb.event(at("2026-02-01T02:00:00Z"), "INC-A", "resolved")
	feb.event(at("2026-02-01T03:50:00Z"), "INC-B", "resolved")

	janAcc, err := plan.NewAccumulator(mustPeriod(t, s, "2026-01"))
	if err != nil {
		t.Fatal(err)
	}
	if err := janAcc.AddFrom(strings.NewReader(jan.String())); err != nil {
		t.Fatal(err)
	}
	janOut, _ := janAcc.Outcome()
	if v := metric(t, janOut, "respond").Value; v != "10" {
		t.Errorf("January respond %q, want 10", v)
	}
	carry := janAcc.OpenIncidents()
	want := []Incident{
		{ID: "INC-A", OpenedMS: at("2026-01-31T22:00:00Z").UnixMilli(), Acknowledged: true, AcknowledgedMS: at("2026-01-31T22:10:00Z").UnixMilli()},
		{ID: "INC-B", OpenedMS: at("2026-01-31T23:50:00Z").UnixMilli()},
	}
	if !reflect.DeepEqual(carry, want) {
		t.Fatalf("OpenIncidents %+v, want %+v", carry, want)
	}

	febPeriod := mustPeriod(t, s, "2026-02")
	check := func(name string, acc *Accumulator, wantRespond, wantResolve string, unmatched int64) []byte {
		t.Helper()
		o, _ := acc.Outcome()
		rp, rs := metric(t, o, "respond"), metric(t, o, "resolve")
		if rp.Value != wantRespond || rs.Value != wantResolve || detail(rs, "unmatched") != unmatched ||
			detail(rp, "incidents") != map[bool]int64{true: 1, false: 0}[wantRespond != ""] {
			t.Errorf("%s: respond %q %v resolve %q %v, want %q %q unmatched %d", name, rp.Value, rp.Details, rs.Value, rs.Details, wantRespond, wantResolve, unmatched)
		}
		j, _ := o.JSON()
		return j
	}
	// Without the carry: both resolutions are unmatched, the
	// acknowledgement of INC-B too.
	plain, _ := plan.NewAccumulator(febPeriod)
	if err := plain.AddFrom(strings.NewReader(feb.String())); err != nil {
		t.Fatal(err)
	}
	check("no carry", plain, "", "", 2)

	withCarry, err := plan.NewAccumulatorWithCarry(febPeriod, carry)
	if err != nil {
		t.Fatal(err)
	}
	if got := withCarry.OpenIncidents(); !reflect.DeepEqual(got, want) {
		t.Errorf("seeded accumulator: OpenIncidents %+v", got)
	}
	// The carry is part of the state: persist it, restore into a plain
	// accumulator, then add February's log.
	state, err := withCarry.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored, _ := plan.NewAccumulator(febPeriod)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for _, acc := range []*Accumulator{withCarry, restored} {
		if err := acc.AddFrom(strings.NewReader(feb.String())); err != nil {
			t.Fatal(err)
		}
	}
	a := check("carry", withCarry, "25", "4", 0)
	b := check("carry, restored", restored, "25", "4", 0)
	if !bytes.Equal(a, b) {
		t.Errorf("restored outcome differs:\n%s\n%s", a, b)
	}
	if o, _ := withCarry.Outcome(); o.Samples.Events != 4 || o.Samples.Read != 4 {
		t.Errorf("carried incidents counted as records: %+v", o.Samples)
	}
	if got := withCarry.OpenIncidents(); len(got) != 0 {
		t.Errorf("February leaves open %+v", got)
	}
	// One log of both months evaluated for February gives the same values.
	one := evaluate(t, s, "2026-02", jan.String()+feb.String())
	if rp, rs := metric(t, one, "respond"), metric(t, one, "resolve"); rp.Exact != metric(t, mustOutcome(t, withCarry), "respond").Exact || rs.Exact != metric(t, mustOutcome(t, withCarry), "resolve").Exact {
		t.Errorf("one log: respond %s resolve %s", rp.Exact, rs.Exact)
	}
}

func mustOutcome(t *testing.T, a *Accumulator) *Outcome {
	t.Helper()
	o, err := a.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestCarryRespondOnly: without a mean-time-to-resolve metric an incident is
// closed by its acknowledgement.
func TestCarryRespondOnly(t *testing.T) {
	s := mttSLA("min", "h")
	s.Metrics = s.Metrics[:1]
	s.Consequences.Penalties = s.Consequences.Penalties[:1]
	plan := mustPlan(t, s)
	var jan logBuilder
	jan.event(mustTime(t, "2026-01-31T23:00:00Z"), "I1", "opened")
	jan.event(mustTime(t, "2026-01-31T23:05:00Z"), "I1", "acknowledged")
	jan.event(mustTime(t, "2026-01-31T23:30:00Z"), "I2", "opened")
	acc, _ := plan.NewAccumulator(mustPeriod(t, s, "2026-01"))
	if err := acc.AddFrom(strings.NewReader(jan.String())); err != nil {
		t.Fatal(err)
	}
	if got := acc.OpenIncidents(); len(got) != 1 || got[0].ID != "I2" || got[0].Acknowledged {
		t.Errorf("OpenIncidents %+v", got)
	}
	// No mean-time metric: nothing to carry.
	av, _ := mustPlan(t, testSLA("calendar_month", 0)).NewAccumulator(mustPeriod(t, s, "2026-01"))
	if err := av.AddFrom(strings.NewReader(jan.String())); err != nil {
		t.Fatal(err)
	}
	if got := av.OpenIncidents(); got != nil {
		t.Errorf("availability plan: %+v", got)
	}
}

func TestCarryErrors(t *testing.T) {
	s := mttSLA("min", "h")
	plan := mustPlan(t, s)
	feb := mustPeriod(t, s, "2026-02")
	start := feb.Start.UnixMilli()
	for _, c := range []struct {
		name  string
		carry []Incident
		want  string
	}{
		{"empty id", []Incident{{OpenedMS: start - 1}}, "carry[0].id: must not be empty"},
		{"twice", []Incident{{ID: "a", OpenedMS: start - 2}, {ID: "a", OpenedMS: start - 1}}, "carry[1].id: incident \"a\" is carried twice"},
		{"opened in the period", []Incident{{ID: "a", OpenedMS: start}}, "carry[0].opened_ms"},
		{"acknowledged in the period", []Incident{{ID: "a", OpenedMS: start - 1, Acknowledged: true, AcknowledgedMS: start}}, "carry[0].acknowledged_ms"},
		{"time without flag", []Incident{{ID: "a", OpenedMS: start - 1, AcknowledgedMS: start - 1}}, "acknowledged is false"},
	} {
		if _, err := plan.NewAccumulatorWithCarry(feb, c.carry); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := plan.NewAccumulatorWithCarry(feb, nil); err != nil {
		t.Errorf("empty carry: %v", err)
	}
}
