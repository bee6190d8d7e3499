package logs

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the Decoder (it must never panic) and
// checks, line by line, that whenever a fast path (the canonical-shape
// matcher or the general scanner) accepts a line the strict fallback
// accepts it too and decodes the same Sample.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"probe-a1","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87,"status":200}}`))
	f.Add([]byte(`{"time":"2026-03-01T00:05:00Z","source":{"probe":"noc","zone":"zone-a","region":"region-1"},"event":{"incident":"INC-42","type":"opened"}}`))
	f.Add([]byte("{ \"source\" : {\"zone\":\"z\",\"region\":\"r\",\"probe\":\"p\"} ,\"measurements\":{\"ok\":0,\"x\":-12},\"time\":\"2026-03-01T00:00:00.5Z\"}\n\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(bytes.NewReader(data), Options{Measurements: testNames, MaxLineBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		var s Sample
		for i := 0; i < 10000; i++ {
			if err := d.Next(&s); err != nil {
				if _, ok := err.(*LineError); !ok {
					break
				}
			}
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var fs, cs, ss Sample
			canonical := parseCanonical(line, testNames, NewInterner(), &cs)
			if !parseFast(line, testNames, NewInterner(), &fs) {
				if canonical {
					t.Fatalf("canonical path accepted %q, general scanner rejected it", line)
				}
				continue
			}
			if canonical && cs != fs {
				t.Fatalf("line %q: canonical %+v, general %+v", line, cs, fs)
			}
			if le := parseStrict(line, testNames, NewInterner(), &ss); le != nil {
				t.Fatalf("fast path accepted %q, fallback rejected it: %v", line, le)
			}
			if fs != ss {
				t.Fatalf("line %q: fast %+v, fallback %+v", line, fs, ss)
			}
		}
	})
}
