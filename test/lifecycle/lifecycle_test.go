//go:build integration

// Package lifecycle tests the agreement and refund chaincodes on a real
// native Fabric network (test/harness), through the Gateway and the peer
// CLI: the deploy configuration recorded by an admin only, propose, accept
// and pay, renew, anchor log batches, wallet balances, and the rejection of
// a wrong org, a wrong role, a forged signature, a replayed anchor and a
// period paid or anchored at the wrong time.
//
// Settlement runs against the real enclave registry (ercc): the network's
// deploy configuration names testenclave as the enclave chaincode
// (SLASA_CC_ENCLAVE), and the smoke chaincode is deployed under that name,
// so that a chaincode definition exists for the test enclave key the test
// generates and registers, as an admin of the enclave host, with simulated
// credentials that attest the deploy configuration's digest. Verdicts are
// made by hand and signed with that key.
//
// The SLA has 30-second billing periods starting shortly after the test
// accepts it: AcceptSLA pays only a period that has not started, a batch is
// anchored only once its window is over, and a period is settled only once
// it has ended and the anchor of its last batch is on the ledger, so the
// test waits for each period's end.
package lifecycle

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var net *harness.Network

// testEnclave is the enclave chaincode name of this network's deploy
// configuration; the smoke chaincode is deployed under it.
const testEnclave = "testenclave"

// period is the SLA's billing period.
const period = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{
		Env: []string{"SLASA_CC_ENCLAVE=" + testEnclave},
		Chaincodes: []harness.Chaincode{
			{Source: "agreement"}, {Source: "refund"}, {Source: "ercc"}, {Source: "smoke", Name: testEnclave},
		},
	}, &net))
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
	failsWith(t, err, who, cc, fn, want)
}

// submitSLA submits fn(args) of the agreement chaincode for the SLA doc:
// endorsed by its provider's and its client's organizations, with the
// document as transient data when withDoc.
func submitSLA(t *testing.T, who string, doc []byte, withDoc bool, fn string, args ...string) {
	t.Helper()
	net.MustSubmitSLA(t, who, fn, doc, withDoc, args...)
}

// mustFailSLA is mustFail for submitSLA.
func mustFailSLA(t *testing.T, who string, doc []byte, withDoc bool, fn, want string, args ...string) {
	t.Helper()
	opts, err := harness.SLAOptions(doc, withDoc, args...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = contract(t, who, "agreement").Submit(fn, opts...)
	failsWith(t, err, who, "agreement", fn, want)
}

func failsWith(t *testing.T, err error, who, cc, fn, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s %s.%s succeeded, want %q", who, cc, fn, want)
	}
	if msg := fabnet.ErrorText(err); !strings.Contains(msg, want) {
		t.Fatalf("%s %s.%s: got %s, want %q", who, cc, fn, msg, want)
	}
}

// sleepUntil sleeps until at (plus a little, so that every peer's clock is past it).
func sleepUntil(t *testing.T, what string, at time.Time) {
	t.Helper()
	if d := time.Until(at.Add(500 * time.Millisecond)); d > 0 {
		t.Logf("waiting %s until %s (%s)", d.Round(100*time.Millisecond), what, at.Format(time.RFC3339))
		time.Sleep(d)
	}
}

// exampleSLA is the aws-ec2-region example as SLA id, valid from start for a day in 30-second periods.
func exampleSLA(t *testing.T, id string, start time.Time) (string, [32]byte) {
	t.Helper()
	s := harness.ExampleSLA(t, "aws-ec2-region", id)
	harness.ShortPeriods(s, start, 24*time.Hour, period)
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatalf("test SLA: %v", err)
	}
	return string(doc), d
}

// readSLA reads an SLA as the client, on its own organization's peer.
func readSLA(t *testing.T, id string) agreement.SLAView {
	t.Helper()
	return decode[agreement.SLAView](t, string(net.MustGetSLA(t, "client", id)))
}

// anchorArgs are AnchorLogBatch's arguments for a, signed by who.
func anchorArgs(t *testing.T, a signedsla.Anchor, who string) []string {
	t.Helper()
	sum := sha256.Sum256(a.SigningBytes())
	return []string{a.SLAID, fmt.Sprint(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, net.SignB64(t, who, sum[:])}
}

func TestLifecycle(t *testing.T) {
	cfgPath := net.DeployConfigPath("provider")
	cfgJSON, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	// ---- The deploy configuration: nothing works before an admin records it, and only an admin may.
	mustFail(t, "client", "refund", "OpenAccount", "the deploy configuration is not recorded on the channel yet", "client")
	for _, cc := range []string{"agreement", "refund", "ercc"} {
		mustFail(t, "provider", cc, "Configure",
			fmt.Sprintf(`Configure: the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, net.ID(t, "provider")), string(cfgJSON))
	}
	if out, err := net.RecordConfig("provider-admin"); err != nil {
		t.Fatalf("slasa config record: %v\n%s", err, out)
	}
	mustFail(t, "client-admin", "refund", "Configure", "is already recorded", string(cfgJSON))

	// ---- Wallets: money only from the issuer's admin.
	submit(t, "client", "refund", "OpenAccount", "client")
	submit(t, "provider", "refund", "OpenAccount", "provider")
	submit(t, "issuer", "refund", "Mint", "client", "1000000")
	mustFail(t, "provider", "refund", "Mint",
		fmt.Sprintf(`only an admin of the issuer ProviderOrgMSP may mint: the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, net.ID(t, "provider")),
		"provider", "5")

	// ---- The test enclave, registered before any SLA is accepted (AcceptSLA pins it).
	enc := registerEnclave(t)

	// ---- Propose and accept before the first period starts.
	id := fmt.Sprintf("it-%d", time.Now().UnixNano())
	start := time.Now().UTC().Truncate(time.Second).Add(20 * time.Second)
	docText, d := exampleSLA(t, id, start)
	doc := []byte(docText)
	mustFailSLA(t, "client", doc, true, "ProposeSLA", "only the SLA's provider may propose it", net.SignB64(t, "client", d[:]))
	mustFailSLA(t, "provider", doc, true, "ProposeSLA", "providerSignature: verify signature", net.SignB64(t, "logger", d[:]))
	mustFailSLA(t, "provider", doc, false, "ProposeSLA", `transient "sla": missing`, net.SignB64(t, "provider", d[:]))
	submitSLA(t, "provider", doc, true, "ProposeSLA", net.SignB64(t, "provider", d[:]))
	hexd := fmt.Sprintf("%x", d[:])
	mustFailSLA(t, "client", doc, true, "AcceptSLA", "signature: verify signature", id, hexd, net.SignB64(t, "provider", d[:]))
	submitSLA(t, "client", doc, true, "AcceptSLA", id, hexd, net.SignB64(t, "client", d[:]))
	if a := readSLA(t, id); string(a.Signed.Document) != docText {
		t.Fatalf("GetSLA: the client's copy of the document differs from the proposed one")
	}
	// OtherOrg's user reads nothing, through any Gateway.
	if _, err := net.GetSLA("other", id); err == nil || !strings.Contains(fabnet.ErrorText(err), "not by OtherOrgMSP") {
		t.Fatalf("GetSLA as other: %v", err)
	}

	var bal struct{ Balance int64 }
	if err := json.Unmarshal([]byte(evaluate(t, "client", "refund", "BalanceOf", "client")), &bal); err != nil || bal.Balance != 900000 {
		t.Fatalf("client balance %+v %v", bal, err)
	}
	// The first period not started at acceptance is paid, and the registered enclave is pinned.
	p1, p1End := start, start.Add(period)
	a := readSLA(t, id)
	if a.Status != agreement.StatusActive || a.LastPeriod != p1.Format(time.RFC3339) || a.PaidThrough != p1End.Format(time.RFC3339) || a.PaidPeriods != 1 {
		t.Fatalf("after AcceptSLA: status %s, last period %s, paid through %s, %d paid; want period %s (accepted before it started?)",
			a.Status, a.LastPeriod, a.PaidThrough, a.PaidPeriods, p1.Format(time.RFC3339))
	}
	if a.Enclave == nil || a.Enclave.Chaincode != testEnclave || a.Enclave.EnclaveID != enc.id || a.Enclave.ConfigDigest != enc.digest {
		t.Fatalf("pinned enclave %+v, want %s of %s (config %s)", a.Enclave, enc.id, testEnclave, enc.digest)
	}

	// Renewal: the client only, once the paid period has begun, before the next one starts.
	mustFailSLA(t, "provider", doc, true, "RenewSLA", "only the SLA's client may renew it", id)
	mustFailSLA(t, "client", doc, true, "RenewSLA", "renew once its last paid period ("+p1.Format(time.RFC3339)+") has begun", id)
	sleepUntil(t, "the first period has begun", p1)
	submitSLA(t, "client", doc, true, "RenewSLA", id)
	p2, p2End := p1End, p1End.Add(period)
	if a = readSLA(t, id); a.LastPeriod != p2.Format(time.RFC3339) || a.PaidThrough != p2End.Format(time.RFC3339) || a.PaidPeriods != 2 {
		t.Fatalf("after RenewSLA: last period %s, paid through %s, %d paid", a.LastPeriod, a.PaidThrough, a.PaidPeriods)
	}

	// ---- Anchors: the logger only, once the window is over, consecutive, chained.
	mid := p1.Add(period / 2)
	a1 := signedsla.Anchor{SLAID: id, Seq: 1, CID: "bafybatchone", PeriodStart: p1.Format(time.RFC3339), PeriodEnd: mid.Format(time.RFC3339)}
	a2 := signedsla.Anchor{SLAID: id, Seq: 2, CID: "bafybatchtwo", PrevCID: a1.CID, PeriodStart: a1.PeriodEnd, PeriodEnd: p1End.Format(time.RFC3339)}
	a3 := signedsla.Anchor{SLAID: id, Seq: 3, CID: "bafybatchthree", PrevCID: a2.CID, PeriodStart: a2.PeriodEnd, PeriodEnd: p2End.Format(time.RFC3339)}
	mustFailSLA(t, "logger", doc, false, "AnchorLogBatch", "a batch is anchored only once its window is over", anchorArgs(t, a1, "logger")...)
	sleepUntil(t, "the first period has ended", p1End)
	mustFailSLA(t, "provider", doc, false, "AnchorLogBatch", "only the SLA's logger may anchor", anchorArgs(t, a1, "provider")...)
	submitSLA(t, "logger", doc, false, "AnchorLogBatch", anchorArgs(t, a1, "logger")...)
	mustFailSLA(t, "logger", doc, false, "AnchorLogBatch", "is already anchored", anchorArgs(t, a1, "logger")...)
	submitSLA(t, "logger", doc, false, "AnchorLogBatch", anchorArgs(t, a2, "logger")...)

	// The peer CLI reads the same agreement.
	out, err := net.PeerCLI("client", "client", "chaincode", "query", "-C", net.Info.Channel, "-n", "agreement", "-c", fmt.Sprintf(`{"Args":["GetSLA",%q]}`, id))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"status":"ACTIVE"`) || !strings.Contains(out, hexd) {
		t.Fatalf("peer CLI GetSLA: %s", out)
	}

	t.Run("settle", func(t *testing.T) {
		testSettle(t, enc, settleCase{id: id, doc: doc, hexd: hexd, p1: p1, p1End: p1End, p2: p2, p2End: p2End, a1: a1, a2: a2, a3: a3})
	})
	t.Run("money", func(t *testing.T) { testMoney(t, enc) })
}
