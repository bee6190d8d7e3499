package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newOrg writes a minimal cryptogen-like organization folder whose CA starts in the future by a
// minute (cryptogen rounds its CA's NotBefore), to exercise the NotBefore clamp.
func newOrg(t *testing.T, domain string) (string, *x509.Certificate) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), domain)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"US"}, CommonName: "ca." + domain},
		NotBefore:             time.Now().Add(time.Minute).Truncate(time.Minute),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	files := map[string][]byte{
		"ca/ca." + domain + "-cert.pem":     certPEM,
		"ca/priv_sk":                        pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"msp/cacerts/ca." + domain + ".pem": certPEM,
		"msp/tlscacerts/tlsca.pem":          certPEM,
		"msp/config.yaml":                   []byte(nodeOUs(domain)),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ca
}

func TestRun(t *testing.T) {
	const domain = "providerorg.example"
	dir, ca := newOrg(t, domain)
	if err := run(options{orgDir: dir, name: "logger", ou: "client", ca: "ca"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	msp := filepath.Join(dir, "users", "logger@"+domain, "msp")
	data, err := os.ReadFile(filepath.Join(msp, "signcerts", "logger@"+domain+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "logger@"+domain || len(cert.Subject.OrganizationalUnit) != 1 || cert.Subject.OrganizationalUnit[0] != "client" {
		t.Errorf("subject = %v", cert.Subject)
	}
	// Fabric's MSP verifies a chain at the leaf's NotBefore + 1 s.
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: cert.NotBefore.Add(time.Second)}); err != nil {
		t.Errorf("chain does not verify at NotBefore+1s: %v", err)
	}
	for _, f := range []string{"keystore/priv_sk", "config.yaml", "cacerts/ca." + domain + ".pem", "tlscacerts/tlsca.pem"} {
		if _, err := os.Stat(filepath.Join(msp, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if err := run(options{orgDir: dir, name: "logger", ou: "client", ca: "ca"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second run: err = %v, want 'already exists'", err)
	}
}

func TestRunErrors(t *testing.T) {
	dir, _ := newOrg(t, "clientorg.example")
	user := func(name, ou string) options { return options{orgDir: dir, name: name, ou: ou, ca: "ca"} }
	tests := []struct {
		name    string
		o       options
		wantErr string
	}{
		{"no org dir", options{name: "client", ou: "client", ca: "ca"}, "flag -org-dir: required"},
		{"no name", user("", "client"), `flag -name: "" must be a non-empty name`},
		{"name with at", user("a@b", "client"), `flag -name: "a@b"`},
		{"name with slash", user("a/b", "client"), `flag -name: "a/b"`},
		{"bad ou", user("client", "peer"), `flag -ou: "peer" must be client or admin`},
		{"bad ca", options{orgDir: dir, name: "client", ou: "client", ca: "../ca"}, `flag -ca: "../ca" must be a lower-case folder name`},
		{"unknown ca", options{orgDir: dir, name: "client", ou: "client", ca: "ca9"}, "ca9/ca9.clientorg.example-cert.pem: no such file"},
		{"bad out", options{orgDir: dir, name: "client", ou: "client", ca: "ca", out: "a/b"}, `flag -out: "a/b" must be a folder name`},
		{"out dot-dot", options{orgDir: dir, name: "client", ou: "client", ca: "ca", out: ".."}, `flag -out: ".."`},
		{"missing CA", options{orgDir: filepath.Join(t.TempDir(), "x.example"), name: "client", ou: "client", ca: "ca"}, "no such file"},
		{"make-ca with name", options{orgDir: dir, name: "client", ou: "client", ca: "ca", makeCA: "ca2"}, "flag -make-ca: creates a CA, not a user"},
		{"make-ca named ca", options{orgDir: dir, makeCA: "ca"}, `flag -make-ca: "ca" must be a lower-case folder name`},
		{"make-ca named tlsca", options{orgDir: dir, makeCA: "tlsca"}, `flag -make-ca: "tlsca"`},
		{"make-ca bad name", options{orgDir: dir, makeCA: "CA2"}, `flag -make-ca: "CA2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
	// A refused command wrote nothing.
	if entries, err := os.ReadDir(filepath.Join(dir, "users")); err == nil && len(entries) > 0 {
		t.Errorf("users/ holds %d entries after refused commands", len(entries))
	}
	if _, err := os.Stat(filepath.Join(dir, "ca2")); err == nil {
		t.Error("ca2/ exists after refused commands")
	}
}

// nodeOUs is the msp/config.yaml cryptogen writes with EnableNodeOUs: every identifier bound to the CA.
func nodeOUs(domain string) string {
	var b strings.Builder
	b.WriteString("NodeOUs:\n  Enable: true\n")
	for _, ou := range []string{"Client", "Peer", "Admin", "Orderer"} {
		b.WriteString("  " + ou + "OUIdentifier:\n")
		b.WriteString("    Certificate: cacerts/ca." + domain + "-cert.pem\n")
		b.WriteString("    OrganizationalUnitIdentifier: " + strings.ToLower(ou) + "\n")
	}
	return b.String()
}

func TestUnbindNodeOUs(t *testing.T) {
	got := string(UnbindNodeOUs([]byte(nodeOUs("o.example"))))
	want := "NodeOUs:\n  Enable: true\n" +
		"  ClientOUIdentifier:\n    OrganizationalUnitIdentifier: client\n" +
		"  PeerOUIdentifier:\n    OrganizationalUnitIdentifier: peer\n" +
		"  AdminOUIdentifier:\n    OrganizationalUnitIdentifier: admin\n" +
		"  OrdererOUIdentifier:\n    OrganizationalUnitIdentifier: orderer\n"
	if got != want {
		t.Errorf("UnbindNodeOUs =\n%s\nwant\n%s", got, want)
	}
}

func readCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	cert, err := readCert(path)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestSecondCA adds a second root CA to an organization and issues a user from it into a named
// folder: the same common name as a user of the first CA, another issuer.
func TestSecondCA(t *testing.T) {
	const domain = "providerorg.example"
	dir, ca1 := newOrg(t, domain)
	if err := run(options{orgDir: dir, makeCA: "ca2"}); err != nil {
		t.Fatalf("make-ca: %v", err)
	}
	ca2 := readCertFile(t, filepath.Join(dir, "ca2", "ca2."+domain+"-cert.pem"))
	if ca2.Subject.CommonName != "ca2."+domain || !ca2.IsCA || ca2.Subject.Country[0] != ca1.Subject.Country[0] {
		t.Errorf("ca2 subject %v (CA %v), want CN ca2.%s and the first CA's other attributes", ca2.Subject, ca2.IsCA, domain)
	}
	if err := ca2.CheckSignatureFrom(ca2); err != nil {
		t.Errorf("ca2 is not self-signed: %v", err)
	}
	// The organization's MSP holds both roots, and its NodeOU identifiers name no CA.
	for _, f := range []string{"ca." + domain + ".pem", "ca2." + domain + "-cert.pem"} {
		if _, err := os.Stat(filepath.Join(dir, "msp", "cacerts", f)); err != nil {
			t.Errorf("msp/cacerts: %v", err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "msp", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), "Certificate:") || !strings.Contains(string(cfg), "OrganizationalUnitIdentifier: client") {
		t.Errorf("msp/config.yaml after make-ca:\n%s", cfg)
	}

	out := "provider-ca2@" + domain
	if err := run(options{orgDir: dir, name: "provider", ou: "client", ca: "ca2", out: out}); err != nil {
		t.Fatalf("issue from ca2: %v", err)
	}
	if err := run(options{orgDir: dir, name: "provider", ou: "admin", ca: "ca", out: "provider-admin-role@" + domain}); err != nil {
		t.Fatalf("issue admin from ca: %v", err)
	}
	msp := filepath.Join(dir, "users", out, "msp")
	leaf := readCertFile(t, filepath.Join(msp, "signcerts", out+"-cert.pem"))
	if leaf.Subject.CommonName != "provider@"+domain || leaf.Issuer.CommonName != "ca2."+domain {
		t.Errorf("ca2 user: subject %v, issuer %v", leaf.Subject, leaf.Issuer)
	}
	pool := func(c *x509.Certificate) *x509.CertPool { p := x509.NewCertPool(); p.AddCert(c); return p }
	at := leaf.NotBefore.Add(time.Second)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(ca2), CurrentTime: at}); err != nil {
		t.Errorf("ca2 user does not verify against ca2: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(ca1), CurrentTime: at}); err == nil {
		t.Error("ca2 user verifies against the first CA")
	}
	if _, err := os.Stat(filepath.Join(msp, "cacerts", "ca2."+domain+"-cert.pem")); err != nil {
		t.Errorf("the ca2 user's MSP folder lacks ca2: %v", err)
	}
	admin := readCertFile(t, filepath.Join(dir, "users", "provider-admin-role@"+domain, "msp", "signcerts", "provider-admin-role@"+domain+"-cert.pem"))
	if admin.Subject.CommonName != "provider@"+domain || admin.Subject.OrganizationalUnit[0] != "admin" || admin.Issuer.CommonName != ca1.Subject.CommonName {
		t.Errorf("admin-role user: subject %v, issuer %v", admin.Subject, admin.Issuer)
	}
	if err := run(options{orgDir: dir, makeCA: "ca2"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second make-ca: err = %v, want 'already exists'", err)
	}
}
