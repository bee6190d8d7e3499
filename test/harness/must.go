package harness

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"os"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
)

// MustSubmit is SubmitAndSync that fails the test, with the chaincode's
// messages (fabnet.ErrorText), when the transaction does not commit.
func (n *Network) MustSubmit(t testing.TB, identityName, chaincode, function string, args ...string) []byte {
	t.Helper()
	out, err := n.SubmitAndSync(identityName, chaincode, function, args...)
	if err != nil {
		t.Fatalf("%s %s.%s: %s", identityName, chaincode, function, fabnet.ErrorText(err))
	}
	return out
}

// MustEvaluate evaluates a transaction as the identity and fails the test,
// with the chaincode's messages, when it fails.
func (n *Network) MustEvaluate(t testing.TB, identityName, chaincode, function string, args ...string) []byte {
	t.Helper()
	c, err := n.Contract(identityName, chaincode)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.EvaluateTransaction(function, args...)
	if err != nil {
		t.Fatalf("%s %s.%s: %s", identityName, chaincode, function, fabnet.ErrorText(err))
	}
	return out
}

// UserKey returns an identity's certificate (PEM) and private key.
func (n *Network) UserKey(t testing.TB, identityName string) (certPEM string, key *ecdsa.PrivateKey) {
	t.Helper()
	org, user, err := Identity(identityName)
	if err != nil {
		t.Fatal(err)
	}
	u := n.Info.Orgs[org].Users[user]
	cert, err := os.ReadFile(u.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(u.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signedsla.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return string(cert), k
}

// ID returns the identity the chaincodes see for an identity name: its MSP ID and its certificate's
// subject and issuer DNs (what error messages and SLA parties name).
func (n *Network) ID(t testing.TB, identityName string) identity.ID {
	t.Helper()
	org, _, err := Identity(identityName)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := n.UserKey(t, identityName)
	cert, err := signedsla.ParseCertificatePEM([]byte(certPEM))
	if err != nil {
		t.Fatalf("identity %q: %v", identityName, err)
	}
	return identity.FromCert(n.Info.Orgs[org].MSPID, cert)
}

// SignB64 signs digest (already a hash) with the identity's key and returns
// the base64 ASN.1 ECDSA signature, as the chaincodes take signatures.
func (n *Network) SignB64(t testing.TB, identityName string, digest []byte) string {
	t.Helper()
	_, key := n.UserKey(t, identityName)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// MustContract is Contract that fails the test on error.
func (n *Network) MustContract(t testing.TB, identityName, chaincode string) *client.Contract {
	t.Helper()
	c, err := n.Contract(identityName, chaincode)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
