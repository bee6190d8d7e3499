package ticket

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/sla"
)

// noteInput is the transient input of the transitions that take an
// optional note.
type noteInput struct {
	Note string `json:"note"`
}

// reasonInput is the transient input of the transitions that need a
// reason.
type reasonInput struct {
	Reason string `json:"reason"`
}

// assignInput is AssignVendor's transient input.
type assignInput struct {
	Vendor identity.ID `json:"vendor"`
	Note   string      `json:"note"`
}

// updateInput is UpdateTicket's transient input.
type updateInput struct {
	Reason         string `json:"reason"`
	VendorTicketID string `json:"vendor_ticket_id"`
}

// pauseInput is PauseTicket's transient input.
type pauseInput struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// note reads an optional note input.
func (s *step) note() (string, error) {
	var in noteInput
	if err := decodeInput(s.tm, &in, false); err != nil {
		return "", err
	}
	return in.Note, checkText("note", in.Note, MaxNoteLength, false, false)
}

// reason reads a required reason input.
func (s *step) reason() (string, error) {
	var in reasonInput
	if err := decodeInput(s.tm, &in, true); err != nil {
		return "", err
	}
	return in.Reason, checkText("reason", in.Reason, MaxNoteLength, true, false)
}

// wrap names the ticket in an error of the clock computations.
func (s *step) wrap(err error) error {
	return fmt.Errorf("ticket %q of SLA %q: %w", s.p.ID, s.p.SLAID, err)
}

var recordKeys = []string{TransientTicket, TransientInput}

// AssignVendor assigns an open ticket to a vendor. Only the ticket's
// provider may call it. The transient map carries the current record
// ("ticket") and the input {"vendor": {"msp_id", "subject", "issuer"},
// "note"}: the vendor's identity, whose organization must run a peer (one
// of the deploy configuration's organizations) and must not be the
// customer's. The vendor's organization joins the ticket's organizations:
// the record is written to its collection too, and the public key's
// key-level policy becomes "a peer of each of the three" (set this once),
// so this transaction needs the vendor's peer as well. Status assigned;
// event TicketVendorAssigned.
func (c *Contract) AssignVendor(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "AssignVendor", slaID, ticketID, recordKeys, RoleProvider)
	if err != nil {
		return err
	}
	// mutate:check assign-status
	if s.r.Status != StatusOpen {
		return s.statusError(StatusOpen)
	}
	var in assignInput
	if err := decodeInput(s.tm, &in, true); err != nil {
		return err
	}
	if err := in.Vendor.Validate("input.vendor"); err != nil {
		return err
	}
	if err := checkText("note", in.Note, MaxNoteLength, false, false); err != nil {
		return err
	}
	orgs := c.g.Config().Orgs
	// mutate:check assign-vendor-peer
	if !slices.Contains(orgs, in.Vendor.MSPID) {
		return fmt.Errorf("input.vendor.msp_id: %s runs no peer of the channel (the deploy configuration's organizations are %v); a vendor must endorse its tickets", in.Vendor.MSPID, orgs)
	}
	// mutate:check assign-vendor-customer
	if in.Vendor.MSPID == s.r.Customer.MSPID {
		return fmt.Errorf("input.vendor.msp_id: %s is the customer's organization; the vendor must be another organization", in.Vendor.MSPID)
	}
	vendor := in.Vendor
	s.r.Vendor = &vendor
	s.r.Status = StatusAssigned
	if !slices.Contains(s.p.Orgs, vendor.MSPID) {
		s.p.Orgs = append(s.p.Orgs, vendor.MSPID)
		slices.Sort(s.p.Orgs)
		if err := setOrgsPolicy(ctx, s.key, s.p); err != nil {
			return err
		}
	}
	note := fmt.Sprintf("vendor %s", vendor)
	if in.Note != "" {
		note += ": " + in.Note
	}
	return s.finish(ctx, StatusOpen, note, EventVendorAssigned)
}

// AcknowledgeTicket is the vendor's acknowledgement of an assigned ticket:
// it stops the acceptance clock and records the acceptance outcome. Only
// the assigned vendor may call it. The transient map carries the current
// record ("ticket") and, optionally, the input {"note"}. Status
// acknowledged; event TicketAcknowledged.
func (c *Contract) AcknowledgeTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "AcknowledgeTicket", slaID, ticketID, recordKeys, RoleVendor)
	if err != nil {
		return err
	}
	// mutate:check ack-status
	if s.r.Status != StatusAssigned {
		return s.statusError(StatusAssigned)
	}
	note, err := s.note()
	if err != nil {
		return err
	}
	if err := s.r.stop(sla.TargetAcceptance, s.now); err != nil {
		return s.wrap(err)
	}
	s.r.Status = StatusAcknowledged
	return s.finish(ctx, StatusAssigned, note, EventTicketAcknowledged)
}

// UpdateTicket records the vendor's progress on an acknowledged or
// in-progress ticket. Only the assigned vendor may call it. The transient
// map carries the current record ("ticket") and the input {"reason",
// "vendor_ticket_id"}: reason 1..1024 bytes, the vendor's own ticket id
// (optional, 1..128 bytes on one line; it replaces the previous one).
// Status in_progress; event TicketUpdated.
func (c *Contract) UpdateTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "UpdateTicket", slaID, ticketID, recordKeys, RoleVendor)
	if err != nil {
		return err
	}
	from := s.r.Status
	// mutate:check update-status
	if from != StatusAcknowledged && from != StatusInProgress {
		return s.statusError(StatusAcknowledged, StatusInProgress)
	}
	var in updateInput
	if err := decodeInput(s.tm, &in, true); err != nil {
		return err
	}
	if err := checkText("reason", in.Reason, MaxNoteLength, true, false); err != nil {
		return err
	}
	if err := checkText("vendor_ticket_id", in.VendorTicketID, MaxVendorTicketID, false, true); err != nil {
		return err
	}
	if in.VendorTicketID != "" {
		s.r.VendorTicketID = in.VendorTicketID
	}
	s.r.Status = StatusInProgress
	return s.finish(ctx, from, in.Reason, EventTicketUpdated)
}

// ResolveTicket is the vendor's resolution of an acknowledged or
// in-progress ticket: it stops the closure clock and records the closure
// outcome. Only the assigned vendor may call it. The transient map carries
// the current record ("ticket") and, optionally, the input {"note"}.
// Status resolved; event TicketResolved.
func (c *Contract) ResolveTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "ResolveTicket", slaID, ticketID, recordKeys, RoleVendor)
	if err != nil {
		return err
	}
	from := s.r.Status
	// mutate:check resolve-status
	if from != StatusAcknowledged && from != StatusInProgress {
		return s.statusError(StatusAcknowledged, StatusInProgress)
	}
	note, err := s.note()
	if err != nil {
		return err
	}
	if err := s.r.stop(sla.TargetClosure, s.now); err != nil {
		return s.wrap(err)
	}
	s.r.Status = StatusResolved
	return s.finish(ctx, from, note, EventTicketResolved)
}

// CloseTicket closes a resolved ticket. Only the ticket's customer or
// provider may call it. The transient map carries the current record
// ("ticket") and, optionally, the input {"note"}. Status closed; event
// TicketClosed.
func (c *Contract) CloseTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "CloseTicket", slaID, ticketID, recordKeys, RoleCustomer, RoleProvider)
	if err != nil {
		return err
	}
	// mutate:check close-status
	if s.r.Status != StatusResolved {
		return s.statusError(StatusResolved)
	}
	note, err := s.note()
	if err != nil {
		return err
	}
	s.r.Status = StatusClosed
	return s.finish(ctx, StatusResolved, note, EventTicketClosed)
}

// ReopenTicket puts a resolved ticket back in progress and clears its
// closure outcome: the closure clock runs again from the ticket's clock
// start (the time spent resolved counts). Only the ticket's customer or
// provider may call it. The transient map carries the current record
// ("ticket") and the input {"reason"} (1..1024 bytes). Status
// in_progress; event TicketReopened.
func (c *Contract) ReopenTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "ReopenTicket", slaID, ticketID, recordKeys, RoleCustomer, RoleProvider)
	if err != nil {
		return err
	}
	// mutate:check reopen-status
	if s.r.Status != StatusResolved {
		return s.statusError(StatusResolved)
	}
	reason, err := s.reason()
	if err != nil {
		return err
	}
	s.r.Closure.Outcome = nil
	if err := s.r.refreshDeadlines(); err != nil {
		return s.wrap(err)
	}
	s.r.Status = StatusInProgress
	return s.finish(ctx, StatusResolved, reason, EventTicketReopened)
}

// pausable are the statuses a ticket may be paused in.
var pausable = []string{StatusOpen, StatusAssigned, StatusAcknowledged, StatusInProgress}

// PauseTicket stops a ticket's clocks: the provider or the vendor while it
// waits on the customer, the customer when it asks for a hold. Only the
// ticket's customer, provider or assigned vendor may call it, on a ticket
// that is open, assigned, acknowledged or in progress. The transient map
// carries the current record ("ticket") and the input {"status",
// "reason"}: status is one of the SLA's pause statuses, reason 1..1024
// bytes. The deadlines of the running targets become unknown ("") until
// the pause ends, unless they passed before it. The ticket's status is the
// pause status; event TicketPaused.
func (c *Contract) PauseTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "PauseTicket", slaID, ticketID, recordKeys, RoleCustomer, RoleProvider, RoleVendor)
	if err != nil {
		return err
	}
	from := s.r.Status
	// mutate:check pause-status
	if !slices.Contains(pausable, from) {
		return s.statusError(pausable...)
	}
	var in pauseInput
	if err := decodeInput(s.tm, &in, true); err != nil {
		return err
	}
	// mutate:check pause-known-status
	if !s.r.Terms.pauses(in.Status) {
		return fmt.Errorf("input.status: %q is not a pause status of the SLA (%v)", clip(in.Status), s.r.Terms.PauseStatuses)
	}
	if err := checkText("reason", in.Reason, MaxNoteLength, true, false); err != nil {
		return err
	}
	s.r.Pauses = append(s.r.Pauses, Pause{Status: in.Status, From: format(s.now)})
	s.r.PausedFrom, s.r.Status = from, in.Status
	if err := s.r.refreshDeadlines(); err != nil {
		return s.wrap(err)
	}
	return s.finish(ctx, from, in.Reason, EventTicketPaused)
}

// ResumeTicket ends a ticket's pause: its clocks run again and it returns
// to the status it was paused in. Only the ticket's customer, provider or
// assigned vendor may call it. The transient map carries the current
// record ("ticket") and, optionally, the input {"note"}. Event
// TicketResumed.
func (c *Contract) ResumeTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) error {
	s, err := c.begin(ctx, "ResumeTicket", slaID, ticketID, recordKeys, RoleCustomer, RoleProvider, RoleVendor)
	if err != nil {
		return err
	}
	from := s.r.Status
	// mutate:check resume-status
	if s.r.PausedFrom == "" || len(s.r.Pauses) == 0 {
		return fmt.Errorf("ticket %q of SLA %q is %s; ResumeTicket needs a paused ticket (a status of %v)", ticketID, slaID, from, s.r.Terms.PauseStatuses)
	}
	note, err := s.note()
	if err != nil {
		return err
	}
	s.r.Pauses[len(s.r.Pauses)-1].To = format(s.now)
	s.r.Status, s.r.PausedFrom = s.r.PausedFrom, ""
	if err := s.r.refreshDeadlines(); err != nil {
		return s.wrap(err)
	}
	return s.finish(ctx, from, note, EventTicketResumed)
}

// Escalate records escalation level level (decimal, 1..5) of the running
// target of a ticket: the acceptance target until the ticket is
// acknowledged, then the closure target until it is resolved. Any of the
// ticket's customer, provider or assigned vendor may call it (the
// escalation service runs as one of them). It is refused unless level is
// the target's last recorded level plus one and the target's counted time
// at the transaction has reached the level's at_bps of the target (the
// guard bounds how early a submitter may date it). The transient map
// carries the current record ("ticket"). Event TicketEscalated.
func (c *Contract) Escalate(ctx contractapi.TransactionContextInterface, slaID, ticketID, level string) error {
	s, err := c.begin(ctx, "Escalate", slaID, ticketID, []string{TransientTicket}, RoleCustomer, RoleProvider, RoleVendor)
	if err != nil {
		return err
	}
	levels := s.r.Terms.Escalation
	n, err := strconv.Atoi(level)
	// mutate:check escalate-level
	if err != nil || n < 1 || n > len(levels) {
		return fmt.Errorf("level: %q is not a level of the SLA's escalation (1..%d)", clip(level), len(levels))
	}
	target := s.r.running()
	// mutate:check escalate-running
	if target == "" {
		return fmt.Errorf("ticket %q of SLA %q is %s: no target runs, nothing to escalate", ticketID, slaID, s.r.Status)
	}
	clock := s.r.clock(target)
	// mutate:check escalate-next-level
	if n != clock.Level+1 {
		return fmt.Errorf("level: ticket %q of SLA %q is at escalation level %d of its %s target; the next level is %d, not %d", ticketID, slaID, clock.Level, target, clock.Level+1, n)
	}
	el, err := s.r.elapsed(target, s.now)
	if err != nil {
		return s.wrap(err)
	}
	at := levels[n-1].AtBPS
	// mutate:check escalate-threshold
	if !reached(el, clock.TargetMS, at) {
		return fmt.Errorf("level: the %s target of ticket %q of SLA %q has used %d of 10000 basis points at %s; level %d needs %d",
			target, ticketID, slaID, bps(el, clock.TargetMS), format(s.now), n, at)
	}
	clock.Level = n
	s.r.Escalations = append(s.r.Escalations, EscalationRecord{
		Target: target, Level: n, AtBPS: at, Notify: slices.Clone(levels[n-1].Notify), At: format(s.now), By: s.caller.ID,
	})
	return s.finish(ctx, s.r.Status, fmt.Sprintf("%s escalation level %d", target, n), EventTicketEscalated)
}
