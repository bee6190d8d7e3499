package sbe

import (
	"errors"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/internal/fabricfake"
)

func TestAllPeers(t *testing.T) {
	p, err := AllPeers("ProviderOrgMSP", "ClientOrgMSP", "ProviderOrgMSP")
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := Orgs(p)
	if err != nil || strings.Join(orgs, ",") != "ClientOrgMSP,ProviderOrgMSP" {
		t.Fatalf("orgs %v, %v", orgs, err)
	}
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(p, &env); err != nil || env.GetRule().GetNOutOf().GetN() != 2 {
		t.Fatalf("policy %v %v", &env, err)
	}
	// The same organizations in another order give the same bytes.
	q, _ := AllPeers("ClientOrgMSP", "ProviderOrgMSP")
	if string(p) != string(q) {
		t.Fatal("policy depends on the order of the organizations")
	}
	for _, tc := range []struct {
		orgs []string
		want string
	}{{nil, "key-level policy: no organization"}, {[]string{"A", ""}, "key-level policy: empty MSP ID"}} {
		if _, err := AllPeers(tc.orgs...); err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v", tc.orgs, err)
		}
	}
	// Other policies are not AllPeers policies.
	ep, _ := statebased.NewStateEP(nil)
	_ = ep.AddOrgs(statebased.RoleTypeMember, "A")
	member, _ := ep.Policy()
	if _, err := Orgs(member); err == nil || err.Error() != "key-level policy: principal 0 is not an organization's peer role" {
		t.Errorf("member role: %v", err)
	}
	if _, err := Orgs([]byte("garbage")); err == nil {
		t.Error("garbage decoded")
	}
}

func TestSetAllPeers(t *testing.T) {
	stub := &fabricfake.ChaincodeStub{}
	if err := SetAllPeers(stub, "k", "B", "A"); err != nil {
		t.Fatal(err)
	}
	key, p := stub.SetStateValidationParameterArgsForCall(0)
	if orgs, err := Orgs(p); key != "k" || err != nil || strings.Join(orgs, ",") != "A,B" {
		t.Fatalf("set %q %v %v", key, orgs, err)
	}
	stub.SetStateValidationParameterReturns(errors.New("ledger down"))
	if err := SetAllPeers(stub, "k", "A"); err == nil || err.Error() != `key "k": set key-level policy: ledger down` {
		t.Fatalf("err = %v", err)
	}
	if err := SetAllPeers(stub, "k"); err == nil || err.Error() != `key "k": key-level policy: no organization` {
		t.Fatalf("err = %v", err)
	}
}
