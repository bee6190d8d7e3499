package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer/lifecycle"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabricfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// world is an in-memory ledger wired into a fake stub, with a committed
// chaincode definition served by a fake _lifecycle.
type world struct {
	state   map[string][]byte
	stub    *fabricfake.ChaincodeStub
	id      *fabricfake.ClientIdentity
	ctx     *fabricfake.TransactionContext
	defVer  string
	defSeq  int64
	defMiss bool
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{state: map[string][]byte{}, stub: &fabricfake.ChaincodeStub{}, id: &fabricfake.ClientIdentity{},
		ctx: &fabricfake.TransactionContext{}, defVer: "sim-1", defSeq: 1}
	w.stub.GetStateStub = func(k string) ([]byte, error) { return w.state[k], nil }
	w.stub.PutStateStub = func(k string, v []byte) error { w.state[k] = v; return nil }
	w.stub.CreateCompositeKeyStub = func(typ string, attrs []string) (string, error) {
		return "\x00" + typ + "\x00" + strings.Join(attrs, "\x00") + "\x00", nil
	}
	w.stub.GetChannelIDReturns("slasa")
	w.stub.GetTxIDReturns("tx1")
	w.stub.GetTxTimestampReturns(timestamppb.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), nil)
	w.stub.InvokeChaincodeStub = func(name string, args [][]byte, channel string) *peer.Response {
		if name != "_lifecycle" || string(args[0]) != "QueryChaincodeDefinition" || channel != "slasa" {
			return &peer.Response{Status: 500, Message: "unexpected call"}
		}
		var q lifecycle.QueryChaincodeDefinitionArgs
		if err := proto.Unmarshal(args[1], &q); err != nil || q.Name != "slaenclave" || w.defMiss {
			return &peer.Response{Status: 500, Message: "namespace " + q.Name + " is not defined"}
		}
		payload, _ := proto.Marshal(&lifecycle.QueryChaincodeDefinitionResult{Version: w.defVer, Sequence: w.defSeq})
		return &peer.Response{Status: 200, Payload: payload}
	}
	w.ctx.GetStubReturns(w.stub)
	w.ctx.GetClientIdentityReturns(w.id)
	w.as("ProviderOrgMSP", "Admin@providerorg.slasa.local", "admin")
	return w
}

func (w *world) as(msp, cn, ou string) {
	w.id.GetMSPIDReturns(msp, nil)
	w.id.GetX509CertificateReturns(&x509.Certificate{Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}}}, nil)
}

type enclave struct {
	key  *ecdsa.PrivateKey
	data credentials.AttestedData
}

func newEnclave(t *testing.T) enclave {
	t.Helper()
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := credentials.MarshalPublicKey(&sk.PublicKey)
	ekPEM, _ := credentials.MarshalPublicKey(&ek.PublicKey)
	return enclave{sk, credentials.AttestedData{Channel: "slasa", Chaincode: "slaenclave", ChaincodeVersion: "sim-1",
		ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP", Endpoint: "127.0.0.1:27100", EnclaveVK: vk, ChaincodeEK: ekPEM}}
}

func (e enclave) creds(t *testing.T, mutate func(*credentials.AttestedData)) string {
	t.Helper()
	d := e.data
	if mutate != nil {
		mutate(&d)
	}
	c, err := credentials.NewSimulated(d, e.key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	return string(raw)
}

func configured(t *testing.T, mode string) *world {
	t.Helper()
	w := newWorld(t)
	if err := (&Contract{}).Configure(w.ctx, mode); err != nil {
		t.Fatal(err)
	}
	w.as("ProviderOrgMSP", "peer0.providerorg.slasa.local", "client")
	return w
}

func TestConfigure(t *testing.T) {
	c := &Contract{}
	w := newWorld(t)
	if err := c.Configure(w.ctx, "production"); err == nil || !strings.Contains(err.Error(), "mode:") {
		t.Fatalf("bad mode: %v", err)
	}
	w.as("ClientOrgMSP", "client@clientorg.slasa.local", "client")
	if err := c.Configure(w.ctx, ModeSimulated); err == nil || !strings.Contains(err.Error(), "is not an organization admin") {
		t.Fatalf("non-admin: %v", err)
	}
	if len(w.state) != 0 {
		t.Fatal("failed Configure wrote state")
	}
	w.as("ClientOrgMSP", "Admin@clientorg.slasa.local", "admin")
	if err := c.Configure(w.ctx, ModeSimulated); err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(w.ctx, ModeSGX); err == nil || !strings.Contains(err.Error(), "already configured") {
		t.Fatalf("second Configure: %v", err)
	}
	cfg, err := c.GetConfig(w.ctx)
	if err != nil || cfg.Mode != ModeSimulated || cfg.ConfiguredBy != "ClientOrgMSP" || cfg.ConfiguredAt != "2026-03-01T00:00:00Z" {
		t.Fatalf("GetConfig = %+v, %v", cfg, err)
	}
}

func TestRegisterAndQuery(t *testing.T) {
	w := configured(t, ModeSimulated)
	e := newEnclave(t)
	c := &Contract{}
	rec, err := c.RegisterEnclave(w.ctx, e.creds(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := credentials.EnclaveID(&e.key.PublicKey)
	if rec.EnclaveID != wantID || rec.AttestationType != "simulated" || rec.ChaincodeSequence != 1 {
		t.Fatalf("record = %+v", rec)
	}
	got, err := c.QueryEnclave(w.ctx, "slaenclave")
	if err != nil || *got != *rec {
		t.Fatalf("QueryEnclave = %+v, %v", got, err)
	}
	if name, payload := w.stub.SetEventArgsForCall(0); name != EventRegistered || !strings.Contains(string(payload), wantID) {
		t.Fatalf("event %s %s", name, payload)
	}
	raw, err := c.QueryEnclaveCredentials(w.ctx, "slaenclave")
	if err != nil {
		t.Fatal(err)
	}
	parsed, data, err := credentials.Parse([]byte(raw))
	if err != nil || credentials.VerifySimulated(parsed, data) != nil {
		t.Fatalf("stored credentials do not re-verify: %v", err)
	}
	if _, err := c.QueryEnclave(w.ctx, "other"); err == nil || !strings.Contains(err.Error(), `no enclave is registered for chaincode "other"`) {
		t.Fatalf("QueryEnclave(other) = %v", err)
	}
}

func TestRegisterRejects(t *testing.T) {
	e := newEnclave(t)
	forged := func(t *testing.T) string {
		c := e.creds(t, nil)
		var cr credentials.Credentials
		_ = json.Unmarshal([]byte(c), &cr)
		cr.Attestation.Evidence[5] ^= 0xff
		raw, _ := json.Marshal(cr)
		return string(raw)
	}
	tests := []struct {
		name  string
		mode  string
		setup func(w *world)
		creds func(t *testing.T) string
		want  string
	}{
		{"not configured", "", nil, func(t *testing.T) string { return e.creds(t, nil) }, "registry is not configured"},
		{"malformed", ModeSimulated, nil, func(*testing.T) string { return "{" }, "credentials:"},
		{"other channel", ModeSimulated, nil, func(t *testing.T) string {
			return e.creds(t, func(d *credentials.AttestedData) { d.Channel = "other" })
		}, `attested_data.channel: "other" is not this channel "slasa"`},
		{"submitter of another org", ModeSimulated, func(w *world) { w.as("ClientOrgMSP", "peer0", "client") },
			func(t *testing.T) string { return e.creds(t, nil) }, "the submitter belongs to \"ClientOrgMSP\""},
		{"no definition", ModeSimulated, func(w *world) { w.defMiss = true },
			func(t *testing.T) string { return e.creds(t, nil) }, `no chaincode definition "slaenclave"`},
		{"version mismatch", ModeSimulated, func(w *world) { w.defVer = "sim-2" },
			func(t *testing.T) string { return e.creds(t, nil) }, `has version "sim-2"`},
		{"sequence mismatch", ModeSimulated, func(w *world) { w.defSeq = 2 },
			func(t *testing.T) string { return e.creds(t, nil) }, "has sequence 2"},
		{"forged evidence", ModeSimulated, nil, forged, "attestation.evidence"},
		{"simulated in sgx mode", ModeSGX, nil, func(t *testing.T) string { return e.creds(t, nil) }, "simulated evidence is refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w *world
			if tc.mode == "" {
				w = newWorld(t)
			} else {
				w = configured(t, tc.mode)
			}
			if tc.setup != nil {
				tc.setup(w)
			}
			before := len(w.state)
			_, err := (&Contract{}).RegisterEnclave(w.ctx, tc.creds(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if len(w.state) != before || w.stub.SetEventCallCount() != 0 {
				t.Fatal("a rejected registration changed state or emitted an event")
			}
		})
	}
}

func TestReplacement(t *testing.T) {
	w := configured(t, ModeSimulated)
	c := &Contract{}
	first, second := newEnclave(t), newEnclave(t)
	if _, err := c.RegisterEnclave(w.ctx, first.creds(t, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterEnclave(w.ctx, first.creds(t, nil)); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("same enclave twice: %v", err)
	}
	// The same enclave re-registers after a redeploy (newer sequence).
	w.defSeq, w.defVer = 2, "sim-2"
	again, err := c.RegisterEnclave(w.ctx, first.creds(t, func(d *credentials.AttestedData) { d.ChaincodeSequence, d.ChaincodeVersion = 2, "sim-2" }))
	if err != nil || again.ChaincodeSequence != 2 {
		t.Fatalf("re-registration for sequence 2: %+v, %v", again, err)
	}
	if _, err := c.RegisterEnclave(w.ctx, first.creds(t, func(d *credentials.AttestedData) { d.ChaincodeSequence, d.ChaincodeVersion = 2, "sim-2" })); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("same enclave, same sequence twice: %v", err)
	}
	first.data.ChaincodeSequence, first.data.ChaincodeVersion = 2, "sim-2"
	second.data.ChaincodeSequence, second.data.ChaincodeVersion = 2, "sim-2"
	// Another organization cannot take over the chaincode's enclave.
	w.as("ClientOrgMSP", "peer0.clientorg.slasa.local", "client")
	if _, err := c.RegisterEnclave(w.ctx, second.creds(t, func(d *credentials.AttestedData) { d.PeerMSPID = "ClientOrgMSP" })); err == nil ||
		!strings.Contains(err.Error(), `only that organization may replace it`) {
		t.Fatalf("takeover: %v", err)
	}
	// The hosting organization replaces its restarted enclave.
	w.as("ProviderOrgMSP", "peer0.providerorg.slasa.local", "client")
	rec, err := c.RegisterEnclave(w.ctx, second.creds(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.QueryEnclave(w.ctx, "slaenclave")
	if got.EnclaveID != rec.EnclaveID {
		t.Fatal("replacement not served")
	}
}
