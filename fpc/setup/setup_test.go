package setup

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
)

// digest is the deploy configuration digest the fake enclave attests.
var digest = strings.Repeat("5e", 32)

// fakeBackend is an in-memory registry and enclave with the semantics of ercc
// and slaenclave that Run relies on.
type fakeBackend struct {
	record      *credentials.Record
	sequence    int64
	key         *ecdsa.PrivateKey
	ek          *rsa.PrivateKey
	refuseSame  bool // ercc refuses the same enclave id again
	registers   int
	lagQueries  int // RegisteredEnclave through "client" lags this many times
	clientCalls int
	initHost    string
}

func (f *fakeBackend) lag(org string) bool {
	if org == "client" && f.clientCalls < f.lagQueries {
		f.clientCalls++
		return true
	}
	return false
}

func (f *fakeBackend) InitEnclave(_ context.Context, peerMSPID, endpoint string) ([]byte, error) {
	f.initHost = peerMSPID
	vk, err := credentials.MarshalPublicKey(&f.key.PublicKey)
	if err != nil {
		return nil, err
	}
	ek, err := credentials.MarshalPublicKey(&f.ek.PublicKey)
	if err != nil {
		return nil, err
	}
	c, err := credentials.NewSimulated(credentials.AttestedData{Channel: "slasa", Chaincode: "slaenclave",
		ChaincodeVersion: "1", ChaincodeSequence: f.sequence, PeerMSPID: peerMSPID, Endpoint: endpoint,
		EnclaveVK: vk, ChaincodeEK: ek, ConfigDigest: digest}, f.key)
	if err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

func (f *fakeBackend) RegisteredEnclave(_ context.Context, org string) (*credentials.Record, error) {
	if f.lag(org) {
		return nil, nil
	}
	return f.record, nil
}

func (f *fakeBackend) RegisterEnclave(_ context.Context, raw []byte) (*credentials.Record, error) {
	c, d, err := credentials.Parse(raw)
	if err != nil {
		return nil, err
	}
	id, err := credentials.EnclaveID(&f.key.PublicKey)
	if err != nil {
		return nil, err
	}
	if f.record != nil && f.record.EnclaveID == id && f.refuseSame {
		return nil, errors.New("enclave " + id + " is already registered for chaincode \"slaenclave\"")
	}
	f.registers++
	f.record = &credentials.Record{Chaincode: d.Chaincode, EnclaveID: id, PeerMSPID: d.PeerMSPID, Endpoint: d.Endpoint,
		AttestationType: c.Attestation.Type, ChaincodeVersion: d.ChaincodeVersion, ChaincodeSequence: d.ChaincodeSequence, Channel: d.Channel,
		ConfigDigest: d.ConfigDigest, RegisteredBy: "ProviderOrgMSP/CN=Admin@providerorg.slasa.local"}
	return f.record, nil
}

// writeMSP writes a self-signed CA certificate into dir/cacerts.
func writeMSP(t *testing.T, dir, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cacerts"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cacerts", "ca-cert.pem"), p, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testInfo(t *testing.T) *fabnet.Info {
	t.Helper()
	root := t.TempDir()
	info := &fabnet.Info{Channel: "slasa", Orgs: map[string]fabnet.Org{}, Chaincodes: map[string]fabnet.Deployment{
		"ercc":       {Name: "ercc", Address: "127.0.0.1:1"},
		"slaenclave": {Name: "slaenclave", Address: "127.0.0.1:2"},
	}}
	for _, o := range []struct{ key, msp, gatewayOf string }{
		{"provider", "ProviderOrgMSP", ""}, {"client", "ClientOrgMSP", ""}, {"other", "OtherOrgMSP", "client"},
	} {
		dir := filepath.Join(root, o.key, "msp")
		writeMSP(t, dir, o.key+" CA")
		info.Orgs[o.key] = fabnet.Org{MSPID: o.msp, MSPDir: dir, GatewayOf: o.gatewayOf}
	}
	return info
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFake(t *testing.T) *fakeBackend {
	t.Helper()
	ek, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeBackend{key: newKey(t), ek: ek, sequence: 1}
}

func TestRunIdempotent(t *testing.T) {
	info := testInfo(t)
	f := newFake(t)
	f.lagQueries = 3
	ctx := context.Background()
	opts := Options{SyncTimeout: 5 * time.Second}
	res, err := Run(ctx, info, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Registered || res.ConfigDigest != digest || f.initHost != "ProviderOrgMSP" {
		t.Fatalf("first run: %+v (init on %s)", res, f.initHost)
	}
	if res.Record.Endpoint != "127.0.0.1:2" || res.Record.PeerMSPID != "ProviderOrgMSP" || res.Record.ConfigDigest != digest {
		t.Fatalf("record %+v", res.Record)
	}

	res, err = Run(ctx, info, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered || f.registers != 1 {
		t.Fatalf("second run changed something: %+v (registers %d)", res, f.registers)
	}

	// A redeploy bumps the sequence: the same enclave registers again.
	f.sequence = 2
	res, err = Run(ctx, info, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Registered || res.Record.ChaincodeSequence != 2 || f.registers != 2 {
		t.Fatalf("after redeploy: %+v", res)
	}

	// A registry that refuses the same enclave id again: note, no failure.
	f.sequence, f.refuseSame = 3, true
	res, err = Run(ctx, info, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered || res.Record.ChaincodeSequence != 2 || len(res.Notes) != 1 {
		t.Fatalf("refused re-registration: %+v", res)
	}

	// A restarted enclave with a new key registers as the new current one.
	f.key = newKey(t)
	res, err = Run(ctx, info, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := credentials.EnclaveID(&f.key.PublicKey); !res.Registered || res.Record.EnclaveID != id {
		t.Fatalf("new key: %+v", res)
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		edit    func(*fabnet.Info, *Options)
		wantErr string
	}{
		{"unknown host org", func(_ *fabnet.Info, o *Options) { o.HostOrg = "nope" }, `host organization "nope"`},
		{"host without peer", func(_ *fabnet.Info, o *Options) { o.HostOrg = "other" }, "has no peer of its own"},
		{"enclave not deployed", func(i *fabnet.Info, _ *Options) { delete(i.Chaincodes, "slaenclave") }, `chaincode "slaenclave": not deployed`},
		{"registry not deployed", func(i *fabnet.Info, _ *Options) { delete(i.Chaincodes, "ercc") }, `registry "ercc": not deployed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := testInfo(t)
			opts := Options{SyncTimeout: time.Second}
			tt.edit(info, &opts)
			_, err := Run(ctx, info, newFake(t), opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		prev *credentials.Record
		seq  int64
		want Action
	}{
		{"none", nil, 1, ActionRegister},
		{"same enclave same sequence", &credentials.Record{EnclaveID: "A", ChaincodeSequence: 1}, 1, ActionSkip},
		{"same enclave newer sequence", &credentials.Record{EnclaveID: "A", ChaincodeSequence: 1}, 2, ActionRegister},
		{"other enclave", &credentials.Record{EnclaveID: "B", ChaincodeSequence: 1}, 1, ActionRegister},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.prev, "A", tt.seq); got != tt.want {
				t.Fatalf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChannelMSPs(t *testing.T) {
	info := testInfo(t)
	msps, err := ChannelMSPs(info)
	if err != nil || len(msps) != 3 || len(msps["OtherOrgMSP"].Roots) != 1 {
		t.Fatalf("ChannelMSPs = %+v, %v", msps, err)
	}
	o := info.Orgs["client"]
	o.MSPDir = ""
	info.Orgs["client"] = o
	if _, err := ChannelMSPs(info); err == nil || !strings.Contains(err.Error(), "orgs.client.mspDir: missing") {
		t.Fatalf("missing MSP folder: %v", err)
	}
	o.MSPDir = t.TempDir()
	info.Orgs["client"] = o
	if _, err := ChannelMSPs(info); err == nil || !strings.Contains(err.Error(), "MSP folder") {
		t.Fatalf("empty MSP folder: %v", err)
	}
}

func TestReadMSPDir(t *testing.T) {
	dir := t.TempDir()
	writeMSP(t, dir, "root")
	if err := os.MkdirAll(filepath.Join(dir, "intermediatecerts"), 0o755); err != nil {
		t.Fatal(err)
	}
	cas, err := ReadMSPDir(dir)
	if err != nil || len(cas.Roots) != 1 || len(cas.Intermediates) != 0 {
		t.Fatalf("ReadMSPDir = %+v, %v", cas, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "intermediatecerts", "x.pem"), []byte("not a cert"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMSPDir(dir); err == nil || !strings.Contains(err.Error(), "not a PEM certificate") {
		t.Fatalf("err = %v", err)
	}
}

func TestAttestationLabel(t *testing.T) {
	if got := AttestationLabel(credentials.AttestationSimulated); !strings.Contains(got, "SIMULATED") {
		t.Fatalf("label %q does not say SIMULATED", got)
	}
	if got := AttestationLabel("dcap"); got != "dcap" {
		t.Fatalf("label %q", got)
	}
}
