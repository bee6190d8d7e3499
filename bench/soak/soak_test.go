package soak

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseMetrics(t *testing.T) {
	// The logger's and the monitor's lines, and what client_golang writes.
	page := `# HELP monitor_settlements_total Periods settled.
# TYPE monitor_settlements_total counter
monitor_settlements_total 7
logger_batches_published_total{sla="s1"} 12
logger_batches_published_total{sla="s 2}"} 3
go_memstats_alloc_bytes 1.5e+06
process_start_time_seconds 1.7e+09 1700000000000

`
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{
		"monitor_settlements_total":                  7,
		`logger_batches_published_total{sla="s1"}`:   12,
		`logger_batches_published_total{sla="s 2}"}`: 3,
		"go_memstats_alloc_bytes":                    1.5e6,
		"process_start_time_seconds":                 1.7e9,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v\nwant %v", m, want)
	}
	if s := m.Sum(LoggerPublished); s != 15 {
		t.Fatalf("sum of %s = %v, want 15", LoggerPublished, s)
	}
	if s := m.Sum("monitor_settlements"); s != 0 {
		t.Fatalf("a prefix of a name summed to %v", s)
	}
	for _, bad := range []string{"x", "x y", "x 1 2 3"} {
		if _, err := ParseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestGrowth(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var ps []Point
	for i := range 31 {
		v := 100.0 + float64(i)*2 // 2 per minute = 120 per hour
		if i < 5 {
			v = 1000 // the warm-up is ignored
		}
		ps = append(ps, Point{At: t0.Add(time.Duration(i) * time.Minute), Value: v})
	}
	g := Growth(ps, t0.Add(5*time.Minute))
	if g.Points != 26 || g.First != 110 || g.Last != 160 || math.Abs(g.PerHour-120) > 1e-9 {
		t.Fatalf("growth %+v", g)
	}
	if g := Growth(ps[:1], t0); g.PerHour != 0 || g.Points != 1 {
		t.Fatalf("one point: %+v", g)
	}
}

func TestInvalidTxs(t *testing.T) {
	log := `2026-12-06 12:00:01.000 UTC 0001 WARN [committer.txvalidator] ... Channel [slasa]: Block [9] Transaction index [0] TxId [aa] marked as invalid by committer. Reason code [MVCC_READ_CONFLICT]
2026-12-06 12:00:01.000 UTC 0002 WARN [validation] Block [9] Transaction index [0] TxId [aa] marked as invalid by state validator. Reason code [MVCC_READ_CONFLICT]
2026-12-06 12:00:02.000 UTC 0003 WARN [committer.txvalidator] Channel [slasa]: Block [10] Transaction index [1] TxId [bb] marked as invalid. Reason code [ENDORSEMENT_POLICY_FAILURE]
`
	got := InvalidTxs(log)
	want := map[string]int{"MVCC_READ_CONFLICT": 1, "ENDORSEMENT_POLICY_FAILURE": 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReadProc(t *testing.T) {
	p, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.RSS <= 0 || p.FDs < 3 {
		t.Fatalf("own process: %+v", p)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if q, _ := ReadProc(os.Getpid()); q.FDs != p.FDs+1 {
		t.Fatalf("one more open file: %d fds, then %d", p.FDs, q.FDs)
	}
	if _, err := ReadProc(-1); err == nil {
		t.Fatal("no error for pid -1")
	}
}
