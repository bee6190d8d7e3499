//go:build integration

// Package peercli runs the bash blocks of docs/peer-cli.md, in order, against a
// fresh network of the harness, so that the document's peer CLI commands keep
// working as written; then it checks through the Gateway that they did what the
// document says.
package peercli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

var net *harness.Network

func TestMain(m *testing.M) {
	// The document deploys the chaincodes itself.
	os.Exit(harness.Run(m, harness.Options{}, &net))
}

func TestPeerCLIDocument(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := bashBlocks(readDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "peer-cli.sh")
	if err := os.WriteFile(path, []byte(script(blocks)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Dir = root
	cmd.Env = net.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("%d bash blocks of %s ran in %s", len(blocks), docPath, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("bash %s: %v\n%s", docPath, err, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}

	// What the document claims, read through the Gateway.
	check := func(who, cc, fn, field string, want int64, args ...string) {
		t.Helper()
		c, err := net.Contract(who, cc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.EvaluateTransaction(fn, args...)
		if err != nil {
			t.Fatalf("%s %s.%s: %v", who, cc, fn, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(res, &m); err != nil {
			t.Fatalf("%s.%s: %v in %s", cc, fn, err, res)
		}
		if got := string(m[field]); got != strconv.FormatInt(want, 10) {
			t.Errorf("%s.%s(%s).%s = %s, want %d", cc, fn, strings.Join(args, ","), field, m[field], want)
		}
	}
	check("client", "refund", "BalanceOf", "balance", 930000, "client")
	check("provider", "refund", "BalanceOf", "balance", 70000, "provider")
	for _, f := range []struct {
		field string
		want  int64
	}{{"periods", 1}, {"violated", 1}, {"credits", 30000}, {"compliance_bps", 0}} {
		check("client", "refund", "GetReputation", f.field, f.want, "ProviderOrgMSP", "", "")
	}
	// The refusals the document shows, with the chaincodes' own messages.
	for _, want := range []string{
		"is not an admin of ClientOrgMSP",                                          // Configure by a client
		"only an admin of the issuer ProviderOrgMSP may mint",                      // Mint by the provider
		"only an admin of the enclave host ProviderOrgMSP may register an enclave", // RegisterEnclave by the provider
		"client may accept it",                                                     // AcceptSLA by the provider
		"pass the document in the transient map",                                   // ProposeSLA with the document as an argument
		"readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP",     // GetSLA by OtherOrg
		"the client's copy has the recorded digest",                                // the client's private copy
		"a period is settled only once it is over",                                 // SettleVerdict before the period end
		"pinned by SLA",      // SettleVerdict by the enclave handed over from
		"is already settled", // SettleVerdict again
		`"attestation_type": "simulated"`,
		// Step 8, the trouble ticket.
		"arguments: CreateTicket takes 2 (slaID, ticketID), not 3",                           // text as an argument
		"only the ticket's vendor may call it",                                               // AcknowledgeTicket by the provider
		"is readable by ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP only, not by OtherOrgMSP", // GetTicket by OtherOrg
		"is at escalation level 1 of its acceptance target; the next level is 2, not 1",      // Escalate level 1 again
		"is resolved; ResolveTicket needs status acknowledged or in_progress",                // ResolveTicket twice
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the script's output lacks %q", want)
		}
	}

	checkTicket(t)

	// The SLA was handed over from the first test enclave key to the second, which settled the period.
	enclaveOf := func(file string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(net.RunDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		key, err := signedsla.ParsePrivateKeyPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		id, err := verdict.EnclaveIDOf(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	pinA, pinB := enclaveOf("testenclave-a-key.pem"), enclaveOf("testenclave-b-key.pem")
	c, err := net.Contract("provider", "agreement")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.EvaluateTransaction("ListSLAs", "provider", "ProviderOrgMSP", "", "10", "")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Records []struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Enclave struct {
				Chaincode string `json:"chaincode"`
				EnclaveID string `json:"enclave_id"`
			} `json:"enclave"`
			EnclaveHistory []struct {
				EnclaveID string `json:"enclave_id"`
			} `json:"enclave_history"`
			Handover    *struct{} `json:"handover"`
			LastPeriod  string    `json:"last_period"`
			PaidPeriods int64     `json:"paid_periods"`
		} `json:"records"`
	}
	if err := json.Unmarshal(res, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 {
		t.Fatalf("ListSLAs: %d SLAs, want the document's one: %s", len(page.Records), res)
	}
	a := page.Records[0]
	if a.Status != "ACTIVE" || a.PaidPeriods != 1 || a.Enclave.Chaincode != "testenclave" || a.Enclave.EnclaveID != pinB ||
		len(a.EnclaveHistory) != 1 || a.EnclaveHistory[0].EnclaveID != pinA || a.Handover != nil {
		t.Errorf("SLA %s: %+v; want ACTIVE, 1 paid period, pinned to %s after a handover from %s", a.ID, a, pinB, pinA)
	}
	e, err := net.Contract("client", "refund")
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.EvaluateTransaction("GetEscrow", a.ID, a.LastPeriod)
	if err != nil {
		t.Fatal(err)
	}
	var escrow struct {
		Status     string `json:"status"`
		Settlement struct {
			EnclaveID string `json:"enclave_id"`
			BatchSeq  int64  `json:"batch_seq"`
			BatchCID  string `json:"batch_cid"`
			Credit    int64  `json:"credit"`
		} `json:"settlement"`
	}
	if err := json.Unmarshal(res, &escrow); err != nil {
		t.Fatal(err)
	}
	if s := escrow.Settlement; escrow.Status != "SETTLED" || s.EnclaveID != pinB || s.BatchSeq != 2 || s.BatchCID != "bafydemobatch2" || s.Credit != 30000 {
		t.Errorf("escrow of %s %s: %+v", a.ID, a.LastPeriod, escrow)
	}
	// The SLA's own score (its credit so far), as both parties, and the
	// document's query of it in the script's output.
	for _, who := range []string{"client", "provider"} {
		for _, f := range []struct {
			field string
			want  int64
		}{{"periods", 1}, {"violated", 1}, {"credits", 30000}, {"penalties", 0}} {
			check(who, "refund", "GetSLAScore", f.field, f.want, "ProviderOrgMSP", "demo-web", a.ID, "", "")
		}
	}
	if want := `"sla_id":"` + a.ID + `","periods":1,"violated":1,`; !strings.Contains(out.String(), want) {
		t.Errorf("the script's output lacks the GetSLAScore answer %s", want)
	}
}

// checkTicket checks through the Gateway, as each of the ticket's organizations, what step 8 of the
// document did to ticket TT-1: closed after the document's transitions, in that order, escalated once,
// both targets with an outcome, the same record in the three organizations' collections.
func checkTicket(t *testing.T) {
	t.Helper()
	c, err := net.Contract("provider", "agreement")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.EvaluateTransaction("ListSLAs", "provider", "ProviderOrgMSP", "", "10", "")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	if err := json.Unmarshal(res, &page); err != nil || len(page.Records) != 1 {
		t.Fatalf("ListSLAs: %v %s", err, res)
	}
	slaID := page.Records[0].ID
	type view struct {
		Ticket struct {
			Orgs []string `json:"orgs"`
		} `json:"ticket"`
		Record struct {
			Status         string `json:"status"`
			VendorTicketID string `json:"vendor_ticket_id"`
			Acceptance     struct {
				Outcome *struct {
					Result string `json:"result"`
				} `json:"outcome"`
			} `json:"acceptance"`
			Closure struct {
				Outcome *struct {
					Result string `json:"result"`
				} `json:"outcome"`
			} `json:"closure"`
			Escalations []struct {
				Target string `json:"target"`
				Level  int    `json:"level"`
			} `json:"escalations"`
			Timeline []struct {
				Action string `json:"action"`
				Role   string `json:"role"`
			} `json:"timeline"`
		} `json:"record"`
	}
	var records []string
	for _, who := range []string{"client", "provider", "vendor"} {
		tc, err := net.Contract(who, "ticket")
		if err != nil {
			t.Fatal(err)
		}
		res, err := tc.EvaluateTransaction("GetTicket", slaID, "TT-1")
		if err != nil {
			t.Fatalf("%s GetTicket: %v", who, err)
		}
		var v view
		if err := json.Unmarshal(res, &v); err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Record json.RawMessage `json:"record"`
		}
		if err := json.Unmarshal(res, &raw); err != nil {
			t.Fatal(err)
		}
		records = append(records, string(raw.Record))
		if who != "client" {
			continue
		}
		r := v.Record
		var steps []string
		for _, tr := range r.Timeline {
			steps = append(steps, tr.Action+"/"+tr.Role)
		}
		want := "CreateTicket/customer AssignVendor/provider Escalate/customer AcknowledgeTicket/vendor PauseTicket/vendor " +
			"ResumeTicket/customer UpdateTicket/vendor ResolveTicket/vendor ReopenTicket/customer ResolveTicket/vendor CloseTicket/customer"
		if got := strings.Join(steps, " "); got != want {
			t.Errorf("TT-1 timeline\n got %s\nwant %s", got, want)
		}
		if r.Status != "closed" || r.VendorTicketID != "VND-4711" || len(r.Escalations) != 1 || r.Escalations[0].Target != "acceptance" ||
			r.Escalations[0].Level != 1 || r.Acceptance.Outcome == nil || r.Closure.Outcome == nil || r.Closure.Outcome.Result != "met" {
			t.Errorf("TT-1: %+v", r)
		}
		if strings.Join(v.Ticket.Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
			t.Errorf("TT-1 orgs %v", v.Ticket.Orgs)
		}
	}
	if records[0] != records[1] || records[0] != records[2] {
		t.Errorf("the three organizations' records of TT-1 differ:\n%s", strings.Join(records, "\n"))
	}
}
