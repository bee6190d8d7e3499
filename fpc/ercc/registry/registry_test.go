package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer/lifecycle"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabricfake"
)

// lifecycleDouble answers _lifecycle's QueryChaincodeDefinition for the
// enclave chaincode's committed definition.
type lifecycleDouble struct {
	name    string
	version string
	seq     int64
	missing bool
}

func (l *lifecycleDouble) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (l *lifecycleDouble) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	args := stub.GetArgs()
	var q lifecycle.QueryChaincodeDefinitionArgs
	if len(args) != 2 || string(args[0]) != "QueryChaincodeDefinition" || proto.Unmarshal(args[1], &q) != nil {
		return shim.Error("unexpected _lifecycle call")
	}
	if q.Name != l.name || l.missing {
		return shim.Error("namespace " + q.Name + " is not defined")
	}
	payload, _ := proto.Marshal(&lifecycle.QueryChaincodeDefinitionResult{Version: l.version, Sequence: l.seq})
	return shim.Success(payload)
}

// fixture is a channel with ercc (guarded by the providers' deploy
// configuration) and _lifecycle.
type fixture struct {
	w       *fabricfake.World
	cfg     *deploycfg.Config
	cfgJSON string
	digest  string
	clock   time.Duration // the peer's clock minus the world's
	def     *lifecycleDouble

	pAdmin, pClient, pPeer, cAdmin, oAdmin *fabricfake.Identity
}

func newFixture(t *testing.T, attestation string) *fixture {
	t.Helper()
	pca, cca, oca := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP"), fabricfake.MustNewCA("OtherOrgMSP")
	f := &fixture{w: fabricfake.NewWorld(), cfg: fabricfake.DeployConfig([]*fabricfake.CA{pca, cca}, oca),
		def:    &lifecycleDouble{name: "slaenclave", version: "sim-1", seq: 1},
		pAdmin: pca.MustIssue("Admin@providerorg.slasa.local", "admin"), pClient: pca.MustIssue("provider@providerorg.slasa.local", "client"),
		pPeer: pca.MustIssue("peer0.providerorg.slasa.local", "peer"), cAdmin: cca.MustIssue("Admin@clientorg.slasa.local", "admin"),
		oAdmin: oca.MustIssue("Admin@otherorg.slasa.local", "admin")}
	f.cfg.Enclave.Attestation = attestation
	raw, err := json.Marshal(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.cfgJSON = string(raw)
	if f.digest, err = f.cfg.Digest(); err != nil {
		t.Fatal(err)
	}
	g, err := ccguard.New(f.cfg, ccguard.WithClock(func() time.Time { return f.w.Now.Add(f.clock) }))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := contractapi.NewChaincode(New(g))
	if err != nil {
		t.Fatal(err)
	}
	f.w.Deploy("ercc", cc)
	f.w.Deploy("_lifecycle", f.def)
	return f
}

// configured returns a fixture whose deploy configuration is recorded.
func configured(t *testing.T, attestation string) *fixture {
	t.Helper()
	f := newFixture(t, attestation)
	f.ok(t, f.pAdmin, "Configure", f.cfgJSON)
	return f
}

func (f *fixture) ok(t *testing.T, id *fabricfake.Identity, fn string, args ...string) []byte {
	t.Helper()
	r := f.w.Submit(id, "ercc", fn, args...)
	if !r.OK() {
		t.Fatalf("%s: %s", fn, r.Message)
	}
	return r.Payload
}

// refused submits a transaction that must fail with an error containing
// want and leave the ledger and the events unchanged.
func (f *fixture) refused(t *testing.T, id *fabricfake.Identity, want, fn string, args ...string) {
	t.Helper()
	before, events := f.w.Snapshot(), len(f.w.Events)
	r := f.w.Submit(id, "ercc", fn, args...)
	if r.OK() {
		t.Fatalf("%s succeeded; want an error containing %q", fn, want)
	}
	if !strings.Contains(r.Message, want) {
		t.Fatalf("%s error:\n got %q\nwant it to contain %q", fn, r.Message, want)
	}
	if !reflect.DeepEqual(before, f.w.Snapshot()) || len(f.w.Events) != events {
		t.Fatalf("%s failed but changed the ledger", fn)
	}
}

func (f *fixture) record(t *testing.T, id *fabricfake.Identity, fn string, args ...string) credentials.Record {
	t.Helper()
	var rec credentials.Record
	raw := f.w.Evaluate(id, "ercc", fn, args...)
	if !raw.OK() {
		t.Fatalf("%s: %s", fn, raw.Message)
	}
	if err := json.Unmarshal(raw.Payload, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

type enclave struct {
	key  *ecdsa.PrivateKey
	id   string
	data credentials.AttestedData
}

func (f *fixture) newEnclave(t *testing.T) *enclave {
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
	id, _ := credentials.EnclaveID(&sk.PublicKey)
	return &enclave{key: sk, id: id, data: credentials.AttestedData{Channel: "slasa", Chaincode: "slaenclave", ChaincodeVersion: "sim-1",
		ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP", Endpoint: "127.0.0.1:27100", EnclaveVK: vk, ChaincodeEK: ekPEM, ConfigDigest: f.digest}}
}

// creds returns simulated credentials of the enclave, its attested data
// changed by edit.
func (e *enclave) creds(t *testing.T, edit func(*credentials.AttestedData)) string {
	t.Helper()
	d := e.data
	if edit != nil {
		edit(&d)
	}
	c, err := credentials.NewSimulated(d, e.key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	return string(raw)
}

// withEvidence returns credentials JSON with the attestation changed.
func withEvidence(t *testing.T, credsJSON string, edit func(*credentials.Attestation)) string {
	t.Helper()
	var c credentials.Credentials
	if err := json.Unmarshal([]byte(credsJSON), &c); err != nil {
		t.Fatal(err)
	}
	edit(&c.Attestation)
	raw, _ := json.Marshal(c)
	return string(raw)
}

func TestRegisterAndQuery(t *testing.T) {
	f := configured(t, deploycfg.AttestationSimulated)
	e := f.newEnclave(t)
	creds := e.creds(t, nil)
	var rec credentials.Record
	if err := json.Unmarshal(f.ok(t, f.pAdmin, "RegisterEnclave", creds), &rec); err != nil {
		t.Fatal(err)
	}
	regTx := f.w.Events[len(f.w.Events)-1].TxID
	want := credentials.Record{Chaincode: "slaenclave", EnclaveID: e.id, EnclaveVK: e.data.EnclaveVK, ChaincodeEK: e.data.ChaincodeEK,
		PeerMSPID: "ProviderOrgMSP", Endpoint: "127.0.0.1:27100", AttestationType: "simulated", ChaincodeVersion: "sim-1",
		ChaincodeSequence: 1, Channel: "slasa", ConfigDigest: f.digest, RegisteredBy: rec.RegisteredBy, RegisteredTxID: regTx,
		RegisteredAt: "2026-01-01T00:00:01Z"}
	if rec != want {
		t.Fatalf("record\n got %+v\nwant %+v", rec, want)
	}
	if !strings.HasPrefix(rec.RegisteredBy, "ProviderOrgMSP/CN=Admin@providerorg.slasa.local,OU=admin,") {
		t.Fatalf("registered_by %q", rec.RegisteredBy)
	}
	if got := f.record(t, f.oAdmin, "QueryEnclave", "slaenclave"); got != rec {
		t.Fatalf("QueryEnclave = %+v", got)
	}
	if got := f.record(t, f.pClient, "QueryEnclaveByID", "slaenclave", e.id); got != rec {
		t.Fatalf("QueryEnclaveByID = %+v", got)
	}
	ev := f.w.Events[len(f.w.Events)-1]
	var payload Registered
	if err := json.Unmarshal(ev.Payload, &payload); err != nil || ev.Name != EventRegistered ||
		payload != (Registered{Chaincode: "slaenclave", EnclaveID: e.id, AttestationType: "simulated", ChaincodeSequence: 1, ConfigDigest: f.digest, RegisteredBy: rec.RegisteredBy}) {
		t.Fatalf("event %s %s", ev.Name, ev.Payload)
	}
	r := f.w.Evaluate(f.cAdmin, "ercc", "QueryEnclaveCredentials", "slaenclave")
	if !r.OK() || string(r.Payload) != creds {
		t.Fatalf("QueryEnclaveCredentials: %s %s", r.Message, r.Payload)
	}
	parsed, data, err := credentials.Parse(r.Payload)
	if err != nil || credentials.VerifySimulated(parsed, data) != nil {
		t.Fatalf("stored credentials do not re-verify: %v", err)
	}
	for _, q := range []struct {
		fn   string
		args []string
		want string
	}{
		{"QueryEnclave", []string{"other"}, `no enclave is registered for chaincode "other"`},
		{"QueryEnclaveCredentials", []string{"other"}, `no enclave is registered for chaincode "other"`},
		{"QueryEnclaveByID", []string{"slaenclave", "ABC"}, `enclave ABC is not registered for chaincode "slaenclave"`},
		{"QueryEnclaveByID", []string{"slaenclave", ""}, "enclaveID: must not be empty"},
		{"QueryEnclave", []string{""}, "chaincode: must not be empty"},
	} {
		if r := f.w.Evaluate(f.pClient, "ercc", q.fn, q.args...); r.OK() || !strings.Contains(r.Message, q.want) {
			t.Errorf("%s%v: %q, want %q", q.fn, q.args, r.Message, q.want)
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	f := configured(t, deploycfg.AttestationSimulated)
	e := f.newEnclave(t)
	good := e.creds(t, nil)
	forged := withEvidence(t, good, func(a *credentials.Attestation) { a.Evidence[5] ^= 0xff })
	other := *f.cfg
	other.IssuerMSPID = "ClientOrgMSP"
	otherDigest, _ := other.Digest()
	tests := []struct {
		name  string
		id    *fabricfake.Identity
		setup func()
		creds string
		want  string
	}{
		// ercc-admin
		{"a client of the host", f.pClient, nil, good,
			`RegisterEnclave: only an admin of the enclave host ProviderOrgMSP may register an enclave: the caller ProviderOrgMSP/CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US (issuer CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US) is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{"a peer of the host", f.pPeer, nil, good, `is not an admin of ProviderOrgMSP (NodeOU role "peer", admin required)`},
		{"an admin of another approving org", f.cAdmin, nil, good,
			"RegisterEnclave: only an admin of the enclave host ProviderOrgMSP may register an enclave: the caller ClientOrgMSP/CN=Admin@clientorg.slasa.local,OU=admin,L=San Francisco,ST=California,C=US (issuer CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US) is not a member of ProviderOrgMSP"},
		{"an admin of a channel member", f.oAdmin, nil, good, "is not a member of ProviderOrgMSP"},
		{"malformed", f.pAdmin, nil, "{", "credentials:"},
		// ercc-host
		{"another hosting MSP", f.pAdmin, nil, e.creds(t, func(d *credentials.AttestedData) { d.PeerMSPID = "ClientOrgMSP" }),
			`attested_data.peer_msp_id: "ClientOrgMSP" is not the enclave host "ProviderOrgMSP" of the deploy configuration`},
		// ercc-chaincode
		{"another chaincode", f.pAdmin, nil, e.creds(t, func(d *credentials.AttestedData) { d.Chaincode = "slaenclave2" }),
			`attested_data.chaincode: "slaenclave2" is not the enclave chaincode "slaenclave" of the deploy configuration`},
		// ercc-channel
		{"another channel", f.pAdmin, nil, e.creds(t, func(d *credentials.AttestedData) { d.Channel = "other" }),
			`attested_data.channel: "other" is not this channel "slasa"`},
		// ercc-definition
		{"no committed definition", f.pAdmin, func() { f.def.missing = true }, good,
			`attested_data.chaincode: no chaincode definition "slaenclave" on channel "slasa": namespace slaenclave is not defined`},
		// ercc-version
		{"version mismatch", f.pAdmin, func() { f.def.version = "sim-2" }, good,
			`attested_data.chaincode_version: "sim-1", but the committed definition of "slaenclave" has version "sim-2"`},
		// ercc-sequence
		{"sequence mismatch", f.pAdmin, func() { f.def.seq = 2 }, good,
			`attested_data.chaincode_sequence: 1, but the committed definition of "slaenclave" has sequence 2`},
		// ercc-attestation-simulated
		{"sgx evidence in simulated mode", f.pAdmin, nil, withEvidence(t, good, func(a *credentials.Attestation) { a.Type = credentials.AttestationDCAP }),
			`attestation.type: "dcap" is refused: the deploy configuration accepts simulated attestation only (enclave.attestation "simulated")`},
		// ercc-evidence
		{"forged evidence", f.pAdmin, nil, forged,
			"attestation.evidence: simulated evidence is not a valid signature of the enclave key over the attested data"},
		// ercc-config-digest
		{"initialised with another configuration", f.pAdmin, nil, e.creds(t, func(d *credentials.AttestedData) { d.ConfigDigest = otherDigest }),
			"attested_data.config_digest: the enclave was initialised with deploy configuration " + otherDigest + ", not this peer's " + f.digest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*f.def = lifecycleDouble{name: "slaenclave", version: "sim-1", seq: 1}
			if tc.setup != nil {
				tc.setup()
			}
			f.refused(t, tc.id, tc.want, "RegisterEnclave", tc.creds)
		})
	}
}

func TestSGXMode(t *testing.T) {
	f := configured(t, deploycfg.AttestationSGX)
	e := f.newEnclave(t)
	good := e.creds(t, nil)
	// ercc-attestation-sgx
	f.refused(t, f.pAdmin, `attestation.type: simulated evidence is refused: the deploy configuration requires SGX attestation (enclave.attestation "sgx")`, "RegisterEnclave", good)
	f.refused(t, f.pAdmin, `attestation.type: "epid-linkable" evidence cannot be verified by this build`, "RegisterEnclave",
		withEvidence(t, good, func(a *credentials.Attestation) { a.Type = credentials.AttestationEPIDLinkable }))
	f.refused(t, f.pAdmin, `attestation.type: unknown type "tpm"`, "RegisterEnclave",
		withEvidence(t, good, func(a *credentials.Attestation) { a.Type = "tpm" }))
}

func TestGuard(t *testing.T) {
	f := newFixture(t, deploycfg.AttestationSimulated)
	e := f.newEnclave(t)
	f.refused(t, f.pAdmin, "the deploy configuration is not recorded on the channel yet", "RegisterEnclave", e.creds(t, nil))
	f.refused(t, f.pAdmin, "the deploy configuration is not recorded on the channel yet", "QueryEnclave", "slaenclave")
	f.refused(t, f.oAdmin, "Configure: the caller OtherOrgMSP/", "Configure", f.cfgJSON)
	f.refused(t, f.pClient, `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, "Configure", f.cfgJSON)
	var rec ccguard.Record
	if err := json.Unmarshal(f.ok(t, f.cAdmin, "Configure", f.cfgJSON), &rec); err != nil || rec.Digest != f.digest {
		t.Fatalf("Configure = %+v, %v", rec, err)
	}
	var view ccguard.ConfigView
	r := f.w.Evaluate(f.oAdmin, "ercc", "GetConfig")
	if err := json.Unmarshal(r.Payload, &view); err != nil || !view.Agrees || view.Digest != f.digest || view.MaxSkew != "5m0s" {
		t.Fatalf("GetConfig = %s %s", r.Message, r.Payload)
	}
	f.clock = 6 * time.Minute
	f.refused(t, f.pAdmin, "behind this peer's clock", "RegisterEnclave", e.creds(t, nil))
	f.clock = 0
	f.ok(t, f.pAdmin, "RegisterEnclave", e.creds(t, nil))
}

func TestReregistration(t *testing.T) {
	f := configured(t, deploycfg.AttestationSimulated)
	a, b := f.newEnclave(t), f.newEnclave(t)
	f.ok(t, f.pAdmin, "RegisterEnclave", a.creds(t, nil))
	recA := f.record(t, f.pAdmin, "QueryEnclaveByID", "slaenclave", a.id)

	// ercc-same-enclave: the same enclave for the same sequence.
	f.refused(t, f.pAdmin, "enclave "+a.id+` is already registered for chaincode "slaenclave" (sequence 1, tx `+recA.RegisteredTxID+"); it registers again only for a newer chaincode sequence",
		"RegisterEnclave", a.creds(t, nil))

	// A new key of the host becomes current; the first stays registered.
	f.ok(t, f.pAdmin, "RegisterEnclave", b.creds(t, nil))
	if cur := f.record(t, f.cAdmin, "QueryEnclave", "slaenclave"); cur.EnclaveID != b.id {
		t.Fatalf("current enclave %s, want %s", cur.EnclaveID, b.id)
	}
	if got := f.record(t, f.cAdmin, "QueryEnclaveByID", "slaenclave", a.id); got != recA {
		t.Fatalf("the first registration changed: %+v", got)
	}
	r := f.w.Evaluate(f.cAdmin, "ercc", "QueryEnclaveCredentials", "slaenclave")
	if _, data, err := credentials.Parse(r.Payload); err != nil || data.EnclaveVK != b.data.EnclaveVK {
		t.Fatalf("credentials of the current enclave: %s %v", r.Message, err)
	}
	// The old key cannot come back for the same sequence.
	f.refused(t, f.pAdmin, "enclave "+a.id+` is already registered`, "RegisterEnclave", a.creds(t, nil))

	// After a redeploy (sequence 2) the first enclave registers again: its
	// record is updated and it is current.
	f.def.seq, f.def.version = 2, "sim-2"
	f.ok(t, f.pAdmin, "RegisterEnclave", a.creds(t, func(d *credentials.AttestedData) { d.ChaincodeSequence, d.ChaincodeVersion = 2, "sim-2" }))
	cur := f.record(t, f.cAdmin, "QueryEnclave", "slaenclave")
	if cur.EnclaveID != a.id || cur.ChaincodeSequence != 2 || cur.ChaincodeVersion != "sim-2" || cur.RegisteredTxID == recA.RegisteredTxID {
		t.Fatalf("after the redeploy: %+v", cur)
	}
	if got := f.record(t, f.cAdmin, "QueryEnclaveByID", "slaenclave", b.id); got.ChaincodeSequence != 1 {
		t.Fatalf("the second registration changed: %+v", got)
	}
}
