// Package verdict defines the enclave's verdict on one billing period of an
// SLA: the only result of the confidential evaluation that leaves the enclave.
//
// The enclave signs a verdict with its ECDSA P-256 key; the monitor relays it
// to the refund chaincode, which verifies the signature with the enclave key
// held in the enclave registry and pays the credit. Nothing else is trusted:
// not the monitor, not the peer that ran the enclave.
//
// A verdict names the last log batch of its period (BatchSeq, BatchCID): the
// logger-signed batch whose window ends at the period's end. The refund
// chaincode pays only when the agreement chaincode holds exactly that batch as
// anchored, so a verdict is settled only after the logger witnessed the end of
// the period, and only for the batch chain the parties' peers anchored.
//
// The signed bytes are the domain tag "slasa.verdict/v3\n" followed by the
// verdict's JSON encoding (encoding/json of Verdict: fixed field order, no
// maps, no floats), so any implementation can reproduce them exactly.
//
// The verdict commits to the detailed report (the exact report bytes the
// enclave returns to the requesting party) without revealing it: its
// report_digest is HMAC-SHA256 of the report under a per-SLA report key that
// the enclave derives from its sealed state key (HKDF-SHA256, label
// ReportKeyLabel, the SLA id as context) and returns, encrypted, to the
// parties who ask for the evaluation. Whoever holds the key checks the
// report (CheckReport); an outsider who reads the verdict on the ledger
// cannot test guesses of the report (a handful of uptimes would do for an
// unkeyed hash). Version 3 of the domain tag marks this keyed digest: a
// version 2 verdict (report_digest = SHA-256 of the report) does not verify
// as version 3.
package verdict

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/strictjson"
)

// DomainTag prefixes the signed bytes so that a verdict signature can never
// be confused with a signature over anything else the enclave signs.
const DomainTag = "slasa.verdict/v3\n"

// ReportKeyLabel is the HKDF label of the per-SLA report key.
const ReportKeyLabel = "slasa.report-key/v1"

// ReportKeySize is the size of a report key.
const ReportKeySize = 32

// Verdict is the outcome of one (SLA, period), stripped of confidential detail.
type Verdict struct {
	// SLAID and SLADigest identify the signed SLA (hex SHA-256 of its canonical form).
	SLAID     string `json:"sla_id"`
	SLADigest string `json:"sla_digest"`
	// Period is the billing period's start, PeriodEnd its end (RFC 3339 UTC, half-open).
	Period    string `json:"period"`
	PeriodEnd string `json:"period_end"`
	// Violated is true when any objective was missed.
	Violated bool `json:"violated"`
	// CreditBPS is the service credit in basis points of the period's fee;
	// CreditAmount the same in minor currency units; PenaltyAmount the
	// fixed penalties owed on top.
	CreditBPS     int64  `json:"credit_bps"`
	CreditAmount  int64  `json:"credit_amount"`
	PenaltyAmount int64  `json:"penalty_amount"`
	Currency      string `json:"currency"`
	// Terminate is true when the SLA's termination threshold was crossed.
	Terminate bool `json:"terminate"`
	// ReportDigest is the hex HMAC-SHA256 of the detailed report (the
	// exact bytes the enclave returns to the parties, encrypted) under the
	// SLA's report key; see ReportDigest and CheckReport.
	ReportDigest string `json:"report_digest"`
	// BatchSeq and BatchCID name the last log batch of the period: its
	// window ends at PeriodEnd. Through the hash-linked batch chain they fix
	// every batch the verdict was computed from.
	BatchSeq int64  `json:"batch_seq"`
	BatchCID string `json:"batch_cid"`
	// Chaincode is the enclave chaincode's name; EnclaveID the enclave's id
	// (upper-case hex SHA-256 of its PKIX verifying key, as in FPC).
	Chaincode string `json:"chaincode"`
	EnclaveID string `json:"enclave_id"`
}

// Signed is a verdict with the enclave's ASN.1 ECDSA signature over
// SHA-256(SigningBytes()).
type Signed struct {
	Verdict   Verdict `json:"verdict"`
	Signature []byte  `json:"signature"`
}

var (
	hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)
	enclaveID = regexp.MustCompile(`^[0-9A-F]{64}$`)
	currency  = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ErrBadSignature is returned when a verdict's signature does not verify.
var ErrBadSignature = errors.New("verdict signature does not verify with the enclave key")

// Validate checks the verdict's fields and names the first bad one.
func (v *Verdict) Validate() error {
	switch {
	case v.SLAID == "":
		return errors.New("verdict.sla_id: must not be empty")
	case !hexDigest.MatchString(v.SLADigest):
		return errors.New("verdict.sla_digest: must be 64 lower-case hex digits")
	case v.Period == "" || v.PeriodEnd == "":
		return errors.New("verdict.period: period and period_end must be set")
	case v.CreditBPS < 0 || v.CreditBPS > 10000:
		return fmt.Errorf("verdict.credit_bps: %d is outside 0..10000", v.CreditBPS)
	case v.CreditAmount < 0:
		return fmt.Errorf("verdict.credit_amount: %d is negative", v.CreditAmount)
	case v.PenaltyAmount < 0:
		return fmt.Errorf("verdict.penalty_amount: %d is negative", v.PenaltyAmount)
	case !v.Violated && (v.CreditBPS != 0 || v.CreditAmount != 0 || v.PenaltyAmount != 0):
		return errors.New("verdict.violated: a verdict without violation cannot carry a credit or penalty")
	case !currency.MatchString(v.Currency):
		return errors.New("verdict.currency: must be an ISO 4217 code")
	case !hexDigest.MatchString(v.ReportDigest):
		return errors.New("verdict.report_digest: must be 64 lower-case hex digits")
	case v.BatchSeq < 1:
		return fmt.Errorf("verdict.batch_seq: %d is not a positive batch sequence number", v.BatchSeq)
	case v.BatchCID == "":
		return errors.New("verdict.batch_cid: must not be empty")
	case v.Chaincode == "":
		return errors.New("verdict.chaincode: must not be empty")
	case !enclaveID.MatchString(v.EnclaveID):
		return errors.New("verdict.enclave_id: must be 64 upper-case hex digits")
	}
	return nil
}

// SigningBytes returns the exact bytes the enclave signs.
func (v *Verdict) SigningBytes() ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode verdict: %w", err)
	}
	return append([]byte(DomainTag), body...), nil
}

// EnclaveIDOf returns the FPC-style enclave id of a verifying key: the
// upper-case hex SHA-256 of its PKIX (DER) encoding.
func EnclaveIDOf(pub *ecdsa.PublicKey) (string, error) { return credentials.EnclaveID(pub) }

// Sign validates v and signs it with the enclave key.
func Sign(v Verdict, key *ecdsa.PrivateKey) (*Signed, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	msg, err := v.SigningBytes()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, fmt.Errorf("sign verdict: %w", err)
	}
	return &Signed{Verdict: v, Signature: sig}, nil
}

// Verify checks the verdict's fields, that EnclaveID is the id of pub, and the
// signature. It returns ErrBadSignature (wrapped) for a signature that does
// not verify.
func Verify(s *Signed, pub *ecdsa.PublicKey) error {
	if s == nil || pub == nil {
		return errors.New("verdict: nothing to verify")
	}
	if err := s.Verdict.Validate(); err != nil {
		return err
	}
	id, err := EnclaveIDOf(pub)
	if err != nil {
		return err
	}
	if id != s.Verdict.EnclaveID {
		return fmt.Errorf("verdict.enclave_id: %s is not the id of the registered enclave key (%s)", s.Verdict.EnclaveID, id)
	}
	msg, err := s.Verdict.SigningBytes()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub, sum[:], s.Signature) {
		return ErrBadSignature
	}
	return nil
}

// ReportDigest returns the hex HMAC-SHA256 of report under key: what a
// verdict's report_digest holds.
func ReportDigest(key, report []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(report)
	return hex.EncodeToString(m.Sum(nil))
}

// CheckReport checks that report is the report v commits to: its
// HMAC-SHA256 under the SLA's report key key is v.ReportDigest.
func (v *Verdict) CheckReport(key, report []byte) error {
	if len(key) != ReportKeySize {
		return fmt.Errorf("report key: %d bytes, want %d", len(key), ReportKeySize)
	}
	got := ReportDigest(key, report)
	if !hmac.Equal([]byte(got), []byte(v.ReportDigest)) {
		return fmt.Errorf("the report's HMAC-SHA256 under the report key is %s, not the verdict's report_digest %s", got, v.ReportDigest)
	}
	return nil
}

// ParseSigned decodes a signed verdict from JSON, rejecting unknown fields
// and trailing data.
func ParseSigned(data []byte) (*Signed, error) {
	var s Signed
	if err := strictjson.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode signed verdict: %w", err)
	}
	if len(s.Signature) == 0 {
		return nil, errors.New("signature: must not be empty")
	}
	return &s, nil
}
