//go:build integration

package tickets

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestTicketCLI drives a ticket through the slasa CLI on the real network: the client opens it (the SLA
// document read from its organization's copy), the provider assigns VendorOrg's vendor, the vendor
// acknowledges and resolves it, the client closes it; `ticket show --json` as each organization gives the
// same record with both outcomes, and `ticket watch` printed every transition. A wrong severity is refused
// before anything is submitted.
func TestTicketCLI(t *testing.T) {
	s, doc := telecomSLA(t)
	activate(t, s, doc)
	id := "CLI-1"
	desc := marker(t, "CLIDESC")
	cli := func(args ...string) string {
		t.Helper()
		out, err := nw.CLI(args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}

	// Bad input: nothing is submitted.
	if out, err := nw.CLI("--as", "client", "ticket", "create", s.ID, id, "--severity", "urgent", "--type", "outage", "--description", desc); err == nil ||
		!strings.Contains(err.Error(), `--severity: "urgent" is not a severity of SLA `+s.ID+" (critical, high, medium, low)") {
		t.Fatalf("create with an unknown severity: %v\n%s", err, out)
	}
	if _, err := nw.CLI("--as", "client", "ticket", "show", s.ID, id); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("the refused ticket exists: %v", err)
	}

	// Follow the ticket's events from the current block on.
	height, err := nw.Height("client")
	if err != nil {
		t.Fatal(err)
	}
	type watched struct {
		out string
		err error
	}
	watch := make(chan watched, 1)
	go func() {
		out, err := nw.CLI("--as", "client", "ticket", "watch", "--sla", s.ID, "--start-block", strconv.FormatUint(height, 10), "--max", "5", "--for", "5m")
		watch <- watched{out, err}
	}()

	steps := []struct {
		args         []string
		status, orgs string
	}{
		{[]string{"--as", "client", "ticket", "create", s.ID, id, "--severity", "critical", "--type", "outage", "--description", desc}, "open", "ClientOrgMSP, ProviderOrgMSP"},
		{[]string{"--as", "provider", "ticket", "assign", s.ID, id, "--vendor", "vendor", "--note", "yours"}, "assigned", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"},
		{[]string{"--as", "vendor", "ticket", "ack", s.ID, id, "--note", "on it"}, "acknowledged", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"},
		{[]string{"--as", "vendor", "ticket", "resolve", s.ID, id, "--note", "fixed"}, "resolved", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"},
		{[]string{"--as", "client", "ticket", "close", s.ID, id}, "closed", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"},
	}
	for _, st := range steps {
		out := cli(st.args...)
		if field(out, "status") != st.status || field(out, "endorsed by") != st.orgs {
			t.Errorf("slasa %s: want status %s endorsed by %s:\n%s", strings.Join(st.args, " "), st.status, st.orgs, out)
		}
	}

	type outcome struct {
		Result       string `json:"result"`
		ElapsedMS    int64  `json:"elapsed_ms"`
		MarginMS     int64  `json:"margin_ms"`
		PenaltyMinor int64  `json:"penalty_minor"`
	}
	type shown struct {
		Ticket struct {
			Hash string   `json:"hash"`
			Orgs []string `json:"orgs"`
		} `json:"ticket"`
		Record struct {
			Status      string `json:"status"`
			Description string `json:"description"`
			Acceptance  struct {
				Outcome *outcome `json:"outcome"`
			} `json:"acceptance"`
			Closure struct {
				Outcome *outcome `json:"outcome"`
			} `json:"closure"`
			Timeline []struct {
				Action string `json:"action"`
				Note   string `json:"note"`
			} `json:"timeline"`
		} `json:"record"`
		PenaltyOwedMinor int64 `json:"penalty_owed_minor"`
	}
	var views []shown
	for _, who := range []string{"client", "provider", "vendor"} {
		var v shown
		if err := json.Unmarshal([]byte(cli("--as", who, "ticket", "show", s.ID, id, "--json")), &v); err != nil {
			t.Fatalf("show --json as %s: %v", who, err)
		}
		views = append(views, v)
	}
	v := views[0]
	for i, w := range views[1:] {
		if w.Ticket.Hash != v.Ticket.Hash {
			t.Errorf("the %d. organization's record differs from the client's", i+2)
		}
	}
	var actions []string
	for _, tr := range v.Record.Timeline {
		actions = append(actions, tr.Action)
	}
	if got := strings.Join(actions, ","); got != "CreateTicket,AssignVendor,AcknowledgeTicket,ResolveTicket,CloseTicket" {
		t.Fatalf("timeline %s", got)
	}
	if v.Record.Status != "closed" || v.Record.Description != desc || strings.Join(v.Ticket.Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Fatalf("closed ticket: status %s, orgs %v", v.Record.Status, v.Ticket.Orgs)
	}
	// The CLI's steps take seconds: the 5-second acceptance target may be met or breached, each with
	// its margin and penalty; the 10-minute closure target is met. Elapsed time and margin are each
	// truncated to whole milliseconds, so they may add up to the target less one.
	a, c := v.Record.Acceptance.Outcome, v.Record.Closure.Outcome
	if a == nil || !marginOf(acceptanceMS, a.ElapsedMS, a.MarginMS) || (a.Result == "met") != (a.ElapsedMS <= acceptanceMS) ||
		(a.Result == "breached" && a.PenaltyMinor != acceptancePen) || (a.Result == "met" && a.PenaltyMinor != 0) {
		t.Fatalf("acceptance outcome %+v", a)
	}
	if c == nil || c.Result != "met" || c.PenaltyMinor != 0 || !marginOf(closureMS, c.ElapsedMS, c.MarginMS) {
		t.Fatalf("closure outcome %+v", c)
	}
	if v.PenaltyOwedMinor != a.PenaltyMinor {
		t.Fatalf("penalty owed %d, want %d", v.PenaltyOwedMinor, a.PenaltyMinor)
	}
	t.Logf("acceptance %s in %d ms, closure met in %d ms, penalty owed %d", a.Result, a.ElapsedMS, c.ElapsedMS, v.PenaltyOwedMinor)

	// The table, the list and the timeline.
	out := cli("--as", "vendor", "ticket", "show", s.ID, id)
	if field(out, "status") != "closed" || !strings.HasPrefix(field(out, "assignee"), "VendorOrgMSP/vendor@vendororg.slasa.local (issuer ") ||
		field(out, "clock") != "- (no target runs)" || !strings.Contains(out, "closure     10m    always") || !strings.Contains(out, "met (margin ") {
		t.Errorf("show:\n%s", out)
	}
	out = cli("--as", "provider", "ticket", "list", s.ID, "--status", "closed")
	if !strings.Contains(out, "TICKET") || !strings.Contains(out, id+"  ") || !strings.Contains(out, "VendorOrgMSP/vendor@vendororg.slasa.local") {
		t.Errorf("list:\n%s", out)
	}
	out = cli("--as", "client", "ticket", "history", s.ID, id)
	if n := strings.Count(out, "\n"); n != 6 || !strings.Contains(out, "AcknowledgeTicket") || !strings.Contains(out, "on it") {
		t.Errorf("history (%d lines):\n%s", n, out)
	}

	// Each event of the ticket, with the client's view of it.
	res := <-watch
	if res.err != nil {
		t.Fatalf("watch: %v\n%s", res.err, res.out)
	}
	lines := strings.Split(strings.TrimSpace(res.out), "\n")
	want := []string{"TicketCreated", "TicketVendorAssigned", "TicketAcknowledged", "TicketResolved", "TicketClosed"}
	if len(lines) != len(want) {
		t.Fatalf("watch printed %d lines, want %d:\n%s", len(lines), len(want), res.out)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], "  "+w+"  "+s.ID+"/"+id+" seq "+strconv.Itoa(i+1)+"  status ") {
			t.Errorf("watch line %d: %q, want event %s seq %d", i+1, lines[i], w, i+1)
		}
	}
	t.Logf("watch:\n%s", res.out)
}

// field returns the value of the line "name: value" of a command's output.
func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// marginOf tells whether margin is target minus elapsed, each of the two truncated to whole
// milliseconds.
func marginOf(target, elapsed, margin int64) bool {
	d := target - elapsed - margin
	return d == 0 || d == 1 && margin > 0
}
