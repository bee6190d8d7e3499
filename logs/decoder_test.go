package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

var testNames = []string{"ok", "latency_ms", "status"}

func TestDecodeLines(t *testing.T) {
	// 2026-03-01T00:00:00Z is 1772323200 s after the Unix epoch.
	const t0 = int64(1772323200000)
	tests := []struct {
		name string
		line string
		want Sample // Probe/Zone/Region ids are 0: fresh interner per case
		fast bool   // the scanner should accept it
		err  string // substring of the error, "" when valid
		// canonical: the canonical-shape matcher should accept it
		canonical bool
	}{
		{"common", `{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"ok":true,"latency_ms":87,"status":200}}`,
			Sample{TimeMS: t0, Values: [8]int64{1, 87, 200}, Present: 7, Kind: KindMeasurement}, true, "", true},
		{"key order and whitespace", " {\t\"measurements\" : { \"status\" : 503 , \"ok\" : false } , \"source\":{\"region\":\"r\",\"zone\":\"z\",\"probe\":\"p\"},\"time\":\"2026-03-01T00:00:01.123456789Z\" }\r",
			Sample{TimeMS: t0 + 1123, Values: [8]int64{0, 0, 503}, Present: 5, Kind: KindMeasurement}, true, "", false},
		{"unreferenced measurement skipped", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"cpu_pct":-5,"ok":1}}`,
			Sample{TimeMS: t0, Values: [8]int64{1}, Present: 1, Kind: KindMeasurement}, true, "", true},
		{"escaped strings go to the fallback", `{"time":"2026-03-01T00:00:00\u005a","source":{"probe":"\u0070","zone":"z","region":"r"},"measurements":{"ok":true}}`,
			Sample{TimeMS: t0, Values: [8]int64{1}, Present: 1, Kind: KindMeasurement}, false, "", false},
		{"event", `{"time":"2026-03-01T00:05:00Z","source":{"probe":"noc","zone":"z","region":"r"},"event":{"incident":"INC-42","type":"opened"}}`,
			Sample{TimeMS: t0 + 300000, Kind: KindEvent, Event: EventOpened}, true, "", true},
		{"big integer via fallback", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"status":9223372036854775807}}`,
			Sample{TimeMS: t0, Values: [8]int64{0, 0, 9223372036854775807}, Present: 4, Kind: KindMeasurement}, false, "", false},
		{"fraction rejected", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"latency_ms":1.5}}`, Sample{}, false, "measurements.latency_ms: 1.5 is not an integer", false},
		{"string value rejected", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"ok":"yes"}}`, Sample{}, false, "measurements.ok: must be an integer or a boolean", false},
		{"bad name", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{"Latency":1}}`, Sample{}, false, "measurements.Latency: measurement name", false},
		{"unknown top-level key", `{"time":"2026-03-01T00:00:00Z","host":"x","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}}`, Sample{}, false, "host: unknown field", false},
		{"case matters", `{"TIME":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}}`, Sample{}, false, "TIME: unknown field", false},
		{"duplicate key", `{"time":"2026-03-01T00:00:00Z","time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}}`, Sample{}, false, "time: duplicate key", false},
		{"not UTC", `{"time":"2026-03-01T00:00:00+01:00","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}}`, Sample{}, false, "time: \"2026-03-01T00:00:00+01:00\" is not an RFC 3339 UTC time", false},
		{"Feb 29 in a common year", `{"time":"2026-02-29T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}}`, Sample{}, false, "time:", false},
		{"both kinds", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{},"event":{"incident":"i","type":"opened"}}`, Sample{}, false, "either measurements or event", false},
		{"neither kind", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"}}`, Sample{}, false, "measurements: missing", false},
		{"missing zone", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","region":"r"},"measurements":{}}`, Sample{}, false, "source.zone: missing", false},
		{"bad event type", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"event":{"incident":"i","type":"escalated"}}`, Sample{}, false, "event.type: \"escalated\" is not one of opened, acknowledged, resolved, paused, resumed, reopened, closed, severity_changed", false},
		{"ticket opened with its severity", `{"time":"2026-03-01T00:05:00Z","source":{"probe":"tickets","zone":"z","region":"r"},"event":{"incident":"T-1","type":"opened","severity":"critical"}}`,
			Sample{TimeMS: t0 + 300000, Kind: KindEvent, Event: EventOpened, Severity: 1}, false, "", false},
		{"ticket closed", `{"time":"2026-03-01T00:05:00Z","source":{"probe":"tickets","zone":"z","region":"r"},"event":{"type":"closed","incident":"T-1"}}`,
			Sample{TimeMS: t0 + 300000, Kind: KindEvent, Event: EventClosed}, false, "", false},
		{"severity changed", `{"time":"2026-03-01T00:05:00Z","source":{"probe":"tickets","zone":"z","region":"r"},"event":{"incident":"T-1","type":"severity_changed","severity":"low-2"}}`,
			Sample{TimeMS: t0 + 300000, Kind: KindEvent, Event: EventSeverityChanged, Severity: 1}, false, "", false},
		{"severity changed without severity", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"event":{"incident":"i","type":"severity_changed"}}`, Sample{}, false, "event.severity: missing (a severity_changed event names the new severity)", false},
		{"severity on a pause", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"event":{"incident":"i","type":"paused","severity":"high"}}`, Sample{}, false, "event.severity: only an opened or severity_changed event has a severity, not paused", false},
		{"bad severity", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"event":{"incident":"i","type":"opened","severity":"High"}}`, Sample{}, false, "event.severity: must match ^[a-z][a-z0-9_-]{0,63}$", false},
		{"trailing data", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r"},"measurements":{}} {}`, Sample{}, false, "unexpected data after the record", false},
		{"truncated", `{"time":"2026-03-01T00:00:00Z","source":{"probe":"p"`, Sample{}, false, "invalid JSON", false},
		{"array", `[1,2]`, Sample{}, false, "must be a JSON object", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fs, ss Sample
			var cs Sample
			fastOK := parseFast([]byte(tc.line), testNames, NewInterner(), &fs)
			canonOK := parseCanonical([]byte(tc.line), testNames, NewInterner(), &cs)
			if canonOK && cs != tc.want {
				t.Errorf("canonical %+v, want %+v", cs, tc.want)
			}
			if canonOK != tc.canonical {
				t.Errorf("canonical path accepted = %v, want %v", canonOK, tc.canonical)
			}
			if fastOK != tc.fast {
				t.Errorf("fast path accepted = %v, want %v", fastOK, tc.fast)
			}
			d, err := NewDecoder(strings.NewReader(tc.line+"\n"), Options{Measurements: testNames})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Next(&ss)
			if tc.err != "" {
				var le *LineError
				if !errors.As(err, &le) || le.Line != 1 || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want line 1 containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ss != tc.want {
				t.Errorf("sample = %+v, want %+v", ss, tc.want)
			}
			if fastOK && fs != ss {
				t.Errorf("fast %+v != decoded %+v", fs, ss)
			}
		})
	}
}

func TestDecoderStream(t *testing.T) {
	in := "\n" + `{"time":"2026-03-01T00:00:00Z","source":{"probe":"a","zone":"z1","region":"r"},"measurements":{"ok":true}}` + "\n  \n" +
		`{"time":"2026-03-01T00:00:01Z","source":{"probe":"b","zone":"z2","region":"r"},"measurements":{"ok":false}}` + "\n" +
		`{"time":"2026-03-01T00:00:02Z","source":{"probe":"a","zone":"z1","region":"r"},"measurements":{"ok":bad}}` + "\n" +
		`{"time":"2026-03-01T00:00:03Z","source":{"probe":"a","zone":"z1","region":"r"},"event":{"incident":"I","type":"resolved"}}`
	d, _ := NewDecoder(strings.NewReader(in), Options{Measurements: []string{"ok"}})
	buf := make([]Sample, 10)
	n, err := d.Decode(buf)
	if n != 2 || err == nil || !strings.HasPrefix(err.Error(), "line 5: invalid JSON") {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if buf[1].Probe != 1 || buf[1].Zone != 1 || buf[1].Region != 0 || buf[1].Values[0] != 0 {
		t.Errorf("second sample %+v", buf[1])
	}
	n, err = d.Decode(buf)
	if n != 1 || err != nil || buf[0].Kind != KindEvent || buf[0].Event != EventResolved || d.in.Incidents.Name(buf[0].Incident) != "I" {
		t.Fatalf("n=%d err=%v %+v", n, err, buf[0])
	}
	if n, err = d.Decode(buf); n != 0 || err != io.EOF {
		t.Fatalf("n=%d err=%v, want EOF", n, err)
	}
}

func TestLongLines(t *testing.T) {
	long := `{"time":"2026-03-01T00:00:00Z","source":{"probe":"` + strings.Repeat("p", 200) + `","zone":"z","region":"r"},"measurements":{"ok":true}}`
	var b bytes.Buffer
	for range 2000 {
		b.WriteString(long)
		b.WriteByte('\n')
	}
	d, _ := NewDecoder(iotestHalfReader{&b}, Options{Measurements: []string{"ok"}})
	var s Sample
	n := 0
	for d.Next(&s) == nil {
		n++
	}
	if n != 2000 {
		t.Fatalf("decoded %d lines", n)
	}
	d, _ = NewDecoder(strings.NewReader(long+"\n"+long+"\n"), Options{MaxLineBytes: 100})
	if err := d.Next(&s); err == nil || !strings.Contains(err.Error(), "line 1: line longer than 100 bytes") {
		t.Fatal(err)
	}
}

// iotestHalfReader returns at most 777 bytes per Read to exercise buffer
// refills across line boundaries.
type iotestHalfReader struct{ r io.Reader }

func (h iotestHalfReader) Read(p []byte) (int, error) {
	if len(p) > 777 {
		p = p[:777]
	}
	return h.r.Read(p)
}

func TestZeroAllocsPerLine(t *testing.T) {
	line := []byte(`{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"probe-a1","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87,"status":200}}` + "\n")
	data := bytes.Repeat(line, 1000)
	r := bytes.NewReader(data)
	d, _ := NewDecoder(r, Options{Measurements: testNames})
	var s Sample
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(data)
		for d.Next(&s) == nil {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 1000 lines", allocs)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01T00:00:00Z", 0, true},
		{"1970-01-01T00:00:00.9Z", 900, true},
		{"1970-01-01T00:00:00.0019Z", 1, true},
		{"1969-12-31T23:59:59.999Z", -1, true},
		{"2024-02-29T00:00:00Z", 1709164800000, true},
		{"2024-02-30T00:00:00Z", 0, false},
		{"2026-03-01T24:00:00Z", 0, false},
		{"2026-03-01T00:00:60Z", 0, false},
		{"2026-03-01T00:00:00.Z", 0, false},
		{"2026-03-01T00:00:00.1234567890Z", 0, false},
		{"2026-03-01t00:00:00z", 0, false},
		{"2026-03-01 00:00:00Z", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseTime([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDaysSinceEpoch(t *testing.T) {
	for _, y := range []int{0, 1, 99, 100, 399, 400, 1582, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999} {
		for m := 1; m <= 12; m++ {
			for _, d := range []int{1, 15, daysIn(y, m)} {
				want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
				if got := daysSinceEpoch(y, m, d); got != want {
					t.Fatalf("%04d-%02d-%02d: %d, want %d", y, m, d, got, want)
				}
			}
		}
	}
}
