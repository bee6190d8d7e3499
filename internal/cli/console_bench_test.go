package cli

// The console's pages on a ledger of 1,000 SLAs and 10,000 tickets (the
// fixture ledger of console_fixture_test.go): BenchmarkConsolePages times
// each page through the console's ServeHTTP with a signed-in session, and
// TestConsolePagesDoNotScan checks that every page reads one chaincode
// page's worth, the same at two ledger sizes.

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// consoleFixture is a console of the fixture ledger's provider, signed in.
type consoleFixture struct {
	srv    *consoleServer
	ledger *fixtureLedger
	cookie *http.Cookie
}

func newConsoleFixture(tb testing.TB, l *fixtureLedger) *consoleFixture {
	tb.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &consoleConfig{Organization: l.caller.MSPID, Users: []consoleUser{{Name: "bench", PasswordBcrypt: string(hash), Role: roleProvider, As: "provider"}}}
	srv, err := newConsoleServer(cfg, map[string]consoleLedger{"bench": l}, false)
	if err != nil {
		tb.Fatal(err)
	}
	srv.now = func() time.Time { return fixtureNow }
	rec := httptest.NewRecorder()
	srv.startSession(rec, srv.users["bench"])
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		tb.Fatalf("session cookies %v", cookies)
	}
	return &consoleFixture{srv: srv, ledger: l, cookie: cookies[0]}
}

// get serves a GET of path and returns the status and the body.
func (c *consoleFixture) get(path string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(c.cookie)
	rec := httptest.NewRecorder()
	c.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

var nextLink = regexp.MustCompile(`<a href="(/[^"?]*\?[^"]*)">Next page</a>`)

// next returns the Next page link of the page at path.
func (c *consoleFixture) next(tb testing.TB, path string) string {
	tb.Helper()
	code, body := c.get(path)
	m := nextLink.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		tb.Fatalf("%s: %d, no Next page link in\n%s", path, code, body)
	}
	return html.UnescapeString(m[1])
}

// slaScanRows bounds the rows of a filtered SLA list: consoleSLAScanPages
// ListSLAs pages, a GetSLA of each SLA on them, the scores of a page of rows.
const slaScanRows = 2*consoleSLAScanPages*consoleSLAPage + consoleSLAPage*fixtureMaxPeriods

// consoleBenchPages are the pages measured: each names how to reach it on
// the fixture and bounds its evaluate calls and the rows they return to one
// chaincode page's worth. A page added to the console is one line here.
var consoleBenchPages = []struct {
	name              string
	path              func(tb testing.TB, c *consoleFixture) string
	maxCalls, maxRows int
}{
	// The SLA list: ListSLAs, and GetSLA and GetSLAScore (its settled
	// periods, fixtureMaxPeriods at most) of each row; filtered, at most
	// consoleSLAScanPages ListSLAs pages and a GetSLA of each SLA they hold.
	{"slas", func(testing.TB, *consoleFixture) string { return "/slas" }, 1 + 2*consoleSLAPage, 2*consoleSLAPage + consoleSLAPage*fixtureMaxPeriods},
	{"slas-next", func(tb testing.TB, c *consoleFixture) string { return c.next(tb, "/slas") }, 1 + 2*consoleSLAPage, 2*consoleSLAPage + consoleSLAPage*fixtureMaxPeriods},
	{"slas-terminated", func(testing.TB, *consoleFixture) string { return "/slas?status=TERMINATED" }, consoleSLAScanPages + 2*consoleSLAPage, slaScanRows},
	{"slas-product-client", func(testing.TB, *consoleFixture) string { return "/slas?product=product-3&counterparty=Client2OrgMSP" },
		consoleSLAScanPages * (1 + 2*consoleSLAPage), slaScanRows},
	{"sla-detail", func(_ testing.TB, c *consoleFixture) string { return "/slas/" + c.ledger.mostPeriods }, 1 + consolePeriods, 1 + consolePeriods},
	{"tickets-10", func(_ testing.TB, c *consoleFixture) string { return "/tickets?sla=" + c.ledger.tenTickets }, 1, consoleTicketPage},
	{"tickets-busiest", func(_ testing.TB, c *consoleFixture) string { return "/tickets?sla=" + c.ledger.busiest }, 1, consoleTicketPage},
	{"tickets-busiest-next", func(tb testing.TB, c *consoleFixture) string { return c.next(tb, "/tickets?sla="+c.ledger.busiest) }, 1, consoleTicketPage},
	{"tickets-busiest-breached", func(_ testing.TB, c *consoleFixture) string {
		return "/tickets?breached=true&sla=" + c.ledger.busiest
	}, 1, consoleTicketPage},
	{"ticket-detail", func(_ testing.TB, c *consoleFixture) string {
		ts := c.ledger.tickets[c.ledger.busiest]
		return "/tickets/" + c.ledger.busiest + "/" + ts[len(ts)/2].view.Ticket.ID
	}, 1, 1},
	{"wallet", func(testing.TB, *consoleFixture) string { return "/wallet" }, 3 + consoleWalletSLAs, consoleWalletPage + 1 + consoleWalletListPage + consoleWalletSLAs},
	{"wallet-next", func(tb testing.TB, c *consoleFixture) string { return c.next(tb, "/wallet") }, 3 + consoleWalletSLAs, consoleWalletPage + 1 + consoleWalletListPage + consoleWalletSLAs},
	// A statement reads the wallet's history from its month's start on
	// (HistoryFrom), not its past: the month after the fixture's, whose
	// opening balance is the whole December, reads the wallet lookup's
	// ListSLAs page and GetSLA, BalanceOf twice and one empty history page.
	{"statement-after", func(testing.TB, *consoleFixture) string { return "/statements?month=2027-01&currency=USD" }, 5, consoleWalletListPage + 1 + 2},
	// The reputation page: the user's products (a ListSLAs page and a
	// GetSLA of each SLA on it) and the provider's summary, one page.
	{"reputation", func(testing.TB, *consoleFixture) string { return "/reputation" }, 2 + consoleSLAPage, 2*consoleSLAPage + 1},
	{"reputation-product", func(testing.TB, *consoleFixture) string {
		return "/reputation?provider=ProviderOrgMSP&product=product-3"
	},
		2 + consoleSLAPage, 2*consoleSLAPage + 1},
	{"events", func(testing.TB, *consoleFixture) string { return "/events" }, 0, 0},
}

// BenchmarkConsolePages renders each page on the full fixture (1,000 SLAs,
// 10,000 tickets) and reports the evaluate calls and rows per request.
func BenchmarkConsolePages(b *testing.B) {
	l := newFixtureLedger(b, fixtureFull)
	for _, p := range consoleBenchPages {
		b.Run(p.name, func(b *testing.B) {
			c := newConsoleFixture(b, l)
			path := p.path(b, c)
			if code, body := c.get(path); code != http.StatusOK {
				b.Fatalf("%s: %d\n%s", path, code, body)
			}
			l.reset()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if code, _ := c.get(path); code != http.StatusOK {
					b.Fatalf("%s: %d", path, code)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(l.calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(l.rows)/float64(b.N), "rows/op")
		})
	}
}

// pageReads is what one request of a page read.
type pageReads struct{ calls, rows int }

// measurePages requests each page once on a new console (the wallet page's
// first visit looks its wallet up) over a fixture of size.
func measurePages(t *testing.T, size fixtureSize) map[string]pageReads {
	t.Helper()
	l := newFixtureLedger(t, size)
	out := map[string]pageReads{}
	for _, p := range consoleBenchPages {
		c := newConsoleFixture(t, l)
		path := p.path(t, c)
		c = newConsoleFixture(t, l)
		l.reset()
		code, body := c.get(path)
		if code != http.StatusOK || strings.Contains(body, `class="error"`) {
			t.Fatalf("%s at %d SLAs: %s: %d\n%s", p.name, size.SLAs, path, code, body)
		}
		r := pageReads{l.calls, l.rows}
		if r.calls > p.maxCalls || r.rows > p.maxRows {
			t.Errorf("%s at %d SLAs, %d tickets: %d evaluate calls returning %d rows, more than one page's worth (%d calls, %d rows)",
				p.name, size.SLAs, size.Tickets, r.calls, r.rows, p.maxCalls, p.maxRows)
		}
		out[p.name] = r
	}
	return out
}

// TestConsolePagesDoNotScan: no page reads the whole ledger. Each page's
// evaluate calls and rows are bounded by one chaincode page's worth and are
// the same on a ledger of 200 SLAs and 2,000 tickets as on one of 1,000
// SLAs and 10,000 tickets.
func TestConsolePagesDoNotScan(t *testing.T) {
	small, full := measurePages(t, fixtureSmall), measurePages(t, fixtureFull)
	for _, p := range consoleBenchPages {
		if small[p.name] != full[p.name] {
			t.Errorf("%s: %+v at %d SLAs, %+v at %d SLAs: the reads grow with the ledger", p.name, small[p.name], fixtureSmall.SLAs, full[p.name], fixtureFull.SLAs)
		}
		t.Logf("%-26s %2d calls, %3d rows", p.name, full[p.name].calls, full[p.name].rows)
	}
}

// TestConsoleWalletLookup: the Wallet page of a user without a configured
// wallet shows the wallet its first SLA names, after one ListSLAs page and
// one GetSLA; a user no SLA names gets the reason, after one ListSLAs.
func TestConsoleWalletLookup(t *testing.T) {
	l := newFixtureLedger(t, fixtureSmall)
	c := newConsoleFixture(t, l)
	l.reset()
	code, body := c.get("/wallet")
	wantPage(t, "wallet", code, http.StatusOK, body, "<dd>"+l.walletName+"</dd>")
	if l.calls != 4 {
		t.Errorf("wallet: %d evaluate calls, want ListSLAs, GetSLA, BalanceOf and History", l.calls)
	}

	l.caller.Subject = strings.Replace(l.caller.Subject, "CN=provider@", "CN=nobody@", 1)
	c = newConsoleFixture(t, l)
	l.reset()
	code, body = c.get("/wallet")
	wantPage(t, "wallet of nobody's SLAs", code, http.StatusNotFound, body,
		"no wallet is configured for this user, and none of its first SLAs names it (ProviderOrgMSP/nobody@providerorg.slasa.local (issuer ca.providerorg.slasa.local)) as its provider with a wallet: the operator sets wallet in the console&#39;s configuration")
	if l.calls != 1 {
		t.Errorf("nobody's wallet: %d evaluate calls, want ListSLAs only", l.calls)
	}
}
