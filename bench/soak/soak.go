// Package soak holds the measuring parts of the soak run (`make soak`,
// the integration test in this folder): many SLAs with 1-minute periods on
// one network for half an hour or more, each with its own cloud logger and
// monitor, sampled every minute.
//
// What it reads is in one place here, so that the soak follows the
// services when their metrics change: the counters of the logger's and the
// monitor's /metrics (ParseMetrics reads the Prometheus text format, of
// which the services' hand-made "name{labels} value" lines are a subset),
// a process's resident memory and open file descriptors from /proc
// (ReadProc), and the transactions the peers marked invalid (InvalidTxs).
// Growth fits a line through the samples taken after the warm-up.
package soak

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Counters of the services' /metrics that the soak reads.
const (
	// LoggerPublished counts the batches a logger published and anchored.
	LoggerPublished = "logger_batches_published_total"
	// LoggerErrors counts a logger's failed steps (IPFS or Fabric), each retried.
	LoggerErrors = "logger_step_errors_total"
	// MonitorIngested counts the batches a monitor had the enclave ingest.
	MonitorIngested = "monitor_batches_ingested_total"
	// MonitorSettlements counts the periods a monitor settled.
	MonitorSettlements = "monitor_settlements_total"
	// MonitorErrors counts a monitor's failed reconciliations, each retried.
	MonitorErrors = "monitor_errors_total"
)

// Metrics are the samples of one /metrics page by series: the metric name
// with its labels as written ("logger_next_seq{sla=\"s1\"}").
type Metrics map[string]float64

// ParseMetrics reads the Prometheus text exposition format: one
// "name[{labels}] value [timestamp]" line per series; comment (#) and
// empty lines are skipped.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, rest := line, ""
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			series, rest = line[:i+1], line[i+1:]
		} else if i := strings.IndexAny(line, " \t"); i >= 0 {
			series, rest = line[:i], line[i:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, fmt.Errorf("metrics line %d: %q is not \"name value\"", n, line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: value %q: %w", n, fields[0], err)
		}
		m[series] = v
	}
	return m, sc.Err()
}

// Sum adds up every series of the metric name, whatever its labels.
func (m Metrics) Sum(name string) float64 {
	var s float64
	for series, v := range m {
		if series == name || strings.HasPrefix(series, name+"{") {
			s += v
		}
	}
	return s
}

// Proc is one sample of a process.
type Proc struct {
	// RSS is the resident memory (VmRSS) in bytes.
	RSS int64
	// FDs is the number of open file descriptors.
	FDs int
}

// ReadProc samples process pid from /proc.
func ReadProc(pid int) (Proc, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Proc{}, err
	}
	var p Proc
	found := false
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return Proc{}, fmt.Errorf("/proc/%d/status VmRSS: %w", pid, err)
			}
			p.RSS, found = kb<<10, true
		}
	}
	if !found {
		return Proc{}, fmt.Errorf("/proc/%d/status: no VmRSS (a zombie?)", pid)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return Proc{}, err
	}
	p.FDs = len(fds)
	return p, nil
}

// Point is one sample of a series at a time.
type Point struct {
	At    time.Time
	Value float64
}

// Trend is a series after the warm-up: its first and last value and the
// slope of the least-squares line through its points, per hour.
type Trend struct {
	First, Last float64
	PerHour     float64
	Points      int
}

// Growth fits the points at or after from (the end of the warm-up). With
// fewer than two such points the slope is 0.
func Growth(points []Point, from time.Time) Trend {
	var ps []Point
	for _, p := range points {
		if !p.At.Before(from) {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].At.Before(ps[j].At) })
	t := Trend{Points: len(ps)}
	if len(ps) == 0 {
		return t
	}
	t.First, t.Last = ps[0].Value, ps[len(ps)-1].Value
	if len(ps) < 2 {
		return t
	}
	var sx, sy, sxx, sxy float64
	n := float64(len(ps))
	for _, p := range ps {
		x := p.At.Sub(ps[0].At).Hours()
		sx += x
		sy += p.Value
		sxx += x * x
		sxy += x * p.Value
	}
	if d := n*sxx - sx*sx; d != 0 {
		t.PerHour = (n*sxy - sx*sy) / d
	}
	return t
}

// invalidTx matches a peer's log line for a transaction its committer or
// state validator marked invalid (Fabric 2.5).
var invalidTx = regexp.MustCompile(`TxId \[([^\]]*)\] marked as invalid[^.]*\. Reason code \[([A-Z_]+)\]`)

// InvalidTxs counts the transactions a peer's log marks invalid, by
// validation code, each transaction once.
func InvalidTxs(peerLog string) map[string]int {
	seen := map[string]bool{}
	out := map[string]int{}
	for _, m := range invalidTx.FindAllStringSubmatch(peerLog, -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		out[m[2]]++
	}
	return out
}
