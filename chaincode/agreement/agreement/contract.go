// Package agreement is the Agreement & Payment chaincode: where a Parametric
// SLA becomes a signed, paid agreement pinned to one enclave, and where the
// logger anchors the content identifiers of the log batches the SLA is
// monitored on.
//
// # Configuration
//
// The contract is built with New from the organization's ccguard.Guard: the
// deploy configuration (internal/deploycfg) that the organization gave its
// chaincode server (-config or SLASA_DEPLOY_CONFIG). Configure(configJSON)
// records the configuration's digest on the ledger; it is accepted only from
// an admin (NodeOU role admin) of one of the configuration's organizations,
// only with exactly the endorsing peers' own file, and not twice for the same
// file. Until it has run, and on a peer whose file differs from the recorded
// one, every other function is refused. GetConfig shows the peer's
// configuration and the recorded one. No caller chooses a setting: the names
// of the refund chaincode, the enclave registry (ercc) and the enclave
// chaincode used below come from the configuration.
//
// # Who may call what
//
// A party is an identity: MSP ID, the certificate's full subject DN and its
// issuer DN (internal/identity), exactly as the SLA document names it. A
// certificate with the same common name from another CA of the MSP, or with
// another NodeOU role (part of the subject), is not the party.
//
//	ProposeSLA             the SLA's provider   PROPOSED   event SLAProposed
//	AcceptSLA              the SLA's client     ACTIVE     event SLASigned (first period paid into escrow, enclave pinned)
//	RenewSLA               the SLA's client     ACTIVE     event SLARenewed (next period paid into escrow)
//	TerminateSLA           provider or client   WITHDRAWN (from PROPOSED) or TERMINATED (from ACTIVE), event SLATerminated
//	ApproveEnclaveHandover provider or client   event EnclaveHandoverApproved, or EnclaveHandover when the pin moves
//	AnchorLogBatch         the SLA's logger     event LogBatchAnchored
//	GetSLA                 members of the provider's or the client's MSP, on a peer of their own organization
//	GetSLAHistory, GetLogBatch, ListLogBatches, GetSettlementView, GetParties
//	                       members of the provider's or the client's MSP
//	ListSLAs               members of the MSP listed (the caller's own)
//	Configure              an admin of an organization of the deploy configuration
//	GetConfig              anyone
//
// # Time
//
// Every time the contract reads is the transaction timestamp, which the
// client chooses; the guard (ccguard, wired as BeforeTransaction) refuses
// every function whose timestamp is more than the allowed skew (default 5
// minutes, the server's -max-clock-skew) away from the endorsing peer's
// clock. With both parties' peers endorsing (see Endorsement), each party's
// peer guards against the other's backdating, so what stays trusted is each
// endorsing organization's clock within the skew: a party can shift a
// timestamp by at most the skew, which must stay well below the billing
// period. On that time:
//
//   - AcceptSLA pays the first billing period that has not started at the
//     transaction time (period start >= transaction time) and lies inside
//     the validity window, and fails when none is left;
//   - RenewSLA pays the period starting at paid_through, only once the last
//     paid period has begun and only while the next one has not started
//     (transaction time <= paid_through);
//   - AnchorLogBatch refuses a batch whose window ends after the transaction
//     time: an anchor witnesses that its window is over.
//
// The refund chaincode settles a period only after its end and only when this
// chaincode holds the anchor of the period's last batch (GetSettlementView,
// read in the same transaction).
//
// # The pinned enclave
//
// AcceptSLA asks the enclave registry (ercc QueryEnclave, chaincode-to-
// chaincode) for the enclave currently registered for the configured enclave
// chaincode and stores it in the agreement (field enclave, EnclavePin): the
// chaincode, enclave id, chaincode version and sequence, attestation type,
// deploy configuration digest and verifying key (whose SHA-256 must be the
// enclave id). The refund chaincode pays only verdicts of that enclave,
// verified with the pinned key (the registry never changes a registration),
// so a later registration, a redeploy or a rotated key does not take over the
// SLA. Only an explicit handover moves the pin: ApproveEnclaveHandover by the
// provider and by the client naming the same enclave id, which the registry
// knows for the pinned chaincode and which is not the current pin. The old
// pin is kept in enclave_history. An enclave is pinned only when it was
// initialised with this peer's deploy configuration (its record's
// config_digest).
//
// # Payments
//
// Payments are chaincode-to-chaincode calls to the refund chaincode's
// DepositEscrow in the same transaction: the fee leaves the client's wallet
// and is held in escrow per (SLA, period) or the whole transaction fails.
// ProposeSLA of an SLA with consequences.collateral_minor calls the refund
// chaincode's LockCollateral in the same way: the provider's collateral is
// locked into the SLA's hold, or the proposal fails. Termination of an
// ACTIVE SLA refunds a paid period that has not started (refund
// RefundUnstarted, same transaction) and takes effect at the end of the
// period under way (ends_at): that period is still monitored and settled,
// no further period can be paid.
//
// # Terms private to the parties
//
// The SLA document (price, metrics, consequences, wallets) is private to the
// provider's and the client's organizations. ProposeSLA, AcceptSLA and
// RenewSLA take it in the transient map under key "sla" (TransientSLA): the
// arguments, the results and the events are in the block for every channel
// member to read, the transient map is not. ProposeSLA stores it in both
// parties' implicit organization collections ("_implicit_org_<MSP ID>",
// Collection); AcceptSLA and RenewSLA check the document they are given
// against the recorded digest and read no private data, since each
// endorsing peer could read only its own organization's copy. GetSLA, a
// query, returns the copy of the caller's organization, read on its own
// peer. The public record (Agreement) holds the id, the status, the digest,
// the parties' identities, the validity window, the signatures, what was
// paid and when, the pinned enclave and the termination; the escrow of each
// period (refund chaincode) shows the fee. The digest and the block's
// SHA-256 of the private document hide the terms because every document
// carries a random nonce.
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
// every function that changes state, but Configure, sets exactly one event,
// named above; the payload is JSON (see the *Event types and AnchorRecord)
// and names each party by MSP ID, common name, subject and issuer.
//
// # State
//
// Composite keys, never shared between SLAs (no hot keys):
//
//	deploy-config                                the recorded deploy configuration (ccguard.Record)
//	sla~<id>                                     the Agreement record
//	sla-by-party~<role>~<msp>~<cn>~<id>          index for ListSLAs (role provider|client)
//	anchor~<id>~<seq, 20 digits>                 an AnchorRecord
//
// and in the implicit collection of the provider's and of the client's
// organization:
//
//	sla~<id>                                     the SLA document as proposed
//
// The index keeps the common name for readability only; every access check
// compares the full identity.
//
// # Endorsement
//
// The chaincode runs with the chaincode-level policy "any two
// organizations' peers", which validates only the creation of keys. Every
// key of an SLA (its record, its two index keys, its anchors) gets, in the
// transaction that creates it, the key-level policy "a peer of the
// provider's organization and a peer of the client's" (package
// chaincode/internal/sbe), never set again and never deleted: no other
// organization, alone or with one party, can change it. The private writes
// of ProposeSLA need each party's own peer (the implicit collections'
// policy). Clients name the two parties' organizations as the endorsing
// organizations of every SLA transaction (for ProposeSLA the Fabric Gateway
// cannot plan transient data with two organizations' collections itself),
// so that no third organization endorses, or sees the transient document.
package agreement

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/identity"
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
	EventSLAProposed             = "SLAProposed"
	EventSLASigned               = "SLASigned"
	EventSLARenewed              = "SLARenewed"
	EventSLATerminated           = "SLATerminated"
	EventLogBatchAnchored        = "LogBatchAnchored"
	EventEnclaveHandoverApproved = "EnclaveHandoverApproved"
	EventEnclaveHandover         = "EnclaveHandover"
)

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
	g *ccguard.Guard
}

// New returns the contract guarded by g: g.Before runs before every
// function, and the chaincode names come from g's configuration.
func New(g *ccguard.Guard) *Contract {
	c := &Contract{g: g}
	c.BeforeTransaction = g.Before
	return c
}

// Parties are the identities of an SLA's provider, client and logger, as
// the document names them (without wallets).
type Parties struct {
	Provider PartyRef `json:"provider"`
	Client   PartyRef `json:"client"`
	Logger   PartyRef `json:"logger"`
}

// Signatures are the parties' signatures over the SLA digest with their
// certificates; the client's is empty until the SLA is accepted.
type Signatures struct {
	Provider signedsla.Signature `json:"provider"`
	Client   signedsla.Signature `json:"client"`
}

// Agreement is the public record of one SLA: what every member of the
// channel can read in the blocks. It holds no term of the SLA beyond the
// parties' identities and the validity window: the document (price,
// metrics, consequences, wallets, nonce) is in the parties' implicit
// collections only.
type Agreement struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Digest is the lower-case hex SHA-256 of the SLA's canonical form, a
	// hiding commitment to the terms (the document carries a random
	// nonce).
	Digest        string     `json:"digest"`
	Parties       Parties    `json:"parties"`
	ValidityStart string     `json:"validity_start"`
	ValidityEnd   string     `json:"validity_end"`
	Signatures    Signatures `json:"signatures"`
	ProposedAt    string     `json:"proposed_at"`
	AcceptedAt    string     `json:"accepted_at,omitempty"`
	// LastPeriod is the start of the last paid period, PaidThrough its end;
	// PaidPeriods counts the periods paid into escrow.
	LastPeriod  string `json:"last_period,omitempty"`
	PaidThrough string `json:"paid_through,omitempty"`
	PaidPeriods int64  `json:"paid_periods"`
	// Enclave is the enclave whose verdicts settle the SLA, pinned at
	// acceptance; EnclaveHistory the pins it replaced (oldest first);
	// Handover the parties' pending approvals of another enclave.
	Enclave        *EnclavePin  `json:"enclave,omitempty"`
	EnclaveHistory []EnclavePin `json:"enclave_history,omitempty"`
	Handover       *Handover    `json:"handover,omitempty"`
	// TerminatedAt, TerminatedBy (the identity), TerminatedAs (provider or
	// client) and Reason record a termination or withdrawal; EndsAt is when
	// a terminated SLA stops (its paid term).
	TerminatedAt string      `json:"terminated_at,omitempty"`
	TerminatedBy identity.ID `json:"terminated_by,omitzero"`
	TerminatedAs string      `json:"terminated_as,omitempty"`
	Reason       string      `json:"reason,omitempty"`
	EndsAt       string      `json:"ends_at,omitempty"`
	// RefundedPeriod is the paid period that had not started at the
	// termination: its fee went back to the client (refund
	// RefundUnstarted).
	RefundedPeriod string `json:"refunded_period,omitempty"`
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
	// SLADigest and Collateral name the collateral the provider locked at
	// the proposal (consequences.collateral_minor, 0 for none); Expiry is
	// consequences.escrow_expiry.
	SLADigest  string            `json:"sla_digest,omitempty"`
	Collateral int64             `json:"collateral,omitempty"`
	Expiry     *sla.EscrowExpiry `json:"expiry,omitempty"`
}

// CollateralLock is the argument of the refund chaincode's LockCollateral:
// the SLA's collateral, locked from the provider's collateral wallet when
// it proposes the SLA.
type CollateralLock struct {
	SLAID     string    `json:"sla_id"`
	SLADigest string    `json:"sla_digest"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Wallet    string    `json:"wallet"`
	Provider  sla.Party `json:"provider"`
	Client    sla.Party `json:"client"`
}

// PartyRef names an identity in events and records: MSP ID, common name,
// subject and issuer.
type PartyRef struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
}

// ID returns the identity (MSP ID, subject, issuer).
func (p PartyRef) ID() identity.ID {
	return identity.ID{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer}
}

// party returns the identity as an SLA party without wallet.
func (p PartyRef) party() sla.Party {
	return sla.Party{MSPID: p.MSPID, CommonName: p.CommonName, Subject: p.Subject, Issuer: p.Issuer}
}

// SLAView is GetSLA's answer: the public record and the Parametric SLA
// Signed record, whose document comes from the caller's organization's
// implicit collection.
type SLAView struct {
	Agreement
	Signed signedsla.Record `json:"signed"`
}

// SLAEvent is the payload of SLAProposed, SLASigned, SLARenewed and
// SLATerminated. Like every event it is in the block for every channel
// member to read: it carries no term of the SLA.
type SLAEvent struct {
	SLAID    string   `json:"sla_id"`
	Digest   string   `json:"digest"`
	Status   string   `json:"status"`
	Provider PartyRef `json:"provider"`
	Client   PartyRef `json:"client"`
	// Period and PeriodEnd are the period paid (SLASigned, SLARenewed).
	Period    string `json:"period,omitempty"`
	PeriodEnd string `json:"period_end,omitempty"`
	// Enclave is the pinned enclave (SLASigned).
	Enclave *EnclavePin `json:"enclave,omitempty"`
	// By is the party who terminated (SLATerminated).
	By     *PartyRef `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// Page is a page of a list function's results.
type Page[T any] struct {
	Records  []T    `json:"records"`
	Bookmark string `json:"bookmark"`
	Fetched  int32  `json:"fetched"`
}

// ---- configuration ----

// Configure records the organization's deploy configuration (configJSON,
// exactly the file of every endorsing peer) on the ledger and returns the
// record (ccguard.Record) as JSON. Only an admin of one of the
// configuration's organizations may call it; the same configuration is
// recorded once.
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (string, error) {
	r, err := c.g.Configure(ctx, configJSON)
	if err != nil {
		return "", err
	}
	return toJSON(r)
}

// GetConfig returns this peer's deploy configuration, its digest and the
// recorded one (ccguard.ConfigView) as JSON. Anyone may read it.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	v, err := c.g.View(ctx)
	if err != nil {
		return "", err
	}
	return toJSON(v)
}

// ---- helpers ----

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

func ref(p sla.Party) PartyRef {
	return PartyRef{MSPID: p.MSPID, CommonName: p.CommonName, Subject: p.Subject, Issuer: p.Issuer}
}

func refOf(id identity.ID) PartyRef {
	return PartyRef{MSPID: id.MSPID, CommonName: identity.CommonName(id.Subject), Subject: id.Subject, Issuer: id.Issuer}
}

func event(a *Agreement) SLAEvent {
	return SLAEvent{SLAID: a.ID, Digest: a.Digest, Status: a.Status, Provider: a.Parties.Provider, Client: a.Parties.Client}
}

// partyRole returns "provider" or "client" when the caller is that party of
// the SLA (full identity), else "".
func partyRole(a *Agreement, caller *ccguard.Caller) string {
	switch caller.ID {
	case a.Parties.Provider.ID():
		return "provider"
	case a.Parties.Client.ID():
		return "client"
	}
	return ""
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
