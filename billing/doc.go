// Package billing turns what the ledger records about an SLA into the
// documents a finance team works with: invoices and account statements, in
// minor-unit integer arithmetic, rendered as a text table, JSON, CSV or (for
// invoices) PDF.
//
// The package is plain Go: it imports no Fabric package and reads no ledger.
// Its callers fill InvoiceInput and StatementInput from the refund and
// agreement chaincodes' query answers and from the block events (every figure
// with the transaction id and block number that wrote it), so the same input
// gives the same document on every peer, byte for byte.
//
// Money is an Amount: int64 minor units of an ISO 4217 currency, with the
// minor unit (USD 2, JPY 0, BHD 3, CLF 4) taken from an embedded copy of ISO
// 4217 List One. Sums and differences are overflow-checked; there are no
// floating point numbers. Amounts print as "USD 1,234.56" and "USD -12.00"
// (code, then the signed number; see Amount.Format).
package billing
