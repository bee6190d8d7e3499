//go:build integration

package tickets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

// consolePassword is the test users' password.
const consolePassword = "console test password"

// consoleURL is the line slasa console prints when it serves.
var consoleURL = regexp.MustCompile(`^slasa console for \S+: (http://127\.0\.0\.1:\d+/) \(1 users\)$`)

// startConsole runs `slasa console` for one user (name, role, the local network's identity as) of
// organization org and returns its URL; the process is killed at the test's end (its output shown when
// the test failed).
func startConsole(t *testing.T, bin, work, org, name, role, as string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(consolePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(map[string]any{"organization": org, "users": []map[string]string{
		{"name": name, "password_bcrypt": string(hash), "role": role, "as": as}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(work, "console-"+as+".json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "slasa"), "--run-dir", nw.RunDir(), "console", "--config", path, "--listen", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("---- slasa console (%s) stderr\n%s", as, stderr.String())
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() {
		}
	}()
	select {
	case line := <-first:
		m := consoleURL.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("slasa console (%s) printed %q\n%s", as, line, stderr.String())
		}
		return m[1]
	case <-time.After(time.Minute):
		t.Fatalf("slasa console (%s) did not start in a minute\n%s", as, stderr.String())
	}
	return ""
}

// chromium starts headless Chromium (Debian's chromium package) and returns a context to drive it with.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (make system-packages installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// screenshot saves a PNG of the whole page in the test's artifact folder and fails the test unless it
// is a picture of something: at least 4 distinct colours, none covering more than 98 % of its pixels.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	counts := map[[4]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, bl, a}]++
		}
	}
	total, most := 0, 0
	for _, n := range counts {
		total += n
		most = max(most, n)
	}
	if len(counts) < 4 || most*100 > total*98 {
		t.Errorf("screenshot %s looks blank: %d colours, the commonest on %d of %d sampled pixels", name, len(counts), most, total)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s: %s (%dx%d, %d colours)", name, path, b.Dx(), b.Dy(), len(counts))
}

// signIn opens the console's sign-in page and signs in.
func signIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="user"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), consolePassword),
		chromedp.Submit(chromedp.CSS(`form.login`)),
		chromedp.WaitVisible(chromedp.CSS(`form.logout`)),
	); err != nil {
		t.Fatalf("sign in as %s at %s: %v", name, base, err)
	}
}

// pageText returns the text of the page's main element.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestConsoleBrowser drives slasa console in headless Chromium on the real network: the client's
// console (ClientOrg) lists the client's SLAs page by page until the new SLA shows and opens the ticket
// the client opened and the provider assigned; the vendor's console (VendorOrg) opens the same ticket
// and acknowledges it through its form, a transaction the vendor's identity signs on the server. The
// ledger then holds the acknowledgement with the browser's note. A screenshot of each page goes to the
// test's artifact folder and must not be blank.
func TestConsoleBrowser(t *testing.T) {
	s, doc := telecomSLA(t)
	activate(t, s, doc)
	id := "WEB-1"
	desc := marker(t, "WEBDESC")
	for _, args := range [][]string{
		{"--as", "client", "ticket", "create", s.ID, id, "--severity", "critical", "--type", "outage", "--description", desc},
		{"--as", "provider", "ticket", "assign", s.ID, id, "--vendor", "vendor"},
	} {
		if out, err := nw.CLI(args...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	// Each organization's peer holds the assigned ticket before its console reads it.
	for _, who := range []string{"client", "vendor"} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := nw.CLI("--as", who, "ticket", "show", s.ID, id)
			if err == nil && field(out, "status") == "assigned" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's peer: ticket %s not assigned after 30s: %v\n%s", who, id, err, out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	bin := harness.BuildCommands(t, "slasa")
	work := t.TempDir()
	clientURL := startConsole(t, bin, work, "ClientOrgMSP", "carol", "client", "client")
	vendorURL := startConsole(t, bin, work, "VendorOrgMSP", "vic", "vendor", "vendor")

	// The client: the SLA list (following Next page), then the ticket.
	ctx := chromium(t)
	signIn(t, ctx, clientURL, "carol")
	found := false
	for page := 0; page < 50 && !found; page++ {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatal(err)
		}
		text := pageText(t, ctx)
		if found = strings.Contains(text, s.ID); found {
			break
		}
		next, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('p.pager a[href^="/slas?"]') || {href: ""}).href`))
		if err != nil {
			t.Fatal(err)
		}
		if next == "" {
			t.Fatalf("SLA %s is on no page of the client's SLA list; last page:\n%s", s.ID, text)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(next)); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("SLA %s not in the first 50 pages of the client's SLA list", s.ID)
	}
	text := pageText(t, ctx)
	for _, want := range []string{"ClientOrgMSP/client@clientorg.slasa.local", "ProviderOrgMSP/provider@providerorg.slasa.local", s.Service.ProductID, "ACTIVE"} {
		if !strings.Contains(text, want) {
			t.Errorf("SLA list: no %q in\n%s", want, text)
		}
	}
	// The SLA's credit so far, from the refund chaincode's GetSLAScore: no period settled yet.
	credit, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#slas a[href="/slas/`+s.ID+`"]')?.closest('tr')?.querySelector('td.credit') || {textContent: ""}).textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0.00 " + s.Price.Currency; credit != want {
		t.Errorf("SLA list: the credit so far of %s is %q, want %q (GetSLAScore; no period settled)\n%s", s.ID, credit, want, text)
	}
	screenshot(t, ctx, "client-slas")

	// The client's money pages: this month's statement of the SLA (the first period's fee paid into escrow
	// when the SLA was accepted), the period's invoice PDF, and the provider's reputation.
	month := time.Now().UTC().Format("2006-01")
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"statements?"+url.Values{"month": {month}, "sla": {s.ID}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("statement-periods"))); err != nil {
		t.Fatalf("statement of SLA %s for %s: %v\n%s", s.ID, month, err, pageText(t, ctx))
	}
	text = pageText(t, ctx)
	for _, want := range []string{"Period fee paid into escrow", s.ID, "HELD", "Closing balance"} {
		if !strings.Contains(text, want) {
			t.Errorf("statement: no %q in\n%s", want, text)
		}
	}
	screenshot(t, ctx, "client-statement")
	invoice, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#statement-periods a[href*="/invoice?"]').href)
		.then(r => r.arrayBuffer().then(b => r.status + " " + r.headers.get("content-type") + " " + r.headers.get("content-disposition") + " " +
			new TextDecoder().decode(new Uint8Array(b).slice(0, 5))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("invoice download: %v", err)
	}
	if !regexp.MustCompile(`^200 application/pdf attachment; filename="SLA-\d{8}-[0-9A-F]{10}\.pdf" %PDF-$`).MatchString(invoice) {
		t.Errorf("invoice download: %q", invoice)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"reputation?"+url.Values{"provider": {s.Parties.Provider.MSPID}, "product": {s.Service.ProductID}}.Encode()), chromedp.WaitVisible(chromedp.ID("scores"))); err != nil {
		t.Fatalf("reputation: %v\n%s", err, pageText(t, ctx))
	}
	if text = pageText(t, ctx); !strings.Contains(text, "Reputation of "+s.Parties.Provider.MSPID) || !strings.Contains(text, s.Service.ProductID) {
		t.Errorf("reputation page:\n%s", text)
	}
	screenshot(t, ctx, "client-reputation")

	ticketPath := fmt.Sprintf("tickets/%s/%s", s.ID, id)
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+ticketPath), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatal(err)
	}
	text = pageText(t, ctx)
	for _, want := range []string{desc, "assigned", "critical", "CreateTicket", "AssignVendor", "VendorOrgMSP/vendor@vendororg.slasa.local"} {
		if !strings.Contains(text, want) {
			t.Errorf("client's ticket page: no %q in\n%s", want, text)
		}
	}
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form.action').length`))
	if err != nil {
		t.Fatal(err)
	}
	if forms != 0 {
		t.Errorf("the client is offered %d actions on an assigned ticket, want none", forms)
	}
	screenshot(t, ctx, "client-ticket")

	// The vendor acknowledges the ticket in its console.
	vctx := chromium(t)
	signIn(t, vctx, vendorURL, "vic")
	ack := fmt.Sprintf(`form[action="/%s/ack"]`, ticketPath)
	note := "on it, from the browser"
	if err := chromedp.Do(vctx,
		chromedp.Navigate(vendorURL+ticketPath),
		chromedp.WaitVisible(chromedp.CSS(ack)),
		chromedp.SendKeys(chromedp.CSS(ack+` textarea[name="note"]`), note),
		chromedp.Click(chromedp.CSS(ack+` button`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("acknowledge in the vendor's console: %v\n%s", err, pageText(t, vctx))
	}
	text = pageText(t, vctx)
	if !strings.Contains(text, "Ticket acknowledged: transaction AcknowledgeTicket committed (tx ") || !strings.Contains(text, note) {
		t.Errorf("vendor's ticket page after the acknowledgement:\n%s", text)
	}
	screenshot(t, vctx, "vendor-ticket-acknowledged")

	// The ledger: acknowledged by the vendor with the browser's note.
	out, err := nw.CLI("--as", "vendor", "ticket", "show", s.ID, id, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var v struct {
		Record struct {
			Status   string `json:"status"`
			Timeline []struct {
				Action string `json:"action"`
				Role   string `json:"role"`
				Note   string `json:"note"`
			} `json:"timeline"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	last := v.Record.Timeline[len(v.Record.Timeline)-1]
	if v.Record.Status != "acknowledged" || last.Action != "AcknowledgeTicket" || last.Role != "vendor" || last.Note != note {
		t.Fatalf("after the browser's acknowledgement: status %s, last transition %+v", v.Record.Status, last)
	}
}

// TestConsoleProposeAccept drives the propose and accept pages in headless Chromium on the real network:
// the provider pastes a new SLA into ProviderOrg's console, the page's script checks it on the server as
// it is typed, the review shows the digest, and the provider signs and proposes it; the client opens the
// proposal in ClientOrg's console, sees what it pays, and accepts it. The ledger then holds the SLA
// ACTIVE with the first period paid, signed by both parties' identities on the consoles' servers.
func TestConsoleProposeAccept(t *testing.T) {
	s, doc := telecomSLA(t)
	for _, w := range []struct{ who, wallet string }{{"client", s.Parties.Client.Wallet}, {"provider", s.Parties.Provider.Wallet}} {
		if _, err := nw.SubmitAndSync(w.who, "refund", "OpenAccount", w.wallet); err != nil && !strings.Contains(fabnet.ErrorText(err), "already exists") {
			t.Fatalf("OpenAccount %s: %s", w.wallet, fabnet.ErrorText(err))
		}
	}
	nw.MustSubmit(t, "issuer", "refund", "Mint", s.Parties.Client.Wallet, strconv.FormatInt(s.Price.AmountMinor*2, 10))

	bin := harness.BuildCommands(t, "slasa")
	work := t.TempDir()
	providerURL := startConsole(t, bin, work, "ProviderOrgMSP", "pat", "provider", "provider")
	clientURL := startConsole(t, bin, work, "ClientOrgMSP", "carol", "client", "client")

	// The provider: paste, the live check, the review with the digest, then sign and propose.
	pctx := chromium(t)
	signIn(t, pctx, providerURL, "pat")
	text, err := json.Marshal(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(pctx, chromedp.Navigate(providerURL+"propose"), chromedp.WaitVisible(chromedp.ID("sla-text"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(pctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const t = document.getElementById("sla-text"); t.value = %s; t.dispatchEvent(new Event("input")); return true; })()`, text))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(pctx, chromedp.WaitVisible(chromedp.CSS(`#sla-check p.notice`))); err != nil {
		t.Fatalf("the live check: %v\n%s", err, pageText(t, pctx))
	}
	if text := pageText(t, pctx); !strings.Contains(text, "Valid SLA "+s.ID) {
		t.Errorf("the live check of a valid SLA:\n%s", text)
	}
	screenshot(t, pctx, "provider-propose")
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.CSS(`#propose-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("review"))); err != nil {
		t.Fatalf("review: %v\n%s", err, pageText(t, pctx))
	}
	want, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(pctx, chromedp.Text(chromedp.ID("digest")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Nonce != "" && shown != hex.EncodeToString(want[:]) {
		t.Errorf("the review shows digest %q, the document's is %x", shown, want)
	}
	screenshot(t, pctx, "provider-review")
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.ID("sign")), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("sign and propose: %v\n%s", err, pageText(t, pctx))
	}
	if text := pageText(t, pctx); !strings.Contains(text, "Proposed: ProposeSLA committed (tx ") || !strings.Contains(text, shown) {
		t.Errorf("the SLA page after proposing:\n%s", text)
	}

	// The client's peer holds the proposal before its console reads it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := nw.CLI("--as", "client", "sla", "show", s.ID)
		if err == nil && strings.Contains(out, "PROPOSED") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client's peer: SLA %s not proposed after 30s: %v\n%s", s.ID, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The client: what accepting pays, then sign and accept.
	cctx := chromium(t)
	signIn(t, cctx, clientURL, "carol")
	if err := chromedp.Do(cctx, chromedp.Navigate(clientURL+"slas/"+url.PathEscape(s.ID)), chromedp.WaitVisible(chromedp.ID("accept-link")),
		chromedp.Click(chromedp.ID("accept-link")), chromedp.WaitVisible(chromedp.ID("pays"))); err != nil {
		t.Fatalf("accept page: %v\n%s", err, pageText(t, cctx))
	}
	if text := pageText(t, cctx); !strings.Contains(text, "from your wallet "+s.Parties.Client.Wallet+" into escrow") || !strings.Contains(text, shown) {
		t.Errorf("accept page:\n%s", text)
	}
	screenshot(t, cctx, "client-accept")
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("accept: %v\n%s", err, pageText(t, cctx))
	}
	if text := pageText(t, cctx); !strings.Contains(text, "Accepted: AcceptSLA committed (tx ") {
		t.Errorf("the SLA page after accepting:\n%s", text)
	}
	screenshot(t, cctx, "client-accepted")

	// The ledger: active, the first period paid, both signatures over the reviewed digest.
	out, err := nw.CLI("--as", "client", "sla", "verify", s.ID)
	if err != nil {
		t.Fatalf("sla verify after the consoles' propose and accept: %v\n%s", err, out)
	}
	out, err = nw.CLI("--as", "client", "sla", "show", s.ID, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rec struct {
		Status      string `json:"status"`
		Digest      string `json:"digest"`
		PaidPeriods int64  `json:"paid_periods"`
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rec.Status != "ACTIVE" || rec.Digest != shown || rec.PaidPeriods != 1 {
		t.Fatalf("after the consoles' propose and accept: %+v, want ACTIVE with digest %s and one paid period", rec, shown)
	}
}
