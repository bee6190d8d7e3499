package cli

// The console's money pages: a party's statement of a month (the table of
// `slasa statement`, or its CSV and JSON as downloads) and the invoice of an
// SLA period as a PDF (or CSV, JSON), built by the same functions as the
// CLI (buildStatement, buildInvoice, package billing).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/slasa/slasa/billing"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/sla"
)

// consoleIDText is what an SLA id in a console query may be.
var consoleIDText = regexp.MustCompile(`^[\x21-\x7e]{1,256}$`)

// fileNameText replaces what may not go into a download's file name.
var fileNameText = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// cliText turns a CLI error into the console's words: a leading flag name
// ("--month: ...") becomes the field's name.
func cliText(err error) string {
	return strings.TrimPrefix(err.Error(), "--")
}

// statusOf is the page status of a statement or invoice error: 400 for
// bad input (the CLI's usage errors), 502 for what the ledger answered.
func statusOf(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// attachment writes a download.
func attachment(w http.ResponseWriter, contentType, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileNameText.ReplaceAllString(name, "_")))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// statementsPage is a party's statement of a month: ?month=YYYY-MM
// (default this month, UTC), &sla=ID (only that SLA's lines), &currency
// (when no line names an SLA period), &format=csv|json (a download).
func (s *consoleServer) statementsPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	q := r.URL.Query()
	month, slaID, currency, format := q.Get("month"), strings.TrimSpace(q.Get("sla")), q.Get("currency"), q.Get("format")
	if month == "" {
		month = s.now().UTC().Format("2006-01")
	}
	data := map[string]any{"Month": month, "SLA": slaID, "Currency": currency}
	page := func(status int, msg string) {
		s.render(w, status, "statements", cs, pageData{Title: "Statement", Nav: "statements", Error: msg, Data: data})
	}
	if m, err := time.Parse("2006-01", month); err != nil || m.Format("2006-01") != month {
		page(http.StatusBadRequest, fmt.Sprintf("month: %q is not a month YYYY-MM: nothing was read", month))
		return
	}
	if slaID != "" && !consoleIDText.MatchString(slaID) {
		page(http.StatusBadRequest, "sla: not an SLA id (1 to 256 printable ASCII characters, no space): nothing was read")
		return
	}
	if currency != "" {
		if _, err := billing.MinorUnits(currency); err != nil {
			page(http.StatusBadRequest, "currency: "+err.Error()+": nothing was read")
			return
		}
	}
	if format != "" && format != "csv" && format != "json" {
		page(http.StatusBadRequest, fmt.Sprintf("format: %q is not csv or json (or empty for the page): nothing was read", format))
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	src := s.source(l)
	req := statementRequest{Role: cs.user.Role, Month: month, SLAID: slaID, Currency: currency, Caller: l.Caller()}
	if slaID == "" {
		wallet, err := s.userWallet(ctx, cs, l, src)
		if err != nil {
			page(http.StatusNotFound, err.Error())
			return
		}
		req.Wallet = wallet
	} else {
		req.Wallet = cs.user.Wallet
	}
	st, err := buildStatement(ctx, src, req)
	if err != nil {
		page(statusOf(err), cliText(err))
		return
	}
	name := "statement-" + st.Party.Wallet + "-" + month
	if slaID != "" {
		name += "-" + slaID
	}
	var buf bytes.Buffer
	switch format {
	case "csv":
		if err := st.WriteCSV(&buf); err != nil {
			page(http.StatusInternalServerError, err.Error())
			return
		}
		attachment(w, "text/csv; charset=utf-8", name+".csv", buf.Bytes())
		return
	case "json":
		if err := billing.WriteJSON(&buf, st); err != nil {
			page(http.StatusInternalServerError, err.Error())
			return
		}
		attachment(w, "application/json", name+".json", buf.Bytes())
		return
	}
	data["St"] = st
	s.render(w, http.StatusOK, "statements", cs, pageData{Title: "Statement " + month + " of wallet " + st.Party.Wallet, Nav: "statements", Data: data})
}

// isParty reports whether id is the agreement party p (MSP ID, subject
// and issuer).
func isParty(id identity.ID, p agreementParty) bool {
	return id.MSPID == p.MSPID && id.Subject == p.Subject && id.Issuer == p.Issuer
}

// invoiceDownload is the invoice of a period of an SLA:
// /slas/{id}/invoice?period=RFC3339[&format=csv|json] (default the PDF),
// for the SLA's provider or client only, each as its own role.
func (s *consoleServer) invoiceDownload(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	slaID, period, format := r.PathValue("id"), r.URL.Query().Get("period"), r.URL.Query().Get("format")
	if !consoleIDText.MatchString(slaID) {
		s.fail(w, cs, http.StatusBadRequest, "sla: not an SLA id (1 to 256 printable ASCII characters, no space): nothing was read")
		return
	}
	if _, err := time.Parse(time.RFC3339, period); err != nil {
		s.fail(w, cs, http.StatusBadRequest, fmt.Sprintf("period: %q is not the period's start as RFC 3339 (e.g. 2026-12-01T00:00:00Z): nothing was read", period))
		return
	}
	if format != "" && format != "pdf" && format != "csv" && format != "json" {
		s.fail(w, cs, http.StatusBadRequest, fmt.Sprintf("format: %q is not pdf, csv or json: nothing was read", format))
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	src := s.source(l)
	if _, _, ok := s.partySLA(ctx, w, cs, l, src, slaID, "get its invoices"); !ok {
		return
	}
	inv, err := buildInvoice(ctx, src, slaID, period, dueDate{Days: 30})
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return
	}
	var buf bytes.Buffer
	switch format {
	case "csv":
		err = inv.WriteCSV(&buf)
	case "json":
		err = billing.WriteJSON(&buf, inv)
	default:
		err = inv.WritePDF(&buf)
	}
	if err != nil {
		s.fail(w, cs, http.StatusInternalServerError, fmt.Sprintf("invoice %s: %v", inv.Number, err))
		return
	}
	switch format {
	case "csv":
		attachment(w, "text/csv; charset=utf-8", inv.Number+".csv", buf.Bytes())
	case "json":
		attachment(w, "application/json", inv.Number+".json", buf.Bytes())
	default:
		attachment(w, "application/pdf", inv.Number+".pdf", buf.Bytes())
	}
}

// partySLA reads SLA id for a page that only the SLA's party of the
// signed-in role may see (its provider as provider, its client as client):
// ok is false when the SLA could not be read (502) or the signed-in
// identity is not that party (403, naming what only the parties may do),
// and the refusal is written to w.
func (s *consoleServer) partySLA(ctx context.Context, w http.ResponseWriter, cs *consoleSession, l consoleLedger, src *billingSource, id, may string) (*agreementRecord, *sla.SLA, bool) {
	a, doc, err := src.slaRecord(ctx, id)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return nil, nil, false
	}
	party := a.Parties.Client
	if cs.user.Role == roleProvider {
		party = a.Parties.Provider
	}
	if !isParty(l.Caller(), party) {
		s.fail(w, cs, http.StatusForbidden, fmt.Sprintf("You (%s) are not the %s of SLA %s: only the SLA's provider and client %s.", idText(l.Caller(), ""), cs.user.Role, id, may))
		return nil, nil, false
	}
	return a, doc, true
}
