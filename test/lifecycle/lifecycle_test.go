//go:build integration

// Package lifecycle tests the agreement and refund chaincodes on a real
// native Fabric network (test/harness), through the Gateway and the peer
// CLI: propose, accept and pay, anchor log batches, wallet balances, and
// the rejection of a wrong org, a forged signature and a replayed anchor.
//
// Settlement runs against the real enclave registry (ercc, configured for
// simulated attestation): the smoke chaincode is deployed under the name
// testenclave, so that a chaincode definition exists for the test enclave
// key the test generates and registers with simulated credentials. Verdicts
// are made by hand and signed with that key.
package lifecycle

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var net *harness.Network

// testEnclave is the enclave chaincode name the refund chaincode trusts in
// this test; the smoke chaincode is deployed under it.
const testEnclave = "testenclave"

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Chaincodes: []harness.Chaincode{
		{Source: "agreement"}, {Source: "refund"}, {Source: "ercc"}, {Source: "smoke", Name: testEnclave},
	}}, &net))
}

func contract(t *testing.T, who, cc string) *client.Contract {
	t.Helper()
	c, err := net.Contract(who, cc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// submit submits a transaction and waits until both organizations' peers
// hold its block, so that the next transaction, endorsed by both, reads
// the same state on both.
func submit(t *testing.T, who, cc, fn string, args ...string) string {
	t.Helper()
	return string(net.MustSubmit(t, who, cc, fn, args...))
}

func mustFail(t *testing.T, who, cc, fn, want string, args ...string) {
	t.Helper()
	_, err := contract(t, who, cc).SubmitTransaction(fn, args...)
	if err == nil {
		t.Fatalf("%s %s.%s succeeded, want %q", who, cc, fn, want)
	}
	if msg := fabnet.ErrorText(err); !strings.Contains(msg, want) {
		t.Fatalf("%s %s.%s: got %s, want %q", who, cc, fn, msg, want)
	}
}

func exampleSLA(t *testing.T, id string) (string, [32]byte) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	s.ID = id
	s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: start.AddDate(1, 0, 0).Format(time.RFC3339)}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc), d
}

func TestLifecycle(t *testing.T) {
	id := fmt.Sprintf("it-%d", time.Now().UnixNano())
	submit(t, "issuer", "refund", "Configure", "ProviderOrgMSP", testEnclave, "agreement")
	submit(t, "client", "refund", "OpenAccount", "client")
	submit(t, "provider", "refund", "OpenAccount", "provider")
	submit(t, "issuer", "refund", "Mint", "client", "1000000")
	mustFail(t, "provider", "refund", "Mint", "only the issuer", "provider", "5")

	doc, d := exampleSLA(t, id)
	mustFail(t, "client", "agreement", "ProposeSLA", "only the SLA's provider may propose it", doc, net.SignB64(t, "client", d[:]))
	mustFail(t, "provider", "agreement", "ProposeSLA", "providerSignature: verify signature", doc, net.SignB64(t, "logger", d[:]))
	submit(t, "provider", "agreement", "ProposeSLA", doc, net.SignB64(t, "provider", d[:]))
	hexd := fmt.Sprintf("%x", d[:])
	mustFail(t, "client", "agreement", "AcceptSLA", "signature: verify signature", id, hexd, net.SignB64(t, "provider", d[:]))
	submit(t, "client", "agreement", "AcceptSLA", id, hexd, net.SignB64(t, "client", d[:]))

	var bal struct{ Balance int64 }
	if err := json.Unmarshal([]byte(evaluate(t, "client", "refund", "BalanceOf", "client")), &bal); err != nil || bal.Balance != 900000 {
		t.Fatalf("client balance %+v %v", bal, err)
	}

	// Anchors: the logger only, consecutive, chained.
	now := time.Now().UTC().Truncate(time.Second)
	a1 := signedsla.Anchor{SLAID: id, Seq: 1, CID: "bafybatchone", PeriodStart: now.Add(-2 * time.Minute).Format(time.RFC3339), PeriodEnd: now.Add(-time.Minute).Format(time.RFC3339)}
	a2 := signedsla.Anchor{SLAID: id, Seq: 2, CID: "bafybatchtwo", PrevCID: "bafybatchone", PeriodStart: a1.PeriodEnd, PeriodEnd: now.Format(time.RFC3339)}
	args := func(a signedsla.Anchor, who string) []string {
		sum := sha256.Sum256(a.SigningBytes())
		return []string{a.SLAID, fmt.Sprint(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, net.SignB64(t, who, sum[:])}
	}
	mustFail(t, "provider", "agreement", "AnchorLogBatch", "only the SLA's logger may anchor", args(a1, "provider")...)
	submit(t, "logger", "agreement", "AnchorLogBatch", args(a1, "logger")...)
	mustFail(t, "logger", "agreement", "AnchorLogBatch", "is already anchored", args(a1, "logger")...)
	submit(t, "logger", "agreement", "AnchorLogBatch", args(a2, "logger")...)

	// The peer CLI reads the same agreement.
	out, err := net.PeerCLI("client", "client", "chaincode", "query", "-C", net.Info.Channel, "-n", "agreement", "-c", fmt.Sprintf(`{"Args":["GetSLA",%q]}`, id))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"status":"ACTIVE"`) || !strings.Contains(out, hexd) {
		t.Fatalf("peer CLI GetSLA: %s", out)
	}

	t.Run("settle", func(t *testing.T) { testSettle(t, id, hexd) })
}
