//go:build integration

package tickets

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

// escAcceptanceMS is the critical acceptance target of TestTicketEscalation: the telecom example's
// levels at 50, 75 and 100 % fall at 10, 15 and 20 s.
const escAcceptanceMS = 20_000

// escalationRecord is the part of a ticket record that TestTicketEscalation checks.
type escalationRecord struct {
	Status     string `json:"status"`
	CreatedAt  string `json:"created_at"`
	Acceptance struct {
		Level int `json:"level"`
	} `json:"acceptance"`
	Closure struct {
		Level int `json:"level"`
	} `json:"closure"`
	Escalations []struct {
		Target string   `json:"target"`
		Level  int      `json:"level"`
		AtBPS  int64    `json:"at_bps"`
		Notify []string `json:"notify"`
		At     string   `json:"at"`
		By     struct {
			MSPID   string `json:"msp_id"`
			Subject string `json:"subject"`
			Issuer  string `json:"issuer"`
		} `json:"by"`
	} `json:"escalations"`
}

// monitorProc is a slasa-monitor process of the test, killed at its end (its log shown when the test
// failed).
type monitorProc struct {
	who, log, addrFile string
}

func startMonitor(t *testing.T, bin, work, who, slaID string) *monitorProc {
	t.Helper()
	p := &monitorProc{who: who, log: filepath.Join(work, "monitor-"+who+".log"), addrFile: filepath.Join(work, "monitor-"+who+".addr")}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-network-dir", nw.RunDir(), "-identity", who, "-sla", slaID,
		"-state-dir", filepath.Join(work, "monitor-"+who), "-poll", "1s", "-backoff-min", "500ms", "-backoff-max", "4s",
		"-listen", "127.0.0.1:0", "-addr-file", p.addrFile)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("---- tail of %s\n%s", p.log, strings.Join(lines, "\n"))
		}
	})
	return p
}

// metrics reads the monitor's /metrics (client_golang's text format).
func (p *monitorProc) metrics(t *testing.T) map[string]int64 {
	t.Helper()
	addr, err := os.ReadFile(p.addrFile)
	if err != nil {
		t.Fatalf("monitor %s: %v", p.who, err)
	}
	resp, err := http.Get("http://" + strings.TrimSpace(string(addr)) + "/metrics")
	if err != nil {
		t.Fatalf("monitor %s: %v", p.who, err)
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// Prometheus text format: "# HELP"/"# TYPE" comments, then "name value" with
		// the value a float (1.5e+06 for large counters).
		name, value, ok := strings.Cut(sc.Text(), " ")
		if f, err := strconv.ParseFloat(value, 64); ok && err == nil && !strings.HasPrefix(name, "#") {
			out[name] = int64(f)
		}
	}
	return out
}

// TestTicketEscalation: the client's and the provider's slasa-monitor both run the escalator while
// a critical ticket with a 20-second acceptance target waits for the assigned vendor. Each of the
// telecom example's levels (50, 75 and 100 %) is recorded once, no earlier than its share of the
// target, by one of the two, endorsed by the three organizations of the ticket, and a
// TicketEscalated event arrives for each; the monitor that lost a race counts a refusal, not an
// error. Once the vendor acknowledges, the acceptance levels stop.
func TestTicketEscalation(t *testing.T) {
	s, _ := telecomSLA(t)
	for i := range s.Support.Severities {
		if sev := &s.Support.Severities[i]; sev.ID == "critical" {
			sev.Acceptance.TargetMS = escAcceptanceMS
		}
	}
	levels := s.Support.Escalation
	if len(levels) != 3 || levels[2].AtBPS != 10000 {
		t.Fatalf("examples/telecom's escalation levels %+v: the test expects three, the last at 10000 bps", levels)
	}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sla.Parse(doc); err != nil {
		t.Fatalf("the test's SLA: %v", err)
	}
	activate(t, s, doc)
	bins := harness.BuildCommands(t, "slasa-monitor")
	work := t.TempDir()

	// TicketEscalated events from the current height on.
	height, err := nw.Height("client")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := nw.Gateway("client")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := gw.GetNetwork(nw.Info.Channel).ChaincodeEvents(ctx, "ticket", client.WithStartBlock(height))
	if err != nil {
		t.Fatalf("ChaincodeEvents: %s", fabnet.ErrorText(err))
	}

	mons := []*monitorProc{
		startMonitor(t, filepath.Join(bins, "slasa-monitor"), work, "client", s.ID),
		startMonitor(t, filepath.Join(bins, "slasa-monitor"), work, "provider", s.ID),
	}

	// The client opens a critical ticket; the provider assigns VendorOrg's vendor, whose peer now
	// endorses every transition, the escalations included.
	id := "TT-ESC"
	orgs, err := fabnet.SLAOrgs(s.Parties.Provider.MSPID, s.Parties.Client.MSPID)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]string{"severity": "critical", "type": "outage", "description": marker(t, "DESC")})
	if _, err := nw.SubmitAndSyncOptions("client", "ticket", "CreateTicket", client.WithArguments(s.ID, id),
		client.WithTransient(map[string][]byte{"sla": doc, "input": in}), client.WithEndorsingOrganizations(orgs...)); err != nil {
		t.Fatalf("CreateTicket: %s", fabnet.ErrorText(err))
	}
	// AssignVendor writes VendorOrg's collection too: its peer endorses as well.
	vendor := nw.ID(t, "vendor")
	assignOrgs := append(slices.Clone(orgs), vendor.MSPID)
	slices.Sort(assignOrgs)
	if err := transition("provider", "provider", "AssignVendor", s.ID, id, map[string]any{
		"vendor": map[string]string{"msp_id": vendor.MSPID, "subject": vendor.Subject, "issuer": vendor.Issuer}}, assignOrgs...); err != nil {
		t.Fatalf("AssignVendor: %s", fabnet.ErrorText(err))
	}
	v, _ := getTicket(t, "client", s.ID, id)
	if len(v.Ticket.Orgs) != 3 {
		t.Fatalf("ticket orgs %v, want the three", v.Ticket.Orgs)
	}

	// One TicketEscalated event per level.
	var seqs []int64
	var lastBlock uint64
	deadline := time.After(3 * time.Minute)
	for len(seqs) < len(levels) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			var p struct {
				SLAID    string `json:"sla_id"`
				TicketID string `json:"ticket_id"`
				Seq      int64  `json:"seq"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatalf("event %s payload %q: %v", ev.EventName, ev.Payload, err)
			}
			if p.SLAID != s.ID || p.TicketID != id || ev.EventName != "TicketEscalated" {
				continue
			}
			t.Logf("TicketEscalated seq %d in block %d, tx %s", p.Seq, ev.BlockNumber, ev.TransactionID)
			seqs = append(seqs, p.Seq)
			lastBlock = ev.BlockNumber
		case <-deadline:
			t.Fatalf("%d TicketEscalated events in 3 minutes, want %d", len(seqs), len(levels))
		}
	}

	// Each level once, in order, no earlier than its share of the target, by one of the two monitors'
	// identities, with the level's notify list. The events came from the client's peer; the vendor's
	// peer may not have committed the last block yet.
	if err := nw.WaitForBlock(lastBlock, time.Minute); err != nil {
		t.Fatal(err)
	}
	var r escalationRecord
	v, _ = getTicket(t, "vendor", s.ID, id)
	if err := json.Unmarshal(v.Record, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Escalations) != len(levels) || r.Acceptance.Level != len(levels) || r.Closure.Level != 0 {
		t.Fatalf("escalations %+v (acceptance level %d, closure level %d), want the %d acceptance levels once each",
			r.Escalations, r.Acceptance.Level, r.Closure.Level, len(levels))
	}
	created, err := time.Parse(time.RFC3339Nano, r.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	cl, pr := nw.ID(t, "client"), nw.ID(t, "provider")
	for i, e := range r.Escalations {
		at, err := time.Parse(time.RFC3339Nano, e.At)
		if err != nil {
			t.Fatal(err)
		}
		share := time.Duration(levels[i].AtBPS*escAcceptanceMS/10000) * time.Millisecond
		by := fmt.Sprintf("%s|%s|%s", e.By.MSPID, e.By.Subject, e.By.Issuer)
		if e.Target != "acceptance" || e.Level != i+1 || e.AtBPS != levels[i].AtBPS || strings.Join(e.Notify, ",") != strings.Join(levels[i].Notify, ",") {
			t.Fatalf("escalation %d: %+v, want acceptance level %d at %d bps notifying %v", i, e, i+1, levels[i].AtBPS, levels[i].Notify)
		}
		if at.Sub(created) < share {
			t.Fatalf("level %d recorded %s after the creation, before its share %s", e.Level, at.Sub(created), share)
		}
		if by != fmt.Sprintf("%s|%s|%s", cl.MSPID, cl.Subject, cl.Issuer) && by != fmt.Sprintf("%s|%s|%s", pr.MSPID, pr.Subject, pr.Issuer) {
			t.Fatalf("level %d escalated by %s, not by a monitor's identity", e.Level, by)
		}
		t.Logf("level %d (%d bps) recorded %s after the creation by %s", e.Level, e.AtBPS, at.Sub(created).Round(time.Millisecond), e.By.MSPID)
	}

	// Both monitors counted: three escalations committed between them, no escalation error.
	// A monitor counts an escalation once its commit status has come back, which may be a moment after
	// the block's event reached the test: read the counters until they add up, for at most 30 seconds.
	var submitted int64
	for wait := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		submitted = 0
		for _, m := range mons {
			submitted += m.metrics(t)["monitor_escalations_total"]
		}
		if submitted >= int64(len(levels)) || time.Now().After(wait) {
			break
		}
	}
	for _, m := range mons {
		c := m.metrics(t)
		t.Logf("monitor %s: escalations %d, refused %d, errors %d", m.who, c["monitor_escalations_total"], c["monitor_escalations_refused_total"], c["monitor_escalation_errors_total"])
		if c["monitor_escalation_errors_total"] != 0 {
			t.Errorf("monitor %s: %d escalation errors", m.who, c["monitor_escalation_errors_total"])
		}
	}
	if submitted != int64(len(levels)) {
		t.Fatalf("the monitors committed %d escalations, want %d", submitted, len(levels))
	}

	// The vendor acknowledges: the acceptance clock stops, the closure clock (10 minutes) is far from
	// its first level, and no further escalation comes.
	mustTransition(t, "vendor", "AcknowledgeTicket", s.ID, id, nil)
	calm := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if ev.EventName == "TicketEscalated" && strings.Contains(string(ev.Payload), s.ID) {
				t.Fatalf("escalated after the acknowledgement: %s", ev.Payload)
			}
		case <-calm:
			done = true
		}
	}
	if _, r2 := getTicket(t, "client", s.ID, id); r2.Status != "acknowledged" {
		t.Fatalf("status %s after the acknowledgement", r2.Status)
	}
}
