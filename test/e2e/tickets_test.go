//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/test/harness"
)

// Scaled-down support terms of the ticket story: a critical ticket is
// acknowledged within 10 s and resolved within 50 s (24x7); a breach costs
// 5000 and 20000.
const (
	tkAcceptMS  = 10_000
	tkCloseMS   = 50_000
	tkAcceptPen = 5_000
	tkClosePen  = 20_000
)

// ticketReport is the support part of the enclave's report.
type ticketReport struct {
	Objectives []struct {
		ID      string `json:"id"`
		Tickets int64  `json:"tickets"`
		Exact   string `json:"exact"`
		NoData  bool   `json:"no_data"`
		Met     bool   `json:"met"`
	} `json:"objectives"`
	Tickets []struct {
		Ticket       string `json:"ticket"`
		Target       string `json:"target"`
		Result       string `json:"result"`
		ElapsedMS    int64  `json:"elapsed_ms"`
		MarginMS     int64  `json:"margin_ms"`
		PenaltyMinor int64  `json:"penalty_minor"`
	} `json:"tickets"`
	PenaltyAmount int64 `json:"penalty_amount"`
	Open          int64 `json:"open"`
}

// settled is `slasa verdict show --json` of a settled period, with the
// signed verdict kept raw to relay it again.
type settled struct {
	Verdict json.RawMessage `json:"verdict"`
	Report  struct {
		Violated      bool          `json:"violated"`
		PenaltyAmount int64         `json:"penalty_amount"`
		Support       *ticketReport `json:"support"`
	} `json:"report"`
	Escrow struct {
		Status     string `json:"status"`
		Settlement *struct {
			Credit        int64 `json:"credit"`
			Released      int64 `json:"released"`
			PenaltyOwed   int64 `json:"penalty_owed"`
			PenaltyPaid   int64 `json:"penalty_paid"`
			PenaltyUnpaid int64 `json:"penalty_unpaid"`
		} `json:"settlement"`
	} `json:"escrow"`
}

type tkOutcome struct {
	Result       string `json:"result"`
	ElapsedMS    int64  `json:"elapsed_ms"`
	MarginMS     int64  `json:"margin_ms"`
	PenaltyMinor int64  `json:"penalty_minor"`
}

// ticketOutcomes reads a ticket's outcomes as the chaincode recorded them.
func ticketOutcomes(t *testing.T, id, ticket string) (acc, clo *tkOutcome) {
	t.Helper()
	var v struct {
		Record struct {
			Acceptance struct {
				Outcome *tkOutcome `json:"outcome"`
			} `json:"acceptance"`
			Closure struct {
				Outcome *tkOutcome `json:"outcome"`
			} `json:"closure"`
		} `json:"record"`
	}
	slasaJSON(t, &v, "ticket", "show", id, ticket, "--as", "client")
	return v.Record.Acceptance.Outcome, v.Record.Closure.Outcome
}

// TestTicketPenalties: the Cloud Logger's ticket feed writes the tickets'
// transitions into the SLA's batches; the enclave's verdict of each period
// carries the tickets' penalties and the MTTRespond / MTTResolve
// objectives, with the per-ticket outcomes equal to the chaincode's; the
// monitor settles each period once (the refund chaincode refuses a second
// settlement). T1 is acknowledged late (5000) and resolved in time in P0;
// T2 is acknowledged in time in P0, paused 10 s waiting on the customer,
// resolved late and closed in P1 (20000, carried across the period end).
// Each transition's time is the chaincode's; the test checks the figures
// the enclave computed from the logs against the chaincode's outcomes.
func TestTicketPenalties(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor")
	work := t.TempDir()

	for _, w := range []struct{ wallet, who string }{{"client", "client"}, {"provider", "provider"}} {
		if _, errOut, code := slasaRun("wallet", "open", w.wallet, "--as", w.who); code != cli.ExitOK && !strings.Contains(errOut, "already exists") {
			t.Fatalf("wallet open %s: %s", w.wallet, errOut)
		}
	}
	sync(t)
	slasa(t, "wallet", "mint", "client", fmt.Sprint(minted))
	sync(t)

	startT := time.Now().Add(leadTime).Truncate(10 * time.Second).Add(10 * time.Second).UTC()
	P := func(i int) time.Time { return startT.Add(time.Duration(i*periodS) * time.Second) }
	iso := func(t time.Time) string { return t.Format(time.RFC3339) }
	id := fmt.Sprintf("e2e-tickets-%d", startT.Unix())
	var doc map[string]any
	tmpl, err := os.ReadFile(filepath.Join(root, "demo", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = id
	delete(doc, "nonce")
	doc["validity"] = map[string]string{"start": iso(P(0)), "end": iso(P(60))}
	doc["interval"].(map[string]any)["billing_cycle"] = map[string]any{"unit": "seconds", "seconds": periodS}
	doc["support"] = map[string]any{
		"calendars": []any{map[string]any{"id": "always", "kind": "24x7"}},
		"severities": []any{map[string]any{"id": "critical",
			"acceptance": map[string]any{"target_ms": tkAcceptMS, "calendar": "always"},
			"closure":    map[string]any{"target_ms": tkCloseMS, "calendar": "always"}}},
		"pause_statuses":  []string{"waiting_on_customer"},
		"severity_change": "keep_elapsed",
		"penalties": []any{
			map[string]any{"severity": "critical", "target": "acceptance", "amount_minor": tkAcceptPen},
			map[string]any{"severity": "critical", "target": "closure", "amount_minor": tkClosePen}},
		"objectives": []any{
			map[string]any{"id": "mttrespond", "measure": "acceptance", "operator": "<=", "target_ms": tkAcceptMS},
			map[string]any{"id": "mttresolve", "measure": "closure", "operator": "<=", "target_ms": tkCloseMS}},
	}
	slaFile := filepath.Join(work, "sla.json")
	data, _ := json.Marshal(doc)
	if err := os.WriteFile(slaFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	slasa(t, "sla", "propose", slaFile, "--as", "provider")
	sync(t)
	slasa(t, "sla", "accept", id, "--as", "client")
	sync(t)
	if time.Now().After(P(0)) {
		t.Fatalf("the SLA was accepted after its first period began (%s): raise leadTime", iso(P(0)))
	}

	// The logger follows the ticket chaincode (no probes: availability has
	// no data and is met); the client's monitor settles the periods.
	start(t, filepath.Join(work, "logger.log"), filepath.Join(bins, "cloud-logger"), "-network-dir", run, "-identity", "logger", "-sla", id,
		"-state-dir", filepath.Join(work, "logger"), "-window", "10s", "-cut-delay", "10s", "-tickets",
		"-ipfs-api-file", filepath.Join(run, "ipfs", "api"), "-backoff-min", "300ms", "-backoff-max", "3s")
	start(t, filepath.Join(work, "monitor.log"), filepath.Join(bins, "slasa-monitor"), "-network-dir", run, "-identity", "client",
		"-state-dir", filepath.Join(work, "monitor"), "-poll", "2s", "-backoff-min", "500ms", "-backoff-max", "4s", "-listen", "", "-escalate=false")

	time.Sleep(time.Until(P(0).Add(2 * time.Second)))
	slasa(t, "sla", "renew", id, "--as", "client")
	sync(t)

	tk := func(who string, args ...string) {
		t.Helper()
		slasa(t, append([]string{"--as", who, "ticket"}, args...)...)
	}
	// T1: acknowledged 3 s after its acceptance target, resolved in time.
	t1 := time.Now()
	tk("client", "create", id, "T1", "--severity", "critical", "--type", "outage", "--description", "the web service is down")
	tk("provider", "assign", id, "T1", "--vendor", "vendor")
	time.Sleep(time.Until(t1.Add(tkAcceptMS*time.Millisecond + 3*time.Second)))
	tk("vendor", "ack", id, "T1")
	tk("vendor", "resolve", id, "T1", "--note", "restarted")
	tk("client", "close", id, "T1")

	// T2: acknowledged at once, paused about 10 s, resolved 70 s after its
	// opening (about 58 s counted > 50 s), closed in P1.
	t2 := time.Now()
	tk("client", "create", id, "T2", "--severity", "critical", "--type", "outage", "--description", "zone-b is slow")
	tk("provider", "assign", id, "T2", "--vendor", "vendor")
	tk("vendor", "ack", id, "T2")
	tk("client", "pause", id, "T2", "--status", "waiting_on_customer", "--reason", "the customer checks its router")
	time.Sleep(10 * time.Second)
	tk("client", "resume", id, "T2")
	if time.Now().After(P(1)) {
		t.Fatalf("T2 was acknowledged after P0 ended: the transitions are too slow for this test's periods")
	}
	time.Sleep(time.Until(t2.Add(70 * time.Second)))
	tk("vendor", "resolve", id, "T2", "--note", "replaced the switch")
	tk("client", "close", id, "T2")
	if time.Now().After(P(2).Add(-5 * time.Second)) {
		t.Fatalf("T2 was closed after P1 (almost) ended")
	}

	a1, c1 := ticketOutcomes(t, id, "T1")
	a2, c2 := ticketOutcomes(t, id, "T2")
	if a1 == nil || a1.Result != "breached" || a1.PenaltyMinor != tkAcceptPen || c1 == nil || c1.Result != "met" ||
		a2 == nil || a2.Result != "met" || c2 == nil || c2.Result != "breached" || c2.PenaltyMinor != tkClosePen {
		t.Fatalf("the chaincode's outcomes: T1 %+v %+v, T2 %+v %+v", a1, c1, a2, c2)
	}

	settle := func(period time.Time) settled {
		t.Helper()
		out, errOut, code := slasaRun("verdict", "show", id, iso(period), "--json", "--wait", (time.Duration(periodS)*time.Second + 3*time.Minute).String())
		if code != cli.ExitOK {
			t.Fatalf("period %s not settled: exit %d\n%s", iso(period), code, errOut)
		}
		var s settled
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		if s.Escrow.Status != "SETTLED" || s.Escrow.Settlement == nil || s.Report.Support == nil {
			t.Fatalf("period %s: escrow %+v, support %v", iso(period), s.Escrow, s.Report.Support)
		}
		return s
	}
	check := func(name string, s settled, rows []tkOutcome, tickets []string, targets []string, penalty int64, open int64) {
		t.Helper()
		sup := s.Report.Support
		if len(sup.Tickets) != len(rows) {
			t.Fatalf("%s: tickets %+v, want %d rows", name, sup.Tickets, len(rows))
		}
		sums := map[string][2]int64{}
		violated := false // a breached target or a missed objective
		for i, r := range sup.Tickets {
			violated = violated || r.Result == "breached"
			w := rows[i]
			if r.Ticket != tickets[i] || r.Target != targets[i] || r.Result != w.Result || r.ElapsedMS != w.ElapsedMS ||
				r.MarginMS != w.MarginMS || r.PenaltyMinor != w.PenaltyMinor {
				t.Errorf("%s: row %d %+v, want %s %s as the chaincode recorded: %+v", name, i, r, tickets[i], targets[i], w)
			}
			s := sums[r.Target]
			sums[r.Target] = [2]int64{s[0] + 1, s[1] + r.ElapsedMS}
		}
		for _, o := range sup.Objectives {
			measure, target := "acceptance", int64(tkAcceptMS)
			if o.ID == "mttresolve" {
				measure, target = "closure", tkCloseMS
			}
			n := sums[measure]
			if n[0] == 0 {
				if !o.NoData || !o.Met {
					t.Errorf("%s: %s %+v, want no data", name, o.ID, o)
				}
				continue
			}
			mean := big.NewRat(n[1], n[0])
			met := n[1] <= target*n[0]
			violated = violated || !met
			if o.Tickets != n[0] || o.Exact != mean.String() || o.Met != met {
				t.Errorf("%s: %s %+v, want %d tickets, mean %s, met %v", name, o.ID, o, n[0], mean, met)
			}
		}
		st := s.Escrow.Settlement
		if sup.PenaltyAmount != penalty || s.Report.PenaltyAmount != penalty || sup.Open != open || s.Report.Violated != violated {
			t.Errorf("%s: support penalty %d, verdict penalty %d, open %d, violated %v; want %d, %d, %d, %v",
				name, sup.PenaltyAmount, s.Report.PenaltyAmount, sup.Open, s.Report.Violated, penalty, penalty, open, violated)
		}
		// No collateral wallet: the penalty is owed and recorded unpaid.
		if st.Credit != 0 || st.Released != fee || st.PenaltyOwed != penalty || st.PenaltyPaid != 0 || st.PenaltyUnpaid != penalty {
			t.Errorf("%s: settlement %+v, want the fee released and a penalty of %d owed", name, st, penalty)
		}
	}
	s0 := settle(P(0))
	check("P0", s0, []tkOutcome{*a1, *c1, *a2}, []string{"T1", "T1", "T2"}, []string{"acceptance", "closure", "acceptance"}, tkAcceptPen, 1)
	s1 := settle(P(1))
	check("P1", s1, []tkOutcome{*c2}, []string{"T2"}, []string{"closure"}, tkClosePen, 0)

	// Settled once: relaying P0's signed verdict again is refused.
	var signed struct {
		Verdict json.RawMessage `json:"verdict"`
	}
	if err := json.Unmarshal(s0.Verdict, &signed); err != nil || len(signed.Verdict) == 0 {
		t.Fatalf("the shown verdict: %v %s", err, s0.Verdict)
	}
	relay := s0.Verdict
	if _, err := nw.SubmitAndSyncOptions("client", "refund", "SettleVerdict", client.WithArguments(string(relay)),
		client.WithEndorsingOrganizations("ClientOrgMSP", "ProviderOrgMSP")); err == nil ||
		!strings.Contains(fabnet.ErrorText(err), "is already settled") {
		t.Fatalf("a second settlement of P0: %v", err)
	} else {
		t.Logf("second settlement refused: %s", fabnet.ErrorText(err))
	}
	t.Logf("P0: T1 acceptance %d ms (breached), closure %d ms; T2 acceptance %d ms; P1: T2 closure %d ms (breached)",
		a1.ElapsedMS, c1.ElapsedMS, a2.ElapsedMS, c2.ElapsedMS)
}
