package cli

// The console's reputation page: a provider organization's score over its
// settled periods and each product's (refund GetReputationSummary: the
// provider's checkpoint and the periods settled after it, as `slasa
// reputation --summary` reads them), with a bar chart of the compliance and
// a chart of the provider's compliance per month (the score's months),
// drawn as inline SVG on the server.

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/slasa/slasa/internal/identity"
)

// mspIDText and productText are what the page's provider and product
// parameters may be.
var (
	mspIDText   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	productText = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// Geometry of the compliance chart (SVG user units).
const (
	chartLabelWidth = 260
	chartBarWidth   = 400
	chartRow        = 28
)

// scoreRow is one score of the page and its bar in the chart.
type scoreRow struct {
	Label      string
	Score      score
	Compliance string
	// Y is the row's top in the chart, Width its bar (the compliance),
	// Violated the violated share's bar after it.
	Y, Width, Violated int
}

// reputationData is the page's data.
type reputationData struct {
	Provider, Product string
	Providers         []string
	Rows              []scoreRow
	ChartHeight       int
	LabelX, BarX      int
	BarEnd            int
	// Over time: the last chartMonths months of the first row's score.
	Over        string
	Months      []monthBar
	MonthsWidth int
}

// Geometry of the compliance-per-month chart (SVG user units): a column
// per month, its height the month's compliance.
const (
	chartMonths      = 24
	monthColumn      = 36
	monthBarWidth    = 26
	monthChartHeight = 200
	monthChartTop    = 10
	monthChartLeft   = 50
)

// monthBar is a month of the score and its column in the chart.
type monthBar struct {
	M          monthScore
	Compliance string
	// X is the column's left, Y and Height the compliance bar, VY and
	// VHeight the violated share above it (both 0 without a settled period).
	X, Y, Height, VY, VHeight int
}

// monthBars places the score's last chartMonths months.
func monthBars(months []monthScore) ([]monthBar, int) {
	if len(months) > chartMonths {
		months = months[len(months)-chartMonths:]
	}
	bars := make([]monthBar, len(months))
	for i, m := range months {
		b := monthBar{M: m, X: monthChartLeft + i*monthColumn, Compliance: "-"}
		if m.Periods > 0 {
			b.Compliance = bps(m.ComplianceBPS)
			b.Height = int(m.ComplianceBPS * monthChartHeight / 10000)
			b.Y = monthChartTop + monthChartHeight - b.Height
			b.VY, b.VHeight = monthChartTop, monthChartHeight-b.Height
		}
		bars[i] = b
	}
	return bars, monthChartLeft + 10 + len(months)*monthColumn
}

// chartRows places the scores' bars: the compliance's share of the bar in
// green, the violated share after it.
func chartRows(rows []scoreRow) {
	for i := range rows {
		r := &rows[i]
		r.Y = 10 + i*chartRow
		r.Compliance = "- (no settled period)"
		if r.Score.Periods > 0 {
			r.Compliance = bps(r.Score.ComplianceBPS)
			r.Width = int(r.Score.ComplianceBPS * chartBarWidth / 10000)
			r.Violated = chartBarWidth - r.Width
		}
	}
}

func (s *consoleServer) reputationPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	q := r.URL.Query()
	d := &reputationData{Provider: strings.TrimSpace(q.Get("provider")), Product: strings.TrimSpace(q.Get("product")),
		LabelX: chartLabelWidth - 8, BarX: chartLabelWidth, BarEnd: chartLabelWidth + chartBarWidth}
	page := func(status int, msg string) {
		s.render(w, status, "reputation", cs, pageData{Title: "Reputation", Nav: "reputation", Error: msg, Data: d})
	}
	if d.Provider != "" && !mspIDText.MatchString(d.Provider) {
		page(http.StatusBadRequest, "provider: not an MSP ID (letters, digits, '.', '_' and '-', at most 128): nothing was read")
		return
	}
	if d.Product != "" && !productText.MatchString(d.Product) {
		page(http.StatusBadRequest, "product: not a product id (1 to 128 printable ASCII characters, no space): nothing was read")
		return
	}
	if d.Product != "" && d.Provider == "" {
		page(http.StatusBadRequest, "provider: a product's score needs its provider's MSP ID: nothing was read")
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	caller := l.Caller()
	// The products of the user's SLAs (one page of ListSLAs, as the SLA
	// list reads it), by provider.
	products := map[string][]string{}
	if cs.user.Role != roleVendor {
		_, pg, err := listSLAPage(ctx, l.Evaluate, s.agreementCC, cs.user.Role, caller.MSPID, identity.CommonName(caller.Subject), consoleSLAPage, "")
		if err != nil {
			page(http.StatusBadGateway, err.Error())
			return
		}
		src := s.source(l)
		for _, a := range pg.Records {
			_, doc, err := src.slaRecord(ctx, a.ID)
			if err != nil {
				continue
			}
			p := a.Parties.Provider.MSPID
			if !slices.Contains(products[p], doc.Service.ProductID) {
				products[p] = append(products[p], doc.Service.ProductID)
			}
		}
	}
	for p := range products {
		d.Providers = append(d.Providers, p)
	}
	slices.Sort(d.Providers)
	provider := d.Provider
	if provider == "" {
		switch {
		case cs.user.Role == roleProvider:
			provider = caller.MSPID
		case len(d.Providers) > 0:
			provider = d.Providers[0]
		default:
			page(http.StatusOK, "")
			return
		}
		d.Provider = provider
	}
	// One summary (the provider's checkpoint and the periods settled after
	// it) holds the totals, the months and every product's tally.
	sum, err := readReputation(ctx, ledgerOf{l}.Evaluate, s.refundCC, provider)
	if err != nil {
		page(http.StatusBadGateway, err.Error())
		return
	}
	wanted := slices.Clone(products[provider])
	for _, p := range sum.Products {
		if !slices.Contains(wanted, p.ProductID) {
			wanted = append(wanted, p.ProductID)
		}
	}
	if d.Product != "" {
		wanted = []string{d.Product}
	}
	slices.Sort(wanted)
	overall := sum.score
	rows := []scoreRow{{Label: provider + " (all products)", Score: overall}}
	for _, p := range wanted {
		rows = append(rows, scoreRow{Label: p, Score: sum.product(p)})
	}
	chartRows(rows)
	d.Rows, d.ChartHeight = rows, 20+len(rows)*chartRow
	d.Over = rows[0].Label
	d.Months, d.MonthsWidth = monthBars(overall.Months)
	s.render(w, http.StatusOK, "reputation", cs, pageData{Title: fmt.Sprintf("Reputation of %s", provider), Nav: "reputation", Data: d})
}
