// Package deploycfg is the deploy configuration of a slasa network: the
// settings that no single caller may choose, because every organization that
// runs the slasa chaincodes must approve them.
//
// # How organizations approve it
//
// Each organization gives its own chaincode servers (agreement, refund, ercc
// and slaenclave, chaincode-as-a-service) a copy of the same file, named by
// SLASA_DEPLOY_CONFIG or the server's -config flag. A server refuses to start
// without a valid one. Because every slasa transaction is endorsed by the
// peers of more than one organization, and each endorsing peer runs its own
// organization's servers, a value that one organization did not approve makes
// that organization's peer refuse to endorse: a lone organization is powerless,
// the way `peer lifecycle` needs the approval of every organization of the
// endorsement policy. The chaincodes also record the configuration's digest on
// the ledger (their Configure function, accepted only from an admin of an
// approving organization and only with exactly the endorsing peers' file), and
// every later transaction refuses to run on a peer whose file has another
// digest, so a disagreement shows as one clear error instead of a subtle
// divergence.
//
// # What it holds
//
//   - the channel and the names of the four chaincodes;
//   - the organizations that run the chaincodes and approve this file (Orgs);
//   - the issuer: the MSP whose admins alone may mint money;
//   - the enclave: the MSP that hosts it (whose admins alone may register its
//     key) and the attestation the registry accepts ("simulated" or "sgx");
//   - the root and intermediate CA certificates of each MSP whose certificates
//     the enclave accepts (SLA parties and Cloud Loggers). They are read from
//     the channel configuration, which the channel's own governance approved.
//
// The digest is the lower-case hex SHA-256 of the canonical encoding: the
// Config, normalized (lists sorted, PEM text trimmed), as compact JSON with the
// field order of the Go types.
//
// The package is pure Go: contract-API chaincodes, the v1-shim enclave, the
// CLI and the tests all use it.
package deploycfg

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/slasa/slasa/internal/strictjson"
)

// Version is the value of the version field this package reads and writes.
const Version = "slasa.deploy/v1"

// EnvFile names the environment variable holding the configuration file's path.
const EnvFile = "SLASA_DEPLOY_CONFIG"

// Attestation modes of the enclave registry.
const (
	AttestationSimulated = "simulated"
	AttestationSGX       = "sgx"
)

// Limits of a configuration.
const (
	MaxOrgs      = 64
	MaxCAsPerMSP = 16
)

// Config is a deploy configuration.
type Config struct {
	Version string `json:"version"`
	Channel string `json:"channel"`
	// Orgs are the MSP IDs of the organizations that run the chaincodes and
	// approve this configuration; their admins may record it.
	Orgs       []string   `json:"orgs"`
	Chaincodes Chaincodes `json:"chaincodes"`
	// IssuerMSPID is the MSP whose admins may mint.
	IssuerMSPID string  `json:"issuer_msp_id"`
	Enclave     Enclave `json:"enclave"`
	// MSPs are the CA certificates the enclave accepts, one entry per MSP.
	MSPs []MSP `json:"msps"`
}

// Chaincodes are the names of the slasa chaincodes on the channel.
type Chaincodes struct {
	Agreement string `json:"agreement"`
	Refund    string `json:"refund"`
	Registry  string `json:"registry"`
	Enclave   string `json:"enclave"`
}

// Enclave says who hosts the enclave and what attestation is accepted.
type Enclave struct {
	HostMSPID   string `json:"host_msp_id"`
	Attestation string `json:"attestation"`
}

// MSP holds one MSP's CA certificates, each one PEM certificate.
type MSP struct {
	MSPID         string   `json:"msp_id"`
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates"`
}

var (
	mspIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	ccNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	channelPat    = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)
)

// Normalize sorts the lists and trims the PEM text, so that two files with
// the same content in another order have the same digest.
func (c *Config) Normalize() {
	c.Orgs = slices.Clone(c.Orgs)
	sort.Strings(c.Orgs)
	msps := slices.Clone(c.MSPs)
	for i := range msps {
		msps[i].Roots = trimAll(msps[i].Roots)
		msps[i].Intermediates = trimAll(msps[i].Intermediates)
	}
	sort.Slice(msps, func(i, j int) bool { return msps[i].MSPID < msps[j].MSPID })
	c.MSPs = msps
}

func trimAll(pems []string) []string {
	out := make([]string, 0, len(pems))
	for _, p := range pems {
		out = append(out, strings.TrimSpace(p)+"\n")
	}
	return out
}

// Validate checks every field and names the first bad one by its JSON path.
func (c *Config) Validate() error {
	if c.Version != Version {
		return fmt.Errorf("version: %q is not %q", c.Version, Version)
	}
	if !channelPat.MatchString(c.Channel) {
		return fmt.Errorf("channel: %q is not a channel name", c.Channel)
	}
	if len(c.Orgs) == 0 || len(c.Orgs) > MaxOrgs {
		return fmt.Errorf("orgs: must name 1..%d organizations", MaxOrgs)
	}
	seen := map[string]bool{}
	for i, o := range c.Orgs {
		if !mspIDPattern.MatchString(o) {
			return fmt.Errorf("orgs[%d]: %q is not an MSP ID", i, o)
		}
		if seen[o] {
			return fmt.Errorf("orgs[%d]: %q is listed twice", i, o)
		}
		seen[o] = true
	}
	for _, f := range []struct{ field, name string }{
		{"chaincodes.agreement", c.Chaincodes.Agreement}, {"chaincodes.refund", c.Chaincodes.Refund},
		{"chaincodes.registry", c.Chaincodes.Registry}, {"chaincodes.enclave", c.Chaincodes.Enclave},
	} {
		if !ccNamePattern.MatchString(f.name) {
			return fmt.Errorf("%s: %q is not a chaincode name", f.field, f.name)
		}
	}
	names := []string{c.Chaincodes.Agreement, c.Chaincodes.Refund, c.Chaincodes.Registry, c.Chaincodes.Enclave}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[i] == names[j] {
				return fmt.Errorf("chaincodes: the name %q is used twice", names[i])
			}
		}
	}
	known := map[string]bool{}
	if len(c.MSPs) == 0 || len(c.MSPs) > MaxOrgs {
		return fmt.Errorf("msps: must hold 1..%d MSPs", MaxOrgs)
	}
	for i, m := range c.MSPs {
		path := fmt.Sprintf("msps[%d]", i)
		if !mspIDPattern.MatchString(m.MSPID) {
			return fmt.Errorf("%s.msp_id: %q is not an MSP ID", path, m.MSPID)
		}
		if known[m.MSPID] {
			return fmt.Errorf("%s.msp_id: %q is listed twice", path, m.MSPID)
		}
		known[m.MSPID] = true
		if len(m.Roots) == 0 || len(m.Roots) > MaxCAsPerMSP {
			return fmt.Errorf("%s.roots: must hold 1..%d root certificates", path, MaxCAsPerMSP)
		}
		if len(m.Intermediates) > MaxCAsPerMSP {
			return fmt.Errorf("%s.intermediates: at most %d certificates", path, MaxCAsPerMSP)
		}
		for j, p := range m.Roots {
			if _, err := ParseCA(p); err != nil {
				return fmt.Errorf("%s.roots[%d]: %w", path, j, err)
			}
		}
		for j, p := range m.Intermediates {
			if _, err := ParseCA(p); err != nil {
				return fmt.Errorf("%s.intermediates[%d]: %w", path, j, err)
			}
		}
	}
	for i, o := range c.Orgs {
		if !known[o] {
			return fmt.Errorf("orgs[%d]: %q has no entry in msps", i, o)
		}
	}
	if !known[c.IssuerMSPID] {
		return fmt.Errorf("issuer_msp_id: %q is not one of the MSPs in msps", c.IssuerMSPID)
	}
	if !seen[c.Enclave.HostMSPID] {
		return fmt.Errorf("enclave.host_msp_id: %q is not one of the organizations in orgs (the host runs a peer)", c.Enclave.HostMSPID)
	}
	if c.Enclave.Attestation != AttestationSimulated && c.Enclave.Attestation != AttestationSGX {
		return fmt.Errorf("enclave.attestation: %q is not %q or %q", c.Enclave.Attestation, AttestationSimulated, AttestationSGX)
	}
	return nil
}

// Encode returns the canonical encoding of the normalized configuration.
func (c *Config) Encode() ([]byte, error) {
	n := *c
	n.Normalize()
	data, err := json.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("encode deploy configuration: %w", err)
	}
	return data, nil
}

// Digest returns the lower-case hex SHA-256 of the canonical encoding.
func (c *Config) Digest() (string, error) {
	data, err := c.Encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Parse decodes a configuration (unknown fields and trailing data are
// errors), validates and normalizes it.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	c.Normalize()
	return &c, nil
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	if path == "" {
		return nil, fmt.Errorf("deploy configuration: no file given (set %s or -config)", EnvFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// HasOrg reports whether mspID approves the configuration.
func (c *Config) HasOrg(mspID string) bool { return slices.Contains(c.Orgs, mspID) }

// Pools returns the root and intermediate certificate pools of every MSP.
func (c *Config) Pools() (roots, intermediates map[string]*x509.CertPool, err error) {
	roots, intermediates = map[string]*x509.CertPool{}, map[string]*x509.CertPool{}
	for _, m := range c.MSPs {
		r, in := x509.NewCertPool(), x509.NewCertPool()
		for _, p := range m.Roots {
			cert, err := ParseCA(p)
			if err != nil {
				return nil, nil, fmt.Errorf("msps %s: %w", m.MSPID, err)
			}
			r.AddCert(cert)
		}
		for _, p := range m.Intermediates {
			cert, err := ParseCA(p)
			if err != nil {
				return nil, nil, fmt.Errorf("msps %s: %w", m.MSPID, err)
			}
			in.AddCert(cert)
		}
		roots[m.MSPID], intermediates[m.MSPID] = r, in
	}
	return roots, intermediates, nil
}

// ParseCA parses exactly one PEM CA certificate.
func ParseCA(p string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("no PEM certificate")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("holds more than one PEM block; give each certificate as its own entry")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEM block is %q, not CERTIFICATE", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("certificate %q is not a CA certificate", cert.Subject.CommonName)
	}
	return cert, nil
}
