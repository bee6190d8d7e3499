package runtime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-chaincode-go/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/shim"

	//lint:ignore SA1019 shimtest is the v1 shim's only stub double that drives InvokeChaincode between chaincodes
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/internal/deploycfg"
)

const (
	channel = "slasa"
	ccName  = "slaenclave"
	marker  = "MARKER-plaintext-7f3a"
)

// kvChaincode is a tiny private chaincode.
type kvChaincode struct{}

func (kvChaincode) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

func (kvChaincode) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	fn, args := stub.GetFunctionAndParameters()
	result := func(b []byte, err error) pb.Response {
		if err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(b)
	}
	switch fn {
	case "put":
		key, _ := stub.CreateCompositeKey("kv", []string{args[0]})
		return result(nil, stub.PutState(key, []byte(args[1])))
	case "putraw":
		return result(nil, stub.PutState(args[0], []byte(args[1])))
	case "get":
		key, _ := stub.CreateCompositeKey("kv", []string{args[0]})
		return result(stub.GetState(key))
	case "list":
		_, err := stub.GetStateByPartialCompositeKey("kv", nil)
		return result(nil, err)
	case "range":
		_, err := stub.GetStateByRange("a", "z")
		return result(nil, err)
	case "history":
		_, err := stub.GetHistoryForKey("a")
		return result(nil, err)
	case "rich":
		_, err := stub.GetQueryResult("{}")
		return result(nil, err)
	case "cc2cc":
		r := stub.InvokeChaincode("ercc", [][]byte{[]byte("QueryEnclave")}, channel)
		return result(nil, fmt.Errorf("%s", r.Message))
	case "event":
		return result(nil, stub.SetEvent("x", nil))
	case "time":
		ts, err := stub.GetTxTimestamp()
		if err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success([]byte(time.Unix(ts.Seconds, int64(ts.Nanos)).UTC().Format(time.RFC3339Nano)))
	case "whoami":
		svc := stub.(Services)
		sig, err := svc.SignAsEnclave([]byte("hello"))
		if err != nil || svc.ChaincodeDecryptionKey() == nil {
			return shim.Error("services unavailable")
		}
		d, _ := svc.DeployConfig().Digest()
		return shim.Success([]byte(svc.ChaincodeName() + "|" + svc.EnclaveID() + "|" + d + "|" + string(sig)))
	case "fetch":
		return result(stub.(Fetcher).Fetch(args[0]))
	case "putp": // key, value, policy orgs...: the key's write with its policy
		if err := stub.PutState(args[0], []byte(args[1])); err != nil {
			return shim.Error(err.Error())
		}
		return result(nil, stub.SetStateValidationParameter(args[0], andPolicy(args[2:]...)))
	case "putpolicy": // key, value, raw policy bytes
		if err := stub.PutState(args[0], []byte(args[1])); err != nil {
			return shim.Error(err.Error())
		}
		return result(nil, stub.SetStateValidationParameter(args[0], []byte(args[2])))
	case "policyfirst": // a policy before the key's write
		return result(nil, stub.SetStateValidationParameter(args[0], andPolicy("ProviderOrgMSP")))
	case "getpolicy":
		return result(stub.GetStateValidationParameter(args[0]))
	case "derive": // label, context
		k, err := stub.(Services).DeriveKey(args[0], []byte(args[1]))
		return result([]byte(fmt.Sprintf("%x", k)), err)
	}
	return shim.Error("unknown function " + fn)
}

// andPolicy is the validation parameter "a peer of each of orgs".
func andPolicy(orgs ...string) []byte {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		panic(err)
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, orgs...); err != nil {
		panic(err)
	}
	b, err := ep.Policy()
	if err != nil {
		panic(err)
	}
	return b
}

type client struct {
	key     *ecdsa.PrivateKey
	creator []byte
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func selfSigned(t *testing.T, key *ecdsa.PrivateKey, cn string, ca bool) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: ca}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newClient(t *testing.T, mspID string) client {
	t.Helper()
	key := newKey(t)
	creator, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: []byte(selfSigned(t, key, "user@"+mspID, false))})
	return client{key, creator}
}

// testConfig returns a deploy configuration of ProviderOrgMSP (the enclave
// host) and ClientOrgMSP.
func testConfig(t *testing.T) *deploycfg.Config {
	t.Helper()
	return fpctest.DeployConfig([]string{"ProviderOrgMSP", "ClientOrgMSP"},
		deploycfg.MSP{MSPID: "ProviderOrgMSP", Roots: []string{selfSigned(t, newKey(t), "ca.providerorg", true)}},
		deploycfg.MSP{MSPID: "ClientOrgMSP", Roots: []string{selfSigned(t, newKey(t), "ca.clientorg", true)}})
}

type fixture struct {
	stub *shimtest.MockStub
	// ledger, when set, validates and commits transactions as peers do;
	// stub is its committed state.
	ledger   *fpctest.Ledger
	enclave  *Simulated
	registry *fpctest.RegistryDouble
	cfg      *deploycfg.Config
	digest   string
	record   credentials.Record
	alice    client
	bob      client
	tx       int
	// clock is this peer's clock minus the real time; proposalAge is
	// subtracted from the proposals' timestamps.
	clock, proposalAge time.Duration
	// proposalChaincode, when set, is the chaincode the next proposals name.
	proposalChaincode string
}

func setup(t *testing.T) *fixture { return setupWith(t, false) }

// setupWith is setup, on an fpctest.Ledger when ledger is true.
func setupWith(t *testing.T, ledger bool) *fixture {
	t.Helper()
	f := &fixture{enclave: NewSimulated(kvChaincode{}), registry: &fpctest.RegistryDouble{Chaincode: ccName}, cfg: testConfig(t),
		alice: newClient(t, "ProviderOrgMSP"), bob: newClient(t, "ClientOrgMSP")}
	f.digest, _ = f.cfg.Digest()
	pcc, err := NewPrivateChaincode(f.enclave, WithConfig(f.cfg), WithClock(func() time.Time { return time.Now().Add(f.clock) }),
		WithFetcher(func(id string) ([]byte, error) { return []byte("content of " + id), nil }))
	if err != nil {
		t.Fatal(err)
	}
	if ledger {
		f.ledger = fpctest.NewLedger(ccName, channel, pcc, fpctest.AnyOf(2, "ProviderOrgMSP", "ClientOrgMSP", "Org3MSP"))
		f.stub = f.ledger.Stub
	} else {
		f.stub = shimtest.NewMockStub(ccName, pcc)
	}
	f.stub.ChannelID = channel
	f.stub.MockPeerChaincode("ercc", shimtest.NewMockStub("ercc", f.registry), channel)
	f.stub.MockPeerChaincode("_lifecycle", shimtest.NewMockStub("_lifecycle", fpctest.LifecycleDouble{Chaincode: ccName, Version: "sim-1", Sequence: 3}), channel)

	hp := []byte(`{"peer_msp_id":"ProviderOrgMSP","endpoint":"127.0.0.1:27100"}`)
	resp := f.call(t, f.alice, []byte(protocol.FnInitEnclave), hp)
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
	if data.Chaincode != ccName || data.ChaincodeVersion != "sim-1" || data.ChaincodeSequence != 3 || data.Channel != channel || data.ConfigDigest != f.digest {
		t.Fatalf("attested data %+v", data)
	}
	vk, _ := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	id, _ := credentials.EnclaveID(vk)
	if id != f.enclave.ID() {
		t.Fatal("enclave id mismatch")
	}
	f.record = credentials.Record{Chaincode: ccName, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, AttestationType: credentials.AttestationSimulated, ChaincodeVersion: "sim-1", ChaincodeSequence: 3,
		Channel: channel, ConfigDigest: f.digest}
	f.register(f.record)
	return f
}

// register makes the registry double serve rec.
func (f *fixture) register(rec credentials.Record) { f.registry.Record, _ = json.Marshal(rec) }

func (f *fixture) proposal(t *testing.T, c client, txID string, args ...[]byte) *pb.SignedProposal {
	t.Helper()
	cc := ccName
	if f.proposalChaincode != "" {
		cc = f.proposalChaincode
	}
	sp, err := fpctest.SignedProposal(c.key, c.creator, f.stub.ChannelID, cc, txID, time.Now().Add(-f.proposalAge), args...)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func (f *fixture) call(t *testing.T, c client, args ...[]byte) pb.Response {
	t.Helper()
	f.tx++
	txID := fmt.Sprintf("tx%d", f.tx)
	f.stub.Creator = c.creator
	return f.stub.MockInvokeWithSignedProposal(txID, args, f.proposal(t, c, txID, args...))
}

func (f *fixture) seal(t *testing.T, fn string, args ...string) ([]byte, *protocol.ClientSession) {
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
	return raw, session
}

// invoke runs a private request through __invoke and returns the signed
// response and the client's session.
func (f *fixture) invoke(t *testing.T, c client, fn string, args ...string) ([]byte, *protocol.ClientSession) {
	t.Helper()
	raw, session := f.seal(t, fn, args...)
	resp := f.call(t, c, []byte(protocol.FnInvoke), raw)
	if resp.Status != shim.OK {
		t.Fatalf("__invoke %s: %s", fn, resp.Message)
	}
	return resp.Payload, session
}

func (f *fixture) open(t *testing.T, signed []byte, s *protocol.ClientSession) *protocol.Result {
	t.Helper()
	var sr protocol.SignedResponse
	if err := json.Unmarshal(signed, &sr); err != nil {
		t.Fatal(err)
	}
	vk, _ := f.record.VerifyingKey()
	resp, err := protocol.VerifyResponse(&sr, vk)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckBinding(resp, f.record.EnclaveID); err != nil {
		t.Fatal(err)
	}
	res, err := s.OpenResult(resp)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// refused calls args as c and requires an error message starting with want
// and an unchanged world state.
func (f *fixture) refused(t *testing.T, c client, want string, args ...[]byte) {
	t.Helper()
	before := fpctest.Snapshot(f.stub)
	r := f.call(t, c, args...)
	if r.Status == shim.OK {
		t.Fatalf("%s succeeded; want %q", args[0], want)
	}
	if !strings.HasPrefix(r.Message, want) {
		t.Fatalf("%s error:\n got %q\nwant %q...", args[0], r.Message, want)
	}
	if !fpctest.SameState(before, fpctest.Snapshot(f.stub)) {
		t.Fatalf("%s failed but changed the state", args[0])
	}
}

func TestInvokeEndorseLifecycle(t *testing.T) {
	f := setup(t)
	signed, session := f.invoke(t, f.alice, "put", "a", marker)
	if res := f.open(t, signed, session); res.Status != shim.OK {
		t.Fatalf("put result %+v", res)
	}
	if len(f.stub.State) != 0 {
		t.Fatal("__invoke wrote state; only __endorse may")
	}
	if r := f.call(t, f.alice, []byte(protocol.FnEndorse), signed); r.Status != shim.OK {
		t.Fatalf("__endorse: %s", r.Message)
	}
	for k, v := range f.stub.State {
		if bytes.Contains(v, []byte(marker)) || strings.Contains(k, marker) {
			t.Fatalf("plaintext on the ledger under %q", k)
		}
	}
	// Read back through the enclave.
	signed, session = f.invoke(t, f.bob, "get", "a")
	if res := f.open(t, signed, session); string(res.Payload) != marker {
		t.Fatalf("get = %q", res.Payload)
	}
	signed, session = f.invoke(t, f.alice, "whoami")
	res := f.open(t, signed, session)
	parts := strings.SplitN(string(res.Payload), "|", 4)
	vk, _ := f.record.VerifyingKey()
	sum := sha256.Sum256([]byte("hello"))
	if len(parts) != 4 || parts[0] != ccName || parts[1] != f.record.EnclaveID || parts[2] != f.digest || !ecdsa.VerifyASN1(vk, sum[:], []byte(parts[3])) {
		t.Fatalf("whoami = %q", res.Payload)
	}
	signed, session = f.invoke(t, f.alice, "fetch", "bafy-test")
	if res := f.open(t, signed, session); string(res.Payload) != "content of bafy-test" {
		t.Fatalf("fetch = %q", res.Payload)
	}
	// The enclave's time is the signed proposal's, not the host's.
	f.proposalAge = 90 * time.Second
	signed, session = f.invoke(t, f.alice, "time")
	res = f.open(t, signed, session)
	at, err := time.Parse(time.RFC3339Nano, string(res.Payload))
	if err != nil || time.Since(at) < 90*time.Second || time.Since(at) > 120*time.Second {
		t.Fatalf("time inside the enclave %q: %v", res.Payload, err)
	}
}

// Each __endorse check refuses with its own error and changes nothing.
func TestEndorseRejects(t *testing.T) {
	f := setup(t)
	putA, _ := f.invoke(t, f.alice, "put", "a", "1")
	endorse := []byte(protocol.FnEndorse)

	t.Run("timestamp beyond the skew", func(t *testing.T) { // endorse-skew
		f.clock = 10 * time.Minute
		defer func() { f.clock = 0 }()
		f.refused(t, f.alice, "__endorse: transaction timestamp ", endorse, putA)
		r := f.call(t, f.alice, endorse, putA)
		if !strings.Contains(r.Message, "behind this peer's clock") || !strings.Contains(r.Message, "more than the allowed 5m0s") {
			t.Fatalf("skew error %q", r.Message)
		}
	})
	t.Run("enclave initialised with another configuration", func(t *testing.T) { // endorse-config-digest
		other := f.record
		other.ConfigDigest = strings.Repeat("ab", 32)
		f.register(other)
		defer f.register(f.record)
		f.refused(t, f.alice, "__endorse: registered enclave "+f.record.EnclaveID+" was initialised with deploy configuration "+other.ConfigDigest+
			", not this peer's "+f.digest+"; this organization does not endorse its responses", endorse, putA)
	})
	t.Run("altered response", func(t *testing.T) { // endorse-signature
		var sr protocol.SignedResponse
		_ = json.Unmarshal(putA, &sr)
		sr.Response = bytes.Replace(sr.Response, []byte(`"enclave_id":"`), []byte(`"enclave_id":"X`), 1)
		raw, _ := json.Marshal(sr)
		f.refused(t, f.alice, "__endorse: "+protocol.ErrBadSignature.Error(), endorse, raw)
	})
	t.Run("response of another enclave id", func(t *testing.T) { // endorse-enclave-id
		other := f.record
		other.EnclaveID = strings.Repeat("A", 64)
		f.register(other)
		defer f.register(f.record)
		f.refused(t, f.alice, "__endorse: response: enclave "+f.record.EnclaveID+" is not the registered enclave "+other.EnclaveID, endorse, putA)
	})
	t.Run("response for another chaincode", func(t *testing.T) { // endorse-binding
		f.proposalChaincode = "other"
		signed, _ := f.invoke(t, f.alice, "put", "a", "1")
		f.proposalChaincode = ""
		f.refused(t, f.alice, `__endorse: response: ran for chaincode "other" on channel "slasa", not "slaenclave" on "slasa"`, endorse, signed)
	})
	t.Run("response for another channel", func(t *testing.T) { // endorse-binding
		f.stub.ChannelID = "elsewhere"
		signed, _ := f.invoke(t, f.alice, "put", "a", "1")
		f.stub.ChannelID = channel
		f.refused(t, f.alice, `__endorse: response: ran for chaincode "slaenclave" on channel "elsewhere", not "slaenclave" on "slasa"`, endorse, signed)
	})
	t.Run("enclave ran under a backdated proposal", func(t *testing.T) { // endorse-proposal-skew
		f.proposalAge = 10 * time.Minute
		signed, _ := f.invoke(t, f.alice, "put", "a", "1")
		f.proposalAge = 0
		f.refused(t, f.alice, "__endorse: response: the enclave ran the request under the proposal's timestamp: transaction timestamp ", endorse, signed)
	})
	t.Run("submitted by another identity", func(t *testing.T) { // endorse-creator
		f.refused(t, f.bob, "__endorse: response: the request was made by another identity; only its requester can submit it", endorse, putA)
	})
	t.Run("unregistered enclave", func(t *testing.T) {
		f.registry.Record = nil
		defer f.register(f.record)
		f.refused(t, f.alice, `__endorse: enclave registry "ercc": no enclave is registered for chaincode "slaenclave"`, endorse, putA)
	})
	t.Run("reserved write key", func(t *testing.T) { // endorse-reserved-key
		signed, session := f.invoke(t, f.alice, "putraw", endorsedPrefix+"tx999", "forged")
		if res := f.open(t, signed, session); res.Status != shim.OK {
			t.Fatalf("putraw: %s", res.Message)
		}
		f.refused(t, f.alice, `__endorse: write set: key "\x00fpc.endorsed\x00tx999" is reserved`, endorse, signed)
	})
	t.Run("replay", func(t *testing.T) { // endorse-replay
		if r := f.call(t, f.alice, endorse, putA); r.Status != shim.OK {
			t.Fatalf("first endorse: %s", r.Message)
		}
		var sr protocol.SignedResponse
		_ = json.Unmarshal(putA, &sr)
		vk, _ := f.record.VerifyingKey()
		resp, _ := protocol.VerifyResponse(&sr, vk)
		info, _ := parseProposal(resp.Proposal)
		f.refused(t, f.alice, "__endorse: response to request "+info.TxID+" was already endorsed (replay)", endorse, putA)
	})
	t.Run("stale read", func(t *testing.T) { // endorse-read-set
		get, _ := f.invoke(t, f.alice, "get", "a")
		put, _ := f.invoke(t, f.alice, "put", "a", "2")
		if r := f.call(t, f.alice, endorse, put); r.Status != shim.OK {
			t.Fatal(r.Message)
		}
		key, _ := shim.CreateCompositeKey("kv", []string{"a"})
		f.refused(t, f.alice, fmt.Sprintf("__endorse: state %q changed since the enclave read it; re-run the request", key), endorse, get)
	})
	t.Run("read key that appeared", func(t *testing.T) { // endorse-read-set (absent -> present)
		get, _ := f.invoke(t, f.alice, "get", "b")
		put, _ := f.invoke(t, f.alice, "put", "b", "1")
		if r := f.call(t, f.alice, endorse, put); r.Status != shim.OK {
			t.Fatal(r.Message)
		}
		f.refused(t, f.alice, "__endorse: state ", endorse, get)
	})
}

func TestInvokeRejects(t *testing.T) {
	f := setup(t)
	raw, _ := f.seal(t, "put", "a", "1")
	invoke := []byte(protocol.FnInvoke)

	t.Run("timestamp beyond the skew", func(t *testing.T) { // invoke-skew
		f.clock = -10 * time.Minute
		defer func() { f.clock = 0 }()
		f.refused(t, f.alice, "__invoke: transaction timestamp ", invoke, raw)
		if r := f.call(t, f.alice, invoke, raw); !strings.Contains(r.Message, "ahead of this peer's clock") {
			t.Fatalf("skew error %q", r.Message)
		}
	})
	t.Run("proposal carries another request", func(t *testing.T) { // invoke-proposal-args
		f.tx++
		txID := fmt.Sprintf("tx%d", f.tx)
		other, _ := f.seal(t, "put", "a", "2")
		f.stub.Creator = f.alice.creator
		r := f.stub.MockInvokeWithSignedProposal(txID, [][]byte{invoke, raw}, f.proposal(t, f.alice, txID, invoke, other))
		if r.Status == shim.OK || r.Message != "__invoke: proposal: its arguments are not this __invoke request" {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("proposal signature forged", func(t *testing.T) { // invoke-proposal-signature
		f.tx++
		txID := fmt.Sprintf("tx%d", f.tx)
		sp := f.proposal(t, f.alice, txID, invoke, raw)
		sp.Signature = f.proposal(t, f.bob, txID, invoke, raw).Signature
		f.stub.Creator = f.alice.creator
		r := f.stub.MockInvokeWithSignedProposal(txID, [][]byte{invoke, raw}, sp)
		if r.Status == shim.OK || r.Message != "__invoke: proposal: the creator's signature does not verify" {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("tampered request", func(t *testing.T) {
		var msg protocol.RequestMessage
		_ = json.Unmarshal(raw, &msg)
		msg.EncryptedRequest[20] ^= 1
		bad, _ := json.Marshal(&msg)
		f.refused(t, f.alice, "__invoke: request message: request: "+protocol.ErrDecrypt.Error(), invoke, bad)
	})
	t.Run("direct call", func(t *testing.T) {
		f.refused(t, f.alice, `put: function "put": a private chaincode is called through __invoke (encrypted) and __endorse`, []byte("put"), []byte("a"), []byte("1"))
	})
}

// fakeHost is a Host whose claims the test chooses.
type fakeHost struct {
	channel, txID string
	creator       []byte
	proposal, sig []byte
}

func (h *fakeHost) GetState(string) ([]byte, error)         { return nil, nil }
func (h *fakeHost) TxID() string                            { return h.txID }
func (h *fakeHost) ChannelID() string                       { return h.channel }
func (h *fakeHost) Creator() ([]byte, error)                { return h.creator, nil }
func (h *fakeHost) SignedProposal() ([]byte, []byte, error) { return h.proposal, h.sig, nil }
func (h *fakeHost) Fetch(string) ([]byte, error)            { return nil, nil }

// The enclave binds an execution to the signed proposal, not to what the
// host says.
func TestEnclaveChecksTheHost(t *testing.T) {
	f := setup(t)
	raw, _ := f.seal(t, "put", "a", "1")
	var msg protocol.RequestMessage
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatal(err)
	}
	host := func(ts time.Time) *fakeHost {
		sp, err := fpctest.SignedProposal(f.alice.key, f.alice.creator, channel, ccName, "txH", ts, []byte(protocol.FnInvoke), raw)
		if err != nil {
			t.Fatal(err)
		}
		return &fakeHost{channel: channel, txID: "txH", creator: f.alice.creator, proposal: sp.ProposalBytes, sig: sp.Signature}
	}
	if _, err := f.enclave.Invoke(host(time.Now()), &msg); err != nil {
		t.Fatalf("honest host: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(h *fakeHost)
		ts   time.Time
		want string
	}{
		{"channel", func(h *fakeHost) { h.channel = "elsewhere" }, time.Now(), `proposal: channel "slasa" is not the host's channel "elsewhere"`}, // invoke-proposal-channel
		{"tx id", func(h *fakeHost) { h.txID = "txOther" }, time.Now(), "proposal: transaction id does not match the host's"},                     // invoke-proposal-txid
		{"creator", func(h *fakeHost) { h.creator = f.bob.creator }, time.Now(), "proposal: creator does not match the host's"},                   // invoke-proposal-creator
		{"no timestamp", func(*fakeHost) {}, time.Time{}, "proposal: its channel header carries no timestamp"},                                    // invoke-proposal-timestamp
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := host(tc.ts)
			tc.edit(h)
			_, err := f.enclave.Invoke(h, &msg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A chaincode in the enclave reads only keys it can name.
func TestUnsupportedInsideTheEnclave(t *testing.T) {
	f := setup(t)
	for fn, want := range map[string]string{
		"list":    "GetStateByPartialCompositeKey (range queries) is not supported inside the enclave (Fabric Private Chaincode)",
		"range":   "GetStateByRange (range queries) is not supported inside the enclave (Fabric Private Chaincode)",
		"history": "history queries is not supported inside the enclave (Fabric Private Chaincode)",
		"rich":    "rich queries is not supported inside the enclave (Fabric Private Chaincode)",
		"cc2cc":   "InvokeChaincode (chaincode-to-chaincode calls) is not supported inside the enclave (Fabric Private Chaincode)",
		"event":   "chaincode events is not supported inside the enclave (Fabric Private Chaincode)",
	} {
		signed, session := f.invoke(t, f.alice, fn)
		if res := f.open(t, signed, session); res.Status == shim.OK || res.Message != want {
			t.Errorf("%s: %+v, want %q", fn, res, want)
		}
	}
}

func TestInitEnclave(t *testing.T) {
	f := setup(t)
	t.Run("another host MSP", func(t *testing.T) {
		f.refused(t, f.alice, `__initEnclave: host parameters: peer_msp_id "ClientOrgMSP" is not the enclave host "ProviderOrgMSP" of the deploy configuration`,
			[]byte(protocol.FnInitEnclave), []byte(`{"peer_msp_id":"ClientOrgMSP","endpoint":"x"}`))
	})
	t.Run("keys bound to the configuration", func(t *testing.T) { // init-config-binding
		other := *f.cfg
		other.IssuerMSPID = "ClientOrgMSP"
		otherDigest, _ := other.Digest()
		_, err := f.enclave.Init(InitParams{Channel: channel, Chaincode: ccName, ChaincodeVersion: "v", ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP", Config: &other})
		want := "the enclave's keys are bound to deploy configuration " + f.digest + "; it is not initialised with another (" + otherDigest +
			"): start a new enclave (without the sealed keys) and register it"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		// The enclave still serves its own configuration.
		signed, session := f.invoke(t, f.alice, "whoami")
		if res := f.open(t, signed, session); !strings.Contains(string(res.Payload), "|"+f.digest+"|") {
			t.Fatalf("whoami after a refused init: %q", res.Payload)
		}
	})
	t.Run("no configuration", func(t *testing.T) {
		if _, err := NewPrivateChaincode(NewSimulated(kvChaincode{})); err == nil || err.Error() != "deploy configuration: none given (set SLASA_DEPLOY_CONFIG or -config)" {
			t.Fatalf("NewPrivateChaincode without a configuration: %v", err)
		}
		if _, err := NewPrivateChaincode(NewSimulated(kvChaincode{}), WithConfig(&deploycfg.Config{})); err == nil || !strings.HasPrefix(err.Error(), "deploy configuration: version") {
			t.Fatalf("NewPrivateChaincode with an invalid configuration: %v", err)
		}
		if _, err := NewPrivateChaincode(NewSimulated(kvChaincode{}), WithConfig(f.cfg), WithMaxSkew(0)); err == nil || err.Error() != "max clock skew: 0s is not positive" {
			t.Fatalf("NewPrivateChaincode with no skew: %v", err)
		}
		if _, err := NewSimulated(kvChaincode{}).Init(InitParams{Channel: channel}); err == nil || err.Error() != "init parameters: no deploy configuration" {
			t.Fatalf("Init without a configuration: %v", err)
		}
	})
	t.Run("uninitialised", func(t *testing.T) {
		raw, _ := f.seal(t, "get", "a")
		var msg protocol.RequestMessage
		_ = json.Unmarshal(raw, &msg)
		if _, err := NewSimulated(kvChaincode{}).Invoke(&fakeHost{}, &msg); err == nil || !strings.HasPrefix(err.Error(), "enclave is not initialised") {
			t.Fatalf("uninitialised enclave: %v", err)
		}
	})
}

func TestSimulatedSealing(t *testing.T) {
	path := t.TempDir() + "/keys.json"
	cfg := testConfig(t)
	p := InitParams{Channel: channel, Chaincode: ccName, ChaincodeVersion: "v", ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP", Config: cfg}
	a := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	if _, err := a.Init(p); err != nil {
		t.Fatal(err)
	}
	b := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	if _, err := b.Init(p); err != nil {
		t.Fatal(err)
	}
	if a.ID() == "" || a.ID() != b.ID() {
		t.Fatalf("restarted enclave has another identity: %s vs %s", a.ID(), b.ID())
	}
	if c := NewSimulated(kvChaincode{}); c.ID() != "" {
		t.Fatal("uninitialised enclave has an id")
	}
	// The sealed keys stay bound to their configuration across restarts.
	other := *cfg
	other.IssuerMSPID = "ClientOrgMSP"
	p.Config = &other
	if _, err := NewSimulated(kvChaincode{}, WithSimulatedSealing(path)).Init(p); err == nil || !strings.HasPrefix(err.Error(), "the enclave's keys are bound to deploy configuration ") {
		t.Fatalf("restarted with another configuration: %v", err)
	}
}

// TestSimulatedResume: a chaincode server restarted with the sealed keys of its configuration serves
// __invoke at once, as the same enclave; keys bound to another configuration are not resumed.
func TestSimulatedResume(t *testing.T) {
	path := t.TempDir() + "/keys.json"
	cfg := testConfig(t)
	p := InitParams{Channel: channel, Chaincode: ccName, ChaincodeVersion: "v", ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP", Config: cfg}
	if ok, err := NewSimulated(kvChaincode{}, WithSimulatedSealing(path)).Resume(cfg); ok || err != nil {
		t.Fatalf("Resume without sealed keys = %v, %v", ok, err)
	}
	a := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	if _, err := a.Init(p); err != nil {
		t.Fatal(err)
	}

	// Another configuration: not resumed, still uninitialised.
	other := *cfg
	other.IssuerMSPID = "ClientOrgMSP"
	c := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	if ok, err := c.Resume(&other); ok || err != nil || c.ID() != "" {
		t.Fatalf("Resume with another configuration = %v, %v (id %q)", ok, err, c.ID())
	}
	if _, err := c.Invoke(&fakeHost{}, &protocol.RequestMessage{}); err == nil || !strings.HasPrefix(err.Error(), "enclave is not initialised") {
		t.Fatalf("not resumed enclave: %v", err)
	}

	// The same configuration, through NewPrivateChaincode as the server starts: the same enclave, initialised.
	b := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	if _, err := NewPrivateChaincode(b, WithConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	if b.ID() == "" || b.ID() != a.ID() {
		t.Fatalf("resumed enclave id %q, want %q", b.ID(), a.ID())
	}
	if _, err := b.Invoke(&fakeHost{}, &protocol.RequestMessage{}); err != nil && strings.HasPrefix(err.Error(), "enclave is not initialised") {
		t.Fatalf("resumed enclave: %v", err)
	}

	// A corrupt sealing file stops the server's start with the reason.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPrivateChaincode(NewSimulated(kvChaincode{}, WithSimulatedSealing(path)), WithConfig(cfg)); err == nil ||
		err.Error() != "resume the enclave from its sealed keys: sealed keys: unexpected end of JSON input" {
		t.Fatalf("corrupt sealed keys: %v", err)
	}
}

// simulate runs args as c on the ledger, uncommitted.
func (f *fixture) simulate(t *testing.T, c client, args ...[]byte) *fpctest.Tx {
	t.Helper()
	f.tx++
	txID := fmt.Sprintf("tx%d", f.tx)
	return f.ledger.Simulate(txID, c.creator, f.proposal(t, c, txID, args...), args)
}

// endorsed runs fn through __invoke and simulates its __endorse.
func (f *fixture) endorsed(t *testing.T, c client, fn string, args ...string) *fpctest.Tx {
	t.Helper()
	signed, session := f.invoke(t, c, fn, args...)
	if res := f.open(t, signed, session); res.Status != shim.OK {
		t.Fatalf("%s: %s", fn, res.Message)
	}
	tx := f.simulate(t, c, []byte(protocol.FnEndorse), signed)
	if tx.Response.Status != shim.OK {
		t.Fatalf("__endorse %s: %s", fn, tx.Response.Message)
	}
	return tx
}

// The policy a response names for a key is set when __endorse creates the
// key, exactly once: never on a rewrite, never on a key that exists
// without one; a key with the parties' policy is then written by the
// parties' peers only.
func TestKeyPolicyAtCreation(t *testing.T) { // endorse-policy-at-creation
	f := setupWith(t, true)
	parties := andPolicy("ClientOrgMSP", "ProviderOrgMSP")
	commit := func(tx *fpctest.Tx, want string, orgs ...string) {
		t.Helper()
		code, err := f.ledger.Commit(tx, orgs)
		if err != nil || code != want {
			t.Fatalf("commit by %v: %s %v, want %s", orgs, code, err, want)
		}
	}
	// Creation: the write and the policy, validated by the chaincode policy.
	tx := f.endorsed(t, f.alice, "putp", "k1", "v1", "ProviderOrgMSP", "ClientOrgMSP")
	if len(tx.Metadata) != 1 || tx.Metadata[0].Key != "k1" || !bytes.Equal(tx.Metadata[0].Policy, parties) {
		t.Fatalf("creation: metadata writes %+v, want k1's policy", tx.Metadata)
	}
	commit(tx, fpctest.Valid, "ProviderOrgMSP", "ClientOrgMSP")
	if !bytes.Equal(f.ledger.Policy("k1"), parties) {
		t.Fatal("k1 carries no policy after its creation")
	}
	// A rewrite names the policy again; it is not set again.
	tx = f.endorsed(t, f.alice, "putp", "k1", "v2", "ProviderOrgMSP", "ClientOrgMSP")
	if len(tx.Metadata) != 0 || len(tx.Writes) != 2 { // k1 and the replay record
		t.Fatalf("rewrite: metadata %+v, %d writes", tx.Metadata, len(tx.Writes))
	}
	// A third organization, alone or with one party, cannot write k1.
	commit(tx, fpctest.EndorsementPolicyFailure, "Org3MSP", "ProviderOrgMSP")
	commit(tx, fpctest.EndorsementPolicyFailure, "Org3MSP", "ClientOrgMSP")
	if v := f.stub.State["k1"]; v == nil {
		t.Fatal("k1 vanished")
	}
	before := fpctest.Snapshot(f.stub)
	commit(tx, fpctest.Valid, "ProviderOrgMSP", "ClientOrgMSP")
	if fpctest.SameState(before, fpctest.Snapshot(f.stub)) {
		t.Fatal("the parties' rewrite changed nothing")
	}
	// Even a policy naming others does not replace k1's policy.
	tx = f.endorsed(t, f.alice, "putp", "k1", "v3", "Org3MSP")
	if len(tx.Metadata) != 0 {
		t.Fatalf("another policy for an existing key: metadata %+v", tx.Metadata)
	}
	// A key written before, without a policy, keeps none.
	plain := f.endorsed(t, f.alice, "putraw", "k2", "v")
	commit(plain, fpctest.Valid, "ProviderOrgMSP", "Org3MSP")
	tx = f.endorsed(t, f.alice, "putp", "k2", "v2", "ProviderOrgMSP", "ClientOrgMSP")
	if len(tx.Metadata) != 0 {
		t.Fatalf("existing key without policy: metadata %+v", tx.Metadata)
	}
}

// A chaincode names a key's policy with the key's write, and cannot read
// policies (the host could answer anything).
func TestKeyPolicyInsideTheEnclave(t *testing.T) {
	f := setup(t)
	for fn, want := range map[string]string{
		"policyfirst": `key-level policy of "k": the key is not written by this transaction; name a key's policy with its write`,
		"getpolicy":   "reading a key-level endorsement policy is not supported inside the enclave (Fabric Private Chaincode)",
	} {
		signed, session := f.invoke(t, f.alice, fn, "k")
		if res := f.open(t, signed, session); res.Status == shim.OK || res.Message != want {
			t.Errorf("%s: %+v, want %q", fn, res, want)
		}
	}
	// The response carries the policy with the write, under the signature.
	signed, _ := f.invoke(t, f.alice, "putp", "k", "v", "ProviderOrgMSP")
	var sr protocol.SignedResponse
	_ = json.Unmarshal(signed, &sr)
	vk, _ := f.record.VerifyingKey()
	resp, err := protocol.VerifyResponse(&sr, vk)
	if err != nil || len(resp.RWSet.Writes) != 1 || !bytes.Equal(resp.RWSet.Writes[0].Policy, andPolicy("ProviderOrgMSP")) {
		t.Fatalf("response writes %+v (%v)", resp.RWSet.Writes, err)
	}
}

// __endorse refuses a policy that is not a signature policy envelope, and
// a delete that names a policy.
func TestEndorseRejectsPolicies(t *testing.T) {
	f := setup(t)
	endorse := []byte(protocol.FnEndorse)
	t.Run("not a policy", func(t *testing.T) { // endorse-policy-envelope
		signed, _ := f.invoke(t, f.alice, "putpolicy", "k", "v", "\xff\x01junk")
		f.refused(t, f.alice, `__endorse: write set: key "k": key-level policy: not a signature policy envelope`, endorse, signed)
	})
	t.Run("delete with a policy", func(t *testing.T) { // endorse-delete-policy
		signed, _ := f.invoke(t, f.alice, "putp", "k", "v", "ProviderOrgMSP")
		var sr protocol.SignedResponse
		_ = json.Unmarshal(signed, &sr)
		vk, _ := f.record.VerifyingKey()
		resp, _ := protocol.VerifyResponse(&sr, vk)
		resp.RWSet.Writes[0].Value, resp.RWSet.Writes[0].Delete = nil, true
		forged, err := protocol.SignResponse(resp, f.enclave.signKey) // as a faulty enclave would
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(forged)
		f.refused(t, f.alice, `__endorse: write set: key "k" is deleted and names a key-level policy; a delete removes the key's policy`, endorse, raw)
	})
}

// DeriveKey: HKDF-SHA256 of the state key, fixed per label and context,
// different across them and across enclaves.
func TestDeriveKey(t *testing.T) {
	f := setup(t)
	derive := func(f *fixture, label, ctx string) *protocol.Result {
		signed, session := f.invoke(t, f.alice, "derive", label, ctx)
		return f.open(t, signed, session)
	}
	a, b := derive(f, "slasa.test/v1", "sla-1"), derive(f, "slasa.test/v1", "sla-1")
	if a.Status != shim.OK || len(a.Payload) != 64 || !bytes.Equal(a.Payload, b.Payload) {
		t.Fatalf("derive: %+v %+v", a, b)
	}
	want, _ := hkdf.Key(sha256.New, f.enclave.stateKey, nil, "slasa.test/v1\x00sla-1", 32)
	if string(a.Payload) != fmt.Sprintf("%x", want) {
		t.Fatal("DeriveKey is not HKDF-SHA256(state key, label || 0 || context)")
	}
	for _, o := range []*protocol.Result{derive(f, "slasa.test/v1", "sla-2"), derive(f, "slasa.test/v2", "sla-1"), derive(setup(t), "slasa.test/v1", "sla-1")} {
		if o.Status != shim.OK || bytes.Equal(o.Payload, a.Payload) {
			t.Fatalf("another context, label or enclave derives the same key: %+v", o)
		}
	}
	if r := derive(f, "", "x"); r.Status == shim.OK || !strings.Contains(r.Message, "must be non-empty and without NUL bytes") {
		t.Fatalf("empty label: %+v", r)
	}
}
