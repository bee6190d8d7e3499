//go:build integration

// Package enclave tests the SLA enclave on a real native Fabric network with
// the network's own kubo node and tunneling shim: the enclave setup (the
// deploy configuration recorded by an admin, then fpc/setup: the enclave
// initialised with that configuration and registered by the host
// organization's admin), a full agreement lifecycle through the real
// chaincodes and fpc/client (propose, accept before the first period starts
// with the enclave pinned, register in the enclave, logger batches in IPFS,
// anchored once their window is over and ingested, evaluated after the
// period ended, settled at the refund chaincode with the verdict naming the
// period's last anchored batch), then the security properties: no plaintext
// log content or metric value on the ledger, and each attack rejected with a
// clear error and no state change. The network has one enclave chaincode,
// the one its deploy configuration names; the lying-shim case redeploys it
// behind a lying proxy and back.
//
// The test talks to the enclave only through fabric-gateway (fpc/client and
// raw __invoke/__endorse proposals); it never links the v1-shim enclave code.
package enclave

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	shell "github.com/ipfs/go-ipfs-api"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/setup"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

var net *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Chaincodes: []harness.Chaincode{
		{Source: "agreement"}, {Source: "refund"}, {Source: "ercc"}, {Source: "slaenclave"},
	}}, &net))
}

// Distinctive markers put into the logs; none may reach the ledger.
const (
	markerProbe   = "probe-zq7x3k9-marker"
	markerLatency = 987654321
	period        = 30 // seconds per billing period
	fee           = 100000
)

func enclaveClient(t *testing.T, who string) *fpcclient.Client {
	t.Helper()
	gw, err := net.Gateway(who)
	if err != nil {
		t.Fatal(err)
	}
	return fpcclient.New(gw.GetNetwork(net.Info.Channel), "slaenclave")
}

// status returns the enclave's status of the SLA, as the provider.
func status(t *testing.T, id string) enclaveapi.Status {
	t.Helper()
	out, err := enclaveClient(t, "provider").Query(context.Background(), "GetAgreementStatus", id)
	if err != nil {
		t.Fatalf("GetAgreementStatus: %s", fabnet.ErrorText(err))
	}
	var s enclaveapi.Status
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func balance(t *testing.T, account string) int64 {
	t.Helper()
	var b struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal(net.MustEvaluate(t, "issuer", "refund", "BalanceOf", account), &b); err != nil {
		t.Fatal(err)
	}
	return b.Balance
}

// makeSLA is the aws-ec2-region example with a 30-second billing cycle starting at start.
func makeSLA(t *testing.T, id string, start time.Time) (string, [32]byte) {
	t.Helper()
	s := harness.ExampleSLA(t, "aws-ec2-region", id)
	harness.ShortPeriods(s, start, 24*time.Hour, time.Duration(period)*time.Second)
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sla.Parse(doc); err != nil {
		t.Fatalf("test SLA: %v", err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc), d
}

// records are one record per zone and second of [from, to); in second 7 of the
// period two zones are down (one unavailable sub-interval of 30).
func records(from, to, periodStart time.Time) ([]byte, int64) {
	var buf bytes.Buffer
	var n int64
	for ts := from; ts.Before(to); ts = ts.Add(time.Second) {
		for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
			ok := !(ts.Sub(periodStart) == 7*time.Second && i < 2)
			fmt.Fprintf(&buf, `{"time":%q,"source":{"probe":%q,"zone":%q,"region":"region-1"},"measurements":{"ok":%t,"latency_ms":%d}}`+"\n",
				ts.Add(time.Duration(i)*100*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), markerProbe+"-"+zone, zone, ok, markerLatency)
			n++
		}
	}
	return buf.Bytes(), n
}

type batchT struct {
	h     logbatch.Header
	bytes []byte
	cid   string
}

func seal(t *testing.T, ekRec *credentials.Record, signer string, h logbatch.Header, recs []byte) []byte {
	t.Helper()
	ek, err := ekRec.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, key := net.UserKey(t, signer)
	b, err := logbatch.Seal(h, recs, int64(bytes.Count(recs, []byte("\n"))), ek, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ipfsAdd(t *testing.T, data []byte) string {
	t.Helper()
	api, err := os.ReadFile(filepath.Join(net.RunDir(), "ipfs", "api"))
	if err != nil {
		t.Fatal(err)
	}
	sh := shell.NewShell(strings.TrimSpace(string(api)))
	c, err := sh.Add(bytes.NewReader(data), shell.CidVersion(1), shell.RawLeaves(true), shell.Pin(true))
	if err != nil {
		t.Fatalf("ipfs add: %v", err)
	}
	return c
}

// lyingShim redeploys the enclave chaincode (the one the deploy
// configuration names; the sealed keys keep the enclave's identity) with its
// tunneling shim URL pointing at a proxy in front of the network's real shim
// that flips one byte of every batch it serves, registers it again for the
// new sequence, and checks that the enclave refuses batch h (not ingested
// yet) because its bytes do not match the CID, leaving the chain head where
// it was. It then redeploys the enclave with the real shim and registers it
// again, so the rest of the test runs on the real shim.
func lyingShim(t *testing.T, id string, h logbatch.Header, recs []byte) {
	ctx := context.Background()
	realURL, err := os.ReadFile(filepath.Join(net.RunDir(), "shim-url"))
	if err != nil {
		t.Fatal(err)
	}
	upstream := strings.TrimSpace(string(realURL))
	var served atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(upstream + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(r.URL.Path, "/v1/batches/") && len(body) > 0 {
			body[len(body)/2] ^= 0x01
			served.Add(1)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	defer proxy.Close()

	before := status(t, id)
	rec := redeployEnclave(t, proxy.URL)
	batch := seal(t, rec, "logger", h, recs)
	c := ipfsAdd(t, batch)
	_, _, err = enclaveClient(t, "logger").SubmitEndorsedBy(ctx, partiesOrgs, "IngestBatch", h.SLAID, fmt.Sprint(h.Seq), c)
	if err == nil || !strings.Contains(fabnet.ErrorText(err), "batch bytes do not match cid") {
		t.Fatalf("IngestBatch through the lying shim: %v, want a CID mismatch", err)
	}
	t.Logf("rejected as expected: %s", fabnet.ErrorText(err))
	if served.Load() == 0 {
		t.Fatal("the lying proxy served no batch: the enclave did not use it")
	}
	if after := status(t, id); after.LastSeq != before.LastSeq || after.LastCID != before.LastCID {
		t.Fatalf("enclave status changed by the rejected batch: %+v -> %+v", before, after)
	}
	if again := redeployEnclave(t, ""); again.EnclaveID != rec.EnclaveID {
		t.Fatalf("the redeployed enclave is %s, not %s: the sealed keys were not kept", again.EnclaveID, rec.EnclaveID)
	}
}

// redeployEnclave redeploys slaenclave (the next sequence) with shimURL as
// its tunneling shim ("" means the network's own) and runs the enclave
// setup, which registers the enclave again for the new sequence. It returns
// the registry's record.
func redeployEnclave(t *testing.T, shimURL string) *credentials.Record {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "network", "deploy.sh"), "slaenclave")
	cmd.Dir = root
	cmd.Env = net.Env()
	if shimURL != "" {
		cmd.Env = append(cmd.Env, "SLASA_SHIM_URL_OVERRIDE="+shimURL)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redeploy slaenclave: %v\n%s", err, out)
	}
	info, err := fabnet.Load(net.RunDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := setup.Options{Log: os.Stderr}
	gw := setup.NewGateway(info, opts, "")
	defer gw.Close()
	res, err := setup.Run(context.Background(), info, gw, opts)
	if err != nil {
		t.Fatalf("setup of the redeployed slaenclave: %v", err)
	}
	seq := int64(info.Chaincodes["slaenclave"].Sequence)
	if !res.Registered || res.Record.ChaincodeSequence != seq {
		t.Fatalf("setup of slaenclave sequence %d: %+v", seq, res)
	}
	return res.Record
}

func anchor(t *testing.T, b batchT) {
	t.Helper()
	a := signedsla.Anchor{SLAID: b.h.SLAID, Seq: b.h.Seq, CID: b.cid, PrevCID: b.h.PrevCID, PeriodStart: b.h.WindowStart, PeriodEnd: b.h.WindowEnd}
	sum := sha256.Sum256(a.SigningBytes())
	net.MustSubmit(t, "logger", "agreement", "AnchorLogBatch", a.SLAID, fmt.Sprint(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, net.SignB64(t, "logger", sum[:]))
}

// rejectIngest expects IngestBatch to fail with want and the chain head to stay.
func rejectIngest(t *testing.T, id string, seq int64, cid, want string) {
	t.Helper()
	before := status(t, id)
	_, _, err := enclaveClient(t, "logger").SubmitEndorsedBy(context.Background(), partiesOrgs, "IngestBatch", id, fmt.Sprint(seq), cid)
	if err == nil {
		t.Fatalf("IngestBatch seq %d %s accepted, want an error containing %q", seq, cid, want)
	}
	if msg := fabnet.ErrorText(err); !strings.Contains(msg, want) {
		t.Fatalf("IngestBatch seq %d: error %s, want containing %q", seq, msg, want)
	} else {
		t.Logf("rejected as expected: %s", msg)
	}
	if after := status(t, id); after.LastSeq != before.LastSeq || after.LastCID != before.LastCID {
		t.Fatalf("state changed by a rejected batch: %+v -> %+v", before, after)
	}
}

func TestEnclave(t *testing.T) {
	ctx := context.Background()

	// ---- setup: an admin records the deploy configuration; the enclave is initialised with it and
	// registered by the host's admin; a second setup changes nothing.
	if out, err := net.RecordConfig("provider-admin"); err != nil {
		t.Fatalf("slasa config record: %v\n%s", err, out)
	}
	cfg, err := net.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	res, err := runSetup(ctx)
	if err != nil {
		t.Fatalf("enclave setup: %v", err)
	}
	if !res.Registered || res.ConfigDigest != digest || res.Record.ConfigDigest != digest ||
		res.Record.AttestationType != credentials.AttestationSimulated || res.Record.RegisteredBy != net.ID(t, "provider-admin").String() {
		t.Fatalf("first setup: %+v (record %+v), want registered by provider-admin with config %s", res, res.Record, digest)
	}
	again, err := runSetup(ctx)
	if err != nil {
		t.Fatalf("second enclave setup: %v", err)
	}
	if again.Registered || again.Record.EnclaveID != res.Record.EnclaveID {
		t.Fatalf("second setup is not a no-op: %+v", again)
	}
	rec := res.Record

	// ---- wallets and the agreement.
	net.MustSubmit(t, "client", "refund", "OpenAccount", "client")
	net.MustSubmit(t, "provider", "refund", "OpenAccount", "provider")
	net.MustSubmit(t, "issuer", "refund", "Mint", "client", "1000000")
	id := fmt.Sprintf("enc-%d", time.Now().UnixNano())
	// The first period starts after the acceptance: AcceptSLA pays only a period that has not started.
	start := time.Now().UTC().Truncate(time.Second).Add(15 * time.Second)
	doc, d := makeSLA(t, id, start)
	net.MustProposeSLA(t, "provider", []byte(doc), net.SignB64(t, "provider", d[:]))
	net.MustAcceptSLA(t, "client", []byte(doc), id, hex.EncodeToString(d[:]), net.SignB64(t, "client", d[:]))
	if b := balance(t, "client"); b != 1000000-fee {
		t.Fatalf("client balance after accept: %d", b)
	}
	var pinned struct {
		LastPeriod string `json:"last_period"`
		Enclave    struct {
			Chaincode string `json:"chaincode"`
			EnclaveID string `json:"enclave_id"`
		} `json:"enclave"`
	}
	if err := json.Unmarshal(net.MustGetSLA(t, "client", id), &pinned); err != nil {
		t.Fatal(err)
	}
	if pinned.LastPeriod != start.Format(time.RFC3339) || pinned.Enclave.Chaincode != "slaenclave" || pinned.Enclave.EnclaveID != rec.EnclaveID {
		t.Fatalf("after AcceptSLA: paid period %s, pinned enclave %+v; want period %s (accepted before it started) and enclave %s",
			pinned.LastPeriod, pinned.Enclave, start.Format(time.RFC3339), rec.EnclaveID)
	}

	// The signed record from the agreement chaincode, registered in the enclave.
	var ag struct {
		Signed json.RawMessage `json:"signed"`
	}
	if err := json.Unmarshal(net.MustGetSLA(t, "provider", id), &ag); err != nil {
		t.Fatal(err)
	}
	if _, err := signedsla.Parse(ag.Signed); err != nil {
		t.Fatalf("GetSLA signed record: %v", err)
	}
	if _, _, err := enclaveClient(t, "provider").SubmitEndorsedBy(ctx, partiesOrgs, "RegisterAgreement", string(ag.Signed)); err != nil {
		t.Fatalf("RegisterAgreement: %s", fabnet.ErrorText(err))
	}

	// ---- wait for the period to end, then publish its two batches.
	mid, end := start.Add(period/2*time.Second), start.Add(period*time.Second)
	if wait := time.Until(end.Add(2 * time.Second)); wait > 0 {
		t.Logf("waiting %s for the period [%s, %s) to end", wait.Round(time.Second), start.Format(time.RFC3339), end.Format(time.RFC3339))
		time.Sleep(wait)
	}
	rec1, _ := records(start, mid, start)
	rec2, _ := records(mid, end, start)
	h1 := logbatch.Header{SLAID: id, Seq: 1, WindowStart: start.Format(time.RFC3339), WindowEnd: mid.Format(time.RFC3339)}
	b1 := batchT{h: h1, bytes: seal(t, rec, "logger", h1, rec1)}
	b1.cid = ipfsAdd(t, b1.bytes)
	anchor(t, b1)
	if _, _, err := enclaveClient(t, "logger").SubmitEndorsedBy(ctx, partiesOrgs, "IngestBatch", id, "1", b1.cid); err != nil {
		t.Fatalf("IngestBatch 1: %s", fabnet.ErrorText(err))
	}
	if s := status(t, id); s.LastSeq != 1 || s.LastCID != b1.cid {
		t.Fatalf("status after batch 1: %+v", s)
	}

	h2 := logbatch.Header{SLAID: id, Seq: 2, PrevCID: b1.cid, WindowStart: mid.Format(time.RFC3339), WindowEnd: end.Format(time.RFC3339)}

	t.Run("batch signed by another identity", func(t *testing.T) {
		bad := seal(t, rec, "provider", h2, rec2)
		rejectIngest(t, id, 2, ipfsAdd(t, bad), "not signed by the SLA's logger")
	})
	t.Run("replayed batch", func(t *testing.T) {
		rejectIngest(t, id, 1, b1.cid, "already ingested (replay)")
	})
	t.Run("skipped batch", func(t *testing.T) {
		h3 := h2
		h3.Seq = 3
		skipped := seal(t, rec, "logger", h3, rec2)
		rejectIngest(t, id, 3, ipfsAdd(t, skipped), "(skipped)")
	})
	t.Run("bytes that do not match the CID", func(t *testing.T) { lyingShim(t, id, h2, rec2) })

	b2 := batchT{h: h2, bytes: seal(t, rec, "logger", h2, rec2)}
	b2.cid = ipfsAdd(t, b2.bytes)
	anchor(t, b2)
	if _, _, err := enclaveClient(t, "logger").SubmitEndorsedBy(ctx, partiesOrgs, "IngestBatch", id, "2", b2.cid); err != nil {
		t.Fatalf("IngestBatch 2: %s", fabnet.ErrorText(err))
	}

	t.Run("tampered request", func(t *testing.T) { tamperedRequest(t, rec, id) })
	t.Run("response whose signature does not verify", func(t *testing.T) { tamperedResponse(t, rec, id) })
	t.Run("third org cannot read the report", func(t *testing.T) {
		other := enclaveClient(t, "other")
		for _, fn := range []string{"Evaluate", "GetAgreementStatus"} {
			args := []string{id}
			if fn == "Evaluate" {
				args = append(args, start.Format(time.RFC3339))
			}
			_, err := other.Query(ctx, fn, args...)
			var ce *fpcclient.ChaincodeError
			if err == nil || !asChaincodeError(err, &ce) {
				t.Fatalf("%s as other@otherorg: %v, want a chaincode refusal", fn, err)
			}
			t.Logf("%s refused as expected: %s", fn, ce.Message)
		}
		if s := status(t, id); len(s.EvaluatedPeriods) != 0 {
			t.Fatalf("evaluated periods after refusals: %v", s.EvaluatedPeriods)
		}
	})

	// ---- evaluation by the client and settlement.
	out, _, err := enclaveClient(t, "client").SubmitEndorsedBy(ctx, partiesOrgs, "Evaluate", id, start.Format(time.RFC3339))
	if err != nil {
		t.Fatalf("Evaluate: %s", fabnet.ErrorText(err))
	}
	ev, err := enclaveapi.ParseEvaluation(out)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ev.Check() // the report's HMAC-SHA256 under the returned report key is report_digest
	if err != nil {
		t.Fatal(err)
	}
	v := signed.Verdict
	if !v.Violated || v.CreditBPS != 3000 || v.CreditAmount != 30000 ||
		v.BatchSeq != 2 || v.BatchCID != b2.cid || v.EnclaveID != rec.EnclaveID {
		t.Fatalf("verdict %+v (report %s)", v, ev.Report)
	}
	if sum := sha256.Sum256(ev.Report); v.ReportDigest == hex.EncodeToString(sum[:]) {
		t.Fatal("report_digest is the report's unkeyed SHA-256")
	}
	vk, err := rec.VerifyingKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := verdict.Verify(signed, vk); err != nil {
		t.Fatal(err)
	}
	t.Logf("verdict: violated=%v credit %d bps = %d; report %s", v.Violated, v.CreditBPS, v.CreditAmount, ev.Report)

	t.Run("verdict signed by an unregistered key", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := verdict.Sign(v, key)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(forged)
		c, _ := net.Contract("provider", "refund")
		_, err = c.SubmitTransaction("SettleVerdict", string(raw))
		if err == nil || !strings.Contains(fabnet.ErrorText(err), "verdict: verdict signature does not verify with the enclave key") {
			t.Fatalf("forged verdict: %v", err)
		}
		t.Logf("rejected as expected: %s", fabnet.ErrorText(err))
		if b := balance(t, "client"); b != 1000000-fee {
			t.Fatalf("client balance changed by a forged verdict: %d", b)
		}
	})

	net.MustSubmit(t, "provider", "refund", "SettleVerdict", string(ev.Verdict))
	if c, p := balance(t, "client"), balance(t, "provider"); c != 1000000-fee+30000 || p != fee-30000 {
		t.Fatalf("balances after settlement: client %d provider %d", c, p)
	}

	t.Run("no plaintext on the ledger", func(t *testing.T) { scanLedger(t, id, ev.Report) })
}

func runSetup(ctx context.Context) (*setup.Result, error) {
	opts := setup.Options{Log: os.Stderr}
	gw := setup.NewGateway(net.Info, opts, "")
	defer gw.Close()
	return setup.Run(ctx, net.Info, gw, opts)
}

func asChaincodeError(err error, target **fpcclient.ChaincodeError) bool {
	ce, ok := err.(*fpcclient.ChaincodeError)
	if ok {
		*target = ce
	}
	return ok
}

// tamperedRequest sends __invoke a request whose ciphertext was changed.
func tamperedRequest(t *testing.T, rec *credentials.Record, id string) {
	ek, err := rec.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := protocol.SealRequest(protocol.Request{Function: "GetAgreementStatus", Args: []string{id}}, ek)
	if err != nil {
		t.Fatal(err)
	}
	msg.EncryptedRequest[len(msg.EncryptedRequest)-1] ^= 0x80
	raw, _ := json.Marshal(msg)
	c, _ := net.Contract("provider", "slaenclave")
	_, err = c.EvaluateTransaction(protocol.FnInvoke, string(raw))
	if err == nil {
		t.Fatal("a tampered request was accepted")
	}
	t.Logf("rejected as expected: %s", fabnet.ErrorText(err))
}

// tamperedResponse runs a genuine request, flips a byte of the enclave's
// signature and submits the result to __endorse.
func tamperedResponse(t *testing.T, rec *credentials.Record, id string) {
	ek, err := rec.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := protocol.SealRequest(protocol.Request{Function: "IngestBatch", Args: []string{id, "3", "bafkreifakefakefake"}}, ek)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(msg)
	c, _ := net.Contract("provider", "slaenclave")
	signed, err := c.EvaluateTransaction(protocol.FnInvoke, string(raw))
	if err != nil {
		t.Fatalf("__invoke: %s", fabnet.ErrorText(err))
	}
	var sr protocol.SignedResponse
	if err := json.Unmarshal(signed, &sr); err != nil {
		t.Fatal(err)
	}
	sr.Signature[len(sr.Signature)/2] ^= 0x01
	bad, _ := json.Marshal(&sr)
	before := status(t, id)
	_, err = c.SubmitTransaction(protocol.FnEndorse, string(bad))
	if err == nil {
		t.Fatal("__endorse accepted a response whose signature does not verify")
	}
	t.Logf("rejected as expected: %s", fabnet.ErrorText(err))
	if after := status(t, id); after.LastSeq != before.LastSeq {
		t.Fatalf("state changed: %+v -> %+v", before, after)
	}
}

// scanLedger reads every block of the channel through qscc and looks for the
// log markers and the report's metric values.
// As a control, the SLA id (public: it is in the agreement chaincode's
// arguments) must be found.
func scanLedger(t *testing.T, slaID string, report []byte) {
	markers := []string{markerProbe, fmt.Sprint(markerLatency)}
	var rep any
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatal(err)
	}
	collectValues(rep, &markers)
	if len(markers) < 4 {
		t.Fatalf("the report holds no metric value to look for: %s", report)
	}
	t.Logf("markers: %q", markers)
	h, err := net.Height("provider")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := net.Gateway("provider-admin")
	if err != nil {
		t.Fatal(err)
	}
	qscc := gw.GetNetwork(net.Info.Channel).GetContract("qscc")
	var total, control int
	for n := uint64(0); n < h; n++ {
		block, err := qscc.EvaluateTransaction("GetBlockByNumber", net.Info.Channel, fmt.Sprint(n))
		if err != nil {
			t.Fatalf("block %d: %s", n, fabnet.ErrorText(err))
		}
		total += len(block)
		if bytes.Contains(block, []byte(slaID)) {
			control++
		}
		for _, m := range markers {
			for _, form := range markerForms(m) {
				if bytes.Contains(block, []byte(form)) {
					t.Errorf("block %d holds %q (as %q)", n, m, form)
				}
			}
		}
	}
	if control == 0 {
		t.Fatalf("control: the SLA id %q is in no block; the scan reads nothing useful", slaID)
	}
	t.Logf("scanned %d blocks (%d bytes); the SLA id (control) is in %d of them, no marker is in any", h, total, control)
}

// markerForms are the forms a marker would take on the ledger: itself and,
// for markers of 9 bytes or more (long enough not to match random
// ciphertext), its standard base64 encoding at each of the three byte
// alignments (JSON carries []byte fields in base64), without the edge
// characters that depend on the neighbouring bytes.
func markerForms(m string) []string {
	forms := []string{m}
	if len(m) < 9 {
		return forms
	}
	for k := 0; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), m...))
		start := 0
		if k > 0 {
			start = 4
		}
		forms = append(forms, enc[start:len(enc)-4])
	}
	return forms
}

// collectValues adds the measured metric values of the report (every
// metrics[].value and metrics[].exact) to out. Credits are public by design
// (the verdict is settled on chain) and the objectives are part of the SLA
// document, so neither is a marker.
func collectValues(v any, out *[]string) {
	rep, _ := v.(map[string]any)
	metrics, _ := rep["metrics"].([]any)
	for _, m := range metrics {
		mm, _ := m.(map[string]any)
		for _, k := range []string{"value", "exact"} {
			if s, ok := mm[k].(string); ok && s != "" {
				*out = append(*out, s)
			}
		}
	}
}

// partiesOrgs are the organizations that endorse the enclave transactions of
// the test SLAs (all between ProviderOrg and ClientOrg): exactly the two
// parties', as the monitor names them, never a third organization the
// Gateway might pick for the keys a transaction creates.
var partiesOrgs = []string{"ClientOrgMSP", "ProviderOrgMSP"}
