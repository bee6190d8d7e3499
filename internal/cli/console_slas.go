package cli

// The console's SLA list: the signed-in party's SLAs (agreement ListSLAs,
// by the user's role, MSP and common name), each with its product and
// current period (GetSLA) and its credit so far (refund GetSLAScore), and
// filters by status, product and counterparty. ListSLAs cannot filter, so
// the console filters each page it reads and reads further pages, each no
// larger than the rows still missing (so that the next page's bookmark
// continues exactly after the last SLA searched), until the page is full
// or it has read consoleSLAScanPages chaincode pages.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/slasa/slasa/internal/identity"
)

// consoleSLAScanPages bounds the ListSLAs pages one request of the SLA list
// reads (at most consoleSLAPage SLAs each); consoleSLAReaders bounds the
// SLAs whose document and score are read at the same time.
const (
	consoleSLAScanPages = 5
	consoleSLAReaders   = 8
)

// slaStatuses are the agreement chaincode's statuses (agreement.Status*).
var slaStatuses = []string{"PROPOSED", "ACTIVE", "TERMINATED", "WITHDRAWN"}

// slaFilter is the SLA list's filters: "" lets every SLA through.
type slaFilter struct {
	Status, Product, Counterparty string
}

// slaFilterParams reads and checks the filters of the query.
func slaFilterParams(r *http.Request) (slaFilter, error) {
	q := r.URL.Query()
	f := slaFilter{Status: strings.TrimSpace(q.Get("status")), Product: strings.TrimSpace(q.Get("product")),
		Counterparty: strings.TrimSpace(q.Get("counterparty"))}
	switch {
	case f.Status != "" && !slices.Contains(slaStatuses, f.Status):
		return f, fmt.Errorf("status: %q is not an SLA status (%s): nothing was read", f.Status, strings.Join(slaStatuses, ", "))
	case f.Product != "" && !productText.MatchString(f.Product):
		return f, fmt.Errorf("product: not a product id (1 to 128 printable ASCII characters, no space): nothing was read")
	case f.Counterparty != "" && !mspIDText.MatchString(f.Counterparty):
		return f, fmt.Errorf("counterparty: not an MSP ID (letters, digits, '.', '_' and '-', at most 128): nothing was read")
	}
	return f, nil
}

// Active reports whether any filter is set.
func (f slaFilter) Active() bool { return f != slaFilter{} }

// counterparty is the MSP ID of a's other party than role's.
func counterparty(a *agreementRecord, role string) string {
	if role == roleProvider {
		return a.Parties.Client.MSPID
	}
	return a.Parties.Provider.MSPID
}

// record reports whether a passes the filters the public record answers
// (status, counterparty); the product is in the document.
func (f slaFilter) record(a *agreementRecord, role string) bool {
	return (f.Status == "" || a.Status == f.Status) && (f.Counterparty == "" || counterparty(a, role) == f.Counterparty)
}

// slaRow is a row of the SLA list: the public record and what its
// document and score add.
type slaRow struct {
	Record agreementRecord
	slaCredit
}

// slaListData is the SLA list's data.
type slaListData struct {
	Role     string
	Filter   slaFilter
	Statuses []string
	Rows     []slaRow
	// Next is the bookmark of the next page ("" for none), First whether
	// this is not the first page.
	Next  string
	First bool
	// Searched counts the SLAs this request read, Pages the ListSLAs
	// pages; Cut says the search stopped at consoleSLAScanPages pages
	// before the page was full.
	Searched, Pages int
	Cut             bool
}

// readSLARows reads the rows, at most consoleSLAReaders at a time.
func (s *consoleServer) readSLARows(ctx context.Context, l consoleLedger, rows []slaRow, product string) {
	src := s.source(l)
	sem := make(chan struct{}, consoleSLAReaders)
	var wg sync.WaitGroup
	for i := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func(row *slaRow) {
			defer func() { <-sem; wg.Done() }()
			row.slaCredit = readSLACredit(ctx, src, &row.Record, product, s.now())
		}(&rows[i])
	}
	wg.Wait()
}

func (s *consoleServer) slasPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	d := &slaListData{Role: cs.user.Role, Statuses: slaStatuses, Rows: []slaRow{}}
	page := func(status int, msg string) {
		s.render(w, status, "slas", cs, pageData{Title: "SLAs", Nav: "slas", Error: msg, Data: d})
	}
	bookmark, err := bookmarkParam(r)
	if err != nil {
		page(http.StatusBadRequest, err.Error())
		return
	}
	if d.Filter, err = slaFilterParams(r); err != nil {
		page(http.StatusBadRequest, err.Error())
		return
	}
	d.First = bookmark != ""
	ctx, cancel := pageContext(r)
	defer cancel()
	caller := l.Caller()
	next := bookmark
	for d.Pages < consoleSLAScanPages && len(d.Rows) < consoleSLAPage {
		size := consoleSLAPage - len(d.Rows)
		_, pg, err := listSLAPage(ctx, l.Evaluate, s.agreementCC, cs.user.Role, caller.MSPID, identity.CommonName(caller.Subject), size, next)
		if err != nil {
			page(http.StatusBadGateway, err.Error())
			return
		}
		d.Pages++
		d.Searched += len(pg.Records)
		var rows []slaRow
		for _, a := range pg.Records {
			if d.Filter.record(&a, cs.user.Role) {
				rows = append(rows, slaRow{Record: a})
			}
		}
		s.readSLARows(ctx, l, rows, d.Filter.Product)
		for _, row := range rows {
			if row.match {
				d.Rows = append(d.Rows, row)
			}
		}
		next = ""
		if len(pg.Records) == size {
			next = pg.Bookmark
		}
		if next == "" {
			break
		}
	}
	d.Next = next
	d.Cut = d.Next != "" && len(d.Rows) < consoleSLAPage
	page(http.StatusOK, "")
}
