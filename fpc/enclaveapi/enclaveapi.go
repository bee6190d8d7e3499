// Package enclaveapi holds the results the SLA enclave chaincode
// (fpc/slaenclave) returns inside its encrypted responses, in pure Go, so that
// its v1-shim side and its Fabric Gateway clients (the monitor, the CLI, the
// tests) decode the same types without linking both proto generations.
package enclaveapi

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/verdict"
)

// Status is the result of RegisterAgreement and GetAgreementStatus.
type Status struct {
	SLAID        string `json:"sla_id"`
	SLADigest    string `json:"sla_digest"`
	RegisteredAt string `json:"registered_at"`
	// LastSeq, LastCID and LastWindowEnd are the head of the batch chain
	// (0 and empty before the first batch).
	LastSeq       int64  `json:"last_seq"`
	LastCID       string `json:"last_cid"`
	LastWindowEnd string `json:"last_window_end"`
	// Periods are the billing periods with batches, by start.
	Periods []PeriodStatus `json:"periods"`
	// EvaluatedPeriods are the starts of the periods with a frozen verdict.
	EvaluatedPeriods []string `json:"evaluated_periods"`
}

// PeriodStatus is the batch coverage of one billing period.
type PeriodStatus struct {
	Period    string `json:"period"`
	PeriodEnd string `json:"period_end"`
	// Covered is the window [Period, CoveredEnd) the batches cover.
	CoveredEnd string `json:"covered_end"`
	Batches    int64  `json:"batches"`
	FirstSeq   int64  `json:"first_seq"`
	LastSeq    int64  `json:"last_seq"`
	Complete   bool   `json:"complete"`
	Evaluated  bool   `json:"evaluated"`
}

// IngestResult is the result of IngestBatch.
type IngestResult struct {
	SLAID string `json:"sla_id"`
	Seq   int64  `json:"seq"`
	CID   string `json:"cid"`
	// Period is the start of the billing period the batch belongs to.
	Period    string `json:"period"`
	PeriodEnd string `json:"period_end"`
	// CoveredEnd is the end of the period's covered window after this
	// batch; Complete is true when it reached the period's end.
	CoveredEnd string `json:"covered_end"`
	Complete   bool   `json:"complete"`
}

// EvaluationFormat is the version of the Evaluate result. Version 2 added
// format and report_key: the verdict's report_digest is HMAC-SHA256 of the
// report under the report key (version 1: its SHA-256, without a key).
const EvaluationFormat = "slasa.evaluation/v2"

// Evaluation is the result of Evaluate, encrypted to the requesting party:
// the enclave's signed verdict, the detailed report it commits to and the
// SLA's report key.
type Evaluation struct {
	Format string `json:"format"`
	// Verdict is the signed verdict (verdict.Signed) as the enclave encoded
	// it: relay these bytes to the refund chaincode.
	Verdict json.RawMessage `json:"verdict"`
	// Report is the exact report bytes: the driver.Outcome as compact JSON
	// without HTML escaping.
	Report json.RawMessage `json:"report"`
	// ReportKey is the SLA's report key (lower-case hex, 32 bytes), derived
	// by the enclave from its sealed state key (HKDF-SHA256, label
	// verdict.ReportKeyLabel, the SLA id as context): the verdict's
	// report_digest is HMAC-SHA256(report key, report). It is the same for
	// every period of the SLA and for both parties; only they receive it.
	ReportKey string `json:"report_key"`
}

// ParseEvaluation decodes an Evaluate result strictly, keeping the verdict
// and report bytes exactly as they appear in data, and refuses another
// format version.
func ParseEvaluation(data []byte) (*Evaluation, error) {
	var e Evaluation
	if err := strictjson.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode evaluation: %w", err)
	}
	if e.Format != EvaluationFormat {
		return nil, fmt.Errorf("evaluation: format %q is not %q", e.Format, EvaluationFormat)
	}
	return &e, nil
}

// Key decodes the report key.
func (e *Evaluation) Key() ([]byte, error) {
	k, err := hex.DecodeString(e.ReportKey)
	if err != nil || len(k) != verdict.ReportKeySize || hex.EncodeToString(k) != e.ReportKey {
		return nil, fmt.Errorf("evaluation: report_key must be %d lower-case hex digits", 2*verdict.ReportKeySize)
	}
	return k, nil
}

// Check decodes the signed verdict and checks that the report is the one
// it commits to (HMAC-SHA256 under the report key is its report_digest).
// It does not check the verdict's signature; use verdict.Verify with the
// key of the SLA's pinned enclave from the registry.
func (e *Evaluation) Check() (*verdict.Signed, error) {
	s, err := verdict.ParseSigned(e.Verdict)
	if err != nil {
		return nil, fmt.Errorf("evaluation: verdict: %w", err)
	}
	key, err := e.Key()
	if err != nil {
		return nil, err
	}
	if err := s.Verdict.CheckReport(key, e.Report); err != nil {
		return nil, fmt.Errorf("evaluation: %w", err)
	}
	return s, nil
}
