//go:build integration

package soak

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

// The soak runs on one network of its own (harness: its own run folder and
// free port block), deployed as an operator does (network/deploy-all.sh).
// Run it with `make soak` (SOAK_SLAS, SOAK_MINUTES, SOAK_WINDOW,
// SOAK_WARMUP; see bench/bench.mk); it is not part of CI.

var nw *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{DeployAll: true}, &nw))
}

// config of a soak run, from the environment.
type config struct {
	slas, minutes, warmup, workers int
	window                         time.Duration
	grace                          time.Duration
	out, results                   string
}

func envInt(t *testing.T, name string, def, min int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		t.Fatalf("%s=%q: want an integer of at least %d", name, v, min)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}

func loadConfig(t *testing.T) config {
	c := config{
		slas:    envInt(t, "SLASA_SOAK_SLAS", 50, 1),
		minutes: envInt(t, "SLASA_SOAK_MINUTES", 30, 2),
		warmup:  envInt(t, "SLASA_SOAK_WARMUP", 5, 0),
		workers: envInt(t, "SLASA_SOAK_WORKERS", 8, 1),
		window:  envDuration(t, "SLASA_SOAK_WINDOW", 20*time.Second),
		grace:   envDuration(t, "SLASA_SOAK_GRACE", 5*time.Minute),
		out:     os.Getenv("SLASA_SOAK_OUT"),
		results: os.Getenv("SLASA_SOAK_RESULTS"),
	}
	if c.warmup >= c.minutes {
		t.Fatalf("SLASA_SOAK_WARMUP=%d must be less than SLASA_SOAK_MINUTES=%d", c.warmup, c.minutes)
	}
	if time.Minute%c.window != 0 || c.window%time.Second != 0 {
		t.Fatalf("SLASA_SOAK_WINDOW=%s must be whole seconds dividing a minute", c.window)
	}
	if c.out == "" {
		c.out = t.TempDir()
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

const fee = 100000 // the example SLA's price per period

// parallel runs f(0..n-1) on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// retry calls f up to three times while it fails.
func retry(f func() error) error {
	var err error
	for range 3 {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

// service answers "ok" on /zone-a, /zone-b and /zone-c: what every
// logger probes.
func service(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// proc is a service process of the soak (a logger or a monitor).
type proc struct {
	name, metrics string
	cmd           *exec.Cmd
}

func start(t *testing.T, name, log, metricsAddr, bin string, args ...string) *proc {
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, metrics: "http://" + metricsAddr + "/metrics", cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// scrape reads a service's counters.
func scrape(url string) (Metrics, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// escrowT is the part of the refund chaincode's escrow the soak reads.
type escrowT struct {
	Status     string `json:"status"`
	PeriodEnd  string `json:"period_end"`
	Settlement *struct {
		SettledAt string `json:"settled_at"`
	} `json:"settlement"`
}

func escrow(id, period string) (escrowT, error) {
	c, err := nw.Contract("client", "refund")
	if err != nil {
		return escrowT{}, err
	}
	out, err := c.EvaluateTransaction("GetEscrow", id, period)
	if err != nil {
		return escrowT{}, errors.New(fabnet.ErrorText(err))
	}
	var e escrowT
	err = json.Unmarshal(out, &e)
	return e, err
}

// sample is one minute's reading of every process and service.
type sample struct {
	at      time.Time
	procs   map[string]Proc // by process name
	metrics map[string]float64
	disk    map[string]int64 // peer ledger bytes by organization
}

func TestSoak(t *testing.T) {
	cfg := loadConfig(t)
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor")
	t.Logf("soak: %d SLAs, %d one-minute periods, batch window %s, warm-up %d min, output %s", cfg.slas, cfg.minutes, cfg.window, cfg.warmup, cfg.out)

	// ---- Wallets: one client and one provider wallet per SLA, so that no
	// two SLAs' payments touch the same key; the issuer funds each client.
	ids := make([]string, cfg.slas)
	for i := range ids {
		ids[i] = fmt.Sprintf("soak-%d-%02d", time.Now().Unix(), i)
	}
	var setupErr atomic.Value
	fail := func(err error) {
		if err != nil {
			setupErr.CompareAndSwap(nil, err)
		}
	}
	t0 := time.Now()
	parallel(2*cfg.slas, cfg.workers, func(i int) {
		who := []string{"client", "provider"}[i%2]
		fail(retry(func() error {
			_, err := nw.SubmitAndSync(who, "refund", "OpenAccount", fmt.Sprintf("%s-%d", who, i/2))
			return err
		}))
	})
	for i := range cfg.slas { // Mint adds to the issuer's supply key: one at a time
		fail(retry(func() error {
			_, err := nw.SubmitAndSync("issuer", "refund", "Mint", fmt.Sprintf("client-%d", i), strconv.Itoa((cfg.minutes+2)*fee))
			return err
		}))
	}
	if err, _ := setupErr.Load().(error); err != nil {
		t.Fatalf("wallets: %s", fabnet.ErrorText(err))
	}
	t.Logf("%d wallets opened and %d funded in %s", 2*cfg.slas, cfg.slas, time.Since(t0).Round(time.Second))

	// ---- The SLAs: 1-minute periods from S, a minute boundary far enough
	// ahead that every SLA is accepted before it (AcceptSLA pays the first
	// period not started: P0 = S for all).
	S := time.Now().UTC().Add(90*time.Second + time.Duration(cfg.slas)*2*time.Second).Truncate(time.Minute).Add(time.Minute)
	P := func(k int) time.Time { return S.Add(time.Duration(k) * time.Minute) }
	docs := make([][]byte, cfg.slas)
	t0 = time.Now()
	parallel(cfg.slas, cfg.workers, func(i int) {
		s := harness.ExampleSLA(t, "aws-ec2-region", ids[i])
		harness.ShortPeriods(s, S, time.Duration(cfg.minutes+10)*time.Minute, time.Minute)
		s.Parties.Client.Wallet, s.Parties.Provider.Wallet = fmt.Sprintf("client-%d", i), fmt.Sprintf("provider-%d", i)
		doc, err := json.Marshal(s)
		if err != nil {
			fail(err)
			return
		}
		docs[i] = doc
		d, _, err := sla.DigestOf(doc)
		if err != nil {
			fail(err)
			return
		}
		fail(retry(func() error {
			_, err := nw.SubmitSLA("provider", "ProposeSLA", doc, true, nw.SignB64(t, "provider", d[:]))
			if err != nil && strings.Contains(fabnet.ErrorText(err), "already exists") {
				return nil // committed although the client saw an error
			}
			return err
		}))
		fail(retry(func() error {
			_, err := nw.SubmitSLA("client", "AcceptSLA", doc, true, ids[i], fmt.Sprintf("%x", d[:]), nw.SignB64(t, "client", d[:]))
			if err != nil && strings.Contains(fabnet.ErrorText(err), "is ACTIVE, not PROPOSED") {
				return nil
			}
			return err
		}))
	})
	if err, _ := setupErr.Load().(error); err != nil {
		t.Fatalf("proposing and accepting: %s", fabnet.ErrorText(err))
	}
	if time.Now().After(S) {
		t.Fatalf("setting up %d SLAs took %s, past their first period %s: raise the head start", cfg.slas, time.Since(t0).Round(time.Second), S.Format(time.RFC3339))
	}
	t.Logf("%d SLAs proposed and accepted in %s; periods from %s", cfg.slas, time.Since(t0).Round(time.Second), S.Format(time.RFC3339))

	// ---- A logger and a monitor for each SLA.
	url := service(t)
	var loggers, monitors []*proc
	for i, id := range ids {
		la, ma := harness.ServiceAddr(t), harness.ServiceAddr(t)
		loggers = append(loggers, start(t, fmt.Sprintf("cloud-logger-%02d", i), filepath.Join(cfg.out, fmt.Sprintf("logger-%02d.log", i)), la,
			filepath.Join(bins, "cloud-logger"), "-network-dir", run, "-identity", "logger", "-sla", id,
			"-state-dir", filepath.Join(cfg.out, "state", "logger-"+strconv.Itoa(i)),
			"-probe", "probe-a,zone-a,"+url+"/zone-a", "-probe", "probe-b,zone-b,"+url+"/zone-b", "-probe", "probe-c,zone-c,"+url+"/zone-c",
			"-window", cfg.window.String(), "-cut-delay", "3s", "-probe-timeout", "2s", "-ipfs-api-file", filepath.Join(run, "ipfs", "api"),
			"-listen", la))
		monitors = append(monitors, start(t, fmt.Sprintf("slasa-monitor-%02d", i), filepath.Join(cfg.out, fmt.Sprintf("monitor-%02d.log", i)), ma,
			filepath.Join(bins, "slasa-monitor"), "-network-dir", run, "-identity", "client", "-sla", id,
			"-state-dir", filepath.Join(cfg.out, "state", "monitor-"+strconv.Itoa(i)), "-listen", ma))
	}
	services := append(append([]*proc(nil), loggers...), monitors...)

	// ---- Every minute: sample every process, the services' counters and
	// the peers' ledgers, 30 s into each period.
	var (
		mu      sync.Mutex
		samples []sample
	)
	csv, err := os.Create(filepath.Join(cfg.out, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer csv.Close()
	fmt.Fprintln(csv, "time,process,pid,rss_bytes,open_fds")
	take := func() {
		s := sample{at: time.Now().UTC(), procs: map[string]Proc{}, metrics: map[string]float64{}, disk: map[string]int64{}}
		pids := nw.Processes()
		for _, p := range services {
			pids[p.name] = p.cmd.Process.Pid
		}
		names := make([]string, 0, len(pids))
		for n := range pids {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if p, err := ReadProc(pids[n]); err == nil {
				s.procs[n] = p
				fmt.Fprintf(csv, "%s,%s,%d,%d,%d\n", s.at.Format(time.RFC3339), n, pids[n], p.RSS, p.FDs)
			}
		}
		for _, p := range services {
			m, err := scrape(p.metrics)
			if err != nil {
				continue
			}
			for _, name := range []string{LoggerPublished, LoggerErrors, MonitorIngested, MonitorSettlements, MonitorErrors} {
				s.metrics[name] += m.Sum(name)
			}
		}
		for _, o := range nw.PeerOrgs() {
			if b, err := harness.DiskUsage(nw.PeerLedgerDir(o)); err == nil {
				s.disk[o] = b
			}
		}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		t.Logf("sample %s: %d processes; published %.0f, ingested %.0f, settled %.0f; logger errors %.0f, monitor errors %.0f",
			s.at.Format("15:04:05"), len(s.procs), s.metrics[LoggerPublished], s.metrics[MonitorIngested], s.metrics[MonitorSettlements],
			s.metrics[LoggerErrors], s.metrics[MonitorErrors])
	}

	// ---- The client renews every SLA once its paid period has begun:
	// period k is paid during period k-1.
	var renewFailed atomic.Int64
	for k := 0; k < cfg.minutes; k++ {
		time.Sleep(time.Until(P(k).Add(2 * time.Second)))
		if k+1 < cfg.minutes {
			parallel(cfg.slas, cfg.workers, func(i int) {
				err := retry(func() error {
					_, err := nw.SubmitSLA("client", "RenewSLA", docs[i], true, ids[i])
					if err != nil && strings.Contains(fabnet.ErrorText(err), "is paid through "+P(k+2).Format(time.RFC3339)) {
						return nil // committed although the client saw an error
					}
					return err
				})
				if err != nil {
					renewFailed.Add(1)
					t.Logf("RenewSLA %s for %s: %s", ids[i], P(k+1).Format(time.RFC3339), fabnet.ErrorText(err))
				}
			})
		}
		time.Sleep(time.Until(P(k).Add(30 * time.Second)))
		take()
	}

	// ---- Wait until every paid period is settled or the grace time passes.
	type key struct{ i, k int }
	settled := map[key]time.Duration{} // settlement lag after the period's end
	deadline := P(cfg.minutes).Add(cfg.grace)
	for {
		for i := range ids {
			for k := 0; k < cfg.minutes; k++ {
				if _, ok := settled[key{i, k}]; ok || time.Now().Before(P(k+1)) {
					continue
				}
				e, err := escrow(ids[i], P(k).Format(time.RFC3339))
				if err != nil || e.Status != "SETTLED" || e.Settlement == nil {
					continue
				}
				at, _ := time.Parse(time.RFC3339, e.Settlement.SettledAt)
				settled[key{i, k}] = at.Sub(P(k + 1))
			}
		}
		if len(settled) == cfg.slas*cfg.minutes || time.Now().After(deadline) {
			break
		}
		time.Sleep(15 * time.Second)
	}
	take()

	// ---- Report.
	expected := cfg.slas * cfg.minutes
	var lags []time.Duration
	for _, l := range settled {
		lags = append(lags, l)
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	invalid := map[string]int{}
	logs, _ := filepath.Glob(filepath.Join(nw.LogDir(), "peer-*.log"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for code, n := range InvalidTxs(string(b)) {
			if n > invalid[code] { // every peer logs the same block: the largest count
				invalid[code] = n
			}
		}
	}
	last := samples[len(samples)-1]
	warm := P(cfg.warmup)
	var b strings.Builder
	fmt.Fprintf(&b, "%d SLAs, %d one-minute periods each (%s .. %s), a cloud logger (batch window %s) and a monitor per SLA; warm-up %d min\n\n",
		cfg.slas, cfg.minutes, S.Format(time.RFC3339), P(cfg.minutes).Format(time.RFC3339), cfg.window, cfg.warmup)
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| periods settled / expected | %d / %d |\n", len(settled), expected)
	if len(lags) > 0 {
		fmt.Fprintf(&b, "| settlement after the period's end: median, max | %s, %s |\n", lags[len(lags)/2], lags[len(lags)-1])
	}
	fmt.Fprintf(&b, "| RenewSLA failed (after 3 tries) | %d |\n", renewFailed.Load())
	codes := make([]string, 0, len(invalid))
	for c := range invalid {
		codes = append(codes, fmt.Sprintf("%s %d", c, invalid[c]))
	}
	sort.Strings(codes)
	fmt.Fprintf(&b, "| transactions the peers marked invalid | %s |\n", orNone(strings.Join(codes, ", ")))
	fmt.Fprintf(&b, "| batches published / ingested | %.0f / %.0f |\n", last.metrics[LoggerPublished], last.metrics[MonitorIngested])
	fmt.Fprintf(&b, "| logger step errors, monitor errors (each retried) | %.0f, %.0f |\n", last.metrics[LoggerErrors], last.metrics[MonitorErrors])
	hours := float64(cfg.slas) * float64(cfg.minutes) / 60
	first := samples[0]
	for _, o := range nw.PeerOrgs() {
		fmt.Fprintf(&b, "| peer %s ledger growth per SLA-hour | %.0f KB (%d MB -> %d MB) |\n", o, float64(last.disk[o]-first.disk[o])/hours/1024, first.disk[o]>>20, last.disk[o]>>20)
	}
	fmt.Fprintf(&b, "\nResident memory and open file descriptors after the warm-up (first and last sample, least-squares slope per hour):\n\n")
	fmt.Fprintf(&b, "| process | RSS MB first -> last | RSS MB/h | FDs first -> last | FDs/h |\n|---|---|---|---|---|\n")
	for _, row := range procRows(samples, warm) {
		fmt.Fprintln(&b, row)
	}
	report := b.String()
	t.Logf("soak results\n\n%s", report)
	if err := os.WriteFile(filepath.Join(cfg.out, "soak.md"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg.results != "" {
		if err := updateResults(cfg.results, report); err != nil {
			t.Fatal(err)
		}
	}
	if len(settled) != expected {
		t.Errorf("%d of %d periods settled within %s of the last period's end", len(settled), expected, cfg.grace)
	}
	if renewFailed.Load() != 0 {
		t.Errorf("%d renewals failed", renewFailed.Load())
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// procRows are the report's rows of every network process and, per kind,
// the loggers and the monitors (the one that grew most, and the mean).
func procRows(samples []sample, from time.Time) []string {
	series := map[string][2][]Point{} // process -> RSS, FDs
	for _, s := range samples {
		for n, p := range s.procs {
			v := series[n]
			v[0] = append(v[0], Point{At: s.at, Value: float64(p.RSS) / (1 << 20)})
			v[1] = append(v[1], Point{At: s.at, Value: float64(p.FDs)})
			series[n] = v
		}
	}
	names := make([]string, 0, len(series))
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	row := func(name string, r, f Trend) string {
		return fmt.Sprintf("| %s | %.1f -> %.1f | %+.1f | %.0f -> %.0f | %+.1f |", name, r.First, r.Last, r.PerHour, f.First, f.Last, f.PerHour)
	}
	var rows []string
	groups := map[string][][2]Trend{}
	for _, n := range names {
		r, f := Growth(series[n][0], from), Growth(series[n][1], from)
		if strings.HasPrefix(n, "cloud-logger-") || strings.HasPrefix(n, "slasa-monitor-") {
			g := strings.TrimRight(n, "0123456789")
			groups[g] = append(groups[g], [2]Trend{r, f})
			continue
		}
		rows = append(rows, row(n, r, f))
	}
	gnames := make([]string, 0, len(groups))
	for g := range groups {
		gnames = append(gnames, g)
	}
	sort.Strings(gnames)
	for _, g := range gnames {
		ts := groups[g]
		var mean [2]Trend
		worst := ts[0]
		for _, tr := range ts {
			for j := range 2 {
				mean[j].First += tr[j].First / float64(len(ts))
				mean[j].Last += tr[j].Last / float64(len(ts))
				mean[j].PerHour += tr[j].PerHour / float64(len(ts))
			}
			if tr[0].PerHour > worst[0].PerHour {
				worst = tr
			}
		}
		rows = append(rows, row(fmt.Sprintf("%s* (mean of %d)", g, len(ts)), mean[0], mean[1]))
		rows = append(rows, row(fmt.Sprintf("%s* (fastest RSS growth)", g), worst[0], worst[1]))
	}
	return rows
}

// updateResults replaces the soak section of bench/RESULTS.md (between its
// markers) with report.
func updateResults(path, report string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	const begin, end = "<!-- soak:begin (generated by make soak) -->", "<!-- soak:end -->"
	s := string(raw)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q section", path, begin, end)
	}
	stamp := fmt.Sprintf("Run of %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	return os.WriteFile(path, []byte(s[:i+len(begin)]+"\n"+stamp+report+s[j:]), 0o644)
}
