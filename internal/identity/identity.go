// Package identity names a Fabric X.509 identity the way every slasa
// chaincode compares identities: the MSP ID together with the certificate's
// full subject and issuer distinguished names, never a common name alone, and
// the NodeOU role the certificate carries.
//
// The distinguished names are written exactly as Fabric's client identity
// library writes them in cid.GetID ("x509::<subject>::<issuer>"): the
// attributes of the certificate's RDN sequence from the last to the first,
// RFC 4514 style ("CN=provider@providerorg.slasa.local,OU=client,L=San
// Francisco,ST=California,C=US"). A test checks the two agree.
//
// The package is pure Go (no Fabric imports): the contract-API chaincodes,
// the v1-shim enclave chaincode, the CLI and the SLA model all use it.
package identity

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// NodeOU roles of Fabric MSPs (the OU values of the certificate subject that
// an MSP with NodeOUs enabled classifies identities by).
const (
	RoleAdmin   = "admin"
	RoleClient  = "client"
	RolePeer    = "peer"
	RoleOrderer = "orderer"
)

// ID is a Fabric identity: MSP ID, subject DN and issuer DN.
type ID struct {
	MSPID   string `json:"msp_id"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
}

// FromCert returns the identity of cert as a member of mspID.
func FromCert(mspID string, cert *x509.Certificate) ID {
	return ID{MSPID: mspID, Subject: DN(cert.Subject), Issuer: DN(cert.Issuer)}
}

// String is "<msp>/<subject> (issuer <issuer>)", for messages.
func (id ID) String() string {
	return fmt.Sprintf("%s/%s (issuer %s)", id.MSPID, id.Subject, id.Issuer)
}

// IsZero reports whether no field is set.
func (id ID) IsZero() bool { return id == ID{} }

// Validate checks that every field is set; field prefixes the message
// ("parties.provider").
func (id ID) Validate(field string) error {
	switch {
	case id.MSPID == "":
		return fmt.Errorf("%s.msp_id: must not be empty", field)
	case id.Subject == "":
		return fmt.Errorf("%s.subject: must not be empty", field)
	case id.Issuer == "":
		return fmt.Errorf("%s.issuer: must not be empty", field)
	}
	return nil
}

// Mismatch explains why the certificate of mspID is not identity want, or
// returns nil when it is. role names the identity in the message ("the SLA's
// provider").
func Mismatch(role string, want ID, mspID string, cert *x509.Certificate) error {
	if cert == nil {
		return fmt.Errorf("%s: no certificate", role)
	}
	got := FromCert(mspID, cert)
	switch {
	// mutate:check identity-msp tested-by=./internal/identity,./signedsla,./chaincode/agreement/agreement
	case got.MSPID != want.MSPID:
		return fmt.Errorf("%s: MSP %q is not the MSP %q of %s", role, got.MSPID, want.MSPID, role)
	// mutate:check identity-subject tested-by=./internal/identity,./signedsla,./chaincode/agreement/agreement
	case got.Subject != want.Subject:
		return fmt.Errorf("%s: certificate subject %q is not the subject %q of %s", role, got.Subject, want.Subject, role)
	// mutate:check identity-issuer tested-by=./internal/identity,./signedsla,./chaincode/agreement/agreement
	case got.Issuer != want.Issuer:
		return fmt.Errorf("%s: certificate issuer %q is not the issuer %q of %s", role, got.Issuer, want.Issuer, role)
	}
	return nil
}

// Role returns the NodeOU role the certificate's subject carries (admin,
// client, peer or orderer), or "" when it carries none or more than one.
// Fabric's MSP only accepts a certificate of an MSP with NodeOUs enabled when
// it carries exactly one; the peer has validated the submitter against its
// MSP before the chaincode runs.
func Role(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	role := ""
	for _, ou := range cert.Subject.OrganizationalUnit {
		switch ou {
		case RoleAdmin, RoleClient, RolePeer, RoleOrderer:
			if role != "" {
				return ""
			}
			role = ou
		}
	}
	return role
}

// CommonName returns the CN attribute of a DN written by DN, or "" when it
// has none.
func CommonName(dn string) string {
	for _, part := range splitDN(dn) {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return unescape(v)
		}
	}
	return ""
}

// ErrNoCertificate is returned by callers that found no X.509 certificate.
var ErrNoCertificate = errors.New("not identified by an X.509 certificate")

// attributeNames are the short names Fabric's DN uses; other attribute types
// are written as their OID with the hex of their DER value.
var attributeNames = map[string]string{
	"2.5.4.3":  "CN",
	"2.5.4.5":  "SERIALNUMBER",
	"2.5.4.6":  "C",
	"2.5.4.7":  "L",
	"2.5.4.8":  "ST",
	"2.5.4.9":  "STREET",
	"2.5.4.10": "O",
	"2.5.4.11": "OU",
	"2.5.4.17": "POSTALCODE",
}

// DN writes a distinguished name as Fabric's client identity library does.
func DN(name pkix.Name) string {
	rdns := name.ToRDNSequence()
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, atv := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			oid := atv.Type.String()
			short, known := attributeNames[oid]
			if !known {
				if der, err := asn1.Marshal(atv.Value); err == nil {
					b.WriteString(oid + "=#" + hex.EncodeToString(der))
					continue
				}
				short = oid
			}
			b.WriteString(short + "=" + escape(fmt.Sprint(atv.Value)))
		}
	}
	return b.String()
}

// escape escapes a DN attribute value: ',', '+', '"', '\', '<', '>', ';'
// anywhere, a leading ' ' or '#' and a trailing ' '.
func escape(v string) string {
	var b strings.Builder
	last := len(v) - 1
	for i, c := range v {
		switch {
		case i == 0 && (c == ' ' || c == '#'), i == last && c == ' ':
			b.WriteByte('\\')
		case strings.ContainsRune(",+\"\\<>;", c):
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// splitDN splits a DN at the commas that are not escaped.
func splitDN(dn string) []string {
	var parts []string
	start, esc := 0, false
	for i := 0; i < len(dn); i++ {
		switch {
		case esc:
			esc = false
		case dn[i] == '\\':
			esc = true
		case dn[i] == ',':
			parts = append(parts, dn[start:i])
			start = i + 1
		}
	}
	return append(parts, dn[start:])
}

func unescape(v string) string {
	var b strings.Builder
	esc := false
	for i := 0; i < len(v); i++ {
		if !esc && v[i] == '\\' {
			esc = true
			continue
		}
		esc = false
		b.WriteByte(v[i])
	}
	return b.String()
}
