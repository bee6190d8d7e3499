// Package billing turns what the ledger records about an SLA into the
// documents a finance team works with: invoices and account statements, in
// integer minor-unit arithmetic, rendered as a text table, JSON, CSV or (for
// invoices) PDF.
//
// The package is plain Go: it imports no Fabric package and reads no ledger.
// Its callers fill InvoiceInput and StatementInput from the refund and
// agreement chaincodes' query answers and from the block events (every figure
// with the transaction id and block number that wrote it), so the same input
// gives the same document on every peer, byte for byte.
//
// # Money
//
// Money is an Amount: int64 minor units of an ISO 4217 currency, with the
// minor unit (USD 2, JPY 0, BHD 3, CLF 4) taken from an embedded copy of ISO
// 4217 List One. Sums and differences are overflow-checked; there are no
// floating point numbers. Amounts print as "USD 1,234.56" and "USD -12.00"
// (code, then the signed number; see Amount.Format), credit tiers in basis
// points as "30.00%" (FormatBPS).
//
// # Invoices
//
// NewInvoice builds the invoice of one SLA period from the provider (seller)
// to the client (buyer). Its number is InvoiceNumber(SLA id, period):
// "SLA-YYYYMMDD-" and 10 hex digits of a SHA-256 of both, the same wherever
// and whenever it is computed. The issue date is the period end's date. The
// lines are the service fee, the SLA service credit (a negative line with
// its tier) and the penalties paid from the seller's collateral (negative);
// penalties the collateral did not cover are listed apart and not included
// in the total. Subtotal + Credits = TotalDue; Paid is the buyer's deposit
// into escrow minus what the settlement refunded to it; Balance =
// TotalDue - Paid, and the status says whether the period is unpaid, in
// escrow, paid, or (when ledger figures disagree) has a balance due or was
// overpaid. Every line carries its provenance: transaction id, block number
// and, for what a verdict decided, the verdict id (VerdictID), enclave id and
// report digest.
//
// Where the figures come from (refund chaincode GetEscrow, one period):
//
//	InvoiceInput.Seller, Buyer   PartyOf(escrow.Provider), PartyOf(escrow.Payer)
//	Fee, Currency, PeriodEnd     escrow.Amount, escrow.Currency, escrow.PeriodEnd
//	Deposit                      {escrow.Amount, {escrow.DepositTx, block of that tx}}
//	Settlement                   escrow.Settlement: CreditBPS, Credit, Released,
//	                             Refund, {TxID, block of that tx}, and VerdictRef
//	                             {VerdictID(verdict rebuilt from the settlement),
//	                              EnclaveID, ReportDigest}
//	Penalties                    one per penalty: Settlement.PenaltyOwed, PenaltyPaid
//	DueDate                      chosen by the seller (a flag of the CLI)
//
// Block numbers are not in the chaincode records: the caller takes them from
// the block events it follows or from qscc GetBlockByTxID.
//
// # Statements
//
// NewStatement builds one party's account for one calendar month (UTC): the
// lines in ledger order (block, then position in the block) with a running
// balance, checked against the ledger's balance after a line where the
// caller knows it, and against the closing balance; a difference is an error
// that names the line. Line kinds are the refund chaincode's wallet history
// kinds (mint, transfers, escrow deposit and release, service credit,
// penalty paid and received, collateral lock, release and penalty, the
// shares of an expired escrow, the refund of a period not started at
// termination), each with its sign.
package billing
