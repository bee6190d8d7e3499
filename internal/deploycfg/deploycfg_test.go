package deploycfg

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func caPEM(t *testing.T, cn string, isCA bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Unix(0, 0),
		NotAfter: time.Unix(1<<33, 0), IsCA: isCA, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// Example returns a valid configuration of the native network.
func example(t *testing.T) *Config {
	return &Config{
		Version: Version, Channel: "slasa", Orgs: []string{"ProviderOrgMSP", "ClientOrgMSP"},
		Chaincodes:  Chaincodes{Agreement: "agreement", Refund: "refund", Registry: "ercc", Enclave: "slaenclave"},
		IssuerMSPID: "ProviderOrgMSP",
		Enclave:     Enclave{HostMSPID: "ProviderOrgMSP", Attestation: AttestationSimulated},
		MSPs: []MSP{
			{MSPID: "ProviderOrgMSP", Roots: []string{caPEM(t, "ca.p", true)}},
			{MSPID: "ClientOrgMSP", Roots: []string{caPEM(t, "ca.c", true)}},
			{MSPID: "OtherOrgMSP", Roots: []string{caPEM(t, "ca.o", true)}, Intermediates: []string{}},
		},
	}
}

func TestParseNormalizesAndDigestIgnoresOrder(t *testing.T) {
	c := example(t)
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Orgs[0] != "ClientOrgMSP" || a.MSPs[0].MSPID != "ClientOrgMSP" || a.MSPs[2].MSPID != "ProviderOrgMSP" {
		t.Fatalf("not normalized: orgs %v, first MSP %s", a.Orgs, a.MSPs[0].MSPID)
	}
	// Same content, other order and PEM whitespace: same digest.
	c.Orgs = []string{"ClientOrgMSP", "ProviderOrgMSP"}
	c.MSPs[0], c.MSPs[2] = c.MSPs[2], c.MSPs[0]
	c.MSPs[1].Roots[0] = "\n\n" + c.MSPs[1].Roots[0] + "  \n"
	d1, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 || len(d1) != 64 {
		t.Fatalf("digests %s and %s differ", d1, d2)
	}
	// Another issuer: another digest.
	c.IssuerMSPID = "ClientOrgMSP"
	if d3, _ := c.Digest(); d3 == d1 {
		t.Fatal("changing the issuer left the digest unchanged")
	}
}

func TestValidate(t *testing.T) {
	notCA := caPEM(t, "leaf", false)
	for name, tc := range map[string]struct {
		edit func(*Config)
		msg  string
	}{
		"version":         {func(c *Config) { c.Version = "v0" }, `version: "v0" is not "slasa.deploy/v1"`},
		"channel":         {func(c *Config) { c.Channel = "Bad Channel" }, `channel: "Bad Channel" is not a channel name`},
		"no orgs":         {func(c *Config) { c.Orgs = nil }, "orgs: must name 1..64 organizations"},
		"org twice":       {func(c *Config) { c.Orgs = []string{"ClientOrgMSP", "ClientOrgMSP"} }, `orgs[1]: "ClientOrgMSP" is listed twice`},
		"bad org":         {func(c *Config) { c.Orgs[0] = "a b" }, `orgs[0]: "a b" is not an MSP ID`},
		"org without CAs": {func(c *Config) { c.Orgs = append(c.Orgs, "FourthMSP") }, `orgs[2]: "FourthMSP" has no entry in msps`},
		"chaincode name":  {func(c *Config) { c.Chaincodes.Refund = "" }, `chaincodes.refund: "" is not a chaincode name`},
		"chaincode twice": {func(c *Config) { c.Chaincodes.Enclave = "ercc" }, `chaincodes: the name "ercc" is used twice`},
		"issuer unknown":  {func(c *Config) { c.IssuerMSPID = "NobodyMSP" }, `issuer_msp_id: "NobodyMSP" is not one of the MSPs in msps`},
		"host not an org": {func(c *Config) { c.Enclave.HostMSPID = "OtherOrgMSP" }, `enclave.host_msp_id: "OtherOrgMSP" is not one of the organizations in orgs (the host runs a peer)`},
		"attestation":     {func(c *Config) { c.Enclave.Attestation = "trust-me" }, `enclave.attestation: "trust-me" is not "simulated" or "sgx"`},
		"no msps":         {func(c *Config) { c.MSPs = nil }, "msps: must hold 1..64 MSPs"},
		"msp twice":       {func(c *Config) { c.MSPs[2].MSPID = "ClientOrgMSP" }, `msps[2].msp_id: "ClientOrgMSP" is listed twice`},
		"no roots":        {func(c *Config) { c.MSPs[1].Roots = nil }, "msps[1].roots: must hold 1..16 root certificates"},
		"root not a CA":   {func(c *Config) { c.MSPs[1].Roots[0] = notCA }, `msps[1].roots[0]: certificate "leaf" is not a CA certificate`},
		"two PEM blocks":  {func(c *Config) { c.MSPs[0].Roots[0] += c.MSPs[1].Roots[0] }, "msps[0].roots[0]: holds more than one PEM block; give each certificate as its own entry"},
		"intermediate":    {func(c *Config) { c.MSPs[0].Intermediates = []string{"junk"} }, "msps[0].intermediates[0]: no PEM certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			c := example(t)
			tc.edit(c)
			err := c.Validate()
			if err == nil || err.Error() != tc.msg {
				t.Fatalf("Validate = %v, want %q", err, tc.msg)
			}
		})
	}
	if err := example(t).Validate(); err != nil {
		t.Fatalf("the example is invalid: %v", err)
	}
}

func TestParseRejectsUnknownFieldsAndLoad(t *testing.T) {
	if _, err := Parse([]byte(`{"version":"slasa.deploy/v1","extra":1}`)); err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
		t.Fatalf("Parse with an unknown field: %v", err)
	}
	if _, err := Load(""); err == nil || err.Error() != "deploy configuration: no file given (set SLASA_DEPLOY_CONFIG or -config)" {
		t.Fatalf("Load(\"\"): %v", err)
	}
	data, _ := json.Marshal(example(t))
	path := filepath.Join(t.TempDir(), "deploy.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasOrg("ProviderOrgMSP") || c.HasOrg("OtherOrgMSP") {
		t.Fatalf("HasOrg: orgs %v", c.Orgs)
	}
	roots, inter, err := c.Pools()
	if err != nil || len(roots) != 3 || len(inter) != 3 {
		t.Fatalf("Pools: %d roots, %d intermediates, %v", len(roots), len(inter), err)
	}
}
