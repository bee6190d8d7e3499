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
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// privCC is a chaincode without checks that exposes the private data API:
// put COLL KEY (value from transient "v"), get COLL KEY, hash COLL KEY,
// del COLL KEY, msp, echo (returns transient "v"), putonly COLL KEY (no
// public write), range COLL START END and partial COLL TYPE ATTR (the keys
// found, comma-separated).
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
	case "putonly":
		err = stub.PutPrivateData(args[0], args[1], tm["v"])
	case "range", "partial":
		var it shim.StateQueryIteratorInterface
		if fn == "range" {
			it, err = stub.GetPrivateDataByRange(args[0], args[1], args[2])
		} else {
			it, err = stub.GetPrivateDataByPartialCompositeKey(args[0], args[1], args[2:])
		}
		var keys []string
		for err == nil && it.HasNext() {
			var kv *queryresult.KV
			if kv, err = it.Next(); err == nil {
				keys = append(keys, strings.ReplaceAll(kv.Key, "\x00", "|")+"="+string(kv.Value))
			}
		}
		out = []byte(strings.Join(keys, ","))
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

func TestPrivateRangeQueries(t *testing.T) {
	w := NewWorld()
	w.Deploy("cc", privCC{})
	p := MustNewCA("ProviderOrgMSP").MustIssue("p@providerorg.slasa.local", "client")
	pc := ImplicitCollection("ProviderOrgMSP")
	k := func(attrs ...string) string { key, _ := shim.CreateCompositeKey("t", attrs); return key }
	for i, key := range []string{"a", "b", "c", k("s1", "x"), k("s1", "y"), k("s2", "z")} {
		if r := w.SubmitCall(Call{ID: p, Chaincode: "cc", Fn: "putonly", Args: []string{pc, key}, Transient: map[string][]byte{"v": []byte(fmt.Sprint(i))}}); !r.OK() {
			t.Fatal(r.Message)
		}
	}
	for _, tc := range []struct {
		fn   string
		args []string
		peer string
		want string
	}{
		{"range", []string{pc, "a", "c"}, "", "a=0,b=1"},
		{"range", []string{pc, "b", ""}, "", "b=1,c=2"},
		{"partial", []string{pc, "t", "s1"}, "", "|t|s1|x|=3,|t|s1|y|=4"},
		{"partial", []string{pc, "t"}, "", "|t|s1|x|=3,|t|s1|y|=4,|t|s2|z|=5"},
		// Another organization's peer holds none of the collection.
		{"partial", []string{pc, "t", "s1"}, "ClientOrgMSP", ""},
	} {
		r := w.EvaluateCall(Call{ID: p, Chaincode: "cc", Fn: tc.fn, Args: tc.args, Peer: tc.peer})
		if got := strings.ReplaceAll(string(r.Payload), "\x00", "|"); !r.OK() || got != tc.want {
			t.Errorf("%s %v on %q: %q %q, want %q", tc.fn, tc.args, tc.peer, got, r.Message, tc.want)
		}
	}
	last := w.PrivateReads[len(w.PrivateReads)-1]
	if last.Peer != "ClientOrgMSP" || last.Collection != pc || last.Key != k("s1") || last.End != k("s1")+string(rune(0x10ffff)) {
		t.Errorf("private read %+v", last)
	}
	if r := w.Evaluate(p, "cc", "range", "coll", "a", "b"); r.Message != "collection coll is not defined (the fake knows implicit organization collections only)" {
		t.Errorf("unknown collection: %q", r.Message)
	}
}

// A write to an organization's implicit collection needs a peer of that
// organization, and no other endorsement: the collection's policy replaces
// the chaincode's.
func TestImplicitCollectionPolicy(t *testing.T) {
	w := NewWorld()
	w.Deploy("cc", privCC{})
	w.SetEndorsementPolicy("cc", SignaturePolicy(2, "ProviderOrgMSP", "ClientOrgMSP", "VendorOrgMSP"))
	p := MustNewCA("ProviderOrgMSP").MustIssue("p@providerorg.slasa.local", "client")
	pc, cc := ImplicitCollection("ProviderOrgMSP"), ImplicitCollection("ClientOrgMSP")
	put := func(coll, key string, orgs ...string) Result {
		return w.SubmitCall(Call{ID: p, Chaincode: "cc", Fn: "putonly", Args: []string{coll, key}, Transient: map[string][]byte{"v": []byte("v")}, Endorsers: orgs})
	}
	if r := put(cc, "k1", "ProviderOrgMSP", "VendorOrgMSP"); r.Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE ||
		r.Reason != "collection _implicit_org_ClientOrgMSP of cc needs a peer of ClientOrgMSP, endorsed by ProviderOrgMSP, VendorOrgMSP" || w.PrivateState("cc", cc, "k1") != nil {
		t.Errorf("without the owner: %s %q", r.Code, r.Reason)
	}
	if r := put(cc, "k1", "ClientOrgMSP"); !r.OK() || w.PrivateState("cc", cc, "k1") == nil {
		t.Errorf("the owner alone: %s %q", r.Code, r.Reason)
	}
	// Two collections need both owners.
	b := w.NewBlock()
	b.SubmitCall(EndorsedBy("ProviderOrgMSP"), Call{ID: p, Chaincode: "cc", Fn: "putonly", Args: []string{pc, "k2"}, Transient: map[string][]byte{"v": []byte("v")}})
	b.SubmitCall(EndorsedBy("ClientOrgMSP"), Call{ID: p, Chaincode: "cc", Fn: "put", Args: []string{pc, "k3"}, Transient: map[string][]byte{"v": []byte("v")}})
	res := b.Commit()
	if !res[0].OK() || res[1].Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
		t.Errorf("own collection %s %q; with a public write %s %q", res[0].Code, res[0].Reason, res[1].Code, res[1].Reason)
	}
	// A public write next to a private one still needs the chaincode's
	// policy.
	if r := w.SubmitCall(Call{ID: p, Chaincode: "cc", Fn: "put", Args: []string{pc, "k4"}, Transient: map[string][]byte{"v": []byte("v")}, Endorsers: []string{"ProviderOrgMSP"}}); r.Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE ||
		!strings.HasPrefix(r.Reason, "chaincode cc needs") {
		t.Errorf("public and private: %s %q", r.Code, r.Reason)
	}
}
