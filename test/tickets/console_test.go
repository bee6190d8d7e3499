//go:build integration

package tickets

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/browser"
	"github.com/slasa/slasa/test/harness"
)

// TestConsoleBrowser drives slasa console in headless Chromium on the real network: the client's
// console (ClientOrg) lists the client's SLAs page by page until the new SLA shows and opens the ticket
// the client opened and the provider assigned; the provider's console (ProviderOrg) opens the same
// ticket; the vendor's console (VendorOrg) opens it and acknowledges it through its form, a transaction
// the vendor's identity signs on the server, and the provider's page, still open, shows the notification
// that the ticket changed without being loaded again. The ledger then holds the acknowledgement with the
// browser's note. A screenshot of each page goes to the test's artifact folder and must not be blank.
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
	for _, who := range []string{"client", "vendor", "provider"} {
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
	clientURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "ClientOrgMSP", Name: "carol", Role: "client", As: "client"})
	vendorURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "VendorOrgMSP", Name: "vic", Role: "vendor", As: "vendor"})
	providerURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "ProviderOrgMSP", Name: "pat", Role: "provider", As: "provider"})

	// The client: the SLA list (following Next page), then the ticket.
	ctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, ctx, clientURL, "carol")
	found := false
	for page := 0; page < 50 && !found; page++ {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatal(err)
		}
		text := browser.PageText(t, ctx)
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
	text := browser.PageText(t, ctx)
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
	browser.Screenshot(t, ctx, "client-slas")

	// The client's money pages: this month's statement of the SLA (the first period's fee paid into escrow
	// when the SLA was accepted), the period's invoice PDF, and the provider's reputation.
	month := time.Now().UTC().Format("2006-01")
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"statements?"+url.Values{"month": {month}, "sla": {s.ID}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("statement-periods"))); err != nil {
		t.Fatalf("statement of SLA %s for %s: %v\n%s", s.ID, month, err, browser.PageText(t, ctx))
	}
	text = browser.PageText(t, ctx)
	for _, want := range []string{"Period fee paid into escrow", s.ID, "HELD", "Closing balance"} {
		if !strings.Contains(text, want) {
			t.Errorf("statement: no %q in\n%s", want, text)
		}
	}
	browser.Screenshot(t, ctx, "client-statement")
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
		t.Fatalf("reputation: %v\n%s", err, browser.PageText(t, ctx))
	}
	if text = browser.PageText(t, ctx); !strings.Contains(text, "Reputation of "+s.Parties.Provider.MSPID) || !strings.Contains(text, s.Service.ProductID) {
		t.Errorf("reputation page:\n%s", text)
	}
	browser.Screenshot(t, ctx, "client-reputation")

	ticketPath := fmt.Sprintf("tickets/%s/%s", s.ID, id)
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+ticketPath), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatal(err)
	}
	text = browser.PageText(t, ctx)
	for _, want := range []string{desc, "assigned", "critical", "CreateTicket", "AssignVendor", "VendorOrgMSP/vendor@vendororg.slasa.local"} {
		if !strings.Contains(text, want) {
			t.Errorf("client's ticket page: no %q in\n%s", want, text)
		}
	}
	// The client may pause an assigned ticket, change its severity or escalate it, not act as the vendor.
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form.action[action$="/ack"], form.action[action$="/update"], form.action[action$="/resolve"], form.action[action$="/assign"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if forms != 0 {
		t.Errorf("the client is offered %d of the vendor's or provider's actions on an assigned ticket, want none", forms)
	}
	browser.Screenshot(t, ctx, "client-ticket")

	// The client's ticket list of the SLA and wallet, then its events page, left open.
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"tickets?"+url.Values{"sla": {s.ID}}.Encode()), chromedp.WaitVisible(chromedp.ID("tickets"))); err != nil {
		t.Fatalf("the client's ticket list: %v\n%s", err, browser.PageText(t, ctx))
	}
	if text = browser.PageText(t, ctx); !strings.Contains(text, id) || !strings.Contains(text, "critical") {
		t.Errorf("the client's ticket list of SLA %s lacks ticket %s:\n%s", s.ID, id, text)
	}
	browser.Screenshot(t, ctx, "client-tickets")
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"wallet"), chromedp.WaitVisible(chromedp.ID("wallet-fields"))); err != nil {
		t.Fatalf("the client's wallet: %v\n%s", err, browser.PageText(t, ctx))
	}
	if text = browser.PageText(t, ctx); !strings.Contains(text, s.Parties.Client.Wallet) || !strings.Contains(text, "escrow_deposit") {
		t.Errorf("the client's wallet page (%s):\n%s", s.Parties.Client.Wallet, text)
	}
	browser.Screenshot(t, ctx, "client-wallet")
	if err := chromedp.Do(ctx, chromedp.Navigate(clientURL+"events"), chromedp.WaitVisible(chromedp.ID("events"))); err != nil {
		t.Fatalf("the client's events page: %v", err)
	}
	eventsMark := browser.Live(t, ctx)

	// The provider's console (ProviderOrg) shows the ticket, open before the vendor acknowledges it.
	pctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, pctx, providerURL, "pat")
	if err := chromedp.Do(pctx, chromedp.Navigate(providerURL+ticketPath), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatalf("provider's ticket page: %v\n%s", err, browser.PageText(t, pctx))
	}
	if hidden, err := chromedp.Run(pctx, chromedp.Evaluate[bool](`document.getElementById("changed").classList.contains("hidden")`)); err != nil || !hidden {
		t.Fatalf("the provider's ticket page shows the change notice before any change (hidden %v, %v)", hidden, err)
	}
	mark := browser.Live(t, pctx)

	// The vendor acknowledges the ticket in its console.
	vctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, vctx, vendorURL, "vic")
	ack := fmt.Sprintf(`form[action="/%s/ack"]`, ticketPath)
	note := "on it, from the browser"
	if err := chromedp.Do(vctx,
		chromedp.Navigate(vendorURL+ticketPath),
		chromedp.WaitVisible(chromedp.CSS(ack)),
		chromedp.SendKeys(chromedp.CSS(ack+` textarea[name="note"]`), note),
		chromedp.Click(chromedp.CSS(ack+` button`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("acknowledge in the vendor's console: %v\n%s", err, browser.PageText(t, vctx))
	}
	text = browser.PageText(t, vctx)
	if !strings.Contains(text, "Ticket acknowledged: transaction AcknowledgeTicket committed (tx ") || !strings.Contains(text, note) {
		t.Errorf("vendor's ticket page after the acknowledgement:\n%s", text)
	}
	browser.Screenshot(t, vctx, "vendor-ticket-acknowledged")

	// The provider's page shows the notification without a reload.
	if err := chromedp.Do(pctx, chromedp.WaitVisible(chromedp.ID("changed"))); err != nil {
		t.Fatalf("the provider's ticket page shows no notification of the vendor's acknowledgement: %v\n%s", err, browser.PageText(t, pctx))
	}
	changed, err := chromedp.Run(pctx, chromedp.Text(chromedp.ID("changed")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "This ticket changed on the ledger since the page was loaded. Reload"; strings.TrimSpace(changed) != want {
		t.Errorf("the provider's notification: %q, want %q", changed, want)
	}
	browser.NotReloaded(t, pctx, mark)
	browser.Screenshot(t, pctx, "provider-ticket-changed")

	// The client's events page, open since before, lists the acknowledgement.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.Search(`//table[@id="events"]/tbody/tr[td[2]="ticket" and td[3]="TicketAcknowledged"]`))); err != nil {
		t.Fatalf("the client's events page shows no ticket TicketAcknowledged: %v\n%s", err, browser.PageText(t, ctx))
	}
	browser.NotReloaded(t, ctx, eventsMark)
	browser.Screenshot(t, ctx, "client-events")

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
	providerURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "ProviderOrgMSP", Name: "pat", Role: "provider", As: "provider"})
	clientURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "ClientOrgMSP", Name: "carol", Role: "client", As: "client"})

	// The provider: paste, the live check, the review with the digest, then sign and propose.
	pctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, pctx, providerURL, "pat")
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
		t.Fatalf("the live check: %v\n%s", err, browser.PageText(t, pctx))
	}
	if text := browser.PageText(t, pctx); !strings.Contains(text, "Valid SLA "+s.ID) {
		t.Errorf("the live check of a valid SLA:\n%s", text)
	}
	browser.Screenshot(t, pctx, "provider-propose")
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.CSS(`#propose-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("review"))); err != nil {
		t.Fatalf("review: %v\n%s", err, browser.PageText(t, pctx))
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
	browser.Screenshot(t, pctx, "provider-review")
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.ID("sign")), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("sign and propose: %v\n%s", err, browser.PageText(t, pctx))
	}
	if text := browser.PageText(t, pctx); !strings.Contains(text, "Proposed: ProposeSLA committed (tx ") || !strings.Contains(text, shown) {
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
	cctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, cctx, clientURL, "carol")
	if err := chromedp.Do(cctx, chromedp.Navigate(clientURL+"slas/"+url.PathEscape(s.ID)), chromedp.WaitVisible(chromedp.ID("accept-link")),
		chromedp.Click(chromedp.ID("accept-link")), chromedp.WaitVisible(chromedp.ID("pays"))); err != nil {
		t.Fatalf("accept page: %v\n%s", err, browser.PageText(t, cctx))
	}
	if text := browser.PageText(t, cctx); !strings.Contains(text, "from your wallet "+s.Parties.Client.Wallet+" into escrow") || !strings.Contains(text, shown) {
		t.Errorf("accept page:\n%s", text)
	}
	browser.Screenshot(t, cctx, "client-accept")
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("accept: %v\n%s", err, browser.PageText(t, cctx))
	}
	if text := browser.PageText(t, cctx); !strings.Contains(text, "Accepted: AcceptSLA committed (tx ") {
		t.Errorf("the SLA page after accepting:\n%s", text)
	}
	browser.Screenshot(t, cctx, "client-accepted")

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
