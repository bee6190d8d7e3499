package fabricfake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// CA is a test certificate authority of one MSP.
type CA struct {
	MSPID  string
	Cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial int64
}

// Identity is a test identity: an MSP ID, an X.509 certificate and its key.
type Identity struct {
	MSPID   string
	Cert    *x509.Certificate
	CertPEM []byte
	Key     *ecdsa.PrivateKey
}

// NewCA creates a self-signed ECDSA P-256 root CA for mspID, named like
// cryptogen names the CA of the native network's organization: an MSP ID
// "ProviderOrgMSP" gets "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,
// L=San Francisco,ST=California,C=US", and the identities it issues carry
// cryptogen's L, ST and C too. So the parties' subject and issuer DNs of the
// example SLAs are the DNs of the fake identities as much as of the real
// ones.
func NewCA(mspID string) (*CA, error) {
	domain := strings.ToLower(strings.TrimSuffix(mspID, "MSP")) + ".slasa.local"
	return NewNamedCA(mspID, "ca."+domain, domain)
}

// NewNamedCA creates a self-signed root CA for mspID with the given common
// name and organization (a second CA of one MSP, say).
func NewNamedCA(mspID, commonName, organization string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject: pkix.Name{CommonName: commonName, Organization: []string{organization},
			Locality: []string{cryptogenLocality}, Province: []string{cryptogenProvince}, Country: []string{cryptogenCountry}},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{MSPID: mspID, Cert: cert, key: key, serial: 1}, nil
}

// The locality cryptogen writes into every certificate it makes.
const (
	cryptogenLocality = "San Francisco"
	cryptogenProvince = "California"
	cryptogenCountry  = "US"
)

// MustNewNamedCA is NewNamedCA that panics on error (tests only).
func MustNewNamedCA(mspID, commonName, organization string) *CA {
	ca, err := NewNamedCA(mspID, commonName, organization)
	if err != nil {
		panic(err)
	}
	return ca
}

// MustNewCA is NewCA that panics on error (tests only).
func MustNewCA(mspID string) *CA {
	ca, err := NewCA(mspID)
	if err != nil {
		panic(err)
	}
	return ca
}

// Issue issues an identity with the given common name and organizational
// units (cryptogen with NodeOUs puts "client", "admin" or "peer" there).
func (ca *CA) Issue(commonName string, ous ...string) (*Identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial),
		Subject: pkix.Name{CommonName: commonName, OrganizationalUnit: ous,
			Locality: []string{cryptogenLocality}, Province: []string{cryptogenProvince}, Country: []string{cryptogenCountry}},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:  time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return &Identity{
		MSPID:   ca.MSPID,
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Key:     key,
	}, nil
}

// MustIssue is Issue that panics on error (tests only).
func (ca *CA) MustIssue(commonName string, ous ...string) *Identity {
	id, err := ca.Issue(commonName, ous...)
	if err != nil {
		panic(err)
	}
	return id
}

// Pool returns a certificate pool holding the CA's root.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Serialized returns the identity as the creator bytes of a proposal
// (msp.SerializedIdentity).
func (id *Identity) Serialized() []byte {
	b, err := proto.Marshal(&msp.SerializedIdentity{Mspid: id.MSPID, IdBytes: id.CertPEM})
	if err != nil {
		panic(err) // cannot happen for this message
	}
	return b
}
