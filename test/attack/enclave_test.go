//go:build integration

package attack

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	shell "github.com/ipfs/go-ipfs-api"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

var randReader = rand.Reader

// enclaveKey is a key pair an enclave would make: the verifying key that
// signs responses and verdicts, and the chaincode encryption key.
type enclaveKey struct {
	sign *ecdsa.PrivateKey
	ek   *rsa.PrivateKey
}

func newEnclaveKey(t *testing.T) *enclaveKey {
	t.Helper()
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &enclaveKey{sign: sk, ek: ek}
}

func (k *enclaveKey) id(t *testing.T) string {
	t.Helper()
	id, err := verdict.EnclaveIDOf(&k.sign.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enclaveCredentials are simulated credentials for k as the enclave of the
// committed slaenclave definition, hosted by hostMSP, initialised with the
// organizations' deploy configuration: everything right but who registers
// them (in simulated mode the evidence proves only that the key is held).
func enclaveCredentials(t *testing.T, k *enclaveKey, hostMSP string) string {
	t.Helper()
	info, err := fabnet.Load(nw.RunDir())
	if err != nil {
		t.Fatal(err)
	}
	dep, ok := info.Chaincodes["slaenclave"]
	if !ok {
		t.Fatal("slaenclave is not deployed")
	}
	cfg, err := nw.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	vk, err := credentials.MarshalPublicKey(&k.sign.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := credentials.MarshalPublicKey(&k.ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := credentials.NewSimulated(credentials.AttestedData{
		Channel: info.Channel, Chaincode: "slaenclave", ChaincodeVersion: fmt.Sprint(dep.Sequence), ChaincodeSequence: int64(dep.Sequence),
		PeerMSPID: hostMSP, Endpoint: "127.0.0.1:1", EnclaveVK: vk, ChaincodeEK: ek, ConfigDigest: digest,
	}, k.sign)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// hostEnclaveKey reads the signing key of the host's SIMULATED enclave from
// its seal file: in simulated mode the host holds the key, which is why a
// simulated enclave is for development only. The suite uses it to sign
// verdicts the real enclave would sign.
func hostEnclaveKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(nw.RunDir(), "orgs", "provider", "enclave", "slaenclave-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sealed struct {
		SignKey []byte `json:"sign_key"`
	}
	if err := json.Unmarshal(raw, &sealed); err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(sealed.SignKey)
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("sealed signing key is a %T", k)
	}
	id, err := verdict.EnclaveIDOf(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if cur := hostEnclaveID(t); cur != id {
		t.Fatalf("the sealed key is enclave %s, the registry's current enclave is %s", id, cur)
	}
	return ec
}

// hostEnclaveID is the registry's current enclave of slaenclave.
func hostEnclaveID(t *testing.T) string {
	t.Helper()
	var rec credentials.Record
	raw := read(provider, "ercc", "QueryEnclave", "slaenclave")
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatalf("QueryEnclave: %s", raw)
	}
	return rec.EnclaveID
}

// pinnedEnclave is the enclave id the SLA is pinned to.
func pinnedEnclave(t *testing.T, id string) string {
	t.Helper()
	var ag struct {
		Enclave struct {
			EnclaveID string `json:"enclave_id"`
		} `json:"enclave"`
	}
	raw := readSLA(provider, id)
	if err := json.Unmarshal([]byte(raw), &ag); err != nil {
		t.Fatalf("GetSLA %s: %s", id, raw)
	}
	return ag.Enclave.EnclaveID
}

// pinAttacks: once SLA a is pinned to enclave k1, a verdict signed by any
// other key is refused, even by a key the host's admin registered as the
// chaincode's new enclave; a handover needs both parties, after which the
// old key is refused.
func pinAttacks(t *testing.T, a *testSLA, k1 *ecdsa.PrivateKey) {
	id1, err := verdict.EnclaveIDOf(&k1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k2 := newEnclaveKey(t)
	id2 := k2.id(t)
	// The host's admin registers a new key: the registry's current enclave.
	must(t, providerAdmin, "ercc", "RegisterEnclave", enclaveCredentials(t, k2, "ProviderOrgMSP"))
	if cur := hostEnclaveID(t); cur != id2 {
		t.Fatalf("current enclave %s after registering %s", cur, id2)
	}
	startA2 := a.start.Add(period * time.Second)
	endA2 := startA2.Add(period * time.Second)
	waitUntil(t, endA2.Add(time.Second))
	a.anchor(t, 2, cidOf("a-2"), startA2, endA2)

	notPinned := func(id, pinned string) string {
		return fmt.Sprintf("verdict.enclave_id: %s is not the enclave %s pinned by SLA %q", id, pinned, a.id)
	}
	t.Run("settle a verdict signed by a key other than the pinned enclave", func(t *testing.T) {
		v := a.verdict(t, k2.sign, startA2, 2, cidOf("a-2"))
		for _, who := range []string{provider, client} {
			refused(t, func() error { return submit(who, "refund", "SettleVerdict", v) }, notPinned(id2, id1))
		}
		// Naming the pinned enclave does not help a verdict another key signed.
		forged := a.verdictAs(t, k2.sign, id1, startA2, 2, cidOf("a-2"))
		refused(t, func() error { return submit(client, "refund", "SettleVerdict", forged) }, "verdict: verdict signature does not verify with the enclave key")
	})
	t.Run("hand over with one party's approval only", func(t *testing.T) {
		mustSLA(t, provider, a, false, "ApproveEnclaveHandover", a.id, id2)
		if p := pinnedEnclave(t, a.id); p != id1 {
			t.Fatalf("one approval moved the pin to %s", p)
		}
		v := a.verdict(t, k2.sign, startA2, 2, cidOf("a-2"))
		refused(t, func() error { return submit(provider, "refund", "SettleVerdict", v) }, notPinned(id2, id1))
		refused(t, func() error { return submit(other, "agreement", "ApproveEnclaveHandover", a.id, id2) },
			fmt.Sprintf("only the SLA's provider or client may approve an enclave handover of SLA %q", a.id))
	})
	mustSLA(t, client, a, false, "ApproveEnclaveHandover", a.id, id2)
	if p := pinnedEnclave(t, a.id); p != id2 {
		t.Fatalf("both approvals left the pin at %s", p)
	}
	t.Run("settle with the old key after a handover", func(t *testing.T) {
		v := a.verdict(t, k1, startA2, 2, cidOf("a-2"))
		for _, who := range []string{provider, client} {
			refused(t, func() error { return submit(who, "refund", "SettleVerdict", v) }, notPinned(id1, id2))
		}
	})
	// The new pin's verdict is paid.
	must(t, client, "refund", "SettleVerdict", a.verdict(t, k2.sign, startA2, 2, cidOf("a-2")))
	w.conserved(t)
}

// shimProxy stands between the enclave host and the network's tunneling
// shim: honest, or answering every batch with an older batch's bytes, or
// withholding every batch.
type shimProxy struct {
	srv      *httptest.Server
	upstream string
	mode     atomic.Value // "honest", "older", "withhold"
	mu       sync.Mutex
	older    []byte
	served   atomic.Int32
}

func newShimProxy(t *testing.T) *shimProxy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(nw.RunDir(), "shim-url"))
	if err != nil {
		t.Fatal(err)
	}
	p := &shimProxy{upstream: strings.TrimSpace(string(raw))}
	p.mode.Store("honest")
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *shimProxy) URL() string { return p.srv.URL }

func (p *shimProxy) serve(w http.ResponseWriter, r *http.Request) {
	batch := strings.HasPrefix(r.URL.Path, "/v1/batches/")
	switch mode := p.mode.Load().(string); {
	case batch && mode == "withhold":
		p.served.Add(1)
		http.Error(w, "not found", http.StatusNotFound)
		return
	case batch && mode == "older":
		p.served.Add(1)
		p.mu.Lock()
		body := p.older
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
		return
	}
	resp, err := http.Get(p.upstream + r.URL.RequestURI())
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
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// redeployEnclave deploys slaenclave again (sequence + 1) with the enclave
// host fetching batches through shimURL.
func redeployEnclave(t *testing.T, shimURL string) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "network", "deploy.sh"), "slaenclave")
	cmd.Dir = root
	cmd.Env = append(nw.Env(), "SLASA_SHIM_URL_OVERRIDE="+shimURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redeploy slaenclave: %v\n%s", err, out)
	}
}

func enclaveClient(t *testing.T, who string) *fpcclient.Client {
	t.Helper()
	gw, err := nw.Gateway(who)
	if err != nil {
		t.Fatal(err)
	}
	return fpcclient.New(gw.GetNetwork(nw.Info.Channel), "slaenclave")
}

// records are one sample per zone and second of [from, to), all up.
func records(from, to time.Time) ([]byte, int64) {
	var buf bytes.Buffer
	var n int64
	for ts := from; ts.Before(to); ts = ts.Add(time.Second) {
		for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
			fmt.Fprintf(&buf, `{"time":%q,"source":{"probe":"probe-%s","zone":%q,"region":"region-1"},"measurements":{"ok":true}}`+"\n",
				ts.Add(time.Duration(i)*100*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), zone, zone)
			n++
		}
	}
	return buf.Bytes(), n
}

// batch is a sealed log batch of an SLA, stored in the network's IPFS node.
type batch struct {
	h     logbatch.Header
	bytes []byte
	cid   string
}

// sealBatch seals batch seq of s for window [from, to), signed with the
// certificate and key given (the logger's, or an impostor's).
func sealBatch(t *testing.T, s *testSLA, seq int64, prev string, from, to time.Time, certPEM string, key *ecdsa.PrivateKey) batch {
	t.Helper()
	var rec credentials.Record
	raw := read(provider, "ercc", "QueryEnclave", "slaenclave")
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatalf("QueryEnclave: %s", raw)
	}
	ek, err := rec.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	recs, n := records(from, to)
	h := logbatch.Header{SLAID: s.id, Seq: seq, PrevCID: prev, WindowStart: rfc(from), WindowEnd: rfc(to)}
	b, err := logbatch.Seal(h, recs, n, ek, certPEM, key)
	if err != nil {
		t.Fatal(err)
	}
	api, err := os.ReadFile(filepath.Join(nw.RunDir(), "ipfs", "api"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := shell.NewShell(strings.TrimSpace(string(api))).Add(bytes.NewReader(b), shell.CidVersion(1), shell.RawLeaves(true), shell.Pin(true))
	if err != nil {
		t.Fatalf("ipfs add: %v", err)
	}
	return batch{h: h, bytes: b, cid: c}
}

// impostorLogger makes a certificate with exactly the logger's subject and
// issuer names, from a CA the organizations never approved: the one thing it
// cannot fake is the chain to ProviderOrg's approved root.
func impostorLogger(t *testing.T) (string, *ecdsa.PrivateKey) {
	t.Helper()
	realPEM, _ := nw.UserKey(t, logger)
	real, err := signedsla.ParseCertificatePEM([]byte(realPEM))
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: real.Issuer, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: real.Subject, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return signedsla.CertificatePEM(cert), key
}

// ingest submits IngestBatch through the enclave as who.
func ingest(t *testing.T, who string, s *testSLA, b batch) error {
	t.Helper()
	_, _, err := enclaveClient(t, who).SubmitEndorsedBy(context.Background(), partiesOrgs, "IngestBatch", s.id, fmt.Sprint(b.h.Seq), b.cid)
	return err
}

// enclaveAttacks: the enclave takes only batches the SLA's logger signed with
// a certificate of an approved CA, for that SLA, in chain order, and only the
// bytes the CID names, whatever the shim or the host answers.
func enclaveAttacks(t *testing.T, shim *shimProxy) {
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second).Add(12 * time.Second)
	e := newSLA(t, "attack-e", start)
	f := newSLA(t, "attack-f", start)
	for _, s := range []*testSLA{e, f} {
		s.propose(t)
		s.accept(t)
		var ag struct {
			Signed json.RawMessage `json:"signed"`
		}
		if err := json.Unmarshal([]byte(readSLA(provider, s.id)), &ag); err != nil {
			t.Fatal(err)
		}
		if _, _, err := enclaveClient(t, provider).SubmitEndorsedBy(ctx, partiesOrgs, "RegisterAgreement", string(ag.Signed)); err != nil {
			t.Fatalf("RegisterAgreement %s: %s", s.id, fabnet.ErrorText(err))
		}
	}
	w.enclaveSLAs = append(w.enclaveSLAs, e.id, f.id)

	third := period / 3 * time.Second
	waitUntil(t, start.Add(third).Add(time.Second))
	loggerPEM, loggerKey := nw.UserKey(t, logger)
	e1 := sealBatch(t, e, 1, "", start, start.Add(third), loggerPEM, loggerKey)
	e.anchor(t, 1, e1.cid, start, start.Add(third))
	if err := ingest(t, provider, e, e1); err != nil {
		t.Fatalf("IngestBatch %s #1: %s", e.id, fabnet.ErrorText(err))
	}
	waitUntil(t, start.Add(2*third).Add(time.Second))

	t.Run("feed the enclave a batch signed by a CA that was not approved", func(t *testing.T) {
		impPEM, impKey := impostorLogger(t)
		forged := sealBatch(t, e, 2, e1.cid, start.Add(third), start.Add(2*third), impPEM, impKey)
		for _, who := range []string{other, provider} {
			refused(t, func() error { return ingest(t, who, e, forged) },
				"is not signed by the SLA's logger", `does not chain to the roots of MSP "ProviderOrgMSP"`)
		}
	})
	t.Run("feed the enclave a batch of another SLA", func(t *testing.T) {
		fb := sealBatch(t, f, 1, "", start, start.Add(third), loggerPEM, loggerKey)
		fb.h.Seq = 2 // submitted as E's next batch
		refused(t, func() error {
			_, _, err := enclaveClient(t, provider).SubmitEndorsedBy(ctx, partiesOrgs, "IngestBatch", e.id, "2", fb.cid)
			return err
		}, fmt.Sprintf("header.sla_id %q is not the requested SLA %q", f.id, e.id))
	})

	e2 := sealBatch(t, e, 2, e1.cid, start.Add(third), start.Add(2*third), loggerPEM, loggerKey)
	t.Run("the shim answers with an older batch", func(t *testing.T) {
		shim.mu.Lock()
		shim.older = e1.bytes
		shim.mu.Unlock()
		shim.mode.Store("older")
		defer shim.mode.Store("honest")
		before := shim.served.Load()
		refused(t, func() error { return ingest(t, provider, e, e2) }, "batch bytes do not match cid "+e2.cid)
		if shim.served.Load() == before {
			t.Fatal("the enclave did not fetch through the lying shim")
		}
	})
	t.Run("the shim withholds a batch", func(t *testing.T) {
		shim.mode.Store("withhold")
		defer shim.mode.Store("honest")
		refused(t, func() error { return ingest(t, provider, e, e2) }, "fetch batch "+e2.cid+" through the tunneling shim")
	})
	end := start.Add(period * time.Second)
	waitUntil(t, end.Add(time.Second))
	e3 := sealBatch(t, e, 3, e2.cid, start.Add(2*third), end, loggerPEM, loggerKey)
	t.Run("batches in another order", func(t *testing.T) {
		refused(t, func() error { return ingest(t, provider, e, e3) }, "seq: got 3, expected 2")
	})

	// Honest intake: the period is complete, evaluated and settled.
	e.anchor(t, 2, e2.cid, start.Add(third), start.Add(2*third))
	e.anchor(t, 3, e3.cid, start.Add(2*third), end)
	for _, b := range []batch{e2, e3} {
		if err := ingest(t, provider, e, b); err != nil {
			t.Fatalf("IngestBatch %s #%d: %s", e.id, b.h.Seq, fabnet.ErrorText(err))
		}
	}
	out, _, err := enclaveClient(t, client).SubmitEndorsedBy(ctx, partiesOrgs, "Evaluate", e.id, rfc(start))
	if err != nil {
		t.Fatalf("Evaluate: %s", fabnet.ErrorText(err))
	}
	var ev struct {
		Verdict json.RawMessage `json:"verdict"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	var settled struct {
		Violated bool   `json:"violated"`
		Credit   int64  `json:"credit"`
		BatchSeq int64  `json:"batch_seq"`
		BatchCID string `json:"batch_cid"`
	}
	if err := json.Unmarshal(must(t, provider, "refund", "SettleVerdict", string(ev.Verdict)), &settled); err != nil {
		t.Fatal(err)
	}
	if settled.Violated || settled.Credit != 0 || settled.BatchSeq != 3 || settled.BatchCID != e3.cid {
		t.Fatalf("settlement of a period without outage: %+v", settled)
	}
	w.conserved(t)
}

// partiesOrgs are the organizations that endorse the enclave transactions of
// the test SLAs (all between ProviderOrg and ClientOrg): exactly the two
// parties', as the monitor names them, never a third organization the
// Gateway might pick for the keys a transaction creates.
var partiesOrgs = []string{"ClientOrgMSP", "ProviderOrgMSP"}
