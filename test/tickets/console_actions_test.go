//go:build integration

package tickets

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slasa/slasa/test/browser"
	"github.com/slasa/slasa/test/harness"
)

// submitForm fills the form sel with values (by field name: inputs and selects by value, textareas
// typed), clicks its button and waits up to 90 s for the next page's notice to contain want, failing
// with the page's error when one shows.
func submitForm(t *testing.T, ctx context.Context, sel string, values map[string]string, want string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(sel))}
	for name, v := range values {
		f := fmt.Sprintf(`%s [name="%s"]`, sel, name)
		steps = append(steps, chromedp.SetValue(chromedp.CSS(f), v))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(sel+` button[type="submit"]`)))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("form %s: %v\n%s", sel, err, browser.PageText(t, ctx))
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const n = document.getElementById("notice"), e = document.querySelector("p.error");
			return (n ? "notice " + n.textContent : "") + (e ? "error " + e.textContent : "");
		})()`))
		switch {
		case err == nil && strings.Contains(state, want):
			return
		case err == nil && strings.HasPrefix(state, "error "):
			t.Fatalf("form %s: the console answered: %s", sel, state)
		case time.Now().After(deadline):
			t.Fatalf("form %s: no notice %q after 90s (last %q, %v)\n%s", sel, want, state, err, browser.PageText(t, ctx))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitStatus waits up to 30 s for who's peer to hold ticket id of slaID in status.
func waitStatus(t *testing.T, who, slaID, id, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := nw.CLI("--as", who, "ticket", "show", slaID, id)
		if err == nil && field(out, "status") == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's peer: ticket %s not %s after 30s: %v\n%s", who, id, status, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestConsoleTicketActions drives the ticket forms of slasa console in headless Chromium on the real
// network, each transition signed on the server by the identity of the signed-in role: the provider
// opens a ticket in ProviderOrg's console (severity picked from the SLA's severities, the description
// private) and assigns VendorOrg's vendor; the vendor acknowledges, updates with its own ticket id,
// pauses it waiting on the customer, resumes and resolves it in VendorOrg's console; the provider closes
// it. Each console offers only its role's forms. The ledger's timeline then holds every transition by
// the right organization and role.
func TestConsoleTicketActions(t *testing.T) {
	s, doc := telecomSLA(t)
	activate(t, s, doc)
	bin := harness.BuildCommands(t, "slasa")
	work := t.TempDir()
	providerURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "ProviderOrgMSP", Name: "pat", Role: "provider", As: "provider"})
	vendorURL := browser.StartConsole(t, bin, nw.RunDir(), work, browser.User{Org: "VendorOrgMSP", Name: "vic", Role: "vendor", As: "vendor"})
	id := "WEBACT-1"
	desc := marker(t, "WEBACTDESC")
	ticketPath := fmt.Sprintf("tickets/%s/%s", s.ID, id)
	form := func(action string) string { return fmt.Sprintf(`form[action="/%s/%s"]`, ticketPath, action) }

	// The provider opens the ticket from the SLA's ticket list.
	pctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, pctx, providerURL, "pat")
	if err := chromedp.Do(pctx, chromedp.Navigate(providerURL+"tickets?sla="+s.ID), chromedp.WaitVisible(chromedp.ID("newticket")),
		chromedp.Click(chromedp.ID("newticket")), chromedp.WaitVisible(chromedp.ID("createticket"))); err != nil {
		t.Fatalf("new ticket page: %v\n%s", err, browser.PageText(t, pctx))
	}
	options, err := chromedp.Run(pctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#createticket select[name="severity"] option')].map(o => o.value).join(",")`))
	if err != nil {
		t.Fatal(err)
	}
	if options != "critical,high,medium,low" {
		t.Errorf("the severities offered: %q, want the SLA's critical,high,medium,low", options)
	}
	browser.Screenshot(t, pctx, "provider-new-ticket")
	submitForm(t, pctx, "#createticket", map[string]string{"ticket": id, "severity": "high", "type": "outage", "description": desc},
		"Ticket created: transaction CreateTicket committed (tx ")

	// The provider's forms on the open ticket: assign (and pause, severity), not the vendor's.
	for _, no := range []string{"ack", "update", "resolve"} {
		if n, err := chromedp.Run(pctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('%s').length`, form(no)))); err != nil || n != 0 {
			t.Errorf("the provider is offered %s on an open ticket (%d, %v)", no, n, err)
		}
	}
	submitForm(t, pctx, form("assign"), map[string]string{"vendor": "vendor", "note": "yours, from the console"},
		"Ticket assigned: transaction AssignVendor committed (tx ")
	if text := browser.PageText(t, pctx); !strings.Contains(text, "VendorOrgMSP/vendor@vendororg.slasa.local") || !strings.Contains(text, desc) {
		t.Errorf("provider's ticket page after assigning:\n%s", text)
	}
	browser.Screenshot(t, pctx, "provider-ticket-assigned")

	// The vendor: acknowledge, update, pause, resume, resolve.
	waitStatus(t, "vendor", s.ID, id, "assigned")
	vctx := browser.Chromium(t, 4*time.Minute)
	browser.SignIn(t, vctx, vendorURL, "vic")
	if err := chromedp.Do(vctx, chromedp.Navigate(vendorURL+ticketPath), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatal(err)
	}
	for _, no := range []string{"assign", "close", "severity"} {
		if n, err := chromedp.Run(vctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('%s').length`, form(no)))); err != nil || n != 0 {
			t.Errorf("the vendor is offered %s (%d, %v)", no, n, err)
		}
	}
	submitForm(t, vctx, form("ack"), map[string]string{"note": "on it"}, "Ticket acknowledged: transaction AcknowledgeTicket committed")
	submitForm(t, vctx, form("update"), map[string]string{"reason": "line card ordered", "vendor-ticket-id": "VX-42"},
		"Ticket updated: transaction UpdateTicket committed")
	submitForm(t, vctx, form("pause"), map[string]string{"status": "waiting_on_customer", "reason": "site access needed"},
		"Ticket paused: transaction PauseTicket committed")
	browser.Screenshot(t, vctx, "vendor-ticket-paused")
	submitForm(t, vctx, form("resume"), map[string]string{"note": "access granted"}, "Ticket resumed: transaction ResumeTicket committed")
	submitForm(t, vctx, form("resolve"), map[string]string{"note": "line card replaced"}, "Ticket resolved: transaction ResolveTicket committed")

	// The provider closes it.
	waitStatus(t, "provider", s.ID, id, "resolved")
	if err := chromedp.Do(pctx, chromedp.Navigate(providerURL+ticketPath), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatal(err)
	}
	submitForm(t, pctx, form("close"), nil, "Ticket closed: transaction CloseTicket committed")
	browser.Screenshot(t, pctx, "provider-ticket-closed")

	// The ledger: every transition by the right organization and role, the vendor's ticket id recorded.
	waitStatus(t, "vendor", s.ID, id, "closed")
	out, err := nw.CLI("--as", "vendor", "ticket", "show", s.ID, id, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var v struct {
		Record struct {
			Status         string `json:"status"`
			Severity       string `json:"severity"`
			Description    string `json:"description"`
			VendorTicketID string `json:"vendor_ticket_id"`
			CreatedBy      string `json:"created_by"`
			Timeline       []struct {
				Action string `json:"action"`
				Role   string `json:"role"`
				By     struct {
					MSPID string `json:"msp_id"`
				} `json:"by"`
				To string `json:"to"`
			} `json:"timeline"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := v.Record
	if r.Status != "closed" || r.Severity != "high" || r.Description != desc || r.VendorTicketID != "VX-42" || r.CreatedBy != "provider" {
		t.Errorf("the ticket after the consoles' transitions: status %s, severity %s, description %q, vendor ticket %q, created by %s",
			r.Status, r.Severity, r.Description, r.VendorTicketID, r.CreatedBy)
	}
	var got []string
	for _, tr := range r.Timeline {
		got = append(got, fmt.Sprintf("%s %s %s %s", tr.Action, tr.Role, tr.By.MSPID, tr.To))
	}
	want := []string{
		"CreateTicket provider ProviderOrgMSP open",
		"AssignVendor provider ProviderOrgMSP assigned",
		"AcknowledgeTicket vendor VendorOrgMSP acknowledged",
		"UpdateTicket vendor VendorOrgMSP in_progress",
		"PauseTicket vendor VendorOrgMSP waiting_on_customer",
		"ResumeTicket vendor VendorOrgMSP in_progress",
		"ResolveTicket vendor VendorOrgMSP resolved",
		"CloseTicket provider ProviderOrgMSP closed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
