package billing

import (
	"strings"
	"testing"
)

func TestInvoiceNumberGolden(t *testing.T) {
	tests := []struct{ sla, period, want string }{
		{"demo-sla", "2026-12-06T10:00:00Z", ""},
		{"demo-sla", "2026-12-06T10:02:00Z", ""},
		{"aws-ec2-region", "2026-01-01T00:00:00Z", ""},
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, tt := range tests {
		n, err := InvoiceNumber(tt.sla, tt.period)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := InvoiceNumber(tt.sla, tt.period); again != n {
			t.Errorf("InvoiceNumber(%q, %q) not stable: %s then %s", tt.sla, tt.period, n, again)
		}
		if seen[n] {
			t.Errorf("InvoiceNumber(%q, %q) = %s repeats an earlier number", tt.sla, tt.period, n)
		}
		seen[n] = true
		b.WriteString(tt.sla + " " + tt.period + " " + n + "\n")
	}
	golden(t, "invoice-numbers.golden", []byte(b.String()))
}

func TestInvoiceNumberErrors(t *testing.T) {
	for _, tt := range []struct{ sla, period, want string }{
		{"", "2026-12-06T10:00:00Z", "sla_id: empty"},
		{"demo-sla", "2026-12-06", `period "2026-12-06": not an RFC 3339 timestamp`},
	} {
		if _, err := InvoiceNumber(tt.sla, tt.period); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("InvoiceNumber(%q, %q) error = %v, want %q", tt.sla, tt.period, err, tt.want)
		}
	}
}

func TestInvoiceTotals(t *testing.T) {
	unsettled := demoInvoice()
	unsettled.Settlement = nil
	unpaid := unsettled
	unpaid.Deposit = nil
	short := demoInvoice()
	short.Settlement.Refund = 0 // not consistent: refused below; see TestNewInvoiceErrors
	tests := []struct {
		name                                        string
		in                                          InvoiceInput
		subtotal, credits, total, paid, bal, unpaid int64
		status                                      string
		kinds                                       string
	}{
		{"demo", demoInvoice(), 100000, -30000, 70000, 70000, 0, 0, StatusPaid, "service_fee sla_credit"},
		{"penalty", penaltyInvoice(), 100000, -220000, -120000, -120000, 0, -30000, StatusPaid, "service_fee sla_credit penalty"},
		{"in escrow", unsettled, 100000, 0, 100000, 100000, 0, 0, StatusInEscrow, "service_fee"},
		{"unpaid", unpaid, 100000, 0, 100000, 0, 100000, 0, StatusUnpaid, "service_fee"},
	}
	for _, tt := range tests {
		inv, err := NewInvoice(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := []int64{inv.Subtotal.Minor, inv.Credits.Minor, inv.TotalDue.Minor, inv.Paid.Minor, inv.Balance.Minor, inv.UnpaidPenalties.Minor}
		want := []int64{tt.subtotal, tt.credits, tt.total, tt.paid, tt.bal, tt.unpaid}
		for i, name := range []string{"subtotal", "credits", "total due", "paid", "balance", "unpaid penalties"} {
			if got[i] != want[i] {
				t.Errorf("%s: %s = %d, want %d", tt.name, name, got[i], want[i])
			}
		}
		if inv.Status != tt.status {
			t.Errorf("%s: status %s, want %s", tt.name, inv.Status, tt.status)
		}
		var kinds []string
		for i, l := range inv.Lines {
			kinds = append(kinds, l.Kind)
			if l.No != i+1 {
				t.Errorf("%s: line %d numbered %d", tt.name, i+1, l.No)
			}
		}
		if strings.Join(kinds, " ") != tt.kinds {
			t.Errorf("%s: lines %v, want %s", tt.name, kinds, tt.kinds)
		}
	}
}

func TestInvoiceCreditLine(t *testing.T) {
	inv, err := NewInvoice(demoInvoice())
	if err != nil {
		t.Fatal(err)
	}
	l := inv.Lines[1]
	if l.Rate != "30.00%" || l.Amount.String() != "USD -300.00" || l.Provenance.VerdictID != demoVerdict.VerdictID || l.Provenance.Block != 31 {
		t.Errorf("credit line = %+v", l)
	}
	if inv.IssueDate != "2026-12-06" || inv.Number != "SLA-20261206-"+inv.Number[len("SLA-20261206-"):] {
		t.Errorf("issue date %s, number %s", inv.IssueDate, inv.Number)
	}
}

func TestNewInvoiceErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*InvoiceInput)
		want string
	}{
		{"currency", func(in *InvoiceInput) { in.Currency = "USX" }, `currency: currency "USX": not an active ISO 4217 currency code`},
		{"period", func(in *InvoiceInput) { in.Period = "yesterday" }, `period "yesterday": not an RFC 3339 timestamp`},
		{"period end", func(in *InvoiceInput) { in.PeriodEnd = "2026-12-06T10:00:00Z" }, "period_end 2026-12-06T10:00:00Z: not after the period start"},
		{"due date", func(in *InvoiceInput) { in.DueDate = "20.12.2026" }, `due_date "20.12.2026": not a YYYY-MM-DD date`},
		{"due before issue", func(in *InvoiceInput) { in.DueDate = "2026-12-05" }, "due_date 2026-12-05: before the issue date 2026-12-06"},
		{"seller", func(in *InvoiceInput) { in.Seller.MSPID = "" }, "seller.msp_id: empty"},
		{"buyer wallet", func(in *InvoiceInput) { in.Buyer.Wallet = "" }, "buyer.wallet: empty"},
		{"fee", func(in *InvoiceInput) { in.Fee = -1 }, "fee: -1 is negative"},
		{"deposit ref", func(in *InvoiceInput) { in.Deposit.Ref.TxID = "" }, "deposit.ref.tx_id: empty"},
		{"deposit amount", func(in *InvoiceInput) { in.Deposit.Amount = 99999 }, "deposit.amount: 99999 paid into escrow, but the period's fee is 100000"},
		{"settled without deposit", func(in *InvoiceInput) { in.Deposit = nil }, "settlement: the period is settled but no deposit"},
		{"bps", func(in *InvoiceInput) { in.Settlement.CreditBPS = 10001 }, "settlement.credit_bps: 10001 is not 0 to 10000"},
		{"credit", func(in *InvoiceInput) { in.Settlement.Credit = 100001 }, "settlement.credit: 100001 is not 0 to the escrowed fee 100000"},
		{"released", func(in *InvoiceInput) { in.Settlement.Released = 69999 }, "settlement.released: 69999, but the escrowed fee 100000 minus the credit 30000 is 70000"},
		{"refund", func(in *InvoiceInput) { in.Settlement.Refund = 0 }, "settlement.refund: 0, but the credit 30000 plus the penalties paid 0 is 30000"},
		{"penalty owed", func(in *InvoiceInput) { in.Penalties = []PenaltyInput{{Description: "x", Ref: in.Settlement.Ref}} }, "penalties[0].owed: 0 is not positive"},
		{"penalty paid", func(in *InvoiceInput) {
			in.Penalties = []PenaltyInput{{Description: "x", Owed: 5, Paid: 6, Ref: in.Settlement.Ref}}
		}, "penalties[0].paid: 6 is not 0 to the owed 5"},
		{"penalty description", func(in *InvoiceInput) { in.Penalties = []PenaltyInput{{Owed: 5, Ref: in.Settlement.Ref}} }, "penalties[0].description: empty"},
		{"penalty unsettled", func(in *InvoiceInput) {
			in.Settlement = nil
			in.Penalties = []PenaltyInput{{Description: "x", Owed: 5, Ref: LedgerRef{TxID: "t"}}}
		}, "penalties: given for a period that is not settled"},
	}
	for _, tt := range tests {
		in := demoInvoice()
		tt.edit(&in)
		if _, err := NewInvoice(in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestInvoiceMinorUnits(t *testing.T) {
	for _, tt := range []struct {
		currency                     string
		fee, credit                  int64
		wantFee, wantCredit, wantDue string
	}{
		{"JPY", 150000, 15000, "JPY 150,000", "JPY -15,000", "JPY 135,000"},
		{"BHD", 1500, 150, "BHD 1.500", "BHD -0.150", "BHD 1.350"},
		{"EUR", 99999, 9999, "EUR 999.99", "EUR -99.99", "EUR 900.00"},
	} {
		in := demoInvoice()
		in.Currency, in.Fee, in.Deposit.Amount = tt.currency, tt.fee, tt.fee
		in.Settlement.CreditBPS, in.Settlement.Credit, in.Settlement.Released, in.Settlement.Refund = 1000, tt.credit, tt.fee-tt.credit, tt.credit
		inv, err := NewInvoice(in)
		if err != nil {
			t.Fatalf("%s: %v", tt.currency, err)
		}
		var b strings.Builder
		if err := inv.WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{tt.wantFee, tt.wantCredit} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: table lacks %q:\n%s", tt.currency, want, b.String())
			}
		}
		if got := inv.TotalDue.String(); got != tt.wantDue {
			t.Errorf("%s: total due %s, want %s", tt.currency, got, tt.wantDue)
		}
	}
}
