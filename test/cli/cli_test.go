//go:build integration

// Package cli tests the slasa CLI's network commands against a real network
// (agreement and refund chaincodes): the SLA lifecycle with pagination,
// termination and offline verification, the wallet commands, JSON output,
// and the one-line explanations of refused transactions. test/e2e plays the
// whole story with the enclave, the logger and the monitor.
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Chaincodes: []harness.Chaincode{{Source: "agreement"}, {Source: "refund"}}}, &nw))
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
	data, _ := json.Marshal(doc)
	path := filepath.Join(dir, id+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	if _, err := nw.SubmitAndSync("issuer", "refund", "Configure", "ProviderOrgMSP", "slaenclave", "agreement"); err != nil {
		t.Fatal(err)
	}

	// Wallets.
	ok(t, "wallet", "open", "client", "--as", "client")
	ok(t, "wallet", "open", "provider", "--as", "provider")
	sync(t)
	fails(t, []string{"refund.OpenAccount: endorsement failed", `wallet "client" already exists`}, "wallet", "open", "client", "--as", "client")
	fails(t, []string{"refund.Mint: endorsement failed", "issuer"}, "wallet", "mint", "client", "500", "--as", "client")
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
	if out := ok(t, "wallet", "balance", "provider", "--as", "provider"); !strings.Contains(out, "balance:  2500 (25.00)") {
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
		if err := json.Unmarshal([]byte(ok(t, "sla", "propose", slaFile(t, dir, id), "--json")), &res); err != nil || res["id"] != id || res["status"] != "PROPOSED" {
			t.Fatalf("propose %s: %v %v", id, res, err)
		}
	}
	fails(t, []string{"the SLA's provider is ProviderOrgMSP/provider@providerorg.slasa.local, you are ClientOrgMSP/client@clientorg.slasa.local"},
		"sla", "propose", slaFile(t, dir, "cli-d"), "--as", "client")
	fails(t, []string{"agreement.ProposeSLA: endorsement failed", "already exists"}, "sla", "propose", slaFile(t, dir, "cli-a"))
	sync(t)
	fails(t, []string{"the SLA's client is ClientOrgMSP/client@clientorg.slasa.local, you are ProviderOrgMSP/provider@providerorg.slasa.local"},
		"sla", "accept", "cli-a", "--as", "provider")
	fails(t, []string{"cli-a", "has not signed it yet"}, "sla", "verify", "cli-a")
	ok(t, "sla", "accept", "cli-a")
	ok(t, "sla", "accept", "cli-b")
	sync(t)
	fails(t, []string{"agreement.AcceptSLA: endorsement failed", `SLA "cli-a" is ACTIVE, not PROPOSED`}, "sla", "accept", "cli-a")
	fails(t, []string{"agreement.GetSLA", `SLA "nope" does not exist`}, "sla", "show", "nope")

	// Withdraw the third.
	ok(t, "sla", "terminate", "cli-c", "--as", "provider", "--reason", "changed my mind")
	sync(t)
	if out := ok(t, "sla", "show", "cli-c", "--as", "client"); !strings.Contains(out, "WITHDRAWN") || !strings.Contains(out, "changed my mind") {
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
