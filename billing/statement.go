package billing

import (
	"fmt"
	"sort"
	"strings"
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
	// Periods are the escrows of the SLA periods the lines name, one per
	// period.
	Periods []PeriodInput
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

// Escrow statuses of a period (the refund chaincode's Escrow.Status).
const (
	EscrowHeld     = "HELD"     // paid in, no verdict settled and not claimed yet
	EscrowSettled  = "SETTLED"  // an enclave-signed verdict was settled
	EscrowExpired  = "EXPIRED"  // no verdict by the deadline: claimed and shared as the SLA says
	EscrowRefunded = "REFUNDED" // refunded to the client: the SLA was terminated before the period started
)

// PeriodInput is the escrow of one SLA period that a statement's lines
// name, as the refund chaincode holds it when the statement is made
// (GetEscrow): the fee paid in, its status and how it ended.
type PeriodInput struct {
	SLAID     string
	Period    string
	PeriodEnd string
	// Fee is the period's fee paid into escrow; Held what is still held.
	Fee    int64
	Status string
	Held   int64
	// Deposit is the transaction that paid the fee in.
	Deposit LedgerRef
	// For a SETTLED period: the verdict, its credit tier and credit, the
	// penalty owed and what the collateral paid of it, and the
	// settlement's transaction.
	Verdict     *VerdictRef
	CreditBPS   int64
	Credit      int64
	PenaltyOwed int64
	PenaltyPaid int64
	// For an EXPIRED or REFUNDED period: what went back to the client.
	ToClient int64
	// Closed is the transaction that ended the escrow (settlement, claim
	// or refund); empty while it is held.
	Closed *LedgerRef
}

// PeriodSummary is one SLA period of a statement: what the client paid,
// how the escrow ended, and the net amount the client paid for it.
type PeriodSummary struct {
	SLAID        string      `json:"sla_id"`
	Period       string      `json:"period"`
	PeriodEnd    string      `json:"period_end,omitempty"`
	EscrowStatus string      `json:"escrow_status"`
	Fee          Amount      `json:"fee"`
	Held         Amount      `json:"held"`
	Deposit      LedgerRef   `json:"deposit"`
	Verdict      *VerdictRef `json:"verdict,omitempty"`
	CreditBPS    int64       `json:"credit_bps"`
	Rate         string      `json:"rate,omitempty"`
	Credit       Amount      `json:"credit"`
	PenaltyOwed  Amount      `json:"penalty_owed"`
	PenaltyPaid  Amount      `json:"penalty_paid"`
	// BackToClient is what the client got back: the credit and the
	// penalty paid for a settled period, its share of an expired one, the
	// whole fee of a refunded one. Net is Fee - BackToClient: what the
	// client paid for the period (negative when penalties exceed the fee);
	// while HELD it is the fee, not yet final.
	BackToClient Amount     `json:"back_to_client"`
	Net          Amount     `json:"net"`
	Closed       *LedgerRef `json:"closed,omitempty"`
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
	// Periods summarises each SLA period the lines name (by SLA, then
	// period start).
	Periods []PeriodSummary `json:"periods"`
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
	if st.Periods, err = periodSummaries(in); err != nil {
		return nil, err
	}
	return st, nil
}

// periodSummaries checks the statement's periods (one per SLA period its
// lines name, each consistent in itself) and summarises them, ordered by
// SLA and period start.
func periodSummaries(in StatementInput) ([]PeriodSummary, error) {
	named := map[string]bool{}
	for _, l := range in.Lines {
		if l.SLAID != "" && l.Period != "" {
			named[l.SLAID+"/"+l.Period] = true
		}
	}
	money := func(m int64) Amount { return Amount{Minor: m, Currency: in.Currency} }
	seen := map[string]bool{}
	out := make([]PeriodSummary, 0, len(in.Periods))
	for i, p := range in.Periods {
		field := fmt.Sprintf("periods[%d]", i)
		k := p.SLAID + "/" + p.Period
		switch {
		case !named[k]:
			return nil, fmt.Errorf("%s: period %s of SLA %q is named by no line of the statement", field, p.Period, p.SLAID)
		case seen[k]:
			return nil, fmt.Errorf("%s: period %s of SLA %q is given twice", field, p.Period, p.SLAID)
		case p.Fee <= 0:
			return nil, fmt.Errorf("%s.fee: %d is not positive", field, p.Fee)
		case p.Held < 0 || p.Held > p.Fee:
			return nil, fmt.Errorf("%s.held: %d is not 0 to the fee %d", field, p.Held, p.Fee)
		case p.CreditBPS < 0 || p.CreditBPS > 10000:
			return nil, fmt.Errorf("%s.credit_bps: %d is not 0 to 10000", field, p.CreditBPS)
		case p.Credit < 0 || p.Credit > p.Fee:
			return nil, fmt.Errorf("%s.credit: %d is not 0 to the fee %d", field, p.Credit, p.Fee)
		case p.PenaltyOwed < 0 || p.PenaltyPaid < 0 || p.PenaltyPaid > p.PenaltyOwed:
			return nil, fmt.Errorf("%s.penalty_paid: %d is not 0 to the penalty owed %d", field, p.PenaltyPaid, p.PenaltyOwed)
		case p.ToClient < 0 || p.ToClient > p.Fee:
			return nil, fmt.Errorf("%s.to_client: %d is not 0 to the fee %d", field, p.ToClient, p.Fee)
		}
		seen[k] = true
		if err := checkRef(field+".deposit", p.Deposit); err != nil {
			return nil, err
		}
		if p.Closed != nil {
			if err := checkRef(field+".closed", *p.Closed); err != nil {
				return nil, err
			}
		}
		sum := PeriodSummary{SLAID: p.SLAID, Period: p.Period, PeriodEnd: p.PeriodEnd, EscrowStatus: p.Status,
			Fee: money(p.Fee), Held: money(p.Held), Deposit: p.Deposit, Closed: p.Closed,
			Credit: money(0), PenaltyOwed: money(0), PenaltyPaid: money(0)}
		var back int64
		switch p.Status {
		case EscrowHeld:
			if p.Held != p.Fee || p.Closed != nil || p.Verdict != nil {
				return nil, fmt.Errorf("%s: a HELD escrow holds the whole fee and has no verdict or closing transaction", field)
			}
		case EscrowSettled:
			if p.Held != 0 || p.Closed == nil || p.Verdict == nil {
				return nil, fmt.Errorf("%s: a SETTLED escrow holds nothing and names its verdict and settlement", field)
			}
			sum.Verdict, sum.CreditBPS, sum.Rate = p.Verdict, p.CreditBPS, FormatBPS(p.CreditBPS)
			sum.Credit, sum.PenaltyOwed, sum.PenaltyPaid = money(p.Credit), money(p.PenaltyOwed), money(p.PenaltyPaid)
			back = p.Credit + p.PenaltyPaid
		case EscrowExpired, EscrowRefunded:
			if p.Held != 0 || p.Closed == nil || p.Verdict != nil {
				return nil, fmt.Errorf("%s: an %s escrow holds nothing, names its closing transaction and has no verdict", field, p.Status)
			}
			if p.Status == EscrowRefunded && p.ToClient != p.Fee {
				return nil, fmt.Errorf("%s.to_client: a REFUNDED escrow gave the client the whole fee %d, not %d", field, p.Fee, p.ToClient)
			}
			back = p.ToClient
		default:
			return nil, fmt.Errorf("%s.status %q: not HELD, SETTLED, EXPIRED or REFUNDED", field, p.Status)
		}
		sum.BackToClient, sum.Net = money(back), money(p.Fee-back)
		out = append(out, sum)
	}
	for k := range named {
		if !seen[k] {
			slaID, period, _ := strings.Cut(k, "/")
			return nil, fmt.Errorf("periods: no escrow given for period %s of SLA %q, which a line names", period, slaID)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].SLAID != out[b].SLAID {
			return out[a].SLAID < out[b].SLAID
		}
		return out[a].Period < out[b].Period
	})
	return out, nil
}
