package fabnet

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The number of organizations with a peer of a slasa network (network/up.sh's
// SLASA_ORGS).
const (
	// MinOrgs is the smallest SLASA_ORGS: ProviderOrg, ClientOrg and VendorOrg.
	MinOrgs = 3
	// DefaultOrgs is SLASA_ORGS when it is not set.
	DefaultOrgs = 3
	// MaxOrgs is the largest SLASA_ORGS: peer i listens at port base + 100 + 10*i,
	// below the chaincode servers' block at port base + 300.
	MaxOrgs = 20
)

// OrgSpec is one application organization of the network's organization table
// (network/lib.sh holds the same table for the scripts):
//
//	key       name         MSP ID           domain                   user      index
//	provider  ProviderOrg  ProviderOrgMSP   providerorg.slasa.local  provider  0
//	client    ClientOrg    ClientOrgMSP     clientorg.slasa.local    client    1
//	vendor    VendorOrg    VendorOrgMSP     vendororg.slasa.local    vendor    2
//	other     OtherOrg     OtherOrgMSP      otherorg.slasa.local     other     3
//	orgK      OrgK         OrgKMSP          orgK.slasa.local         user1     K-1  (K = 5..20)
//
// A network with SLASA_ORGS=N has N organizations with a peer: the first N of
// the table, except that with N = 3 OtherOrg is a channel member without a
// peer (its clients use ClientOrg's peer).
type OrgSpec struct {
	// Key is the organization's key in network.json's orgs and the prefix of
	// its identity names ("provider", "org5").
	Key string
	// Name is the cryptogen organization name ("ProviderOrg", "Org5").
	Name string
	// MSPID is the organization's MSP ID ("ProviderOrgMSP", "Org5MSP").
	MSPID string
	// Domain is the organization's domain ("providerorg.slasa.local", "org5.slasa.local").
	Domain string
	// User is the organization's named client user, the network.json user of
	// the identity name Key ("provider", "client", "vendor", "other", "user1").
	User string
	// Index is the organization's place in the table; its peer listens at port
	// base + 100 + 10*Index.
	Index int
	// HasPeer tells whether the organization runs a peer (set by NetworkOrgs).
	HasPeer bool
}

// PeerPort is the port of the organization's peer on a network whose port
// block starts at base.
func (o OrgSpec) PeerPort(base int) int { return base + 100 + 10*o.Index }

// namedOrgs are the first four organizations of the table.
var namedOrgs = []OrgSpec{
	{Key: "provider", Name: "ProviderOrg"},
	{Key: "client", Name: "ClientOrg"},
	{Key: "vendor", Name: "VendorOrg"},
	{Key: "other", Name: "OtherOrg"},
}

// LookupOrg returns the table's organization with the key ("provider",
// "client", "vendor", "other", "org5" .. "org20").
func LookupOrg(key string) (OrgSpec, error) {
	for i, o := range namedOrgs {
		if o.Key == key {
			o.MSPID, o.Domain, o.User, o.Index = o.Name+"MSP", strings.ToLower(o.Name)+".slasa.local", key, i
			return o, nil
		}
	}
	if k, ok := strings.CutPrefix(key, "org"); ok {
		if n, err := strconv.Atoi(k); err == nil && strconv.Itoa(n) == k && n > len(namedOrgs) && n <= MaxOrgs {
			name := "Org" + k
			return OrgSpec{Key: key, Name: name, MSPID: name + "MSP", Domain: key + ".slasa.local", User: "user1", Index: n - 1}, nil
		}
	}
	return OrgSpec{}, fmt.Errorf("organization %q: unknown (want provider, client, vendor, other or org5..org%d)", key, MaxOrgs)
}

// NetworkOrgs returns the application organizations (channel members) of a
// network with n organizations with a peer (SLASA_ORGS=n), in table order:
// ProviderOrg, ClientOrg, VendorOrg, OtherOrg (a peer only when n >= 4), then
// Org5 .. Orgn.
func NetworkOrgs(n int) ([]OrgSpec, error) {
	if n < MinOrgs || n > MaxOrgs {
		return nil, fmt.Errorf("organizations: %d with a peer, want %d..%d", n, MinOrgs, MaxOrgs)
	}
	count := max(n, len(namedOrgs))
	out := make([]OrgSpec, 0, count)
	for i := 0; i < count; i++ {
		key := "org" + strconv.Itoa(i+1)
		if i < len(namedOrgs) {
			key = namedOrgs[i].Key
		}
		o, err := LookupOrg(key)
		if err != nil {
			return nil, err
		}
		o.HasPeer = i < n
		out = append(out, o)
	}
	return out, nil
}

// AnyTwoPolicy is the signature policy "any two of these organizations'
// peers", OutOf(2,'A.peer','B.peer',...), over the MSP IDs in the order given:
// network/deploy.sh's default endorsement policy of the application
// chaincodes, over every organization with a peer in table order.
func AnyTwoPolicy(mspIDs []string) string {
	var b strings.Builder
	b.WriteString("OutOf(2")
	for _, m := range mspIDs {
		b.WriteString(",'" + m + ".peer'")
	}
	b.WriteString(")")
	return b.String()
}

// identityOrgUsers are the identity names of ProviderOrg's extra users, which
// are not named after their organization.
var identityOrgUsers = map[string][2]string{
	"logger": {"provider", "logger"},
	"issuer": {"provider", "issuer"},
	// Only on a network started with SLASA_SECOND_CA=1: provider@providerorg.slasa.local issued by
	// ProviderOrg's second root CA, and the same common name with the NodeOU role admin.
	"provider-ca2":        {"provider", "provider-ca2"},
	"provider-admin-role": {"provider", "provider-admin-role"},
}

// Identity names the organization key and network.json user of an identity
// name accepted by Connect:
//   - "<org>" is the organization's named user: "provider", "client",
//     "vendor", "other", and "org5" .. "org20" (user "user1" of Org5 ..);
//   - "<org>-admin" is the organization's admin (Admin@<domain>);
//   - "logger" and "issuer" are users of ProviderOrg (the issuer is an admin:
//     only an admin of the issuer MSP may mint);
//   - "provider-ca2" and "provider-admin-role" (ProviderOrg, on a network
//     started with SLASA_SECOND_CA=1) carry provider's common name, from a
//     second root CA and with the admin role.
//
// Whether the organization exists depends on the network (SLASA_ORGS);
// Connect says so.
func Identity(name string) (org, user string, err error) {
	if ou, ok := identityOrgUsers[name]; ok {
		return ou[0], ou[1], nil
	}
	if key, ok := strings.CutSuffix(name, "-admin"); ok {
		if o, err := LookupOrg(key); err == nil {
			return o.Key, "admin", nil
		}
	} else if o, err := LookupOrg(name); err == nil {
		return o.Key, o.User, nil
	}
	return "", "", fmt.Errorf("identity %q: unknown (want one of %s, or orgK and orgK-admin for K = 5..%d on a network with SLASA_ORGS >= K)",
		name, strings.Join(IdentityNames(), ", "), MaxOrgs)
}

// IdentityNames lists, sorted, the identity names of the default network
// (SLASA_ORGS=3; provider-ca2 and provider-admin-role need SLASA_SECOND_CA=1).
// A network with SLASA_ORGS=N also has orgK and orgK-admin for K = 5..N;
// Info.IdentityNames lists a given network's.
func IdentityNames() []string {
	var names []string
	for _, o := range namedOrgs {
		names = append(names, o.Key, o.Key+"-admin")
	}
	for n := range identityOrgUsers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IdentityName is the identity name of user of the organization org (the
// inverse of Identity), or "" when Identity has no name for it.
func IdentityName(org, user string) string {
	if user == "admin" {
		if _, err := LookupOrg(org); err == nil {
			return org + "-admin"
		}
		return ""
	}
	for n, ou := range identityOrgUsers {
		if ou == [2]string{org, user} {
			return n
		}
	}
	if o, err := LookupOrg(org); err == nil && o.User == user {
		return org
	}
	return ""
}

// IdentityNames lists, sorted, the identity names of this network: every
// user of every organization of network.json that Identity names.
func (info *Info) IdentityNames() []string {
	var names []string
	for k, o := range info.Orgs {
		for u := range o.Users {
			if n := IdentityName(k, u); n != "" {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// PeerMSPIDs returns the MSP IDs of the organizations with a peer of their
// own, sorted (as a deploy configuration lists its approving organizations).
func (info *Info) PeerMSPIDs() []string {
	var out []string
	for _, k := range info.PeerOrgs() {
		out = append(out, info.Orgs[k].MSPID)
	}
	sort.Strings(out)
	return out
}

// PeerOrgsInOrder returns the keys of the organizations with a peer of their
// own in the organization table's order (provider, client, vendor, other,
// org5, ...; keys outside the table last, sorted).
func (info *Info) PeerOrgsInOrder() []string {
	keys := info.PeerOrgs()
	index := func(k string) int {
		if o, err := LookupOrg(k); err == nil {
			return o.Index
		}
		return MaxOrgs
	}
	sort.SliceStable(keys, func(i, j int) bool { return index(keys[i]) < index(keys[j]) })
	return keys
}

// AnyTwoPolicy is AnyTwoPolicy over the network's organizations with a peer,
// in table order: network/deploy.sh's default endorsement policy of the
// application chaincodes on this network.
func (info *Info) AnyTwoPolicy() string {
	var msps []string
	for _, k := range info.PeerOrgsInOrder() {
		msps = append(msps, info.Orgs[k].MSPID)
	}
	return AnyTwoPolicy(msps)
}

// MissingOrgError explains that the network description has no organization
// org (a key of the organization table the network was not started with).
func MissingOrgError(org string) error {
	if o, err := LookupOrg(org); err == nil && o.Index >= len(namedOrgs) {
		return fmt.Errorf("organization %q not in the network description (a network started with SLASA_ORGS=%d or more has it)", org, o.Index+1)
	}
	return fmt.Errorf("organization %q not in the network description", org)
}
