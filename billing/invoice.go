package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/slasa/slasa/sla"
)

// Party is a party of an SLA as a billing document names it: the Fabric
// identity (MSP ID, subject and issuer distinguished names), the common name
// for display and the wallet that pays or is paid.
type Party struct {
	MSPID      string `json:"msp_id"`
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
	CommonName string `json:"common_name"`
	Wallet     string `json:"wallet"`
}

// PartyOf copies an SLA party (sla.Parties.Provider or Client, or the
// provider and payer of a refund escrow).
func PartyOf(p sla.Party) Party {
	return Party{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer, CommonName: p.CommonName, Wallet: p.Wallet}
}

func (p Party) check(field string) error {
	switch {
	case p.MSPID == "":
		return fmt.Errorf("%s.msp_id: empty", field)
	case p.Subject == "":
		return fmt.Errorf("%s.subject: empty", field)
	case p.Wallet == "":
		return fmt.Errorf("%s.wallet: empty", field)
	}
	return nil
}

// LedgerRef names the transaction that wrote a figure: anyone with access
// to the channel can look it up (peer channel fetch, qscc GetTransactionByID)
// and check it.
type LedgerRef struct {
	TxID  string `json:"tx_id"`
	Block uint64 `json:"block"`
}

// VerdictRef names the enclave verdict a figure comes from.
type VerdictRef struct {
	// VerdictID identifies the signed verdict: VerdictID of the verdict
	// rebuilt from the settlement record.
	VerdictID string `json:"verdict_id"`
	// EnclaveID is the pinned enclave that signed the verdict.
	EnclaveID string `json:"enclave_id"`
	// ReportDigest is the verdict's keyed digest of the detailed report.
	ReportDigest string `json:"report_digest"`
}

// InvoiceInput is what an invoice for one billing period of an SLA is made
// of, all of it read from the ledger (the SLA record, the period's escrow
// and its settlement).
type InvoiceInput struct {
	SLAID    string
	SLATitle string // optional
	Service  string // optional: the service name
	// Period is the period's label exactly as the ledger writes it (its
	// start, RFC 3339 in UTC: "2026-12-01T00:00:00Z"); PeriodEnd its end.
	Period    string
	PeriodEnd string
	// DueDate is the payment due date, YYYY-MM-DD, not before the issue
	// date (the period end's date).
	DueDate  string
	Currency string
	// Seller is the SLA's provider, Buyer its client.
	Seller, Buyer Party
	// Fee is the price of the period in minor units.
	Fee int64
	// Deposit is the fee payment into escrow (nil while the period is
	// not paid): the amount the escrow record holds and the transaction
	// that deposited it.
	Deposit *Payment
	// Settlement is the settled verdict of the period (nil until it is
	// settled).
	Settlement *SettlementInput
	// Penalties are the penalties the period's verdict imposes on the
	// seller, each paid (in part) from the seller's collateral.
	Penalties []PenaltyInput
}

// Payment is an amount moved on the ledger.
type Payment struct {
	Amount int64
	Ref    LedgerRef
}

// SettlementInput is the settlement of a period's escrow
// (refund.Settlement).
type SettlementInput struct {
	Ref     LedgerRef
	Verdict VerdictRef
	// CreditBPS is the credit tier in basis points; Credit the service
	// credit refunded from escrow to the buyer; Released what the escrow
	// paid to the seller.
	CreditBPS int64
	Credit    int64
	Released  int64
	// Refund is everything the buyer received in the settlement: the
	// credit and the penalties paid from collateral.
	Refund int64
}

// PenaltyInput is one penalty owed by the seller for the period.
type PenaltyInput struct {
	Description string
	// Owed is the penalty, Paid what the seller's collateral paid to the
	// buyer; Owed - Paid remains unpaid.
	Owed, Paid int64
	Ref        LedgerRef
	Verdict    VerdictRef
}

// Line kinds of an invoice.
const (
	LineServiceFee = "service_fee"
	LineSLACredit  = "sla_credit"
	LinePenalty    = "penalty"
	// LinePenaltyUnpaid is a penalty (or its part) the seller's
	// collateral did not cover: owed to the buyer, outside the totals.
	LinePenaltyUnpaid = "penalty_unpaid"
)

// Invoice statuses.
const (
	// StatusUnpaid: the period's fee has not been paid into escrow.
	StatusUnpaid = "unpaid"
	// StatusInEscrow: the fee is held in escrow until the verdict; the
	// invoice's credits are not known yet.
	StatusInEscrow = "in_escrow"
	// StatusPaid: settled, and what the buyer paid net of refunds equals
	// the total due.
	StatusPaid = "paid"
	// StatusBalanceDue and StatusOverpaid: settled, but the payments
	// differ from the total due (the balance says by how much).
	StatusBalanceDue = "balance_due"
	StatusOverpaid   = "overpaid"
)

// Provenance says where the figures of an invoice line are on the ledger.
type Provenance struct {
	LedgerRef
	VerdictRef
}

// Line is one line item of an invoice. Charges are positive, credits
// negative.
type Line struct {
	No          int    `json:"no"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	// CreditBPS and Rate are the credit tier of an SLA credit line (Rate
	// is CreditBPS as a percent with two decimals).
	CreditBPS  int64      `json:"credit_bps,omitempty"`
	Rate       string     `json:"rate,omitempty"`
	Amount     Amount     `json:"amount"`
	Provenance Provenance `json:"provenance"`
}

// Invoice is the invoice of one SLA period from the seller to the buyer.
type Invoice struct {
	Number    string `json:"number"`
	SLAID     string `json:"sla_id"`
	SLATitle  string `json:"sla_title,omitempty"`
	Service   string `json:"service,omitempty"`
	Period    string `json:"period"`
	PeriodEnd string `json:"period_end"`
	IssueDate string `json:"issue_date"`
	DueDate   string `json:"due_date"`
	Currency  string `json:"currency"`
	Seller    Party  `json:"seller"`
	Buyer     Party  `json:"buyer"`
	Lines     []Line `json:"lines"`
	// Subtotal is the sum of the charges, Credits the sum of the credit
	// and penalty lines (zero or negative), TotalDue their sum.
	Subtotal Amount `json:"subtotal"`
	Credits  Amount `json:"credits"`
	TotalDue Amount `json:"total_due"`
	// Paid is what the buyer paid net of refunds (the deposit into escrow
	// minus the settlement's refund), Balance is TotalDue - Paid.
	Paid    Amount `json:"paid"`
	Balance Amount `json:"balance"`
	// UnpaidPenalties are penalties the seller owes the buyer that its
	// collateral did not cover (zero or negative, like the credits); they
	// are not part of the total. Unpaid lists them with their provenance.
	UnpaidPenalties Amount `json:"unpaid_penalties"`
	Unpaid          []Line `json:"unpaid"`
	Status          string `json:"status"`
	// PaymentRefs are the deposit and settlement transactions.
	PaymentRefs []LedgerRef `json:"payment_refs"`
}

// InvoiceNumberPrefix starts every invoice number.
const InvoiceNumberPrefix = "SLA"

// InvoiceNumber derives the invoice number of an SLA period:
// "SLA-" + the period start's UTC date as YYYYMMDD + "-" + the first 10
// hex digits (upper case) of SHA-256("slasa.invoice/v1\n" + slaID + "\n" +
// period). The date makes it readable and sortable, the hash makes it
// unique per (SLA, period) (40 bits: a collision among one seller's
// invoices is negligible) and lets anyone recompute it; the same SLA and
// period always give the same number. period must be the ledger's period
// label (RFC 3339).
func InvoiceNumber(slaID, period string) (string, error) {
	if slaID == "" {
		return "", fmt.Errorf("sla_id: empty")
	}
	start, err := time.Parse(time.RFC3339, period)
	if err != nil {
		return "", fmt.Errorf("period %q: not an RFC 3339 timestamp: %w", period, err)
	}
	sum := sha256.Sum256([]byte("slasa.invoice/v1\n" + slaID + "\n" + period))
	return fmt.Sprintf("%s-%s-%s", InvoiceNumberPrefix, start.UTC().Format("20060102"),
		strings.ToUpper(hex.EncodeToString(sum[:5]))), nil
}

// NewInvoice checks the input and builds the invoice. Bad input gives an
// error naming the field; the figures must add up (the settlement's credit
// and release make up the deposit, its refund is the credit plus the
// penalties paid) or NewInvoice refuses them.
func NewInvoice(in InvoiceInput) (*Invoice, error) {
	if _, err := MinorUnits(in.Currency); err != nil {
		return nil, fmt.Errorf("currency: %w", err)
	}
	num, err := InvoiceNumber(in.SLAID, in.Period)
	if err != nil {
		return nil, err
	}
	start, _ := time.Parse(time.RFC3339, in.Period)
	end, err := time.Parse(time.RFC3339, in.PeriodEnd)
	if err != nil {
		return nil, fmt.Errorf("period_end %q: not an RFC 3339 timestamp: %w", in.PeriodEnd, err)
	}
	if !end.After(start) {
		return nil, fmt.Errorf("period_end %s: not after the period start %s", in.PeriodEnd, in.Period)
	}
	issue := end.UTC().Format(time.DateOnly)
	due, err := time.Parse(time.DateOnly, in.DueDate)
	if err != nil {
		return nil, fmt.Errorf("due_date %q: not a YYYY-MM-DD date", in.DueDate)
	}
	if due.Format(time.DateOnly) < issue {
		return nil, fmt.Errorf("due_date %s: before the issue date %s (the period end)", in.DueDate, issue)
	}
	if err := in.Seller.check("seller"); err != nil {
		return nil, err
	}
	if err := in.Buyer.check("buyer"); err != nil {
		return nil, err
	}
	if in.Fee < 0 {
		return nil, fmt.Errorf("fee: %d is negative", in.Fee)
	}
	money := func(m int64) Amount { return Amount{Minor: m, Currency: in.Currency} }
	inv := &Invoice{
		Number: num, SLAID: in.SLAID, SLATitle: in.SLATitle, Service: in.Service,
		Period: in.Period, PeriodEnd: in.PeriodEnd, IssueDate: issue, DueDate: in.DueDate,
		Currency: in.Currency, Seller: in.Seller, Buyer: in.Buyer,
		Credits: money(0), Paid: money(0), UnpaidPenalties: money(0), Unpaid: []Line{}, PaymentRefs: []LedgerRef{},
	}
	feeRef := LedgerRef{}
	if in.Deposit != nil {
		if err := checkRef("deposit", in.Deposit.Ref); err != nil {
			return nil, err
		}
		if in.Deposit.Amount != in.Fee {
			return nil, fmt.Errorf("deposit.amount: %d paid into escrow, but the period's fee is %d", in.Deposit.Amount, in.Fee)
		}
		feeRef = in.Deposit.Ref
		inv.Paid = money(in.Deposit.Amount)
		inv.PaymentRefs = append(inv.PaymentRefs, in.Deposit.Ref)
	}
	period := fmt.Sprintf("%s to %s", start.UTC().Format("2006-01-02 15:04"), end.UTC().Format("2006-01-02 15:04 UTC"))
	inv.Lines = append(inv.Lines, Line{
		Kind: LineServiceFee, Description: "Service fee, " + period,
		Amount: money(in.Fee), Provenance: Provenance{LedgerRef: feeRef},
	})
	inv.Subtotal = money(in.Fee)

	var penaltiesPaid int64
	if s := in.Settlement; s != nil {
		if in.Deposit == nil {
			return nil, fmt.Errorf("settlement: the period is settled but no deposit into escrow is given")
		}
		if err := checkRef("settlement", s.Ref); err != nil {
			return nil, err
		}
		switch {
		case s.CreditBPS < 0 || s.CreditBPS > 10000:
			return nil, fmt.Errorf("settlement.credit_bps: %d is not 0 to 10000", s.CreditBPS)
		case s.Credit < 0 || s.Credit > in.Deposit.Amount:
			return nil, fmt.Errorf("settlement.credit: %d is not 0 to the escrowed fee %d", s.Credit, in.Deposit.Amount)
		case s.Released != in.Deposit.Amount-s.Credit:
			return nil, fmt.Errorf("settlement.released: %d, but the escrowed fee %d minus the credit %d is %d",
				s.Released, in.Deposit.Amount, s.Credit, in.Deposit.Amount-s.Credit)
		}
		// The credit line is there even when the objectives were met (tier
		// 0.00%): it carries the verdict's provenance.
		inv.Lines = append(inv.Lines, Line{
			Kind: LineSLACredit, Description: "SLA service credit, tier " + FormatBPS(s.CreditBPS),
			CreditBPS: s.CreditBPS, Rate: FormatBPS(s.CreditBPS), Amount: money(-s.Credit),
			Provenance: Provenance{LedgerRef: s.Ref, VerdictRef: s.Verdict},
		})
		for i, p := range in.Penalties {
			field := fmt.Sprintf("penalties[%d]", i)
			switch {
			case p.Owed <= 0:
				return nil, fmt.Errorf("%s.owed: %d is not positive", field, p.Owed)
			case p.Paid < 0 || p.Paid > p.Owed:
				return nil, fmt.Errorf("%s.paid: %d is not 0 to the owed %d", field, p.Paid, p.Owed)
			case strings.TrimSpace(p.Description) == "":
				return nil, fmt.Errorf("%s.description: empty", field)
			}
			if err := checkRef(field, p.Ref); err != nil {
				return nil, err
			}
			if penaltiesPaid, err = addMinor(penaltiesPaid, p.Paid); err != nil {
				return nil, fmt.Errorf("%s.paid: sum %w", field, err)
			}
			if inv.UnpaidPenalties, err = inv.UnpaidPenalties.Add(money(-(p.Owed - p.Paid))); err != nil {
				return nil, fmt.Errorf("%s: unpaid sum: %w", field, err)
			}
			prov := Provenance{LedgerRef: p.Ref, VerdictRef: p.Verdict}
			if p.Paid > 0 {
				inv.Lines = append(inv.Lines, Line{
					Kind: LinePenalty, Description: "Penalty: " + p.Description + ", paid from the seller's collateral",
					Amount: money(-p.Paid), Provenance: prov,
				})
			}
			if p.Owed > p.Paid {
				inv.Unpaid = append(inv.Unpaid, Line{
					No: len(inv.Unpaid) + 1, Kind: LinePenaltyUnpaid,
					Description: "Penalty: " + p.Description + ", not covered by the seller's collateral",
					Amount:      money(-(p.Owed - p.Paid)), Provenance: prov,
				})
			}
		}
		refund, err := addMinor(s.Credit, penaltiesPaid)
		if err != nil {
			return nil, fmt.Errorf("settlement.refund: credit plus penalties %w", err)
		}
		if s.Refund != refund {
			return nil, fmt.Errorf("settlement.refund: %d, but the credit %d plus the penalties paid %d is %d", s.Refund, s.Credit, penaltiesPaid, refund)
		}
		if inv.Paid, err = inv.Paid.Sub(money(s.Refund)); err != nil {
			return nil, fmt.Errorf("paid: %w", err)
		}
		inv.PaymentRefs = append(inv.PaymentRefs, s.Ref)
	} else if len(in.Penalties) > 0 {
		return nil, fmt.Errorf("penalties: given for a period that is not settled")
	}

	for i := range inv.Lines {
		inv.Lines[i].No = i + 1
		if inv.Lines[i].Kind == LineServiceFee {
			continue
		}
		if inv.Credits, err = inv.Credits.Add(inv.Lines[i].Amount); err != nil {
			return nil, fmt.Errorf("credits: %w", err)
		}
	}
	if inv.TotalDue, err = inv.Subtotal.Add(inv.Credits); err != nil {
		return nil, fmt.Errorf("total_due: %w", err)
	}
	if inv.Balance, err = inv.TotalDue.Sub(inv.Paid); err != nil {
		return nil, fmt.Errorf("balance: %w", err)
	}
	switch {
	case in.Deposit == nil:
		inv.Status = StatusUnpaid
	case in.Settlement == nil:
		inv.Status = StatusInEscrow
	case inv.Balance.Minor == 0:
		inv.Status = StatusPaid
	case inv.Balance.Minor > 0:
		inv.Status = StatusBalanceDue
	default:
		inv.Status = StatusOverpaid
	}
	return inv, nil
}

// StatusText describes the invoice's status for people.
func (inv *Invoice) StatusText() string {
	switch inv.Status {
	case StatusUnpaid:
		return "UNPAID: the period's fee has not been paid into escrow"
	case StatusInEscrow:
		return "PAID INTO ESCROW: awaiting the period's verdict; SLA credits not yet determined"
	case StatusPaid:
		return "PAID: settled on the ledger"
	case StatusBalanceDue:
		return "BALANCE DUE: " + inv.Balance.String()
	case StatusOverpaid:
		return "OVERPAID: " + inv.Balance.String() + " to be refunded"
	}
	return strings.ToUpper(inv.Status)
}

func checkRef(field string, r LedgerRef) error {
	if r.TxID == "" {
		return fmt.Errorf("%s.ref.tx_id: empty", field)
	}
	return nil
}
