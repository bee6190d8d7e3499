//go:build integration

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/billing"
	"github.com/slasa/slasa/verdict"
)

// amountJSON is billing.Amount as JSON.
type amountJSON struct {
	Minor     int64  `json:"minor"`
	Currency  string `json:"currency"`
	Formatted string `json:"formatted"`
}

type invoiceJSON struct {
	Number    string `json:"number"`
	SLAID     string `json:"sla_id"`
	Period    string `json:"period"`
	IssueDate string `json:"issue_date"`
	DueDate   string `json:"due_date"`
	Currency  string `json:"currency"`
	Seller    struct {
		MSPID  string `json:"msp_id"`
		Wallet string `json:"wallet"`
	} `json:"seller"`
	Buyer struct {
		MSPID  string `json:"msp_id"`
		Wallet string `json:"wallet"`
	} `json:"buyer"`
	Lines []struct {
		Kind       string     `json:"kind"`
		CreditBPS  int64      `json:"credit_bps"`
		Amount     amountJSON `json:"amount"`
		Provenance struct {
			TxID      string `json:"tx_id"`
			Block     uint64 `json:"block"`
			VerdictID string `json:"verdict_id"`
			EnclaveID string `json:"enclave_id"`
		} `json:"provenance"`
	} `json:"lines"`
	Subtotal amountJSON `json:"subtotal"`
	Credits  amountJSON `json:"credits"`
	TotalDue amountJSON `json:"total_due"`
	Paid     amountJSON `json:"paid"`
	Balance  amountJSON `json:"balance"`
	Status   string     `json:"status"`
}

type statementJSON struct {
	Party struct {
		MSPID  string `json:"msp_id"`
		Wallet string `json:"wallet"`
	} `json:"party"`
	Month    string     `json:"month"`
	Currency string     `json:"currency"`
	Opening  amountJSON `json:"opening_balance"`
	Closing  amountJSON `json:"closing_balance"`
	Lines    []struct {
		Kind   string     `json:"kind"`
		Period string     `json:"period"`
		Amount amountJSON `json:"amount"`
		Ref    struct {
			TxID  string `json:"tx_id"`
			Block uint64 `json:"block"`
		} `json:"ref"`
		Balance amountJSON `json:"balance"`
		Verdict *struct {
			VerdictID string `json:"verdict_id"`
		} `json:"verdict"`
	} `json:"lines"`
	Periods []struct {
		SLAID        string     `json:"sla_id"`
		Period       string     `json:"period"`
		EscrowStatus string     `json:"escrow_status"`
		Fee          amountJSON `json:"fee"`
		Credit       amountJSON `json:"credit"`
		BackToClient amountJSON `json:"back_to_client"`
		Net          amountJSON `json:"net"`
		Deposit      struct {
			TxID string `json:"tx_id"`
		} `json:"deposit"`
		Closed *struct {
			TxID string `json:"tx_id"`
		} `json:"closed"`
		Verdict *struct {
			VerdictID string `json:"verdict_id"`
		} `json:"verdict"`
	} `json:"periods"`
}

// periodLedger is what the ledger says of a settled period, read with
// slasa verdict show: the verdict, the deposit and settlement transactions.
type periodLedger struct {
	verdict   verdict.Verdict
	verdictID string
	depositTx string
	settleTx  string
}

func readPeriod(t *testing.T, id, period string) periodLedger {
	t.Helper()
	var v struct {
		Verdict verdict.Signed `json:"verdict"`
		Escrow  struct {
			DepositTx  string `json:"deposit_tx"`
			Settlement struct {
				TxID string `json:"tx_id"`
			} `json:"settlement"`
		} `json:"escrow"`
	}
	slasaJSON(t, &v, "verdict", "show", id, period)
	vid, err := billing.VerdictID(&v.Verdict.Verdict)
	if err != nil {
		t.Fatal(err)
	}
	if v.Escrow.DepositTx == "" || v.Escrow.Settlement.TxID == "" {
		t.Fatalf("period %s: escrow %+v lacks its transactions", period, v.Escrow)
	}
	return periodLedger{verdict: v.Verdict.Verdict, verdictID: vid, depositTx: v.Escrow.DepositTx, settleTx: v.Escrow.Settlement.TxID}
}

// eventBlocks maps the transaction id of every event of a chaincode to its
// block, as slasa watch replays them from block 0 (the block events, a
// source independent of qscc GetBlockByTxID).
func eventBlocks(t *testing.T, chaincode string) map[string]uint64 {
	t.Helper()
	out := slasa(t, "watch", "--chaincode", chaincode, "--start-block", "0", "--for", "10s", "--json")
	blocks := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Block uint64 `json:"block"`
			TxID  string `json:"tx_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("watch --json line %q: %v", sc.Text(), err)
		}
		blocks[ev.TxID] = ev.Block
	}
	return blocks
}

// checkBilling runs slasa invoice and slasa statement on the story's
// ledger: P0 settled with a 30 % credit (30000 of 100000), P1 settled with
// none; the client minted 1000000 (at minted) and paid both fees.
func checkBilling(t *testing.T, id string, p0, p1 time.Time, mintedAt time.Time, work string) {
	iso := func(t time.Time) string { return t.Format(time.RFC3339) }
	sync(t)
	l0, l1 := readPeriod(t, id, iso(p0)), readPeriod(t, id, iso(p1))
	blocks := eventBlocks(t, "agreement")
	for k, v := range eventBlocks(t, "refund") {
		blocks[k] = v
	}
	for _, tx := range []string{l0.depositTx, l0.settleTx, l1.depositTx, l1.settleTx} {
		if blocks[tx] == 0 {
			t.Fatalf("no chaincode event names transaction %s", tx)
		}
	}

	// The invoice of P0, as JSON: exact figures and provenance.
	number, err := billing.InvoiceNumber(id, iso(p0))
	if err != nil {
		t.Fatal(err)
	}
	var inv invoiceJSON
	slasaJSON(t, &inv, "invoice", id, iso(p0), "--as", "provider", "--due-days", "14")
	wantDue := p0.Add(periodS*time.Second).UTC().AddDate(0, 0, 14).Format(time.DateOnly)
	if inv.Number != number || inv.SLAID != id || inv.Period != iso(p0) || inv.DueDate != wantDue || inv.Currency != "USD" ||
		inv.Seller.MSPID != "ProviderOrgMSP" || inv.Seller.Wallet != "provider" || inv.Buyer.MSPID != "ClientOrgMSP" || inv.Buyer.Wallet != "client" {
		t.Errorf("P0 invoice header %+v; want number %s, due %s", inv, number, wantDue)
	}
	if len(inv.Lines) != 2 {
		t.Fatalf("P0 invoice lines %+v, want the fee and the credit", inv.Lines)
	}
	fl, cr := inv.Lines[0], inv.Lines[1]
	if fl.Kind != "service_fee" || fl.Amount.Minor != fee || fl.Provenance.TxID != l0.depositTx || fl.Provenance.Block != blocks[l0.depositTx] {
		t.Errorf("P0 fee line %+v; want 100000 from tx %s in block %d", fl, l0.depositTx, blocks[l0.depositTx])
	}
	if cr.Kind != "sla_credit" || cr.CreditBPS != 3000 || cr.Amount.Minor != -credit || cr.Amount.Formatted != "USD -300.00" ||
		cr.Provenance.TxID != l0.settleTx || cr.Provenance.Block != blocks[l0.settleTx] || cr.Provenance.VerdictID != l0.verdictID ||
		cr.Provenance.EnclaveID != l0.verdict.EnclaveID {
		t.Errorf("P0 credit line %+v; want -%d at 3000 bps from tx %s in block %d, verdict %s", cr, credit, l0.settleTx, blocks[l0.settleTx], l0.verdictID)
	}
	if inv.Subtotal.Minor != fee || inv.Credits.Minor != -credit || inv.TotalDue.Minor != fee-credit || inv.TotalDue.Formatted != "USD 700.00" ||
		inv.Paid.Minor != fee-credit || inv.Balance.Minor != 0 || inv.Status != "paid" {
		t.Errorf("P0 totals: subtotal %d credits %d total due %d (%s) paid %d balance %d status %s; want 100000 -30000 70000 70000 0 paid",
			inv.Subtotal.Minor, inv.Credits.Minor, inv.TotalDue.Minor, inv.TotalDue.Formatted, inv.Paid.Minor, inv.Balance.Minor, inv.Status)
	}

	// The same invoice for the client, as a table.
	// (Runs of spaces count as one: the alignment depends on the widths.)
	table := slasa(t, "invoice", id, iso(p0), "--as", "client", "--due-days", "14")
	flat := strings.Join(strings.Fields(table), " ")
	for _, w := range []string{"INVOICE " + number, "Due date: " + wantDue, "USD 1,000.00", "SLA service credit, tier 30.00% 30.00% USD -300.00",
		"Total due USD 700.00", "Balance USD 0.00", "Status: PAID: settled on the ledger", l0.verdictID} {
		if !strings.Contains(flat, w) {
			t.Errorf("invoice table lacks %q:\n%s", w, table)
		}
	}

	// P1: no violation, the whole fee is due.
	var inv1 invoiceJSON
	slasaJSON(t, &inv1, "invoice", id, iso(p1))
	if len(inv1.Lines) != 2 || inv1.Lines[1].Amount.Minor != 0 || inv1.Lines[1].CreditBPS != 0 || inv1.TotalDue.Minor != fee ||
		inv1.Lines[1].Provenance.VerdictID != l1.verdictID || inv1.Lines[0].Provenance.Block != blocks[l1.depositTx] || inv1.Status != "paid" {
		t.Errorf("P1 invoice %+v; want the whole fee of 100000 due, no credit (verdict %s)", inv1, l1.verdictID)
	}

	// The PDF: pdftotext finds the number and the figures.
	pdf := filepath.Join(work, "invoice-p0.pdf")
	if out := slasa(t, "invoice", id, iso(p0), "--due-days", "14", "--pdf", pdf); !strings.Contains(out, "invoice "+number+" (paid, total due USD 700.00, "+wantDue+") written to "+pdf) {
		t.Errorf("invoice --pdf printed %q", out)
	}
	txt, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", pdf, err)
	}
	for _, w := range []string{number, "INVOICE", "USD 1,000.00", "USD -300.00", "Total due", "USD 700.00", "PAID", l0.settleTx} {
		if !strings.Contains(string(txt), w) {
			t.Errorf("the PDF's text lacks %q:\n%s", w, txt)
		}
	}
	if info, err := os.Stat(pdf); err != nil || info.Size() < 1000 {
		t.Errorf("PDF %s: %v", pdf, err)
	}

	// The client's statement of the month: every line, the opening and
	// closing balances exactly.
	month := mintedAt.UTC().Format("2006-01")
	if m := p1.Add(periodS * time.Second).UTC().Format("2006-01"); m != month {
		t.Fatalf("the story spans two months (%s and %s): run it again", month, m)
	}
	var st statementJSON
	slasaJSON(t, &st, "statement", "--party", "client", "--month", month)
	type line struct {
		kind   string
		period string
		amount int64
		tx     string
	}
	want := []line{{"mint", "", minted, ""}, {"escrow_deposit", iso(p0), -fee, l0.depositTx}, {"escrow_deposit", iso(p1), -fee, l1.depositTx},
		{"service_credit", iso(p0), credit, l0.settleTx}}
	if st.Party.Wallet != "client" || st.Party.MSPID != "ClientOrgMSP" || st.Month != month || st.Currency != "USD" ||
		st.Opening.Minor != 0 || st.Closing.Minor != minted-2*fee+credit || len(st.Lines) != len(want) {
		t.Fatalf("client statement %+v; want opening 0, closing %d, %d lines", st, minted-2*fee+credit, len(want))
	}
	balance := int64(0)
	for i, w := range want {
		l := st.Lines[i]
		balance += w.amount
		if l.Kind != w.kind || l.Period != w.period || l.Amount.Minor != w.amount || l.Balance.Minor != balance || (w.tx != "" && (l.Ref.TxID != w.tx || l.Ref.Block != blocks[w.tx])) {
			t.Errorf("statement line %d %+v; want %+v, balance %d, block %d", i+1, l, w, balance, blocks[w.tx])
		}
		if i > 0 && l.Ref.Block < st.Lines[i-1].Ref.Block {
			t.Errorf("statement line %d is in block %d, before line %d's block %d", i+1, l.Ref.Block, i, st.Lines[i-1].Ref.Block)
		}
	}
	if v := st.Lines[3].Verdict; v == nil || v.VerdictID != l0.verdictID {
		t.Errorf("the credit line's verdict %+v, want %s", v, l0.verdictID)
	}
	// Its SLA periods: both settled; the first nets the fee less the 30 %
	// credit, the second the whole fee.
	if len(st.Periods) != 2 {
		t.Fatalf("statement periods %+v, want the story's two", st.Periods)
	}
	for i, w := range []struct {
		period      string
		l           periodLedger
		credit, net int64
	}{{iso(p0), l0, credit, fee - credit}, {iso(p1), l1, 0, fee}} {
		p := st.Periods[i]
		if p.SLAID != id || p.Period != w.period || p.EscrowStatus != "SETTLED" || p.Fee.Minor != fee || p.Credit.Minor != w.credit ||
			p.BackToClient.Minor != w.credit || p.Net.Minor != w.net || p.Deposit.TxID != w.l.depositTx ||
			p.Closed == nil || p.Closed.TxID != w.l.settleTx || p.Verdict == nil || p.Verdict.VerdictID != w.l.verdictID {
			t.Errorf("statement period %d %+v; want %s settled, credit %d, net %d, deposit %s, settlement %s, verdict %s",
				i+1, p, w.period, w.credit, w.net, w.l.depositTx, w.l.settleTx, w.l.verdictID)
		}
	}
	text := slasa(t, "statement", "--party", "client", "--month", month)
	flatSt := strings.Join(strings.Fields(text), " ")
	for _, w := range []string{"STATEMENT " + month + ", all SLAs", "Opening balance USD 0.00", "Closing balance USD 8,300.00",
		"Money in: USD 10,300.00 Money out: USD -2,000.00", "SLA periods (escrow as the ledger holds it now)",
		id + " " + iso(p0) + " SETTLED USD 1,000.00 30.00% USD 300.00"} {
		if !strings.Contains(flatSt, w) {
			t.Errorf("statement table lacks %q:\n%s", w, text)
		}
	}

	// The same statement on the provider's peer (the client's identity,
	// explicitly): byte for byte.
	mine := slasa(t, "statement", "--party", "client", "--month", month, "--json")
	u := nw.Info.Orgs["client"].Users["client"]
	p := nw.Info.Orgs["provider"].Peer
	other := slasa(t, "statement", "--party", "client", "--month", month, "--json", "--msp-id", "ClientOrgMSP", "--cert", u.CertPath, "--key", u.KeyPath,
		"--peer", p.Address, "--tls-ca", p.TLSCACert, "--peer-host-override", p.HostnameOverride, "--channel", nw.Info.Channel)
	if mine != other {
		t.Errorf("the client's statement differs between its own and the provider's peer:\n%s\n----\n%s", mine, other)
	}

	// The provider's statement of the SLA: the two releases.
	var pst statementJSON
	slasaJSON(t, &pst, "statement", "--party", "provider", "--month", month, "--sla", id)
	if pst.Party.Wallet != "provider" || pst.Opening.Minor != 0 || pst.Closing.Minor != 2*fee-credit || len(pst.Lines) != 2 ||
		pst.Lines[0].Kind != "escrow_release" || pst.Lines[0].Amount.Minor != fee-credit || pst.Lines[0].Ref.TxID != l0.settleTx ||
		pst.Lines[1].Amount.Minor != fee || pst.Lines[1].Ref.TxID != l1.settleTx || pst.Lines[1].Ref.Block != blocks[l1.settleTx] {
		t.Errorf("provider statement of %s %+v; want 70000 then 100000 released, closing %d", id, pst, 2*fee-credit)
	}
}
