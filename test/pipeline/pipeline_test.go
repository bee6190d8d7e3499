//go:build integration

// Package pipeline tests the off-chain half end to end on a real network
// with its real kubo node and tunneling shim: the Cloud Logger probes a
// small HTTP service, spools, seals, publishes to IPFS and anchors; the
// monitor registers the SLA in the enclave, ingests the batches, evaluates
// each closed period and settles it on the refund chaincode. An injected
// outage of the probed service yields exactly the expected credit. The
// logger, the monitor, the shim and the kubo node are killed and restarted
// at scripted points; afterwards every sample is accounted for and each
// period is settled exactly once. A lying shim (one byte flipped, or another
// CID's content) makes ingestion fail and nothing is settled from it.
package pipeline

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	shell "github.com/ipfs/go-ipfs-api"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

// TestMain deploys the application as an operator does (network/deploy-all.sh: the four chaincodes, the
// deploy configuration recorded by provider-admin, the enclave set up and registered by the host's admin).
func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{DeployAll: true}, &nw))
}

const (
	fee    = 100000
	mint   = 1000000
	credit = 30000 // one unavailable second of 60: 98.33 % < 99.0 -> 3000 bps
)

func evaluate(t *testing.T, who, cc, fn string, args ...string) ([]byte, error) {
	t.Helper()
	c, err := nw.Contract(who, cc)
	if err != nil {
		t.Fatal(err)
	}
	return c.EvaluateTransaction(fn, args...)
}

// ---- the probed service

// service serves /zone-a, /zone-b and /zone-c; a request for a sample
// time and zone in fail answers 503. It records the sample time of every
// request (the probes send it in logger.SampleTimeHeader).
type service struct {
	mu      sync.Mutex
	fail    map[string]bool // "<zone> <sample time>"
	samples []time.Time
	srv     *http.Server
	url     string
}

func newService(t *testing.T) *service {
	s := &service{fail: map[string]bool{}}
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
	zone := strings.TrimPrefix(r.URL.Path, "/")
	at, err := time.Parse("2006-01-02T15:04:05.000Z", r.Header.Get(logger.SampleTimeHeader))
	s.mu.Lock()
	if err == nil {
		s.samples = append(s.samples, at)
	}
	fail := err == nil && s.fail[zone+" "+at.Format(time.RFC3339)]
	s.mu.Unlock()
	if fail {
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// outage makes the samples of the zones taken at second at fail.
func (s *service) outage(at time.Time, zones ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range zones {
		s.fail[z+" "+at.Format(time.RFC3339)] = true
	}
}

// samplesIn counts the samples taken at or after from and before to.
func (s *service) samplesIn(from, to time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, at := range s.samples {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// ---- processes

type proc struct {
	t    *testing.T
	name string
	bin  string
	args []string
	log  string
	cmd  *exec.Cmd
}

func (p *proc) start() {
	p.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(f, "==== %s start %s\n", p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	f.Close()
	p.cmd = cmd
	p.t.Logf("%s started (pid %d)", p.name, cmd.Process.Pid)
}

// kill stops the process with SIGKILL: no chance to clean up.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.t.Logf("%s killed", p.name)
	p.cmd = nil
}

// ---- the shim and kubo

func shimAddr(t *testing.T) string {
	t.Helper()
	u, err := os.ReadFile(filepath.Join(nw.RunDir(), "shim-url"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(u)), "http://")
}

// stopNetworkShim stops the shim network/up.sh started (its recorded PID).
func stopNetworkShim(t *testing.T) {
	t.Helper()
	pidFile := filepath.Join(nw.RunDir(), "pids", "shim-tunnel.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Signal(syscall.SIGKILL)
	}
	waitFree(t, shimAddr(t))
	t.Logf("network shim (pid %d) killed", pid)
}

func waitFree(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s stays busy", addr)
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	for i := 0; i < 150; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not healthy", url)
}

func ipfsScript(t *testing.T, name string) {
	t.Helper()
	root, _ := harness.RepoRoot()
	cmd := exec.Command("bash", filepath.Join(root, "ipfs", name))
	cmd.Env = append(nw.Env(), "SLASA_IPFS_WATCH_PID="+strconv.Itoa(os.Getpid()))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipfs/%s: %v\n%s", name, err, out)
	}
	t.Logf("ipfs/%s done", name)
}

// lyingShim serves, on the network shim's address, the batches of the
// upstream shim with one byte flipped (mode "flip") or the content of
// another batch (mode "other").
type lyingShim struct {
	mu       sync.Mutex
	mode     string
	other    []byte
	upstream string
	served   map[string]int
	srv      *http.Server
}

func (l *lyingShim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := http.Get(l.upstream + r.URL.RequestURI())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	l.mu.Lock()
	if resp.StatusCode == 200 && strings.HasPrefix(r.URL.Path, "/v1/batches/") {
		l.served[l.mode]++
		switch l.mode {
		case "flip":
			body[len(body)/2] ^= 0x01
		case "other":
			body = l.other
		}
	}
	l.mu.Unlock()
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
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
		BatchCID  string `json:"batch_cid"`
		SettledAt string `json:"settled_at"`
		TxID      string `json:"tx_id"`
	} `json:"settlement"`
}

func escrow(t *testing.T, id, period string) escrowT {
	t.Helper()
	out, err := evaluate(t, "client", "refund", "GetEscrow", id, period)
	if err != nil {
		t.Fatalf("GetEscrow %s: %s", period, fabnet.ErrorText(err))
	}
	var e escrowT
	if err := json.Unmarshal(out, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func waitSettled(t *testing.T, id, period string, timeout time.Duration) escrowT {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if e := escrow(t, id, period); e.Status == "SETTLED" {
			return e
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("period %s of %s not settled within %s", period, id, timeout)
	return escrowT{}
}

func balance(t *testing.T, account string) int64 {
	t.Helper()
	out, err := evaluate(t, "issuer", "refund", "BalanceOf", account)
	if err != nil {
		t.Fatal(fabnet.ErrorText(err))
	}
	var b struct {
		Balance int64 `json:"balance"`
	}
	json.Unmarshal(out, &b)
	return b.Balance
}

// anchorT is the part of the agreement chaincode's AnchorRecord the test reads.
type anchorT struct {
	signedsla.Anchor
}

// anchors lists the anchored batches of an SLA in seq order.
func anchors(t *testing.T, id string) []signedsla.Anchor {
	t.Helper()
	var out []signedsla.Anchor
	bookmark := ""
	for {
		raw, err := evaluate(t, "provider", "agreement", "ListLogBatches", id, "100", bookmark)
		if err != nil {
			t.Fatal(fabnet.ErrorText(err))
		}
		var page struct {
			Records  []anchorT `json:"records"`
			Bookmark string    `json:"bookmark"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			out = append(out, r.Anchor)
		}
		if page.Bookmark == "" || len(page.Records) == 0 {
			break
		}
		bookmark = page.Bookmark
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// statusT is the part of the enclave's GetAgreementStatus the test reads.
type statusT struct {
	LastSeq int64 `json:"last_seq"`
}

// sleepUntil sleeps until at.
func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

func TestPipeline(t *testing.T) {
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor", "shim-tunnel")
	work := t.TempDir()

	// The application is deployed and configured (TestMain); the issuer's admin funds the client.
	nw.MustSubmit(t, "client", "refund", "OpenAccount", "client")
	nw.MustSubmit(t, "provider", "refund", "OpenAccount", "provider")
	nw.MustSubmit(t, "issuer", "refund", "Mint", "client", strconv.Itoa(mint))

	// The SLA: 60-second periods from M, the next minute at least 25 s away, so
	// that it is accepted before P0 starts (AcceptSLA pays the first period
	// not started); 1-second sub-intervals and samples; a second is down when
	// zones a and b fail.
	M := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	if time.Until(M) < 25*time.Second {
		M = M.Add(time.Minute)
	}
	id := fmt.Sprintf("pipe-%d", time.Now().UnixNano())
	s := harness.ExampleSLA(t, "aws-ec2-region", id)
	harness.ShortPeriods(s, M, time.Hour, time.Minute)
	doc, _ := json.Marshal(s)
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	nw.MustProposeSLA(t, "provider", doc, nw.SignB64(t, "provider", d[:]))
	nw.MustAcceptSLA(t, "client", doc, id, fmt.Sprintf("%x", d[:]), nw.SignB64(t, "client", d[:]))
	P := func(i int) time.Time { return M.Add(time.Duration(i) * time.Minute) }
	pname := func(i int) string { return P(i).Format(time.RFC3339) }
	if time.Now().Before(M) {
		// The next period can be paid once the paid one has begun.
		sleepUntil(M.Add(500 * time.Millisecond))
	}
	nw.MustRenewSLA(t, "client", doc, id) // P1
	t.Logf("SLA %s: P0 %s, P1 %s, P2 %s", id, pname(0), pname(1), pname(2))

	svc := newService(t)
	loggerState, monitorState := filepath.Join(work, "logger"), filepath.Join(work, "monitor")
	lg := &proc{t: t, name: "cloud-logger", bin: filepath.Join(bins, "cloud-logger"), log: filepath.Join(work, "logger.log"), args: []string{
		"-network-dir", run, "-identity", "logger", "-sla", id, "-state-dir", loggerState,
		"-probe", "probe-a,zone-a," + svc.url + "/zone-a", "-probe", "probe-b,zone-b," + svc.url + "/zone-b", "-probe", "probe-c,zone-c," + svc.url + "/zone-c",
		"-window", "10s", "-cut-delay", "3s", "-probe-timeout", "2s", "-ipfs-api-file", filepath.Join(run, "ipfs", "api"),
		"-backoff-min", "300ms", "-backoff-max", "3s"}}
	mon := &proc{t: t, name: "slasa-monitor", bin: filepath.Join(bins, "slasa-monitor"), log: filepath.Join(work, "monitor.log"), args: []string{
		"-network-dir", run, "-identity", "client", "-state-dir", monitorState, "-poll", "2s", "-backoff-min", "500ms", "-backoff-max", "4s",
		"-listen", "127.0.0.1:0", "-addr-file", filepath.Join(work, "monitor.addr")}}
	t.Cleanup(func() {
		lg.kill()
		mon.kill()
		if t.Failed() {
			for _, f := range []string{lg.log, mon.log} {
				b, _ := os.ReadFile(f)
				lines := strings.Split(string(b), "\n")
				if len(lines) > 80 {
					lines = lines[len(lines)-80:]
				}
				t.Logf("---- tail of %s\n%s", f, strings.Join(lines, "\n"))
			}
		}
	})
	lg.start()
	mon.start()

	// ---- P1: crashes and the outage.
	sleepUntil(P(1).Add(5*time.Second + 500*time.Millisecond))
	lg.kill() // after the samples of second 5 are spooled
	sleepUntil(P(1).Add(8 * time.Second))
	lg.start()
	sleepUntil(P(1).Add(12 * time.Second))
	mon.kill()
	sleepUntil(P(1).Add(20 * time.Second))
	mon.start()
	svc.outage(P(1).Add(26*time.Second), "zone-a", "zone-b") // second 26 of P1 is down in two zones
	sleepUntil(P(1).Add(30 * time.Second))
	ipfsScript(t, "down.sh")
	sleepUntil(P(1).Add(38 * time.Second))
	ipfsScript(t, "up.sh")
	sleepUntil(P(1).Add(44 * time.Second))
	stopNetworkShim(t)
	sleepUntil(P(1).Add(50 * time.Second))
	realShim := &proc{t: t, name: "shim-tunnel", bin: filepath.Join(bins, "shim-tunnel"), log: filepath.Join(work, "shim.log"),
		args: []string{"-listen", shimAddr(t), "-ipfs-api-file", filepath.Join(run, "ipfs", "api")}}
	realShim.start()
	t.Cleanup(realShim.kill)
	waitHealthy(t, "http://"+shimAddr(t))
	nw.MustRenewSLA(t, "client", doc, id) // P2

	// ---- P0 and P1 settle with exactly the expected credits.
	e0 := waitSettled(t, id, pname(0), 3*time.Minute)
	e1 := waitSettled(t, id, pname(1), 3*time.Minute)
	if e0.Settlement.Violated || e0.Settlement.Credit != 0 {
		t.Errorf("P0 settlement %+v, want no violation", *e0.Settlement)
	}
	if !e1.Settlement.Violated || e1.Settlement.Credit != credit || e1.Settlement.CreditBPS != 3000 {
		t.Errorf("P1 settlement %+v, want credit %d (3000 bps)", *e1.Settlement, credit)
	}
	if c := balance(t, "client"); c != mint-3*fee+credit {
		t.Errorf("client balance %d, want %d", c, mint-3*fee+credit)
	}

	// ---- P2: a lying shim. First one flipped byte, then another CID's content.
	sleepUntil(P(2).Add(2 * time.Second))
	as := anchors(t, id)
	// The lying shim forwards to the real shim moved to another port.
	realShim.kill()
	waitFree(t, shimAddr(t))
	upAddr := harness.ServiceAddr(t)
	realShim.args = []string{"-listen", upAddr, "-ipfs-api-file", filepath.Join(run, "ipfs", "api")}
	realShim.start()
	waitHealthy(t, "http://"+upAddr)
	other := fetch(t, "http://"+upAddr, as[0].CID)
	liar := &lyingShim{mode: "flip", upstream: "http://" + upAddr, other: other, served: map[string]int{}}
	ln, err := net.Listen("tcp", shimAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	liar.srv = &http.Server{Handler: liar}
	go liar.srv.Serve(ln)
	headBefore := enclaveHead(t, id)
	sleepUntil(P(2).Add(30 * time.Second))
	liar.mu.Lock()
	liar.mode = "other"
	liar.mu.Unlock()
	sleepUntil(P(3).Add(15 * time.Second))
	liar.mu.Lock()
	flipped, others := liar.served["flip"], liar.served["other"]
	liar.mu.Unlock()
	if flipped == 0 || others == 0 {
		t.Fatalf("the lying shim served %d batches with a flipped byte and %d with another CID's content", flipped, others)
	}
	if e := escrow(t, id, pname(2)); e.Status != "HELD" {
		t.Fatalf("P2 is %s although every batch of it came through a lying shim", e.Status)
	}
	headDuring, anchored := enclaveHead(t, id), int64(len(anchors(t, id)))
	if headDuring != headBefore || anchored <= headDuring {
		t.Fatalf("enclave head %d -> %d during the lie with %d batches anchored: a lying shim's batch was ingested", headBefore, headDuring, anchored)
	}
	monLog, _ := os.ReadFile(mon.log)
	if !bytes.Contains(monLog, []byte("batch bytes do not match cid")) {
		t.Errorf("the monitor logged no rejected batch")
	}
	t.Logf("lying shim served %d batches with a flipped byte, %d with another CID's content; enclave head stayed at %d", flipped, others, headDuring)

	// The real shim returns: P2 settles, without violation.
	liar.srv.Close()
	waitFree(t, shimAddr(t))
	realShim.kill()
	realShim.args = []string{"-listen", shimAddr(t), "-ipfs-api-file", filepath.Join(run, "ipfs", "api")}
	realShim.start()
	e2 := waitSettled(t, id, pname(2), 3*time.Minute)
	if e2.Settlement.Violated || e2.Settlement.Credit != 0 {
		t.Errorf("P2 settlement %+v, want no violation", *e2.Settlement)
	}

	// ---- Every sample is accounted for: the batches (their record counts,
	// signed and encrypted) count exactly the samples the service saw, the chain is
	// contiguous from P0's start, and each period was settled once.
	lg.kill()
	as = anchors(t, id)
	sh := shell.NewShell(strings.TrimSpace(readFile(t, filepath.Join(run, "ipfs", "api"))))
	keys := sealedEnclaveKeys(t, run)
	var total int64
	prevCID, prevEnd := "", M.Format(time.RFC3339)
	for i, a := range as {
		if a.Seq != int64(i+1) || a.PrevCID != prevCID || a.PeriodStart != prevEnd {
			t.Fatalf("anchor %d breaks the chain: %+v", i+1, a)
		}
		rc, err := sh.Cat(a.CID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		b, _, err := logbatch.Parse(raw)
		if err != nil {
			t.Fatalf("batch %d: %v", a.Seq, err)
		}
		if b.Header.Seq != a.Seq || b.Header.WindowStart != a.PeriodStart || b.Header.WindowEnd != a.PeriodEnd {
			t.Fatalf("batch %d header %+v does not match its anchor %+v", a.Seq, b.Header, a)
		}
		// The record count is in the encrypted body: open the batch with
		// the (simulated) enclave's key, as the test runs the host.
		ek, ok := keys[b.Header.RecipientKeyID]
		if !ok {
			t.Fatalf("batch %d is encrypted to key %s, no enclave's sealed key", a.Seq, b.Header.RecipientKeyID)
		}
		opened, err := logbatch.Open(raw, ek)
		if err != nil {
			t.Fatalf("batch %d: %v", a.Seq, err)
		}
		if lines := int64(bytes.Count(opened.Records, []byte("\n"))); lines != opened.Count {
			t.Fatalf("batch %d counts %d records and holds %d lines", a.Seq, opened.Count, lines)
		}
		total += opened.Count
		prevCID, prevEnd = a.CID, a.PeriodEnd
	}
	end, _ := time.Parse(time.RFC3339, prevEnd)
	want := svc.samplesIn(M, end)
	if total != want {
		t.Errorf("the %d batches hold %d records, the service saw %d samples in [%s, %s)", len(as), total, want, M.Format(time.RFC3339), prevEnd)
	}
	t.Logf("%d batches, %d records, %d samples seen by the service", len(as), total, want)
	// Each period was settled after its end, on the verdict of the anchored batch that ends it.
	for i, e := range []escrowT{e0, e1, e2} {
		s := e.Settlement
		if s.TxID == "" {
			t.Errorf("P%d settlement without a transaction", i)
		}
		if s.SettledAt < e.PeriodEnd {
			t.Errorf("P%d (ending %s) settled at %s, before its end", i, e.PeriodEnd, s.SettledAt)
		}
		if s.BatchSeq < 1 || s.BatchSeq > int64(len(as)) || as[s.BatchSeq-1].CID != s.BatchCID || as[s.BatchSeq-1].PeriodEnd != e.PeriodEnd {
			t.Errorf("P%d (ending %s) settled on batch %d %s, which is not the anchored batch ending the period", i, e.PeriodEnd, s.BatchSeq, s.BatchCID)
		}
	}
	hist, err := evaluate(t, "client", "refund", "History", "client", "", "")
	if err != nil {
		t.Fatal(fabnet.ErrorText(err))
	}
	if n := strings.Count(string(hist), `"kind":"service_credit"`); n != 1 {
		t.Errorf("client history has %d service credits, want 1", n)
	}
	if c, p := balance(t, "client"), balance(t, "provider"); c != mint-3*fee+credit || p != 3*fee-credit {
		t.Errorf("final balances client %d provider %d", c, p)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fetch(t *testing.T, base, cid string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/v1/batches/" + cid)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("fetch %s: %d %s", cid, resp.StatusCode, b)
	}
	return b
}

// enclaveHead is the enclave's last ingested seq of the SLA (as the provider).
func enclaveHead(t *testing.T, id string) int64 {
	t.Helper()
	gw, err := nw.Gateway("provider")
	if err != nil {
		t.Fatal(err)
	}
	out, err := fpcclient.New(gw.GetNetwork(nw.Info.Channel), "slaenclave").Query(context.Background(), "GetAgreementStatus", id)
	if err != nil {
		t.Fatalf("GetAgreementStatus: %s", fabnet.ErrorText(err))
	}
	var st statusT
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	return st.LastSeq
}

// sealedEnclaveKeys returns the chaincode decryption keys the SIMULATED
// enclaves of the network sealed in their organizations' folders
// (network/deploy.sh: $RUN/orgs/<org>/enclave/<chaincode>-keys.json), by
// recipient key id.
func sealedEnclaveKeys(t *testing.T, run string) map[string]*rsa.PrivateKey {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(run, "orgs", "*", "enclave", "*-keys.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sealed enclave keys under %s: %v", run, err)
	}
	out := map[string]*rsa.PrivateKey{}
	for _, f := range files {
		var sealed struct {
			ChaincodeKey []byte `json:"chaincode_key"`
		}
		if err := json.Unmarshal([]byte(readFile(t, f)), &sealed); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		k, err := x509.ParsePKCS8PrivateKey(sealed.ChaincodeKey)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			t.Fatalf("%s: not an RSA key", f)
		}
		id, err := logbatch.KeyID(&rk.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = rk
	}
	return out
}
