package cli

// A recorded-fixture ledger for the console's benchmark and scan test:
// fixtureLedger answers the chaincode queries the console's pages evaluate
// (agreement ListSLAs and GetSLA, refund GetEscrow, GetSLAScore, BalanceOf
// and History, ticket ListTickets, GetTicket and GetTicketHistory) from a generated
// ledger of many SLAs and tickets, with the chaincodes' own answer types
// (agreement.Page, agreement.SLAView, refund.Escrow, refund.Account,
// refund.HistoryPage, ticket.Page, ticket.TicketView) and their page size
// limits and bookmarks: ListSLAs' bookmark is the next composite key of the
// sla-by-party index (as the peer's state database returns it), ListTickets'
// the next ticket id, History's the next entry key. It counts the calls and
// the rows each call returned (GetSLAScore: the score entries it summed).
// The console reads the rows of a page concurrently: Evaluate holds a lock.

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// fixtureSize is the size of a generated ledger.
type fixtureSize struct {
	SLAs, Tickets int
}

// The sizes of the issue's benchmark and a smaller one the scan test
// compares it with.
var (
	fixtureFull  = fixtureSize{SLAs: 1000, Tickets: 10000}
	fixtureSmall = fixtureSize{SLAs: 200, Tickets: 2000}
)

// fixtureNow is the console's clock on the fixture: inside every SLA's
// validity window.
var fixtureNow = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// fixtureMaxPeriods bounds the paid periods of a fixture SLA.
const fixtureMaxPeriods = 30

// fixtureStart is the start of every SLA's validity (hourly periods).
const fixtureStart = "2026-12-01T00:00:00Z"

// keyByParty is the agreement chaincode's index of SLAs by party
// (agreement's keyByParty, unexported there): role, MSP ID, common name, id.
const keyByParty = "sla-by-party"

// compositeKey is shim.CreateCompositeKey.
func compositeKey(objectType string, attrs ...string) string {
	k := "\x00" + objectType + "\x00"
	for _, a := range attrs {
		k += a + "\x00"
	}
	return k
}

// fixtureTicket is a ticket as GetTicket and ListTickets return it; its
// Ticket.Orgs are the organizations whose collections hold it.
type fixtureTicket struct {
	view ticket.TicketView
}

// fixtureLedger is a consoleLedger over a generated ledger; the caller is
// the signed-in identity.
type fixtureLedger struct {
	caller identity.ID
	// slas are GetSLA's answers by id.
	slas map[string]*agreement.SLAView
	// index holds the sorted sla-by-party keys; indexID their SLA ids.
	index   []string
	indexID map[string]string
	escrows map[string]*refund.Escrow // sla id + "\x00" + period
	// tickets are each SLA's tickets in id order.
	tickets map[string][]fixtureTicket
	// accounts and entries are the wallets (entries by key, keys sorted).
	accounts   map[string]refund.Account
	entryKeys  map[string][]string
	entries    map[string]refund.Entry
	walletName string
	// summaries are the providers' reputation checkpoints: every settled
	// period compacted (the fixture's periods ended days before its now).
	summaries map[string]*refund.ReputationSummary

	// The signed-in party's SLAs (provider role), the SLA with the most
	// periods, with about ten tickets, and with the most tickets.
	mine                             []string
	mostPeriods, tenTickets, busiest string

	mu    sync.Mutex
	calls int
	rows  int
}

func (f *fixtureLedger) MSPID() string         { return f.caller.MSPID }
func (f *fixtureLedger) Network() *fabnet.Info { return nil }
func (f *fixtureLedger) Close()                {}
func (f *fixtureLedger) Caller() identity.ID   { return f.caller }

func (f *fixtureLedger) Submit(context.Context, string, string, []string, map[string][]byte, []string) (string, error) {
	return "", errors.New("fixture ledger: read-only")
}

func (f *fixtureLedger) Events(ctx context.Context, _ string, _ int64) (<-chan *client.ChaincodeEvent, error) {
	ch := make(chan *client.ChaincodeEvent)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

// reset clears the counters.
func (f *fixtureLedger) reset() { f.calls, f.rows = 0, 0 }

// Evaluate answers the chaincode queries as the chaincodes do, counting
// the call and the rows returned.
func (f *fixtureLedger) Evaluate(_ context.Context, cc, fn string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var out any
	var n int
	var err error
	switch cc + "." + fn {
	case "agreement.ListSLAs":
		out, n, err = f.listSLAs(args)
	case "agreement.GetSLA":
		out, n, err = f.getSLA(args)
	case "refund.GetEscrow":
		out, n, err = f.getEscrow(args)
	case "refund.GetSLAScore":
		out, n, err = f.getSLAScore(args)
	case "refund.BalanceOf":
		out, n, err = f.balanceOf(args)
	case "refund.GetReputationSummary":
		out, n, err = f.reputationSummary(args)
	case "refund.History":
		if err = wantArgs("History", args, 3); err == nil {
			out, n, err = f.history(args[0], "", args[1], args[2])
		}
	case "refund.HistoryFrom":
		if err = wantArgs("HistoryFrom", args, 4); err == nil {
			var from time.Time
			if from, err = time.Parse(time.RFC3339Nano, args[1]); err != nil {
				err = fmt.Errorf("from: %q is not an RFC 3339 time", args[1])
			} else {
				out, n, err = f.history(args[0], fmt.Sprintf("%020d", from.UnixNano()), args[2], args[3])
			}
		}
	case "ticket.ListTickets":
		out, n, err = f.listTickets(args)
	case "ticket.GetTicket":
		out, n, err = f.getTicket(args)
	case "ticket.GetTicketHistory":
		var v *ticket.TicketView
		if v, err = f.ticketOf(args); err == nil {
			out, n = v.Record.Timeline, len(v.Record.Timeline)
		}
	default:
		return nil, fmt.Errorf("fixture ledger: %s.%s is not a query the console's pages evaluate", cc, fn)
	}
	if err != nil {
		return nil, fmt.Errorf("chaincode response 500, %w", err)
	}
	f.rows += n
	return json.Marshal(out)
}

func wantArgs(fn string, args []string, n int) error {
	if len(args) != n {
		return fmt.Errorf("%s: %d arguments, want %d", fn, len(args), n)
	}
	return nil
}

// pageSizeOf is agreement's and ticket's parsePageSize: 1..100.
func pageSizeOf(text string) (int, error) {
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n < 1 || n > agreement.MaxPageSize {
		return 0, fmt.Errorf("pageSize: %q is not an integer in 1..%d", text, agreement.MaxPageSize)
	}
	return int(n), nil
}

// listSLAs is agreement ListSLAs: a paginated range over the sla-by-party
// index, the bookmark the next key ("" after the last).
func (f *fixtureLedger) listSLAs(args []string) (any, int, error) {
	if err := wantArgs("ListSLAs", args, 5); err != nil {
		return nil, 0, err
	}
	role, msp, cn, size, bookmark := args[0], args[1], args[2], args[3], args[4]
	if msp != f.caller.MSPID {
		return nil, 0, fmt.Errorf("mspID: %q is not the caller's MSP %q; list your own organization's SLAs", msp, f.caller.MSPID)
	}
	if role != "provider" && role != "client" {
		return nil, 0, fmt.Errorf("role: %q is not provider or client", role)
	}
	n, err := pageSizeOf(size)
	if err != nil {
		return nil, 0, err
	}
	attrs := []string{role, msp}
	if cn != "" {
		attrs = append(attrs, cn)
	}
	start := compositeKey(keyByParty, attrs...)
	end := start + "\U0010FFFF"
	from := start
	if bookmark != "" {
		if bookmark < start || bookmark >= end {
			return nil, 0, fmt.Errorf("list SLAs: bookmark %q is outside the range", bookmark)
		}
		from = bookmark
	}
	page := agreement.Page[agreement.Agreement]{Records: []agreement.Agreement{}}
	for _, k := range f.index[sort.SearchStrings(f.index, from):] {
		if k >= end {
			break
		}
		if len(page.Records) == n {
			page.Bookmark = k
			break
		}
		page.Records = append(page.Records, f.slas[f.indexID[k]].Agreement)
	}
	page.Fetched = int32(len(page.Records))
	return page, len(page.Records), nil
}

// readableSLA is the agreement chaincode's readable check.
func (f *fixtureLedger) readableSLA(id string) (*agreement.SLAView, error) {
	v, ok := f.slas[id]
	if !ok {
		return nil, fmt.Errorf("SLA %q does not exist", id)
	}
	p, c := v.Parties.Provider.MSPID, v.Parties.Client.MSPID
	if f.caller.MSPID != p && f.caller.MSPID != c {
		return nil, fmt.Errorf("SLA %q is readable by %s and %s only, not by %s", id, p, c, f.caller.MSPID)
	}
	return v, nil
}

func (f *fixtureLedger) getSLA(args []string) (any, int, error) {
	if err := wantArgs("GetSLA", args, 1); err != nil {
		return nil, 0, err
	}
	v, err := f.readableSLA(args[0])
	return v, 1, err
}

func (f *fixtureLedger) getEscrow(args []string) (any, int, error) {
	if err := wantArgs("GetEscrow", args, 2); err != nil {
		return nil, 0, err
	}
	e, ok := f.escrows[args[0]+"\x00"+args[1]]
	if !ok {
		return nil, 0, fmt.Errorf("period: no escrow of SLA %q for period %q", args[0], args[1])
	}
	if f.caller.MSPID != e.Payer.MSPID && f.caller.MSPID != e.Provider.MSPID {
		return nil, 0, fmt.Errorf("escrow of SLA %q is readable by %s and %s only, not by %s", args[0], e.Provider.MSPID, e.Payer.MSPID, f.caller.MSPID)
	}
	return e, 1, nil
}

// getSLAScore is refund GetSLAScore: the SLA's parties are read as agreement
// GetParties reads them (readableSLA), the provider must be its provider;
// one page of the settled periods of (provider, product, SLA) in period
// order (their months: the fixture's periods are in order), "" or "0" for refund.DefaultScorePage, at most
// refund.MaxScorePage; the bookmark is the next period's score key.
func (f *fixtureLedger) getSLAScore(args []string) (any, int, error) {
	if err := wantArgs("GetSLAScore", args, 5); err != nil {
		return nil, 0, err
	}
	provider, product, id, size, bookmark := args[0], args[1], args[2], args[3], args[4]
	if provider == "" || product == "" || id == "" {
		return nil, 0, errors.New("GetSLAScore: an empty argument")
	}
	v, err := f.readableSLA(id)
	if err != nil {
		return nil, 0, fmt.Errorf("read the parties of SLA %q: agreement GetParties: %w", id, err)
	}
	if provider != v.Parties.Provider.MSPID {
		return nil, 0, fmt.Errorf("providerMSP: %s is not the provider organization %s of SLA %q", provider, v.Parties.Provider.MSPID, id)
	}
	n := int64(refund.DefaultScorePage)
	if size != "" && size != "0" {
		if n, err = strconv.ParseInt(size, 10, 32); err != nil || n < 0 || n > refund.MaxScorePage {
			return nil, 0, fmt.Errorf("pageSize: %q is not a page size (0 for %d, at most %d)", size, refund.DefaultScorePage, refund.MaxScorePage)
		}
	}
	prefix := compositeKey("rep", provider, product, id)
	if bookmark != "" && !strings.HasPrefix(bookmark, prefix) {
		return nil, 0, fmt.Errorf("bookmark: %q is not a bookmark of the reputation of %s/%s/%s", bookmark, provider, product, id)
	}
	sc := refund.Score{Provider: provider, ProductID: product, SLAID: id, Months: []refund.MonthScore{}}
	start, _ := time.Parse(time.RFC3339, fixtureStart)
	rows := 0
	for p := int64(0); p < v.PaidPeriods; p++ {
		period := start.Add(time.Duration(p) * time.Hour).Format(time.RFC3339)
		e := f.escrows[id+"\x00"+period]
		k := prefix + period + "\x00"
		if e == nil || e.Settlement == nil || e.ProductID != product || k < bookmark {
			continue
		}
		if int64(rows) == n {
			sc.Bookmark = k
			break
		}
		rows++
		entry := refund.ScoreEntry{SLAID: id, Period: period, Violated: e.Settlement.Violated, Credit: e.Settlement.Credit, PenaltyPaid: e.Settlement.PenaltyPaid}
		if err := sc.AddEntry(entry); err != nil {
			return nil, 0, err
		}
	}
	return sc, rows, nil
}

// wallet is refund's viewable check (owner only: the caller is no admin).
func (f *fixtureLedger) wallet(id string) (refund.Account, error) {
	a, ok := f.accounts[id]
	if !ok {
		return a, fmt.Errorf("wallet %q does not exist", id)
	}
	if a.Owner != f.caller {
		return a, fmt.Errorf("wallet %q is readable by its owner %s or an admin of the issuer only, not by %s", id, a.Owner, f.caller)
	}
	return a, nil
}

func (f *fixtureLedger) balanceOf(args []string) (any, int, error) {
	if err := wantArgs("BalanceOf", args, 1); err != nil {
		return nil, 0, err
	}
	a, err := f.wallet(args[0])
	return a, 1, err
}

// history is refund History (from "") or HistoryFrom (from the 20-digit
// nanoseconds of its time) over the wallet's entries (the fixture's
// wallets have no pending credits): "" or "0" for refund.DefaultPageSize,
// at most refund.MaxPageSize; the bookmark is the next entry key, or the
// start of the credits' range when the entries end exactly at a full page.
func (f *fixtureLedger) history(account, from, size, bookmark string) (any, int, error) {
	if _, err := f.wallet(account); err != nil {
		return nil, 0, err
	}
	n := int64(refund.DefaultPageSize)
	if size != "" && size != "0" {
		var err error
		if n, err = strconv.ParseInt(size, 10, 32); err != nil || n < 0 || n > refund.MaxPageSize {
			return nil, 0, fmt.Errorf("pageSize: %q is not a page size (0 for %d, at most %d)", size, refund.DefaultPageSize, refund.MaxPageSize)
		}
	}
	eStart, eEnd := "entry/"+account+"/"+from, "entry/"+account+"0"
	cStart, cEnd := "delta/"+account+"/"+from, "delta/"+account+"0"
	if bookmark != "" && !(bookmark >= eStart && bookmark < eEnd) && !(bookmark >= cStart && bookmark < cEnd) {
		return nil, 0, fmt.Errorf("bookmark: %q is not a bookmark of the history of wallet %q", bookmark, account)
	}
	page := refund.HistoryPage{Wallet: account, Entries: []refund.Entry{}}
	if bookmark == "" || bookmark < eEnd {
		keys := f.entryKeys[account]
		from := eStart
		if bookmark != "" {
			from = bookmark
		}
		for _, k := range keys[sort.SearchStrings(keys, from):] {
			if int64(len(page.Entries)) == n {
				page.Bookmark = k
				return page, len(page.Entries), nil
			}
			page.Entries = append(page.Entries, f.entries[k])
		}
		if int64(len(page.Entries)) == n {
			page.Bookmark = cStart
		}
	}
	return page, len(page.Entries), nil
}

// reputationSummary is refund GetReputationSummary: the provider's
// checkpoint (every settled period of the fixture), no period after it.
func (f *fixtureLedger) reputationSummary(args []string) (any, int, error) {
	if err := wantArgs("GetReputationSummary", args, 3); err != nil {
		return nil, 0, err
	}
	if args[2] != "" {
		return nil, 0, fmt.Errorf("bookmark: %q is not a bookmark of the reputation of %s", args[2], args[0])
	}
	sum, ok := f.summaries[args[0]]
	if !ok {
		return refund.ReputationSummary{Score: refund.Score{Provider: args[0], Months: []refund.MonthScore{}}, Products: []refund.ProductTally{}}, 1, nil
	}
	return sum, 1, nil
}

// listTickets is ticket ListTickets: the SLA's tickets in the caller's
// organization's collection from the bookmark's ticket id on, filtered,
// the bookmark the id after a full page.
func (f *fixtureLedger) listTickets(args []string) (any, int, error) {
	if err := wantArgs("ListTickets", args, 5); err != nil {
		return nil, 0, err
	}
	slaID, status, breached, size, bookmark := args[0], args[1], args[2], args[3], args[4]
	if slaID == "" {
		return nil, 0, errors.New("slaID: must not be empty")
	}
	if status != "" && !ticketStatusPattern.MatchString(status) {
		return nil, 0, fmt.Errorf("status: %q is not a ticket status", status)
	}
	if breached != "" && breached != "true" && breached != "false" {
		return nil, 0, fmt.Errorf("breached: %q is not true, false or empty", breached)
	}
	n, err := pageSizeOf(size)
	if err != nil {
		return nil, 0, err
	}
	if bookmark != "" && !ticketIDPattern.MatchString(bookmark) {
		return nil, 0, fmt.Errorf("bookmark: %q is not a ticket id", bookmark)
	}
	page := ticket.Page{Records: []ticket.TicketView{}}
	for _, t := range f.tickets[slaID] {
		if !slices.Contains(t.view.Ticket.Orgs, f.caller.MSPID) || t.view.Ticket.ID < bookmark {
			continue
		}
		if len(page.Records) == n {
			page.Bookmark = t.view.Ticket.ID
			break
		}
		if (status != "" && t.view.Record.Status != status) || (breached != "" && t.view.Breached != (breached == "true")) {
			continue
		}
		page.Records = append(page.Records, t.view)
	}
	return page, len(page.Records), nil
}

func (f *fixtureLedger) ticketOf(args []string) (*ticket.TicketView, error) {
	if err := wantArgs("GetTicket", args, 2); err != nil {
		return nil, err
	}
	ts := f.tickets[args[0]]
	i, ok := slices.BinarySearchFunc(ts, args[1], func(t fixtureTicket, id string) int { return strings.Compare(t.view.Ticket.ID, id) })
	if !ok {
		return nil, fmt.Errorf("ticket %q of SLA %q does not exist", args[1], args[0])
	}
	v := &ts[i].view
	if !slices.Contains(v.Ticket.Orgs, f.caller.MSPID) {
		return nil, fmt.Errorf("ticket %q of SLA %q is readable by %s only, not by %s", args[1], args[0], strings.Join(v.Ticket.Orgs, ", "), f.caller.MSPID)
	}
	return v, nil
}

func (f *fixtureLedger) getTicket(args []string) (any, int, error) {
	v, err := f.ticketOf(args)
	return v, 1, err
}

// fixtureParty is an identity of the fixture with its key.
type fixtureParty struct {
	who *fabricfake.Identity
	id  identity.ID
	cn  string
}

func newFixtureParty(ca *fabricfake.CA, cn string) fixtureParty {
	who := ca.MustIssue(cn, "client")
	return fixtureParty{who: who, id: identity.FromCert(who.MSPID, who.Cert), cn: cn}
}

func (p fixtureParty) ref() agreement.PartyRef {
	return agreement.PartyRef{MSPID: p.id.MSPID, CommonName: p.cn, Subject: p.id.Subject, Issuer: p.id.Issuer}
}

func (p fixtureParty) party(wallet string) sla.Party {
	return sla.Party{MSPID: p.id.MSPID, CommonName: p.cn, Subject: p.id.Subject, Issuer: p.id.Issuer, Wallet: wallet}
}

// newFixtureLedger generates a ledger of size: the signed-in identity
// (a provider of ProviderOrgMSP) is the provider of six SLAs in ten, a
// colleague of its organization of two, another organization's provider of
// the rest (unreadable to the signed-in organization); the clients are
// identities of two organizations. One SLA in twenty is a proposal the
// client has not signed, one in twenty terminated; the others paid 1..30
// hourly periods into escrow, every period but the last settled with a
// verdict. The tickets: a fifth of them on the busiest SLA, ten on another,
// the rest spread over the signed-in party's SLAs, in seven statuses, one
// in four breached.
func newFixtureLedger(tb testing.TB, size fixtureSize) *fixtureLedger {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "demo", "sla.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(raw, &base); err != nil {
		tb.Fatal(err)
	}
	provCA, otherCA := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("OtherProviderMSP")
	clientCA, client2CA := fabricfake.MustNewCA("ClientOrgMSP"), fabricfake.MustNewCA("Client2OrgMSP")
	me := newFixtureParty(provCA, "provider@providerorg.slasa.local")
	colleague := newFixtureParty(provCA, "ops@providerorg.slasa.local")
	other := newFixtureParty(otherCA, "provider@otherprovider.slasa.local")
	logger := newFixtureParty(provCA, "logger@providerorg.slasa.local")
	clients := []fixtureParty{newFixtureParty(clientCA, "client@clientorg.slasa.local"), newFixtureParty(clientCA, "buyer@clientorg.slasa.local"),
		newFixtureParty(client2CA, "client@client2org.slasa.local")}
	vendorOrg := "VendorOrgMSP"

	f := &fixtureLedger{caller: me.id, slas: map[string]*agreement.SLAView{}, indexID: map[string]string{}, escrows: map[string]*refund.Escrow{},
		tickets: map[string][]fixtureTicket{}, accounts: map[string]refund.Account{}, entryKeys: map[string][]string{}, entries: map[string]refund.Entry{},
		walletName: "provider-main"}
	start, _ := time.Parse(time.RFC3339, fixtureStart)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	var entryKeys []string
	for i := 0; i < size.SLAs; i++ {
		id := fmt.Sprintf("sla-%05d", i)
		prov := me
		switch i % 10 {
		case 6, 7:
			prov = colleague
		case 8, 9:
			prov = other
		}
		cli := clients[i%len(clients)]
		provWallet := "provider-main"
		if prov.id != me.id {
			provWallet = "wallet." + strings.ReplaceAll(prov.cn, "@", ".")
		}
		d := map[string]any{}
		for k, v := range base {
			d[k] = v
		}
		d["id"], d["nonce"] = id, fmt.Sprintf("%032x", i)
		d["service"] = map[string]any{"product_id": fmt.Sprintf("product-%d", i%7), "name": "Service " + id, "description": "generated for the console benchmark"}
		d["parties"] = map[string]any{"provider": prov.party(provWallet), "client": cli.party("wallet." + strings.ReplaceAll(cli.cn, "@", ".")), "logger": logger.party("")}
		d["validity"] = map[string]string{"start": fixtureStart, "end": "2027-12-01T00:00:00Z"}
		iv := map[string]any{}
		for k, v := range base["interval"].(map[string]any) {
			iv[k] = v
		}
		iv["billing_cycle"] = map[string]any{"unit": sla.CycleHour}
		d["interval"] = iv
		doc, err := json.Marshal(d)
		if err != nil {
			tb.Fatal(err)
		}
		dg, _, err := sla.DigestOf(doc)
		if err != nil {
			tb.Fatalf("SLA %s: %v", id, err)
		}
		digest := hex.EncodeToString(dg[:])
		provSig, err := signedsla.Sign(dg, prov.who.Key)
		if err != nil {
			tb.Fatal(err)
		}
		a := agreement.Agreement{ID: id, Status: "ACTIVE", Digest: digest,
			Parties:       agreement.Parties{Provider: prov.ref(), Client: cli.ref(), Logger: logger.ref()},
			ValidityStart: fixtureStart, ValidityEnd: "2027-12-01T00:00:00Z", ProposedAt: ts(start.Add(-time.Hour)),
			Signatures: agreement.Signatures{Provider: signedsla.Signature{MSPID: prov.id.MSPID, Certificate: string(prov.who.CertPEM), Signature: provSig}}}
		paid := int64(0)
		if i%20 != 0 {
			cliSig, err := signedsla.Sign(dg, cli.who.Key)
			if err != nil {
				tb.Fatal(err)
			}
			a.Signatures.Client = signedsla.Signature{MSPID: cli.id.MSPID, Certificate: string(cli.who.CertPEM), Signature: cliSig}
			a.AcceptedAt = fixtureStart
			paid = 1 + int64(i%fixtureMaxPeriods)
			last := start.Add(time.Duration(paid-1) * time.Hour)
			a.LastPeriod, a.PaidThrough, a.PaidPeriods = ts(last), ts(last.Add(time.Hour)), paid
			if i%20 == 1 {
				a.Status, a.TerminatedAt, a.TerminatedAs, a.Reason, a.EndsAt = "TERMINATED", ts(last), "client", "generated", ts(last.Add(time.Hour))
			}
		} else {
			a.Status = "PROPOSED"
		}
		view := &agreement.SLAView{Agreement: a, Signed: signedsla.Record{Version: signedsla.Version, Document: doc, Digest: digest,
			Provider: a.Signatures.Provider, Client: a.Signatures.Client}}
		f.slas[id] = view
		for _, k := range []string{compositeKey(keyByParty, "provider", prov.id.MSPID, prov.cn, id), compositeKey(keyByParty, "client", cli.id.MSPID, cli.cn, id)} {
			f.index = append(f.index, k)
			f.indexID[k] = id
		}
		if prov.id == me.id {
			f.mine = append(f.mine, id)
			if f.mostPeriods == "" || paid > f.slas[f.mostPeriods].PaidPeriods {
				f.mostPeriods = id
			}
		}
		for p := int64(0); p < paid; p++ {
			ps := start.Add(time.Duration(p) * time.Hour)
			e := &refund.Escrow{Deposit: refund.Deposit{SLAID: id, Period: ts(ps), PeriodEnd: ts(ps.Add(time.Hour)), Amount: 100000, Currency: "USD",
				Payer: cli.party("wallet." + strings.ReplaceAll(cli.cn, "@", ".")), Provider: prov.party(provWallet), ProductID: fmt.Sprintf("product-%d", i%7), SLADigest: digest},
				Status: "HELD", Held: 100000, DepositTx: fmt.Sprintf("%064x", i*1000+int(p)), DepositAt: ts(ps)}
			if p < paid-1 {
				v := verdict.Verdict{SLAID: id, SLADigest: digest, Period: e.Period, PeriodEnd: e.PeriodEnd, Violated: p%5 == 0, Currency: "USD",
					ReportDigest: testReportDigest, BatchSeq: p + 1, BatchCID: fmt.Sprintf("bafy-%s-%d", id, p), Chaincode: "slaenclave", EnclaveID: testEnc}
				if v.Violated {
					v.CreditBPS, v.CreditAmount = 1000, 10000
				}
				e.Status, e.Held = "SETTLED", 0
				e.Settlement = &refund.Settlement{SLAID: id, SLADigest: digest, Period: v.Period, PeriodEnd: v.PeriodEnd, Provider: e.Provider, Client: e.Payer,
					ProductID: e.ProductID, Currency: "USD", Violated: v.Violated, Fee: 100000, CreditBPS: v.CreditBPS, Credit: v.CreditAmount,
					Released: 100000 - v.CreditAmount, Refund: v.CreditAmount, ReportDigest: v.ReportDigest, Chaincode: v.Chaincode, EnclaveID: v.EnclaveID,
					BatchSeq: v.BatchSeq, BatchCID: v.BatchCID, TxID: fmt.Sprintf("%064x", 1<<40+i*1000+int(p)), SettledAt: v.PeriodEnd}
				if prov.id == me.id {
					end, err := time.Parse(time.RFC3339, e.PeriodEnd)
					if err != nil {
						tb.Fatal(err)
					}
					k := fmt.Sprintf("entry/%s/%020d/%s/%06d", f.walletName, end.UnixNano(), e.Settlement.TxID, 0)
					f.entries[k] = refund.Entry{TxID: e.Settlement.TxID, Timestamp: e.PeriodEnd, Kind: "escrow_release", Amount: e.Settlement.Released,
						Counterparty: "escrow", Reference: id + " " + e.Period}
					entryKeys = append(entryKeys, k)
				}
			}
			f.escrows[id+"\x00"+e.Period] = e
		}
	}
	sort.Strings(f.index)
	sort.Strings(entryKeys)
	f.entryKeys[f.walletName] = entryKeys
	var balance int64
	for _, k := range entryKeys {
		balance += f.entries[k].Amount
	}
	f.accounts[f.walletName] = refund.Account{ID: f.walletName, Owner: me.id, Base: balance, Balance: balance}
	f.summaries = fixtureSummaries(tb, f.escrows)

	// Tickets, from the ticket tests' record decoded strictly into the
	// chaincode's TicketView (a field the chaincode no longer has fails).
	var tmpl ticket.TicketView
	dec := json.NewDecoder(strings.NewReader(testView(testRecord, testClock)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tmpl); err != nil {
		tb.Fatalf("ticket template: %v", err)
	}
	active := []string{}
	for _, id := range f.mine {
		if f.slas[id].Status == "ACTIVE" {
			active = append(active, id)
		}
	}
	f.busiest, f.tenTickets = active[0], active[1]
	statuses := []string{"open", "assigned", "acknowledged", "in_progress", "waiting_on_customer", "resolved", "closed"}
	for k := 0; k < size.Tickets; k++ {
		slaID := active[2+k%(len(active)-2)]
		switch {
		case k < size.Tickets/5:
			slaID = f.busiest
		case k < size.Tickets/5+10:
			slaID = f.tenTickets
		}
		s := f.slas[slaID]
		v := tmpl
		id := fmt.Sprintf("TT-%06d", k)
		v.Ticket.ID, v.Ticket.SLAID, v.Ticket.Seq = id, slaID, int64(1+k%6)
		v.Ticket.Orgs = []string{s.Parties.Client.MSPID, s.Parties.Provider.MSPID, vendorOrg}
		sort.Strings(v.Ticket.Orgs)
		v.Record.ID, v.Record.SLAID = id, slaID
		v.Record.Customer, v.Record.Provider = s.Parties.Client.ID(), s.Parties.Provider.ID()
		v.Record.Status, v.Record.PausedFrom = statuses[k%len(statuses)], ""
		if v.Record.Status == "waiting_on_customer" {
			v.Record.PausedFrom = "in_progress"
		}
		v.Breached = k%4 == 0
		if v.Record.Status == "closed" {
			v.Clock = nil
		}
		f.tickets[slaID] = append(f.tickets[slaID], fixtureTicket{view: v})
	}
	for _, ts := range f.tickets {
		slices.SortFunc(ts, func(a, b fixtureTicket) int { return strings.Compare(a.view.Ticket.ID, b.view.Ticket.ID) })
	}
	return f
}

// The fixture signs nothing and holds no enclave: the benchmarked pages
// only read.
func (f *fixtureLedger) Channel() string { return "slasa" }
func (f *fixtureLedger) Certificate() (*x509.Certificate, error) {
	return nil, errors.New("fixture: no certificate")
}
func (f *fixtureLedger) Key() (*ecdsa.PrivateKey, error) { return nil, errors.New("fixture: no key") }
func (f *fixtureLedger) Report(context.Context, verdictChaincodes, string, string) (*verdictReport, error) {
	return nil, errors.New("fixture: no enclave")
}

// fixtureSummaries compacts every settled escrow into its provider's
// reputation checkpoint, as CompactReputation would, in key order.
func fixtureSummaries(tb testing.TB, escrows map[string]*refund.Escrow) map[string]*refund.ReputationSummary {
	tb.Helper()
	keys := make([]string, 0, len(escrows))
	for k := range escrows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]*refund.ReputationSummary{}
	for _, k := range keys {
		e := escrows[k]
		if e.Settlement == nil {
			continue
		}
		one := refund.Score{Provider: e.Provider.MSPID, Months: []refund.MonthScore{}}
		if err := one.AddEntry(refund.ScoreEntry{SLAID: e.SLAID, Period: e.Period, Violated: e.Settlement.Violated, Credit: e.Settlement.Credit, PenaltyPaid: e.Settlement.PenaltyPaid}); err != nil {
			tb.Fatal(err)
		}
		sum := out[e.Provider.MSPID]
		if sum == nil {
			sum = &refund.ReputationSummary{Score: refund.Score{Provider: e.Provider.MSPID, Months: []refund.MonthScore{}}, Products: []refund.ProductTally{}}
			out[e.Provider.MSPID] = sum
		}
		if err := sum.AddSummary(&refund.ReputationSummary{Score: one, Products: []refund.ProductTally{{ProductID: e.ProductID, Tally: one.Tally}}}); err != nil {
			tb.Fatal(err)
		}
		sum.Compacted++
	}
	return out
}
