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

	"github.com/slasa/slasa/test/harness"
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
		check("client", "refund", "GetReputation", f.field, f.want, "ProviderOrgMSP")
	}
	for _, want := range []string{"client may accept it", "is already settled", `"attestation_type": "simulated"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the script's output lacks %q", want)
		}
	}
}
