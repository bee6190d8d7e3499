// Command mkuser issues a named client (or admin) identity from an organization's cryptogen CA,
// because cryptogen itself only creates numbered users (User1@domain, ...). It writes a Fabric
// MSP folder whose layout matches cryptogen's user folders:
//
//	mkuser -org-dir crypto/peerOrganizations/providerorg.slasa.local -name provider [-ou client]
//
// creates users/provider@providerorg.slasa.local/msp/{cacerts,tlscacerts,signcerts,keystore,config.yaml}
// with a P-256 key and a certificate whose common name is provider@providerorg.slasa.local.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	orgDir := flag.String("org-dir", "", "cryptogen peer organization folder (holds ca/, msp/, users/)")
	name := flag.String("name", "", "user name; the certificate's common name is NAME@DOMAIN")
	ou := flag.String("ou", "client", "NodeOU role: client or admin")
	flag.Parse()
	if err := run(*orgDir, *name, *ou); err != nil {
		fmt.Fprintln(os.Stderr, "mkuser:", err)
		os.Exit(1)
	}
}

func run(orgDir, name, ou string) error {
	if orgDir == "" {
		return errors.New("flag -org-dir: required")
	}
	if name == "" || strings.ContainsAny(name, "@/ \t") {
		return fmt.Errorf("flag -name: %q must be a non-empty name without '@', '/' or spaces", name)
	}
	if ou != "client" && ou != "admin" {
		return fmt.Errorf("flag -ou: %q must be client or admin", ou)
	}
	domain := filepath.Base(filepath.Clean(orgDir))
	caDir := filepath.Join(orgDir, "ca")
	caCertPath := filepath.Join(caDir, "ca."+domain+"-cert.pem")
	caCert, err := readCert(caCertPath)
	if err != nil {
		return err
	}
	caKey, err := readKey(filepath.Join(caDir, "priv_sk"))
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pubBytes, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	ski := sha256.Sum256(pubBytes)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return err
	}
	cn := name + "@" + domain
	// Fabric's MSP checks a chain at the leaf's NotBefore (+1 s), so the leaf must not start before its CA.
	now := time.Now().Add(-5 * time.Minute)
	if now.Before(caCert.NotBefore) {
		now = caCert.NotBefore
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country:            caCert.Subject.Country,
			Province:           caCert.Subject.Province,
			Locality:           caCert.Subject.Locality,
			OrganizationalUnit: []string{ou},
			CommonName:         cn,
		},
		NotBefore:             now,
		NotAfter:              caCert.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski[:],
		AuthorityKeyId:        caCert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}

	msp := filepath.Join(orgDir, "users", cn, "msp")
	if _, err := os.Stat(msp); err == nil {
		return fmt.Errorf("%s already exists", msp)
	}
	orgMSP := filepath.Join(orgDir, "msp")
	files := map[string][]byte{
		filepath.Join(msp, "signcerts", cn+"-cert.pem"): pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		filepath.Join(msp, "keystore", "priv_sk"):       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for _, sub := range []string{"cacerts", "tlscacerts"} {
		entries, err := os.ReadDir(filepath.Join(orgMSP, sub))
		if err != nil {
			return err
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(orgMSP, sub, e.Name()))
			if err != nil {
				return err
			}
			files[filepath.Join(msp, sub, e.Name())] = data
		}
	}
	cfg, err := os.ReadFile(filepath.Join(orgMSP, "config.yaml"))
	if err != nil {
		return fmt.Errorf("the organization MSP has no NodeOUs config.yaml: %w", err)
	}
	files[filepath.Join(msp, "config.yaml")] = cfg
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(path, "priv_sk") {
			mode = 0o600
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			return err
		}
	}
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}

func readKey(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
