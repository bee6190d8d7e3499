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
//     has ended by the monitor's clock and whose escrow is still HELD (not
//     settled, claimed after its deadline or refunded; refund GetEscrow) is evaluated (Evaluate returns the frozen verdict
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
//
// # Escalation
//
// A chaincode runs no timers, so the monitor also escalates trouble tickets
// (when Config.Tickets is set): every poll interval, for each SLA it is a
// party of whose support section has escalation levels, it lists the SLA's
// tickets its organization holds (ticket chaincode ListTickets on a peer of
// its own organization, every page) and, for each ticket that is neither
// resolved nor closed and whose running target is not paused, submits
// Escalate for the level after the target's last recorded one once the
// chaincode's clock (used_bps, computed by the chaincode at the query's
// time) has reached that level's at_bps. It decides on a fresh GetTicket,
// passes the record it returned in the transient map ("ticket") and names
// the ticket's organizations as the endorsing organizations. One level per
// ticket per pass; the chaincode checks the threshold again at the
// transaction's time and records each level once. A submission that fails
// while the ledger shows the level recorded (another party's escalator was
// first, or the reply was lost) or the ticket changed in between is not an
// error; other failures retry the SLA's escalation with backoff, apart
// from its reconciliation.
package monitor

import (
	"encoding/json"

	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/sla"
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

// Escrow statuses (refund chaincode): HELD until settled, claimed after its
// verdict deadline (EXPIRED) or refunded at termination (REFUNDED).
const (
	EscrowHeld     = "HELD"
	EscrowSettled  = "SETTLED"
	EscrowExpired  = "EXPIRED"
	EscrowRefunded = "REFUNDED"
)

// escrowClosed reports whether an escrow takes no verdict any more.
func escrowClosed(status string) bool {
	return status == EscrowSettled || status == EscrowExpired || status == EscrowRefunded
}

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

// TicketView is the part of the ticket chaincode's TicketView (GetTicket,
// ListTickets) the escalator reads. Record is the private record exactly as
// the chaincode returned it: it goes back unchanged in the transient map of
// Escalate.
type TicketView struct {
	Ticket TicketPublic    `json:"ticket"`
	Record json.RawMessage `json:"record"`
	// Clock is the running target's clock, computed by the chaincode at
	// the query's time; nil when no target runs (resolved or closed).
	Clock *TicketClock `json:"clock,omitempty"`
}

// TicketPublic is the ticket chaincode's public record of a ticket.
type TicketPublic struct {
	ID    string `json:"id"`
	SLAID string `json:"sla_id"`
	Seq   int64  `json:"seq"`
	// Orgs are the ticket's organizations (customer's, provider's and,
	// once assigned, vendor's): exactly they endorse its transitions.
	Orgs []string `json:"orgs"`
}

// TicketClock is the ticket chaincode's ClockView: the running target's
// clock at the query's time, in its calendar with the pauses excluded.
type TicketClock struct {
	// Target is sla.TargetAcceptance or sla.TargetClosure.
	Target      string `json:"target"`
	At          string `json:"at"`
	ElapsedMS   int64  `json:"elapsed_ms"`
	RemainingMS int64  `json:"remaining_ms"`
	// UsedBPS is the share of the target used, in basis points (capped at
	// 10000).
	UsedBPS int64 `json:"used_bps"`
	Paused  bool  `json:"paused"`
}

// TicketRecord is the part of the ticket chaincode's private record the
// escalator reads.
type TicketRecord struct {
	ID     string `json:"id"`
	SLAID  string `json:"sla_id"`
	Status string `json:"status"`
	Terms  struct {
		// Escalation are the levels: level n is Escalation[n-1].
		Escalation []sla.Escalation `json:"escalation"`
	} `json:"terms"`
	Acceptance TicketTarget `json:"acceptance"`
	Closure    TicketTarget `json:"closure"`
}

// TicketTarget is the part of a target's clock the escalator reads.
type TicketTarget struct {
	// Level is the last escalation level recorded for the target (0:
	// none).
	Level int `json:"level"`
}

// TicketPage is a page of the ticket chaincode's ListTickets.
type TicketPage struct {
	Records []TicketView `json:"records"`
	// Bookmark is the ticket id that starts the next page; "" after the
	// last page.
	Bookmark string `json:"bookmark"`
}

// Ticket statuses (ticket chaincode) in which no target runs.
const (
	TicketResolved = "resolved"
	TicketClosed   = "closed"
)

// TicketPageSize is the page size the escalator asks ListTickets for (the
// chaincode's largest).
const TicketPageSize = 100
