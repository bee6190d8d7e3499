package cli

// The console's pages: routes, the sign-in, role and CSRF checks, and the
// handlers of the SLA, ticket, wallet and event pages. The handlers read
// and submit through the CLI's helpers (listSLAPage, billingSource,
// listTicketPage, getTicket, ticketActions and transition).

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

//go:embed console
var consoleAssets embed.FS

// consolePages are the page templates, each with the layout.
var consolePages = []string{"login", "error", "slas", "sla", "tickets", "ticket", "wallet", "events", "statements", "propose", "accept", "reputation", "report", "ticketnew"}

// Page sizes of the console's lists (one chaincode page per request).
const (
	consoleSLAPage    = 20
	consoleTicketPage = 25
	consoleWalletPage = 50
	// consolePeriods bounds the periods the SLA page reads (GetEscrow
	// each), newest first.
	consolePeriods = 24
)

// Roles of the pages.
var (
	allRoles     = []string{roleProvider, roleClient, roleVendor}
	partyRoles   = []string{roleProvider, roleClient}
	bookmarkText = regexp.MustCompile(`^[\x00\x21-\x7e]{0,512}$`)
)

// pageData is what every page's template gets.
type pageData struct {
	Title  string
	Nav    string
	User   *consoleUser
	Org    string
	CSRF   string
	Error  string
	Notice string
	Data   any
}

// routes parses the templates and registers the handlers.
func (s *consoleServer) routes() error {
	s.mux = http.NewServeMux()
	tmpls := map[string]*template.Template{}
	funcs := template.FuncMap{
		"money": money, "bps": bps, "dur": durText, "time": timeText, "idText": idText, "shortID": shortID,
		"join": strings.Join, "orDash": orDash, "yesNo": yesNo, "short": short,
		"remaining": remainingText, "targetShort": targetShort, "deadline": deadlineText, "outcome": outcomeText,
		"status": ticketStatusText, "assignee": assigneeText, "penalty": penaltyText, "clock": clockText,
		"party": func(p agreementParty) string { return p.String() }, "counterparty": counterpartyShort,
		// partyShort is MSP/common name, for narrow columns (the full name in the cell's title).
		"partyShort": func(p agreementParty) string {
			if p.MSPID == "" {
				return "-"
			}
			return shortID(identity.ID{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer})
		},
		"lastEscalation": func(v *ticketView) string {
			n := len(v.Record.Escalations)
			if n == 0 {
				return "-"
			}
			e := v.Record.Escalations[n-1]
			return fmt.Sprintf("%s %d", e.Target, e.Level)
		},
		"target": func(v *ticketView, name string) *ticketTarget { return v.Record.target(name) },
		"running": func(v *ticketView, name string) bool {
			return v.Clock != nil && v.Clock.Target == name && !v.Clock.Paused
		},
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return b - a },
		"rate": func(part, whole int64) string {
			if whole == 0 {
				return "-"
			}
			return bps(part * 10000 / whole)
		},
		"units":  func(v int64) string { return fmt.Sprintf("%d (%s)", v, money(v, "")) },
		"signed": func(v int64) string { return fmt.Sprintf("%+d", v) },
		"query": func(kv ...string) template.URL {
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					q.Set(kv[i], kv[i+1])
				}
			}
			// Encode escapes every key and value: the result is safe in a URL's query.
			return template.URL(q.Encode())
		},
	}
	for _, name := range consolePages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(consoleAssets, "console/templates/layout.html", "console/templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console template %s: %w", name, err)
		}
		tmpls[name] = t
	}
	s.templates = tmpls
	static, err := fs.Sub(consoleAssets, "console/static")
	if err != nil {
		return err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		cs := s.session(r)
		switch {
		case cs == nil:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		case cs.user.Role == roleVendor:
			http.Redirect(w, r, "/tickets", http.StatusSeeOther)
		default:
			http.Redirect(w, r, "/slas", http.StatusSeeOther)
		}
	})
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.handle("POST /logout", allRoles, func(w http.ResponseWriter, r *http.Request, _ *consoleSession, _ consoleLedger) {
		s.endSession(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	s.handle("GET /slas", partyRoles, s.slasPage)
	s.handle("GET /slas/{id}", partyRoles, s.slaPage)
	s.handle("GET /tickets", allRoles, s.ticketsPage)
	s.handle("GET /tickets/{sla}/{ticket}", allRoles, s.ticketPage)
	s.handle("POST /tickets/{sla}/{ticket}/{action}", allRoles, s.ticketAction)
	s.ticketRoutes()
	s.handle("GET /wallet", allRoles, s.walletPage)
	s.handle("GET /statements", partyRoles, s.statementsPage)
	s.handle("GET /slas/{id}/invoice", partyRoles, s.invoiceDownload)
	s.handle("GET /slas/{id}/report", partyRoles, s.reportPage)
	s.handle("GET /reputation", allRoles, s.reputationPage)
	s.handle("GET /propose", []string{roleProvider}, s.proposePage)
	s.handleBody("POST /propose", []string{roleProvider}, maxSLAUpload, s.propose)
	s.handleBody("POST /propose/check", []string{roleProvider}, maxSLAUpload, s.proposeCheck)
	s.handle("GET /slas/{id}/accept", []string{roleClient}, s.acceptPage)
	s.handle("POST /slas/{id}/accept", []string{roleClient}, s.accept)
	s.handle("GET /events", allRoles, s.eventsPage)
	s.handle("GET /events/stream", allRoles, s.eventStream)
	return nil
}

// ServeHTTP serves a request with the console's security headers.
func (s *consoleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if s.tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// handle registers a page for roles: it needs a session (a GET without one
// goes to the sign-in page), the session's CSRF token on a POST, and the
// session's role among roles, in that order; each refusal reads and
// submits nothing.
func (s *consoleServer) handle(pattern string, roles []string, h func(http.ResponseWriter, *http.Request, *consoleSession, consoleLedger)) {
	s.handleBody(pattern, roles, 64<<10, h)
}

// handleBody is handle with a POST body of at most limit bytes.
func (s *consoleServer) handleBody(pattern string, roles []string, limit int64, h func(http.ResponseWriter, *http.Request, *consoleSession, consoleLedger)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		cs := s.session(r)
		if cs == nil {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/stream") {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.fail(w, nil, http.StatusUnauthorized, "Sign in first: nothing was read or submitted.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := parseBody(r); err != nil {
				s.fail(w, cs, http.StatusBadRequest, "The form could not be read: "+err.Error())
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), cs.csrf) {
				s.fail(w, cs, http.StatusForbidden, "The form's CSRF token is missing or wrong: nothing was submitted. Reload the page and try again.")
				return
			}
		}
		if !allowed(cs.user.Role, roles) {
			s.fail(w, cs, http.StatusForbidden, fmt.Sprintf("The %s role may not open this page (it is for %s).", cs.user.Role, strings.Join(roles, ", ")))
			return
		}
		h(w, r, cs, s.ledgers[cs.user.Name])
	})
}

// render writes a page with status.
func (s *consoleServer) render(w http.ResponseWriter, status int, name string, cs *consoleSession, d pageData) {
	d.Org = s.cfg.Organization
	if cs != nil {
		d.User, d.CSRF = cs.user, cs.csrf
	}
	var buf bytes.Buffer
	if err := s.templates[name].Execute(&buf, d); err != nil {
		http.Error(w, "console: page "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail writes the error page.
func (s *consoleServer) fail(w http.ResponseWriter, cs *consoleSession, status int, msg string) {
	s.render(w, status, "error", cs, pageData{Title: http.StatusText(status), Error: msg})
}

// ---- sign-in ----

func (s *consoleServer) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.session(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, http.StatusOK, "", "")
}

// renderLogin writes the sign-in form with a new token, bound to a
// short-lived cookie (the sign-in form's CSRF protection).
func (s *consoleServer) renderLogin(w http.ResponseWriter, status int, name, msg string) {
	token := randomToken()
	s.setCookie(w, "slasa_login", token, int(loginTokenLifetime/time.Second))
	s.render(w, status, "login", nil, pageData{Title: "Sign in", CSRF: token, Error: msg, Data: name})
}

func (s *consoleServer) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, nil, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	if !sameToken(r.PostForm.Get("csrf"), s.cookie(r, "slasa_login")) {
		s.fail(w, nil, http.StatusForbidden, "The sign-in form's CSRF token is missing, wrong or expired. Open the sign-in page again.")
		return
	}
	name := r.PostForm.Get("user")
	u, err := s.checkPassword(name, r.PostForm.Get("password"))
	if err != nil {
		s.renderLogin(w, http.StatusUnauthorized, name, err.Error())
		return
	}
	s.setCookie(w, "slasa_login", "", -1)
	s.startSession(w, u)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// ---- ledger access ----

// ledgerOf reads through a console ledger as billingSource's ledgerReader
// (on a peer of the user's organization, errors explained).
type ledgerOf struct{ l consoleLedger }

func (a ledgerOf) Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	out, err := a.l.Evaluate(ctx, cc, fn, args...)
	if err != nil {
		return nil, explain(cc+"."+fn, err)
	}
	return out, nil
}

func (a ledgerOf) EvaluateOwnOrg(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	return a.Evaluate(ctx, cc, fn, args...)
}

// source is the user's billingSource.
func (s *consoleServer) source(l consoleLedger) *billingSource {
	return newBillingSource(ledgerOf{l}, s.agreementCC, s.refundCC, l.Channel())
}

// pageContext bounds a page's ledger reads.
func pageContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), time.Minute)
}

// bookmarkParam reads the bookmark query parameter: printable ASCII and
// U+0000, which separates the parts of a composite key (ListSLAs' bookmark
// is the next key of the chaincode's index, as the peer's state database
// returns it).
func bookmarkParam(r *http.Request) (string, error) {
	b := r.URL.Query().Get("bookmark")
	if !bookmarkText.MatchString(b) {
		return "", errors.New("bookmark: not a bookmark of a page (printable ASCII and U+0000, at most 512 characters)")
	}
	return b, nil
}

// ---- SLAs ----

// currentPeriod describes doc's billing period at now and whether it is
// paid (ends by paid_through).
func currentPeriod(a *agreementRecord, doc *sla.SLA, now time.Time) string {
	p, err := driver.PeriodOf(doc, now)
	if err != nil {
		if start, err := time.Parse(time.RFC3339, doc.Validity.Start); err == nil && now.Before(start) {
			return "not started (starts " + doc.Validity.Start + ")"
		}
		return "- (outside the validity window)"
	}
	paid := "not paid"
	if pt, err := time.Parse(time.RFC3339Nano, a.PaidThrough); err == nil && !p.End.After(pt) {
		paid = "paid"
	}
	return p.String() + " (" + paid + ")"
}

// metricView is a metric in plain words.
type metricView struct {
	Name, Objective string
	Tiers           []string
	Penalty         string
	Termination     string
}

// unitText is a metric unit in words.
func unitText(u string) string {
	switch u {
	case "percent":
		return "%"
	case "ms":
		return " ms"
	case "s":
		return " s"
	case "min":
		return " minutes"
	case "h":
		return " hours"
	case "per_second":
		return " per second"
	}
	return " " + u
}

// metricViews describes doc's metrics, objectives, credit tiers,
// penalties and termination rights in plain words.
func metricViews(doc *sla.SLA) []metricView {
	ops := map[string]string{sla.OpGE: "at least", sla.OpGT: "more than", sla.OpLE: "at most", sla.OpLT: "less than"}
	var out []metricView
	for _, m := range doc.Metrics {
		u := unitText(m.Unit)
		v := metricView{Name: m.Name + " (" + m.ID + ")",
			Objective: fmt.Sprintf("met when the period's value is %s %s%s", ops[m.Objective.Operator], m.Objective.Target, u)}
		for _, t := range doc.Consequences.CreditTiers {
			if t.Metric == m.ID {
				v.Tiers = append(v.Tiers, fmt.Sprintf("worse than %s%s: credit %s of the period's fee", t.WorseThan, u, bps(t.CreditBPS)))
			}
		}
		for _, p := range doc.Consequences.Penalties {
			if p.Metric == m.ID {
				v.Penalty = "objective missed: penalty " + money(p.AmountMinor, doc.Price.Currency)
			}
		}
		if t := doc.Consequences.Termination; t != nil && t.Metric == m.ID {
			v.Termination = fmt.Sprintf("worse than %s%s: the client may terminate", t.WorseThan, u)
		}
		out = append(out, v)
	}
	return out
}

// periodRow is a paid period of an SLA with its escrow and verdict.
type periodRow struct {
	Period    string
	Escrow    *escrowRecord
	VerdictID string
	Err       string
}

// paidPeriods are the SLA's paid billing periods, newest first, at most
// max of them.
func paidPeriods(a *agreementRecord, doc *sla.SLA, max int64) []driver.Period {
	var out []driver.Period
	if a.LastPeriod == "" || a.PaidPeriods <= 0 {
		return nil
	}
	p, err := driver.ParsePeriod(doc, a.LastPeriod)
	for i := int64(0); err == nil && i < a.PaidPeriods && i < max; i++ {
		out = append(out, p)
		p, err = driver.PeriodOf(doc, p.Start.Add(-time.Nanosecond))
	}
	return out
}

// cycleText describes the billing cycle.
func cycleText(c sla.BillingCycle) string {
	if c.Unit == sla.CycleSeconds {
		return fmt.Sprintf("every %d seconds from the validity start", c.Seconds)
	}
	return strings.ReplaceAll(c.Unit, "_", " ") + " (UTC)"
}

// signatureCheck verifies the SLA's signed record offline, as slasa sla
// verify does: both signatures over the recomputed digest, the
// certificates being the parties, chained to the run folder's MSP root CAs
// when the user's identity has a run folder. It returns the result in words
// and its state: valid, unsigned (the client has not signed yet) or
// invalid.
func signatureCheck(l consoleLedger, a *agreementRecord) (string, string) {
	rec, err := signedsla.Parse(a.Signed)
	if err == nil && len(rec.Client.Signature) == 0 {
		return "the client has not signed it yet", "unsigned"
	}
	if rec, err = signedRecord(a); err != nil {
		return err.Error(), "invalid"
	}
	opts := signedsla.Options{}
	chained := "the certificates are not chained to MSP root CAs (the signed-in identity has no run folder)"
	if info := l.Network(); info != nil {
		pools, src, err := rootPools(info, nil)
		if err != nil {
			return err.Error(), "invalid"
		}
		opts.Roots, chained = pools, "the certificates chain to "+src
	}
	if _, err := verifySigned(a, rec, opts); err != nil {
		return err.Error(), "invalid"
	}
	return "valid: the provider's and the client's signatures over the digest recomputed from the document, by the SLA's parties; " + chained, "valid"
}

func (s *consoleServer) slaPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	id := r.PathValue("id")
	ctx, cancel := pageContext(r)
	defer cancel()
	src := s.source(l)
	a, doc, err := src.slaRecord(ctx, id)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	sig, sigState := signatureCheck(l, a)
	var periods []periodRow
	for _, p := range paidPeriods(a, doc, consolePeriods) {
		row := periodRow{Period: p.String()}
		if e, err := src.escrow(ctx, id, row.Period); err != nil {
			row.Err = err.Error()
		} else {
			row.Escrow = e
			if st := e.Settlement; st != nil {
				if v, err := st.verdictRef(); err == nil {
					row.VerdictID = v.VerdictID
				}
			}
		}
		periods = append(periods, row)
	}
	collateral := ""
	if doc.Consequences.CollateralMinor > 0 {
		collateral = collateralText(ctx, src, s.refundCC, id)
	}
	notice := ""
	if done, tx := r.URL.Query().Get("done"), r.URL.Query().Get("tx"); (done == "propose" || done == "accept") && txIDText.MatchString(tx) {
		notice = map[string]string{"propose": "Proposed: ProposeSLA committed (tx " + tx + "). The client accepts it on its console.",
			"accept": "Accepted: AcceptSLA committed (tx " + tx + "); the first period's fee is in escrow."}[done]
	}
	s.render(w, http.StatusOK, "sla", cs, pageData{Title: "SLA " + id, Nav: "slas", Notice: notice, Data: map[string]any{
		"A": a, "Doc": doc, "Fee": money(doc.Price.AmountMinor, doc.Price.Currency), "Cycle": cycleText(doc.Interval.BillingCycle),
		"Metrics": metricViews(doc), "MaxCredit": bps(doc.Consequences.MaxCreditBPS), "Periods": periods,
		"MorePeriods": a.PaidPeriods > consolePeriods, "Current": currentPeriod(a, doc, s.now()),
		"Tickets": doc.Support != nil, "Signatures": sig, "SignatureState": sigState, "Collateral": collateral,
		"CanAccept": cs.user.Role == roleClient && a.Status == "PROPOSED"}})
}

// collateralText describes the SLA's collateral hold (GetCollateral) in
// words, or why it could not be read.
func collateralText(ctx context.Context, src *billingSource, refundCC, id string) string {
	raw, err := src.r.Evaluate(ctx, refundCC, "GetCollateral", id)
	if err != nil {
		return err.Error()
	}
	var h struct {
		Status   string `json:"status"`
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
		Held     int64  `json:"held"`
		Drawn    int64  `json:"drawn"`
		Released int64  `json:"released"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Sprintf("%s.GetCollateral: decode: %v", refundCC, err)
	}
	m := func(v int64) string { return money(v, h.Currency) }
	return fmt.Sprintf("%s: %s held of %s locked, %s drawn for penalties, %s released to the provider", h.Status, m(h.Held), m(h.Amount), m(h.Drawn), m(h.Released))
}

// ---- tickets ----

func (s *consoleServer) ticketsPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	q := r.URL.Query()
	slaID, status, breached := strings.TrimSpace(q.Get("sla")), q.Get("status"), q.Get("breached")
	data := map[string]any{"SLA": slaID, "Status": status, "Breached": breached}
	if slaID == "" {
		s.render(w, http.StatusOK, "tickets", cs, pageData{Title: "Tickets", Nav: "tickets", Data: data})
		return
	}
	bad := func(msg string) {
		s.render(w, http.StatusBadRequest, "tickets", cs, pageData{Title: "Tickets", Nav: "tickets", Error: msg, Data: data})
	}
	if status != "" && !ticketStatusPattern.MatchString(status) {
		bad(fmt.Sprintf("status: %q is not a ticket status (lower-case letters, digits and '_')", status))
		return
	}
	if breached != "" && breached != "true" {
		bad(fmt.Sprintf("breached: %q is not true or empty", breached))
		return
	}
	bookmark := q.Get("bookmark")
	if bookmark != "" && !ticketIDPattern.MatchString(bookmark) {
		bad("bookmark: not a ticket id")
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	page, err := listTicketPage(ctx, l, s.ticketCC, slaID, status, breached, consoleTicketPage, bookmark)
	if err != nil {
		s.render(w, http.StatusBadGateway, "tickets", cs, pageData{Title: "Tickets", Nav: "tickets", Error: err.Error(), Data: data})
		return
	}
	data["Views"], data["Next"], data["First"] = page.views, page.bookmark, bookmark != ""
	s.render(w, http.StatusOK, "tickets", cs, pageData{Title: "Tickets of " + slaID, Nav: "tickets", Data: data})
}

// actionForm is a ticket action the signed-in role may take now.
type actionForm struct {
	ticketAction
	Label string
}

// actionLabels are the buttons of the ticket actions.
var actionLabels = map[string]string{"ack": "Acknowledge", "resume": "Resume", "resolve": "Resolve", "close": "Close", "reopen": "Reopen"}

// ticketForms are the actions of ticketActions that role may take on v in
// its status.
func ticketForms(role string, v *ticketView) []actionForm {
	st := v.Record.Status
	applies := map[string]bool{
		"ack":     st == "assigned",
		"resume":  v.Record.PausedFrom != "",
		"resolve": v.Record.PausedFrom == "" && (st == "acknowledged" || st == "in_progress"),
		"close":   st == "resolved",
		"reopen":  st == "resolved",
	}
	var out []actionForm
	for _, a := range ticketActions {
		if applies[a.Name] && allowed(role, a.Roles) {
			out = append(out, actionForm{a, actionLabels[a.Name]})
		}
	}
	return out
}

// txIDText is what a transaction id looks like.
var txIDText = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *consoleServer) ticketPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	s.showTicket(w, r, cs, l, http.StatusOK, "")
}

// showTicket writes a ticket's page with status and an error message.
func (s *consoleServer) showTicket(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger, status int, msg string) {
	slaID, ticketID := r.PathValue("sla"), r.PathValue("ticket")
	if err := checkTicketArgs(slaID, ticketID); err != nil {
		s.fail(w, cs, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	v, err := getTicket(ctx, l, s.ticketCC, slaID, ticketID, 0)
	if err != nil {
		if msg != "" {
			err = fmt.Errorf("%s; then reading the ticket: %w", msg, err)
		}
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	notice := ""
	if status == http.StatusOK {
		notice = ticketDoneNotice(r.URL.Query().Get("done"), r.URL.Query().Get("tx"))
	}
	s.render(w, status, "ticket", cs, pageData{Title: "Ticket " + ticketID, Nav: "tickets", Error: msg, Notice: notice,
		Data: map[string]any{"V": v, "Forms": ticketForms(cs.user.Role, v), "More": extraTicketForms(cs.user.Role, l, v),
			"Targets": []string{"acceptance", "closure"}}})
}

func (s *consoleServer) ticketAction(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	slaID, ticketID := r.PathValue("sla"), r.PathValue("ticket")
	if err := checkTicketArgs(slaID, ticketID); err != nil {
		s.fail(w, cs, http.StatusBadRequest, err.Error())
		return
	}
	a, ok := findTicketAction(r.PathValue("action"))
	if !ok {
		s.fail(w, cs, http.StatusNotFound, fmt.Sprintf("%q is not a ticket action (ack, resume, resolve, close, reopen)", r.PathValue("action")))
		return
	}
	if !allowed(cs.user.Role, a.Roles) {
		s.fail(w, cs, http.StatusForbidden, fmt.Sprintf("The %s role may not %s a ticket (%s may): nothing was submitted.", cs.user.Role, a.Name, strings.Join(a.Roles, ", ")))
		return
	}
	tx, err := a.tx(r.PostForm.Get(a.Field))
	if err != nil {
		s.showTicket(w, r, cs, l, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "--")+": nothing was submitted.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	res, err := transition(ctx, l, s.ticketCC, slaID, ticketID, tx)
	if err != nil {
		s.showTicket(w, r, cs, l, http.StatusConflict, err.Error())
		return
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(slaID)+"/"+url.PathEscape(ticketID)+"?"+url.Values{"done": {a.Name}, "tx": {res.TxID}}.Encode(), http.StatusSeeOther)
}

// ---- wallet ----

// userWallet is the wallet of the signed-in user: the configured one, else
// the one wallet the user's SLAs name for its role (looked up once, then
// kept in memory). A vendor without a configured wallet has none: "".
func (s *consoleServer) userWallet(ctx context.Context, cs *consoleSession, l consoleLedger, src *billingSource) (string, error) {
	if cs.user.Wallet != "" {
		return cs.user.Wallet, nil
	}
	s.mu.Lock()
	wallet := s.wallets[cs.user.Name]
	s.mu.Unlock()
	if wallet != "" {
		return wallet, nil
	}
	if cs.user.Role == roleVendor {
		return "", nil
	}
	wallet, err := consoleWallet(ctx, l, src, cs.user.Role)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.wallets[cs.user.Name] = wallet
	s.mu.Unlock()
	return wallet, nil
}

func (s *consoleServer) walletPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	bookmark, err := bookmarkParam(r)
	if err != nil {
		s.fail(w, cs, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	src := s.source(l)
	wallet, err := s.userWallet(ctx, cs, l, src)
	if err != nil {
		s.fail(w, cs, http.StatusNotFound, err.Error())
		return
	}
	if wallet == "" {
		s.fail(w, cs, http.StatusNotFound, "No wallet is configured for this user (the vendor is no party of an SLA): the operator sets wallet in the console's configuration.")
		return
	}
	raw, err := src.r.Evaluate(ctx, s.refundCC, "BalanceOf", wallet)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	var acct walletAccount
	if err := json.Unmarshal(raw, &acct); err != nil {
		s.fail(w, cs, http.StatusBadGateway, fmt.Sprintf("%s.BalanceOf: decode: %v", s.refundCC, err))
		return
	}
	raw, err = src.r.Evaluate(ctx, s.refundCC, "History", wallet, strconv.Itoa(consoleWalletPage), bookmark)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	var hist historyPage
	if err := json.Unmarshal(raw, &hist); err != nil {
		s.fail(w, cs, http.StatusBadGateway, fmt.Sprintf("%s.History: decode: %v", s.refundCC, err))
		return
	}
	s.render(w, http.StatusOK, "wallet", cs, pageData{Title: "Wallet " + wallet, Nav: "wallet", Data: map[string]any{
		"Account": acct, "History": hist, "First": bookmark != ""}})
}

// ---- events ----

func (s *consoleServer) eventsPage(w http.ResponseWriter, _ *http.Request, cs *consoleSession, _ consoleLedger) {
	s.render(w, http.StatusOK, "events", cs, pageData{Title: "Events", Nav: "events",
		Data: []string{s.agreementCC, s.refundCC, s.ticketCC}})
}

// eventStream sends the new events of the agreement, refund and ticket
// chaincodes as Server-Sent Events until the browser goes away.
func (s *consoleServer) eventStream(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, cs, http.StatusInternalServerError, "streaming is not supported by this connection")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	merged := make(chan *client.ChaincodeEvent)
	for _, cc := range []string{s.agreementCC, s.refundCC, s.ticketCC} {
		ch, err := l.Events(ctx, cc, -1)
		if err != nil {
			s.fail(w, cs, http.StatusBadGateway, explainText("events of "+cc, err))
			return
		}
		go func() {
			for ev := range ch {
				select {
				case merged <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev := <-merged:
			data, err := json.Marshal(s.consoleEventOf(ev))
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: chaincode\ndata: %s\n\n", data)
		}
		flusher.Flush()
	}
}
