package billing

import (
	"fmt"
	"sort"
	"time"
)

// Statement line kinds: the refund chaincode's wallet history kinds
// (refund.Kind*), each with the sign its amount must have on the
// statement's account.
const (
	KindMint            = "mint"             // money issued into the wallet: +
	KindTransferIn      = "transfer_in"      // +
	KindTransferOut     = "transfer_out"     // -
	KindEscrowDeposit   = "escrow_deposit"   // the period's fee paid into escrow: -
	KindEscrowRelease   = "escrow_release"   // escrow released to the provider: +
	KindServiceCredit   = "service_credit"   // credit refunded from escrow to the client: +
	KindPenaltyPaid     = "penalty_paid"     // penalty paid from the provider's collateral wallet: -
	KindPenaltyReceived = "penalty_received" // penalty received by the client: +
	// The SLA's collateral: locked from the provider's collateral wallet
	// into the SLA's hold when it proposed the SLA (-), what is left of it
	// back after the SLA is over (+), and a penalty the client received
	// from the hold (+).
	KindCollateralLock    = "collateral_lock"
	KindCollateralRelease = "collateral_release"
	KindCollateralPenalty = "collateral_penalty"
	// An escrow whose verdict did not come by its deadline, claimed: the
	// client's share (+) and the provider's (+); the fee of a period not
	// started when the SLA was terminated, back to the client (+).
	KindExpiryRefund      = "expiry_refund"
	KindExpiryRelease     = "expiry_release"
	KindTerminationRefund = "termination_refund"
)

// kindSigns is the sign each kind's amount has: +1 money in, -1 money out.
var kindSigns = map[string]int{
	KindMint: 1, KindTransferIn: 1, KindTransferOut: -1, KindEscrowDeposit: -1,
	KindEscrowRelease: 1, KindServiceCredit: 1, KindPenaltyPaid: -1, KindPenaltyReceived: 1,
	KindCollateralLock: -1, KindCollateralRelease: 1, KindCollateralPenalty: 1,
	KindExpiryRefund: 1, KindExpiryRelease: 1, KindTerminationRefund: 1,
}

// StatementInput is what a statement of one party's account for one
// billing month is made of. For a statement of all SLAs (SLAID "") the
// account is the party's wallet: Opening and Closing are its balance at
// the month's first and last block (BalanceOf), Lines its whole history
// in the month. For one SLA's statement, Lines are the history entries
// that name the SLA, and Opening and Closing the sum of that SLA's
// entries before the month and through its end.
type StatementInput struct {
	Party Party
	// Role is "provider", "client" or "" (a wallet that is neither).
	Role string
	// Month is the billing month, YYYY-MM (UTC).
	Month    string
	SLAID    string
	Currency string
	Opening  int64
	Closing  int64
	Lines    []StatementLineInput
}

// StatementLineInput is one change of the account, from the wallet's
// history (refund History) or the block events.
type StatementLineInput struct {
	// Time is the transaction's timestamp (RFC 3339) as the block holds
	// it; it must lie in the month.
	Time string
	Ref  LedgerRef
	// TxIndex is the transaction's position in its block; with the block
	// number it orders the lines.
	TxIndex int
	Kind    string
	// SLAID and Period name the SLA period the money belongs to ("" for
	// mints and transfers).
	SLAID        string
	Period       string
	Counterparty string
	Description  string
	// Amount is the change of the account in minor units: positive in,
	// negative out, with the sign of its Kind.
	Amount int64
	// Verdict is set on the lines a verdict decided (release, credit,
	// penalty), with CreditBPS its credit tier.
	Verdict   *VerdictRef
	CreditBPS int64
	// BalanceAfter, when the ledger gives it, is the account's balance
	// after this line; the statement checks its running balance
	// against it.
	BalanceAfter *int64
}

// StatementLine is a line of a statement, in ledger order.
type StatementLine struct {
	No           int         `json:"no"`
	Time         string      `json:"time"`
	Ref          LedgerRef   `json:"ref"`
	TxIndex      int         `json:"tx_index"`
	Kind         string      `json:"kind"`
	SLAID        string      `json:"sla_id,omitempty"`
	Period       string      `json:"period,omitempty"`
	Counterparty string      `json:"counterparty,omitempty"`
	Description  string      `json:"description"`
	Amount       Amount      `json:"amount"`
	Balance      Amount      `json:"balance"`
	Verdict      *VerdictRef `json:"verdict,omitempty"`
	CreditBPS    int64       `json:"credit_bps,omitempty"`
	Rate         string      `json:"rate,omitempty"`
}

// Statement is one party's account for one billing month.
type Statement struct {
	Party    Party           `json:"party"`
	Role     string          `json:"role,omitempty"`
	Month    string          `json:"month"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	SLAID    string          `json:"sla_id,omitempty"`
	Currency string          `json:"currency"`
	Opening  Amount          `json:"opening_balance"`
	Lines    []StatementLine `json:"lines"`
	// MoneyIn and MoneyOut are the sums of the positive and of the
	// negative lines; Opening + MoneyIn + MoneyOut = Closing.
	MoneyIn  Amount `json:"money_in"`
	MoneyOut Amount `json:"money_out"`
	Closing  Amount `json:"closing_balance"`
}

// descriptions of the kinds, for lines without one.
var kindText = map[string]string{
	KindMint:              "Money issued",
	KindTransferIn:        "Transfer received",
	KindTransferOut:       "Transfer sent",
	KindEscrowDeposit:     "Period fee paid into escrow",
	KindEscrowRelease:     "Escrow released to the provider",
	KindServiceCredit:     "SLA service credit refunded from escrow",
	KindPenaltyPaid:       "Penalty paid from collateral",
	KindPenaltyReceived:   "Penalty received from the provider's collateral",
	KindCollateralLock:    "Collateral locked for the SLA",
	KindCollateralRelease: "Collateral released after the SLA",
	KindCollateralPenalty: "Penalty received from the SLA's locked collateral",
	KindExpiryRefund:      "Escrow refunded: no verdict by the deadline",
	KindExpiryRelease:     "Escrow released: no verdict by the deadline",
	KindTerminationRefund: "Fee refunded: period not started at termination",
}

// NewStatement checks the input and builds the statement: the lines in
// ledger order (block, then position in the block, then input order) with
// the running balance. It fails, naming the line, when a line is outside
// the month, of another SLA, has the wrong sign for its kind, or when the
// running balance differs from the ledger's balance after a line or, after
// the last line, from the closing balance.
func NewStatement(in StatementInput) (*Statement, error) {
	if _, err := MinorUnits(in.Currency); err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	from, err := time.Parse("2006-01", in.Month)
	if err != nil {
		return nil, fmt.Errorf("month %q: not YYYY-MM", in.Month)
	}
	to := from.AddDate(0, 1, 0)
	if err := in.Party.check("party"); err != nil {
		return nil, err
	}
	switch in.Role {
	case "", "provider", "client":
	default:
		return nil, fmt.Errorf("role %q: not provider, client or empty", in.Role)
	}
	money := func(m int64) Amount { return Amount{Minor: m, Currency: in.Currency} }
	st := &Statement{
		Party: in.Party, Role: in.Role, Month: in.Month, SLAID: in.SLAID, Currency: in.Currency,
		From: from.Format(time.RFC3339), To: to.Format(time.RFC3339),
		Opening: money(in.Opening), Closing: money(in.Closing), MoneyIn: money(0), MoneyOut: money(0),
		Lines: []StatementLine{},
	}
	order := make([]int, len(in.Lines))
	for i, l := range in.Lines {
		order[i] = i
		field := fmt.Sprintf("lines[%d]", i)
		ts, err := time.Parse(time.RFC3339, l.Time)
		if err != nil {
			return nil, fmt.Errorf("%s.time %q: not an RFC 3339 timestamp", field, l.Time)
		}
		if ts.Before(from) || !ts.Before(to) {
			return nil, fmt.Errorf("%s.time %s: outside the month %s (tx %s)", field, l.Time, in.Month, l.Ref.TxID)
		}
		if err := checkRef(field, l.Ref); err != nil {
			return nil, err
		}
		sign, ok := kindSigns[l.Kind]
		if !ok {
			return nil, fmt.Errorf("%s.kind %q: unknown (tx %s)", field, l.Kind, l.Ref.TxID)
		}
		if l.Amount == 0 || (l.Amount > 0) != (sign > 0) {
			return nil, fmt.Errorf("%s.amount: %d has the wrong sign for a %s line (tx %s)", field, l.Amount, l.Kind, l.Ref.TxID)
		}
		if in.SLAID != "" && l.SLAID != in.SLAID {
			return nil, fmt.Errorf("%s.sla_id %q: not the statement's SLA %q (tx %s)", field, l.SLAID, in.SLAID, l.Ref.TxID)
		}
		if l.CreditBPS < 0 || l.CreditBPS > 10000 {
			return nil, fmt.Errorf("%s.credit_bps: %d is not 0 to 10000", field, l.CreditBPS)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := in.Lines[order[a]], in.Lines[order[b]]
		if la.Ref.Block != lb.Ref.Block {
			return la.Ref.Block < lb.Ref.Block
		}
		return la.TxIndex < lb.TxIndex
	})
	balance := in.Opening
	for n, i := range order {
		l := in.Lines[i]
		name := fmt.Sprintf("line %d (lines[%d], tx %s, block %d)", n+1, i, l.Ref.TxID, l.Ref.Block)
		if balance, err = addMinor(balance, l.Amount); err != nil {
			return nil, fmt.Errorf("%s: running balance %w", name, err)
		}
		if l.Amount > 0 {
			st.MoneyIn.Minor, err = addMinor(st.MoneyIn.Minor, l.Amount)
		} else {
			st.MoneyOut.Minor, err = addMinor(st.MoneyOut.Minor, l.Amount)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: total %w", name, err)
		}
		if l.BalanceAfter != nil && *l.BalanceAfter != balance {
			return nil, fmt.Errorf("%s: the ledger's balance after it is %s, but the opening balance plus the lines so far is %s",
				name, money(*l.BalanceAfter), money(balance))
		}
		desc := l.Description
		if desc == "" {
			desc = kindText[l.Kind]
		}
		sl := StatementLine{
			No: n + 1, Time: l.Time, Ref: l.Ref, TxIndex: l.TxIndex, Kind: l.Kind, SLAID: l.SLAID,
			Period: l.Period, Counterparty: l.Counterparty, Description: desc,
			Amount: money(l.Amount), Balance: money(balance), Verdict: l.Verdict, CreditBPS: l.CreditBPS,
		}
		if l.Verdict != nil {
			sl.Rate = FormatBPS(l.CreditBPS)
		}
		st.Lines = append(st.Lines, sl)
	}
	if balance != in.Closing {
		after := "with no lines"
		if n := len(order); n > 0 {
			l := in.Lines[order[n-1]]
			after = fmt.Sprintf("after line %d (lines[%d], tx %s, block %d)", n, order[n-1], l.Ref.TxID, l.Ref.Block)
		}
		return nil, fmt.Errorf("statement does not balance: opening %s plus the lines is %s %s, but the closing balance is %s",
			money(in.Opening), money(balance), after, money(in.Closing))
	}
	return st, nil
}
