package driver

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// roundTrip decodes the outcome's JSON with ParseOutcome and with
// json.Unmarshal and checks that both encode to the same bytes and hold
// the same values (Rat restored exactly).
func roundTrip(t *testing.T, name string, o *Outcome) {
	t.Helper()
	want, err := o.JSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseOutcome(want)
	if err != nil {
		t.Fatalf("%s: ParseOutcome: %v\n%s", name, err, want)
	}
	var plain Outcome
	if err := json.Unmarshal(want, &plain); err != nil {
		t.Fatalf("%s: json.Unmarshal: %v", name, err)
	}
	for _, got := range []*Outcome{parsed, &plain} {
		again, err := got.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, want) {
			t.Fatalf("%s: round trip changed the bytes:\n%s\n%s", name, want, again)
		}
		if len(got.Metrics) != len(o.Metrics) {
			t.Fatalf("%s: %d metrics, want %d", name, len(got.Metrics), len(o.Metrics))
		}
		a, b := *got, *o
		a.Metrics, b.Metrics = append([]MetricOutcome(nil), got.Metrics...), append([]MetricOutcome(nil), o.Metrics...)
		for i := range a.Metrics {
			ra, rb := a.Metrics[i].Rat, b.Metrics[i].Rat
			if (ra == nil) != (rb == nil) || ra != nil && ra.Cmp(rb) != 0 {
				t.Fatalf("%s: metric %d: Rat %v, want %v", name, i, ra, rb)
			}
			a.Metrics[i].Rat, b.Metrics[i].Rat = nil, nil
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: decoded %+v\nwant %+v", name, a, b)
		}
	}
}

// TestOutcomeRoundTrip: the outcomes of the examples and of random SLAs
// and logs (every driver, no-data metrics, negative and fractional values)
// decode back into the same Outcome, byte for byte.
func TestOutcomeRoundTrip(t *testing.T) {
	for _, name := range []string{"aws-ec2-region", "azure-vm", "telecom"} {
		dir := filepath.Join("..", "examples", name)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		s, f := loadExample(t, name)
		p := mustPlan(t, s)
		// The period of the log's first line.
		first, _ := os.ReadFile(filepath.Join(dir, "logs.jsonl"))
		var rec struct{ Time string }
		_ = json.Unmarshal(first[:bytes.IndexByte(first, '\n')], &rec)
		period, err := PeriodOf(s, mustTime(t, rec.Time))
		if err != nil {
			t.Fatal(err)
		}
		o, err := Evaluate(p, period, f)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, name, o)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100 {
		kinds := []int{i % 6}
		for k := range 6 {
			if r.IntN(3) == 0 {
				kinds = append(kinds, k)
			}
		}
		kinds = uniqueKinds(kinds)
		s, recs := randomCase(r, kinds)
		p := mustPlan(t, s)
		period := mustPeriod(t, s, "2026-01-01T00:10:00Z")
		acc, _ := p.NewAccumulator(period)
		acc.Add(samplesOf(recs[:r.IntN(len(recs))], acc.Interner()))
		o, err := acc.Outcome()
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, "random", o)
	}
}

func uniqueKinds(ks []int) []int {
	var out []int
	seen := map[int]bool{}
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func TestOutcomeDecodeErrors(t *testing.T) {
	s := testSLA("seconds", 600)
	o, err := Evaluate(mustPlan(t, s), mustPeriod(t, s, "2026-01-01T00:00:00Z"), strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := o.JSON()
	for _, c := range []struct{ name, from, to, want string }{
		{"fractional detail", `"sub_intervals":10`, `"sub_intervals":1.5`, "details.sub_intervals"},
		{"string detail", `"sub_intervals":10`, `"sub_intervals":"10"`, "details.sub_intervals"},
		{"huge detail", `"sub_intervals":10`, `"sub_intervals":99999999999999999999`, "int64 range"},
		{"repeated detail", `"sub_intervals":10`, `"sub_intervals":10,"sub_intervals":10`, "repeated"},
		{"details not an object", `"details":{`, `"details":[],"d2":{`, "want a JSON object"},
		{"bad exact", `"exact":"100/1"`, `"exact":"200/2"`, "reduced fraction"},
		{"unknown metric field", `"exact":"100/1"`, `"exact":"100/1","extra":1`, "unknown field"},
		{"unknown field", `"sla_id"`, `"x":1,"sla_id"`, "unknown field"},
		{"trailing", "}\n", "}{}", "trailing"},
	} {
		bad := strings.Replace(string(good), c.from, c.to, 1)
		if bad == string(good) {
			t.Fatalf("%s: pattern %q not in %s", c.name, c.from, good)
		}
		if _, err := ParseOutcome([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	var d Details
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d != nil {
		t.Errorf("null details: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`{"b":-2,"a":1}`), &d); err != nil || !reflect.DeepEqual(d, Details{{"b", -2}, {"a", 1}}) {
		t.Errorf("ordered details: %v %v", d, err)
	}
}
