package driver

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// The benchmarks evaluate one SLA (AWS-style: 3 zones, down when >= 2 zones
// fail in a minute, missing data excluded, calendar month) over April 2026
// (30 days) of 1-second samples from one probe per zone: 7,776,000 samples,
// 1.13 GB of JSON Lines (145 bytes a line) generated on the fly (never
// held in memory).
// Each runs on the first half of the month (half-month, 15 days) and on the
// whole month, so that the figures show memory flat in the number of
// samples. Run them with -benchtime=1x (one evaluation per run; repeat
// with -count on a busy machine and compare with benchstat):
//
//	go test ./driver -run '^$' -bench . -benchtime=1x -count 5
//
// Besides ns/op, B/op and allocs/op (per evaluation of the period), they
// report:
//   - samples/s: samples per wall-clock second (depends on other load);
//   - samples/cpu-s, MB/cpu-s: per CPU-second of the process (user +
//     system time from getrusage, generator and GC included), the per-core
//     figure, robust to other processes on the machine;
//   - peak-heap-B (end to end): the highest HeapInuse sampled while
//     decoding, the same for half and whole month when memory is flat.
//
// Targets (issue 2): driver >= 50M samples per core-second on decoded
// samples; end to end >= 250 MB per core-second and >= 3x the
// encoding/json baseline. Profile with
//
//	go test ./driver -run '^$' -bench DriverDecoded/month -benchtime=5x -cpuprofile cpu.prof
//	go tool pprof -top driver.test cpu.prof

func benchSLA() *sla.SLA {
	s := testSLA(sla.CycleCalendarMonth, 0)
	s.Metrics[0].Rules.MinZonesDown = 2
	s.Metrics[0].Rules.MissingData = sla.MissingExcluded
	return s
}

var benchZones = []string{"zone-a", "zone-b", "zone-c"}

// failedAt says whether zone z fails at second sec: zone-a fails during
// second 0..59 of every 1000th minute, zone-b during every 2000th minute.
func failedAt(z int, sec int64) bool {
	min := sec / 60
	return z == 0 && min%1000 == 7 || z == 1 && min%2000 == 7
}

// monthReader generates the JSON Lines of `seconds` seconds from start, one
// line per zone per second, e.g.
// {"time":"2026-04-01T00:00:00.000Z","source":{"probe":"probe-a1","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87}}
// It patches the digits of per-zone templates, so that generating costs
// little next to decoding.
type monthReader struct {
	start   time.Time
	seconds int64
	sec     int64
	day     []byte // "2006-01-02" of the current day
	dayNo   int64
	tmpl    [3][2][]byte // per zone, ok true/false
	buf     []byte
	off     int
	total   int64
	lines   int64
	peak    uint64 // highest HeapInuse seen (sampled every 2^20 lines)
}

const timePos = len(`{"time":"`)

func newMonthReader(start time.Time, seconds int64) *monthReader {
	m := &monthReader{start: start, seconds: seconds, buf: make([]byte, 0, 64<<10), dayNo: -1}
	for z, zone := range benchZones {
		for k, ok := range []string{"true", "false"} {
			m.tmpl[z][k] = fmt.Appendf(nil, `{"time":"2006-01-02T00:00:00.00%dZ","source":{"probe":"probe-%s1","zone":"%s","region":"region-1"},"measurements":{"ok":%s,"latency_ms":00}}`+"\n",
				z, zone[5:], zone, ok)
		}
	}
	return m
}

func two(b []byte, v int64) { b[0], b[1] = byte('0'+v/10), byte('0'+v%10) }

func (m *monthReader) fill() {
	m.buf, m.off = m.buf[:0], 0
	for m.sec < m.seconds && len(m.buf) < 60<<10 {
		if d := m.sec / 86400; d != m.dayNo {
			m.dayNo = d
			m.day = m.start.Add(time.Duration(d)*24*time.Hour).AppendFormat(m.day[:0], "2006-01-02")
		}
		daySec := m.sec % 86400
		for z := range benchZones {
			k := 0
			if failedAt(z, m.sec) {
				k = 1
			}
			n := len(m.buf)
			m.buf = append(m.buf, m.tmpl[z][k]...)
			line := m.buf[n:]
			copy(line[timePos:], m.day)
			two(line[timePos+11:], daySec/3600)
			two(line[timePos+14:], daySec/60%60)
			two(line[timePos+17:], daySec%60)
			two(line[len(line)-5:], 10+m.sec%80+int64(z)) // latency 10..91 ms
			m.lines++
			if m.lines&(1<<20-1) == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				m.peak = max(m.peak, ms.HeapInuse)
			}
		}
		m.sec++
	}
}

func (m *monthReader) Read(p []byte) (int, error) {
	if m.off == len(m.buf) {
		if m.sec >= m.seconds {
			return 0, io.EOF
		}
		m.fill()
	}
	n := copy(p, m.buf[m.off:])
	m.off += n
	m.total += int64(n)
	return n, nil
}

// jsonLinesSize runs the generator once to learn the stream size.
func jsonLinesSize(start time.Time, seconds int64) int64 {
	r := newMonthReader(start, seconds)
	buf := make([]byte, 1<<16)
	for {
		if _, err := r.Read(buf); err != nil {
			return r.total
		}
	}
}

type benchCase struct {
	name string
	days int64
}

var benchCases = []benchCase{{"half-month", 15}, {"month", 30}}

var aprilStart = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkEndToEnd: JSON Lines bytes -> Outcome (Evaluate: decoder +
// driver), streaming from the generator; MB/s and MB/cpu-s count JSON
// bytes. Compare with BenchmarkEncodingJSONBaseline in the same run.
func BenchmarkEndToEnd(b *testing.B) {
	plan, err := Compile(benchSLA())
	if err != nil {
		b.Fatal(err)
	}
	period, _ := PeriodOf(plan.SLA(), aprilStart)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			secs := bc.days * 86400
			b.SetBytes(jsonLinesSize(aprilStart, secs))
			b.ReportAllocs()
			var r *monthReader
			var o *Outcome
			cpu0 := cpuTime()
			for b.Loop() {
				r = newMonthReader(aprilStart, secs)
				if o, err = Evaluate(plan, period, r); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0, r.total*int64(b.N))
			b.ReportMetric(float64(r.lines)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(r.peak), "peak-heap-B")
			if o.Samples.Accepted != r.lines {
				b.Fatalf("accepted %d of %d", o.Samples.Accepted, r.lines)
			}
			b.Logf("%d lines, %d bytes, availability %s, peak heap %d B", r.lines, r.total, o.Metrics[0].Value, r.peak)
		})
	}
}

// reportCPU reports MB per CPU-second of the process (decoder, driver,
// generator and GC together): the per-core figure, independent of other
// load on the machine.
func reportCPU(b *testing.B, cpu0 time.Duration, bytes int64) {
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// benchRecord is the baseline: what a plain encoding/json decoder fills.
type benchRecord struct {
	Time   time.Time `json:"time"`
	Source struct {
		Probe  string `json:"probe"`
		Zone   string `json:"zone"`
		Region string `json:"region"`
	} `json:"source"`
	Measurements struct {
		OK        bool  `json:"ok"`
		LatencyMS int64 `json:"latency_ms"`
	} `json:"measurements"`
}

// BenchmarkEncodingJSONBaseline: the same bytes decoded by encoding/json
// (json.Decoder into a struct), doing nothing else.
func BenchmarkEncodingJSONBaseline(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			secs := bc.days * 86400
			b.SetBytes(jsonLinesSize(aprilStart, secs))
			b.ReportAllocs()
			var r *monthReader
			cpu0 := cpuTime()
			for b.Loop() {
				r = newMonthReader(aprilStart, secs)
				d := json.NewDecoder(r)
				var rec benchRecord
				n := int64(0)
				for {
					if err := d.Decode(&rec); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != r.lines {
					b.Fatalf("decoded %d of %d", n, r.lines)
				}
			}
			reportCPU(b, cpu0, r.total*int64(b.N))
			b.ReportMetric(float64(r.lines)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkDriverDecoded: the driver alone (NewAccumulator, Accumulator.Add
// over the month, then Outcome) on decoded samples; every sample goes
// through every check (period bounds, zone, region, duplicate bitmap,
// probe limit, the metric's rules) and into the availability cells. One
// 5-minute batch (900 samples, 86 KB: like AddFrom's 1024-sample batches
// it stays in the L2 cache) is built once; each next batch only shifts the
// times (one addition per sample) and, in one batch of 200, makes zone-a
// and zone-b fail. samples/s and samples/cpu-s are over the whole loop, so
// they include that upkeep; B/op is the accumulator (duplicate bitmaps and
// availability cells), allocated once per period.
func BenchmarkDriverDecoded(b *testing.B) {
	plan, err := Compile(benchSLA())
	if err != nil {
		b.Fatal(err)
	}
	period, _ := PeriodOf(plan.SLA(), aprilStart)
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			secs := bc.days * 86400
			const batchSecs = 300
			batch := make([]logs.Sample, batchSecs*3)
			b.ReportAllocs()
			var total int64
			cpu0 := cpuTime()
			for b.Loop() {
				acc, err := plan.NewAccumulator(period)
				if err != nil {
					b.Fatal(err)
				}
				in := acc.Interner()
				region, _ := in.Regions.InternString("region-1")
				for i := range batch {
					z := i % 3
					probe, _ := in.Probes.InternString("probe-" + benchZones[z][5:] + "1")
					zone, _ := in.Zones.InternString(benchZones[z])
					batch[i] = logs.Sample{TimeMS: period.Start.UnixMilli() + int64(i/3)*1000 + int64(z), Probe: probe, Zone: zone,
						Region: region, Kind: logs.KindMeasurement, Present: 1, Values: [logs.MaxMeasurements]int64{1}}
				}
				for h := int64(0); h < secs/batchSecs; h++ {
					if h > 0 {
						for i := range batch {
							batch[i].TimeMS += batchSecs * 1000
						}
					}
					fail := h%200 == 7
					if fail || h%200 == 8 {
						for i := range batch {
							if i%3 != 2 {
								batch[i].Values[0] = 1
								if fail {
									batch[i].Values[0] = 0
								}
							}
						}
					}
					acc.Add(batch)
				}
				o, err := acc.Outcome()
				if err != nil || o.Samples.Accepted != secs*3 {
					b.Fatalf("%v %+v", err, o.Samples)
				}
				if want := secs / batchSecs / 200 * 5; detail(o.Metrics[0], "down") < want {
					b.Fatalf("down %d, want >= %d", detail(o.Metrics[0], "down"), want)
				}
				total += secs * 3
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "samples/s")
			if d := cpuTime() - cpu0; d > 0 {
				b.ReportMetric(float64(total)/d.Seconds(), "samples/cpu-s")
			}
		})
	}
}

func TestMonthReader(t *testing.T) {
	r := newMonthReader(aprilStart, 86400+2)
	d, _ := logs.NewDecoder(r, logs.Options{Measurements: []string{"ok", "latency_ms"}})
	var s logs.Sample
	n := 0
	for {
		err := d.Next(&s)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sec := int64(n / 3)
		if want := aprilStart.UnixMilli() + sec*1000 + int64(n%3); s.TimeMS != want || s.Values[0] != map[bool]int64{true: 0, false: 1}[failedAt(n%3, sec)] {
			t.Fatalf("line %d: %+v", n+1, s)
		}
		n++
	}
	if n != 3*(86400+2) || d.SlowLines != 0 {
		t.Fatalf("%d lines, %d slow", n, d.SlowLines)
	}
}
