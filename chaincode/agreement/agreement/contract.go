// Package agreement is the Agreement & Payment chaincode: where a Parametric
// SLA becomes a signed, paid agreement, and where the logger anchors the
// content identifiers of the log batches the SLA is monitored on.
//
// # Lifecycle
//
//	ProposeSLA   provider   PROPOSED   event SLAProposed
//	AcceptSLA    client     ACTIVE     event SLASigned (first period paid into escrow)
//	RenewSLA     client     ACTIVE     event SLARenewed (next period paid into escrow)
//	TerminateSLA a party    WITHDRAWN (from PROPOSED) or TERMINATED (from ACTIVE), event SLATerminated
//
// Payments are chaincode-to-chaincode calls to the refund chaincode's
// DepositEscrow in the same transaction: the fee leaves the client's wallet
// and is held in escrow per (SLA, period) or the whole transaction fails.
// Termination of an ACTIVE SLA takes effect at the end of the paid term
// (ends_at): the escrowed periods are still monitored and settled, no further
// period can be paid.
//
// # Arguments
//
// Every argument is a string: signatures are standard base64 of ASN.1 DER
// ECDSA signatures, digests are 64 lower-case hex digits, numbers are
// decimal. Functions that return data return one JSON document.
//
// # Events
//
// Fabric delivers one chaincode event per transaction (the last one set):
// every function that changes state sets exactly one event, named above or
// LogBatchAnchored; the payload is JSON (see the *Event types).
//
// # State
//
// Composite keys, never shared between SLAs (no hot keys):
//
//	sla~<id>                                     the Agreement record
//	sla-by-party~<role>~<msp>~<cn>~<id>          index for ListSLAs (role provider|client)
//	anchor~<id>~<seq, 20 digits>                 an AnchorRecord
//
// # Endorsement
//
// The chaincode is meant to run with the endorsement policy "both orgs"
// (AND of ProviderOrgMSP.peer and ClientOrgMSP.peer), so that neither party
// alone can write an agreement.
package agreement

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// Statuses of an agreement.
const (
	StatusProposed   = "PROPOSED"
	StatusActive     = "ACTIVE"
	StatusTerminated = "TERMINATED"
	StatusWithdrawn  = "WITHDRAWN"
)

// Event names.
const (
	EventSLAProposed      = "SLAProposed"
	EventSLASigned        = "SLASigned"
	EventSLARenewed       = "SLARenewed"
	EventSLATerminated    = "SLATerminated"
	EventLogBatchAnchored = "LogBatchAnchored"
)

// DefaultRefundChaincode is the name of the refund chaincode on the channel.
const DefaultRefundChaincode = "refund"

// MaxPageSize bounds the page size of the list functions.
const MaxPageSize = 100

// Key object types.
const (
	keySLA     = "sla"
	keyByParty = "sla-by-party"
	keyAnchor  = "anchor"
)

// Contract is the Agreement & Payment contract.
type Contract struct {
	contractapi.Contract
	// RefundChaincode is the chaincode that holds wallets and escrow;
	// DefaultRefundChaincode when empty.
	RefundChaincode string
}

// Terms are the parts of the SLA the chaincodes act on, copied from the
// document at proposal.
type Terms struct {
	Provider         sla.Party `json:"provider"`
	Client           sla.Party `json:"client"`
	Logger           sla.Party `json:"logger"`
	ProductID        string    `json:"product_id"`
	PriceMinor       int64     `json:"price_minor"`
	Currency         string    `json:"currency"`
	CollateralWallet string    `json:"collateral_wallet,omitempty"`
	ValidityStart    string    `json:"validity_start"`
	ValidityEnd      string    `json:"validity_end"`
}

// Agreement is the state of one SLA.
type Agreement struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Digest is the lower-case hex SHA-256 of the SLA's canonical form.
	Digest string `json:"digest"`
	Terms  Terms  `json:"terms"`
	// Signed is the Parametric SLA Signed record; its client signature is
	// empty until the SLA is accepted.
	Signed     signedsla.Record `json:"signed"`
	ProposedAt string           `json:"proposed_at"`
	AcceptedAt string           `json:"accepted_at,omitempty"`
	// LastPeriod is the start of the last paid period, PaidThrough its end;
	// PaidPeriods counts the periods paid into escrow.
	LastPeriod  string `json:"last_period,omitempty"`
	PaidThrough string `json:"paid_through,omitempty"`
	PaidPeriods int64  `json:"paid_periods"`
	// TerminatedAt, TerminatedBy and Reason record a termination or
	// withdrawal; EndsAt is when a terminated SLA stops (its paid term).
	TerminatedAt string `json:"terminated_at,omitempty"`
	TerminatedBy string `json:"terminated_by,omitempty"`
	Reason       string `json:"reason,omitempty"`
	EndsAt       string `json:"ends_at,omitempty"`
}

// EscrowDeposit is the argument of the refund chaincode's DepositEscrow:
// one period's fee paid by the client into escrow.
type EscrowDeposit struct {
	SLAID            string    `json:"sla_id"`
	Period           string    `json:"period"`
	PeriodEnd        string    `json:"period_end"`
	Amount           int64     `json:"amount"`
	Currency         string    `json:"currency"`
	Payer            sla.Party `json:"payer"`
	Provider         sla.Party `json:"provider"`
	CollateralWallet string    `json:"collateral_wallet,omitempty"`
	ProductID        string    `json:"product_id"`
}

// PartyRef names a party in events.
type PartyRef struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
}

// SLAEvent is the payload of SLAProposed, SLASigned, SLARenewed and
// SLATerminated.
type SLAEvent struct {
	SLAID    string   `json:"sla_id"`
	Digest   string   `json:"digest"`
	Status   string   `json:"status"`
	Provider PartyRef `json:"provider"`
	Client   PartyRef `json:"client"`
	// Period, PeriodEnd and Amount describe the period paid (SLASigned,
	// SLARenewed).
	Period    string `json:"period,omitempty"`
	PeriodEnd string `json:"period_end,omitempty"`
	Amount    int64  `json:"amount,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Page is a page of a list function's results.
type Page[T any] struct {
	Records  []T    `json:"records"`
	Bookmark string `json:"bookmark"`
	Fetched  int32  `json:"fetched"`
}

// ---- helpers ----

func (c *Contract) refundName() string {
	if c.RefundChaincode == "" {
		return DefaultRefundChaincode
	}
	return c.RefundChaincode
}

// caller returns the submitter's MSP ID and X.509 certificate.
func caller(ctx contractapi.TransactionContextInterface) (string, *x509.Certificate, error) {
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return "", nil, errors.New("submitter: no client identity")
	}
	msp, err := ci.GetMSPID()
	if err != nil {
		return "", nil, fmt.Errorf("submitter: read MSP ID: %w", err)
	}
	cert, err := ci.GetX509Certificate()
	if err != nil {
		return "", nil, fmt.Errorf("submitter: read certificate: %w", err)
	}
	if cert == nil {
		return "", nil, errors.New("submitter: not identified by an X.509 certificate")
	}
	return msp, cert, nil
}

func txTime(ctx contractapi.TransactionContextInterface) (time.Time, error) {
	ts, err := ctx.GetStub().GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	return ts.AsTime().UTC(), nil
}

func format(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func slaKey(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	k, err := ctx.GetStub().CreateCompositeKey(keySLA, []string{id})
	if err != nil {
		return "", fmt.Errorf("SLA key of %q: %w", id, err)
	}
	return k, nil
}

// load reads an agreement; it fails when there is none.
func load(ctx contractapi.TransactionContextInterface, id string) (*Agreement, error) {
	if id == "" {
		return nil, errors.New("id: must not be empty")
	}
	key, err := slaKey(ctx, id)
	if err != nil {
		return nil, err
	}
	data, err := ctx.GetStub().GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read SLA %q: %w", id, err)
	}
	if data == nil {
		return nil, fmt.Errorf("SLA %q does not exist", id)
	}
	var a Agreement
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("decode SLA %q: %w", id, err)
	}
	return &a, nil
}

func save(ctx contractapi.TransactionContextInterface, a *Agreement) error {
	key, err := slaKey(ctx, a.ID)
	if err != nil {
		return err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode SLA %q: %w", a.ID, err)
	}
	if err := ctx.GetStub().PutState(key, data); err != nil {
		return fmt.Errorf("write SLA %q: %w", a.ID, err)
	}
	return nil
}

func emit(ctx contractapi.TransactionContextInterface, name string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", name, err)
	}
	if err := ctx.GetStub().SetEvent(name, data); err != nil {
		return fmt.Errorf("set event %s: %w", name, err)
	}
	return nil
}

func toJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode result: %w", err)
	}
	return string(data), nil
}

func decodeSignature(field, text string) ([]byte, error) {
	if text == "" {
		return nil, fmt.Errorf("%s: must not be empty", field)
	}
	sig, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%s: not standard base64: %w", field, err)
	}
	return sig, nil
}

func parsePageSize(text string) (int32, error) {
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fmt.Errorf("pageSize: %q is not an integer in 1..%d", text, MaxPageSize)
	}
	return int32(n), nil
}

func ref(p sla.Party) PartyRef { return PartyRef{MSPID: p.MSPID, CommonName: p.CommonName} }

func event(a *Agreement) SLAEvent {
	return SLAEvent{SLAID: a.ID, Digest: a.Digest, Status: a.Status, Provider: ref(a.Terms.Provider), Client: ref(a.Terms.Client)}
}

// document re-parses the stored SLA document.
func document(a *Agreement) (*sla.SLA, error) {
	doc, err := sla.Parse(a.Signed.Document)
	if err != nil {
		return nil, fmt.Errorf("stored document of SLA %q: %w", a.ID, err)
	}
	return doc, nil
}

// isParty reports whether the caller (MSP and certificate) is party p.
func isParty(p sla.Party, msp string, cert *x509.Certificate) bool {
	return p.MSPID == msp && cert.Subject.CommonName == p.CommonName
}

// describe turns an SLA validation error into one line naming each problem.
func describe(err error) string {
	var verr *sla.ValidationError
	if !errors.As(err, &verr) {
		return err.Error()
	}
	msg := fmt.Sprintf("%d problem(s)", len(verr.Problems))
	for _, p := range verr.Problems {
		msg += fmt.Sprintf("; %s: %s", p.Path, p.Reason)
	}
	return msg
}
