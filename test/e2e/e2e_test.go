//go:build integration

// Package e2e plays the demo's story (make demo) as a test on a real network
// with its kubo node and tunneling shim, driving the chaincodes through the
// slasa CLI: the issuer mints, the provider proposes demo/sla.json (with
// 60-second periods), the client accepts and later renews, the Cloud Logger
// probes cmd/demo-service from three zones, the monitor settles each period.
//
// The outage is exact: the service fails zones a and b for the samples of
// whole seconds [20, 22) of the first period (decided by the probe's sample
// time, not by when the request arrives), so 2 of 60 one-second
// sub-intervals are down: uptime 58/60 = 96.66..% < 99.0 -> 3000 bps of the
// 100000 fee = 30000 credit. The second period has no outage: no credit, the
// whole fee is released to the provider. At the end slasa invoice (table,
// JSON, PDF) and slasa statement give exact figures from the ledger
// (billing_test.go).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/test/browser"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

func TestMain(m *testing.M) {
	// What make deploy does: the four chaincodes (each organization's own servers), the deploy
	// configuration recorded by ProviderOrg's admin, the enclave registered by the host's admin.
	os.Exit(harness.Run(m, harness.Options{DeployAll: true}, &nw))
}

const (
	fee      = 100000
	minted   = 1000000
	credit   = 30000 // 2 of 60 seconds down: 96.66 % < 99.0 -> 3000 bps
	periodS  = 60
	outFrom  = 20 // seconds into P0
	outLen   = 2
	leadTime = 25 * time.Second
)

// slasa runs the CLI in-process against the harness network and returns its
// standard output; a non-zero exit fails the test.
func slasa(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := slasaRun(args...)
	if code != cli.ExitOK {
		t.Fatalf("slasa %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func slasaRun(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := cli.Main(append([]string{"--run-dir", nw.RunDir()}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func slasaJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := slasa(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("slasa %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// sync waits until both peers have every block either has committed.
func sync(t *testing.T) {
	t.Helper()
	var top uint64
	for _, org := range []string{"provider", "client"} {
		h, err := nw.Height(org)
		if err != nil {
			t.Fatal(err)
		}
		if h > top {
			top = h
		}
	}
	if err := nw.WaitForBlock(top-1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func balance(t *testing.T, wallet string) int64 {
	t.Helper()
	var a struct {
		Balance int64 `json:"balance"`
	}
	slasaJSON(t, &a, "wallet", "balance", wallet, "--as", "issuer")
	return a.Balance
}

type proc struct {
	cmd *exec.Cmd
	log string
}

func start(t *testing.T, log, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &proc{cmd: cmd, log: log}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("---- tail of %s\n%s", log, strings.Join(lines, "\n"))
		}
	})
	return p
}

type escrowView struct {
	Status     string `json:"status"`
	Settlement *struct {
		Violated  bool  `json:"violated"`
		CreditBPS int64 `json:"credit_bps"`
		Credit    int64 `json:"credit"`
		Released  int64 `json:"released"`
	} `json:"settlement"`
}

type verdictView struct {
	Verdict struct {
		Verdict struct {
			Violated     bool   `json:"violated"`
			CreditBPS    int64  `json:"credit_bps"`
			CreditAmount int64  `json:"credit_amount"`
			Period       string `json:"period"`
		} `json:"verdict"`
	} `json:"verdict"`
	Report struct {
		Metrics []struct {
			Value string `json:"value"`
			Exact string `json:"exact"`
		} `json:"metrics"`
	} `json:"report"`
	Verified string     `json:"verified"`
	Escrow   escrowView `json:"escrow"`
}

// waitSettled waits with `slasa verdict show --wait` (what the demo runs)
// until the period's escrow is settled.
func waitSettled(t *testing.T, id, period string, timeout time.Duration) verdictView {
	t.Helper()
	out, errOut, code := slasaRun("verdict", "show", id, period, "--json", "--wait", timeout.String())
	if code != cli.ExitOK {
		t.Fatalf("period %s of %s not settled: exit %d\n%s", period, id, code, errOut)
	}
	var v verdictView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Escrow.Status != "SETTLED" {
		t.Fatalf("verdict show --wait returned escrow %q", v.Escrow.Status)
	}
	return v
}

func TestStory(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor", "demo-service", "slasa")
	work := t.TempDir()

	// make deploy recorded the deploy configuration and registered the enclave: every peer agrees.
	slasa(t, "config", "show")
	if out := slasa(t, "enclave", "show"); !strings.Contains(out, "SIMULATED") {
		t.Errorf("enclave show:\n%s", out)
	}

	// Wallets and money, through the CLI.
	slasa(t, "wallet", "open", "client", "--as", "client")
	slasa(t, "wallet", "open", "provider", "--as", "provider")
	sync(t)
	slasa(t, "wallet", "mint", "client", fmt.Sprint(minted))
	mintedAt := time.Now()
	sync(t)
	clientBefore, providerBefore := balance(t, "client"), balance(t, "provider")
	if clientBefore != minted || providerBefore != 0 {
		t.Fatalf("balances before: client %d provider %d", clientBefore, providerBefore)
	}

	// The demo's SLA with 60-second periods, starting on a 10-second boundary.
	startT := time.Now().Add(leadTime).Truncate(10 * time.Second).Add(10 * time.Second).UTC()
	P := func(i int) time.Time { return startT.Add(time.Duration(i*periodS) * time.Second) }
	iso := func(t time.Time) string { return t.Format(time.RFC3339) }
	id := fmt.Sprintf("e2e-%d", startT.Unix())
	var doc map[string]any
	tmpl, err := os.ReadFile(filepath.Join(root, "demo", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = id
	delete(doc, "nonce") // slasa sla propose adds a fresh one
	doc["validity"] = map[string]string{"start": iso(P(0)), "end": iso(P(60))}
	doc["interval"].(map[string]any)["billing_cycle"] = map[string]any{"unit": "seconds", "seconds": periodS}
	slaFile := filepath.Join(work, "sla.json")
	data, _ := json.Marshal(doc)
	if err := os.WriteFile(slaFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// The service and its exact outage: zones a and b, seconds [20, 22) of P0.
	addrFile := filepath.Join(work, "service.addr")
	start(t, filepath.Join(work, "service.log"), filepath.Join(bins, "demo-service"), "-listen", "127.0.0.1:0", "-addr-file", addrFile,
		"-outage", fmt.Sprintf("zone-a+zone-b@%s/%s", iso(P(0).Add(outFrom*time.Second)), iso(P(0).Add((outFrom+outLen)*time.Second))))
	var svc string
	for i := 0; i < 100 && svc == ""; i++ {
		if b, err := os.ReadFile(addrFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			svc = "http://" + strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if svc == "" {
		t.Fatal("demo-service did not start")
	}

	// Propose and accept through the CLI.
	var proposed map[string]string
	slasaJSON(t, &proposed, "sla", "propose", slaFile, "--as", "provider")
	if proposed["id"] != id || len(proposed["digest"]) != 64 {
		t.Fatalf("propose: %v", proposed)
	}
	sync(t)
	slasa(t, "sla", "accept", id, "--as", "client")
	sync(t)
	// AcceptSLA pays the first period that has not started: accepted before P0 begins, it pays P0 and
	// pins the registered enclave.
	if time.Now().After(P(0)) {
		t.Fatalf("the SLA was accepted after its first period began (%s): raise leadTime", iso(P(0)))
	}
	var accepted struct {
		LastPeriod  string `json:"last_period"`
		PaidThrough string `json:"paid_through"`
		Enclave     struct {
			Chaincode string `json:"chaincode"`
			EnclaveID string `json:"enclave_id"`
		} `json:"enclave"`
	}
	slasaJSON(t, &accepted, "sla", "show", id)
	var registered struct {
		EnclaveID string `json:"enclave_id"`
	}
	slasaJSON(t, &registered, "enclave", "show")
	if accepted.LastPeriod != iso(P(0)) || accepted.PaidThrough != iso(P(1)) || accepted.Enclave.Chaincode != "slaenclave" ||
		accepted.Enclave.EnclaveID == "" || accepted.Enclave.EnclaveID != registered.EnclaveID {
		t.Fatalf("accepted SLA pays %s..%s and pins %+v; want %s..%s and the registered enclave %s",
			accepted.LastPeriod, accepted.PaidThrough, accepted.Enclave, iso(P(0)), iso(P(1)), registered.EnclaveID)
	}

	// A second accept is refused at endorsement, explained in one line with the chaincode's message.
	_, errOut, code := slasaRun("sla", "accept", id, "--as", "client")
	if code != cli.ExitFailure || !strings.Contains(errOut, "endorsement failed") || !strings.Contains(errOut, "not PROPOSED") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("second accept: exit %d, %q", code, errOut)
	}

	// The lifecycle commands see it.
	show := slasa(t, "sla", "show", id)
	for _, w := range []string{"status:        ACTIVE", "paid periods:  1", "fee:           1000.00 USD per period"} {
		if !strings.Contains(show, w) {
			t.Errorf("sla show lacks %q:\n%s", w, show)
		}
	}
	if out := slasa(t, "sla", "list", "--as", "client"); !strings.Contains(out, id) {
		t.Errorf("sla list --as client lacks %s:\n%s", id, out)
	}
	if out := slasa(t, "sla", "history", id); strings.Count(out, "\n") != 3 || !strings.Contains(out, "PROPOSED") {
		t.Errorf("sla history:\n%s", out)
	}
	if out := slasa(t, "sla", "verify", id); !strings.Contains(out, "VALID") || !strings.Contains(out, "chained to the network's MSP root CAs") {
		t.Errorf("sla verify:\n%s", out)
	}
	// The same read with an explicit identity (what another network would use).
	u := nw.Info.Orgs["client"].Users["client"]
	p := nw.Info.Orgs["client"].Peer
	explicit := slasa(t, "sla", "show", id, "--json", "--msp-id", "ClientOrgMSP", "--cert", u.CertPath, "--key", u.KeyPath,
		"--peer", p.Address, "--tls-ca", p.TLSCACert, "--peer-host-override", p.HostnameOverride, "--channel", nw.Info.Channel)
	if !strings.Contains(explicit, `"status": "ACTIVE"`) {
		t.Errorf("explicit identity sla show:\n%s", explicit)
	}

	// Logger and monitor.
	start(t, filepath.Join(work, "logger.log"), filepath.Join(bins, "cloud-logger"), "-network-dir", run, "-identity", "logger", "-sla", id,
		"-state-dir", filepath.Join(work, "logger"), "-probe", "probe-a,zone-a,"+svc+"/zone-a", "-probe", "probe-b,zone-b,"+svc+"/zone-b",
		"-probe", "probe-c,zone-c,"+svc+"/zone-c", "-window", "10s", "-cut-delay", "3s", "-probe-timeout", "2s",
		"-ipfs-api-file", filepath.Join(run, "ipfs", "api"), "-backoff-min", "300ms", "-backoff-max", "3s")
	start(t, filepath.Join(work, "monitor.log"), filepath.Join(bins, "slasa-monitor"), "-network-dir", run, "-identity", "client",
		"-state-dir", filepath.Join(work, "monitor"), "-poll", "2s", "-backoff-min", "500ms", "-backoff-max", "4s", "-listen", "")

	// The client's console shows the SLA's page in headless Chromium from before P0 begins: the page is
	// never loaded again, it updates itself from the chaincode events (the renewal, then each settlement).
	console := browser.StartConsole(t, bins, run, work, browser.User{Org: "ClientOrgMSP", Name: "carol", Role: "client", As: "client"})
	page := browser.Chromium(t, 8*time.Minute)
	browser.SignIn(t, page, console, "carol")
	if err := chromedp.Do(page, chromedp.Navigate(console+"slas/"+url.PathEscape(id)), chromedp.WaitVisible(chromedp.ID("periods"))); err != nil {
		t.Fatalf("the client's console, SLA %s: %v\n%s", id, err, browser.PageText(t, page))
	}
	mark := browser.Live(t, page)

	// P1 is paid once P0 has begun.
	time.Sleep(time.Until(P(0).Add(2 * time.Second)))
	slasa(t, "sla", "renew", id, "--as", "client")
	sync(t)
	t.Logf("SLA %s: P0 %s, P1 %s", id, iso(P(0)), iso(P(1)))

	// P0: the outage's exact credit.
	v0 := waitSettled(t, id, iso(P(0)), time.Duration(periodS)*time.Second+3*time.Minute)
	if !v0.Verdict.Verdict.Violated || v0.Verdict.Verdict.CreditBPS != 3000 || v0.Verdict.Verdict.CreditAmount != credit {
		t.Errorf("P0 verdict %+v, want violated, 3000 bps, credit %d", v0.Verdict.Verdict, credit)
	}
	if len(v0.Report.Metrics) != 1 || v0.Report.Metrics[0].Exact != "290/3" || v0.Report.Metrics[0].Value != "96.6666" {
		t.Errorf("P0 availability %+v, want exactly 58/60 of 100 %% = 290/3 (96.6666 %%)", v0.Report.Metrics)
	}
	if s := v0.Escrow.Settlement; s == nil || s.Credit != credit || s.Released != fee-credit {
		t.Errorf("P0 settlement %+v, want credit %d released %d", s, credit, fee-credit)
	}
	if !strings.Contains(v0.Verified, "enclave signature valid") {
		t.Errorf("verdict show did not verify the enclave signature: %q", v0.Verified)
	}
	human := slasa(t, "verdict", "show", id, iso(P(0)), "--as", "provider")
	if !strings.Contains(human, "VIOLATED: credit 30% of the fee = 300.00 USD") || !strings.Contains(human, "96.6666 percent") {
		t.Errorf("verdict show as the provider:\n%s", human)
	}

	// The client sees P0's verdict and refund on the page it opened before, without reloading it.
	livePeriod(t, page, iso(P(0)), "violated", "Period "+iso(P(0))+" settled: violated, credit 30% = 300.00 USD, refund 300.00 USD to the client; 700.00 USD released to the provider.",
		"violated", "30% = 300.00 USD", "SETTLED (1000.00 USD)")
	browser.NotReloaded(t, page, mark)
	browser.Screenshot(t, page, "client-sla-p0-settled")

	// P1: no violation, the fee goes to the provider.
	v1 := waitSettled(t, id, iso(P(1)), time.Duration(periodS)*time.Second+3*time.Minute)
	if v1.Verdict.Verdict.Violated || v1.Verdict.Verdict.CreditAmount != 0 || v1.Report.Metrics[0].Exact != "100/1" {
		t.Errorf("P1 verdict %+v metrics %+v, want no violation, 100 %%", v1.Verdict.Verdict, v1.Report.Metrics)
	}
	if s := v1.Escrow.Settlement; s == nil || s.Credit != 0 || s.Released != fee {
		t.Errorf("P1 settlement %+v, want the whole fee released", s)
	}

	livePeriod(t, page, iso(P(1)), "met", "Period "+iso(P(1))+" settled: met, no credit; 1000.00 USD released to the provider.", "met", "0% = 0.00 USD")
	browser.NotReloaded(t, page, mark)

	// Balances and reputation.
	sync(t)
	if c := balance(t, "client"); c != minted-2*fee+credit {
		t.Errorf("client balance %d, want %d", c, minted-2*fee+credit)
	}
	if p := balance(t, "provider"); p != 2*fee-credit {
		t.Errorf("provider balance %d, want %d", p, 2*fee-credit)
	}
	var rep struct {
		Periods, Violated, Credits, ComplianceBPS int64
	}
	var raw map[string]int64
	out := slasa(t, "reputation", "ProviderOrgMSP", "--product", "demo-web", "--json")
	var repJSON map[string]any
	if err := json.Unmarshal([]byte(out), &repJSON); err != nil {
		t.Fatal(err)
	}
	raw = map[string]int64{}
	for k, v := range repJSON {
		if f, ok := v.(float64); ok {
			raw[k] = int64(f)
		}
	}
	rep.Periods, rep.Violated, rep.Credits, rep.ComplianceBPS = raw["periods"], raw["violated"], raw["credits"], raw["compliance_bps"]
	if rep.Periods != 2 || rep.Violated != 1 || rep.Credits != credit || rep.ComplianceBPS != 5000 {
		t.Errorf("reputation %+v, want 2 periods, 1 violated, credits %d, compliance 5000 bps", rep, credit)
	}
	// The reputation summary after a compaction (the client's organization runs it; the checkpoint is
	// created under the chaincode policy and carries the organizations' majority policy): the same figures
	// (the console's reputation page reads it).
	var compacted struct {
		TxIDs []string `json:"tx_ids"`
	}
	if err := json.Unmarshal([]byte(slasa(t, "reputation", "compact", "ProviderOrgMSP", "--json")), &compacted); err != nil || len(compacted.TxIDs) != 1 {
		t.Fatalf("reputation compact: %+v %v", compacted, err)
	}
	var sum struct {
		Periods, Violated, Credits int64
		Products                   []struct {
			ProductID string `json:"product_id"`
			Periods   int64
		}
		CompactedTx string `json:"compacted_tx"`
	}
	if err := json.Unmarshal([]byte(slasa(t, "reputation", "ProviderOrgMSP", "--summary", "--json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Periods != 2 || sum.Violated != 1 || sum.Credits != credit || len(sum.Products) != 1 || sum.Products[0].ProductID != "demo-web" ||
		sum.Products[0].Periods != 2 || sum.CompactedTx != compacted.TxIDs[0] {
		t.Errorf("reputation summary %+v, want 2 periods, 1 violated, credits %d, product demo-web, compacted by %s", sum, credit, compacted.TxIDs[0])
	}
	hist := slasa(t, "wallet", "history", "client")
	if strings.Count(hist, "service_credit") != 1 || strings.Count(hist, "escrow_deposit") != 2 {
		t.Errorf("client wallet history:\n%s", hist)
	}

	// The same browser: the metric report of both periods (decrypted for the client) and the provider's
	// reputation over time.
	consoleReport(t, page, console, id, P(0))

	// slasa watch replays the events from the start of the chain.
	events := slasa(t, "watch", "--start-block", "0", "--max", "6", "--for", "30s")
	for _, w := range []string{"agreement.SLAProposed", "agreement.SLASigned", "agreement.SLARenewed", "agreement.LogBatchAnchored"} {
		if !strings.Contains(events, w) {
			t.Errorf("watch output lacks %s:\n%s", w, events)
		}
	}
	refundEvents := slasa(t, "watch", "--chaincode", "refund", "--start-block", "0", "--max", "2", "--for", "30s")
	if !strings.Contains(refundEvents, "refund.RefundIssued") || !strings.Contains(refundEvents, "refund.PeriodSettled") {
		t.Errorf("refund events:\n%s", refundEvents)
	}

	// Invoices and statements from the ledger.
	checkBilling(t, id, P(0), P(1), mintedAt, work)
}

// livePeriod waits until the open SLA page shows period settled with verdict (met or violated), its
// row showing each of cells and the page's notice saying notice.
func livePeriod(t *testing.T, page context.Context, period, verdict, notice string, cells ...string) {
	t.Helper()
	row := fmt.Sprintf(`#periods tr.settled.%s[data-period=%q]`, verdict, period)
	if err := chromedp.Do(page, chromedp.WaitVisible(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.ID("live-notice"))); err != nil {
		t.Fatalf("the SLA page shows no %s period %s: %v\n%s", verdict, period, err, browser.PageText(t, page))
	}
	text, err := chromedp.Run(page, chromedp.Text(chromedp.CSS(row)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		if !strings.Contains(text, c) {
			t.Errorf("the SLA page's row of period %s lacks %q:\n%s", period, c, text)
		}
	}
	if ref, err := chromedp.Run(page, chromedp.Text(chromedp.CSS(row+" td.mono"))); err != nil || len(strings.TrimSpace(ref)) != 64 {
		t.Errorf("the SLA page's row of period %s: enclave verdict id %q (%v), want 64 hex digits", period, ref, err)
	}
	shown, err := chromedp.Run(page, chromedp.Text(chromedp.ID("live-notice")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown, notice) {
		t.Errorf("the SLA page's notice %q lacks %q", shown, notice)
	}
}

// consoleReport opens, in the client's console, the metric report of SLA id (P0 violated at 96.6666 %,
// P1 met) and the reputation of the SLA's provider and product (2 settled periods, 1 violated, in the
// month of p0), each checked and saved as a screenshot.
func consoleReport(t *testing.T, page context.Context, console, id string, p0 time.Time) {
	t.Helper()
	rows := func(table string) string {
		text, err := chromedp.Run(page, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#`+table+` tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim()).join('|')).join('\n')`))
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	if err := chromedp.Do(page, chromedp.Navigate(console+"slas/"+url.PathEscape(id)+"/report"), chromedp.WaitVisible(chromedp.ID("chart-availability")),
		chromedp.WaitVisible(chromedp.ID("reports"))); err != nil {
		t.Fatalf("the metric report of SLA %s: %v\n%s", id, err, browser.PageText(t, page))
	}
	report := rows("reports")
	for _, want := range []string{"|violated|30%|300.00 USD|availability: 96.6666 (", "|met|0%|0.00 USD|availability: 100"} {
		if !strings.Contains(report, want) {
			t.Errorf("the metric report lacks %q:\n%s", want, report)
		}
	}
	if n := strings.Count(report, "enclave signature valid"); n != 2 {
		t.Errorf("the metric report verified %d of 2 periods:\n%s", n, report)
	}
	browser.Screenshot(t, page, "client-metric-report")

	if err := chromedp.Do(page, chromedp.Navigate(console+"reputation?"+url.Values{"provider": {"ProviderOrgMSP"}, "product": {"demo-web"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("months-chart"))); err != nil {
		t.Fatalf("the reputation page: %v\n%s", err, browser.PageText(t, page))
	}
	if scores := rows("scores"); !strings.Contains(scores, "demo-web|2|1|50%|0|50%|30000|0") {
		t.Errorf("the reputation of demo-web:\n%s", scores)
	}
	if months := rows("months"); !strings.Contains(months, p0.UTC().Format("2006-01")+"|") {
		t.Errorf("the reputation over time has no month %s:\n%s", p0.UTC().Format("2006-01"), months)
	}
	browser.Screenshot(t, page, "client-reputation-months")
}
