package ticket

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/identity"
)

// Bounds of the free-text inputs (bytes of UTF-8).
const (
	MaxDescriptionLength = 4096
	MaxNoteLength        = 1024
	MaxTypeLength        = 64
	MaxVendorTicketID    = 128
)

// agreement statuses a ticket may be created under.
const (
	slaActive     = "ACTIVE"
	slaTerminated = "TERMINATED"
)

// slaParties is the agreement chaincode's GetParties answer (the fields
// used here).
type slaParties struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Digest  string `json:"digest"`
	Parties struct {
		Provider partyRef `json:"provider"`
		Client   partyRef `json:"client"`
	} `json:"parties"`
	EndsAt string `json:"ends_at"`
}

type partyRef struct {
	MSPID   string `json:"msp_id"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
}

func (p partyRef) id() identity.ID {
	return identity.ID{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer}
}

// parties reads the SLA's public fields from the agreement chaincode
// (GetParties, in this transaction, as the submitter: it refuses anyone
// outside the SLA's parties' organizations).
func (c *Contract) parties(ctx contractapi.TransactionContextInterface, slaID string) (*slaParties, error) {
	var v slaParties
	if err := ccall.JSON(ctx, &v, c.g.Config().Chaincodes.Agreement, "GetParties", slaID); err != nil {
		return nil, fmt.Errorf("SLA %q: %w", slaID, err)
	}
	return &v, nil
}

// roles returns the roles the caller holds on the ticket (full identity).
func roles(r *TicketRecord, caller *ccguard.Caller) []string {
	var out []string
	if caller.ID == r.Customer {
		out = append(out, RoleCustomer)
	}
	if caller.ID == r.Provider {
		out = append(out, RoleProvider)
	}
	if r.Vendor != nil && caller.ID == *r.Vendor {
		out = append(out, RoleVendor)
	}
	return out
}

// step is a transition in the making: the ticket's public record, its key,
// its current record, the caller with the role it acts in, and the
// transaction time.
type step struct {
	fn     string
	key    string
	p      *TicketPublic
	r      *TicketRecord
	tm     map[string][]byte
	caller *ccguard.Caller
	role   string
	now    time.Time
}

// begin starts transition fn of a ticket: the caller must belong to one of
// the ticket's organizations, the transient map may hold only keys, its
// record must be the current one, and the caller must hold one of allowed
// roles (the first it holds is the role it acts in).
func (c *Contract) begin(ctx contractapi.TransactionContextInterface, fn, slaID, ticketID string, keys []string, allowed ...string) (*step, error) {
	params := []string{"slaID", "ticketID"}
	if fn == "Escalate" {
		params = append(params, "level")
	}
	if err := checkArgs(ctx, fn, params...); err != nil {
		return nil, err
	}
	p, key, err := loadPublic(ctx, slaID, ticketID)
	if err != nil {
		return nil, err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return nil, err
	}
	// mutate:check transition-org
	if !slices.Contains(p.Orgs, caller.ID.MSPID) {
		return nil, fmt.Errorf("%s: ticket %q of SLA %q belongs to %s; the caller's organization %s has no part in it", fn, ticketID, slaID, strings.Join(p.Orgs, ", "), caller.ID.MSPID)
	}
	tm, err := readTransient(ctx, keys...)
	if err != nil {
		return nil, err
	}
	r, err := currentRecord(tm, p)
	if err != nil {
		return nil, err
	}
	held := roles(r, caller)
	role := ""
	for _, a := range allowed {
		if slices.Contains(held, a) {
			role = a
			break
		}
	}
	// mutate:check transition-role
	if role == "" {
		return nil, fmt.Errorf("%s: only the ticket's %s may call it on ticket %q of SLA %q, not %s", fn, strings.Join(allowed, " or "), ticketID, slaID, caller.ID)
	}
	now, err := c.txTime(ctx)
	if err != nil {
		return nil, err
	}
	return &step{fn: fn, key: key, p: p, r: r, tm: tm, caller: caller, role: role, now: now}, nil
}

// checkArgs refuses a proposal with more arguments than fn's params (the
// contract API ignores extra ones): free text passed as an argument by
// mistake would be written to the block for every channel member.
func checkArgs(ctx contractapi.TransactionContextInterface, fn string, params ...string) error {
	_, args := ctx.GetStub().GetFunctionAndParameters()
	// mutate:check args-count
	if len(args) > len(params) {
		return fmt.Errorf("arguments: %s takes %d (%s), not %d; pass everything else in the transient map under %q (the arguments are written to the block, the transient map is not)",
			fn, len(params), strings.Join(params, ", "), len(args), TransientInput)
	}
	return nil
}

// statusError is the error of a transition the ticket's status does not
// allow.
func (s *step) statusError(want ...string) error {
	return fmt.Errorf("ticket %q of SLA %q is %s; %s needs status %s", s.p.ID, s.p.SLAID, s.r.Status, s.fn, strings.Join(want, " or "))
}

// finish records the transition in the timeline (to the record's current
// status), writes the record and the public record, and sets event.
func (s *step) finish(ctx contractapi.TransactionContextInterface, from, note, event string) error {
	s.p.Seq++
	s.r.Timeline = append(s.r.Timeline, Transition{
		Seq: s.p.Seq, TxID: ctx.GetStub().GetTxID(), At: format(s.now), Action: s.fn,
		By: s.caller.ID, Role: s.role, From: from, To: s.r.Status, Severity: s.r.Severity, Note: note,
	})
	if err := putTicket(ctx, s.key, s.p, s.r); err != nil {
		return err
	}
	return emit(ctx, event, s.p)
}

// checkText checks a free-text input: valid UTF-8 of at most max bytes
// without NUL, on one line when oneLine, non-empty when required.
func checkText(field, s string, max int, required, oneLine bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("input.%s: must not be empty", field)
	case len(s) > max:
		return fmt.Errorf("input.%s: %d bytes, more than %d", field, len(s), max)
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return fmt.Errorf("input.%s: must be UTF-8 text without NUL", field)
	case oneLine && strings.ContainsAny(s, "\n\r"):
		return fmt.Errorf("input.%s: must be one line", field)
	}
	return nil
}
