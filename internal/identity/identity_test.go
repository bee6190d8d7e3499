package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

func cert(t *testing.T, subject, issuer pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: issuer, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: subject, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cidID is what Fabric's client identity library makes of cert.
func cidID(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: "Org1MSP", IdBytes: pemOf(c)})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := cid.New(creatorStub(creator))
	if err != nil {
		t.Fatal(err)
	}
	id, err := ci.GetID()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestDNMatchesFabricClientIdentity(t *testing.T) {
	fabricUser := pkix.Name{CommonName: "provider@providerorg.slasa.local", OrganizationalUnit: []string{"client"},
		Locality: []string{"San Francisco"}, Province: []string{"California"}, Country: []string{"US"}}
	fabricCA := pkix.Name{CommonName: "ca.providerorg.slasa.local", Organization: []string{"providerorg.slasa.local"},
		Locality: []string{"San Francisco"}, Province: []string{"California"}, Country: []string{"US"}}
	tricky := pkix.Name{CommonName: " #lead, and+plus \"q\" <a> b;c\\ trail ", OrganizationalUnit: []string{"client", "dept"},
		SerialNumber: "42", StreetAddress: []string{"1 Main St"}, PostalCode: []string{"94105"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "uid7"}}}
	for name, tc := range map[string]struct{ subject, issuer pkix.Name }{
		"fabric user":      {fabricUser, fabricCA},
		"escapes and oids": {tricky, pkix.Name{CommonName: "#ca"}},
		"empty subject":    {pkix.Name{}, fabricCA},
	} {
		t.Run(name, func(t *testing.T) {
			c := cert(t, tc.subject, tc.issuer)
			want := cidID(t, c)
			got := "x509::" + DN(c.Subject) + "::" + DN(c.Issuer)
			if got != want {
				t.Fatalf("DN:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestFabricUserDN(t *testing.T) {
	c := cert(t, pkix.Name{CommonName: "client@clientorg.slasa.local", OrganizationalUnit: []string{"client"}, Country: []string{"US"}},
		pkix.Name{CommonName: "ca.clientorg.slasa.local", Organization: []string{"clientorg.slasa.local"}})
	id := FromCert("ClientOrgMSP", c)
	want := ID{MSPID: "ClientOrgMSP", Subject: "CN=client@clientorg.slasa.local,OU=client,C=US", Issuer: "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local"}
	if id != want {
		t.Fatalf("FromCert = %+v, want %+v", id, want)
	}
	if cn := CommonName(id.Subject); cn != "client@clientorg.slasa.local" {
		t.Fatalf("CommonName = %q", cn)
	}
	if cn := CommonName(`OU=x,CN=a\,b`); cn != "a,b" {
		t.Fatalf("CommonName of escaped = %q", cn)
	}
	if cn := CommonName("OU=x"); cn != "" {
		t.Fatalf("CommonName without CN = %q", cn)
	}
}

func TestMismatch(t *testing.T) {
	ca := pkix.Name{CommonName: "ca.p"}
	party := cert(t, pkix.Name{CommonName: "provider", OrganizationalUnit: []string{"client"}}, ca)
	want := FromCert("P", party)
	if err := Mismatch("the provider", want, "P", party); err != nil {
		t.Fatalf("same identity: %v", err)
	}
	for name, tc := range map[string]struct {
		msp  string
		cert *x509.Certificate
		msg  string
	}{
		"other MSP":         {"Q", party, `the provider: MSP "Q" is not the MSP "P" of the provider`},
		"same CN, admin":    {"P", cert(t, pkix.Name{CommonName: "provider", OrganizationalUnit: []string{"admin"}}, ca), `the provider: certificate subject "CN=provider,OU=admin" is not the subject "CN=provider,OU=client" of the provider`},
		"same CN, other CA": {"P", cert(t, pkix.Name{CommonName: "provider", OrganizationalUnit: []string{"client"}}, pkix.Name{CommonName: "ca2.p"}), `the provider: certificate issuer "CN=ca2.p" is not the issuer "CN=ca.p" of the provider`},
		"no certificate":    {"P", nil, "the provider: no certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Mismatch("the provider", want, tc.msp, tc.cert)
			if err == nil || err.Error() != tc.msg {
				t.Fatalf("Mismatch = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestRole(t *testing.T) {
	ca := pkix.Name{CommonName: "ca"}
	for ous, want := range map[string]string{
		"admin":        RoleAdmin,
		"client":       RoleClient,
		"peer":         RolePeer,
		"orderer":      RoleOrderer,
		"":             "",
		"Admin":        "",
		"dept,admin":   RoleAdmin,
		"admin,client": "",
	} {
		var list []string
		if ous != "" {
			list = strings.Split(ous, ",")
		}
		if got := Role(cert(t, pkix.Name{CommonName: "x", OrganizationalUnit: list}, ca)); got != want {
			t.Errorf("Role(OU %q) = %q, want %q", ous, got, want)
		}
	}
	if Role(nil) != "" {
		t.Error("Role(nil) is not empty")
	}
}

func TestValidate(t *testing.T) {
	for id, msg := range map[ID]string{
		{}:                                      "p.msp_id: must not be empty",
		{MSPID: "M"}:                            "p.subject: must not be empty",
		{MSPID: "M", Subject: "CN=a"}:           "p.issuer: must not be empty",
		{MSPID: "M", Subject: "S", Issuer: "I"}: "",
	} {
		err := id.Validate("p")
		if (err == nil) != (msg == "") || (err != nil && err.Error() != msg) {
			t.Errorf("Validate(%+v) = %v, want %q", id, err, msg)
		}
	}
}

func pemOf(c *x509.Certificate) []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(c.Raw) + "\n-----END CERTIFICATE-----\n")
}

type creatorStub []byte

func (c creatorStub) GetCreator() ([]byte, error) { return c, nil }
