package ticket

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/sla"
)

// createInput is CreateTicket's transient input.
type createInput struct {
	Severity    string `json:"severity"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// severityInput is ChangeSeverity's transient input.
type severityInput struct {
	Severity string `json:"severity"`
	Reason   string `json:"reason"`
}

// document returns the SLA document of the transient map (key
// TransientSLA) after checking that it is the document of the SLA v (its
// canonical digest is the agreement's).
func document(tm map[string][]byte, v *slaParties) (*sla.SLA, error) {
	raw, ok := tm[TransientSLA]
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("transient %q: missing: pass the SLA document in the transient map under key %q", TransientSLA, TransientSLA)
	}
	doc, err := sla.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("transient %q: invalid SLA: %s", TransientSLA, describe(err))
	}
	digest, err := sla.Digest(doc)
	if err != nil {
		return nil, fmt.Errorf("transient %q: digest: %w", TransientSLA, err)
	}
	got := hex.EncodeToString(digest[:])
	// mutate:check sla-digest
	if got != v.Digest {
		return nil, fmt.Errorf("transient %q: the document's digest %s is not the digest of SLA %q (%s)", TransientSLA, got, v.ID, v.Digest)
	}
	return doc, nil
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

// CreateTicket opens ticket ticketID on SLA slaID. The submitter must be
// the SLA's client (the customer) or its provider (MSP ID, certificate
// subject and issuer, as the agreement chaincode's record names them), and
// the SLA must be ACTIVE, or TERMINATED and still within its paid term.
// The transient map carries the SLA document under "sla" (its canonical
// digest must be the agreement's; it must have a support section) and the
// input {"severity", "type", "description"} under "input": severity is one
// of the SLA's severities, type 1..64 bytes on one line, description
// 1..4096 bytes. The ticket id (1..64 letters, digits, '.', '_', '-') must
// be new for the SLA.
//
// The record takes the severity's terms (TicketTerms), status open, the
// clocks start at the transaction time and the deadlines are computed. It
// is written to the customer's and the provider's implicit collections,
// so the transaction needs both organizations' peers. Event TicketCreated.
func (c *Contract) CreateTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	if err := checkArgs(ctx, "CreateTicket", "slaID", "ticketID"); err != nil {
		return err
	}
	if err := checkIDs(slaID, ticketID); err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	v, err := c.parties(ctx, slaID)
	if err != nil {
		return err
	}
	role := ""
	switch caller.ID {
	case v.Parties.Client.id():
		role = RoleCustomer
	case v.Parties.Provider.id():
		role = RoleProvider
	}
	// mutate:check create-caller
	if role == "" {
		return fmt.Errorf("CreateTicket: only the SLA's client (the customer) or provider may open a ticket on SLA %q, not %s", slaID, caller.ID)
	}
	now, err := c.txTime(ctx)
	if err != nil {
		return err
	}
	if err := open(v, now); err != nil {
		return err
	}
	tm, err := readTransient(ctx, TransientSLA, TransientInput)
	if err != nil {
		return err
	}
	doc, err := document(tm, v)
	if err != nil {
		return err
	}
	var in createInput
	if err := decodeInput(tm, &in, true); err != nil {
		return err
	}
	if err := checkText("type", in.Type, MaxTypeLength, true, true); err != nil {
		return err
	}
	if err := checkText("description", in.Description, MaxDescriptionLength, true, false); err != nil {
		return err
	}
	terms, err := NewTerms(doc.Support, doc.Price.Currency, in.Severity)
	if err != nil {
		return fmt.Errorf("SLA %q: %w", slaID, err)
	}
	key, err := ticketKey(ctx, slaID, ticketID)
	if err != nil {
		return err
	}
	existing, err := ctx.GetStub().GetState(key)
	if err != nil {
		return fmt.Errorf("read ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	// mutate:check create-exists
	if existing != nil {
		return fmt.Errorf("ticket %q of SLA %q already exists", ticketID, slaID)
	}
	orgs := []string{v.Parties.Client.MSPID, v.Parties.Provider.MSPID}
	slices.Sort(orgs)
	p := &TicketPublic{ID: ticketID, SLAID: slaID, Orgs: slices.Compact(orgs)}
	r := &TicketRecord{
		Nonce: ticketNonce(doc.Nonce, slaID, ticketID),
		ID:    ticketID, SLAID: slaID,
		Customer: v.Parties.Client.id(), Provider: v.Parties.Provider.id(),
		Severity: terms.Severity, Type: in.Type, Description: in.Description,
		Status:    StatusOpen,
		CreatedAt: format(now), CreatedBy: role,
		Pauses: []Pause{}, Terms: terms, Escalations: []EscalationRecord{}, Timeline: []Transition{},
		Acceptance: TargetClock{Start: format(now)}, Closure: TargetClock{Start: format(now)},
	}
	if err := r.refreshDeadlines(); err != nil {
		return fmt.Errorf("ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	s := &step{fn: "CreateTicket", key: key, p: p, r: r, caller: caller, role: role, now: now}
	if err := setOrgsPolicy(ctx, key, p); err != nil {
		return err
	}
	return s.finish(ctx, "", "", EventTicketCreated)
}

// open fails unless the SLA v takes tickets at now: ACTIVE, or TERMINATED
// before the end of its paid term.
func open(v *slaParties, now time.Time) error {
	// mutate:check create-sla-status
	if v.Status != slaActive && v.Status != slaTerminated {
		return fmt.Errorf("SLA %q is %s; tickets are opened on an %s SLA", v.ID, v.Status, slaActive)
	}
	if v.Status == slaActive {
		return nil
	}
	end, err := time.Parse(time.RFC3339, v.EndsAt)
	if err != nil {
		return fmt.Errorf("SLA %q: ends_at: %w", v.ID, err)
	}
	// mutate:check create-sla-ended
	if !now.Before(end) {
		return fmt.Errorf("SLA %q was terminated and ended at %s; it takes no tickets", v.ID, v.EndsAt)
	}
	return nil
}

// ChangeSeverity gives a ticket another severity of its SLA, with that
// severity's terms. The submitter must be the ticket's customer or
// provider; the ticket must not be resolved or closed. The transient map
// carries the current record ("ticket"), the SLA document ("sla", checked
// against the agreement's digest) and the input {"severity", "reason"}
// (the new severity, other than the current one; reason 1..1024 bytes).
// Targets with an outcome keep it; the others take the new target and
// calendar from now on, with the time counted so far carried over
// (severity_change "keep_elapsed") or from zero ("restart"), and their
// escalation levels start again. Event TicketSeverityChanged.
func (c *Contract) ChangeSeverity(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "ChangeSeverity", slaID, ticketID, []string{TransientTicket, TransientSLA, TransientInput}, RoleCustomer, RoleProvider)
	if err != nil {
		return err
	}
	// mutate:check severity-status
	if s.r.Status == StatusResolved || s.r.Status == StatusClosed {
		return fmt.Errorf("ticket %q of SLA %q is %s; ChangeSeverity needs a ticket that is not resolved or closed", ticketID, slaID, s.r.Status)
	}
	var in severityInput
	if err := decodeInput(s.tm, &in, true); err != nil {
		return err
	}
	if err := checkText("reason", in.Reason, MaxNoteLength, true, false); err != nil {
		return err
	}
	if in.Severity == s.r.Severity {
		return fmt.Errorf("input.severity: ticket %q of SLA %q is %s already", ticketID, slaID, in.Severity)
	}
	v, err := c.parties(ctx, slaID)
	if err != nil {
		return err
	}
	doc, err := document(s.tm, v)
	if err != nil {
		return err
	}
	terms, err := NewTerms(doc.Support, doc.Price.Currency, in.Severity)
	if err != nil {
		return fmt.Errorf("SLA %q: %w", slaID, err)
	}
	from := s.r.Severity
	if err := s.r.restartClocks(s.now, terms.SeverityChange == sla.SeverityChangeRestart); err != nil {
		return s.wrap(err)
	}
	s.r.Severity, s.r.Terms = terms.Severity, terms
	if err := s.r.refreshDeadlines(); err != nil {
		return fmt.Errorf("ticket %q of SLA %q: %w", ticketID, slaID, err)
	}
	return s.finish(ctx, s.r.Status, fmt.Sprintf("severity %s -> %s: %s", from, terms.Severity, in.Reason), EventTicketSeverityChanged)
}
