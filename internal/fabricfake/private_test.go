package fabricfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// privCC is a chaincode without checks that exposes the private data API:
// put COLL KEY (value from transient "v"), get COLL KEY, hash COLL KEY,
// del COLL KEY, msp, echo (returns transient "v").
type privCC struct{}

func (privCC) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (privCC) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	tm, _ := stub.GetTransient()
	var out []byte
	var err error
	switch fn {
	case "put":
		err = stub.PutPrivateData(args[0], args[1], tm["v"])
		if err == nil {
			err = stub.PutState("public-"+args[1], []byte("p"))
		}
	case "get":
		out, err = stub.GetPrivateData(args[0], args[1])
	case "hash":
		var h []byte
		h, err = stub.GetPrivateDataHash(args[0], args[1])
		out = []byte(hex.EncodeToString(h))
	case "del":
		err = stub.DelPrivateData(args[0], args[1])
	case "msp":
		var m string
		m, err = shim.GetMSPID()
		out = []byte(m)
	case "echo":
		out = tm["v"]
	}
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(out)
}

func TestImplicitCollections(t *testing.T) {
	w := NewWorld()
	w.Deploy("cc", privCC{})
	pca, cca := MustNewCA("ProviderOrgMSP"), MustNewCA("ClientOrgMSP")
	p, c := pca.MustIssue("p@providerorg.slasa.local", "client"), cca.MustIssue("c@clientorg.slasa.local", "client")
	pc, cc := ImplicitCollection("ProviderOrgMSP"), ImplicitCollection("ClientOrgMSP")
	secret := []byte("secret-terms")

	r := w.SubmitCall(Call{ID: p, Chaincode: "cc", Fn: "put", Args: []string{cc, "k"}, Transient: map[string][]byte{"v": secret}})
	if !r.OK() {
		t.Fatal(r.Message)
	}
	// Reads see committed data; the owner's peer serves it to anybody.
	for _, tc := range []struct {
		id        *Identity
		peer, err string
		want      []byte
	}{
		{c, "", "", secret},
		{p, "ClientOrgMSP", "", secret},
		{p, "", "GET_STATE failed: transaction ID: %s: private data matching public hash version is not available (collection _implicit_org_ClientOrgMSP on a peer of ProviderOrgMSP)", nil},
	} {
		r := w.EvaluateCall(Call{ID: tc.id, Chaincode: "cc", Fn: "get", Args: []string{cc, "k"}, Peer: tc.peer})
		want := ""
		if tc.err != "" {
			want = fmt.Sprintf(tc.err, r.TxID)
		}
		if r.Message != want || !bytes.Equal(r.Payload, tc.want) {
			t.Errorf("get as %s on %q: %q %q", tc.id.MSPID, tc.peer, r.Payload, r.Message)
		}
	}
	if r := w.EvaluateCall(Call{ID: p, Chaincode: "cc", Fn: "get", Args: []string{pc, "k"}}); !r.OK() || r.Payload != nil {
		t.Errorf("missing key: %q %q", r.Payload, r.Message)
	}
	if len(w.PrivateReads) != 4 || w.PrivateReads[0].Peer != "ClientOrgMSP" || w.PrivateReads[2].Peer != "ProviderOrgMSP" || w.PrivateReads[3].Collection != pc {
		t.Errorf("private reads %+v", w.PrivateReads)
	}
	sum := sha256.Sum256(secret)
	if r := w.Evaluate(p, "cc", "hash", cc, "k"); string(r.Payload) != hex.EncodeToString(sum[:]) {
		t.Errorf("hash on a non-member peer: %q %q", r.Payload, r.Message)
	}
	if snap := w.PrivateSnapshot(); snap["cc/"+cc]["k"] != string(secret) {
		t.Errorf("snapshot %v", snap)
	}
	if got := w.PrivateState("cc", cc, "k"); !bytes.Equal(got, secret) || len(w.PrivateKeys("cc", cc)) != 1 || strings.Join(w.Collections("cc"), ",") != cc {
		t.Errorf("private state %q", got)
	}
	// The block holds the hashes, not the value nor the transient map.
	b := w.Blocks[0]
	kh := sha256.Sum256([]byte("k"))
	if b.Creator != "ProviderOrgMSP" || b.Chaincode != "cc" || strings.Join(b.Args, " ") != "put "+cc+" k" || len(b.PrivateWrites) != 1 ||
		!bytes.Equal(b.PrivateWrites[0].KeyHash, kh[:]) || !bytes.Equal(b.PrivateWrites[0].ValueHash, sum[:]) || len(b.Writes) != 1 || b.Writes[0].Key != "public-k" {
		t.Errorf("block %+v", b)
	}
	if strings.Contains(fmt.Sprintf("%+v", w.Blocks), string(secret)) {
		t.Error("the block view holds the secret")
	}
	// Errors.
	for _, tc := range []struct{ args []string }{{[]string{"", "k"}}, {[]string{"orgs", "k"}}, {[]string{cc, ""}}} {
		if r := w.Submit(p, "cc", "get", tc.args...); r.OK() {
			t.Errorf("get %v succeeded", tc.args)
		}
	}
	if r := w.Submit(p, "cc", "put", cc, "k2"); r.Message != "value must not be empty" {
		t.Errorf("empty value: %q", r.Message)
	}
	if r := w.Submit(p, "cc", "get", "coll", "k"); r.Message != "collection coll is not defined (the fake knows implicit organization collections only)" {
		t.Errorf("unknown collection: %q", r.Message)
	}
	// Deletes.
	if r := w.SubmitCall(Call{ID: c, Chaincode: "cc", Fn: "del", Args: []string{cc, "k"}}); !r.OK() || w.PrivateState("cc", cc, "k") != nil || w.Blocks[len(w.Blocks)-1].PrivateWrites[0].ValueHash != nil {
		t.Errorf("delete: %q", r.Message)
	}
}

func TestLocalMSPAndTransient(t *testing.T) {
	w := NewWorld()
	w.Deploy("cc", privCC{})
	p := MustNewCA("ProviderOrgMSP").MustIssue("p@providerorg.slasa.local", "client")
	t.Setenv("CORE_PEER_LOCALMSPID", "Before")
	if r := w.Evaluate(p, "cc", "msp"); string(r.Payload) != "ProviderOrgMSP" {
		t.Errorf("default peer: %q %q", r.Payload, r.Message)
	}
	if r := w.EvaluateCall(Call{ID: p, Chaincode: "cc", Fn: "msp", Peer: "ClientOrgMSP"}); string(r.Payload) != "ClientOrgMSP" {
		t.Errorf("peer: %q %q", r.Payload, r.Message)
	}
	if os.Getenv("CORE_PEER_LOCALMSPID") != "Before" {
		t.Error("the environment was not restored")
	}
	if r := w.Evaluate(nil, "cc", "msp"); r.Message != "'CORE_PEER_LOCALMSPID' is not set" {
		t.Errorf("no peer: %q %q", r.Payload, r.Message)
	}
	if r := w.EvaluateCall(Call{ID: p, Chaincode: "cc", Fn: "echo", Transient: map[string][]byte{"v": []byte("t")}}); string(r.Payload) != "t" {
		t.Errorf("transient: %q", r.Payload)
	}
	tx := w.NewTx(p, "cc", "echo")
	tx.SetTransient(map[string][]byte{"v": []byte("direct")})
	tx.SetPeer("X")
	if m, _ := tx.Stub.GetTransient(); string(m["v"]) != "direct" || tx.Peer() != "X" {
		t.Errorf("direct transient %q, peer %s", m["v"], tx.Peer())
	}
}
