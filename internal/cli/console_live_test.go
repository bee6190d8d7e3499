package cli

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/signedsla"
)

// TestConsoleEventOf checks what the event stream tells the browser of each kind of event: the SLA,
// the period, the notice the SLA page shows and the wallets whose page refreshes.
func TestConsoleEventOf(t *testing.T) {
	s := &consoleServer{agreementCC: "agreement", refundCC: "refund", ticketCC: "ticket"}
	v := testVerdictP0()
	settled := escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0)["settlement"].(map[string]any)
	withPenalty := escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 5000)["settlement"].(map[string]any)
	v.Violated, v.CreditBPS, v.CreditAmount = false, 0, 0
	met := escrowOf(testP1, testP1End, "tx-renew", &v, "tx-settle1", 0)["settlement"].(map[string]any)
	met["period"] = testP1
	payload := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ref := map[string]string{"msp_id": "ClientOrgMSP", "common_name": "client@clientorg.slasa.local"}
	for _, c := range []struct {
		cc, name string
		payload  []byte
		period   string
		notice   string
		wallets  []string
	}{
		{"refund", "RefundIssued", payload(settled), testP0,
			"Period 2026-12-06T10:00:00Z settled: violated, credit 30% = 300.00 USD, refund 300.00 USD to the client; 700.00 USD released to the provider.",
			[]string{"client", "provider"}},
		{"refund", "RefundIssued", payload(withPenalty), testP0,
			"Period 2026-12-06T10:00:00Z settled: violated, credit 30% = 300.00 USD and penalty 50.00 USD, refund 350.00 USD to the client; 700.00 USD released to the provider.",
			[]string{"client", "provider"}},
		{"refund", "PeriodSettled", payload(met), testP1,
			"Period 2026-12-06T10:02:00Z settled: met, no credit; 1000.00 USD released to the provider.", []string{"client", "provider"}},
		{"refund", "EscrowExpired", payload(map[string]any{"sla_id": billSLA, "period": testP1, "currency": "USD", "outcome": "refund_client",
			"to_client": 100000, "to_provider": 0, "provider": billProvider, "client": billClient, "claimed_by": "x"}), testP1,
			"Period 2026-12-06T10:02:00Z: no verdict before the deadline, its escrow expired (refund_client): 1000.00 USD to the client, 0.00 USD to the provider.",
			[]string{"client", "provider"}},
		{"refund", "CollateralReleased", payload(map[string]any{"sla_id": billSLA, "currency": "USD", "wallet": "collateral", "released": 45000,
			"provider": billProvider, "client": billClient}), "",
			"SLA demo-sla: collateral released, 450.00 USD back to the provider's wallet collateral.", []string{"client", "collateral", "provider"}},
		{"agreement", "SLARenewed", payload(map[string]any{"sla_id": billSLA, "status": "ACTIVE", "period": testP1, "provider": ref, "client": ref}), testP1,
			"SLA demo-sla renewed: period 2026-12-06T10:02:00Z paid into escrow.", nil},
		{"agreement", "SLASigned", payload(map[string]any{"sla_id": billSLA, "status": "ACTIVE", "period": testP0, "enclave": map[string]string{"enclave_id": testEnc}}), testP0,
			"SLA demo-sla signed by the client: period 2026-12-06T10:00:00Z paid into escrow.", nil},
		{"agreement", "SLATerminated", payload(map[string]any{"sla_id": billSLA, "status": "TERMINATED", "by": ref, "reason": "repeated outages"}), "",
			"SLA demo-sla terminated by ClientOrgMSP/client@clientorg.slasa.local: repeated outages", nil},
		{"agreement", "EnclaveHandover", payload(map[string]any{"sla_id": billSLA, "approved_as": "client", "enclave_id": testEnc,
			"enclave": map[string]string{"enclave_id": testEnc}}), "",
			"SLA demo-sla: both parties approved the enclave handover; enclave " + short(testEnc) + " now signs its verdicts.", nil},
		// Events that change nothing the SLA page shows: no notice.
		{"agreement", "EnclaveHandoverApproved", payload(map[string]any{"sla_id": billSLA, "approved_as": "client", "enclave_id": testEnc}), "", "", nil},
		{"agreement", "LogBatchAnchored", payload(map[string]any{"sla_id": billSLA, "seq": 12, "cid": "bafy"}), "", "", nil},
		{"ticket", "TicketResolved", payload(map[string]any{"sla_id": billSLA, "ticket_id": "TT-1", "seq": 7}), "", "", nil},
		// A refund event of a chaincode that is not the console's refund chaincode.
		{"refund-old", "RefundIssued", payload(settled), testP0, "", nil},
		// A payload that is no JSON object.
		{"refund", "RefundIssued", []byte("not json"), "", "", nil},
	} {
		e := s.consoleEventOf(&client.ChaincodeEvent{ChaincodeName: c.cc, EventName: c.name, BlockNumber: 9, TransactionID: "tx9", Payload: c.payload})
		what := c.cc + "." + c.name
		if e.Notice != c.notice {
			t.Errorf("%s: notice\n%q, want\n%q", what, e.Notice, c.notice)
		}
		if e.Period != c.period || !reflect.DeepEqual(e.Wallets, c.wallets) {
			t.Errorf("%s: period %q wallets %q, want %q %q", what, e.Period, e.Wallets, c.period, c.wallets)
		}
		if wantSLA := billSLA; c.payload[0] == '{' && e.SLAID != wantSLA {
			t.Errorf("%s: sla_id %q, want %q", what, e.SLAID, wantSLA)
		}
		if e.Line == "" || e.Chaincode != c.cc || e.Event != c.name || e.TxID != "tx9" || e.Block != 9 {
			t.Errorf("%s: %+v", what, e)
		}
	}
}

// TestConsoleLivePages checks the SLA and wallet pages' hooks for the live updates: the element the
// script finds the SLA or wallet in, the hidden notice, the sections it replaces, and the period rows
// marked settled with their verdict; the script fetches the same page, so the same role checks apply
// (a vendor is refused, a browser without a session is sent to the sign-in page).
func TestConsoleLivePages(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.srv.now = func() time.Time { return time.Date(2026, 12, 6, 10, 3, 0, 0, time.UTC) }
	v := testVerdictP0()
	c.fake.set(consoleSLAView(t), "agreement", "GetSLA", billSLA)
	c.fake.set(escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0), "refund", "GetEscrow", billSLA, testP0)
	c.fake.set(escrowOf(testP1, testP1End, "tx-renew", nil, "", 0), "refund", "GetEscrow", billSLA, testP1)
	if code, loc, _ := c.get("/slas/" + billSLA); code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("SLA page without a session: %d %q", code, loc)
	}
	c.signIn()
	code, _, body := c.get("/slas/" + billSLA)
	wantPage(t, "SLA page", code, http.StatusOK, body,
		`<div id="sla-live" data-sla="demo-sla"></div>`, `<p class="notice hidden" id="live-notice" role="status"></p>`,
		`<dl class="fields" id="sla-fields">`, `<section id="periods-section">`,
		`<tr data-period="2026-12-06T10:00:00Z" class="settled violated">`, `<tr data-period="2026-12-06T10:02:00Z">`)
	if strings.Contains(body, `id="collateral"`) {
		t.Errorf("a collateral hold shown for an SLA without collateral:\n%s", body)
	}

	// An SLA with collateral shows its hold, or why it could not be read.
	view := consoleSLAView(t)
	rec := view["signed"].(signedsla.Record)
	var d map[string]any
	if err := json.Unmarshal(rec.Document, &d); err != nil {
		t.Fatal(err)
	}
	d["consequences"].(map[string]any)["collateral_minor"] = 50000
	d["consequences"].(map[string]any)["collateral_wallet"] = "collateral"
	d["consequences"].(map[string]any)["escrow_expiry"] = map[string]any{"verdict_within_seconds": 604800, "outcome": "refund_client"}
	rec.Document, _ = json.Marshal(d)
	view["signed"] = rec
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	c.fake.set(map[string]any{"sla_id": billSLA, "amount": 50000, "currency": "USD", "wallet": "collateral", "status": "LOCKED", "held": 45000, "drawn": 5000},
		"refund", "GetCollateral", billSLA)
	code, _, body = c.get("/slas/" + billSLA)
	wantPage(t, "SLA page with collateral", code, http.StatusOK, body,
		`<dd id="collateral">LOCKED: 450.00 USD held of 500.00 USD locked, 50.00 USD drawn for penalties, 0.00 USD released to the provider</dd>`)
	c.fake.errs[fakeKey("refund", "GetCollateral", billSLA)] = errors.New("chaincode response 500, the collateral of SLA \"demo-sla\" is readable by ProviderOrgMSP and ClientOrgMSP only")
	code, _, body = c.get("/slas/" + billSLA)
	wantPage(t, "SLA page, collateral unreadable", code, http.StatusOK, body,
		`<dd id="collateral">refund.GetCollateral: chaincode response 500, the collateral of SLA &#34;demo-sla&#34; is readable by ProviderOrgMSP and ClientOrgMSP only</dd>`)

	// The wallet page.
	c.fake.withHistory("client", billClient, clientHistory(), 100)
	c.fake.set(historyPage{Wallet: "client", Entries: clientHistory()}, "refund", "History", "client", "50", "")
	c.srv.wallets[c.user] = "client"
	code, _, body = c.get("/wallet")
	wantPage(t, "wallet page", code, http.StatusOK, body, `<div id="wallet-live" data-wallet="client"></div>`,
		`<p class="notice hidden" id="live-notice" role="status"></p>`, `<dl class="fields" id="wallet-fields">`, `<section id="wallet-history">`)
}

// TestConsoleEventStreamNotice checks that a settlement goes to the browser with its SLA, period,
// notice and wallets.
func TestConsoleEventStreamNotice(t *testing.T) {
	c := newConsoleTest(t, roleClient, "")
	c.signIn()
	resp, err := c.browser.Get(c.ts.URL + "/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	v := testVerdictP0()
	settled := escrowOf(testP0, testP0End, "tx-accept", &v, "tx-settle0", 0)["settlement"]
	raw, _ := json.Marshal(settled)
	c.fake.tickets.events <- &client.ChaincodeEvent{BlockNumber: 31, TransactionID: "tx-settle0", ChaincodeName: "refund", EventName: "RefundIssued", Payload: raw}
	data := make(chan string, 1)
	go func() {
		buf := make([]byte, 8192)
		text := ""
		for {
			n, err := resp.Body.Read(buf)
			text += string(buf[:n])
			if i := strings.Index(text, "data: "); i >= 0 && strings.Contains(text[i:], "\n\n") {
				data <- strings.TrimSpace(text[i+len("data: "):])
				return
			}
			if err != nil {
				data <- "stream ended: " + err.Error()
				return
			}
		}
	}()
	var got string
	select {
	case got = <-data:
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10s")
	}
	var e consoleEvent
	if err := json.Unmarshal([]byte(got), &e); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	want := consoleEvent{Chaincode: "refund", Event: "RefundIssued", Block: 31, TxID: "tx-settle0", Line: e.Line, SLAID: billSLA, Period: testP0,
		Notice:  "Period 2026-12-06T10:00:00Z settled: violated, credit 30% = 300.00 USD, refund 300.00 USD to the client; 700.00 USD released to the provider.",
		Wallets: []string{"client", "provider"}}
	if !reflect.DeepEqual(e, want) || !strings.HasPrefix(e.Line, "block 31  refund.RefundIssued  sla_id=demo-sla") {
		t.Errorf("stream sent\n%+v\nwant\n%+v", e, want)
	}
}
