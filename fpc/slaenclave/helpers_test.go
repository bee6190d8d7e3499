package slaenclave_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	//lint:ignore SA1019 fabric-protos-go v0.3 messages (v1 shim side) are APIv1 messages without ProtoReflect
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-chaincode-go/shim"

	//lint:ignore SA1019 shimtest is the v1 shim's stub double, as in fpc/runtime's tests
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/runtime"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

const (
	channel = "slasa"
	ccName  = "slaenclave"
)

// The enclave services the runtime offers are exactly what the chaincode
// expects.
var _ slaenclave.Services = runtime.Services(nil)

// ---------------------------------------------------------------- test PKI

// ca is a test certificate authority of one MSP.
type ca struct {
	mspID string
	key   *ecdsa.PrivateKey
	cert  *x509.Certificate
	pem   string
	// parent is set for an intermediate CA.
	parent *ca
}

var serial int64

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func certify(t testing.TB, tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, string) {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newCA(t testing.TB, mspID string) *ca {
	t.Helper()
	return newNamedCA(t, mspID, "ca."+mspID)
}

func (c *ca) intermediate(t testing.TB) *ca {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "ica." + c.mspID, Organization: []string{c.mspID}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	cert, p := certify(t, tmpl, &k.PublicKey, c.cert, c.key)
	return &ca{mspID: c.mspID, key: k, cert: cert, pem: p, parent: c}
}

// newNamedCA is a root CA of mspID with the given common name (a foreign CA
// that copies another CA's name has the same DN but another key).
func newNamedCA(t testing.TB, mspID, cn string) *ca {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{mspID}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	c, p := certify(t, tmpl, &k.PublicKey, nil, k)
	return &ca{mspID: mspID, key: k, cert: c, pem: p}
}

// user is an enrolled identity: key, certificate and Fabric creator bytes.
type user struct {
	mspID   string
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	certPEM string
	creator []byte
}

// issue issues a certificate with common name cn and NodeOU role ou (the
// subject's OU, as cryptogen writes it).
func (c *ca) issue(t testing.TB, cn, ou string) *user {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}, Organization: []string{c.mspID}},
		KeyUsage: x509.KeyUsageDigitalSignature}
	cert, p := certify(t, tmpl, &k.PublicKey, c.cert, c.key)
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: c.mspID, IdBytes: []byte(p)})
	if err != nil {
		t.Fatal(err)
	}
	return &user{mspID: c.mspID, key: k, cert: cert, certPEM: p, creator: creator}
}

// id is the user's identity as the SLA names a party.
func (u *user) id() identity.ID { return identity.FromCert(u.mspID, u.cert) }

// party returns the SLA party JSON naming the user.
func (u *user) party(wallet string) string {
	p := map[string]string{"msp_id": u.mspID, "common_name": u.cert.Subject.CommonName,
		"subject": identity.DN(u.cert.Subject), "issuer": identity.DN(u.cert.Issuer)}
	if wallet != "" {
		p["wallet"] = wallet
	}
	raw, _ := json.Marshal(p)
	return string(raw)
}

// ---------------------------------------------------------------- fabric doubles

// shimDouble is the tunneling shim: bytes by CID, as stored by the test.
type shimDouble struct {
	mu    sync.Mutex
	bytes map[string][]byte
}

func (s *shimDouble) put(cid string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes[cid] = b
}

func (s *shimDouble) remove(cid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bytes, cid)
}

func (s *shimDouble) fetch(id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bytes[id]
	if !ok {
		return nil, fmt.Errorf("shim: %s not found", id)
	}
	return b, nil
}

// ---------------------------------------------------------------- fixture

type fixture struct {
	// ledger validates and commits transactions as peers do (endorseTx,
	// commit); f.call runs on its stub directly, committing at once.
	ledger   *fpctest.Ledger
	stub     *shimtest.MockStub
	registry *fpctest.RegistryDouble
	shim     *shimDouble
	cfg      *deploycfg.Config
	record   credentials.Record
	tx       int
	// at, when set, is the timestamp of the next proposals (the enclave's
	// transaction time); else the current time.
	at time.Time
}

// newFixture runs the enclave chaincode with the deploy configuration cfg.
func newFixture(t testing.TB, cfg *deploycfg.Config) *fixture {
	t.Helper()
	f := &fixture{registry: &fpctest.RegistryDouble{Chaincode: ccName}, shim: &shimDouble{bytes: map[string][]byte{}}, cfg: cfg}
	enclave := runtime.NewSimulated(slaenclave.Chaincode{})
	pcc, err := runtime.NewPrivateChaincode(enclave, runtime.WithConfig(cfg), runtime.WithFetcher(f.shim.fetch))
	if err != nil {
		t.Fatal(err)
	}
	f.ledger = fpctest.NewLedger(ccName, channel, pcc, fpctest.AnyOf(2, "ProviderOrgMSP", "ClientOrgMSP", "Org3MSP"))
	f.stub = f.ledger.Stub
	f.stub.MockPeerChaincode("ercc", shimtest.NewMockStub("ercc", f.registry), channel)
	f.stub.MockPeerChaincode("_lifecycle", shimtest.NewMockStub("_lifecycle", fpctest.LifecycleDouble{Chaincode: ccName, Version: "sim-1", Sequence: 1}), channel)
	return f
}

// initEnclave runs __initEnclave as peer admin and registers the enclave
// with the registry double.
func (f *fixture) initEnclave(t testing.TB, admin *user) {
	t.Helper()
	resp := f.call(t, admin, []byte(protocol.FnInitEnclave), []byte(`{"peer_msp_id":"ProviderOrgMSP","endpoint":"127.0.0.1:27100"}`))
	if resp.Status != shim.OK {
		t.Fatalf("__initEnclave: %s", resp.Message)
	}
	creds, data, err := credentials.Parse(resp.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := credentials.VerifySimulated(creds, data); err != nil {
		t.Fatal(err)
	}
	vk, err := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	if err != nil {
		t.Fatal(err)
	}
	id, err := credentials.EnclaveID(vk)
	if err != nil {
		t.Fatal(err)
	}
	f.record = credentials.Record{Chaincode: ccName, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, AttestationType: credentials.AttestationSimulated, ChaincodeVersion: "sim-1", ChaincodeSequence: 1,
		Channel: channel, ConfigDigest: data.ConfigDigest}
	f.registry.Record, _ = json.Marshal(f.record)
}

func (c *user) proposal(t testing.TB, txID string, at time.Time, args ...[]byte) *pb.SignedProposal {
	t.Helper()
	if at.IsZero() {
		at = time.Now()
	}
	sp, err := fpctest.SignedProposal(c.key, c.creator, channel, ccName, txID, at, args...)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func (f *fixture) call(t testing.TB, c *user, args ...[]byte) pb.Response {
	t.Helper()
	f.tx++
	txID := fmt.Sprintf("tx%d", f.tx)
	f.stub.Creator = c.creator
	return f.stub.MockInvokeWithSignedProposal(txID, args, c.proposal(t, txID, f.at, args...))
}

// outcome of one private request.
type outcome struct {
	status  int32
	message string
	payload []byte
	writes  int
}

// submit sends fn(args) encrypted through __invoke, verifies and opens the
// enclave's response and, when the chaincode succeeded, submits it through
// __endorse (the FPC client's flow).
func (f *fixture) submit(t testing.TB, c *user, fn string, args ...string) outcome {
	t.Helper()
	out, signed := f.invokeOnly(t, c, fn, args...)
	if out.status != shim.OK {
		return out
	}
	if e := f.call(t, c, []byte(protocol.FnEndorse), signed); e.Status != shim.OK {
		t.Fatalf("__endorse %s: %s", fn, e.Message)
	}
	return out
}

// invokeOnly sends fn(args) encrypted through __invoke, verifies and opens
// the enclave's response and returns its outcome and the signed response,
// without submitting it through __endorse: nothing is written.
func (f *fixture) invokeOnly(t testing.TB, c *user, fn string, args ...string) (outcome, []byte) {
	t.Helper()
	ek, err := f.record.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, session, err := protocol.SealRequest(protocol.Request{Function: fn, Args: args}, ek)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(msg)
	resp := f.call(t, c, []byte(protocol.FnInvoke), raw)
	if resp.Status != shim.OK {
		t.Fatalf("__invoke %s: %s", fn, resp.Message)
	}
	var sr protocol.SignedResponse
	if err := json.Unmarshal(resp.Payload, &sr); err != nil {
		t.Fatal(err)
	}
	vk, _ := f.record.VerifyingKey()
	r, err := protocol.VerifyResponse(&sr, vk)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.CheckBinding(r, f.record.EnclaveID); err != nil {
		t.Fatal(err)
	}
	res, err := session.OpenResult(r)
	if err != nil {
		t.Fatal(err)
	}
	return outcome{status: res.Status, message: res.Message, payload: res.Payload, writes: len(r.RWSet.Writes)}, resp.Payload
}

// endorseTx sends fn(args) encrypted through __invoke and simulates the
// __endorse of the enclave's response on the ledger, uncommitted: commit
// it with the endorsing organizations of your choice.
func (f *fixture) endorseTx(t testing.TB, c *user, fn string, args ...string) *fpctest.Tx {
	t.Helper()
	ek, err := f.record.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, session, err := protocol.SealRequest(protocol.Request{Function: fn, Args: args}, ek)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(msg)
	resp := f.call(t, c, []byte(protocol.FnInvoke), raw)
	if resp.Status != shim.OK {
		t.Fatalf("__invoke %s: %s", fn, resp.Message)
	}
	var sr protocol.SignedResponse
	_ = json.Unmarshal(resp.Payload, &sr)
	vk, _ := f.record.VerifyingKey()
	r, err := protocol.VerifyResponse(&sr, vk)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := session.OpenResult(r); err != nil || res.Status != shim.OK {
		t.Fatalf("%s: %v %+v", fn, err, res)
	}
	f.tx++
	txID := fmt.Sprintf("tx%d", f.tx)
	args2 := [][]byte{[]byte(protocol.FnEndorse), resp.Payload}
	tx := f.ledger.Simulate(txID, c.creator, c.proposal(t, txID, f.at, args2...), args2)
	if tx.Response.Status != shim.OK {
		t.Fatalf("__endorse %s: %s", fn, tx.Response.Message)
	}
	return tx
}

// commit validates tx as endorsed by the peers of orgs and requires the
// validation code want.
func (f *fixture) commit(t testing.TB, tx *fpctest.Tx, want string, orgs ...string) {
	t.Helper()
	code, err := f.ledger.Commit(tx, orgs)
	if err != nil || code != want {
		t.Fatalf("commit endorsed by %v: %s %v, want %s", orgs, code, err, want)
	}
}

// must submits and fails the test unless the chaincode succeeded.
func (f *fixture) must(t testing.TB, c *user, fn string, args ...string) []byte {
	t.Helper()
	o := f.submit(t, c, fn, args...)
	if o.status != shim.OK {
		t.Fatalf("%s: %s", fn, o.message)
	}
	return o.payload
}

// reject submits a request that must fail with an error containing want
// and change nothing.
func (f *fixture) reject(t testing.TB, c *user, want string, fn string, args ...string) {
	t.Helper()
	before := f.snapshot()
	o := f.submit(t, c, fn, args...)
	if o.status == shim.OK {
		t.Fatalf("%s succeeded; want an error containing %q", fn, want)
	}
	if !strings.Contains(o.message, want) {
		t.Fatalf("%s error:\n  %s\nwant it to contain:\n  %s", fn, o.message, want)
	}
	f.checkRefusal(t, fn, o, before)
	t.Logf("%s rejected: %s", fn, o.message)
}

// checkRefusal checks what the project asks of every refused request: its
// message names the function and gives a reason, the enclave's response
// carries no writes, and the world state is still before.
func (f *fixture) checkRefusal(t testing.TB, fn string, o outcome, before map[string]string) {
	t.Helper()
	if !strings.HasPrefix(o.message, fn+": ") || strings.TrimSpace(strings.TrimPrefix(o.message, fn+": ")) == "" {
		t.Fatalf("%s error %q does not name the function and a reason", fn, o.message)
	}
	if o.writes != 0 {
		t.Fatalf("%s: a failed request carries %d writes", fn, o.writes)
	}
	if after := f.snapshot(); !fpctest.SameState(before, after) {
		t.Fatalf("%s: state changed by a rejected request", fn)
	}
}

func (f *fixture) snapshot() map[string]string { return fpctest.Snapshot(f.stub) }

// ---------------------------------------------------------------- SLA and batches

// slaDoc returns an SLA document between provider, client and logger with a
// billing cycle of 300 s from start, three zones, 5 s sampling and 10 s
// sub-intervals; the region is down in a sub-interval when two zones fail.
func slaDoc(provider, client, logger *user, id string, start, end time.Time, title string) []byte {
	return fmt.Appendf(nil, `{
  "schema_version": "slasa.sla/v1",
  "id": %q,
  "nonce": "5e1a7c0ffee0ddba11ad5eedc0ffee00",
  "title": %q,
  "service": {"product_id": "compute-region", "name": "Compute region"},
  "parties": {"provider": %s, "client": %s, "logger": %s},
  "price": {"amount_minor": 123457, "currency": "USD"},
  "validity": {"start": %q, "end": %q},
  "interval": {"billing_cycle": {"unit": "seconds", "seconds": 300}, "time_zone": "UTC", "sampling_period_ms": 5000, "sub_interval_seconds": 10},
  "monitoring": {"zones": [
    {"id": "zone-a", "region": "region-1"}, {"id": "zone-b", "region": "region-1"}, {"id": "zone-c", "region": "region-1"}]},
  "metrics": [{
    "id": "availability", "name": "Uptime", "unit": "percent",
    "driver": {"id": "availability", "version": "1"},
    "objective": {"operator": ">=", "target": "99.9"},
    "parameters": {},
    "rules": {
      "valid": [{"measurement": "ok", "op": "present"}],
      "failure": [{"measurement": "ok", "op": "==", "value": 0}],
      "zone_down_bps": 10000, "min_zones_down": 2, "min_samples": 1, "missing_data": "excluded"}
  }],
  "consequences": {
    "credit_tiers": [
      {"metric": "availability", "worse_than": "99.9", "credit_bps": 1000},
      {"metric": "availability", "worse_than": "99.0", "credit_bps": 2500},
      {"metric": "availability", "worse_than": "95.0", "credit_bps": 10000}],
    "max_credit_bps": 10000,
    "penalties": [{"metric": "availability", "amount_minor": 500}],
    "termination": {"metric": "availability", "worse_than": "90"}
  }
}`, id, title, provider.party("provider"), client.party("client"), logger.party(""), start.Format(time.RFC3339), end.Format(time.RFC3339))
}

// signRecord builds a signed SLA record; a nil signer leaves that
// signature out.
func signRecord(t testing.TB, doc []byte, provider, client *user) []byte {
	t.Helper()
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	rec := signedsla.Record{Version: signedsla.Version, Document: doc, Digest: hex.EncodeToString(d[:]),
		Provider: signedsla.Signature{MSPID: provider.mspID, Certificate: provider.certPEM},
		Client:   signedsla.Signature{MSPID: client.mspID, Certificate: client.certPEM}}
	if provider.key != nil {
		if rec.Provider.Signature, err = signedsla.Sign(d, provider.key); err != nil {
			t.Fatal(err)
		}
	}
	if client.key != nil {
		if rec.Client.Signature, err = signedsla.Sign(d, client.key); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// line is one log record.
func line(at time.Time, probe, zone string, ok bool, latency int64) string {
	return fmt.Sprintf(`{"time":%q,"source":{"probe":%q,"zone":%q,"region":"region-1"},"measurements":{"ok":%t,"latency_ms":%d}}`,
		at.UTC().Format("2006-01-02T15:04:05.000Z"), probe, zone, ok, latency) + "\n"
}

// batch seals a batch to the enclave, stores it in the shim double and
// returns its CID; its record count is the number of records.
func (f *fixture) batch(t testing.TB, logger *user, h logbatch.Header, records string) string {
	t.Helper()
	return f.batchCounted(t, logger, h, records, int64(strings.Count(records, "\n")))
}

// batchCounted is batch with the record count as given.
func (f *fixture) batchCounted(t testing.TB, logger *user, h logbatch.Header, records string, count int64) string {
	t.Helper()
	ek, err := f.record.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	data, err := logbatch.Seal(h, []byte(records), count, ek, logger.certPEM, logger.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cidverify.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	f.shim.put(c.String(), data)
	return c.String()
}
