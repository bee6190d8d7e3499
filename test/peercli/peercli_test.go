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
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the script's output lacks %q", want)
		}
	}

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
}
