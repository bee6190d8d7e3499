// Package enclaveapi holds the results the SLA enclave chaincode
// (fpc/slaenclave) returns inside its encrypted responses, in pure Go, so that
// its v1-shim side and its Fabric Gateway clients (the monitor, the CLI, the
// tests) decode the same types without linking both proto generations.
package enclaveapi

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
