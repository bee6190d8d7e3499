package billing

import (
	"strings"
	"testing"
)

func TestStatementBalances(t *testing.T) {
	st, err := NewStatement(demoStatement())
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, l := range st.Lines {
		order = append(order, l.Ref.TxID+"="+l.Balance.String())
	}
	want := "0aa1=USD 10,500.00 a1b2c3d4=USD 9,500.00 b7c8=USD 8,500.00 f0e1d2c3=USD 8,800.00 c9d0=USD 8,150.00"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("lines and running balances:\n got %s\nwant %s", got, want)
	}
	if st.MoneyIn.Minor != 1030000 || st.MoneyOut.Minor != -265000 {
		t.Errorf("money in %s, out %s", st.MoneyIn, st.MoneyOut)
	}
	if st.Lines[3].Rate != "30.00%" || st.Lines[0].Description != "Money issued" {
		t.Errorf("line 4 rate %q, line 1 description %q", st.Lines[3].Rate, st.Lines[0].Description)
	}
}

func TestNewStatementErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*StatementInput)
		want string
	}{
		{"closing", func(in *StatementInput) { in.Closing = 815001 },
			"statement does not balance: opening USD 500.00 plus the lines is USD 8,150.00 after line 5 (lines[4], tx c9d0, block 40), but the closing balance is USD 8,150.01"},
		{"opening", func(in *StatementInput) { in.Opening = 0 },
			"line 4 (lines[0], tx f0e1d2c3, block 31): the ledger's balance after it is USD 8,800.00, but the opening balance plus the lines so far is USD 8,300.00"},
		{"empty", func(in *StatementInput) { in.Lines = nil },
			"statement does not balance: opening USD 500.00 plus the lines is USD 500.00 with no lines, but the closing balance is USD 8,150.00"},
		{"month", func(in *StatementInput) { in.Month = "2026-13" }, `month "2026-13": not YYYY-MM`},
		{"currency", func(in *StatementInput) { in.Currency = "XAU" }, `currency: currency "XAU": ISO 4217 gives it no minor unit`},
		{"role", func(in *StatementInput) { in.Role = "auditor" }, `role "auditor": not provider, client or empty`},
		{"party", func(in *StatementInput) { in.Party.Subject = "" }, "party.subject: empty"},
		{"time format", func(in *StatementInput) { in.Lines[2].Time = "6 Dec" }, `lines[2].time "6 Dec": not an RFC 3339 timestamp`},
		{"time outside", func(in *StatementInput) { in.Lines[4].Time = "2027-01-01T00:00:00Z" }, "lines[4].time 2027-01-01T00:00:00Z: outside the month 2026-12 (tx c9d0)"},
		{"time before", func(in *StatementInput) { in.Lines[1].Time = "2026-11-30T23:59:59Z" }, "lines[1].time 2026-11-30T23:59:59Z: outside the month 2026-12 (tx 0aa1)"},
		{"tx id", func(in *StatementInput) { in.Lines[3].Ref.TxID = "" }, "lines[3].ref.tx_id: empty"},
		{"kind", func(in *StatementInput) { in.Lines[3].Kind = "gift" }, `lines[3].kind "gift": unknown (tx b7c8)`},
		{"sign", func(in *StatementInput) { in.Lines[3].Amount = 100000 }, "lines[3].amount: 100000 has the wrong sign for a escrow_deposit line (tx b7c8)"},
		{"zero", func(in *StatementInput) { in.Lines[1].Amount = 0 }, "lines[1].amount: 0 has the wrong sign for a mint line (tx 0aa1)"},
		{"sla", func(in *StatementInput) { in.SLAID = "demo-sla" }, `lines[1].sla_id "": not the statement's SLA "demo-sla" (tx 0aa1)`},
		{"bps", func(in *StatementInput) { in.Lines[0].CreditBPS = -1 }, "lines[0].credit_bps: -1 is not 0 to 10000"},
		{"overflow", func(in *StatementInput) { in.Opening = 1<<63 - 1 }, "line 1 (lines[1], tx 0aa1, block 3): running balance overflows int64 minor units"},
	}
	for _, tt := range tests {
		in := demoStatement()
		tt.edit(&in)
		if _, err := NewStatement(in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v\nwant %q", tt.name, err, tt.want)
		}
	}
}

func TestStatementOneSLA(t *testing.T) {
	in := demoStatement()
	in.SLAID = "demo-sla"
	var lines []StatementLineInput
	for _, l := range in.Lines {
		if l.SLAID == "demo-sla" {
			l.BalanceAfter = nil
			lines = append(lines, l)
		}
	}
	in.Lines, in.Opening, in.Closing = lines, 0, -170000
	st, err := NewStatement(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lines) != 3 || st.Closing.String() != "USD -1,700.00" || st.SLAID != "demo-sla" {
		t.Errorf("statement of demo-sla: %d lines, closing %s", len(st.Lines), st.Closing)
	}
}

// TestStatementMoneyKinds: the collateral, expiry and termination lines
// have their signs and descriptions.
func TestStatementMoneyKinds(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		amount int64
		desc   string
	}{
		{KindCollateralLock, -400000, "Collateral locked for the SLA"},
		{KindCollateralRelease, 100000, "Collateral released after the SLA"},
		{KindCollateralPenalty, 50000, "Penalty received from the SLA's locked collateral"},
		{KindExpiryRefund, 30000, "Escrow refunded: no verdict by the deadline"},
		{KindExpiryRelease, 70000, "Escrow released: no verdict by the deadline"},
		{KindTerminationRefund, 100000, "Fee refunded: period not started at termination"},
	} {
		in := demoStatement()
		l := in.Lines[1]
		l.Kind, l.Amount, l.BalanceAfter, l.Description = tc.kind, tc.amount, nil, ""
		in.Lines, in.Periods = []StatementLineInput{l}, nil
		in.Closing = in.Opening + tc.amount
		st, err := NewStatement(in)
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if st.Lines[0].Description != tc.desc {
			t.Errorf("%s: description %q", tc.kind, st.Lines[0].Description)
		}
		in.Lines[0].Amount, in.Closing = -tc.amount, in.Opening-tc.amount
		if _, err := NewStatement(in); err == nil || !strings.Contains(err.Error(), "has the wrong sign for a "+tc.kind+" line") {
			t.Errorf("%s with the wrong sign: %v", tc.kind, err)
		}
	}
}

// TestStatementPeriods: each bad period is refused naming the field, and
// the summaries of every escrow status add up.
func TestStatementPeriods(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(in *StatementInput)
		err  string
	}{
		{"not named by a line", func(in *StatementInput) { in.Periods[0].Period = "2026-12-06T11:00:00Z" }, `periods[0]: period 2026-12-06T11:00:00Z of SLA "demo-sla" is named by no line`},
		{"twice", func(in *StatementInput) { in.Periods[1] = in.Periods[0] }, `periods[1]: period 2026-12-06T10:02:00Z of SLA "demo-sla" is given twice`},
		{"missing", func(in *StatementInput) { in.Periods = in.Periods[:1] }, `periods: no escrow given for period 2026-12-06T10:00:00Z of SLA "demo-sla"`},
		{"fee", func(in *StatementInput) { in.Periods[0].Fee = 0 }, "periods[0].fee: 0 is not positive"},
		{"held", func(in *StatementInput) { in.Periods[0].Held = 100001 }, "periods[0].held: 100001 is not 0 to the fee 100000"},
		{"credit bps", func(in *StatementInput) { in.Periods[1].CreditBPS = 10001 }, "periods[1].credit_bps: 10001 is not 0 to 10000"},
		{"credit", func(in *StatementInput) { in.Periods[1].Credit = 100001 }, "periods[1].credit: 100001 is not 0 to the fee 100000"},
		{"penalty", func(in *StatementInput) { in.Periods[1].PenaltyPaid = 1 }, "periods[1].penalty_paid: 1 is not 0 to the penalty owed 0"},
		{"to client", func(in *StatementInput) { in.Periods[1].ToClient = -1 }, "periods[1].to_client: -1 is not 0 to the fee 100000"},
		{"deposit", func(in *StatementInput) { in.Periods[0].Deposit = LedgerRef{} }, "periods[0].deposit"},
		{"status", func(in *StatementInput) { in.Periods[0].Status = "GONE" }, `periods[0].status "GONE": not HELD, SETTLED, EXPIRED or REFUNDED`},
		{"held with a verdict", func(in *StatementInput) { in.Periods[0].Verdict = &demoVerdict }, "periods[0]: a HELD escrow holds the whole fee"},
		{"settled without verdict", func(in *StatementInput) { in.Periods[1].Verdict = nil }, "periods[1]: a SETTLED escrow holds nothing and names its verdict"},
		{"expired with a verdict", func(in *StatementInput) { in.Periods[1].Status = EscrowExpired }, "periods[1]: an EXPIRED escrow holds nothing, names its closing transaction and has no verdict"},
		{"refunded in part", func(in *StatementInput) {
			in.Periods[1].Status, in.Periods[1].Verdict, in.Periods[1].ToClient = EscrowRefunded, nil, 5
		}, "periods[1].to_client: a REFUNDED escrow gave the client the whole fee 100000, not 5"},
	} {
		in := demoStatement()
		tc.edit(&in)
		if _, err := NewStatement(in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}

	// Every status: what went back to the client and the net paid.
	closed := &LedgerRef{TxID: "f0e1d2c3", Block: 31}
	for _, tc := range []struct {
		status              string
		credit, paid, share int64
		verdict             *VerdictRef
		back, net           int64
	}{
		{EscrowSettled, 30000, 0, 0, &demoVerdict, 30000, 70000},
		{EscrowSettled, 100000, 25000, 0, &demoVerdict, 125000, -25000},
		{EscrowExpired, 0, 0, 40000, nil, 40000, 60000},
		{EscrowRefunded, 0, 0, 100000, nil, 100000, 0},
	} {
		in := demoStatement()
		p := &in.Periods[1]
		p.Status, p.Credit, p.PenaltyOwed, p.PenaltyPaid, p.ToClient, p.Verdict, p.Closed = tc.status, tc.credit, tc.paid, tc.paid, tc.share, tc.verdict, closed
		st, err := NewStatement(in)
		if err != nil {
			t.Fatalf("%s: %v", tc.status, err)
		}
		got := st.Periods[0]
		if got.EscrowStatus != tc.status || got.BackToClient.Minor != tc.back || got.Net.Minor != tc.net || got.Fee.Minor != 100000 {
			t.Errorf("%s: %+v, want back %d net %d", tc.status, got, tc.back, tc.net)
		}
	}
}
