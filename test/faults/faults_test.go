//go:build integration

// Package faults is the fault suite: one real network with three etcdraft
// orderers, the application deployed as an operator does, two SLAs with
// 1-minute periods logged by Cloud Loggers and settled by a monitor, and
// faults injected one after the other into that one running story:
//
//   - P0: the tunneling shim the enclave fetches batches through answers
//     10 s late, then with truncated bytes, and comes back;
//   - P1: the Raft leader orderer (found from the orderers' operations
//     endpoints) is SIGKILLed while the loggers anchor and the monitor
//     settles P0, and restarted from its data folder later;
//   - P2: the provider's peer (the loggers' gateway, an endorser of every
//     anchor and settlement) is SIGKILLed while P1 is ingested and settled,
//     and restarted;
//   - P3: the client's refund chaincode server, the provider's agreement
//     server and the enclave host's slaenclave server are SIGKILLed
//     mid-run and restarted;
//   - between P3 and P4: every process of the network stops and starts
//     again from its data folders (Network.RestartAll);
//   - the whole of P1: SLA B's logger's clock is 2 minutes off the probed
//     service's (the service's Date headers are 2 minutes behind, the one
//     way a test can move a clock relative to the logger's without root):
//     the logger reports it (health check clock, logger_clock_offset_seconds);
//     its samples keep the right times here, so the verdicts stay the
//     fault-free ones.
//
// Afterwards every period's verdict equals the fault-free value (the probed
// service fails at a scripted second of each period of one SLA only, so
// the credit of every period is known in advance), each period is settled
// exactly once (a replay of its signed verdict is refused), the money adds up (the issuer's audit: wallets + escrow +
// holds = minted, and the exact balances), and the loggers and the monitor
// recovered by themselves (their /healthz and metrics); each recovery time
// is logged.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

// TestMain starts ONE network with three Raft orderers and deploys the application (network/deploy-all.sh);
// every fault of the suite is injected into it.
func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Orderers: 3, DeployAll: true}, &nw))
}

const (
	fee     = 100000 // examples/aws-ec2-region: the fee of one period
	mint    = 2000000
	credit  = 30000 // one unavailable second of 60: 98.33 % < 99.0 -> 3000 bps of the fee
	periods = 5     // P0 .. P4
)

// ---- the probed service

// service serves /<sla>/<zone>; a request for a path and sample second in
// fail answers 503. It records every sample time per path.
type service struct {
	mu    sync.Mutex
	fail  map[string]bool          // "<path> <sample time>"
	shift map[string]time.Duration // path prefix -> offset of the Date header from the real clock
	srv   *http.Server
	url   string
}

func newService(t *testing.T) *service {
	s := &service{fail: map[string]bool{}, shift: map[string]time.Duration{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at, err := time.Parse("2006-01-02T15:04:05.000Z", r.Header.Get(logger.SampleTimeHeader))
	s.mu.Lock()
	fail := err == nil && s.fail[r.URL.Path+" "+at.Format(time.RFC3339)]
	for prefix, d := range s.shift {
		if strings.HasPrefix(r.URL.Path, prefix) {
			// The logger compares its clock with the Date header: a service clock 2 minutes behind is,
			// to the logger, its own host's clock 2 minutes ahead.
			w.Header().Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
		}
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// shiftDate sets the Date header of the answers to paths under prefix d away from the real clock (0: the
// real clock).
func (s *service) shiftDate(prefix string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shift[prefix] = d
}

// outage makes the samples of the paths taken at second at fail.
func (s *service) outage(at time.Time, paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		s.fail[p+" "+at.Format(time.RFC3339)] = true
	}
}

// ---- the faulty shim

// faultyShim listens on the network shim's address in front of a real shim (upstream) and serves its
// batches 10 s late (mode "slow") or cut to half their length (mode "truncate").
type faultyShim struct {
	mu       sync.Mutex
	mode     string
	served   map[string]int
	upstream string
	srv      *http.Server
	addr     string
	t        *testing.T
}

func (f *faultyShim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	f.mu.Unlock()
	batch := strings.HasPrefix(r.URL.Path, "/v1/batches/")
	if batch && mode == "slow" {
		time.Sleep(10 * time.Second)
	}
	resp, err := http.Get(f.upstream + r.URL.RequestURI())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if batch && resp.StatusCode == http.StatusOK {
		if mode == "truncate" {
			body = body[:len(body)/2]
		}
		f.mu.Lock()
		f.served[mode]++
		f.mu.Unlock()
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func (f *faultyShim) serve(t *testing.T, addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ { // the stopped shim's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	f.t, f.addr = t, addr
	f.srv = &http.Server{Handler: f}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
}

func (f *faultyShim) setMode(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

// waitServed waits until the proxy has served n batches in mode m, or until deadline.
func (f *faultyShim) waitServed(m string, n int, deadline time.Time) {
	for f.count(m) < n && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
}

func (f *faultyShim) count(m string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[m]
}

// close stops the proxy, waits out the requests it is serving and for its port to be free.
func (f *faultyShim) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	for i := 0; i < 100; i++ {
		ln, err := net.Listen("tcp", f.addr)
		if err == nil {
			ln.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("%s stays busy", f.addr)
}

// ---- the services under test

type proc struct {
	t    *testing.T
	name string
	bin  string
	args []string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
	ops  string        // base URL of /healthz and /metrics
}

func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	f.Close()
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { p.err = cmd.Wait(); close(done) }(p.done)
	p.t.Logf("%s started (pid %d)", p.name, cmd.Process.Pid)
}

func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// alive reports whether the process still runs: the services must ride out every fault themselves.
func (p *proc) alive() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) healthy() bool {
	status, _ := p.health()
	return status == http.StatusOK
}

// health returns the status of GET /healthz and the reasons of a degraded answer (0 when it does not answer).
func (p *proc) health() (int, []string) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(p.ops + "/healthz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var h struct {
		Reasons []string `json:"reasons"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h.Reasons
}

// healthyBut reports whether /healthz is 200, or degraded only by the checks named in but (the clock fault
// keeps one logger's clock check degraded while other faults run).
func (p *proc) healthyBut(but ...string) bool {
	status, reasons := p.health()
	if status == http.StatusOK {
		return true
	}
	if status != http.StatusServiceUnavailable || len(reasons) == 0 {
		return false
	}
	for _, r := range reasons {
		name, _, _ := strings.Cut(r, ":")
		if !slices.Contains(but, name) {
			return false
		}
	}
	return true
}

func (p *proc) metric(name, labels string) float64 {
	v, err := harness.MetricValue(p.ops+"/metrics", name, labels)
	if err != nil {
		return -1
	}
	return v
}

func waitHealthy(t *testing.T, p *proc) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if p.healthy() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not healthy", p.name)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ---- ledger reads

type escrowT struct {
	Status     string `json:"status"`
	PeriodEnd  string `json:"period_end"`
	Settlement *struct {
		Credit    int64  `json:"credit"`
		CreditBPS int64  `json:"credit_bps"`
		Violated  bool   `json:"violated"`
		BatchSeq  int64  `json:"batch_seq"`
		SettledAt string `json:"settled_at"`
		TxID      string `json:"tx_id"`
	} `json:"settlement"`
}

func escrow(t *testing.T, id, period string) (escrowT, error) {
	t.Helper()
	c, err := nw.Contract("client", "refund")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.EvaluateTransaction("GetEscrow", id, period)
	if err != nil {
		return escrowT{}, fmt.Errorf("GetEscrow %s %s: %s", id, period, fabnet.ErrorText(err))
	}
	var e escrowT
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatal(err)
	}
	return e, nil
}

// waitSettled waits for the period's escrow to be settled; reads that fail (a node is down) are retried.
func waitSettled(t *testing.T, id, period string, timeout time.Duration) escrowT {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		e, err := escrow(t, id, period)
		if err == nil && e.Status == "SETTLED" {
			return e
		}
		last = err
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("period %s of %s not settled within %s (last error %v)", period, id, timeout, last)
	return escrowT{}
}

func balance(t *testing.T, account string) int64 {
	t.Helper()
	var b struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal(nw.MustEvaluate(t, "issuer", "refund", "BalanceOf", account), &b); err != nil {
		t.Fatal(err)
	}
	return b.Balance
}

// settledVerdict returns the argument of the SettleVerdict transaction txID (the signed verdict JSON), read
// back from the ledger with qscc's GetTransactionByID.
func settledVerdict(t *testing.T, txID string) string {
	t.Helper()
	raw := nw.MustEvaluate(t, "client", "qscc", "GetTransactionByID", nw.Info.Channel, txID)
	var pt peer.ProcessedTransaction
	var pl common.Payload
	var tx peer.Transaction
	if err := errors.Join(proto.Unmarshal(raw, &pt), proto.Unmarshal(pt.GetTransactionEnvelope().GetPayload(), &pl),
		proto.Unmarshal(pl.GetData(), &tx)); err != nil || len(tx.GetActions()) != 1 {
		t.Fatalf("transaction %s: %v (%d actions)", txID, err, len(tx.GetActions()))
	}
	var cap peer.ChaincodeActionPayload
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if err := errors.Join(proto.Unmarshal(tx.GetActions()[0].GetPayload(), &cap), proto.Unmarshal(cap.GetChaincodeProposalPayload(), &cpp),
		proto.Unmarshal(cpp.GetInput(), &cis)); err != nil {
		t.Fatalf("transaction %s: %v", txID, err)
	}
	args := cis.GetChaincodeSpec().GetInput().GetArgs()
	if len(args) != 2 || string(args[0]) != "SettleVerdict" {
		t.Fatalf("transaction %s is not a SettleVerdict: %d arguments", txID, len(args))
	}
	return string(args[1])
}

// auditT is the part of `slasa audit --json` the test reads.
type auditT struct {
	Balances   int64    `json:"balances"`
	Held       int64    `json:"held"`
	Collateral int64    `json:"collateral"`
	Supply     int64    `json:"supply"`
	Difference int64    `json:"difference"`
	Problems   []string `json:"problems"`
	Consistent bool     `json:"consistent"`
}

func audit(t *testing.T) auditT {
	t.Helper()
	out, err := nw.CLI("audit", "--json", "--as", "issuer")
	if err != nil {
		t.Fatalf("slasa audit: %v\n%s", err, out)
	}
	var a auditT
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("slasa audit --json: %v\n%s", err, out)
	}
	return a
}

func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

// ---- the story

type story struct {
	t       *testing.T
	ids     []string // SLA A (an outage at second 26 of every period), SLA B (none)
	loggers []*proc
	mon     *proc
	M       time.Time
}

func (s *story) P(i int) time.Time  { return s.M.Add(time.Duration(i) * time.Minute) }
func (s *story) pname(i int) string { return s.P(i).Format(time.RFC3339) }
func (s *story) wantCredit(sla int) int64 {
	if sla == 0 {
		return credit
	}
	return 0
}

// recovered waits until every service is healthy and has moved on since the faulty node came back (it is
// called right after): each logger published a batch more than it had then and is at most one window
// behind, the monitor is healthy and had the enclave ingest a batch more. It logs the recovery times from the fault and from the restart.
func (s *story) recovered(fault string, injected, restarted time.Time) {
	t := s.t
	t.Helper()
	before := s.progress()
	deadline := restarted.Add(3 * time.Minute)
	for {
		ok := s.mon.alive() && s.mon.healthy() && s.mon.metric("monitor_event_block", "") > 0 &&
			s.mon.metric("monitor_batches_ingested_total", "") > before.ingested
		for i, lg := range s.loggers {
			label := `sla="` + s.ids[i] + `"`
			ok = ok && lg.alive() && lg.healthyBut("clock") &&
				lg.metric("logger_batches_published_total", label) > before.published[i] &&
				lg.metric("logger_windows_behind", label) <= 1
		}
		if ok {
			break
		}
		for _, p := range append([]*proc{s.mon}, s.loggers...) {
			if !p.alive() {
				t.Fatalf("%s: %s died instead of riding out the fault", fault, p.name)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the services did not recover within 3 minutes of the restart", fault)
		}
		time.Sleep(500 * time.Millisecond)
	}
	now := time.Now()
	t.Logf("RECOVERY %s: services caught up %s after the fault, %s after the restart",
		fault, now.Sub(injected).Round(100*time.Millisecond), now.Sub(restarted).Round(100*time.Millisecond))
}

// progress is what the services have done so far: the batches each logger published, the batches the
// monitor had the enclave ingest.
type progress struct {
	published []float64
	ingested  float64
}

func (s *story) progress() progress {
	read := func(p *proc, name, labels string) float64 {
		for try := 0; try < 20; try++ {
			if v := p.metric(name, labels); v >= 0 {
				return v
			}
			time.Sleep(250 * time.Millisecond)
		}
		s.t.Fatalf("%s serves no %s{%s}", p.name, name, labels)
		return 0
	}
	out := progress{ingested: read(s.mon, "monitor_batches_ingested_total", "")}
	for i, lg := range s.loggers {
		out.published = append(out.published, read(lg, "logger_batches_published_total", `sla="`+s.ids[i]+`"`))
	}
	return out
}

// renew pays period (the one after the period that has just begun) of every SLA.
func (s *story) renew(docs [][]byte, period int) {
	for i, doc := range docs {
		nw.MustRenewSLA(s.t, "client", doc, s.ids[i])
	}
	s.t.Logf("P%d paid for every SLA", period)
}

func TestFaults(t *testing.T) {
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor", "shim-tunnel")
	work := t.TempDir()

	nw.MustSubmit(t, "client", "refund", "OpenAccount", "client")
	nw.MustSubmit(t, "provider", "refund", "OpenAccount", "provider")
	nw.MustSubmit(t, "issuer", "refund", "Mint", "client", strconv.Itoa(mint))

	// Two SLAs with 1-minute periods from M (at least 45 s away, so both are proposed and accepted before P0
	// starts: AcceptSLA pays the first period not started), valid for five periods.
	M := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	if time.Until(M) < 45*time.Second {
		M = M.Add(time.Minute)
	}
	s := &story{t: t, M: M}
	var docs [][]byte
	for _, name := range []string{"a", "b"} {
		id := fmt.Sprintf("fault-%s-%d", name, time.Now().UnixNano())
		doc := harness.ExampleSLA(t, "aws-ec2-region", id)
		harness.ShortPeriods(doc, M, periods*time.Minute, time.Minute)
		raw, _ := json.Marshal(doc)
		d, _, err := sla.DigestOf(raw)
		if err != nil {
			t.Fatal(err)
		}
		nw.MustProposeSLA(t, "provider", raw, nw.SignB64(t, "provider", d[:]))
		nw.MustAcceptSLA(t, "client", raw, id, fmt.Sprintf("%x", d[:]), nw.SignB64(t, "client", d[:]))
		s.ids = append(s.ids, id)
		docs = append(docs, raw)
	}
	t.Logf("SLAs %v: P0 %s .. P%d %s", s.ids, s.pname(0), periods-1, s.pname(periods-1))

	// The fault-free verdicts are scripted: SLA A's zones a and b fail at second 26 of every period (one
	// unavailable second: credit 30000), SLA B never fails (no credit).
	svc := newService(t)
	for i := 0; i < periods; i++ {
		svc.outage(s.P(i).Add(26*time.Second), "/a/zone-a", "/a/zone-b")
	}
	for i, id := range s.ids {
		name := []string{"a", "b"}[i]
		addr := harness.ServiceAddr(t)
		lg := &proc{t: t, name: "cloud-logger-" + name, bin: filepath.Join(bins, "cloud-logger"), log: filepath.Join(work, "logger-"+name+".log"),
			ops: "http://" + addr, args: []string{
				"-network-dir", run, "-identity", "logger", "-sla", id, "-state-dir", filepath.Join(work, "logger-"+name),
				"-probe", "probe-a,zone-a," + svc.url + "/" + name + "/zone-a", "-probe", "probe-b,zone-b," + svc.url + "/" + name + "/zone-b",
				"-probe", "probe-c,zone-c," + svc.url + "/" + name + "/zone-c",
				"-window", "10s", "-cut-delay", "3s", "-probe-timeout", "2s", "-ipfs-api-file", filepath.Join(run, "ipfs", "api"),
				"-backoff-min", "300ms", "-backoff-max", "3s", "-listen", addr}}
		s.loggers = append(s.loggers, lg)
	}
	monAddr := harness.ServiceAddr(t)
	s.mon = &proc{t: t, name: "slasa-monitor", bin: filepath.Join(bins, "slasa-monitor"), log: filepath.Join(work, "monitor.log"),
		ops: "http://" + monAddr, args: []string{
			"-network-dir", run, "-identity", "client", "-state-dir", filepath.Join(work, "monitor"), "-poll", "2s",
			"-backoff-min", "500ms", "-backoff-max", "4s", "-listen", monAddr}}
	procs := append([]*proc{s.mon}, s.loggers...)
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(p.log)
				lines := strings.Split(string(b), "\n")
				if len(lines) > 60 {
					lines = lines[len(lines)-60:]
				}
				t.Logf("---- tail of %s\n%s", p.log, strings.Join(lines, "\n"))
			}
		}
	})
	for _, p := range procs {
		p.start()
	}

	if time.Now().Before(M) {
		sleepUntil(M.Add(500 * time.Millisecond)) // the next period can be paid once the paid one has begun
	}
	s.renew(docs, 1)

	// ---- Fault 6, P0: the tunneling shim the enclave fetches batches through answers slowly (10 s per
	// batch), then with truncated bytes, while P0's batches are ingested; then the real shim returns.
	shimAddr := strings.TrimPrefix(strings.TrimSpace(readFile(t, filepath.Join(run, "shim-url"))), "http://")
	injected := time.Now()
	if err := nw.Node("stop", "shim-tunnel"); err != nil {
		t.Fatal(err)
	}
	upAddr := harness.ServiceAddr(t)
	realShim := &proc{t: t, name: "shim-tunnel (behind the faulty proxy)", bin: filepath.Join(bins, "shim-tunnel"), log: filepath.Join(work, "shim.log"),
		ops: "http://" + upAddr, args: []string{"-listen", upAddr, "-ipfs-api-file", filepath.Join(run, "ipfs", "api")}}
	realShim.start()
	t.Cleanup(realShim.kill)
	waitHealthy(t, realShim)
	proxy := &faultyShim{upstream: "http://" + upAddr, mode: "slow", served: map[string]int{}}
	proxy.serve(t, shimAddr)
	proxy.waitServed("slow", 1, M.Add(40*time.Second))
	proxy.setMode("truncate")
	proxy.waitServed("truncate", 2, M.Add(58*time.Second))
	slow, truncated := proxy.count("slow"), proxy.count("truncate")
	proxy.close()
	realShim.kill()
	if err := nw.Node("start", "shim-tunnel"); err != nil {
		t.Fatal(err)
	}
	if slow == 0 || truncated == 0 {
		t.Fatalf("the faulty shim served %d batches slowly and %d truncated: the fault did not hit ingestion", slow, truncated)
	}
	t.Logf("the faulty shim served %d batches 10 s late and %d truncated", slow, truncated)
	s.recovered("slow, then truncating shim (recovery from the real shim's return)", injected, time.Now())

	// ---- Fault 1, P1: SIGKILL the Raft leader while the loggers anchor P1's windows and the monitor
	// settles P0; a new leader is elected; the old one restarts from its data folder 20 s later.
	sleepUntil(s.P(1).Add(500 * time.Millisecond))
	s.renew(docs, 2)
	// Fault 5, the whole of P1: SLA B's logger's clock is 2 minutes off the probed services' clocks.
	svc.shiftDate("/b/", -2*time.Minute)
	clockFault := time.Now()
	sleepUntil(s.P(1).Add(3 * time.Second))
	leader, err := nw.RaftLeader()
	if err != nil {
		t.Fatal(err)
	}
	injected = time.Now()
	if err := nw.KillNode(leader); err != nil {
		t.Fatal(err)
	}
	next, err := nw.WaitRaftLeader(leader, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RECOVERY raft leader %s killed: %s elected after %s", leader, next, time.Since(injected).Round(100*time.Millisecond))
	sleepUntil(s.P(1).Add(23 * time.Second))
	if err := nw.Node("start", leader); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	if _, err := nw.WaitRaftLeader("", time.Minute); err != nil {
		t.Fatal(err)
	}
	s.recovered("raft leader "+leader, injected, restarted)

	// ---- Fault 5, detected and reported: SLA B's logger is degraded by its clock check, with the offset and
	// its direction, and its gauge reads -120 s; SLA A's logger, whose service agrees with its clock, is not.
	sleepUntil(s.P(1).Add(45 * time.Second))
	status, reasons := s.loggers[1].health()
	wantReason := "clock: the logger's clock is 2m0s ahead of the probed services' clocks"
	if status != http.StatusServiceUnavailable || len(reasons) != 1 || !strings.HasPrefix(reasons[0], wantReason) {
		t.Errorf("logger B with its clock 2 minutes off: /healthz %d %q, want 503 with %q...", status, reasons, wantReason)
	}
	if off := s.loggers[1].metric("logger_clock_offset_seconds", ""); off < -121 || off > -119 {
		t.Errorf("logger B: logger_clock_offset_seconds %v, want -120", off)
	}
	if off := s.loggers[0].metric("logger_clock_offset_seconds", ""); off < -2 || off > 2 || !s.loggers[0].healthy() {
		t.Errorf("logger A: logger_clock_offset_seconds %v, healthy %v; want about 0 and healthy", off, s.loggers[0].healthy())
	}
	t.Logf("clock fault since %s: logger B reports %q", clockFault.Format(time.RFC3339), reasons)

	// ---- Fault 2, P2: SIGKILL the provider's peer while P1 is ingested and settled (every anchor and
	// every settlement needs its endorsement; it is the loggers' gateway); restart it 20 s later.
	sleepUntil(s.P(2).Add(500 * time.Millisecond))
	svc.shiftDate("/b/", 0) // the clock is set right again: the check heals within the latest responses
	s.renew(docs, 3)
	sleepUntil(s.P(2).Add(3 * time.Second))
	injected = time.Now()
	if err := nw.KillNode("peer-provider"); err != nil {
		t.Fatal(err)
	}
	sleepUntil(s.P(2).Add(23 * time.Second))
	if err := nw.Node("start", "peer-provider"); err != nil {
		t.Fatal(err)
	}
	restarted = time.Now()
	s.recovered("provider's peer", injected, restarted)

	// ---- Fault 3, P3: SIGKILL chaincode servers mid-run (the client's refund server, the provider's
	// agreement server, the enclave host's slaenclave server) while P2 is ingested and settled; restart
	// them 15 s later.
	sleepUntil(s.P(3).Add(500 * time.Millisecond))
	s.renew(docs, 4)
	sleepUntil(s.P(3).Add(3 * time.Second))
	enc := nw.Info.Chaincodes["slaenclave"]
	var servers []string
	for _, cs := range []struct{ cc, org string }{{"refund", "client"}, {"agreement", "provider"}, {"slaenclave", enc.HostOrg}} {
		srv, err := nw.Server(cs.cc, cs.org)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, srv.Node)
	}
	injected = time.Now()
	for _, node := range servers {
		if err := nw.KillNode(node); err != nil {
			t.Fatal(err)
		}
	}
	sleepUntil(s.P(3).Add(18 * time.Second))
	for _, node := range servers {
		if err := nw.Node("start", node); err != nil {
			t.Fatal(err)
		}
	}
	restarted = time.Now()
	s.recovered("chaincode servers "+strings.Join(servers, ", "), injected, restarted)

	// ---- Fault 4, between P3 and P4: every process of the network stops (chaincode servers, peers,
	// orderers, the shim, the IPFS node) and starts again from its data folders, as after a power cut of
	// the site; the loggers and the monitor (other hosts) keep running and catch up by themselves.
	sleepUntil(s.P(4).Add(-12 * time.Second))
	injected = time.Now()
	down, err := nw.RestartAll()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the whole network was down for %s across the start of P4 (%s)", down.Round(100*time.Millisecond), s.pname(4))
	s.recovered("whole network restarted from disk", injected, time.Now())

	// ---- Every period settles with the fault-free verdict, exactly once.
	for p := 0; p < periods; p++ {
		for i, id := range s.ids {
			e := waitSettled(t, id, s.pname(p), 3*time.Minute)
			st := e.Settlement
			want := s.wantCredit(i)
			if st == nil || st.Credit != want || st.Violated != (want > 0) || st.CreditBPS != want*10000/fee || st.TxID == "" {
				t.Errorf("P%d of %s settled %+v, want credit %d", p, id, st, want)
				continue
			}
			if st.SettledAt < e.PeriodEnd {
				t.Errorf("P%d of %s (ending %s) settled at %s, before its end", p, id, e.PeriodEnd, st.SettledAt)
			}
		}
	}
	// A second SettleVerdict of a settled period is refused: the signed verdict of each settlement, read back
	// from its transaction on the ledger, submitted again.
	for p := 0; p < periods; p++ {
		for _, id := range s.ids {
			e, err := escrow(t, id, s.pname(p))
			if err != nil {
				t.Fatal(err)
			}
			v := settledVerdict(t, e.Settlement.TxID)
			_, err = nw.SubmitAndSync("client", "refund", "SettleVerdict", v)
			want := fmt.Sprintf("verdict.period: period %s of SLA %q is already settled (tx %s)", s.pname(p), id, e.Settlement.TxID)
			if err == nil || !strings.Contains(fabnet.ErrorText(err), want) {
				t.Errorf("P%d of %s settled again: %v, want %q", p, id, fabnet.ErrorText(err), want)
			}
		}
	}
	hist := string(nw.MustEvaluate(t, "client", "refund", "History", "client", "", ""))
	if n := strings.Count(hist, `"kind":"service_credit"`); n != periods {
		t.Errorf("client history has %d service credits, want %d (one per period of SLA A)", n, periods)
	}
	settled := s.mon.metric("monitor_settlements_total", "")
	if settled < 1 || settled > 2*periods {
		t.Errorf("monitor_settlements_total %v: want 1..%d (each settlement commits once; a retried one is refused)", settled, 2*periods)
	}
	t.Logf("monitor: %v settlements committed, %v retries, %v errors", settled, s.mon.metric("monitor_retries_total", ""), s.mon.metric("monitor_errors_total", ""))

	// ---- Money is conserved: the exact balances, and the issuer's audit adds everything up.
	wantClient := int64(mint - 2*periods*fee + periods*credit)
	if c, p := balance(t, "client"), balance(t, "provider"); c != wantClient || p != mint-wantClient {
		t.Errorf("balances client %d provider %d, want %d and %d", c, p, wantClient, mint-wantClient)
	}
	a := audit(t)
	if !a.Consistent || a.Difference != 0 || a.Supply != mint || a.Held != 0 || a.Balances != mint {
		t.Errorf("audit %+v: want consistent, supply %d all in the wallets", a, mint)
	}

	// ---- Nobody needed an operator: the monitor still runs (never restarted by the test) and is healthy; each
	// logger is healthy, or has stopped by itself with status 0 once every window of its SLA's validity was
	// published (it does so after P4).
	if !s.mon.alive() || !s.mon.healthy() {
		t.Errorf("%s: alive %v, healthy %v at the end", s.mon.name, s.mon.alive(), s.mon.healthy())
	}
	for _, lg := range s.loggers {
		if lg.alive() {
			if !lg.healthy() {
				t.Errorf("%s is not healthy at the end", lg.name)
			}
			continue
		}
		if lg.err != nil || !strings.Contains(readFile(t, lg.log), "validity ended: every window is published") {
			t.Errorf("%s stopped before publishing its SLA's last window: %v", lg.name, lg.err)
		}
	}
}
