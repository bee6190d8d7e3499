package logs

import (
	"bytes"
	"testing"
)

func benchLines(line string, n int) []byte {
	return bytes.Repeat([]byte(line+"\n"), n)
}

// BenchmarkDecode measures the decoder alone on 100k identical lines of
// each shape: canonical (the logger's compact key order), reordered with
// whitespace (general scanner), and with an escape (strict fallback).
func BenchmarkDecode(b *testing.B) {
	shapes := []struct{ name, line string }{
		{"canonical", `{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"probe-a1","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87,"status":200}}`},
		{"reordered", `{ "measurements": {"status": 200, "latency_ms": 87, "ok": true}, "source": {"region": "region-1", "zone": "zone-a", "probe": "probe-a1"}, "time": "2026-03-01T00:00:00.000Z" }`},
		{"fallback", `{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"probe-\u00611","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87,"status":200}}`},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			const lines = 100000
			data := benchLines(sh.line, lines)
			in := NewInterner()
			buf := make([]Sample, 1024)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				// A decoder reads its input once: make one per pass.
				d, err := NewDecoder(bytes.NewReader(data), Options{Measurements: []string{"ok", "latency_ms", "status"}, Interner: in})
				if err != nil {
					b.Fatal(err)
				}
				total := 0
				for {
					n, err := d.Decode(buf)
					total += n
					if n == 0 || err != nil {
						break
					}
				}
				if total != lines {
					b.Fatalf("decoded %d lines, want %d", total, lines)
				}
			}
		})
	}
}
