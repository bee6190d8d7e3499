package fabnet

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestLookupOrg(t *testing.T) {
	tests := []struct {
		key  string
		want OrgSpec
		err  string
	}{
		{"provider", OrgSpec{"provider", "ProviderOrg", "ProviderOrgMSP", "providerorg.slasa.local", "provider", 0, false}, ""},
		{"client", OrgSpec{"client", "ClientOrg", "ClientOrgMSP", "clientorg.slasa.local", "client", 1, false}, ""},
		{"vendor", OrgSpec{"vendor", "VendorOrg", "VendorOrgMSP", "vendororg.slasa.local", "vendor", 2, false}, ""},
		{"other", OrgSpec{"other", "OtherOrg", "OtherOrgMSP", "otherorg.slasa.local", "other", 3, false}, ""},
		{"org5", OrgSpec{"org5", "Org5", "Org5MSP", "org5.slasa.local", "user1", 4, false}, ""},
		{"org20", OrgSpec{"org20", "Org20", "Org20MSP", "org20.slasa.local", "user1", 19, false}, ""},
		{"org4", OrgSpec{}, `organization "org4": unknown (want provider, client, vendor, other or org5..org20)`},
		{"org21", OrgSpec{}, "unknown"},
		{"org05", OrgSpec{}, "unknown"},
		{"org-5", OrgSpec{}, "unknown"},
		{"Provider", OrgSpec{}, "unknown"},
		{"", OrgSpec{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := LookupOrg(tt.key)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LookupOrg = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNetworkOrgs(t *testing.T) {
	tests := []struct {
		n          int
		all, peers string
	}{
		{3, "provider,client,vendor,other", "provider,client,vendor"},
		{4, "provider,client,vendor,other", "provider,client,vendor,other"},
		{5, "provider,client,vendor,other,org5", "provider,client,vendor,other,org5"},
		{10, "provider,client,vendor,other,org5,org6,org7,org8,org9,org10", "provider,client,vendor,other,org5,org6,org7,org8,org9,org10"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			orgs, err := NetworkOrgs(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			var all, peers []string
			for i, o := range orgs {
				if o.Index != i {
					t.Errorf("%s: index %d at place %d", o.Key, o.Index, i)
				}
				all = append(all, o.Key)
				if o.HasPeer {
					peers = append(peers, o.Key)
				}
			}
			if strings.Join(all, ",") != tt.all || strings.Join(peers, ",") != tt.peers {
				t.Errorf("NetworkOrgs(%d) = %v, peers %v; want %s, peers %s", tt.n, all, peers, tt.all, tt.peers)
			}
		})
	}
	orgs, err := NetworkOrgs(MaxOrgs)
	if err != nil || len(orgs) != MaxOrgs || orgs[MaxOrgs-1].Key != "org20" || !orgs[MaxOrgs-1].HasPeer {
		t.Fatalf("NetworkOrgs(%d) = %d orgs, %v", MaxOrgs, len(orgs), err)
	}
	// Every peer's three ports stay below the chaincode servers' block and apart from each other.
	seen := map[int]string{}
	for _, o := range orgs {
		for p := o.PeerPort(0); p < o.PeerPort(0)+3; p++ {
			if p >= 300 || seen[p] != "" {
				t.Errorf("%s: port offset %d (taken by %q, chaincode block from 300)", o.Key, p, seen[p])
			}
			seen[p] = o.Key
		}
	}
	for _, n := range []int{0, 2, MaxOrgs + 1} {
		if _, err := NetworkOrgs(n); err == nil || !strings.Contains(err.Error(), "want 3..20") {
			t.Errorf("NetworkOrgs(%d): err = %v", n, err)
		}
	}
}

func TestAnyTwoPolicy(t *testing.T) {
	got := AnyTwoPolicy([]string{"ProviderOrgMSP", "ClientOrgMSP", "VendorOrgMSP"})
	if want := "OutOf(2,'ProviderOrgMSP.peer','ClientOrgMSP.peer','VendorOrgMSP.peer')"; got != want {
		t.Errorf("AnyTwoPolicy = %s, want %s", got, want)
	}
	info := &Info{Orgs: map[string]Org{
		"org5": {MSPID: "Org5MSP"}, "other": {MSPID: "OtherOrgMSP"}, "vendor": {MSPID: "VendorOrgMSP"},
		"client": {MSPID: "ClientOrgMSP"}, "provider": {MSPID: "ProviderOrgMSP"},
	}}
	if got, want := info.AnyTwoPolicy(), "OutOf(2,'ProviderOrgMSP.peer','ClientOrgMSP.peer','VendorOrgMSP.peer','OtherOrgMSP.peer','Org5MSP.peer')"; got != want {
		t.Errorf("Info.AnyTwoPolicy = %s, want %s", got, want)
	}
	// A peerless OtherOrg is not one of the organizations.
	info.Orgs["other"] = Org{MSPID: "OtherOrgMSP", GatewayOf: "client"}
	delete(info.Orgs, "org5")
	if got, want := info.AnyTwoPolicy(), "OutOf(2,'ProviderOrgMSP.peer','ClientOrgMSP.peer','VendorOrgMSP.peer')"; got != want {
		t.Errorf("Info.AnyTwoPolicy (peerless OtherOrg) = %s, want %s", got, want)
	}
	if got := strings.Join(info.PeerMSPIDs(), ","); got != "ClientOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Errorf("PeerMSPIDs = %s", got)
	}
}

func TestPeerOrgsInOrder(t *testing.T) {
	info := &Info{Orgs: map[string]Org{"org10": {}, "org5": {}, "zeta": {}, "client": {}, "provider": {}, "other": {GatewayOf: "client"}, "vendor": {}}}
	if got := strings.Join(info.PeerOrgsInOrder(), ","); got != "provider,client,vendor,org5,org10,zeta" {
		t.Errorf("PeerOrgsInOrder = %s", got)
	}
}

func TestIdentityNameRoundTrip(t *testing.T) {
	names := append(IdentityNames(), "org5", "org5-admin", "org20", "org20-admin")
	for _, n := range names {
		org, user, err := Identity(n)
		if err != nil {
			t.Fatalf("Identity(%q): %v", n, err)
		}
		if got := IdentityName(org, user); got != n {
			t.Errorf("IdentityName(%q, %q) = %q, want %q", org, user, got, n)
		}
	}
	for _, ou := range [][2]string{{"provider", "client"}, {"org5", "org5"}, {"org4", "admin"}, {"client", "user1"}} {
		if got := IdentityName(ou[0], ou[1]); got != "" {
			t.Errorf("IdentityName(%q, %q) = %q, want none", ou[0], ou[1], got)
		}
	}
}

func TestInfoIdentityNames(t *testing.T) {
	info := &Info{Orgs: map[string]Org{
		"provider": {Users: map[string]User{"admin": {}, "provider": {}, "logger": {}, "issuer": {}}},
		"client":   {Users: map[string]User{"admin": {}, "client": {}}},
		"vendor":   {Users: map[string]User{"admin": {}, "vendor": {}}},
		"other":    {Users: map[string]User{"admin": {}, "other": {}}},
		"org5":     {Users: map[string]User{"admin": {}, "user1": {}, "stray": {}}},
	}}
	want := []string{"client", "client-admin", "issuer", "logger", "org5", "org5-admin", "other", "other-admin",
		"provider", "provider-admin", "vendor", "vendor-admin"}
	if got := info.IdentityNames(); !slices.Equal(got, want) {
		t.Errorf("Info.IdentityNames = %v, want %v", got, want)
	}
}

func TestMissingOrgError(t *testing.T) {
	tests := map[string]string{
		"org7":   `organization "org7" not in the network description (a network started with SLASA_ORGS=7 or more has it)`,
		"vendor": `organization "vendor" not in the network description`,
		"nope":   `organization "nope" not in the network description`,
	}
	for org, want := range tests {
		if got := MissingOrgError(org).Error(); got != want {
			t.Errorf("MissingOrgError(%q) = %s, want %s", org, got, want)
		}
	}
}

func TestConnectMissingOrg(t *testing.T) {
	info := &Info{Channel: "slasa", Orgs: map[string]Org{"provider": {}, "client": {}}}
	_, err := info.Connect("org6-admin")
	want := `identity "org6-admin": organization "org6" not in the network description (a network started with SLASA_ORGS=6 or more has it)`
	if err == nil || err.Error() != want {
		t.Fatalf("Connect(org6-admin): err = %v, want %s", err, want)
	}
}
