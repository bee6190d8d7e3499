package ccpolicy_test

import (
	"bytes"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"

	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabricfake"
)

const (
	P = "ProviderOrgMSP"
	C = "ClientOrgMSP"
	V = "VendorOrgMSP"
	O = "Org5MSP"
)

// AllOf builds the bytes of fabric-chaincode-go's statebased package.
func TestAllOfIsStatebased(t *testing.T) {
	ep, _ := statebased.NewStateEP(nil)
	if err := ep.AddOrgs(statebased.RoleTypePeer, P, C); err != nil {
		t.Fatal(err)
	}
	want, _ := ep.Policy()
	for _, orgs := range [][]string{{P, C}, {C, P}, {C, P, C}} {
		got, err := ccpolicy.AllOf(orgs...)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("AllOf(%v) = %x, %v; want %x", orgs, got, err, want)
		}
	}
	if d := fabricfake.DescribePolicy(want); d != "OutOf(2, 'ClientOrgMSP.peer', 'ProviderOrgMSP.peer')" {
		t.Fatal(d)
	}
}

func TestPolicies(t *testing.T) {
	and, _ := ccpolicy.AllOf(P, C)
	wallet, err := ccpolicy.OwnerAndOneOf(C, []string{V, P, C, O})
	if err != nil {
		t.Fatal(err)
	}
	if d := fabricfake.DescribePolicy(wallet); d != "OutOf(2, 'ClientOrgMSP.peer', OutOf(1, 'Org5MSP.peer', 'ProviderOrgMSP.peer', 'VendorOrgMSP.peer'))" {
		t.Fatal(d)
	}
	again, _ := ccpolicy.OwnerAndOneOf(C, []string{O, P, V, V})
	if !bytes.Equal(wallet, again) {
		t.Fatal("the wallet policy depends on the order of the organizations")
	}
	for _, tc := range []struct {
		policy []byte
		orgs   []string
		want   bool
	}{
		{and, []string{P, C}, true},
		{and, []string{P, V}, false},
		{and, []string{C}, false},
		{wallet, []string{C}, false},
		{wallet, []string{C, P}, true},
		{wallet, []string{C, V}, true},
		{wallet, []string{P, V}, false},
		{wallet, []string{P, V, O}, false},
	} {
		got, err := fabricfake.PolicySatisfied(tc.policy, fabricfake.EndorsedBy(tc.orgs...))
		if err != nil || got != tc.want {
			t.Errorf("%s endorsed by %v: %v %v", fabricfake.DescribePolicy(tc.policy), tc.orgs, got, err)
		}
	}
	owner, others, err := ccpolicy.Owner(wallet)
	if err != nil || owner != C || len(others) != 3 || others[0] != O {
		t.Fatalf("Owner: %s %v %v", owner, others, err)
	}
	for _, bad := range [][]byte{and, []byte("junk"), fabricfake.SignaturePolicy(2, C, P)} {
		if _, _, err := ccpolicy.Owner(bad); err == nil {
			t.Errorf("Owner accepted %s", fabricfake.DescribePolicy(bad))
		}
	}
	if _, err := ccpolicy.OwnerAndOneOf(C, []string{C}); err == nil || err.Error() != "policy: no organization but ClientOrgMSP to co-endorse" {
		t.Fatalf("lone owner: %v", err)
	}
	two, _ := ccpolicy.OutOf(2, V, P, C)
	if d := fabricfake.DescribePolicy(two); d != "OutOf(2, 'ClientOrgMSP.peer', 'ProviderOrgMSP.peer', 'VendorOrgMSP.peer')" {
		t.Fatal(d)
	}
	if _, err := ccpolicy.OutOf(3, P, C); err == nil {
		t.Fatal("OutOf(3) of two")
	}
	if _, err := ccpolicy.AllOf(); err == nil {
		t.Fatal("empty AllOf")
	}
	if _, err := ccpolicy.AllOf(P, ""); err == nil {
		t.Fatal("empty MSP ID")
	}
}
