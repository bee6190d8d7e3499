package signedsla

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AnchorDomainTag starts the signed bytes of a log batch anchor, so that
// the logger's anchor signature cannot be confused with anything else it
// signs.
const AnchorDomainTag = "slasa.anchor/v1"

// MaxCIDLength bounds the length of a content identifier.
const MaxCIDLength = 256

var cidPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// Anchor is the content of one anchored log batch: the batch with sequence
// number Seq of SLA SLAID is stored under content identifier CID, follows
// the batch PrevCID (empty for Seq 1) and covers the time window
// [PeriodStart, PeriodEnd).
type Anchor struct {
	SLAID       string `json:"sla_id"`
	Seq         int64  `json:"seq"`
	CID         string `json:"cid"`
	PrevCID     string `json:"prev_cid"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
}

// Validate checks the anchor's fields and names the first bad one: SLAID
// is non-empty without control characters, Seq is at least 1, CID (and
// PrevCID when Seq > 1) are 1..MaxCIDLength letters and digits, PrevCID is
// empty when Seq is 1, and the window is two RFC 3339 UTC instants in whole
// seconds written canonically ("2026-01-01T00:00:00Z") with start < end.
func (a Anchor) Validate() error {
	if a.SLAID == "" || strings.IndexFunc(a.SLAID, isControl) >= 0 {
		return errors.New("slaID: must be non-empty without control characters")
	}
	if a.Seq < 1 {
		return fmt.Errorf("seq: %d is not a positive sequence number", a.Seq)
	}
	if err := checkCID("cid", a.CID); err != nil {
		return err
	}
	if a.Seq == 1 {
		if a.PrevCID != "" {
			return errors.New("prevCID: must be empty for the first batch (seq 1)")
		}
	} else if err := checkCID("prevCID", a.PrevCID); err != nil {
		return err
	}
	start, err := ParseInstant(a.PeriodStart)
	if err != nil {
		return fmt.Errorf("periodStart: %w", err)
	}
	end, err := ParseInstant(a.PeriodEnd)
	if err != nil {
		return fmt.Errorf("periodEnd: %w", err)
	}
	if !start.Before(end) {
		return fmt.Errorf("periodEnd: %s is not after periodStart %s", a.PeriodEnd, a.PeriodStart)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func checkCID(field, cid string) error {
	if len(cid) == 0 || len(cid) > MaxCIDLength || !cidPattern.MatchString(cid) {
		return fmt.Errorf("%s: %q is not a content identifier (1..%d letters and digits)", field, cid, MaxCIDLength)
	}
	return nil
}

// ParseInstant parses an RFC 3339 UTC instant in whole seconds written
// canonically, as time.Time.Format(time.RFC3339) writes it in UTC.
func ParseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	if t.UTC().Format(time.RFC3339) != s {
		return time.Time{}, fmt.Errorf("%q is not a UTC timestamp in whole seconds written as 2006-01-02T15:04:05Z", s)
	}
	return t.UTC(), nil
}

// SigningBytes returns the canonical string the logger signs: seven lines,
// each ended by "\n":
//
//	slasa.anchor/v1
//	<slaID>
//	<seq in decimal>
//	<cid>
//	<prevCID, empty for seq 1>
//	<periodStart>
//	<periodEnd>
//
// Validate guarantees that no field contains a line break.
func (a Anchor) SigningBytes() []byte {
	var b strings.Builder
	for _, line := range []string{AnchorDomainTag, a.SLAID, strconv.FormatInt(a.Seq, 10), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd} {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// SignAnchor validates a and signs SHA-256(a.SigningBytes()) with key
// (ASN.1 DER ECDSA).
func SignAnchor(a Anchor, key *ecdsa.PrivateKey) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return Sign(sha256.Sum256(a.SigningBytes()), key)
}

// VerifyAnchor validates a and checks the logger's signature over
// SHA-256(a.SigningBytes()) with cert's key.
func VerifyAnchor(a Anchor, cert *x509.Certificate, sig []byte) error {
	if err := a.Validate(); err != nil {
		return err
	}
	sum := sha256.Sum256(a.SigningBytes())
	return VerifyDigest(cert, sum[:], sig)
}
