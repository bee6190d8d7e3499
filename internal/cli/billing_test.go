package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/slasa/slasa/billing"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
	"google.golang.org/protobuf/proto"
)

// fakeLedger answers the billing commands' queries from canned results,
// keyed by "chaincode function arg...", and counts the calls (under mu:
// the console reads an SLA list's rows concurrently).
type fakeLedger struct {
	mu      sync.Mutex
	t       *testing.T
	answers map[string][]byte
	errs    map[string]error
	calls   map[string]int
	// ownOrg records the keys asked on the caller's organization's peer.
	ownOrg map[string]bool
	// changing makes every BalanceOf answer another balance.
	changing bool
}

func newFakeLedger(t *testing.T) *fakeLedger {
	return &fakeLedger{t: t, answers: map[string][]byte{}, errs: map[string]error{}, calls: map[string]int{}, ownOrg: map[string]bool{}}
}

func fakeKey(cc, fn string, args ...string) string {
	return strings.Join(append([]string{cc, fn}, args...), " ")
}

func (f *fakeLedger) set(v any, cc, fn string, args ...string) {
	f.t.Helper()
	raw, ok := v.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			f.t.Fatal(err)
		}
	}
	f.answers[fakeKey(cc, fn, args...)] = raw
}

func (f *fakeLedger) Evaluate(_ context.Context, cc, fn string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fakeKey(cc, fn, args...)
	f.calls[k]++
	if err, ok := f.errs[k]; ok {
		return nil, err
	}
	if f.changing && fn == "BalanceOf" {
		return json.Marshal(walletAccount{ID: args[0], Balance: int64(f.calls[k])})
	}
	raw, ok := f.answers[k]
	if !ok {
		return nil, fmt.Errorf("%s.%s: no fake answer for %q", cc, fn, k)
	}
	return raw, nil
}

func (f *fakeLedger) EvaluateOwnOrg(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.ownOrg[fakeKey(cc, fn, args...)] = true
	f.mu.Unlock()
	return f.Evaluate(ctx, cc, fn, args...)
}

// fakeBlock is block num holding transactions txIDs with validation codes
// codes (VALID when codes is nil), as qscc GetBlockByTxID returns it.
func fakeBlock(t *testing.T, num uint64, txIDs []string, codes []peer.TxValidationCode) []byte {
	t.Helper()
	b := &common.Block{Header: &common.BlockHeader{Number: num}, Data: &common.BlockData{}, Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	filter := make([]byte, len(txIDs))
	for i, id := range txIDs {
		ch, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), TxId: id, ChannelId: "slasa"})
		pl, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}})
		env, _ := proto.Marshal(&common.Envelope{Payload: pl})
		b.Data.Data = append(b.Data.Data, env)
		if codes != nil {
			filter[i] = byte(codes[i])
		}
	}
	b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = filter
	raw, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// blocks puts the transactions of each block into the fake's qscc.
func (f *fakeLedger) blocks(blocks map[uint64][]string) {
	for num, ids := range blocks {
		raw := fakeBlock(f.t, num, ids, nil)
		for _, id := range ids {
			f.set(raw, "qscc", "GetBlockByTxID", "slasa", id)
		}
	}
}

var (
	billProvider = sla.Party{MSPID: "ProviderOrgMSP", CommonName: "provider@providerorg.slasa.local", Wallet: "provider",
		Subject: "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
		Issuer:  "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US"}
	billClient = sla.Party{MSPID: "ClientOrgMSP", CommonName: "client@clientorg.slasa.local", Wallet: "client",
		Subject: "CN=client@clientorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
		Issuer:  "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US"}
)

const (
	billSLA          = "demo-sla"
	testP0           = "2026-12-06T10:00:00Z"
	testP0End        = "2026-12-06T10:02:00Z"
	testP1           = "2026-12-06T10:02:00Z"
	testP1End        = "2026-12-06T10:04:00Z"
	testEnc          = "3F2A9C1D7E5B4A60C8D2E6F1A3B5C7D9E0F2A4B6C8D0E1F3A5B7C9D1E3F5A7B9"
	testReportDigest = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b"
)

// testVerdictP0 is the verdict the P0 settlement settled.
func testVerdictP0() verdict.Verdict {
	return verdict.Verdict{SLAID: billSLA, SLADigest: strings.Repeat("1f", 32), Period: testP0, PeriodEnd: testP0End,
		Violated: true, CreditBPS: 3000, CreditAmount: 30000, Currency: "USD", ReportDigest: testReportDigest,
		BatchSeq: 12, BatchCID: "bafy-batch-12", Chaincode: "slaenclave", EnclaveID: testEnc}
}

// escrowOf is the refund chaincode's escrow of a period, settled with v
// when v is not nil.
func escrowOf(period, end, depositTx string, v *verdict.Verdict, settleTx string, penaltyPaid int64) map[string]any {
	e := map[string]any{"sla_id": billSLA, "period": period, "period_end": end, "amount": 100000, "currency": "USD",
		"payer": billClient, "provider": billProvider, "product_id": "demo-web", "status": "HELD", "held": 100000,
		"deposit_tx": depositTx, "deposit_at": period}
	if v != nil {
		e["status"], e["held"] = "SETTLED", 0
		e["settlement"] = map[string]any{"sla_id": v.SLAID, "sla_digest": v.SLADigest, "period": v.Period, "period_end": v.PeriodEnd,
			"provider": billProvider, "client": billClient, "product_id": "demo-web", "currency": v.Currency, "violated": v.Violated,
			"fee": 100000, "credit_bps": v.CreditBPS, "credit": v.CreditAmount, "released": 100000 - v.CreditAmount,
			"penalty_owed": v.PenaltyAmount, "penalty_paid": penaltyPaid, "penalty_unpaid": v.PenaltyAmount - penaltyPaid,
			"refund": v.CreditAmount + penaltyPaid, "terminate": v.Terminate, "report_digest": v.ReportDigest,
			"chaincode": v.Chaincode, "enclave_id": v.EnclaveID, "batch_seq": v.BatchSeq, "batch_cid": v.BatchCID,
			"tx_id": settleTx, "settled_at": v.PeriodEnd}
	}
	return e
}

// slaView is agreement GetSLA's answer for the demo SLA with its document.
func slaView(t *testing.T, provider, client sla.Party) map[string]any {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "demo", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	d["id"] = billSLA
	doc, _ = json.Marshal(d)
	pub := func(p sla.Party) map[string]string {
		return map[string]string{"msp_id": p.MSPID, "common_name": p.CommonName, "subject": p.Subject, "issuer": p.Issuer}
	}
	return map[string]any{"id": billSLA, "status": "ACTIVE", "digest": strings.Repeat("1f", 32),
		"parties":     map[string]any{"provider": pub(provider), "client": pub(client)},
		"signed":      signedsla.Record{Version: signedsla.Version, Document: doc, Digest: strings.Repeat("1f", 32)},
		"proposed_at": "2026-12-06T09:59:30Z"}
}

// demoLedger is the demo's ledger: the client's wallet minted in
// November, P0 and P1 paid into escrow, P0 settled with a 30 % credit.
func demoLedger(t *testing.T) *fakeLedger {
	f := newFakeLedger(t)
	v := testVerdictP0()
	f.set(escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0), "refund", "GetEscrow", billSLA, testP0)
	f.set(escrowOf(testP1, testP1End, "tx-renew", nil, "", 0), "refund", "GetEscrow", billSLA, testP1)
	f.set(slaView(t, billProvider, billClient), "agreement", "GetSLA", billSLA)
	f.blocks(map[uint64][]string{3: {"tx-mint"}, 12: {"tx-other", "tx-accept"}, 20: {"tx-renew"}, 31: {"tx-settle0"}, 40: {"tx-transfer"}, 44: {"tx-mint2"}})
	return f
}

func TestInvoiceFromLedger(t *testing.T) {
	f := demoLedger(t)
	src := newBillingSource(f, "agreement", "refund", "slasa")
	inv, err := buildInvoice(context.Background(), src, billSLA, testP0, dueDate{Days: 14})
	if err != nil {
		t.Fatal(err)
	}
	v := testVerdictP0()
	vid, err := billing.VerdictID(&v)
	if err != nil {
		t.Fatal(err)
	}
	num, _ := billing.InvoiceNumber(billSLA, testP0)
	if inv.Number != num || inv.IssueDate != "2026-12-06" || inv.DueDate != "2026-12-20" || inv.Status != billing.StatusPaid ||
		inv.Seller.Wallet != "provider" || inv.Buyer.MSPID != "ClientOrgMSP" || inv.SLATitle == "" ||
		inv.Service != "Demo web service in three availability zones" {
		t.Fatalf("invoice header %+v", inv)
	}
	if len(inv.Lines) != 2 || inv.Lines[0].Amount.Minor != 100000 || inv.Lines[0].Provenance.TxID != "tx-accept" || inv.Lines[0].Provenance.Block != 12 ||
		inv.Lines[1].Amount.Minor != -30000 || inv.Lines[1].Rate != "30.00%" || inv.Lines[1].Provenance.Block != 31 ||
		inv.Lines[1].Provenance.VerdictID != vid || inv.Lines[1].Provenance.EnclaveID != testEnc || inv.Lines[1].Provenance.ReportDigest != testReportDigest {
		t.Fatalf("lines %+v", inv.Lines)
	}
	if inv.Subtotal.Minor != 100000 || inv.Credits.Minor != -30000 || inv.TotalDue.Minor != 70000 || inv.Paid.Minor != 70000 || inv.Balance.Minor != 0 {
		t.Fatalf("totals %+v", inv)
	}
	if !f.ownOrg[fakeKey("agreement", "GetSLA", billSLA)] {
		t.Error("GetSLA was not evaluated on a peer of the caller's organization")
	}
	var buf bytes.Buffer
	if err := inv.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"INVOICE " + num, "Total due", "USD 700.00", "SLA service credit, tier 30.00%", "tx-settle0  31"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, buf.String())
		}
	}

	// A period in escrow, a due date given.
	inv, err = buildInvoice(context.Background(), src, billSLA, testP1, dueDate{Date: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != billing.StatusInEscrow || inv.DueDate != "2026-12-31" || len(inv.Lines) != 1 || inv.TotalDue.Minor != 100000 || inv.Lines[0].Provenance.Block != 20 {
		t.Fatalf("P1 invoice %+v", inv)
	}
	if n := f.calls[fakeKey("qscc", "GetBlockByTxID", "slasa", "tx-accept")]; n != 1 {
		t.Errorf("block of tx-accept looked up %d times, want once", n)
	}
}

func TestInvoicePenalty(t *testing.T) {
	f := demoLedger(t)
	v := testVerdictP0()
	v.CreditBPS, v.CreditAmount, v.PenaltyAmount = 10000, 100000, 150000
	f.set(escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 120000), "refund", "GetEscrow", billSLA, testP0)
	inv, err := buildInvoice(context.Background(), newBillingSource(f, "agreement", "refund", "slasa"), billSLA, testP0, dueDate{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Lines) != 3 || inv.Lines[2].Kind != billing.LinePenalty || inv.Lines[2].Amount.Minor != -120000 ||
		inv.UnpaidPenalties.Minor != -30000 || inv.TotalDue.Minor != -120000 || inv.DueDate != "2026-12-06" || inv.Status != billing.StatusPaid {
		t.Fatalf("penalty invoice %+v", inv)
	}
}

func TestInvoiceRefusals(t *testing.T) {
	other := billClient
	other.Subject = "CN=mallory@clientorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
	tests := []struct {
		name  string
		setup func(f *fakeLedger)
		want  string
	}{
		{"escrow payer is not the SLA's client", func(f *fakeLedger) {
			f.set(slaView(t, billProvider, other), "agreement", "GetSLA", billSLA)
		}, "the escrow's payer ClientOrgMSP/client@clientorg.slasa.local (issuer ca.clientorg.slasa.local) is not the SLA's client ClientOrgMSP/mallory@clientorg.slasa.local"},
		{"escrow provider is not the SLA's provider", func(f *fakeLedger) {
			f.set(slaView(t, other, billClient), "agreement", "GetSLA", billSLA)
		}, "the escrow's provider ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local) is not the SLA's provider"},
		{"no escrow", func(f *fakeLedger) {
			delete(f.answers, fakeKey("refund", "GetEscrow", billSLA, testP0))
			f.errs[fakeKey("refund", "GetEscrow", billSLA, testP0)] = errors.New(`refund.GetEscrow: endorsement failed: period: no escrow for period 2026-12-06T10:00:00Z of SLA "demo-sla"`)
		}, "refund.GetEscrow: endorsement failed: period: no escrow for period"},
		{"transaction invalid in its block", func(f *fakeLedger) {
			f.set(fakeBlock(t, 31, []string{"tx-settle0"}, []peer.TxValidationCode{peer.TxValidationCode_MVCC_READ_CONFLICT}), "qscc", "GetBlockByTxID", "slasa", "tx-settle0")
		}, "settlement of period 2026-12-06T10:00:00Z: qscc.GetBlockByTxID tx-settle0: transaction 0 of block 31 is MVCC_READ_CONFLICT, not VALID"},
		{"transaction not in the block", func(f *fakeLedger) {
			f.set(fakeBlock(t, 12, []string{"tx-other"}, nil), "qscc", "GetBlockByTxID", "slasa", "tx-accept")
		}, "deposit of period 2026-12-06T10:00:00Z: qscc.GetBlockByTxID tx-accept: block 12 does not hold the transaction"},
		{"not a block", func(f *fakeLedger) {
			f.set([]byte("not a block"), "qscc", "GetBlockByTxID", "slasa", "tx-accept")
		}, "qscc.GetBlockByTxID tx-accept: decode block"},
		{"settlement figures do not add up", func(f *fakeLedger) {
			v := testVerdictP0()
			e := escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0)
			e["settlement"].(map[string]any)["released"] = 80000
			f.set(e, "refund", "GetEscrow", billSLA, testP0)
		}, "invoice of period 2026-12-06T10:00:00Z of SLA demo-sla: settlement.released: 80000, but the escrowed fee 100000 minus the credit 30000 is 70000"},
		{"escrow of another period", func(f *fakeLedger) {
			f.set(escrowOf(testP1, testP1End, "tx-renew", nil, "", 0), "refund", "GetEscrow", billSLA, testP0)
		}, "refund.GetEscrow: asked for period 2026-12-06T10:00:00Z of SLA demo-sla, got period 2026-12-06T10:02:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := demoLedger(t)
			tc.setup(f)
			_, err := buildInvoice(context.Background(), newBillingSource(f, "agreement", "refund", "slasa"), billSLA, testP0, dueDate{Days: 30})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// clientHistory is the client wallet's history: a mint in November, the
// December lines (P0 deposit, P1 deposit, P0 credit, a transfer), and a
// mint in January.
func clientHistory() []walletEntry {
	return []walletEntry{
		{TxID: "tx-mint", Timestamp: "2026-11-30T23:59:59.5Z", Kind: "mint", Amount: 1000000,
			Counterparty: "ProviderOrgMSP/CN=issuer@providerorg.slasa.local,OU=admin (issuer CN=ca.providerorg.slasa.local,O=providerorg.slasa.local)"},
		{TxID: "tx-accept", Timestamp: "2026-12-06T09:59:35.123456789Z", Kind: "escrow_deposit", Amount: -100000, Counterparty: "escrow", Reference: billSLA + "/" + testP0},
		{TxID: "tx-renew", Timestamp: "2026-12-06T10:00:02Z", Kind: "escrow_deposit", Amount: -100000, Counterparty: "escrow", Reference: billSLA + "/" + testP1},
		{TxID: "tx-transfer", Timestamp: "2026-12-31T23:59:59Z", Kind: "transfer_out", Amount: -2500, Counterparty: "provider"},
		// Pending credits come last in History.
		{TxID: "tx-settle0", Timestamp: "2026-12-06T10:02:09Z", Kind: "service_credit", Amount: 30000, Counterparty: "escrow", Reference: billSLA + "/" + testP0, Pending: true},
		{TxID: "tx-mint2", Timestamp: "2027-01-01T00:00:00Z", Kind: "mint", Amount: 5000, Pending: true},
	}
}

// historyFroms are the times the statements of the tests read a wallet's
// history from: the months' starts, and a day before demo-sla's proposal.
var historyFroms = []string{"2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2026-12-05T09:59:30Z"}

// withHistory puts a wallet's balance, its history in pages of size n
// (History) and its history from each of historyFroms (HistoryFrom: the
// entries whose time is not before it, and those whose time is not a time)
// into the fake.
func (f *fakeLedger) withHistory(wallet string, owner sla.Party, entries []walletEntry, n int) {
	var sum int64
	for _, e := range entries {
		sum += e.Amount
	}
	f.set(walletAccount{ID: wallet, Owner: identity.ID{MSPID: owner.MSPID, Subject: owner.Subject, Issuer: owner.Issuer}, Base: sum, Balance: sum},
		"refund", "BalanceOf", wallet)
	pages := func(entries []walletEntry, fn string, args ...string) {
		if len(entries) == 0 {
			f.set(historyPage{Wallet: wallet, Entries: []walletEntry{}}, "refund", fn, append(args, "1000", "")...)
		}
		bookmark := ""
		for i := 0; i < len(entries); i += n {
			next := ""
			if i+n < len(entries) {
				next = fmt.Sprintf("bm-%d", i+n)
			}
			f.set(historyPage{Wallet: wallet, Entries: entries[i:min(i+n, len(entries))], Bookmark: next}, "refund", fn, append(args, "1000", bookmark)...)
			bookmark = next
		}
	}
	pages(entries, "History", wallet)
	for _, from := range historyFroms {
		since, _ := time.Parse(time.RFC3339, from)
		var after []walletEntry
		for _, e := range entries {
			if at, err := time.Parse(time.RFC3339Nano, e.Timestamp); err != nil || !at.Before(since) {
				after = append(after, e)
			}
		}
		pages(after, "HistoryFrom", wallet, from)
	}
}

func TestStatementFromLedger(t *testing.T) {
	f := demoLedger(t)
	f.withHistory("client", billClient, clientHistory(), 2)
	src := newBillingSource(f, "agreement", "refund", "slasa")
	st, err := buildStatement(context.Background(), src, statementRequest{Role: "client", Wallet: "client", Month: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	// Opening: the November mint; closing: the balance now less the January mint.
	if st.Opening.Minor != 1000000 || st.Closing.Minor != 827500 || st.Currency != "USD" || st.Party.MSPID != "ClientOrgMSP" ||
		st.Party.CommonName != "client@clientorg.slasa.local" || st.Party.Wallet != "client" || st.Role != "client" {
		t.Fatalf("statement %+v", st)
	}
	var got []string
	for _, l := range st.Lines {
		got = append(got, fmt.Sprintf("%s %d/%d %s %d %d", l.Ref.TxID, l.Ref.Block, l.TxIndex, l.Kind, l.Amount.Minor, l.Balance.Minor))
	}
	want := []string{"tx-accept 12/1 escrow_deposit -100000 900000", "tx-renew 20/0 escrow_deposit -100000 800000",
		"tx-settle0 31/0 service_credit 30000 830000", "tx-transfer 40/0 transfer_out -2500 827500"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines\n%q\nwant\n%q", got, want)
	}
	v := testVerdictP0()
	vid, _ := billing.VerdictID(&v)
	if c := st.Lines[2]; c.Verdict == nil || c.Verdict.VerdictID != vid || c.CreditBPS != 3000 || c.SLAID != billSLA || c.Period != testP0 ||
		st.Lines[0].Verdict != nil || st.Lines[3].Counterparty != "provider" {
		t.Fatalf("lines %+v", st.Lines)
	}
	// The two periods the lines name: P0 settled (credit 30 %), P1 still held.
	var periods []string
	for _, p := range st.Periods {
		closed := "-"
		if p.Closed != nil {
			closed = fmt.Sprintf("%s/%d", p.Closed.TxID, p.Closed.Block)
		}
		periods = append(periods, fmt.Sprintf("%s %s fee %d credit %d back %d net %d paid in %s/%d closed %s",
			p.Period, p.EscrowStatus, p.Fee.Minor, p.Credit.Minor, p.BackToClient.Minor, p.Net.Minor, p.Deposit.TxID, p.Deposit.Block, closed))
	}
	if len(st.Periods) != 2 || st.Periods[0].Verdict == nil || st.Periods[0].Verdict.VerdictID != vid || st.Periods[1].Verdict != nil {
		t.Fatalf("periods %+v", st.Periods)
	}
	wantPeriods := []string{
		"2026-12-06T10:00:00Z SETTLED fee 100000 credit 30000 back 30000 net 70000 paid in tx-accept/12 closed tx-settle0/31",
		"2026-12-06T10:02:00Z HELD fee 100000 credit 0 back 0 net 100000 paid in tx-renew/20 closed -",
	}
	if fmt.Sprint(periods) != fmt.Sprint(wantPeriods) {
		t.Fatalf("periods\n%q\nwant\n%q", periods, wantPeriods)
	}
	if h, b := f.calls[fakeKey("refund", "HistoryFrom", "client", "2026-12-01T00:00:00Z", "1000", "bm-4")], f.calls[fakeKey("refund", "BalanceOf", "client")]; h != 1 || b != 2 {
		t.Errorf("last history page from the month's start read %d times, the balance %d times; want once, and twice around it", h, b)
	}
	for k, n := range f.calls {
		if strings.Contains(k, " History ") || strings.Contains(k, "HistoryFrom") && !strings.Contains(k, "2026-12-01T00:00:00Z") {
			t.Errorf("%s read %d times: the statement reads the wallet's history from the month's start only", k, n)
		}
	}

	// One SLA: its lines, opening 0, closing their sum; the wallet from the SLA.
	st, err = buildStatement(context.Background(), src, statementRequest{Role: "client", Month: "2026-12", SLAID: billSLA})
	if err != nil {
		t.Fatal(err)
	}
	if st.SLAID != billSLA || st.Opening.Minor != 0 || st.Closing.Minor != -170000 || len(st.Lines) != 3 || st.Party.Wallet != "client" {
		t.Fatalf("SLA statement %+v", st)
	}

	// One SLA in a later month: its opening is its entries before the
	// month, read from a day before the SLA's proposal.
	st, err = buildStatement(context.Background(), src, statementRequest{Role: "client", Month: "2027-01", SLAID: billSLA})
	if err != nil {
		t.Fatal(err)
	}
	if st.Opening.Minor != -170000 || st.Closing.Minor != -170000 || len(st.Lines) != 0 {
		t.Fatalf("SLA statement of January %+v", st)
	}
	if n := f.calls[fakeKey("refund", "HistoryFrom", "client", "2026-12-05T09:59:30Z", "1000", "")]; n != 1 {
		t.Errorf("history from a day before the proposal read %d times, want once", n)
	}

	// The same statement twice, byte for byte.
	var a, b bytes.Buffer
	st1, _ := buildStatement(context.Background(), src, statementRequest{Role: "client", Wallet: "client", Month: "2026-12"})
	st2, _ := buildStatement(context.Background(), newBillingSource(f, "agreement", "refund", "slasa"), statementRequest{Role: "client", Wallet: "client", Month: "2026-12"})
	if billing.WriteJSON(&a, st1) != nil || billing.WriteJSON(&b, st2) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two statements of the same ledger differ")
	}
}

func TestStatementRefusals(t *testing.T) {
	tests := []struct {
		name  string
		req   statementRequest
		setup func(f *fakeLedger)
		want  string
	}{
		{"SLA without a proposal time", statementRequest{Role: "client", Month: "2026-12", SLAID: billSLA}, func(f *fakeLedger) {
			v := slaView(t, billProvider, billClient)
			v["proposed_at"] = "soon"
			f.set(v, "agreement", "GetSLA", billSLA)
		}, `SLA demo-sla: proposed_at "soon"`},
		{"wallet is not the SLA's", statementRequest{Role: "client", Wallet: "provider", Month: "2026-12", SLAID: billSLA}, nil,
			"--wallet provider: the client of SLA demo-sla pays and is paid through wallet client"},
		{"currency is not the SLA's", statementRequest{Role: "client", Month: "2026-12", SLAID: billSLA, Currency: "EUR"}, nil,
			"--currency EUR: SLA demo-sla is priced in USD"},
		{"currency differs from an escrow's", statementRequest{Role: "client", Wallet: "client", Month: "2026-12", Currency: "EUR"}, nil,
			"history of wallet client: period 2026-12-06T10:00:00Z of SLA demo-sla is in USD, not EUR"},
		{"no SLA line and no currency", statementRequest{Role: "client", Wallet: "client", Month: "2027-01"}, nil,
			"--currency: no line of wallet client in 2027-01 names an SLA period"},
		{"bad timestamp", statementRequest{Role: "client", Wallet: "client", Month: "2026-12"}, func(f *fakeLedger) {
			h := clientHistory()
			h[1].Timestamp = "yesterday"
			f.withHistory("client", billClient, h, 10)
		}, `history of wallet client, entry 0 (tx tx-accept): timestamp "yesterday"`},
		{"wallet keeps changing", statementRequest{Role: "client", Wallet: "client", Month: "2026-12"}, func(f *fakeLedger) {
			f.changing = true
		}, "wallet client changed while its history was read, 3 times: try again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := demoLedger(t)
			f.withHistory("client", billClient, clientHistory(), 3)
			if tc.setup != nil {
				tc.setup(f)
			}
			_, err := buildStatement(context.Background(), newBillingSource(f, "agreement", "refund", "slasa"), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStatementWalletOfTheParty(t *testing.T) {
	caller := identity.ID{MSPID: billClient.MSPID, Subject: billClient.Subject, Issuer: billClient.Issuer}
	list := func(ids ...string) map[string]any {
		var recs []map[string]any
		for _, id := range ids {
			v := slaView(t, billProvider, billClient)
			v["id"] = id
			delete(v, "signed")
			recs = append(recs, v)
		}
		return map[string]any{"records": recs, "bookmark": ""}
	}
	f := demoLedger(t)
	f.withHistory("client", billClient, clientHistory(), 10)
	f.set(list(billSLA), "agreement", "ListSLAs", "client", "ClientOrgMSP", "client@clientorg.slasa.local", "100", "")
	src := newBillingSource(f, "agreement", "refund", "slasa")
	st, err := buildStatement(context.Background(), src, statementRequest{Role: "client", Month: "2026-12", Caller: caller})
	if err != nil || st.Party.Wallet != "client" {
		t.Fatalf("%v %+v", err, st)
	}

	// Two SLAs naming two wallets: the caller must choose.
	view := slaView(t, billProvider, billClient)
	var d map[string]any
	_ = json.Unmarshal(view["signed"].(signedsla.Record).Document, &d)
	d["id"] = "sla-2"
	d["parties"].(map[string]any)["client"].(map[string]any)["wallet"] = "client-2"
	doc, _ := json.Marshal(d)
	view["id"], view["signed"] = "sla-2", signedsla.Record{Version: signedsla.Version, Document: doc}
	f.set(view, "agreement", "GetSLA", "sla-2")
	f.set(list(billSLA, "sla-2"), "agreement", "ListSLAs", "client", "ClientOrgMSP", "client@clientorg.slasa.local", "100", "")
	_, err = buildStatement(context.Background(), src, statementRequest{Role: "client", Month: "2026-12", Caller: caller})
	if err == nil || err.Error() != "--wallet: your SLAs as client use several wallets: client (SLA demo-sla); client-2 (SLA sla-2); choose one with --wallet or --sla" {
		t.Fatalf("error %v", err)
	}

	// No SLA names the caller.
	f.set(list(), "agreement", "ListSLAs", "provider", "ClientOrgMSP", "client@clientorg.slasa.local", "100", "")
	_, err = buildStatement(context.Background(), src, statementRequest{Role: "provider", Month: "2026-12", Caller: caller})
	if err == nil || !strings.Contains(err.Error(), "--wallet: no SLA names you (ClientOrgMSP/client@clientorg.slasa.local (issuer ca.clientorg.slasa.local)) as its provider with a wallet") {
		t.Fatalf("error %v", err)
	}
}

func TestSLAPeriodOf(t *testing.T) {
	for _, tc := range []struct{ ref, id, period string }{
		{"demo-sla/2026-12-06T10:00:00Z", "demo-sla", "2026-12-06T10:00:00Z"},
		{"a/b/2026-12-06T10:00:00Z", "a/b", "2026-12-06T10:00:00Z"},
		{"demo-sla/not-a-time", "", ""},
		{"demo-sla/", "demo-sla", ""},
		{"/2026-12-06T10:00:00Z", "", ""},
		{"", "", ""},
	} {
		id, period, ok := slaPeriodOf(tc.ref)
		if id != tc.id || period != tc.period || ok != (tc.id != "") {
			t.Errorf("slaPeriodOf(%q) = %q %q %v", tc.ref, id, period, ok)
		}
	}
}

// TestBillingUsageErrors: wrong command lines fail with exit status 2
// before any connection is made.
func TestBillingUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"invoice", "demo-sla"}, "takes 2 argument"},
		{[]string{"invoice", "demo-sla", "yesterday"}, `PERIOD "yesterday": want the period's start as RFC 3339`},
		{[]string{"invoice", "demo-sla", testP0, "--json", "--csv"}, "--json and --csv exclude each other"},
		{[]string{"invoice", "demo-sla", testP0, "--due", "2026-12-31", "--due-days", "3"}, "--due and --due-days exclude each other"},
		{[]string{"invoice", "demo-sla", testP0, "--due", "31.12.2026"}, `--due "31.12.2026": want a date YYYY-MM-DD`},
		{[]string{"invoice", "demo-sla", testP0, "--due-days", "-1"}, "--due-days -1: want 0 to 3650"},
		{[]string{"statement", "--month", "2026-12"}, `--party "": want client or provider`},
		{[]string{"statement", "--party", "issuer", "--month", "2026-12"}, `--party "issuer": want client or provider`},
		{[]string{"statement", "--party", "client"}, `--month "": want YYYY-MM`},
		{[]string{"statement", "--party", "client", "--month", "2026-13"}, `--month "2026-13": want YYYY-MM`},
		{[]string{"statement", "--party", "client", "--month", "2026-12", "--currency", "XXX"}, "--currency: currency \"XXX\""},
		{[]string{"statement", "--party", "client", "--month", "2026-12", "extra"}, "takes 0 argument"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := Main(append(tc.args, "--run-dir", t.TempDir()), strings.NewReader(""), &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tc.args, code, errb.String(), ExitUsage, tc.want)
		}
	}
}
