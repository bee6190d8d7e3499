package billing

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the invoice or statement as indented JSON. Field names
// are the json tags of the types and stay stable; every amount is
// {"minor": integer, "currency": code, "formatted": text}.
func WriteJSON(w io.Writer, doc any) error {
	switch doc.(type) {
	case *Invoice, *Statement:
	default:
		return fmt.Errorf("WriteJSON: %T is not an *Invoice or *Statement", doc)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// partyText is a party on one line: common name, MSP ID and wallet.
func partyText(p Party) string {
	return fmt.Sprintf("%s (%s), wallet %s", p.CommonName, p.MSPID, p.Wallet)
}

// WriteTable writes the invoice as aligned text (text/tabwriter), amounts
// right-aligned.
func (inv *Invoice) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "INVOICE %s\n", inv.Number)
	hw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(hw, "Issue date:\t%s\n", inv.IssueDate)
	fmt.Fprintf(hw, "Due date:\t%s\n", inv.DueDate)
	fmt.Fprintf(hw, "Seller:\t%s\n", partyText(inv.Seller))
	fmt.Fprintf(hw, "Buyer:\t%s\n", partyText(inv.Buyer))
	fmt.Fprintf(hw, "SLA:\t%s\n", slaText(inv))
	fmt.Fprintf(hw, "Period:\t%s to %s\n", inv.Period, inv.PeriodEnd)
	hw.Flush()
	fmt.Fprintln(ew)
	// Amounts are padded to one width so that they align right in
	// tabwriter's left-aligned columns.
	amounts := []string{"Amount"}
	for _, l := range inv.Lines {
		amounts = append(amounts, l.Amount.String())
	}
	totals := []struct {
		label string
		a     Amount
	}{
		{"Subtotal", inv.Subtotal}, {"Credits", inv.Credits}, {"Total due", inv.TotalDue},
		{"Paid (net of refunds)", inv.Paid}, {"Balance", inv.Balance},
	}
	for _, t := range totals {
		amounts = append(amounts, t.a.String())
	}
	amounts = padLeft(amounts)
	rates := []string{"Rate"}
	for _, l := range inv.Lines {
		rates = append(rates, l.Rate)
	}
	rates = padLeft(rates)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tDescription\t%s\t%s\n", rates[0], amounts[0])
	for i, l := range inv.Lines {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", l.No, l.Description, rates[i+1], amounts[i+1])
	}
	for i, t := range totals {
		fmt.Fprintf(tw, "\t%s\t\t%s\n", t.label, amounts[len(inv.Lines)+1+i])
	}
	tw.Flush()
	if len(inv.Unpaid) > 0 {
		fmt.Fprintf(ew, "\nOwed by the seller, not covered by its collateral (not in the total): %s\n", inv.UnpaidPenalties)
		uw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, l := range inv.Unpaid {
			fmt.Fprintf(uw, "U%d\t%s\t%s\n", l.No, l.Description, l.Amount)
		}
		uw.Flush()
	}
	fmt.Fprintf(ew, "\nStatus: %s\n\nProvenance (Fabric ledger):\n", inv.StatusText())
	pw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(pw, "#\tTx ID\tBlock\tVerdict ID\tEnclave\tReport digest\n")
	for _, l := range inv.Lines {
		writeProvenance(pw, strconv.Itoa(l.No), l.Provenance)
	}
	for _, l := range inv.Unpaid {
		writeProvenance(pw, "U"+strconv.Itoa(l.No), l.Provenance)
	}
	pw.Flush()
	return ew.err
}

func writeProvenance(w io.Writer, no string, p Provenance) {
	tx, block := "(not paid)", "-"
	if p.TxID != "" {
		tx, block = p.TxID, strconv.FormatUint(p.Block, 10)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", no, tx, block, dash(p.VerdictID), dash(p.EnclaveID), dash(p.ReportDigest))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func slaText(inv *Invoice) string {
	s := inv.SLAID
	if inv.SLATitle != "" {
		s += " (" + inv.SLATitle + ")"
	}
	if inv.Service != "" {
		s += ", service " + inv.Service
	}
	return s
}

// invoiceCSVHeader is the header row of WriteCSV for invoices.
var invoiceCSVHeader = []string{
	"invoice_number", "issue_date", "due_date", "row_type", "no", "kind", "description", "rate",
	"amount_minor", "currency", "amount", "tx_id", "block", "verdict_id", "enclave_id", "report_digest",
}

// WriteCSV writes the invoice as RFC 4180 CSV (CRLF line ends) with a
// header row: one "line" row per line item, one "unpaid" row per penalty
// the collateral did not cover, and "total" rows (subtotal, credits,
// total_due, paid, balance) whose kind names the total.
func (inv *Invoice) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(invoiceCSVHeader); err != nil {
		return err
	}
	row := func(rowType, no, kind, desc, rate string, a Amount, p Provenance) []string {
		num, _ := a.FormatNumber()
		block := ""
		if p.TxID != "" {
			block = strconv.FormatUint(p.Block, 10)
		}
		return []string{inv.Number, inv.IssueDate, inv.DueDate, rowType, no, kind, desc, rate,
			strconv.FormatInt(a.Minor, 10), a.Currency, num, p.TxID, block, p.VerdictID, p.EnclaveID, p.ReportDigest}
	}
	var rows [][]string
	for _, l := range inv.Lines {
		rows = append(rows, row("line", strconv.Itoa(l.No), l.Kind, l.Description, l.Rate, l.Amount, l.Provenance))
	}
	for _, l := range inv.Unpaid {
		rows = append(rows, row("unpaid", strconv.Itoa(l.No), l.Kind, l.Description, "", l.Amount, l.Provenance))
	}
	for _, t := range []struct {
		kind, desc string
		a          Amount
	}{
		{"subtotal", "Subtotal", inv.Subtotal},
		{"credits", "Credits", inv.Credits},
		{"total_due", "Total due", inv.TotalDue},
		{"paid", "Paid (net of refunds), status " + inv.Status, inv.Paid},
		{"balance", "Balance", inv.Balance},
	} {
		rows = append(rows, row("total", "", t.kind, t.desc, "", t.a, Provenance{}))
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// WriteTable writes the statement as aligned text, amounts right-aligned.
func (st *Statement) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	scope := "all SLAs"
	if st.SLAID != "" {
		scope = "SLA " + st.SLAID
	}
	role := ""
	if st.Role != "" {
		role = ", " + st.Role
	}
	fmt.Fprintf(ew, "STATEMENT %s, %s\n", st.Month, scope)
	fmt.Fprintf(ew, "Account: %s%s\n", partyText(st.Party), role)
	fmt.Fprintf(ew, "From %s to %s (exclusive), currency %s\n\n", st.From, st.To, st.Currency)
	amounts, balances, blocks := []string{"Amount", ""}, []string{"Balance", st.Opening.String()}, []string{"Block", ""}
	for _, l := range st.Lines {
		amounts = append(amounts, l.Amount.String())
		balances = append(balances, l.Balance.String())
		blocks = append(blocks, strconv.FormatUint(l.Ref.Block, 10))
	}
	amounts, balances, blocks = padLeft(append(amounts, "")), padLeft(append(balances, st.Closing.String())), padLeft(append(blocks, ""))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tTime\tDescription\tSLA period\t%s\t%s\t%s\tTx ID\n", amounts[0], balances[0], blocks[0])
	fmt.Fprintf(tw, "\t%s\tOpening balance\t\t%s\t%s\t%s\t\n", st.From, amounts[1], balances[1], blocks[1])
	for i, l := range st.Lines {
		desc := l.Description
		if l.Verdict != nil {
			desc += ", tier " + l.Rate
		}
		per := ""
		if l.SLAID != "" {
			per = l.SLAID + " " + l.Period
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.No, l.Time, desc, per, amounts[i+2], balances[i+2], blocks[i+2], l.Ref.TxID)
	}
	n := len(amounts) - 1
	fmt.Fprintf(tw, "\t%s\tClosing balance\t\t%s\t%s\t%s\t\n", st.To, amounts[n], balances[n], blocks[n])
	tw.Flush()
	fmt.Fprintf(ew, "\nMoney in: %s   Money out: %s\n", st.MoneyIn, st.MoneyOut)
	for _, l := range st.Lines {
		if l.Verdict != nil {
			fmt.Fprintf(ew, "Line %d verdict: id %s, enclave %s, report digest %s\n", l.No, dash(l.Verdict.VerdictID), dash(l.Verdict.EnclaveID), dash(l.Verdict.ReportDigest))
		}
	}
	if len(st.Periods) > 0 {
		fmt.Fprintf(ew, "\nSLA periods (escrow as the ledger holds it now)\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "SLA period\tEscrow\tFee\tTier\tCredit\tPenalty paid (owed)\tBack to client\tNet paid\tPaid in\tClosed\n")
		for _, p := range st.Periods {
			rate, closed := "-", "-"
			if p.Rate != "" {
				rate = p.Rate
			}
			if p.Closed != nil {
				closed = fmt.Sprintf("tx %s, block %d", p.Closed.TxID, p.Closed.Block)
			}
			net := p.Net.String()
			if p.EscrowStatus == EscrowHeld {
				net += " (not final)"
			}
			fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s (%s)\t%s\t%s\ttx %s, block %d\t%s\n", p.SLAID, p.Period, p.EscrowStatus,
				p.Fee, rate, p.Credit, p.PenaltyPaid, p.PenaltyOwed, p.BackToClient, net, p.Deposit.TxID, p.Deposit.Block, closed)
		}
		tw.Flush()
		for _, p := range st.Periods {
			if p.Verdict != nil {
				fmt.Fprintf(ew, "Period %s %s verdict: id %s\n", p.SLAID, p.Period, dash(p.Verdict.VerdictID))
			}
		}
	}
	return ew.err
}

// statementCSVHeader is the header row of WriteCSV for statements.
var statementCSVHeader = []string{
	"party_msp_id", "wallet", "month", "row_type", "no", "time", "kind", "sla_id", "period", "counterparty",
	"description", "amount_minor", "balance_minor", "currency", "amount", "balance", "tx_id", "block", "tx_index",
	"credit_bps", "verdict_id", "enclave_id", "report_digest",
	"escrow_status", "fee_minor", "credit_minor", "penalty_owed_minor", "penalty_paid_minor", "back_to_client_minor",
	"net_minor", "closed_tx_id", "closed_block",
}

// WriteCSV writes the statement as RFC 4180 CSV with a header row: an
// "opening" row, one "line" row per line, a "closing" row, then one
// "period" row per SLA period (its escrow: status, fee, credit, penalty,
// what went back to the client, net; tx_id and block name the deposit,
// closed_tx_id and closed_block the transaction that ended the escrow).
// The last nine columns are empty on the other rows.
func (st *Statement) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(statementCSVHeader); err != nil {
		return err
	}
	num := func(a Amount) string { s, _ := a.FormatNumber(); return s }
	edge := func(rowType, ts, desc string, bal Amount) []string {
		return []string{st.Party.MSPID, st.Party.Wallet, st.Month, rowType, "", ts, "", st.SLAID, "", "", desc,
			"", strconv.FormatInt(bal.Minor, 10), st.Currency, "", num(bal), "", "", "", "", "", "", "",
			"", "", "", "", "", "", "", "", ""}
	}
	minor := func(a Amount) string { return strconv.FormatInt(a.Minor, 10) }
	rows := [][]string{edge("opening", st.From, "Opening balance", st.Opening)}
	for _, l := range st.Lines {
		v := VerdictRef{}
		bps := ""
		if l.Verdict != nil {
			v, bps = *l.Verdict, strconv.FormatInt(l.CreditBPS, 10)
		}
		rows = append(rows, []string{st.Party.MSPID, st.Party.Wallet, st.Month, "line", strconv.Itoa(l.No), l.Time,
			l.Kind, l.SLAID, l.Period, l.Counterparty, l.Description,
			strconv.FormatInt(l.Amount.Minor, 10), strconv.FormatInt(l.Balance.Minor, 10), st.Currency,
			num(l.Amount), num(l.Balance), l.Ref.TxID, strconv.FormatUint(l.Ref.Block, 10), strconv.Itoa(l.TxIndex),
			bps, v.VerdictID, v.EnclaveID, v.ReportDigest, "", "", "", "", "", "", "", "", ""})
	}
	rows = append(rows, edge("closing", st.To, "Closing balance", st.Closing))
	for _, p := range st.Periods {
		v, bps, closedTx, closedBlock := VerdictRef{}, "", "", ""
		if p.Verdict != nil {
			v, bps = *p.Verdict, strconv.FormatInt(p.CreditBPS, 10)
		}
		if p.Closed != nil {
			closedTx, closedBlock = p.Closed.TxID, strconv.FormatUint(p.Closed.Block, 10)
		}
		rows = append(rows, []string{st.Party.MSPID, st.Party.Wallet, st.Month, "period", "", p.PeriodEnd, "", p.SLAID, p.Period, "",
			"Escrow " + p.EscrowStatus, "", "", st.Currency, "", "", p.Deposit.TxID, strconv.FormatUint(p.Deposit.Block, 10), "",
			bps, v.VerdictID, v.EnclaveID, v.ReportDigest,
			p.EscrowStatus, minor(p.Fee), minor(p.Credit), minor(p.PenaltyOwed), minor(p.PenaltyPaid), minor(p.BackToClient),
			minor(p.Net), closedTx, closedBlock})
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// padLeft pads the (ASCII) strings with spaces on the left to one width.
func padLeft(vals []string) []string {
	w := 0
	for _, v := range vals {
		w = max(w, len(v))
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Repeat(" ", w-len(v)) + v
	}
	return out
}

// errWriter keeps the first write error so the renderers can check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
