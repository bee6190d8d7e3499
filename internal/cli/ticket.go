package cli

// Trouble-ticket commands on the ticket chaincode (chaincode/ticket):
//
//	slasa ticket create SLA TICKET      customer or provider: CreateTicket (the SLA document from --sla-file or GetSLA)
//	slasa ticket assign SLA TICKET      provider: AssignVendor (the vendor's organization endorses too)
//	slasa ticket ack|update|resolve     the assigned vendor: AcknowledgeTicket, UpdateTicket, ResolveTicket
//	slasa ticket pause|resume           customer, provider or vendor: PauseTicket, ResumeTicket
//	slasa ticket close|reopen           customer or provider: CloseTicket, ReopenTicket
//	slasa ticket severity SLA TICKET    customer or provider: ChangeSeverity (with the SLA document)
//	slasa ticket escalate SLA TICKET N  customer, provider or vendor: Escalate
//	slasa ticket show|list|history      GetTicket, ListTickets (every page), GetTicketHistory
//	slasa ticket watch                  the ticket events, each with the caller's GetTicket
//
// Every transition reads the ticket's current record with GetTicket on a
// peer of the caller's organization, passes it back unchanged in the
// transient map under "ticket", its input as a JSON object under "input"
// (the free text never goes into the arguments, which every channel member
// reads in the blocks) and is endorsed by exactly the ticket's
// organizations.

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/spf13/cobra"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// defaultTicketCC is the ticket chaincode's name (network/deploy-all.sh's
// SLASA_CC_TICKET default).
const defaultTicketCC = "ticket"

// Keys of the ticket chaincode's transient map (ticket.TransientTicket,
// TransientInput, TransientSLA).
const (
	transientTicket = "ticket"
	transientInput  = "input"
)

// Bounds of the ticket chaincode's inputs (ticket.MaxTypeLength ...),
// checked here so that a wrong command line submits nothing.
const (
	maxTicketType        = 64
	maxTicketDescription = 4096
	maxTicketNote        = 1024
	maxVendorTicketID    = 128
	maxEscalationLevel   = 5
	maxTicketPageSize    = 100
)

// ticketIDPattern is what a ticket id may be (the chaincode's idPattern).
var ticketIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ticketStatusPattern is what a status may look like (the chaincode's
// status filter; the SLA names its pause statuses).
var ticketStatusPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// lagWait bounds how long a transition or a read waits for the caller's
// organization's peer to catch up with a transaction committed through
// another organization's peer (a ticket just created, assigned or moved).
const lagWait = 15 * time.Second

// ticketLedger is what the ticket commands need from the network: the
// gateway session implements it (gatewayTickets), the unit tests fake it.
type ticketLedger interface {
	// MSPID is the caller's organization.
	MSPID() string
	// Network is the local network's description (nil for an explicit
	// identity): it names the identities --vendor accepts.
	Network() *fabnet.Info
	// Evaluate evaluates cc.fn(args) on a peer of the caller's
	// organization.
	Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error)
	// Submit submits cc.fn(args) with the transient map, endorsed by
	// exactly the organizations orgs, waits for its commit and returns the
	// transaction id.
	Submit(ctx context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error)
	// Events streams the chaincode events of cc from block start (-1:
	// new events only) until ctx ends.
	Events(ctx context.Context, cc string, start int64) (<-chan *client.ChaincodeEvent, error)
	// Close releases the connection.
	Close()
}

// gatewayTickets is the ticketLedger of a gateway session.
type gatewayTickets struct{ s *session }

func (g gatewayTickets) MSPID() string         { return g.s.MSPID }
func (g gatewayTickets) Network() *fabnet.Info { return g.s.Info }
func (g gatewayTickets) Close()                { g.s.Close() }

// Certificate and Key are the identity's certificate and private key
// (proposing and accepting SLAs: slaSigner).
func (g gatewayTickets) Certificate() (*x509.Certificate, error) { return g.s.Certificate() }
func (g gatewayTickets) Key() (*ecdsa.PrivateKey, error)         { return g.s.Key() }

func (g gatewayTickets) Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	return g.s.Network.GetContract(cc).EvaluateWithContext(ctx, fn, client.WithArguments(args...), client.WithEndorsingOrganizations(g.s.MSPID))
}

func (g gatewayTickets) Submit(ctx context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error) {
	_, commit, err := g.s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, fn, client.WithArguments(args...),
		client.WithTransient(transient), client.WithEndorsingOrganizations(orgs...))
	if err == nil {
		err = waitCommit(ctx, commit)
	}
	if err != nil {
		return "", err
	}
	return commit.TransactionID(), nil
}

func (g gatewayTickets) Events(ctx context.Context, cc string, start int64) (<-chan *client.ChaincodeEvent, error) {
	var opts []client.ChaincodeEventsOption
	if start >= 0 {
		opts = append(opts, client.WithStartBlock(uint64(start)))
	}
	return g.s.Network.ChaincodeEvents(ctx, cc, opts...)
}

// connectTickets opens the ticket commands' connection as --as (default
// def) or the explicit identity; the unit tests replace it with a fake.
var connectTickets = func(cmd *cobra.Command, def string) (ticketLedger, error) {
	s, err := connect(cmd, def)
	if err != nil {
		return nil, err
	}
	return gatewayTickets{s}, nil
}

// ---- the chaincode's records (chaincode/ticket/ticket), the fields shown ----

// ticketPublic is the ticket's public record (ticket.TicketPublic).
type ticketPublic struct {
	ID    string   `json:"id"`
	SLAID string   `json:"sla_id"`
	Seq   int64    `json:"seq"`
	Hash  string   `json:"hash"`
	Orgs  []string `json:"orgs"`
}

// ticketOutcome is how a target ended (ticket.Outcome).
type ticketOutcome struct {
	Result       string `json:"result"`
	At           string `json:"at"`
	Severity     string `json:"severity"`
	ElapsedMS    int64  `json:"elapsed_ms"`
	MarginMS     int64  `json:"margin_ms"`
	PenaltyMinor int64  `json:"penalty_minor"`
	Currency     string `json:"currency"`
}

// ticketTarget is one target's clock (ticket.TargetClock).
type ticketTarget struct {
	TargetMS  int64          `json:"target_ms"`
	Start     string         `json:"start"`
	CarriedMS int64          `json:"carried_ms"`
	Deadline  string         `json:"deadline"`
	Outcome   *ticketOutcome `json:"outcome"`
	Level     int            `json:"level"`
}

// ticketTermTarget is a target of the ticket's terms with its calendar.
type ticketTermTarget struct {
	TargetMS int64 `json:"target_ms"`
	Calendar struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		TimeZone string `json:"time_zone"`
	} `json:"calendar"`
}

// ticketTerms are the SLA's terms for the ticket's severity
// (ticket.TicketTerms).
type ticketTerms struct {
	Severity      string           `json:"severity"`
	Currency      string           `json:"currency"`
	Acceptance    ticketTermTarget `json:"acceptance"`
	Closure       ticketTermTarget `json:"closure"`
	PauseStatuses []string         `json:"pause_statuses"`
	Escalation    []struct {
		AtBPS  int64    `json:"at_bps"`
		Notify []string `json:"notify"`
	} `json:"escalation"`
}

// ticketTransition is one entry of a ticket's timeline (ticket.Transition).
type ticketTransition struct {
	Seq    int64       `json:"seq"`
	TxID   string      `json:"tx_id"`
	At     string      `json:"at"`
	Action string      `json:"action"`
	By     identity.ID `json:"by"`
	Role   string      `json:"role"`
	From   string      `json:"from"`
	To     string      `json:"to"`
	Note   string      `json:"note"`
}

// ticketEscalation is a recorded escalation level (ticket.EscalationRecord).
type ticketEscalation struct {
	Target string      `json:"target"`
	Level  int         `json:"level"`
	AtBPS  int64       `json:"at_bps"`
	Notify []string    `json:"notify"`
	At     string      `json:"at"`
	By     identity.ID `json:"by"`
}

// ticketRecord is the ticket's private record (ticket.TicketRecord).
type ticketRecord struct {
	ID             string       `json:"id"`
	SLAID          string       `json:"sla_id"`
	Customer       identity.ID  `json:"customer"`
	Provider       identity.ID  `json:"provider"`
	Vendor         *identity.ID `json:"vendor"`
	VendorTicketID string       `json:"vendor_ticket_id"`
	Severity       string       `json:"severity"`
	Type           string       `json:"type"`
	Description    string       `json:"description"`
	Status         string       `json:"status"`
	PausedFrom     string       `json:"paused_from"`
	CreatedAt      string       `json:"created_at"`
	CreatedBy      string       `json:"created_by"`
	Pauses         []struct {
		Status string `json:"status"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"pauses"`
	Terms       ticketTerms        `json:"terms"`
	Acceptance  ticketTarget       `json:"acceptance"`
	Closure     ticketTarget       `json:"closure"`
	Escalations []ticketEscalation `json:"escalations"`
	Timeline    []ticketTransition `json:"timeline"`
}

// ticketClock is the running target's clock at the query's time
// (ticket.ClockView).
type ticketClock struct {
	Target      string `json:"target"`
	At          string `json:"at"`
	ElapsedMS   int64  `json:"elapsed_ms"`
	RemainingMS int64  `json:"remaining_ms"`
	UsedBPS     int64  `json:"used_bps"`
	Paused      bool   `json:"paused"`
}

// ticketView is GetTicket's answer (ticket.TicketView); raw is the whole
// answer and rawRecord its record exactly as returned, which a transition
// passes back under "ticket".
type ticketView struct {
	Ticket           ticketPublic `json:"ticket"`
	Record           ticketRecord `json:"record"`
	PenaltyOwedMinor int64        `json:"penalty_owed_minor"`
	Breached         bool         `json:"breached"`
	Clock            *ticketClock `json:"clock"`
	raw, rawRecord   json.RawMessage
}

// decodeTicketView decodes a TicketView.
func decodeTicketView(raw []byte) (*ticketView, error) {
	var v ticketView
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var r struct {
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if len(r.Record) == 0 || v.Ticket.ID == "" {
		return nil, errors.New("not a ticket view (no ticket or record)")
	}
	v.raw, v.rawRecord = raw, r.Record
	return &v, nil
}

// target returns the clock of the target named name.
func (r *ticketRecord) target(name string) *ticketTarget {
	if name == "closure" {
		return &r.Closure
	}
	return &r.Acceptance
}

// ---- argument checks ----

// checkTicketArgs checks the SLA and ticket id arguments.
func checkTicketArgs(slaID, ticketID string) error {
	if strings.TrimSpace(slaID) == "" {
		return usageError{errors.New("SLA: the SLA id must not be empty")}
	}
	if !ticketIDPattern.MatchString(ticketID) {
		return usageError{fmt.Errorf("TICKET: %q is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit", ticketID)}
	}
	return nil
}

// checkFlagText checks a free-text flag as the chaincode checks its input:
// UTF-8 without NUL of at most max bytes, on one line when oneLine,
// non-empty when required.
func checkFlagText(flag, s string, max int, required, oneLine bool) error {
	switch {
	case s == "" && required:
		return usageError{fmt.Errorf("--%s is required", flag)}
	case len(s) > max:
		return usageError{fmt.Errorf("--%s: %d bytes, more than %d", flag, len(s), max)}
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return usageError{fmt.Errorf("--%s: must be UTF-8 text without NUL", flag)}
	case oneLine && strings.ContainsAny(s, "\n\r"):
		return usageError{fmt.Errorf("--%s: must be one line", flag)}
	}
	return nil
}

// ---- reading and moving tickets ----

// lagging tells whether err says that the caller's organization's peer has
// not seen a committed transaction yet: the ticket missing, not yet
// readable by the caller's organization, or a record that another
// organization's peer holds in a newer version.
func lagging(err error) bool {
	text := explainText("", err)
	for _, m := range []string{"does not exist", "is not the current record", "holds no copy", "is readable by"} {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

// retryLag runs f until it succeeds, fails for another reason than a
// lagging peer, or wait (or ctx) runs out.
func retryLag(ctx context.Context, wait time.Duration, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || !lagging(err) || !time.Now().Before(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// getTicket evaluates GetTicket on a peer of the caller's organization,
// waiting up to wait for that peer to see the ticket.
func getTicket(ctx context.Context, l ticketLedger, cc, slaID, ticketID string, wait time.Duration) (*ticketView, error) {
	var out []byte
	err := retryLag(ctx, wait, func() error {
		var err error
		out, err = l.Evaluate(ctx, cc, "GetTicket", slaID, ticketID)
		return err
	})
	if err != nil {
		return nil, explain(cc+".GetTicket", err)
	}
	v, err := decodeTicketView(out)
	if err != nil {
		return nil, fmt.Errorf("%s.GetTicket: decode: %w", cc, err)
	}
	return v, nil
}

// ticketPage is one page of ListTickets: each record as the chaincode
// returned it and decoded, and the bookmark of the next page ("" at the
// end).
type ticketPage struct {
	raws     []json.RawMessage
	views    []*ticketView
	bookmark string
}

// listTicketPage evaluates one page of ListTickets (the tickets of slaID
// that the caller's organization holds; status "" for any, breached "",
// "true" or "false") on a peer of the caller's organization: slasa ticket
// list reads every page with it, the console one page per request.
func listTicketPage(ctx context.Context, l ticketLedger, cc, slaID, status, breached string, pageSize int, bookmark string) (*ticketPage, error) {
	out, err := l.Evaluate(ctx, cc, "ListTickets", slaID, status, breached, strconv.Itoa(pageSize), bookmark)
	if err != nil {
		return nil, explain(cc+".ListTickets", err)
	}
	var page struct {
		Records  []json.RawMessage `json:"records"`
		Bookmark string            `json:"bookmark"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		return nil, fmt.Errorf("%s.ListTickets: decode: %w", cc, err)
	}
	p := &ticketPage{bookmark: page.Bookmark}
	for _, r := range page.Records {
		v, err := decodeTicketView(r)
		if err != nil {
			return nil, fmt.Errorf("%s.ListTickets: decode: %w", cc, err)
		}
		p.raws, p.views = append(p.raws, r), append(p.views, v)
	}
	return p, nil
}

// ticketTx is a transition of one ticket: the chaincode function, its
// input (nil: none), the SLA document (nil: none), the extra endorsing
// organization (AssignVendor: the vendor's), extra arguments (Escalate's
// level) and a check of the input against the current record before
// anything is submitted.
type ticketTx struct {
	fn       string
	input    any
	doc      []byte
	extraOrg string
	args     []string
	check    func(v *ticketView) error
}

// ticketAction is a transition whose only input is one text: a note
// (optional) or a reason (required). slasa ticket ack, resume, resolve,
// close and reopen and the console's ticket forms build their
// transactions with it.
type ticketAction struct {
	// Name is the command's and the console form's name, Fn the chaincode
	// function, Done the past tense the command prints.
	Name, Fn, Done string
	// Field is the input's field (and the flag): note or reason; Required
	// whether it may be empty.
	Field    string
	Required bool
	// Roles are the parties the chaincode lets take it (client, provider,
	// vendor; the chaincode calls the client the customer).
	Roles []string
}

// ticketActions are the one-text transitions.
var ticketActions = []ticketAction{
	{Name: "ack", Fn: "AcknowledgeTicket", Done: "acknowledged", Field: "note", Roles: []string{"vendor"}},
	{Name: "resume", Fn: "ResumeTicket", Done: "resumed", Field: "note", Roles: []string{"client", "provider", "vendor"}},
	{Name: "resolve", Fn: "ResolveTicket", Done: "resolved", Field: "note", Roles: []string{"vendor"}},
	{Name: "close", Fn: "CloseTicket", Done: "closed", Field: "note", Roles: []string{"client", "provider"}},
	{Name: "reopen", Fn: "ReopenTicket", Done: "reopened", Field: "reason", Required: true, Roles: []string{"client", "provider"}},
}

// findTicketAction returns the one-text transition called name.
func findTicketAction(name string) (ticketAction, bool) {
	for _, a := range ticketActions {
		if a.Name == name {
			return a, true
		}
	}
	return ticketAction{}, false
}

// tx checks text as the chaincode checks the input (at most 1024 bytes of
// UTF-8 without NUL; required for a reason) and builds the transition: the
// input {field: text}, none for an empty note.
func (a ticketAction) tx(text string) (ticketTx, error) {
	if err := checkFlagText(a.Field, text, maxTicketNote, a.Required, false); err != nil {
		return ticketTx{}, err
	}
	var input any
	if text != "" {
		input = map[string]string{a.Field: text}
	}
	return ticketTx{fn: a.Fn, input: input}, nil
}

// transitionResult is what a transition prints.
type transitionResult struct {
	SLAID      string   `json:"sla_id"`
	TicketID   string   `json:"ticket_id"`
	Action     string   `json:"action"`
	Status     string   `json:"status,omitempty"`
	Seq        int64    `json:"seq,omitempty"`
	EndorsedBy []string `json:"endorsed_by"`
	TxID       string   `json:"tx_id"`
	view       *ticketView
}

// transition reads the ticket's current record (GetTicket on a peer of the
// caller's organization), checks tx's input against it, submits tx with
// the record under "ticket", endorsed by exactly the ticket's
// organizations (and tx.extraOrg), and reads the ticket again. While the
// caller's organization's peer lags behind the others (a record that is
// not the current one) it reads and submits again, for up to lagWait.
func transition(ctx context.Context, l ticketLedger, cc, slaID, ticketID string, tx ticketTx) (*transitionResult, error) {
	var inputJSON []byte
	if tx.input != nil {
		var err error
		if inputJSON, err = json.Marshal(tx.input); err != nil {
			return nil, fmt.Errorf("%s input: %w", tx.fn, err)
		}
	}
	res := &transitionResult{SLAID: slaID, TicketID: ticketID, Action: tx.fn}
	var checkErr error
	err := retryLag(ctx, lagWait, func() error {
		v, err := getTicket(ctx, l, cc, slaID, ticketID, lagWait)
		if err != nil {
			checkErr = err
			return nil
		}
		if tx.check != nil {
			if err := tx.check(v); err != nil {
				checkErr = err
				return nil
			}
		}
		orgs := slices.Clone(v.Ticket.Orgs)
		if tx.extraOrg != "" && !slices.Contains(orgs, tx.extraOrg) {
			orgs = append(orgs, tx.extraOrg)
			slices.Sort(orgs)
		}
		tm := map[string][]byte{transientTicket: v.rawRecord}
		if inputJSON != nil {
			tm[transientInput] = inputJSON
		}
		if tx.doc != nil {
			tm[transientSLA] = tx.doc
		}
		res.EndorsedBy = orgs
		res.TxID, err = l.Submit(ctx, cc, tx.fn, append([]string{slaID, ticketID}, tx.args...), tm, orgs)
		return err
	})
	if checkErr != nil {
		return nil, checkErr
	}
	if err != nil {
		return nil, explain(cc+"."+tx.fn, err)
	}
	if v, err := getTicket(ctx, l, cc, slaID, ticketID, 0); err == nil {
		res.Status, res.Seq, res.view = v.Record.Status, v.Ticket.Seq, v
	}
	return res, nil
}

// writeTransition prints a transition's result.
func writeTransition(cmd *cobra.Command, done string, res *transitionResult) error {
	if jsonFlag(cmd) {
		return writeJSON(cmd.OutOrStdout(), res)
	}
	f := [][2]string{{done, res.TicketID + " of SLA " + res.SLAID}}
	if v := res.view; v != nil {
		f = append(f, [2]string{"status", v.Record.Status}, [2]string{"seq", strconv.FormatInt(v.Ticket.Seq, 10)})
		for _, name := range []string{"acceptance", "closure"} {
			f = append(f, [2]string{name, targetText(v, name)})
		}
		if v.PenaltyOwedMinor != 0 {
			f = append(f, [2]string{"penalty owed", money(v.PenaltyOwedMinor, v.Record.Terms.Currency)})
		}
	}
	f = append(f, [2]string{"endorsed by", strings.Join(res.EndorsedBy, ", ")}, [2]string{"tx", res.TxID})
	return writeFields(cmd.OutOrStdout(), f)
}

// slaDocument returns the SLA document of slaID and the organizations that
// endorse its tickets' creation (the provider's and the client's): from
// file when given (- for standard input), else from the caller's
// organization's private copy (agreement GetSLA on a peer of its own).
func slaDocument(ctx context.Context, cmd *cobra.Command, l ticketLedger, agreementCC, slaID, file string) ([]byte, *sla.SLA, []string, error) {
	var raw []byte
	if file != "" {
		data, err := readInput(cmd, file)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--sla-file: %w", err)
		}
		raw = data
	} else {
		data, err := agreementDocument(ctx, l, agreementCC, slaID)
		if err != nil {
			return nil, nil, nil, err
		}
		raw, file = data, "SLA "+slaID
	}
	doc, orgs, err := supportDocument(raw, file, slaID)
	if err != nil {
		return nil, nil, nil, err
	}
	return raw, doc, orgs, nil
}

// checkSeverity fails unless severity is one of doc's.
func checkSeverity(doc *sla.SLA, severity string) error {
	if _, ok := doc.Support.Severity(severity); ok {
		return nil
	}
	var ids []string
	for _, s := range doc.Support.Severities {
		ids = append(ids, s.ID)
	}
	return fmt.Errorf("--severity: %q is not a severity of SLA %s (%s)", severity, doc.ID, strings.Join(ids, ", "))
}

// vendorIdentity is the vendor --vendor names (an identity of the local
// network's run folder) or --vendor-msp, --vendor-subject and
// --vendor-issuer give.
func vendorIdentity(info *fabnet.Info, name string, explicit identity.ID) (identity.ID, error) {
	if name == "" {
		return explicit, nil
	}
	if info == nil {
		return identity.ID{}, usageError{errors.New("--vendor NAME names an identity of the local network's run folder; with an explicit identity give --vendor-msp, --vendor-subject and --vendor-issuer")}
	}
	org, user, err := fabnet.Identity(name)
	if err != nil {
		return identity.ID{}, usageError{fmt.Errorf("--vendor: %w", err)}
	}
	o, ok := info.Orgs[org]
	if !ok {
		return identity.ID{}, fmt.Errorf("--vendor %s: %w", name, fabnet.MissingOrgError(org))
	}
	u, ok := o.Users[user]
	if !ok {
		return identity.ID{}, fmt.Errorf("--vendor %s: user %q of %s not in the network description", name, user, o.MSPID)
	}
	data, err := os.ReadFile(u.CertPath)
	if err != nil {
		return identity.ID{}, fmt.Errorf("--vendor %s: certificate: %w", name, err)
	}
	cert, err := signedsla.ParseCertificatePEM(data)
	if err != nil {
		return identity.ID{}, fmt.Errorf("--vendor %s: certificate %s: %w", name, u.CertPath, err)
	}
	return identity.FromCert(o.MSPID, cert), nil
}
