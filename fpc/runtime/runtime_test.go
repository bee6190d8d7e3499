package runtime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-chaincode-go/shim"

	//lint:ignore SA1019 shimtest is the v1 shim's only stub double that drives InvokeChaincode between chaincodes
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
)

const (
	channel = "slasa"
	ccName  = "slaenclave"
	marker  = "MARKER-plaintext-7f3a"
)

// kvChaincode is a tiny private chaincode: put, get, del, list, event.
type kvChaincode struct{}

func (kvChaincode) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

func (kvChaincode) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	fn, args := stub.GetFunctionAndParameters()
	switch fn {
	case "put":
		key, _ := stub.CreateCompositeKey("kv", []string{args[0]})
		if err := stub.PutState(key, []byte(args[1])); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	case "get":
		key, _ := stub.CreateCompositeKey("kv", []string{args[0]})
		v, err := stub.GetState(key)
		if err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(v)
	case "list":
		it, err := stub.GetStateByPartialCompositeKey("kv", nil)
		if err != nil {
			return shim.Error(err.Error())
		}
		var out []string
		for it.HasNext() {
			kv, _ := it.Next()
			out = append(out, string(kv.Value))
		}
		return shim.Success([]byte(strings.Join(out, ",")))
	case "event":
		if err := stub.SetEvent("x", nil); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	case "whoami":
		svc := stub.(Services)
		sig, err := svc.SignAsEnclave([]byte("hello"))
		if err != nil || svc.ChaincodeDecryptionKey() == nil {
			return shim.Error("services unavailable")
		}
		return shim.Success([]byte(svc.ChaincodeName() + "|" + svc.EnclaveID() + "|" + string(sig)))
	case "fetch":
		b, err := stub.(Fetcher).Fetch(args[0])
		if err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(b)
	}
	return shim.Error("unknown function " + fn)
}

type client struct {
	key     *ecdsa.PrivateKey
	creator []byte
}

func newClient(t *testing.T, msp string) client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "user@" + msp},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	creator, _ := proto.Marshal(&mspSerialized{Mspid: msp, IdBytes: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})})
	return client{key, creator}
}

type mspSerialized = msp.SerializedIdentity

// proposal builds and signs a proposal to ccName with args.
func (c client) proposal(t *testing.T, txID string, args ...[]byte) *pb.SignedProposal {
	t.Helper()
	sp, err := fpctest.SignedProposal(c.key, c.creator, channel, ccName, txID, args...)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

type fixture struct {
	stub     *shimtest.MockStub
	registry *fpctest.RegistryDouble
	record   credentials.Record
	alice    client
	bob      client
	tx       int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	enclave := NewSimulated(kvChaincode{})
	pcc := NewPrivateChaincode(enclave, WithFetcher(func(id string) ([]byte, error) { return []byte("content of " + id), nil }))
	f := &fixture{stub: shimtest.NewMockStub(ccName, pcc), registry: &fpctest.RegistryDouble{Chaincode: ccName}, alice: newClient(t, "ProviderOrgMSP"), bob: newClient(t, "ClientOrgMSP")}
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
	if data.Chaincode != ccName || data.ChaincodeVersion != "sim-1" || data.ChaincodeSequence != 3 || data.Channel != channel {
		t.Fatalf("attested data %+v", data)
	}
	vk, _ := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	id, _ := credentials.EnclaveID(vk)
	if id != enclave.ID() {
		t.Fatal("enclave id mismatch")
	}
	f.record = credentials.Record{Chaincode: ccName, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, AttestationType: credentials.AttestationSimulated, ChaincodeVersion: "sim-1", ChaincodeSequence: 3, Channel: channel}
	f.registry.Record, _ = json.Marshal(f.record)
	return f
}

func (f *fixture) call(t *testing.T, c client, args ...[]byte) pb.Response {
	t.Helper()
	f.tx++
	txID := fmt.Sprintf("tx%d", f.tx)
	f.stub.Creator = c.creator
	return f.stub.MockInvokeWithSignedProposal(txID, args, c.proposal(t, txID, args...))
}

// invoke runs a private request through __invoke and returns the signed
// response and the client's session.
func (f *fixture) invoke(t *testing.T, c client, fn string, args ...string) ([]byte, *protocol.ClientSession) {
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
	signed, session = f.invoke(t, f.alice, "get", "a")
	if res := f.open(t, signed, session); string(res.Payload) != marker {
		t.Fatalf("get = %q", res.Payload)
	}
	signed, session = f.invoke(t, f.bob, "list")
	if res := f.open(t, signed, session); string(res.Payload) != marker {
		t.Fatalf("list = %q", res.Payload)
	}
	signed, session = f.invoke(t, f.alice, "whoami")
	res := f.open(t, signed, session)
	parts := strings.SplitN(string(res.Payload), "|", 3)
	vk, _ := f.record.VerifyingKey()
	sum := sha256.Sum256([]byte("hello"))
	if len(parts) != 3 || parts[0] != ccName || parts[1] != f.record.EnclaveID || !ecdsa.VerifyASN1(vk, sum[:], []byte(parts[2])) {
		t.Fatalf("whoami = %q", res.Payload)
	}
	signed, session = f.invoke(t, f.alice, "fetch", "bafy-test")
	if res := f.open(t, signed, session); string(res.Payload) != "content of bafy-test" {
		t.Fatalf("fetch = %q", res.Payload)
	}
}

func TestEndorseRejects(t *testing.T) {
	f := setup(t)
	putA, _ := f.invoke(t, f.alice, "put", "a", "1")

	t.Run("altered response", func(t *testing.T) {
		var sr protocol.SignedResponse
		_ = json.Unmarshal(putA, &sr)
		sr.Response = bytes.Replace(sr.Response, []byte(`"enclave_id":"`), []byte(`"enclave_id":"X`), 1)
		raw, _ := json.Marshal(sr)
		before := fpctest.Snapshot(f.stub)
		r := f.call(t, f.alice, []byte(protocol.FnEndorse), raw)
		if r.Status == shim.OK || !strings.Contains(r.Message, protocol.ErrBadSignature.Error()) || !fpctest.SameState(before, fpctest.Snapshot(f.stub)) {
			t.Fatalf("altered response: %d %s", r.Status, r.Message)
		}
	})
	t.Run("submitted by another identity", func(t *testing.T) {
		r := f.call(t, f.bob, []byte(protocol.FnEndorse), putA)
		if r.Status == shim.OK || !strings.Contains(r.Message, "only its requester") {
			t.Fatalf("other identity: %s", r.Message)
		}
	})
	t.Run("unregistered enclave", func(t *testing.T) {
		rec := f.registry.Record
		f.registry.Record = nil
		defer func() { f.registry.Record = rec }()
		r := f.call(t, f.alice, []byte(protocol.FnEndorse), putA)
		if r.Status == shim.OK || !strings.Contains(r.Message, "no enclave is registered") {
			t.Fatalf("unregistered: %s", r.Message)
		}
	})
	t.Run("replay", func(t *testing.T) {
		if r := f.call(t, f.alice, []byte(protocol.FnEndorse), putA); r.Status != shim.OK {
			t.Fatalf("first endorse: %s", r.Message)
		}
		before := fpctest.Snapshot(f.stub)
		r := f.call(t, f.alice, []byte(protocol.FnEndorse), putA)
		if r.Status == shim.OK || !strings.Contains(r.Message, "already endorsed (replay)") || !fpctest.SameState(before, fpctest.Snapshot(f.stub)) {
			t.Fatalf("replay: %s", r.Message)
		}
	})
	t.Run("stale read", func(t *testing.T) {
		get, _ := f.invoke(t, f.alice, "get", "a")
		put, _ := f.invoke(t, f.alice, "put", "a", "2")
		if r := f.call(t, f.alice, []byte(protocol.FnEndorse), put); r.Status != shim.OK {
			t.Fatal(r.Message)
		}
		r := f.call(t, f.alice, []byte(protocol.FnEndorse), get)
		if r.Status == shim.OK || !strings.Contains(r.Message, "changed since the enclave read it") {
			t.Fatalf("stale read: %s", r.Message)
		}
	})
}

func TestInvokeRejects(t *testing.T) {
	f := setup(t)
	ek, _ := f.record.EncryptionKey()
	msg, _, _ := protocol.SealRequest(protocol.Request{Function: "put", Args: []string{"a", "1"}}, ek)
	raw, _ := json.Marshal(msg)

	t.Run("proposal carries another request", func(t *testing.T) {
		f.tx++
		txID := fmt.Sprintf("tx%d", f.tx)
		other, _, _ := protocol.SealRequest(protocol.Request{Function: "put", Args: []string{"a", "2"}}, ek)
		otherRaw, _ := json.Marshal(other)
		f.stub.Creator = f.alice.creator
		r := f.stub.MockInvokeWithSignedProposal(txID, [][]byte{[]byte(protocol.FnInvoke), raw}, f.alice.proposal(t, txID, []byte(protocol.FnInvoke), otherRaw))
		if r.Status == shim.OK || !strings.Contains(r.Message, "not this __invoke request") {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("proposal signature forged", func(t *testing.T) {
		f.tx++
		txID := fmt.Sprintf("tx%d", f.tx)
		sp := f.alice.proposal(t, txID, []byte(protocol.FnInvoke), raw)
		sp.Signature = f.bob.proposal(t, txID, []byte(protocol.FnInvoke), raw).Signature
		f.stub.Creator = f.alice.creator
		r := f.stub.MockInvokeWithSignedProposal(txID, [][]byte{[]byte(protocol.FnInvoke), raw}, sp)
		if r.Status == shim.OK || !strings.Contains(r.Message, "creator's signature does not verify") {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("tampered request", func(t *testing.T) {
		bad := *msg
		bad.EncryptedRequest = append([]byte(nil), msg.EncryptedRequest...)
		bad.EncryptedRequest[20] ^= 1
		badRaw, _ := json.Marshal(&bad)
		r := f.call(t, f.alice, []byte(protocol.FnInvoke), badRaw)
		if r.Status == shim.OK || !strings.Contains(r.Message, protocol.ErrDecrypt.Error()) {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("direct call", func(t *testing.T) {
		r := f.call(t, f.alice, []byte("put"), []byte("a"), []byte("1"))
		if r.Status == shim.OK || !strings.Contains(r.Message, "called through __invoke") {
			t.Fatalf("%s", r.Message)
		}
	})
	t.Run("unsupported inside the enclave", func(t *testing.T) {
		signed, session := f.invoke(t, f.alice, "event")
		res := f.open(t, signed, session)
		if res.Status == shim.OK || !strings.Contains(res.Message, "chaincode events is not supported inside the enclave") {
			t.Fatalf("%+v", res)
		}
	})
}

func TestSimulatedSealing(t *testing.T) {
	path := t.TempDir() + "/keys.json"
	a := NewSimulated(kvChaincode{}, WithSimulatedSealing(path))
	p := InitParams{Channel: channel, Chaincode: ccName, ChaincodeVersion: "v", ChaincodeSequence: 1, PeerMSPID: "ProviderOrgMSP"}
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
}
