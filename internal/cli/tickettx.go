package cli

// The inputs of the ticket transitions that take more than one text:
// checked as the chaincode checks them and built into a ticketTx (or
// CreateTicket's input) in one place, for slasa ticket create, assign,
// update, pause, severity and escalate and for the console's ticket forms.
// An error that names a flag (--severity) names the console form's field
// of the same name (formText strips the dashes).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// createTicketInput checks a new ticket's severity (one line of at most 64
// bytes; checkSeverity checks it against the SLA), type and description
// and returns CreateTicket's input.
func createTicketInput(severity, kind, description string) ([]byte, error) {
	for _, c := range []struct {
		flag, v  string
		max      int
		required bool
		oneLine  bool
	}{{"severity", severity, 64, true, true}, {"type", kind, maxTicketType, true, true}, {"description", description, maxTicketDescription, true, false}} {
		if err := checkFlagText(c.flag, c.v, c.max, c.required, c.oneLine); err != nil {
			return nil, err
		}
	}
	return json.Marshal(map[string]string{"severity": severity, "type": kind, "description": description})
}

// checkAssignInput checks AssignVendor's input: the vendor by name (an
// identity of the local network's run folder) or by its MSP ID, subject
// and issuer, not both, and an optional note.
func checkAssignInput(vendor string, explicit identity.ID, note string) error {
	if vendor != "" && !explicit.IsZero() {
		return usageError{errors.New("--vendor and --vendor-msp/--vendor-subject/--vendor-issuer exclude each other")}
	}
	if vendor == "" {
		if explicit.IsZero() {
			return usageError{errors.New("assign needs the vendor: --vendor NAME, or --vendor-msp, --vendor-subject and --vendor-issuer")}
		}
		if err := explicit.Validate("--vendor"); err != nil {
			return usageError{errors.New(strings.NewReplacer("--vendor.msp_id", "--vendor-msp", "--vendor.subject", "--vendor-subject",
				"--vendor.issuer", "--vendor-issuer").Replace(err.Error()))}
		}
	}
	return checkFlagText("note", note, maxTicketNote, false, false)
}

// assignTx checks AssignVendor's input, resolves the vendor's identity
// (info names the local network's identities; nil for an explicit
// identity) and builds the transition: the vendor's organization endorses
// it too and must not be the customer's.
func assignTx(info *fabnet.Info, vendor string, explicit identity.ID, note string) (ticketTx, error) {
	if err := checkAssignInput(vendor, explicit, note); err != nil {
		return ticketTx{}, err
	}
	id, err := vendorIdentity(info, vendor, explicit)
	if err != nil {
		return ticketTx{}, err
	}
	return ticketTx{fn: "AssignVendor", extraOrg: id.MSPID,
		input: map[string]any{"vendor": id, "note": note},
		check: func(v *ticketView) error {
			if id.MSPID == v.Record.Customer.MSPID {
				return fmt.Errorf("--vendor: %s is the customer's organization; the vendor must be another organization", id.MSPID)
			}
			return nil
		}}, nil
}

// updateTx checks UpdateTicket's input (a required reason, an optional
// vendor ticket id on one line) and builds the transition.
func updateTx(reason, vendorTicket string) (ticketTx, error) {
	if err := checkFlagText("reason", reason, maxTicketNote, true, false); err != nil {
		return ticketTx{}, err
	}
	if err := checkFlagText("vendor-ticket-id", vendorTicket, maxVendorTicketID, false, true); err != nil {
		return ticketTx{}, err
	}
	return ticketTx{fn: "UpdateTicket", input: map[string]string{"reason": reason, "vendor_ticket_id": vendorTicket}}, nil
}

// pauseTx checks PauseTicket's input (a status that looks like one and a
// required reason) and builds the transition, which checks the status
// against the ticket's pause statuses before anything is submitted.
func pauseTx(slaID, status, reason string) (ticketTx, error) {
	if status == "" {
		return ticketTx{}, usageError{errors.New("--status is required (a pause status of the SLA, e.g. waiting_on_customer)")}
	}
	if !ticketStatusPattern.MatchString(status) {
		return ticketTx{}, usageError{fmt.Errorf("--status: %q is not a status (lower-case letters, digits and '_')", status)}
	}
	if err := checkFlagText("reason", reason, maxTicketNote, true, false); err != nil {
		return ticketTx{}, err
	}
	return ticketTx{fn: "PauseTicket", input: map[string]string{"status": status, "reason": reason},
		check: func(v *ticketView) error {
			if !slices.Contains(v.Record.Terms.PauseStatuses, status) {
				return fmt.Errorf("--status: %q is not a pause status of SLA %s (%s)", status, slaID, strings.Join(v.Record.Terms.PauseStatuses, ", "))
			}
			return nil
		}}, nil
}

// checkSeverityInput checks ChangeSeverity's input before the SLA
// document is read: a severity on one line and a required reason.
func checkSeverityInput(severity, reason string) error {
	if err := checkFlagText("severity", severity, 64, true, true); err != nil {
		return err
	}
	return checkFlagText("reason", reason, maxTicketNote, true, false)
}

// severityTx builds ChangeSeverity of ticket ticketID with the SLA
// document raw (doc parsed): severity must be one of doc's and not the
// ticket's current one.
func severityTx(slaID, ticketID string, raw []byte, doc *sla.SLA, severity, reason string) (ticketTx, error) {
	if err := checkSeverityInput(severity, reason); err != nil {
		return ticketTx{}, err
	}
	if err := checkSeverity(doc, severity); err != nil {
		return ticketTx{}, err
	}
	return ticketTx{fn: "ChangeSeverity", doc: raw, input: map[string]string{"severity": severity, "reason": reason},
		check: func(v *ticketView) error {
			if v.Record.Severity == severity {
				return fmt.Errorf("--severity: ticket %s of SLA %s is %s already", ticketID, slaID, severity)
			}
			return nil
		}}, nil
}

// escalateTx checks an escalation level (1..5, as the argument or field
// name gives it) and builds Escalate, which checks the level against the
// SLA's escalation before anything is submitted.
func escalateTx(slaID, name, text string) (ticketTx, error) {
	level, err := strconv.Atoi(text)
	if err != nil || level < 1 || level > maxEscalationLevel || strconv.Itoa(level) != text {
		return ticketTx{}, usageError{fmt.Errorf("%s: %q is not an escalation level 1..%d", name, text, maxEscalationLevel)}
	}
	return ticketTx{fn: "Escalate", args: []string{text}, check: func(v *ticketView) error {
		if n := len(v.Record.Terms.Escalation); level > n {
			return fmt.Errorf("%s: %d is not a level of SLA %s's escalation (1..%d)", name, level, slaID, n)
		}
		return nil
	}}, nil
}

// agreementDocument reads the SLA document of slaID from the caller's
// organization's private copy (agreement GetSLA on a peer of its own),
// waiting for a lagging peer.
func agreementDocument(ctx context.Context, l ticketLedger, agreementCC, slaID string) ([]byte, error) {
	var out []byte
	err := retryLag(ctx, lagWait, func() error {
		var err error
		out, err = l.Evaluate(ctx, agreementCC, "GetSLA", slaID)
		return err
	})
	if err != nil {
		return nil, explain(agreementCC+".GetSLA", err)
	}
	var a agreementRecord
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, fmt.Errorf("%s.GetSLA: decode: %w", agreementCC, err)
	}
	if len(a.Signed) == 0 {
		return nil, fmt.Errorf("SLA %s: the agreement chaincode returned no signed record", slaID)
	}
	rec, err := signedsla.Parse(a.Signed)
	if err != nil {
		return nil, fmt.Errorf("SLA %s: signed record: %w", slaID, err)
	}
	return rec.Document, nil
}

// supportDocument parses raw (read from name) as SLA slaID with a support
// section and returns it with the organizations that endorse its tickets'
// creation (the provider's and the client's).
func supportDocument(raw []byte, name, slaID string) (*sla.SLA, []string, error) {
	doc, err := sla.Parse(raw)
	if err != nil {
		return nil, nil, describeInvalid(name, err)
	}
	if doc.ID != slaID {
		return nil, nil, fmt.Errorf("%s: the document is SLA %q, not %q", name, doc.ID, slaID)
	}
	if doc.Support == nil {
		return nil, nil, fmt.Errorf("%s: SLA %s has no support section: it takes no tickets", name, slaID)
	}
	orgs, err := fabnet.SLAOrgs(doc.Parties.Provider.MSPID, doc.Parties.Client.MSPID)
	if err != nil {
		return nil, nil, err
	}
	return doc, orgs, nil
}
