// Package monitor is the slasa monitor service: it follows the agreement
// chaincode's events and drives the SLA enclave and the refund chaincode so
// that every billing period of every SLA it is a party of is evaluated and
// settled exactly once, with nobody pressing a button.
//
// # What it does
//
// Events (fabric-gateway ChaincodeEvents with a file checkpoint) only tell
// the monitor which SLAs to look at: SLASigned, SLARenewed, SLATerminated and
// LogBatchAnchored add the SLA to its persisted set and wake the reconciler.
// The reconciler brings each SLA to the state the ledger implies, asking the
// chaincodes' query functions what is already done:
//
//  1. register: the signed SLA record (agreement GetSLA) goes to the enclave's
//     RegisterAgreement (idempotent in the enclave), once per state folder;
//  2. ingest: from the enclave's chain head (GetAgreementStatus last_seq) on,
//     every anchored batch (agreement GetLogBatch) is passed to IngestBatch,
//     in order, until the first batch that is not anchored;
//  3. evaluate and settle: every period the enclave reports complete (or
//     already evaluated) whose fee is in escrow (the periods from the first
//     one that had not started at the acceptance up to paid_through), that
//     has ended by the monitor's clock and whose escrow is not SETTLED
//     (refund GetEscrow) is evaluated (Evaluate returns the frozen verdict
//     when there is one); the answer is checked (the verdict is for the SLA
//     and period asked, the report's SHA-256 is its report_digest, its
//     signature verifies with the enclave key from the registry, and the
//     batch it names as the period's last is anchored with that CID and a
//     window ending at the period's end) and the verdict is submitted to
//     SettleVerdict. An answer that fails a check is never relayed.
//
// A failure leaves the SLA for a later attempt (exponential backoff per SLA),
// so killing the monitor at any point and starting it again neither loses nor
// doubles a settlement: a registered SLA, an ingested batch, a frozen verdict
// and a settled period are all recognised from the ledger and skipped.
//
// Only SLAs in which the monitor's identity (MSP ID, certificate subject and
// issuer) is the provider or the client are handled (Evaluate and
// GetAgreementStatus are reserved to them); others are recorded as skipped.
package monitor

import (
	"github.com/slasa/slasa/fpc/enclaveapi"
)

// Status is the enclave's GetAgreementStatus (and RegisterAgreement) result.
type Status = enclaveapi.Status

// PeriodStatus is the batch coverage of one billing period in the enclave.
type PeriodStatus = enclaveapi.PeriodStatus

// IngestResult is the enclave's IngestBatch result.
type IngestResult = enclaveapi.IngestResult

// Evaluation is the enclave's Evaluate result: the signed verdict (as the
// exact JSON to relay to SettleVerdict), the detailed report and the SLA's
// report key (the verdict's report_digest is HMAC-SHA256 of the report
// under it).
type Evaluation = enclaveapi.Evaluation

// Escrow is the part of the refund chaincode's Escrow (GetEscrow) the
// monitor reads.
type Escrow struct {
	SLAID      string      `json:"sla_id"`
	Period     string      `json:"period"`
	PeriodEnd  string      `json:"period_end"`
	Amount     int64       `json:"amount"`
	Status     string      `json:"status"`
	Settlement *Settlement `json:"settlement,omitempty"`
}

// Settlement is the part of the refund chaincode's Settlement the monitor
// reports.
type Settlement struct {
	Violated    bool   `json:"violated"`
	CreditBPS   int64  `json:"credit_bps"`
	Credit      int64  `json:"credit"`
	Released    int64  `json:"released"`
	PenaltyPaid int64  `json:"penalty_paid"`
	TxID        string `json:"tx_id"`
}

// Escrow statuses (refund chaincode).
const (
	EscrowHeld    = "HELD"
	EscrowSettled = "SETTLED"
)

// Agreement statuses (agreement chaincode).
const (
	StatusProposed   = "PROPOSED"
	StatusActive     = "ACTIVE"
	StatusTerminated = "TERMINATED"
	StatusWithdrawn  = "WITHDRAWN"
)

// Agreement chaincode event names the monitor follows.
const (
	EventSLASigned        = "SLASigned"
	EventSLARenewed       = "SLARenewed"
	EventSLATerminated    = "SLATerminated"
	EventLogBatchAnchored = "LogBatchAnchored"
)
