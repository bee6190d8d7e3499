//go:build integration

// Package cli tests the slasa CLI's network commands against a real network
// with the application deployed as make deploy does it (agreement, refund,
// ercc, slaenclave; the deploy configuration recorded; the enclave
// registered): the SLA lifecycle with pagination, termination and offline
// verification, the wallet commands, JSON output, the one-line explanations
// of refused transactions, and the enclave handover. test/e2e plays the
// whole story with the enclave, the logger and the monitor.
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{DeployAll: true}, &nw))
}

func run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := cli.Main(append([]string{"--run-dir", nw.RunDir()}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(args...)
	if code != cli.ExitOK {
		t.Fatalf("slasa %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs a command that must fail with exit status 1 and a one-line
// message containing every want.
func fails(t *testing.T, want []string, args ...string) {
	t.Helper()
	out, errOut, code := run(args...)
	line := strings.TrimSpace(errOut)
	if code != cli.ExitFailure || strings.Contains(line, "\n") {
		t.Errorf("slasa %s: exit %d, stderr %q, stdout %q; want exit 1 and one line", strings.Join(args, " "), code, errOut, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("slasa %s: %q lacks %q", strings.Join(args, " "), line, w)
		}
	}
}

// contains reports whether out contains want, with runs of spaces taken as
// one (field alignment depends on which fields a record has).
func contains(out, want string) bool {
	return strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " "))
}

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

// slaFile writes the demo SLA with id and a validity from the next 10-second
// boundary, for one hour.
func slaFile(t *testing.T, dir, id string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "demo", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(10 * time.Second).Add(10 * time.Second).UTC()
	doc["id"] = id
	doc["validity"] = map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)}
	delete(doc, "nonce") // slasa sla propose adds a fresh one
	data, _ := json.Marshal(doc)
	path := filepath.Join(dir, id+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()

	// Wallets.
	ok(t, "wallet", "open", "client", "--as", "client")
	ok(t, "wallet", "open", "provider", "--as", "provider")
	sync(t)
	fails(t, []string{"refund.OpenAccount: endorsement failed", `wallet "client" already exists`}, "wallet", "open", "client", "--as", "client")
	fails(t, []string{"refund.Mint: endorsement failed", "only an admin of the issuer ProviderOrgMSP may mint"}, "wallet", "mint", "client", "500", "--as", "client")
	fails(t, []string{"refund.Mint: endorsement failed", "only an admin of the issuer ProviderOrgMSP may mint", `NodeOU role "client"`},
		"wallet", "mint", "client", "500", "--as", "provider")
	ok(t, "wallet", "mint", "client", "1000000")
	sync(t)
	ok(t, "wallet", "transfer", "client", "provider", "2500", "--as", "client")
	sync(t)
	fails(t, []string{"refund.Transfer: endorsement failed"}, "wallet", "transfer", "client", "provider", "99999999", "--as", "client")
	fails(t, []string{"refund.BalanceOf", "readable by its owner"}, "wallet", "balance", "client", "--as", "provider")
	var acct struct {
		ID      string `json:"id"`
		Balance int64  `json:"balance"`
	}
	if err := json.Unmarshal([]byte(ok(t, "wallet", "balance", "client", "--json")), &acct); err != nil || acct.Balance != 997500 {
		t.Fatalf("client balance %+v %v, want 997500", acct, err)
	}
	if out := ok(t, "wallet", "balance", "provider", "--as", "provider"); !regexp.MustCompile(`(?m)^balance: +2500 \(25\.00\)$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^pending credits: +2500 \(25\.00\) in 1 credits$`).MatchString(out) {
		t.Errorf("provider balance:\n%s", out)
	}
	hist := ok(t, "wallet", "history", "client")
	if !strings.Contains(hist, "mint") || !strings.Contains(hist, "transfer_out") || !strings.Contains(hist, "-2500") {
		t.Errorf("history:\n%s", hist)
	}

	// An invalid SLA is refused locally, naming the field.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema_version":"slasa.sla/v1","id":"x"}`), 0o644)
	if _, errOut, code := run("sla", "propose", bad); code != cli.ExitFailure || !strings.Contains(errOut, "invalid SLA") {
		t.Errorf("propose of an invalid SLA: exit %d %q", code, errOut)
	}

	// Three SLAs; the client is not the provider.
	ids := []string{"cli-a", "cli-b", "cli-c"}
	for _, id := range ids {
		var res map[string]string
		if err := json.Unmarshal([]byte(ok(t, "sla", "propose", slaFile(t, dir, id), "--json")), &res); err != nil || res["id"] != id || res["status"] != "PROPOSED" ||
			len(res["nonce"]) != 32 {
			t.Fatalf("propose %s: %v %v", id, res, err)
		}
	}
	fails(t, []string{"sla propose: you are ClientOrgMSP/client@clientorg.slasa.local (issuer ca.clientorg.slasa.local), not the SLA's provider ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local)"},
		"sla", "propose", slaFile(t, dir, "cli-d"), "--as", "client")
	fails(t, []string{"agreement.ProposeSLA: endorsement failed", "already exists"}, "sla", "propose", slaFile(t, dir, "cli-a"))
	sync(t)
	fails(t, []string{"sla accept: you are ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local), not the SLA's client ClientOrgMSP/client@clientorg.slasa.local"},
		"sla", "accept", "cli-a", "--as", "provider")
	fails(t, []string{"cli-a", "has not signed it yet"}, "sla", "verify", "cli-a")
	ok(t, "sla", "accept", "cli-a")
	ok(t, "sla", "accept", "cli-b")
	sync(t)
	fails(t, []string{"agreement.AcceptSLA: endorsement failed", `SLA "cli-a" is ACTIVE, not PROPOSED`}, "sla", "accept", "cli-a")
	fails(t, []string{"agreement.GetSLA", `SLA "nope" does not exist`}, "sla", "show", "nope")
	// The document as proposed, with the nonce the CLI added, from each party's own copy.
	for _, who := range []string{"provider", "client"} {
		var d struct {
			ID    string `json:"id"`
			Nonce string `json:"nonce"`
		}
		if err := json.Unmarshal([]byte(ok(t, "sla", "show", "cli-a", "--document", "--as", who)), &d); err != nil || d.ID != "cli-a" || len(d.Nonce) != 32 {
			t.Errorf("sla show --document as %s: %+v %v", who, d, err)
		}
	}
	// Another organization reads no terms.
	fails(t, []string{"agreement.GetSLA"}, "sla", "show", "cli-a", "--as", "other")

	// Withdraw the third.
	ok(t, "sla", "terminate", "cli-c", "--as", "provider", "--reason", "changed my mind")
	sync(t)
	if out := ok(t, "sla", "show", "cli-c", "--as", "client"); !strings.Contains(out, "WITHDRAWN") ||
		!strings.Contains(out, "by the provider ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local) (changed my mind)") {
		t.Errorf("show withdrawn:\n%s", out)
	}

	// Pagination: page size 1 walks the three SLAs with bookmarks.
	var seen []string
	bookmark := ""
	for i := 0; i < 5; i++ {
		args := []string{"sla", "list", "--as", "provider", "--page-size", "1", "--json"}
		if bookmark != "" {
			args = append(args, "--bookmark", bookmark)
		}
		var page struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
			Bookmark string `json:"bookmark"`
		}
		if err := json.Unmarshal([]byte(ok(t, args...)), &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			seen = append(seen, r.ID)
		}
		if len(page.Records) == 0 || page.Bookmark == "" {
			break
		}
		bookmark = page.Bookmark
	}
	if fmt.Sprint(seen) != "[cli-a cli-b cli-c]" {
		t.Errorf("paged list %v", seen)
	}
	table := ok(t, "sla", "list", "--as", "client")
	if !strings.HasPrefix(table, "ID ") || strings.Count(table, "\n") != 4 || !strings.Contains(table, "WITHDRAWN") {
		t.Errorf("client list:\n%s", table)
	}
	if out := ok(t, "sla", "list", "--as", "provider", "--page-size", "2"); !strings.Contains(out, "more: --bookmark ") {
		t.Errorf("first page of 2 does not print the next bookmark:\n%s", out)
	}

	// Offline verification: with the run folder's roots, with --root, and a wrong root.
	if out := ok(t, "sla", "verify", "cli-a"); !strings.Contains(out, "result:              VALID") {
		t.Errorf("verify:\n%s", out)
	}
	provCA := filepath.Join(nw.Info.Orgs["provider"].MSPDir, "cacerts")
	cliCA := filepath.Join(nw.Info.Orgs["client"].MSPDir, "cacerts")
	first := func(d string) string {
		es, err := os.ReadDir(d)
		if err != nil || len(es) == 0 {
			t.Fatalf("%s: %v", d, err)
		}
		return filepath.Join(d, es[0].Name())
	}
	ok(t, "sla", "verify", "cli-a", "--root", "ProviderOrgMSP="+first(provCA), "--root", "ClientOrgMSP="+first(cliCA))
	fails(t, []string{"does NOT verify"}, "sla", "verify", "cli-a", "--root", "ProviderOrgMSP="+first(cliCA), "--root", "ClientOrgMSP="+first(cliCA))
	ok(t, "sla", "verify", "cli-b", "--no-chain", "--json")

	// History and the escrow the acceptance paid.
	if out := ok(t, "sla", "history", "cli-a"); !strings.Contains(out, "ACTIVE") || !strings.Contains(out, "PROPOSED") {
		t.Errorf("history:\n%s", out)
	}
	if err := json.Unmarshal([]byte(ok(t, "wallet", "balance", "client", "--json")), &acct); err != nil || acct.Balance != 997500-2*100000 {
		t.Errorf("client balance after two acceptances %+v, want %d", acct, 997500-2*100000)
	}
	if out := ok(t, "reputation", "ProviderOrgMSP"); !strings.Contains(out, "settled periods:   0") {
		t.Errorf("reputation:\n%s", out)
	}
}

// TestHandover moves SLA cli-a (accepted in TestLifecycle, pinned to the
// enclave make deploy registered) to a second enclave key of the same
// chaincode with `slasa sla handover`: the provider's approval stays pending
// until the client names the same enclave; the old pin is kept. The second
// key is a simulated test key registered by ProviderOrg's admin, as a key
// rotation would register one; it becomes the registry's current enclave, so
// this test runs last.
func TestHandover(t *testing.T) {
	var before struct {
		Status  string `json:"status"`
		Enclave struct {
			Chaincode string `json:"chaincode"`
			EnclaveID string `json:"enclave_id"`
		} `json:"enclave"`
	}
	if err := json.Unmarshal([]byte(ok(t, "sla", "show", "cli-a", "--json")), &before); err != nil {
		t.Fatal(err)
	}
	pinA := before.Enclave.EnclaveID
	if before.Status != "ACTIVE" || before.Enclave.Chaincode != "slaenclave" || len(pinA) != 64 {
		t.Fatalf("cli-a before the handover: %+v", before)
	}

	// A second enclave key, registered by the host's admin for the committed definition.
	dep := nw.Info.Chaincodes["slaenclave"]
	digest := strings.TrimSpace(ok(t, "config", "digest", nw.DeployConfigPath("provider")))
	keyFile := filepath.Join(t.TempDir(), "enclave-b.pem")
	creds := ok(t, "enclave", "simulated-credentials", "--new-key", keyFile, "--channel", nw.Info.Channel, "--chaincode", "slaenclave",
		"--version", fmt.Sprint(dep.Sequence), "--sequence", fmt.Sprint(dep.Sequence), "--peer-msp", "ProviderOrgMSP", "--config-digest", digest)
	nw.MustSubmit(t, "provider-admin", "ercc", "RegisterEnclave", strings.TrimSpace(creds))
	var current struct {
		EnclaveID string `json:"enclave_id"`
	}
	if err := json.Unmarshal([]byte(ok(t, "enclave", "show", "--json")), &current); err != nil {
		t.Fatal(err)
	}
	pinB := current.EnclaveID
	if len(pinB) != 64 || pinB == pinA {
		t.Fatalf("the second registration %q is not a new enclave (pinned %s)", pinB, pinA)
	}
	// The registry keeps the first registration: it still judges cli-a.
	if out := ok(t, "enclave", "show", "--id", pinA); !strings.Contains(out, pinA) || !strings.Contains(out, "registered by:") {
		t.Errorf("enclave show --id %s:\n%s", pinA, out)
	}
	if out := ok(t, "sla", "show", "cli-a"); !contains(out, "enclave: "+pinA+" of slaenclave") {
		t.Errorf("a new registration moved the pin:\n%s", out)
	}

	// Refusals, each in one line, changing nothing.
	fails(t, []string{"only the SLA's provider or client may approve a handover", "you are ClientOrgMSP/Admin@clientorg.slasa.local",
		"not the SLA's client ClientOrgMSP/client@clientorg.slasa.local"}, "sla", "handover", "cli-a", pinB, "--as", "client-admin")
	fails(t, []string{pinA + " is already the pinned enclave of SLA cli-a"}, "sla", "handover", "cli-a", pinA, "--as", "provider")
	unknown := strings.Repeat("AB", 32)
	fails(t, []string{"ercc.QueryEnclaveByID", unknown}, "sla", "handover", "cli-a", unknown, "--as", "provider")
	fails(t, []string{"cli-c is WITHDRAWN and has no pinned enclave"}, "sla", "handover", "cli-c", pinB, "--as", "provider")

	// The provider approves: pending until the client names the same enclave.
	out := ok(t, "sla", "handover", "cli-a", pinB, "--as", "provider")
	for _, w := range []string{"approved:      " + pinB + " as the provider of SLA cli-a", "registration:  slaenclave version",
		"handover:      pending: the provider approves " + pinB + ", the client approves -", "enclave:       still " + pinA} {
		if !contains(out, w) {
			t.Errorf("provider's approval lacks %q:\n%s", w, out)
		}
	}
	sync(t)
	if out := ok(t, "sla", "show", "cli-a", "--as", "client"); !contains(out, "handover: pending: the provider approves "+pinB) ||
		!contains(out, "enclave: "+pinA) {
		t.Errorf("sla show with a pending handover:\n%s", out)
	}

	// The client approves the same enclave: the pin moves, the old one is kept.
	var res struct {
		ApprovedAs string `json:"approved_as"`
		HandedOver bool   `json:"handed_over"`
		Enclave    struct {
			EnclaveID string `json:"enclave_id"`
		} `json:"enclave"`
		Previous struct {
			EnclaveID string `json:"enclave_id"`
		} `json:"previous"`
		Handover *struct{} `json:"handover"`
	}
	if err := json.Unmarshal([]byte(ok(t, "sla", "handover", "cli-a", pinB, "--as", "client", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.ApprovedAs != "client" || !res.HandedOver || res.Enclave.EnclaveID != pinB || res.Previous.EnclaveID != pinA || res.Handover != nil {
		t.Errorf("client's approval: %+v", res)
	}
	sync(t)
	show := ok(t, "sla", "show", "cli-a")
	for _, w := range []string{"enclave: " + pinB + " of slaenclave", "replaced enclave: " + pinA + " of slaenclave"} {
		if !contains(show, w) {
			t.Errorf("sla show after the handover lacks %q:\n%s", w, show)
		}
	}
	if strings.Contains(show, "handover:") {
		t.Errorf("approvals left after the handover:\n%s", show)
	}
	if out := ok(t, "sla", "history", "cli-a"); !strings.Contains(out, "(handover pending)") || !strings.Contains(out, pinB[:16]) {
		t.Errorf("sla history:\n%s", out)
	}
	events := ok(t, "watch", "--start-block", "0", "--for", "10s", "--max", "100")
	for _, w := range []string{"agreement.EnclaveHandoverApproved  sla_id=cli-a approved_as=provider enclave_id=" + pinB[:16],
		"agreement.EnclaveHandover  sla_id=cli-a approved_as=client enclave_id=" + pinB[:16]} {
		if !contains(events, w) {
			t.Errorf("watch lacks %q:\n%s", w, events)
		}
	}
}
