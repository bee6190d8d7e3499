// Package signedsla holds the Parametric SLA Signed record: an SLA document
// together with the certificates and signatures of both parties over its
// digest, so that anyone can re-verify an agreement offline.
//
// Both parties sign the 32-byte digest of the SLA's canonical form
// (sla.Digest) as a prehashed message: ecdsa.SignASN1(rand, key, digest[:]).
// The signature is the ASN.1 DER encoding of (r, s). The certificates are
// the parties' Fabric X.509 enrollment certificates (PEM), and the record
// names the MSP each certificate belongs to. Verify checks that each
// certificate is its party exactly (MSP ID, subject DN and issuer DN, as the
// SLA names them) and, when given per-MSP roots, that each certificate chains
// to the roots of its MSP.
//
// The package is pure Go (no Fabric imports) so that the chaincodes, the
// slasa CLI and the enclave can all use it.
package signedsla

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/sla"
)

// Version is the value of the version field of a record this package writes
// and reads.
const Version = "slasa.sla-signed/v1"

// ErrBadSignature is returned (wrapped) when a signature does not verify
// with the certificate's public key.
var ErrBadSignature = errors.New("signature does not verify with the certificate's public key")

// Signature is one party's signature over the SLA digest.
type Signature struct {
	// MSPID is the MSP the certificate belongs to.
	MSPID string `json:"msp_id"`
	// Certificate is the signer's X.509 certificate, PEM encoded.
	Certificate string `json:"certificate"`
	// Signature is the ASN.1 DER ECDSA signature over the 32-byte digest
	// (base64 in JSON).
	Signature []byte `json:"signature"`
}

// Record is a Parametric SLA Signed record.
type Record struct {
	// Version is always Version.
	Version string `json:"version"`
	// Document is the SLA document exactly as proposed (base64 in JSON).
	Document []byte `json:"document"`
	// Digest is the lower-case hex SHA-256 of the SLA's canonical form.
	Digest string `json:"digest"`
	// Provider and Client are the parties' signatures.
	Provider Signature `json:"provider"`
	Client   Signature `json:"client"`
}

// Options tune Record.Verify.
type Options struct {
	// Roots maps an MSP ID to the root certificates of that MSP. When nil,
	// certificates are not chained (the caller trusts them by other means,
	// as a chaincode does with the submitter's certificate, which the peer
	// has already validated). When non-nil, each party's certificate must
	// chain to the roots of its MSP.
	Roots map[string]*x509.CertPool
	// Intermediates are optional intermediate CA certificates per MSP.
	Intermediates map[string]*x509.CertPool
	// At is the time at which certificates must be valid when chaining;
	// zero means the current time.
	At time.Time
}

// Sign signs a digest with key: the ASN.1 DER ECDSA signature of the digest
// as a prehashed message.
func Sign(digest [32]byte, key *ecdsa.PrivateKey) ([]byte, error) {
	if key == nil {
		return nil, errors.New("sign digest: no private key")
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign digest: %w", err)
	}
	return sig, nil
}

// VerifyDigest checks an ASN.1 ECDSA signature over digest with the public
// key of cert. It returns ErrBadSignature (wrapped) when the signature does
// not verify.
func VerifyDigest(cert *x509.Certificate, digest []byte, sig []byte) error {
	if cert == nil {
		return errors.New("verify signature: no certificate")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("verify signature: certificate of %q has a %T key, not an ECDSA key", cert.Subject.CommonName, cert.PublicKey)
	}
	if len(sig) == 0 {
		return errors.New("verify signature: signature is empty")
	}
	if !ecdsa.VerifyASN1(pub, digest, sig) {
		return fmt.Errorf("verify signature of %q: %w", cert.Subject.CommonName, ErrBadSignature)
	}
	return nil
}

// ParseCertificatePEM decodes the first PEM block of data as an X.509
// certificate.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("certificate: no PEM block found")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certificate: PEM block is %q, not CERTIFICATE", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return cert, nil
}

// CertificatePEM returns the PEM encoding of cert.
func CertificatePEM(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

// ParsePrivateKeyPEM decodes an ECDSA private key from PEM: PKCS #8
// ("PRIVATE KEY", as Fabric's cryptogen and CAs write it) or SEC 1
// ("EC PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key: %T is not an ECDSA key", k)
		}
		return ec, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("private key: PEM block is %q, not PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
}

// CheckParty checks that a certificate held by an identity of MSP mspID is
// the party p: the same MSP ID, certificate subject DN and issuer DN
// (internal/identity), never the common name alone. role names the party in
// the error ("provider", "client").
func CheckParty(role string, p sla.Party, mspID string, cert *x509.Certificate) error {
	return identity.Mismatch("the SLA's "+role, p.ID(), mspID, cert)
}

// Parse decodes a record from JSON, rejecting unknown fields and trailing
// data. It does not verify it; use Verify.
func Parse(data []byte) (*Record, error) {
	var r Record
	if err := strictjson.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode signed SLA record: %w", err)
	}
	return &r, nil
}

// Marshal encodes the record as indented JSON.
func (r *Record) Marshal() ([]byte, error) {
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode signed SLA record: %w", err)
	}
	return append(out, '\n'), nil
}

// Verify re-parses the SLA document, recomputes its digest and checks that
// it equals Digest, that both signatures verify over it with the
// certificates, that each certificate's MSP ID, subject DN and issuer DN are
// the SLA's provider's and client's, and, when opts.Roots is set, that each certificate
// chains to the roots of its MSP. It returns the parsed SLA.
func (r *Record) Verify(opts Options) (*sla.SLA, error) {
	if r == nil {
		return nil, errors.New("signed SLA record: nothing to verify")
	}
	if r.Version != Version {
		return nil, fmt.Errorf("version: %q is not %q", r.Version, Version)
	}
	digest, doc, err := sla.DigestOf(r.Document)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	if got := hex.EncodeToString(digest[:]); got != r.Digest {
		return nil, fmt.Errorf("digest: %q is not the digest of the document (%s)", r.Digest, got)
	}
	for _, party := range []struct {
		role string
		p    sla.Party
		sig  Signature
	}{
		{"provider", doc.Parties.Provider, r.Provider},
		{"client", doc.Parties.Client, r.Client},
	} {
		cert, err := ParseCertificatePEM([]byte(party.sig.Certificate))
		if err != nil {
			return nil, fmt.Errorf("%s.%w", party.role, err)
		}
		if err := CheckParty(party.role, party.p, party.sig.MSPID, cert); err != nil {
			return nil, err
		}
		if err := VerifyDigest(cert, digest[:], party.sig.Signature); err != nil {
			return nil, fmt.Errorf("%s: %w", party.role, err)
		}
		if opts.Roots != nil {
			if err := chain(opts, party.sig.MSPID, cert); err != nil {
				return nil, fmt.Errorf("%s: %w", party.role, err)
			}
		}
	}
	return doc, nil
}

func chain(opts Options, mspID string, cert *x509.Certificate) error {
	roots, ok := opts.Roots[mspID]
	if !ok || roots == nil {
		return fmt.Errorf("certificate: no roots known for MSP %q", mspID)
	}
	vo := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: opts.Intermediates[mspID],
		CurrentTime:   opts.At,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := cert.Verify(vo); err != nil {
		return fmt.Errorf("certificate does not chain to the roots of MSP %q: %w", mspID, err)
	}
	return nil
}
