// Package credentials defines an enclave's credentials in the FPC model and
// their attestation evidence: what an enclave publishes about itself and what
// the enclave registry (ercc) checks before anyone trusts the enclave's keys.
//
// An enclave's credentials bind its verifying key (ECDSA P-256, which signs
// every response and verdict) and the chaincode encryption key (RSA, to which
// clients encrypt requests and the Cloud Logger encrypts log batches) to one
// chaincode definition (channel, name, version, sequence) and to the MSP of the
// peer that hosts it, under an attestation.
//
// The package is pure Go: both the enclave runtime (v1 shim) and the registry
// chaincode (v2 contract API) use it.
package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/slasa/slasa/internal/strictjson"
)

// Attestation types. Only AttestationSimulated is verifiable in this build;
// the SGX types are recognised so that a registry can say why it refuses them.
const (
	// AttestationSimulated is evidence produced without SGX: the enclave's
	// signature over its attested data with its own key. It proves key
	// possession only, not that the code runs in an enclave. Accepted by a
	// registry configured for development/simulation only.
	AttestationSimulated      = "simulated"
	AttestationEPIDLinkable   = "epid-linkable"
	AttestationEPIDUnlinkable = "epid-unlinkable"
	AttestationDCAP           = "dcap"
)

// SimulatedDomainTag prefixes the bytes signed as simulated evidence.
const SimulatedDomainTag = "slasa.attestation.simulated/v1\n"

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// MinRSABits is the smallest chaincode encryption key accepted.
const MinRSABits = 2048

// AttestedData is what an enclave's attestation vouches for.
type AttestedData struct {
	Channel           string `json:"channel"`
	Chaincode         string `json:"chaincode"`
	ChaincodeVersion  string `json:"chaincode_version"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	PeerMSPID         string `json:"peer_msp_id"`
	Endpoint          string `json:"endpoint"`
	// EnclaveVK is the enclave's verifying key, PEM "PUBLIC KEY" (PKIX, ECDSA P-256).
	EnclaveVK string `json:"enclave_vk"`
	// ChaincodeEK is the chaincode encryption key, PEM "PUBLIC KEY" (PKIX, RSA).
	ChaincodeEK string `json:"chaincode_ek"`
	// ConfigDigest is the digest of the deploy configuration the enclave was
	// given at initialisation (internal/deploycfg): the CA roots it trusts
	// and the chaincode names. The registry registers the enclave only when
	// it equals the digest of every endorsing organization's own file.
	ConfigDigest string `json:"config_digest"`
}

// Attestation is the evidence for the attested data.
type Attestation struct {
	Type     string `json:"type"`
	Evidence []byte `json:"evidence"`
}

// Credentials are what an enclave registers. AttestedData is kept as the exact
// bytes the evidence covers.
type Credentials struct {
	AttestedData json.RawMessage `json:"attested_data"`
	Attestation  Attestation     `json:"attestation"`
}

// Record is what the registry returns for a registered enclave.
type Record struct {
	Chaincode         string `json:"chaincode"`
	EnclaveID         string `json:"enclave_id"`
	EnclaveVK         string `json:"enclave_vk"`
	ChaincodeEK       string `json:"chaincode_ek"`
	PeerMSPID         string `json:"peer_msp_id"`
	Endpoint          string `json:"endpoint"`
	AttestationType   string `json:"attestation_type"`
	ChaincodeVersion  string `json:"chaincode_version"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	Channel           string `json:"channel"`
	ConfigDigest      string `json:"config_digest"`
	// RegisteredBy is the admin who registered the enclave (MSP ID, subject
	// and issuer), RegisteredTxID and RegisteredAt the transaction.
	RegisteredBy   string `json:"registered_by,omitempty"`
	RegisteredTxID string `json:"registered_tx_id,omitempty"`
	RegisteredAt   string `json:"registered_at,omitempty"`
}

// VerifyingKey parses the record's enclave verifying key.
func (r *Record) VerifyingKey() (*ecdsa.PublicKey, error) { return ParseECDSAPublicKey(r.EnclaveVK) }

// EncryptionKey parses the record's chaincode encryption key.
func (r *Record) EncryptionKey() (*rsa.PublicKey, error) { return ParseRSAPublicKey(r.ChaincodeEK) }

// EnclaveID returns the FPC enclave id of a verifying key: upper-case hex
// SHA-256 of its PKIX DER encoding.
func EnclaveID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode enclave verifying key: %w", err)
	}
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:])), nil
}

// MarshalPublicKey encodes an ECDSA or RSA public key as PEM "PUBLIC KEY".
func MarshalPublicKey(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

func parsePublicKey(field, text string) (any, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: not a PEM \"PUBLIC KEY\" block", field)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("%s: trailing data after the PEM block", field)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return pub, nil
}

// ParseECDSAPublicKey parses a PEM PKIX ECDSA P-256 public key.
func ParseECDSAPublicKey(text string) (*ecdsa.PublicKey, error) {
	pub, err := parsePublicKey("enclave_vk", text)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("enclave_vk: must be an ECDSA P-256 key")
	}
	return k, nil
}

// ParseRSAPublicKey parses a PEM PKIX RSA public key of at least MinRSABits.
func ParseRSAPublicKey(text string) (*rsa.PublicKey, error) {
	pub, err := parsePublicKey("chaincode_ek", text)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("chaincode_ek: must be an RSA key")
	}
	if k.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("chaincode_ek: RSA key of %d bits, need at least %d", k.N.BitLen(), MinRSABits)
	}
	return k, nil
}

// Validate checks every field of the attested data.
func (d *AttestedData) Validate() error {
	switch {
	case d.Channel == "":
		return errors.New("attested_data.channel: must not be empty")
	case d.Chaincode == "":
		return errors.New("attested_data.chaincode: must not be empty")
	case d.ChaincodeVersion == "":
		return errors.New("attested_data.chaincode_version: must not be empty")
	case d.ChaincodeSequence < 1:
		return fmt.Errorf("attested_data.chaincode_sequence: %d, must be >= 1", d.ChaincodeSequence)
	case d.PeerMSPID == "":
		return errors.New("attested_data.peer_msp_id: must not be empty")
	case !hexDigest.MatchString(d.ConfigDigest):
		return errors.New("attested_data.config_digest: must be 64 lower-case hex digits (the deploy configuration's digest)")
	}
	if _, err := ParseECDSAPublicKey(d.EnclaveVK); err != nil {
		return fmt.Errorf("attested_data.%w", err)
	}
	if _, err := ParseRSAPublicKey(d.ChaincodeEK); err != nil {
		return fmt.Errorf("attested_data.%w", err)
	}
	return nil
}

// NewSimulated makes credentials with simulated evidence: the enclave signs
// its own attested data. Label it as simulated wherever it shows.
func NewSimulated(d AttestedData, key *ecdsa.PrivateKey) (*Credentials, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode attested data: %w", err)
	}
	sum := sha256.Sum256(append([]byte(SimulatedDomainTag), raw...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, fmt.Errorf("sign simulated evidence: %w", err)
	}
	return &Credentials{AttestedData: raw, Attestation: Attestation{Type: AttestationSimulated, Evidence: sig}}, nil
}

// Parse decodes credentials strictly (unknown fields and trailing data are
// rejected) and decodes and validates the attested data.
func Parse(data []byte) (*Credentials, *AttestedData, error) {
	var c Credentials
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	if len(c.AttestedData) == 0 {
		return nil, nil, errors.New("credentials.attested_data: missing")
	}
	var d AttestedData
	if err := strictjson.Unmarshal(c.AttestedData, &d); err != nil {
		return nil, nil, fmt.Errorf("credentials.attested_data: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	return &c, &d, nil
}

// VerifySimulated checks simulated evidence: the attestation type is
// "simulated" and the evidence is a valid signature over the attested data by
// the enclave verifying key those data name.
func VerifySimulated(c *Credentials, d *AttestedData) error {
	if c.Attestation.Type != AttestationSimulated {
		return fmt.Errorf("attestation.type: %q is not %q", c.Attestation.Type, AttestationSimulated)
	}
	vk, err := ParseECDSAPublicKey(d.EnclaveVK)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(append([]byte(SimulatedDomainTag), c.AttestedData...))
	if !ecdsa.VerifyASN1(vk, sum[:], c.Attestation.Evidence) {
		return errors.New("attestation.evidence: simulated evidence is not a valid signature of the enclave key over the attested data")
	}
	return nil
}
