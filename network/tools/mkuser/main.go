// Command mkuser issues a named client (or admin) identity from an organization's CA, because
// cryptogen itself only creates numbered users (User1@domain, ...), and can add a second root CA to
// an organization. It writes Fabric MSP folders whose layout matches cryptogen's:
//
//	mkuser -org-dir crypto/peerOrganizations/providerorg.slasa.local -name provider [-ou client]
//
// creates users/provider@providerorg.slasa.local/msp/{cacerts,tlscacerts,signcerts,keystore,config.yaml}
// with a P-256 key and a certificate whose common name is provider@providerorg.slasa.local, issued by
// cryptogen's CA (ca/ca.providerorg.slasa.local-cert.pem and ca/priv_sk).
//
//	mkuser -org-dir DIR -make-ca ca2
//
// creates a second self-signed root CA, ca2/ca2.<domain>-cert.pem and ca2/priv_sk, named like
// cryptogen's (CN ca2.<domain>, the first CA's other subject attributes), adds its certificate to the
// organization's MSP folder (msp/cacerts), and unbinds that MSP's NodeOU identifiers from the first CA
// (drops the Certificate lines of msp/config.yaml): cryptogen binds every NodeOU identifier to its CA's
// certificate, and an identity of another CA would then have no valid role. Do it before configtxgen
// reads the MSP folder and before issuing users (they copy msp/cacerts and msp/config.yaml).
//
//	mkuser -org-dir DIR -name provider -ca ca2 -out provider-ca2@providerorg.slasa.local
//
// issues from the CA folder ca2/ instead of ca/ (default), into users/<out>/ instead of
// users/<name>@<domain>/; the signing certificate is signcerts/<out>-cert.pem.
package main

import (
	"bytes"
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
	"regexp"
	"strings"
	"time"
)

// options are mkuser's flags.
type options struct {
	orgDir string // cryptogen organization folder
	name   string // user name (CN = name@domain)
	ou     string // NodeOU role of the user
	ca     string // CA folder the user is issued from
	out    string // user folder name under users/
	makeCA string // create this CA folder instead of a user
}

func main() {
	var o options
	flag.StringVar(&o.orgDir, "org-dir", "", "cryptogen peer organization folder (holds ca/, msp/, users/)")
	flag.StringVar(&o.name, "name", "", "user name; the certificate's common name is NAME@DOMAIN")
	flag.StringVar(&o.ou, "ou", "client", "NodeOU role: client or admin")
	flag.StringVar(&o.ca, "ca", "ca", "CA folder of the organization to issue from (holds NAME.DOMAIN-cert.pem and priv_sk)")
	flag.StringVar(&o.out, "out", "", "user folder name under users/ (default NAME@DOMAIN)")
	flag.StringVar(&o.makeCA, "make-ca", "", "create a second root CA in this folder of the organization instead of a user (e.g. ca2)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "mkuser: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "mkuser:", err)
		os.Exit(1)
	}
}

// caNamePattern is what a CA folder name (-ca, -make-ca) may be: it also becomes the CA's
// common name prefix.
var caNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

func run(o options) error {
	if o.orgDir == "" {
		return errors.New("flag -org-dir: required")
	}
	if o.makeCA != "" {
		if o.name != "" || o.out != "" {
			return errors.New("flag -make-ca: creates a CA, not a user; do not combine it with -name or -out")
		}
		if !caNamePattern.MatchString(o.makeCA) || o.makeCA == "ca" || o.makeCA == "tlsca" {
			return fmt.Errorf("flag -make-ca: %q must be a lower-case folder name (letters, digits, '-') other than ca and tlsca", o.makeCA)
		}
		return makeCA(o.orgDir, o.makeCA)
	}
	if o.name == "" || strings.ContainsAny(o.name, "@/ \t") {
		return fmt.Errorf("flag -name: %q must be a non-empty name without '@', '/' or spaces", o.name)
	}
	if o.ou != "client" && o.ou != "admin" {
		return fmt.Errorf("flag -ou: %q must be client or admin", o.ou)
	}
	if !caNamePattern.MatchString(o.ca) {
		return fmt.Errorf("flag -ca: %q must be a lower-case folder name (letters, digits, '-')", o.ca)
	}
	if o.out != "" && (strings.ContainsAny(o.out, "/ \t") || o.out == "." || o.out == "..") {
		return fmt.Errorf("flag -out: %q must be a folder name without '/' or spaces", o.out)
	}
	return issueUser(o)
}

func issueUser(o options) error {
	domain := filepath.Base(filepath.Clean(o.orgDir))
	caCert, caKey, err := readCA(o.orgDir, o.ca, domain)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ski, err := keyID(&key.PublicKey)
	if err != nil {
		return err
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	cn := o.name + "@" + domain
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
			OrganizationalUnit: []string{o.ou},
			CommonName:         cn,
		},
		NotBefore:             now,
		NotAfter:              caCert.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
		AuthorityKeyId:        caCert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	keyPEM, err := keyPEM(key)
	if err != nil {
		return err
	}

	folder := o.out
	if folder == "" {
		folder = cn
	}
	msp := filepath.Join(o.orgDir, "users", folder, "msp")
	if _, err := os.Stat(msp); err == nil {
		return fmt.Errorf("%s already exists", msp)
	}
	orgMSP := filepath.Join(o.orgDir, "msp")
	files := map[string][]byte{
		filepath.Join(msp, "signcerts", folder+"-cert.pem"): pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		filepath.Join(msp, "keystore", "priv_sk"):           keyPEM,
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
	return writeFiles(files)
}

// makeCA creates the root CA folder name of the organization and adds it to the organization's MSP.
func makeCA(orgDir, name string) error {
	domain := filepath.Base(filepath.Clean(orgDir))
	first, _, err := readCA(orgDir, "ca", domain)
	if err != nil {
		return fmt.Errorf("the organization's first CA (its subject is the model of the new one): %w", err)
	}
	dir := filepath.Join(orgDir, name)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists", dir)
	}
	orgMSP := filepath.Join(orgDir, "msp")
	cfgPath := filepath.Join(orgMSP, "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		return fmt.Errorf("the organization MSP has no NodeOUs config.yaml: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ski, err := keyID(&key.PublicKey)
	if err != nil {
		return err
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	cn := name + "." + domain
	subject := first.Subject
	subject.CommonName = cn
	subject.Names, subject.ExtraNames = nil, nil
	now := time.Now().Add(-5 * time.Minute)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now,
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment |
			x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	keyPEM, err := keyPEM(key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cacert := filepath.Join(orgMSP, "cacerts", cn+"-cert.pem")
	if _, err := os.Stat(cacert); err == nil {
		return fmt.Errorf("%s already exists", cacert)
	}
	return writeFiles(map[string][]byte{
		filepath.Join(dir, cn+"-cert.pem"): certPEM,
		filepath.Join(dir, "priv_sk"):      keyPEM,
		cacert:                             certPEM,
		cfgPath:                            UnbindNodeOUs(cfg),
	})
}

// UnbindNodeOUs drops the Certificate lines of an MSP's NodeOUs config.yaml, so that each NodeOU
// identifier (client, peer, admin, orderer) classifies identities of every CA of the MSP instead of
// only those of the CA named there.
func UnbindNodeOUs(cfg []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(cfg), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Certificate:") {
			continue
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// readCA reads the certificate and key of the CA folder name of the organization
// (cryptogen's layout: NAME/NAME.DOMAIN-cert.pem and NAME/priv_sk).
func readCA(orgDir, name, domain string) (*x509.Certificate, any, error) {
	dir := filepath.Join(orgDir, name)
	cert, err := readCert(filepath.Join(dir, name+"."+domain+"-cert.pem"))
	if err != nil {
		return nil, nil, err
	}
	key, err := readKey(filepath.Join(dir, "priv_sk"))
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func writeFiles(files map[string][]byte) error {
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

// keyID is the subject key identifier cryptogen uses: SHA-256 of the public key.
func keyID(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func keyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
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
