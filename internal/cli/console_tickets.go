package cli

// The console's ticket forms beyond the one-text actions (ticketActions):
// open a ticket, assign the vendor, update, pause, change the severity and
// escalate. Each builds its transaction with the ticket commands' builders
// (tickettx.go), offers its form only to the roles the ticket chaincode
// lets take it in the ticket's status, and refuses another role (403), bad
// input (400) and a missing CSRF token (handle) before anything is read or
// submitted; the chaincode stays the authority.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/sla"
)

// ticketFormAction is a ticket transition of the console with more than one
// text: its name (the form's and the URL's), the chaincode function, the
// past tense of the notice, the verb of the refusal and the roles the
// chaincode lets take it.
type ticketFormAction struct {
	Name, Fn, Done, Verb string
	Roles                []string
}

// ticketFormActions are the console's forms beyond ticketActions, with
// the roles of the ticket chaincode's checks (CreateTicket: the SLA's
// client or provider; AssignVendor: provider; UpdateTicket: vendor;
// PauseTicket and Escalate: any of the three; ChangeSeverity: client or
// provider).
var ticketFormActions = []ticketFormAction{
	{Name: "create", Verb: "create", Fn: "CreateTicket", Done: "created", Roles: []string{roleClient, roleProvider}},
	{Name: "assign", Verb: "assign", Fn: "AssignVendor", Done: "assigned", Roles: []string{roleProvider}},
	{Name: "update", Verb: "update", Fn: "UpdateTicket", Done: "updated", Roles: []string{roleVendor}},
	{Name: "pause", Verb: "pause", Fn: "PauseTicket", Done: "paused", Roles: []string{roleClient, roleProvider, roleVendor}},
	{Name: "severity", Verb: "change the severity of", Fn: "ChangeSeverity", Done: "severity changed", Roles: []string{roleClient, roleProvider}},
	{Name: "escalate", Verb: "escalate", Fn: "Escalate", Done: "escalated", Roles: []string{roleClient, roleProvider, roleVendor}},
}

// findTicketFormAction returns the form action called name.
func findTicketFormAction(name string) ticketFormAction {
	for _, a := range ticketFormActions {
		if a.Name == name {
			return a
		}
	}
	panic("no ticket form action " + name)
}

// refusal is the 403 message for role taking a.
func (a ticketFormAction) refusal(role string) string {
	return fmt.Sprintf("The %s role may not %s a ticket (%s may): nothing was submitted.", role, a.Verb, strings.Join(a.Roles, ", "))
}

// pausable are the statuses a ticket may be paused in (the chaincode's).
var pausable = []string{"open", "assigned", "acknowledged", "in_progress"}

// ticketExtraForms are the forms of ticketFormActions that the signed-in
// role may use on a ticket in its status.
type ticketExtraForms struct {
	// Assign: the provider may assign an open ticket; VendorName whether
	// the console's identity has a run folder (a vendor by name).
	Assign, VendorName bool
	// Update: the vendor may update an acknowledged or in-progress ticket.
	Update bool
	// Pause are the SLA's pause statuses when the ticket may be paused.
	Pause []string
	// Severity: the client or the provider may change the severity of a
	// ticket that is not resolved or closed (the new one is checked
	// against the SLA's severities when submitted: the page reads only
	// the ticket).
	Severity bool
	// Escalate is the next escalation level when the running target has
	// reached its share (0: none).
	Escalate int
}

// Any tells whether there is a form.
func (f ticketExtraForms) Any() bool {
	return f.Assign || f.Update || len(f.Pause) > 0 || f.Severity || f.Escalate > 0
}

// extraTicketForms are the forms of ticketFormActions the signed-in role
// may use on v.
func extraTicketForms(role string, l consoleLedger, v *ticketView) ticketExtraForms {
	r := &v.Record
	st := r.Status
	f := ticketExtraForms{VendorName: l.Network() != nil}
	may := func(name string) bool { return allowed(role, findTicketFormAction(name).Roles) }
	f.Assign = may("assign") && st == "open"
	f.Update = may("update") && (st == "acknowledged" || st == "in_progress")
	if may("pause") && r.PausedFrom == "" && slices.Contains(pausable, st) {
		f.Pause = r.Terms.PauseStatuses
	}
	f.Severity = may("severity") && st != "resolved" && st != "closed"
	if c := v.Clock; may("escalate") && c != nil && !c.Paused {
		next := r.target(c.Target).Level + 1
		if next <= len(r.Terms.Escalation) && c.UsedBPS >= r.Terms.Escalation[next-1].AtBPS {
			f.Escalate = next
		}
	}
	return f
}

// ticketDoneNotice is the notice after a ticket's transition (done its
// action's name, tx its transaction id), "" for anything else.
func ticketDoneNotice(done, tx string) string {
	if !txIDText.MatchString(tx) {
		return ""
	}
	if a, ok := findTicketAction(done); ok {
		return fmt.Sprintf("Ticket %s: transaction %s committed (tx %s).", a.Done, a.Fn, tx)
	}
	for _, a := range ticketFormActions {
		if a.Name == done {
			return fmt.Sprintf("Ticket %s: transaction %s committed (tx %s).", a.Done, a.Fn, tx)
		}
	}
	return ""
}

// flagName is a flag name in a ticket command's message: the console's
// form field of the same name.
var flagName = regexp.MustCompile(`--([a-z][a-z-]*)`)

// formText is a message of the ticket builders in the console's words:
// the field names without the dashes, and that nothing was submitted.
func formText(err error) string {
	return flagName.ReplaceAllString(err.Error(), "$1") + ": nothing was submitted."
}

// ticketRoutes registers the ticket forms (routes calls it).
func (s *consoleServer) ticketRoutes() {
	s.handle("GET /slas/{id}/tickets/new", allRoles, s.newTicketPage)
	s.handle("POST /slas/{id}/tickets", allRoles, s.createTicket)
	s.handle("POST /tickets/{sla}/{ticket}/assign", allRoles, s.ticketForm("assign", func(r *http.Request, l consoleLedger, _, _ string) (ticketTx, error) {
		f := r.PostForm
		return assignTx(l.Network(), strings.TrimSpace(f.Get("vendor")),
			identity.ID{MSPID: f.Get("vendor-msp"), Subject: f.Get("vendor-subject"), Issuer: f.Get("vendor-issuer")}, f.Get("note"))
	}))
	s.handle("POST /tickets/{sla}/{ticket}/update", allRoles, s.ticketForm("update", func(r *http.Request, _ consoleLedger, _, _ string) (ticketTx, error) {
		return updateTx(r.PostForm.Get("reason"), r.PostForm.Get("vendor-ticket-id"))
	}))
	s.handle("POST /tickets/{sla}/{ticket}/pause", allRoles, s.ticketForm("pause", func(r *http.Request, _ consoleLedger, slaID, _ string) (ticketTx, error) {
		return pauseTx(slaID, r.PostForm.Get("status"), r.PostForm.Get("reason"))
	}))
	s.handle("POST /tickets/{sla}/{ticket}/escalate", allRoles, s.ticketForm("escalate", func(r *http.Request, _ consoleLedger, slaID, _ string) (ticketTx, error) {
		return escalateTx(slaID, "level", r.PostForm.Get("level"))
	}))
	s.handle("POST /tickets/{sla}/{ticket}/severity", allRoles, s.changeSeverity)
}

// ticketForm is the handler of form action name: the ticket's ids, the
// role, then build's input checks, each refusal submitting nothing; then
// the transition (read, check against the record, submit) and a redirect
// to the ticket with a notice.
func (s *consoleServer) ticketForm(name string, build func(r *http.Request, l consoleLedger, slaID, ticketID string) (ticketTx, error)) func(http.ResponseWriter, *http.Request, *consoleSession, consoleLedger) {
	a := findTicketFormAction(name)
	return func(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
		slaID, ticketID, ok := s.formTicket(w, r, cs, a)
		if !ok {
			return
		}
		tx, err := build(r, l, slaID, ticketID)
		if err != nil {
			s.showTicket(w, r, cs, l, http.StatusBadRequest, formText(err))
			return
		}
		s.submitTicketForm(w, r, cs, l, a, slaID, ticketID, tx)
	}
}

// formTicket checks a form's ticket ids (400) and that the signed-in
// role may take action a (403), in that order, answering the refusal
// itself; nothing is read before.
func (s *consoleServer) formTicket(w http.ResponseWriter, r *http.Request, cs *consoleSession, a ticketFormAction) (slaID, ticketID string, ok bool) {
	slaID, ticketID = r.PathValue("sla"), r.PathValue("ticket")
	if err := checkTicketArgs(slaID, ticketID); err != nil {
		s.fail(w, cs, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	if !allowed(cs.user.Role, a.Roles) {
		s.fail(w, cs, http.StatusForbidden, a.refusal(cs.user.Role))
		return "", "", false
	}
	return slaID, ticketID, true
}

// submitTicketForm runs tx on the ticket and redirects to it with the
// notice of a, or shows the ticket with the reason it failed (409).
func (s *consoleServer) submitTicketForm(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger, a ticketFormAction, slaID, ticketID string, tx ticketTx) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	if check := tx.check; check != nil {
		tx.check = func(v *ticketView) error {
			if err := check(v); err != nil {
				return formInputError{err}
			}
			return nil
		}
	}
	res, err := transition(ctx, l, s.ticketCC, slaID, ticketID, tx)
	var bad formInputError
	switch {
	case errors.As(err, &bad):
		s.showTicket(w, r, cs, l, http.StatusBadRequest, formText(bad.error))
		return
	case err != nil:
		s.showTicket(w, r, cs, l, http.StatusConflict, err.Error())
		return
	}
	http.Redirect(w, r, ticketURL(slaID, ticketID, a.Name, res.TxID), http.StatusSeeOther)
}

// formInputError is input that the ticket's current record refuses (a
// pause status the SLA does not name, the ticket's own severity): nothing
// was submitted.
type formInputError struct{ error }

// ticketURL is a ticket's page with the notice of action done in tx.
func ticketURL(slaID, ticketID, done, tx string) string {
	return "/tickets/" + url.PathEscape(slaID) + "/" + url.PathEscape(ticketID) + "?" + url.Values{"done": {done}, "tx": {tx}}.Encode()
}

// changeSeverity is ChangeSeverity's handler: its input is checked before
// the SLA document is read (the caller's organization's copy, as slasa
// ticket severity does), the severity against the document after.
func (s *consoleServer) changeSeverity(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	a := findTicketFormAction("severity")
	slaID, ticketID, ok := s.formTicket(w, r, cs, a)
	if !ok {
		return
	}
	severity, reason := r.PostForm.Get("severity"), r.PostForm.Get("reason")
	if err := checkSeverityInput(severity, reason); err != nil {
		s.showTicket(w, r, cs, l, http.StatusBadRequest, formText(err))
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	raw, doc, _, err := s.readSupport(ctx, l, slaID)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	tx, err := severityTx(slaID, ticketID, raw, doc, severity, reason)
	if err != nil {
		s.showTicket(w, r, cs, l, http.StatusBadRequest, formText(err))
		return
	}
	s.submitTicketForm(w, r, cs, l, a, slaID, ticketID, tx)
}

// newTicketForm is the create form's data: the SLA, its severities and
// what was entered.
type newTicketForm struct {
	SLA        string
	Severities []string
	Ticket     string
	Severity   string
	Type       string
	Desc       string
}

// newTicketID suggests a ticket id from the time (the user may change it;
// CreateTicket refuses an id the SLA has already).
func newTicketID(now time.Time) string {
	return "T-" + now.UTC().Format("20060102-150405")
}

// readSupport reads SLA slaID's document (the caller's organization's
// copy, as slasa ticket create does) with a support section.
func (s *consoleServer) readSupport(ctx context.Context, l consoleLedger, slaID string) ([]byte, *sla.SLA, []string, error) {
	raw, err := agreementDocument(ctx, l, s.agreementCC, slaID)
	if err != nil {
		return nil, nil, nil, err
	}
	doc, orgs, err := supportDocument(raw, "SLA "+slaID, slaID)
	if err != nil {
		return nil, nil, nil, err
	}
	return raw, doc, orgs, nil
}

// severityIDs are doc's severities.
func severityIDs(doc *sla.SLA) []string {
	var ids []string
	for _, sv := range doc.Support.Severities {
		ids = append(ids, sv.ID)
	}
	return ids
}

func (s *consoleServer) newTicketPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	a := findTicketFormAction("create")
	slaID := r.PathValue("id")
	if !allowed(cs.user.Role, a.Roles) {
		s.fail(w, cs, http.StatusForbidden, fmt.Sprintf("The %s role may not create a ticket (%s may).", cs.user.Role, strings.Join(a.Roles, ", ")))
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	_, doc, _, err := s.readSupport(ctx, l, slaID)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	s.render(w, http.StatusOK, "ticketnew", cs, pageData{Title: "New ticket of SLA " + slaID, Nav: "tickets",
		Data: newTicketForm{SLA: slaID, Severities: severityIDs(doc), Ticket: newTicketID(s.now())}})
}

func (s *consoleServer) createTicket(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	a := findTicketFormAction("create")
	slaID := r.PathValue("id")
	if !allowed(cs.user.Role, a.Roles) {
		s.fail(w, cs, http.StatusForbidden, a.refusal(cs.user.Role))
		return
	}
	f := r.PostForm
	form := newTicketForm{SLA: slaID, Ticket: strings.TrimSpace(f.Get("ticket")), Severity: f.Get("severity"), Type: f.Get("type"), Desc: f.Get("description")}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	bad := func(msg string) {
		if form.Severities == nil {
			if _, doc, _, err := s.readSupport(ctx, l, slaID); err == nil {
				form.Severities = severityIDs(doc)
			}
		}
		s.render(w, http.StatusBadRequest, "ticketnew", cs, pageData{Title: "New ticket of SLA " + slaID, Nav: "tickets", Error: msg, Data: form})
	}
	if err := checkTicketArgs(slaID, form.Ticket); err != nil {
		bad(strings.Replace(formText(err), "TICKET:", "ticket:", 1))
		return
	}
	in, err := createTicketInput(form.Severity, form.Type, form.Desc)
	if err != nil {
		bad(formText(err))
		return
	}
	raw, doc, orgs, err := s.readSupport(ctx, l, slaID)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	if form.Severities = severityIDs(doc); checkSeverity(doc, form.Severity) != nil {
		bad(formText(checkSeverity(doc, form.Severity)))
		return
	}
	txID, err := l.Submit(ctx, s.ticketCC, a.Fn, []string{slaID, form.Ticket}, map[string][]byte{transientSLA: raw, transientInput: in}, orgs)
	if err != nil {
		s.render(w, http.StatusConflict, "ticketnew", cs, pageData{Title: "New ticket of SLA " + slaID, Nav: "tickets",
			Error: explainText(s.ticketCC+"."+a.Fn, err), Data: form})
		return
	}
	http.Redirect(w, r, ticketURL(slaID, form.Ticket, a.Name, txID), http.StatusSeeOther)
}
