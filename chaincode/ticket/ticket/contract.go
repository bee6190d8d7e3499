// Package ticket is the trouble-ticket chaincode: the tickets a customer
// opens against an SLA's support terms (its support section), the vendor
// the provider assigns to each, and the SLA clocks the chaincode computes on
// every transition: the acceptance target (time to acknowledge) and the
// closure target (time to resolve) of the ticket's severity, counted in the
// SLA's calendars (package calendar) with the pauses excluded, their
// deadlines, their outcomes (met or breached, by how much) and the
// per-ticket penalty each breach costs.
//
// # Configuration
//
// As the agreement chaincode: New takes the organization's ccguard.Guard,
// Configure records the deploy configuration (an admin of one of its
// organizations, exactly the peers' own file, once), every other function
// is refused until then and on a peer whose file differs, GetConfig shows
// both. The agreement chaincode's name comes from the configuration.
//
// # Participants
//
// Every participant is an identity: MSP ID, certificate subject and issuer
// (internal/identity), never a common name alone.
//
//   - customer: the SLA's client party, and provider: the SLA's provider
//     party, as the agreement chaincode's public record names them (read
//     with its GetParties in the creating transaction);
//   - vendor: the identity the provider names in AssignVendor; its
//     organization must run a peer (be one of the deploy configuration's
//     organizations) and must not be the customer's.
//
// Who may call what (status "paused" means one of the SLA's pause
// statuses):
//
//	CreateTicket       customer or provider          → open
//	AssignVendor       provider                      open → assigned
//	AcknowledgeTicket  the assigned vendor           assigned → acknowledged (acceptance outcome)
//	UpdateTicket       the assigned vendor           acknowledged, in_progress → in_progress
//	ResolveTicket      the assigned vendor           acknowledged, in_progress → resolved (closure outcome)
//	CloseTicket        customer or provider          resolved → closed
//	ReopenTicket       customer or provider          resolved → in_progress (closure outcome cleared)
//	PauseTicket        customer, provider or vendor  open, assigned, acknowledged, in_progress → paused
//	ResumeTicket       customer, provider or vendor  paused → the status before the pause
//	ChangeSeverity     customer or provider          any status but resolved and closed
//	Escalate           customer, provider or vendor  while a target runs
//	GetTicket, GetTicketHistory
//	                   members of the ticket's organizations, each on a peer of its own
//	ListTickets        anyone, on a peer of its own organization: the tickets in its collection
//	Configure          an admin of an organization of the deploy configuration
//	GetConfig          anyone
//
// Pauses: the provider or the vendor pauses a ticket when it waits on the
// customer, the customer when it asks for a hold; each pause is in the
// timeline with who paused it, the pause status and the reason, and any of
// the three may end it with ResumeTicket (the customer ends a pause it
// disputes by resuming). An illegal transition is an error naming the
// ticket's current status and changes nothing. The reads are open to every
// member of the ticket's organizations, not only to the three identities:
// each of those organizations holds the record on its peers.
//
// # Clocks
//
// Every time is the transaction timestamp, checked by the guard against
// the endorsing peers' clocks (ccguard, default skew 5 minutes); with every
// party's peer endorsing, no party alone can shift it further. The clocks
// of a ticket start at its creation. The acceptance clock runs until
// AcknowledgeTicket, the closure clock until ResolveTicket; each counts
// only the business time of its target's calendar outside the pauses. A
// target's deadline is the instant its clock reaches the target (unknown,
// "", while a pause that started before it is open); its outcome, set when
// its clock stops, is met when the counted time is at most the target, and
// records the counted time and the margin (target minus counted time, in
// milliseconds, negative when breached) and the penalty owed for a breach
// (the SLA's per-ticket penalty for the severity and target, in minor units
// of its currency; 0 when met). ReopenTicket clears the closure outcome
// and the closure clock counts on from where it started, the time the
// ticket spent resolved included. ChangeSeverity takes the new severity's
// terms for every target without an outcome: with "keep_elapsed" the time
// counted so far (in the old calendar, whole milliseconds) stays counted
// and the clock goes on in the new calendar towards the new target; with
// "restart" the clock starts again from zero at the change. Targets with
// an outcome keep it. Money is not paid here: the penalties are settled
// through the enclave's verdict of the period.
//
// Escalate(slaID, ticketID, level) records escalation level n of the
// running target (the acceptance target until acknowledgement, then the
// closure target) once: n must be the target's last recorded level plus
// one, and the target's counted time at the transaction must have reached
// the level's at_bps basis points of the target. A severity change starts
// the levels of the targets it changes again.
//
// # Privacy
//
// Whatever a ticket says is private to the customer's, the provider's and
// the vendor's organizations. The public state holds, under
// ticket~<slaID>~<ticketID>, only the TicketPublic: ids, the number of
// transitions (Seq), the organizations (Orgs) and the SHA-256 (Hash) of
// the private record. The TicketRecord (severity, type, description,
// status, identities, vendor ticket id, timestamps, deadlines, outcomes,
// pauses, escalations, the terms of its severity and the timeline with
// every note) is stored under the same key in the implicit collection
// ("_implicit_org_<MSP ID>") of each organization of Orgs. Its nonce,
// derived from the SLA document's secret nonce, makes the hash hiding.
//
// Every endorsing peer must simulate a transaction alike, and each holds
// only its own organization's collection, so no transaction reads private
// data: the submitter passes the current record in the transient map
// (key "ticket", the record as GetTicket returns it), which the chaincode
// checks against the public hash. The other inputs travel in the transient
// map too: the SLA document ("sla", for CreateTicket and ChangeSeverity)
// and the function's input ("input", a JSON object: severity, type,
// description, reasons, notes, vendor ticket id, pause status, vendor).
// The arguments are slaID and ticketID only (and Escalate's level); a
// proposal with more arguments is refused.
//
// What every channel member still learns from the blocks: the function
// names and arguments (SLA ids, ticket ids, escalation levels), the
// transaction times, the submitting and endorsing organizations, the
// public record (Seq, Orgs: that the ticket exists, how many transitions
// it had and which organizations, the vendor's among them, handle it),
// the events (names and {sla_id, ticket_id, seq}), and SHA-256 hashes of
// the private keys and records.
//
// # Endorsement
//
// The public key gets, when it is created, the key-level policy "a peer of
// every organization of Orgs" (customer's and provider's), set again once
// when AssignVendor adds the vendor's organization; each private write
// needs its organization's peer. So every transition needs the peers of
// every organization of the ticket: clients name them as the endorsing
// organizations (the Fabric Gateway does not plan transient data over
// several collections), and no other organization endorses or sees the
// transient data. CreateTicket creates the key under the chaincode-level
// policy and writes both the customer's and the provider's collections.
//
// # Events
//
// One per transaction, named after the transition (EventTicketCreated ...),
// with the payload TicketEvent {sla_id, ticket_id, seq}: the parties read
// the rest with GetTicket.
package ticket

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/identity"
)

// Statuses the contract drives; a ticket is also in one of its SLA's pause
// statuses while paused.
const (
	StatusOpen         = "open"
	StatusAssigned     = "assigned"
	StatusAcknowledged = "acknowledged"
	StatusInProgress   = "in_progress"
	StatusResolved     = "resolved"
	StatusClosed       = "closed"
)

// Roles of the participants.
const (
	RoleCustomer = "customer"
	RoleProvider = "provider"
	RoleVendor   = "vendor"
)

// Outcomes of a target.
const (
	OutcomeMet      = "met"
	OutcomeBreached = "breached"
)

// Event names.
const (
	EventTicketCreated         = "TicketCreated"
	EventVendorAssigned        = "TicketVendorAssigned"
	EventTicketAcknowledged    = "TicketAcknowledged"
	EventTicketUpdated         = "TicketUpdated"
	EventTicketPaused          = "TicketPaused"
	EventTicketResumed         = "TicketResumed"
	EventTicketResolved        = "TicketResolved"
	EventTicketClosed          = "TicketClosed"
	EventTicketReopened        = "TicketReopened"
	EventTicketSeverityChanged = "TicketSeverityChanged"
	EventTicketEscalated       = "TicketEscalated"
)

// MaxPageSize bounds ListTickets' page size.
const MaxPageSize = 100

// keyTicket is the object type of a ticket's key.
const keyTicket = "ticket"

// idPattern is what a ticket id may be: it is part of keys, arguments and
// events.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Contract is the trouble-ticket contract.
type Contract struct {
	contractapi.Contract
	g *ccguard.Guard
}

// New returns the contract guarded by g: g.Before runs before every
// function, and the agreement chaincode's name comes from g's
// configuration.
func New(g *ccguard.Guard) *Contract {
	c := &Contract{g: g}
	c.BeforeTransaction = g.Before
	return c
}

// TicketPublic is the public record of a ticket: all that a channel member
// outside the ticket's organizations can read of it.
type TicketPublic struct {
	ID    string `json:"id"`
	SLAID string `json:"sla_id"`
	// Seq counts the ticket's transitions (1 after CreateTicket).
	Seq int64 `json:"seq"`
	// Hash is the lower-case hex SHA-256 of the private record's JSON
	// (json.Marshal of TicketRecord), a hiding commitment to it.
	Hash string `json:"hash"`
	// Orgs are the MSP IDs of the customer, the provider and, once
	// assigned, the vendor, sorted and unique: the organizations that hold
	// the record and must endorse every transition.
	Orgs []string `json:"orgs"`
}

// TicketRecord is the private record of a ticket.
type TicketRecord struct {
	// Nonce makes the record's hash hiding; it is derived from the SLA
	// document's nonce, a secret of the parties (see ticketNonce).
	Nonce    string       `json:"nonce"`
	ID       string       `json:"id"`
	SLAID    string       `json:"sla_id"`
	Customer identity.ID  `json:"customer"`
	Provider identity.ID  `json:"provider"`
	Vendor   *identity.ID `json:"vendor,omitempty"`
	// VendorTicketID is the vendor's own reference (UpdateTicket).
	VendorTicketID string `json:"vendor_ticket_id,omitempty"`
	Severity       string `json:"severity"`
	Type           string `json:"type"`
	Description    string `json:"description"`
	Status         string `json:"status"`
	// PausedFrom is the status a paused ticket returns to.
	PausedFrom string  `json:"paused_from,omitempty"`
	CreatedAt  string  `json:"created_at"`
	CreatedBy  string  `json:"created_by"`
	Pauses     []Pause `json:"pauses"`
	// Terms are the SLA's terms for the ticket's severity, taken at
	// creation and at each severity change.
	Terms      TicketTerms `json:"terms"`
	Acceptance TargetClock `json:"acceptance"`
	Closure    TargetClock `json:"closure"`
	// Escalations are the recorded escalation levels, oldest first.
	Escalations []EscalationRecord `json:"escalations"`
	// Timeline holds every transition, oldest first.
	Timeline []Transition `json:"timeline"`
}

// Pause is a period in which the clocks stop; To is "" while it lasts.
type Pause struct {
	Status string `json:"status"`
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
}

// TargetClock is the state of one target of a ticket. Its counted time
// at t is CarriedMS plus the time its calendar counts from Start to t,
// pauses excluded.
type TargetClock struct {
	TargetMS int64 `json:"target_ms"`
	// Start is when the clock last started counting in the current
	// calendar: the creation, or a severity change.
	Start string `json:"start"`
	// CarriedMS is the time counted before Start, under earlier terms
	// (severity_change "keep_elapsed"); 0 otherwise.
	CarriedMS int64 `json:"carried_ms"`
	// Deadline is when the target's clock reaches the target, "" while an
	// open pause leaves it unknown; the severity change itself when the
	// carried time had reached the target already.
	Deadline string `json:"deadline"`
	// Outcome is set when the clock stopped (acknowledgement, resolution).
	Outcome *Outcome `json:"outcome,omitempty"`
	// Level is the last escalation level recorded for the target (0: none).
	Level int `json:"level"`
}

// Outcome is how a target ended.
type Outcome struct {
	// Result is OutcomeMet or OutcomeBreached.
	Result string `json:"result"`
	// At is when the clock stopped; Severity the ticket's severity then.
	At       string `json:"at"`
	Severity string `json:"severity"`
	// ElapsedMS is the counted time; MarginMS is the target minus it
	// (negative when breached), both in whole milliseconds.
	ElapsedMS int64 `json:"elapsed_ms"`
	MarginMS  int64 `json:"margin_ms"`
	// PenaltyMinor is owed for a breach (minor units of Currency), 0 when
	// met.
	PenaltyMinor int64  `json:"penalty_minor"`
	Currency     string `json:"currency"`
}

// EscalationRecord is one recorded escalation level.
type EscalationRecord struct {
	Target string      `json:"target"`
	Level  int         `json:"level"`
	AtBPS  int64       `json:"at_bps"`
	Notify []string    `json:"notify"`
	At     string      `json:"at"`
	By     identity.ID `json:"by"`
}

// Transition is one entry of a ticket's timeline.
type Transition struct {
	Seq    int64       `json:"seq"`
	TxID   string      `json:"tx_id"`
	At     string      `json:"at"`
	Action string      `json:"action"`
	By     identity.ID `json:"by"`
	Role   string      `json:"role"`
	From   string      `json:"from,omitempty"`
	To     string      `json:"to"`
	// Severity is the ticket's severity after the transition (the new one
	// after ChangeSeverity): with At and Action, what the Cloud Logger's
	// ticket feed writes into the SLA's logs (logger/ticketfeed).
	Severity string `json:"severity"`
	// Note is the transition's free text (reason, resolution, note).
	Note string `json:"note,omitempty"`
}

// PenaltyOwedMinor is the sum of the penalties of the breached targets.
func (r *TicketRecord) PenaltyOwedMinor() int64 {
	var sum int64
	for _, o := range []*Outcome{r.Acceptance.Outcome, r.Closure.Outcome} {
		if o != nil {
			sum += o.PenaltyMinor
		}
	}
	return sum
}

// TicketEvent is the payload of every event: nothing private.
type TicketEvent struct {
	SLAID    string `json:"sla_id"`
	TicketID string `json:"ticket_id"`
	Seq      int64  `json:"seq"`
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

func format(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

func checkIDs(slaID, ticketID string) error {
	if slaID == "" {
		return errors.New("slaID: must not be empty")
	}
	if !idPattern.MatchString(ticketID) {
		return fmt.Errorf("ticketID: %q is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit", clip(ticketID))
	}
	return nil
}

func ticketKey(ctx contractapi.TransactionContextInterface, slaID, ticketID string) (string, error) {
	k, err := ctx.GetStub().CreateCompositeKey(keyTicket, []string{slaID, ticketID})
	if err != nil {
		return "", fmt.Errorf("key of ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	return k, nil
}

// loadPublic reads a ticket's public record; it fails when there is none.
func loadPublic(ctx contractapi.TransactionContextInterface, slaID, ticketID string) (*TicketPublic, string, error) {
	if err := checkIDs(slaID, ticketID); err != nil {
		return nil, "", err
	}
	key, err := ticketKey(ctx, slaID, ticketID)
	if err != nil {
		return nil, "", err
	}
	data, err := ctx.GetStub().GetState(key)
	if err != nil {
		return nil, "", fmt.Errorf("read ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	if data == nil {
		return nil, "", fmt.Errorf("ticket %q of SLA %q does not exist", ticketID, slaID)
	}
	var p TicketPublic
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, "", fmt.Errorf("decode ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	return &p, key, nil
}

func emit(ctx contractapi.TransactionContextInterface, name string, p *TicketPublic) error {
	data, err := json.Marshal(TicketEvent{SLAID: p.SLAID, TicketID: p.ID, Seq: p.Seq})
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

func parsePageSize(text string) (int32, error) {
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fmt.Errorf("pageSize: %q is not an integer in 1..%d", clip(text), MaxPageSize)
	}
	return int32(n), nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
