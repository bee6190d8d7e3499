package fabnet

import (
	"strings"
	"testing"
)

func TestSLAOrgs(t *testing.T) {
	orgs, err := SLAOrgs("ProviderOrgMSP", "ClientOrgMSP")
	if err != nil || strings.Join(orgs, ",") != "ClientOrgMSP,ProviderOrgMSP" {
		t.Fatalf("%v %v", orgs, err)
	}
	for _, tc := range []struct{ p, c, want string }{
		{"", "ClientOrgMSP", "the endorsing organizations of an SLA: the provider's and the client's MSP IDs must not be empty"},
		{"A", "", "the endorsing organizations of an SLA: the provider's and the client's MSP IDs must not be empty"},
		{"A", "A", "the endorsing organizations of an SLA: the provider and the client are the same organization A"},
	} {
		if _, err := SLAOrgs(tc.p, tc.c); err == nil || err.Error() != tc.want {
			t.Errorf("%q %q: %v", tc.p, tc.c, err)
		}
	}
}
