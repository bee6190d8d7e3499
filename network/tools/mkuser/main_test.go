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
		"msp/config.yaml":                   []byte("NodeOUs:\n  Enable: true\n"),
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
	if err := run(dir, "logger", "client"); err != nil {
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
	if err := run(dir, "logger", "client"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second run: err = %v, want 'already exists'", err)
	}
}

func TestRunErrors(t *testing.T) {
	dir, _ := newOrg(t, "clientorg.example")
	tests := []struct {
		name, orgDir, user, ou, wantErr string
	}{
		{"no org dir", "", "client", "client", "flag -org-dir"},
		{"no name", dir, "", "client", "flag -name"},
		{"name with at", dir, "a@b", "client", "flag -name"},
		{"name with slash", dir, "a/b", "client", "flag -name"},
		{"bad ou", dir, "client", "peer", "flag -ou"},
		{"missing CA", filepath.Join(t.TempDir(), "x.example"), "client", "client", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.orgDir, tt.user, tt.ou)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
