package cli

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"golang.org/x/crypto/bcrypt"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// fakeConsole is a consoleLedger: the ticket functions and the
// transactions go to a fakeTickets, every other query to a fakeLedger.
type fakeConsole struct {
	*fakeLedger
	tickets *fakeTickets
	caller  identity.ID
	// who holds the certificate and key that sign SLAs (nil: none).
	who *fabricfake.Identity
	// reports answers Report by period (missing: an error); reported
	// counts the questions.
	reports  map[string]*verdictReport
	reported int
}

func (f *fakeConsole) Report(_ context.Context, cc verdictChaincodes, slaID, period string) (*verdictReport, error) {
	f.reported++
	if r, ok := f.reports[slaID+" "+period]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("%s.Evaluate: fake: no report of period %s of SLA %s", cc.enclave, period, slaID)
}

func (f *fakeConsole) Certificate() (*x509.Certificate, error) {
	if f.who == nil {
		return nil, errors.New("fake: no certificate")
	}
	return f.who.Cert, nil
}

func (f *fakeConsole) Key() (*ecdsa.PrivateKey, error) {
	if f.who == nil {
		return nil, errors.New("fake: no key")
	}
	return f.who.Key, nil
}

func (f *fakeConsole) MSPID() string         { return f.caller.MSPID }
func (f *fakeConsole) Network() *fabnet.Info { return nil }
func (f *fakeConsole) Close()                {}
func (f *fakeConsole) Caller() identity.ID   { return f.caller }
func (f *fakeConsole) Channel() string       { return "slasa" }

func (f *fakeConsole) Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	switch fn {
	case "GetTicket", "ListTickets", "GetTicketHistory":
		return f.tickets.Evaluate(ctx, cc, fn, args...)
	}
	return f.fakeLedger.Evaluate(ctx, cc, fn, args...)
}

func (f *fakeConsole) Submit(ctx context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error) {
	return f.tickets.Submit(ctx, cc, fn, args, transient, orgs)
}

func (f *fakeConsole) Events(ctx context.Context, cc string, start int64) (<-chan *client.ChaincodeEvent, error) {
	return f.tickets.Events(ctx, cc, start)
}

// evaluations counts the fake's queries (both halves).
func (f *fakeConsole) evaluations() int {
	n := len(f.tickets.evaluated)
	for _, c := range f.fakeLedger.calls {
		n += c
	}
	return n
}

const testPassword = "correct horse battery staple"

// The console's test users: one per role, each of its own organization.
var (
	consoleClient   = identity.ID{MSPID: "ClientOrgMSP", Subject: clientDN, Issuer: clientCA}
	consoleProvider = identity.ID{MSPID: "ProviderOrgMSP", Subject: providerDN, Issuer: providerCA}
	consoleVendor   = identity.ID{MSPID: "VendorOrgMSP", Subject: vendorDN, Issuer: vendorCA}
)

// consoleTest is a console of one organization with one user of role,
// served by httptest, and a browser (a client with a cookie jar that
// does not follow redirects).
type consoleTest struct {
	t       *testing.T
	srv     *consoleServer
	ts      *httptest.Server
	browser *http.Client
	fake    *fakeConsole
	user    string
}

func newConsoleTest(t *testing.T, role string, wallet string) *consoleTest {
	t.Helper()
	ids := map[string]identity.ID{roleClient: consoleClient, roleProvider: consoleProvider, roleVendor: consoleVendor}
	id := ids[role]
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	name := role + "-user"
	cfg := &consoleConfig{Organization: id.MSPID, Users: []consoleUser{{Name: name, PasswordBcrypt: string(hash), Role: role, As: role, Wallet: wallet}}}
	fake := &fakeConsole{fakeLedger: newFakeLedger(t), tickets: &fakeTickets{msp: id.MSPID, events: make(chan *client.ChaincodeEvent, 4)}, caller: id}
	srv, err := newConsoleServer(cfg, map[string]consoleLedger{name: fake}, false)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &consoleTest{t: t, srv: srv, ts: ts, browser: browser, fake: fake, user: name}
}

// get fetches path and returns the status, the Location and the body.
func (c *consoleTest) get(path string) (int, string, string) {
	c.t.Helper()
	resp, err := c.browser.Get(c.ts.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// post posts form to path.
func (c *consoleTest) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	resp, err := c.browser.PostForm(c.ts.URL+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page's first form.
func (c *consoleTest) csrf(body string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF field in\n%s", body)
	}
	return m[1]
}

// signIn signs the user in and returns the session's CSRF token.
func (c *consoleTest) signIn() string {
	c.t.Helper()
	_, _, body := c.get("/login")
	code, loc, body := c.post("/login", url.Values{"csrf": {c.csrf(body)}, "user": {c.user}, "password": {testPassword}})
	if code != http.StatusSeeOther || loc != "/" {
		c.t.Fatalf("sign-in: %d %q\n%s", code, loc, body)
	}
	_, _, body = c.get("/events")
	return c.csrf(body)
}

// wantPage checks a page's status and that it shows each of want.
func wantPage(t *testing.T, what string, code, wantCode int, body string, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: status %d, want %d\n%s", what, code, wantCode, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in\n%s", what, w, body)
		}
	}
}

func TestConsoleConfig(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := string(hash)
	good := `{"organization":"ClientOrgMSP","users":[{"name":"carol","password_bcrypt":"` + h + `","role":"client","as":"client"},` +
		`{"name":"ops@client","password_bcrypt":"` + h + `","role":"provider","msp_id":"ClientOrgMSP","cert":"c.pem","key":"k.pem","peer":"p:7051","tls_ca":"ca.pem"}]}`
	c, err := parseConsoleConfig([]byte(good))
	if err != nil || len(c.Users) != 2 || c.Users[1].Peer != "p:7051" {
		t.Fatalf("good config: %v %+v", err, c)
	}
	user := func(fields string) string {
		return `{"organization":"ClientOrgMSP","users":[{"name":"carol","password_bcrypt":"` + h + `","role":"client"` + fields + `}]}`
	}
	tests := []struct{ config, want string }{
		{`{"users":[]}`, "organization: the MSP ID of the organization that runs the console is required"},
		{`{"organization":"ClientOrgMSP","users":[]}`, "users: at least one user is required"},
		{`{"organization":"ClientOrgMSP","userz":[]}`, `json: unknown field "userz"`},
		{user(`,"as":"client","name2":1`), `json: unknown field "name2"`},
		{strings.Replace(user(`,"as":"client"`), `"carol"`, `"Carol"`, 1), `users[0].name: "Carol" is not 1..64 lower-case letters, digits, '.', '_', '@' or '-'`},
		{strings.Replace(user(`,"as":"client"`), h, "secret", 1), "users[0] (carol).password_bcrypt: not a bcrypt hash (crypto/bcrypt: hashedSecret too short to be a bcrypted password); make one with slasa console hash-password"},
		{strings.Replace(user(`,"as":"client"`), `"role":"client"`, `"role":"admin"`, 1), `users[0] (carol).role: "admin" is not provider, client or vendor`},
		{user(``), "users[0] (carol): the Fabric identity is missing: give as (an identity of the local network) or msp_id, cert, key, peer and tls_ca"},
		{user(`,"as":"client","msp_id":"ClientOrgMSP"`), "users[0] (carol): as and the explicit identity (msp_id, cert, key, peer, tls_ca) exclude each other"},
		{user(`,"msp_id":"ClientOrgMSP","cert":"c.pem"`), "users[0] (carol): explicit identity: key, peer, tls_ca required"},
		{user(`,"msp_id":"ProviderOrgMSP","cert":"c","key":"k","peer":"p:1","tls_ca":"t"`), "users[0] (carol).msp_id: ProviderOrgMSP is not the console's organization ClientOrgMSP"},
		{`{"organization":"ClientOrgMSP","users":[{"name":"carol","password_bcrypt":"` + h + `","role":"client","as":"client"},{"name":"carol","password_bcrypt":"` + h + `","role":"client","as":"client"}]}`,
			"users[1] (carol).name: the name appears twice"},
	}
	for _, tt := range tests {
		_, err := parseConsoleConfig([]byte(tt.config))
		if err == nil || err.Error() != tt.want {
			t.Errorf("config %s\ngot  %v\nwant %s", tt.config, err, tt.want)
		}
	}

	// A user whose identity belongs to another organization is refused at start.
	fake := &fakeConsole{fakeLedger: newFakeLedger(t), tickets: &fakeTickets{}, caller: consoleProvider}
	_, err = newConsoleServer(c, map[string]consoleLedger{"carol": fake, "ops@client": fake}, false)
	if err == nil || err.Error() != "user carol: the identity belongs to ProviderOrgMSP, not to the console's organization ClientOrgMSP" {
		t.Errorf("identity of another organization: %v", err)
	}
}

func TestConsoleCommandRefusals(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"console"}, "--config is required (the users and their identities; see docs/console.md)"},
		{[]string{"console", "--config", "x.json", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"console", "--config", "x.json", "--listen", "0.0.0.0:8088"}, "--listen 0.0.0.0:8088: without --tls-cert the console serves plain HTTP on a loopback address only"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, "", tt.args...)
		if code != ExitUsage || stderr != "slasa: "+tt.want+"\n" {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
	code, _, stderr := run(t, "short\n", "console", "hash-password")
	if code != ExitFailure || stderr != "slasa: password: 5 characters, fewer than 12\n" {
		t.Errorf("short password: %d %q", code, stderr)
	}
	code, out, stderr := run(t, testPassword+"\n", "console", "hash-password")
	if code != ExitOK || bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out)), []byte(testPassword)) != nil {
		t.Errorf("hash-password: %d %q %q", code, out, stderr)
	}
}

func TestConsoleSignIn(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	// Without a session: pages go to the sign-in page, a POST is refused.
	code, loc, _ := c.get("/slas")
	if code != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("/slas without a session: %d %q", code, loc)
	}
	code, _, body := c.post("/tickets/"+testSLA+"/TT-1/close", url.Values{})
	wantPage(t, "POST without a session", code, http.StatusUnauthorized, body, "Sign in first: nothing was read or submitted.")
	code, _, body = c.get("/events/stream")
	wantPage(t, "stream without a session", code, http.StatusUnauthorized, body)

	// The sign-in form's token is bound to its cookie.
	_, _, body = c.get("/login")
	token := c.csrf(body)
	code, _, body = c.post("/login", url.Values{"user": {c.user}, "password": {testPassword}})
	wantPage(t, "sign-in without a token", code, http.StatusForbidden, body, "The sign-in form&#39;s CSRF token is missing, wrong or expired.")
	code, _, body = c.post("/login", url.Values{"csrf": {token + "x"}, "user": {c.user}, "password": {testPassword}})
	wantPage(t, "sign-in with a wrong token", code, http.StatusForbidden, body)

	// Wrong password and unknown user: one message.
	code, _, body = c.post("/login", url.Values{"csrf": {token}, "user": {c.user}, "password": {"wrong"}})
	wantPage(t, "wrong password", code, http.StatusUnauthorized, body, "wrong user name or password")
	code, _, body = c.post("/login", url.Values{"csrf": {c.csrf(body)}, "user": {"nobody"}, "password": {testPassword}})
	wantPage(t, "unknown user", code, http.StatusUnauthorized, body, "wrong user name or password")

	// Signed in: the session cookie is HttpOnly and SameSite=Strict, not Secure over plain HTTP.
	_, _, body = c.get("/login")
	resp, err := c.browser.PostForm(c.ts.URL+"/login", url.Values{"csrf": {c.csrf(body)}, "user": {c.user}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "slasa_session" {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || len(session.Value) < 43 {
		t.Fatalf("sign-in: %d, cookie %+v", resp.StatusCode, session)
	}
	code, loc, _ = c.get("/")
	if code != http.StatusSeeOther || loc != "/slas" {
		t.Errorf("/ of a client: %d %q", code, loc)
	}
	// Sign-out needs the CSRF token.
	_, _, body = c.get("/events")
	csrf := c.csrf(body)
	code, _, body = c.post("/logout", url.Values{})
	wantPage(t, "sign-out without a token", code, http.StatusForbidden, body, "CSRF token is missing or wrong: nothing was submitted")
	if code, _, _ = c.get("/events"); code != http.StatusOK {
		t.Fatalf("still signed in after a refused sign-out: %d", code)
	}
	if code, loc, _ = c.post("/logout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("sign-out: %d %q", code, loc)
	}
	if code, loc, _ = c.get("/events"); code != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("after sign-out: %d %q", code, loc)
	}
	if n := c.fake.evaluations(); n != 0 {
		t.Errorf("%d ledger reads, want none", n)
	}
}

func TestConsoleSignInThrottle(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	c.srv.now = func() time.Time { return now }
	_, _, body := c.get("/login")
	for i := 0; i < maxLoginFailures; i++ {
		_, _, body = c.post("/login", url.Values{"csrf": {c.csrf(body)}, "user": {c.user}, "password": {"wrong"}})
	}
	code, _, body := c.post("/login", url.Values{"csrf": {c.csrf(body)}, "user": {c.user}, "password": {testPassword}})
	wantPage(t, "locked", code, http.StatusUnauthorized, body, "too many failed sign-ins for this user name: try again after 2026-12-06T10:15:00Z")
	now = now.Add(loginLockout + time.Second)
	code, loc, _ := c.post("/login", url.Values{"csrf": {c.csrf(body)}, "user": {c.user}, "password": {testPassword}})
	if code != http.StatusSeeOther || loc != "/" {
		t.Errorf("after the lockout: %d %q", code, loc)
	}
}

func TestConsoleSessionTLSAndExpiry(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.srv.tls = true
	rec := httptest.NewRecorder()
	c.srv.startSession(rec, c.srv.users[c.user])
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-slasa_session" || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" {
		t.Fatalf("TLS session cookie: %+v", ck)
	}
	rec = httptest.NewRecorder()
	c.srv.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	h := rec.Result().Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self'") || h.Get("Strict-Transport-Security") == "" ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", h)
	}

	// An idle session ends.
	c = newConsoleTest(t, roleClient, "")
	now := time.Now()
	c.srv.now = func() time.Time { return now }
	c.signIn()
	now = now.Add(consoleIdle + time.Second)
	if code, loc, _ := c.get("/events"); code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("idle session: %d %q", code, loc)
	}
}

// consoleSLAView is GetSLA's answer for the demo SLA valid from P0 for an
// hour, with paid periods P0 and P1.
func consoleSLAView(t *testing.T) map[string]any {
	t.Helper()
	v := slaView(t, billProvider, billClient)
	rec := v["signed"].(signedsla.Record)
	var d map[string]any
	if err := json.Unmarshal(rec.Document, &d); err != nil {
		t.Fatal(err)
	}
	d["validity"] = map[string]string{"start": testP0, "end": "2026-12-06T11:00:00Z"}
	rec.Document, _ = json.Marshal(d)
	v["signed"] = rec
	v["last_period"], v["paid_periods"], v["paid_through"] = testP1, 2, testP1End
	v["validity_start"], v["validity_end"] = testP0, "2026-12-06T11:00:00Z"
	return v
}

func TestConsoleSLAs(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC) }
	view := consoleSLAView(t)
	rec := map[string]any{"id": billSLA, "status": "ACTIVE", "parties": view["parties"], "paid_through": testP1End, "last_period": testP1, "paid_periods": 2}
	cn := identity.CommonName(clientDN)
	c.fake.set(slaPage{Records: nil, Bookmark: ""}, "agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "20", "bm-1")
	c.fake.set(map[string]any{"records": []any{rec}, "bookmark": "bm-1"}, "agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "20", "")
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	c.signIn()
	code, _, body := c.get("/slas")
	wantPage(t, "SLA list", code, http.StatusOK, body, `<a href="/slas/demo-sla">demo-sla</a>`, "ProviderOrgMSP/provider@providerorg.slasa.local",
		"ClientOrgMSP/client@clientorg.slasa.local", "<td>demo-web</td>", "<td>2026-12-06T10:02:00Z (paid)</td>", "The SLAs in which you are the client")
	code, _, body = c.get("/slas?bookmark=bm-1")
	wantPage(t, "second page", code, http.StatusOK, body, "No SLAs.", `<a href="/slas">First page</a>`)
	code, _, body = c.get("/slas?bookmark=" + url.QueryEscape("a b"))
	wantPage(t, "bad bookmark", code, http.StatusBadRequest, body, "bookmark: not a bookmark of a page")

	// The detail: the terms in words, each period with its escrow and verdict.
	v := testVerdictP0()
	c.fake.set(escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0), "refund", "GetEscrow", billSLA, testP0)
	c.fake.set(escrowOf(testP1, testP1End, "tx-renew", nil, "", 0), "refund", "GetEscrow", billSLA, testP1)
	code, _, body = c.get("/slas/" + billSLA)
	ref, err := (&settlementRecord{SLAID: v.SLAID, SLADigest: v.SLADigest, Period: v.Period, PeriodEnd: v.PeriodEnd, Violated: true, CreditBPS: 3000, Credit: 30000,
		Currency: "USD", ReportDigest: v.ReportDigest, BatchSeq: 12, BatchCID: "bafy-batch-12", Chaincode: "slaenclave", EnclaveID: testEnc}).verdictRef()
	if err != nil {
		t.Fatal(err)
	}
	wantPage(t, "SLA detail", code, http.StatusOK, body,
		"met when the period&#39;s value is at least 99.99%", "worse than 99.0%: credit 30% of the period&#39;s fee",
		"every 120 seconds from the validity start", "2 periods, through 2026-12-06T10:04:00Z",
		"<td>2026-12-06T10:02:00Z</td>\n  \n  <td>HELD (1000.00 USD)</td>", "not settled yet",
		`<td class="breached">violated</td>`, "30% = 300.00 USD", ref.VerdictID, "tx-settle0",
		`<a href="/slas/demo-sla/invoice?period=2026-12-06T10%3A00%3A00Z">PDF</a>`)
	if strings.Index(body, testP1) > strings.Index(body, ">"+testP0+"<") {
		t.Errorf("periods not newest first")
	}
	c.fake.errs[fakeKey("agreement", "GetSLA", "nope")] = errors.New("chaincode response 500, SLA \"nope\" does not exist")
	code, _, body = c.get("/slas/nope")
	wantPage(t, "missing SLA", code, http.StatusBadGateway, body, "agreement.GetSLA: chaincode response 500, SLA &#34;nope&#34; does not exist")

	// The vendor is no party of an SLA: no SLA page, nothing read.
	vc := newConsoleTest(t, roleVendor, "")
	vc.signIn()
	for _, p := range []string{"/slas", "/slas/" + billSLA} {
		code, _, body = vc.get(p)
		wantPage(t, "vendor "+p, code, http.StatusForbidden, body, "The vendor role may not open this page (it is for provider, client).")
	}
	if code, loc, _ := vc.get("/"); code != http.StatusSeeOther || loc != "/tickets" {
		t.Errorf("/ of a vendor: %d %q", code, loc)
	}
	if n := vc.fake.evaluations(); n != 0 {
		t.Errorf("vendor: %d ledger reads, want none", n)
	}
}

// ticketRecordWith is testRecord with another status (and paused_from).
func ticketRecordWith(status, pausedFrom string) string {
	r := strings.Replace(testRecord, `"status":"in_progress"`, `"status":"`+status+`","paused_from":"`+pausedFrom+`"`, 1)
	if status == "resolved" {
		r = strings.Replace(r, `"deadline":"2026-12-07T13:00:00.123Z","level":0}`,
			`"deadline":"2026-12-07T13:00:00.123Z","outcome":{"result":"met","at":"2026-12-07T10:00:00Z","severity":"critical","elapsed_ms":3600000,"margin_ms":10800000,"penalty_minor":0,"currency":"EUR"},"level":0}`, 1)
	}
	return r
}

func TestConsoleTicketPages(t *testing.T) {
	c := newConsoleTest(t, roleVendor, "")
	paused := testView(ticketRecordWith("waiting_on_customer", "in_progress"), `{"target":"closure","at":"2026-12-07T10:00:00.5Z","elapsed_ms":3600377,"remaining_ms":10799623,"used_bps":2500,"paused":true}`)
	paused = strings.Replace(strings.Replace(paused, `"id":"TT-1","sla_id"`, `"id":"TT-2","sla_id"`, 1), `"breached":true`, `"breached":false`, 1)
	c.fake.tickets.pages = []string{`{"records":[` + testView(testRecord, testClock) + `,` + paused + `],"bookmark":"TT-3"}`}
	c.signIn()
	code, _, body := c.get("/tickets")
	wantPage(t, "tickets without an SLA", code, http.StatusOK, body, `<input name="sla" value="" required>`)
	code, _, body = c.get("/tickets?sla=" + testSLA)
	wantPage(t, "ticket list", code, http.StatusOK, body,
		`<tr class="breached">`, `<a href="/tickets/telecom-tier1-2026/TT-1">TT-1</a>`, "VendorOrgMSP/vendor@vendororg.slasa.local",
		`closure <span class="countdown" data-remaining-ms="10799623">2h59m59.623s</span>`, "breached -5m30s", "acceptance 2", "50.00 EUR",
		"waiting_on_customer (paused from in_progress)", `closure <span class="paused">paused</span>`,
		`<a href="/tickets?bookmark=TT-3&amp;sla=telecom-tier1-2026">Next page</a>`)
	if got := c.fake.tickets.evaluated; len(got) != 1 || got[0] != "ticket.ListTickets("+testSLA+",,,25,)" {
		t.Errorf("evaluated %v", got)
	}
	for _, tt := range []struct{ query, want string }{
		{"sla=" + testSLA + "&status=Open", `status: &#34;Open&#34; is not a ticket status (lower-case letters, digits and &#39;_&#39;)`},
		{"sla=" + testSLA + "&breached=yes", `breached: &#34;yes&#34; is not true or empty`},
		{"sla=" + testSLA + "&bookmark=a+b", "bookmark: not a ticket id"},
	} {
		code, _, body = c.get("/tickets?" + tt.query)
		wantPage(t, tt.query, code, http.StatusBadRequest, body, tt.want)
	}
	c.fake.tickets.pages = nil
	code, _, body = c.get("/tickets?sla=" + testSLA)
	wantPage(t, "ListTickets failing", code, http.StatusBadGateway, body, "ticket.ListTickets: no more pages")

	// The detail of an in-progress ticket: the vendor may resolve it.
	c.fake.tickets.views = []string{testView(testRecord, testClock)}
	code, _, body = c.get("/tickets/" + testSLA + "/TT-1")
	wantPage(t, "ticket", code, http.StatusOK, body,
		`data-sla="telecom-tier1-2026" data-ticket="TT-1"`, "core router down\nsince 08:55", "in_progress", "critical",
		`<tr class="breached">`, "breached (margin -5m30s), penalty 50.00 EUR", `<span class="countdown" data-remaining-ms="10799623">2h59m59.623s</span>`,
		`action="/tickets/telecom-tier1-2026/TT-1/resolve"`, "line card swapped\nwatching", "AcknowledgeTicket", "provider, vendor")
	for _, no := range []string{"/ack\"", "/close\"", "/reopen\""} {
		if strings.Contains(body, no) {
			t.Errorf("the vendor's in-progress ticket offers %s", no)
		}
	}
	code, _, body = c.get("/tickets/" + testSLA + "/TT%201")
	wantPage(t, "bad ticket id", code, http.StatusBadRequest, body, `TICKET: &#34;TT 1&#34; is not 1..64 letters`)

	// A resolved ticket: the client may close or reopen it, not resolve it.
	cc := newConsoleTest(t, roleClient, "")
	cc.fake.tickets.views = []string{testView(ticketRecordWith("resolved", ""), "")}
	cc.signIn()
	code, _, body = cc.get("/tickets/" + testSLA + "/TT-1")
	wantPage(t, "resolved ticket", code, http.StatusOK, body, "/TT-1/close\"", "/TT-1/reopen\"", "Reason (required)", "met (margin 3h)")
	if strings.Contains(body, "/resolve\"") || strings.Contains(body, "/ack\"") {
		t.Errorf("the client is offered a vendor's action:\n%s", body)
	}
}

func TestConsoleTicketActions(t *testing.T) {
	c := newConsoleTest(t, roleVendor, "")
	c.fake.tickets.views = []string{testView(testRecord, testClock)}
	csrf := c.signIn()
	path := "/tickets/" + testSLA + "/TT-1/"

	// Refused before anything is submitted.
	refusals := []struct {
		action string
		form   url.Values
		code   int
		want   string
	}{
		{"resolve", url.Values{"note": {"fixed"}}, http.StatusForbidden, "CSRF token is missing or wrong: nothing was submitted"},
		{"resolve", url.Values{"csrf": {csrf + "x"}, "note": {"fixed"}}, http.StatusForbidden, "CSRF token is missing or wrong: nothing was submitted"},
		{"close", url.Values{"csrf": {csrf}}, http.StatusForbidden, "The vendor role may not close a ticket (client, provider may): nothing was submitted."},
		{"reopen", url.Values{"csrf": {csrf}, "reason": {"no"}}, http.StatusForbidden, "The vendor role may not reopen a ticket"},
		{"delete", url.Values{"csrf": {csrf}}, http.StatusNotFound, "&#34;delete&#34; is not a ticket action (ack, resume, resolve, close, reopen)"},
		{"resolve", url.Values{"csrf": {csrf}, "note": {strings.Repeat("n", 1025)}}, http.StatusBadRequest, "note: 1025 bytes, more than 1024: nothing was submitted."},
		{"resolve", url.Values{"csrf": {csrf}, "note": {"a\x00b"}}, http.StatusBadRequest, "note: must be UTF-8 text without NUL: nothing was submitted."},
	}
	for _, tt := range refusals {
		code, _, body := c.post(path+tt.action, tt.form)
		wantPage(t, tt.action, code, tt.code, body, tt.want)
	}
	code, _, body := c.post("/tickets/"+testSLA+"/TT%201/resolve", url.Values{"csrf": {csrf}})
	wantPage(t, "bad ticket id", code, http.StatusBadRequest, body, `TICKET: &#34;TT 1&#34;`)
	if len(c.fake.tickets.submits) != 0 {
		t.Fatalf("refusals submitted %v", c.fake.tickets.submits)
	}

	// Resolve: the same transaction as slasa ticket resolve.
	code, loc, body := c.post(path+"resolve", url.Values{"csrf": {csrf}, "note": {"line card replaced"}})
	if code != http.StatusSeeOther || loc != "/tickets/"+testSLA+"/TT-1?done=resolve&tx=tx1" {
		t.Fatalf("resolve: %d %q\n%s", code, loc, body)
	}
	want := []fakeSubmit{{CC: "ticket", Fn: "ResolveTicket", Args: []string{testSLA, "TT-1"},
		Transient: map[string]string{"ticket": testRecord, "input": `{"note":"line card replaced"}`}, Orgs: []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}}}
	if got, w := mustJSON(t, c.fake.tickets.submits), mustJSON(t, want); string(got) != string(w) {
		t.Errorf("submitted\n%s\nwant\n%s", got, w)
	}

	// The chaincode's refusal is shown with the ticket.
	c.fake.tickets.submits = nil
	c.fake.tickets.submitErrs = []error{errors.New("chaincode response 500, ticket TT-1 is in_progress: only an acknowledged ticket may be resolved")}
	code, _, body = c.post(path+"resolve", url.Values{"csrf": {csrf}})
	wantPage(t, "refused by the chaincode", code, http.StatusConflict, body, "ticket.ResolveTicket", "only an acknowledged ticket may be resolved", `data-ticket="TT-1"`)

	// The client: reopen needs a reason; close goes through.
	cc := newConsoleTest(t, roleClient, "")
	resolved := testView(ticketRecordWith("resolved", ""), "")
	cc.fake.tickets.views = []string{resolved}
	csrf = cc.signIn()
	code, _, body = cc.post(path+"reopen", url.Values{"csrf": {csrf}, "reason": {""}})
	wantPage(t, "reopen without a reason", code, http.StatusBadRequest, body, "reason is required: nothing was submitted.")
	code, _, body = cc.post(path+"resolve", url.Values{"csrf": {csrf}})
	wantPage(t, "client resolves", code, http.StatusForbidden, body, "The client role may not resolve a ticket (vendor may)")
	if len(cc.fake.tickets.submits) != 0 {
		t.Fatalf("refusals submitted %v", cc.fake.tickets.submits)
	}
	code, _, body = cc.post(path+"reopen", url.Values{"csrf": {csrf}, "reason": {"still down"}})
	if code != http.StatusSeeOther || len(cc.fake.tickets.submits) != 1 || cc.fake.tickets.submits[0].Fn != "ReopenTicket" ||
		cc.fake.tickets.submits[0].Transient["input"] != `{"reason":"still down"}` {
		t.Fatalf("reopen: %d %+v\n%s", code, cc.fake.tickets.submits, body)
	}
	code, _, _ = cc.post(path+"close", url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || len(cc.fake.tickets.submits) != 2 || cc.fake.tickets.submits[1].Fn != "CloseTicket" {
		t.Fatalf("close: %d %+v", code, cc.fake.tickets.submits)
	}
	// The notice after the redirect names the transaction.
	tx := strings.Repeat("ab", 32)
	code, _, body = cc.get("/tickets/" + testSLA + "/TT-1?done=close&tx=" + tx)
	wantPage(t, "notice", code, http.StatusOK, body, "Ticket closed: transaction CloseTicket committed (tx "+tx+").")
	code, _, body = cc.get("/tickets/" + testSLA + "/TT-1?done=close&tx=%3Cb%3E")
	if code != http.StatusOK || strings.Contains(body, "committed") {
		t.Errorf("a notice for a tx id that is none:\n%s", body)
	}
}

func TestConsoleWallet(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.fake.withHistory("client", billClient, clientHistory(), 100)
	c.fake.set(historyPage{Wallet: "client", Entries: clientHistory()[:2], Bookmark: "bm-2"}, "refund", "History", "client", "50", "")
	c.fake.set(historyPage{Wallet: "client", Entries: clientHistory()[2:]}, "refund", "History", "client", "50", "bm-2")
	cn := identity.CommonName(clientDN)
	c.fake.set(map[string]any{"records": []any{map[string]any{"id": billSLA, "parties": map[string]any{"client": billClient}}}}, "agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "100", "")
	c.fake.set(slaView(t, billProvider, billClient), "agreement", "GetSLA", billSLA)
	c.signIn()
	code, _, body := c.get("/wallet")
	wantPage(t, "wallet", code, http.StatusOK, body, "<dd>client</dd>", `<dd class="balance">832500 (8325.00)</dd>`, "escrow_deposit", "-100000", "tx-accept",
		// The minting issuer by MSP and common name, its whole name in the title.
		`<td title="ProviderOrgMSP/CN=issuer@providerorg.slasa.local,OU=admin (issuer CN=ca.providerorg.slasa.local,O=providerorg.slasa.local)">ProviderOrgMSP/issuer@providerorg.slasa.local</td>`,
		`<td title="escrow">escrow</td>`,
		`<a href="/wallet?bookmark=bm-2">Next page</a>`)
	code, _, body = c.get("/wallet?bookmark=bm-2")
	wantPage(t, "wallet page 2", code, http.StatusOK, body, "service_credit", "pending", `<a href="/wallet">First page</a>`)
	if n := c.fake.calls[fakeKey("agreement", "ListSLAs", "client", "ClientOrgMSP", cn, "100", "")]; n != 1 {
		t.Errorf("the wallet was looked up %d times, want once", n)
	}

	v := newConsoleTest(t, roleVendor, "")
	v.signIn()
	code, _, body = v.get("/wallet")
	wantPage(t, "vendor without a wallet", code, http.StatusNotFound, body, "No wallet is configured for this user")
	if n := v.fake.evaluations(); n != 0 {
		t.Errorf("vendor: %d reads", n)
	}
}

func TestConsoleEvents(t *testing.T) {
	c := newConsoleTest(t, roleProvider, "")
	c.signIn()
	code, _, body := c.get("/events")
	wantPage(t, "events", code, http.StatusOK, body, `data-stream="/events/stream"`, "agreement, refund, ticket")

	resp, err := c.browser.Get(c.ts.URL + "/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c.fake.tickets.events <- &client.ChaincodeEvent{BlockNumber: 42, TransactionID: "tx42", ChaincodeName: "ticket", EventName: "TicketResolved",
		Payload: []byte(`{"sla_id":"` + testSLA + `","ticket_id":"TT-1","seq":7}`)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended: %v", got)
			}
			if strings.HasPrefix(l, "event:") || strings.HasPrefix(l, "data:") {
				got = append(got, l)
			}
		case <-timeout:
			t.Fatalf("no event in 10s: %v", got)
		}
	}
	want := fmt.Sprintf(`data: {"chaincode":"ticket","event":"TicketResolved","block":42,"tx_id":"tx42","line":"block 42  ticket.TicketResolved  sla_id=%s seq=7  tx tx42","sla_id":"%s","ticket_id":"TT-1"}`, testSLA, testSLA)
	if got[0] != "event: chaincode" || got[1] != want {
		t.Errorf("stream sent\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// signedConsoleSLA is consoleSLAView with its parties' certificates issued by two test CAs and both
// signatures over the document's digest.
func signedConsoleSLA(t *testing.T) map[string]any {
	t.Helper()
	v := consoleSLAView(t)
	rec := v["signed"].(signedsla.Record)
	var d map[string]any
	if err := json.Unmarshal(rec.Document, &d); err != nil {
		t.Fatal(err)
	}
	prov := fabricfake.MustNewCA("ProviderOrgMSP").MustIssue("provider@providerorg.slasa.local", "client")
	cli := fabricfake.MustNewCA("ClientOrgMSP").MustIssue("client@clientorg.slasa.local", "client")
	parties := d["parties"].(map[string]any)
	for role, who := range map[string]*fabricfake.Identity{"provider": prov, "client": cli} {
		id := identity.FromCert(who.MSPID, who.Cert)
		p := parties[role].(map[string]any)
		p["msp_id"], p["subject"], p["issuer"] = id.MSPID, id.Subject, id.Issuer
	}
	doc, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	dg, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := signedsla.Sign(dg, prov.Key)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := signedsla.Sign(dg, cli.Key)
	if err != nil {
		t.Fatal(err)
	}
	v["signed"] = signedsla.Record{Version: signedsla.Version, Document: doc, Digest: hex.EncodeToString(dg[:]),
		Provider: signedsla.Signature{MSPID: prov.MSPID, Certificate: string(prov.CertPEM), Signature: ps},
		Client:   signedsla.Signature{MSPID: cli.MSPID, Certificate: string(cli.CertPEM), Signature: cs}}
	v["digest"] = hex.EncodeToString(dg[:])
	return v
}

// TestConsoleSLASignatures: the SLA page verifies the signed record offline as slasa sla verify does.
func TestConsoleSLASignatures(t *testing.T) {
	c := newConsoleTest(t, roleProvider, "")
	c.signIn()
	view := signedConsoleSLA(t)
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	for _, p := range []string{testP0, testP1} {
		c.fake.set(escrowOf(p, p, "tx-d", nil, "", 0), "refund", "GetEscrow", billSLA, p)
	}
	code, _, body := c.get("/slas/" + billSLA)
	wantPage(t, "signed SLA", code, http.StatusOK, body, `<dd id="signatures" class="sig-valid">valid: the provider&#39;s and the client&#39;s signatures over the digest recomputed from the document, by the SLA&#39;s parties; the certificates are not chained to MSP root CAs (the signed-in identity has no run folder)</dd>`)

	// The client's signature made with another key: invalid, in red.
	rec := view["signed"].(signedsla.Record)
	other := fabricfake.MustNewCA("ClientOrgMSP").MustIssue("client@clientorg.slasa.local", "client")
	dg, _ := hex.DecodeString(rec.Digest)
	if rec.Client.Signature, _ = signedsla.Sign([32]byte(dg), other.Key); rec.Client.Signature == nil {
		t.Fatal("sign")
	}
	view["signed"] = rec
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	code, _, body = c.get("/slas/" + billSLA)
	wantPage(t, "forged signature", code, http.StatusOK, body, `<dd id="signatures" class="sig-invalid">SLA demo-sla: the signed record does NOT verify: client: verify signature of &#34;client@clientorg.slasa.local&#34;: signature does not verify with the certificate&#39;s public key</dd>`)

	// A proposal the client has not signed.
	rec.Client = signedsla.Signature{}
	view["signed"], view["status"] = rec, "PROPOSED"
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	code, _, body = c.get("/slas/" + billSLA)
	wantPage(t, "unsigned", code, http.StatusOK, body, `<dd id="signatures" class="sig-unsigned">the client has not signed it yet</dd>`)
}
