package billing

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// PDFProducer is the PDF's Producer entry. It is fixed (fpdf would write
// its own version) so that a library upgrade alone does not change the
// bytes of an invoice.
const PDFProducer = "slasa billing"

// Page geometry of the invoice PDF, in millimetres (A4 portrait).
const (
	pdfMargin = 15.0
	pdfWidth  = 210.0 - 2*pdfMargin
)

// WritePDF writes the invoice as a one- or more-page A4 PDF: seller and
// buyer blocks, the invoice number and dates, the line items with
// right-aligned amounts, the totals and status, the provenance of every
// line in small print, and page numbers.
//
// The output is deterministic: the same invoice gives the same bytes. The
// creation and modification dates are the invoice's period end (not the
// time of rendering), the producer is PDFProducer, the resource catalogs
// are sorted, and the page streams are not compressed (so the bytes do not
// depend on the Go version's flate encoder either). Text uses the PDF core
// font Helvetica in the Windows-1252 encoding: characters outside it
// print as replacements.
func (inv *Invoice) WritePDF(w io.Writer) error {
	stamp, err := time.Parse(time.RFC3339, inv.PeriodEnd)
	if err != nil {
		return fmt.Errorf("period_end %q: %w", inv.PeriodEnd, err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(stamp.UTC())
	pdf.SetModificationDate(stamp.UTC())
	pdf.SetCatalogSort(true)
	pdf.SetCompression(false)
	pdf.SetProducer(PDFProducer, false)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, 20)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(tr("Invoice "+inv.Number), false)
	pdf.SetAuthor(tr(inv.Seller.CommonName), false)
	pdf.SetSubject(tr("SLA "+inv.SLAID+", period "+inv.Period), false)
	pdf.SetCreator(PDFProducer, false)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-15)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(100, 100, 100)
		pdf.CellFormat(pdfWidth/2, 5, tr("Invoice "+inv.Number), "", 0, "L", false, 0, "")
		pdf.CellFormat(pdfWidth/2, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	// Title and invoice data (right), seller (left).
	top := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(pdfWidth, 10, "INVOICE", "", 1, "R", false, 0, "")
	meta := [][2]string{
		{"Invoice number", inv.Number},
		{"Issue date", inv.IssueDate},
		{"Due date", inv.DueDate},
		{"Currency", inv.Currency},
	}
	pdf.SetFont("Helvetica", "", 9)
	for _, m := range meta {
		pdf.SetX(pdfMargin + pdfWidth - 85)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(35, 5, tr(m[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.CellFormat(50, 5, tr(m[1]), "", 1, "R", false, 0, "")
	}
	metaBottom := pdf.GetY()
	pdf.SetY(top)
	partyBlock(pdf, tr, "From (seller)", inv.Seller, 90)
	pdf.SetY(max(pdf.GetY(), metaBottom) + 6)
	partyBlock(pdf, tr, "Bill to (buyer)", inv.Buyer, pdfWidth)
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(pdfWidth, 4.5, tr("Service level agreement: "+slaText(inv)+"\nBilling period: "+inv.Period+" to "+inv.PeriodEnd), "", "L", false)
	pdf.Ln(4)

	// Line items.
	cols := []float64{10, 110, 22, 38}
	tableHeader(pdf, cols)
	for _, l := range inv.Lines {
		itemRow(pdf, tr, cols, strconv.Itoa(l.No), l.Description, l.Rate, l.Amount.String())
	}
	pdf.Ln(2)

	// Totals.
	totals := []struct {
		label string
		a     Amount
		bold  bool
	}{
		{"Subtotal", inv.Subtotal, false},
		{"Credits", inv.Credits, false},
		{"Total due", inv.TotalDue, true},
		{"Paid (net of refunds)", inv.Paid, false},
		{"Balance", inv.Balance, true},
	}
	for _, t := range totals {
		style, border := "", ""
		if t.bold {
			style, border = "B", "T"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.SetX(pdfMargin + pdfWidth - 95)
		pdf.CellFormat(57, 6, t.label, border, 0, "L", false, 0, "")
		pdf.CellFormat(38, 6, t.a.String(), border, 1, "R", false, 0, "")
	}
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(pdfWidth, 7, tr("Status: "+inv.StatusText()), "1", 1, "L", false, 0, "")

	if len(inv.Unpaid) > 0 {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.MultiCell(pdfWidth, 5, tr("Owed by the seller and not covered by its collateral (not included in the total due): "+inv.UnpaidPenalties.String()), "", "L", false)
		pdf.SetFont("Helvetica", "", 9)
		for _, l := range inv.Unpaid {
			itemRow(pdf, tr, cols, "U"+strconv.Itoa(l.No), l.Description, "", l.Amount.String())
		}
	}

	// Provenance, small print.
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "B", 7)
	pdf.CellFormat(pdfWidth, 4, "Provenance on the Hyperledger Fabric ledger", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 6.5)
	prov := func(no string, p Provenance) {
		text := "Line " + no + ": "
		if p.TxID == "" {
			text += "not paid yet"
		} else {
			text += "tx " + p.TxID + ", block " + strconv.FormatUint(p.Block, 10)
		}
		if p.VerdictID != "" || p.EnclaveID != "" || p.ReportDigest != "" {
			text += "; verdict " + dash(p.VerdictID) + ", enclave " + dash(p.EnclaveID) + ", report digest " + dash(p.ReportDigest)
		}
		pdf.MultiCell(pdfWidth, 3.2, tr(text), "", "L", false)
	}
	for _, l := range inv.Lines {
		prov(strconv.Itoa(l.No), l.Provenance)
	}
	for _, l := range inv.Unpaid {
		prov("U"+strconv.Itoa(l.No), l.Provenance)
	}
	pdf.MultiCell(pdfWidth, 3.2, tr("Anyone with access to the channel can look up each transaction (qscc GetTransactionByID) and check these figures. Invoice number: "+
		InvoiceNumberPrefix+"-<period start date>-<first 10 hex digits of SHA-256(\"slasa.invoice/v1\\n\" + SLA id + \"\\n\" + period)>."), "", "L", false)

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return pdf.Output(w)
}

// partyBlock writes a titled party block of width w at the left margin.
func partyBlock(pdf *fpdf.Fpdf, tr func(string) string, title string, p Party, w float64) {
	pdf.SetX(pdfMargin)
	pdf.SetFont("Helvetica", "B", 9)
	pdf.CellFormat(w, 5, tr(title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(w, 6, tr(p.CommonName), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	pdf.MultiCell(w, 4, tr("Organization (MSP): "+p.MSPID+"\nWallet: "+p.Wallet+"\n"+p.Subject), "", "L", false)
}

// tableHeader writes the line-item table's header row.
func tableHeader(pdf *fpdf.Fpdf, cols []float64) {
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetFillColor(230, 230, 230)
	for i, h := range []string{"#", "Description", "Rate", "Amount"} {
		align := "L"
		if i >= 2 {
			align = "R"
		}
		pdf.CellFormat(cols[i], 7, h, "TB", 0, align, true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
}

// itemRow writes one line-item row; the description wraps, the other
// cells take its height.
func itemRow(pdf *fpdf.Fpdf, tr func(string) string, cols []float64, no, desc, rate, amount string) {
	lines := pdf.SplitText(tr(desc), cols[1]-2)
	h := 5.5 * float64(max(len(lines), 1))
	_, pageH := pdf.GetPageSize()
	if pdf.GetY()+h > pageH-25 {
		pdf.AddPage()
		tableHeader(pdf, cols)
	}
	x, y := pdf.GetXY()
	pdf.CellFormat(cols[0], 5.5, no, "", 0, "L", false, 0, "")
	for i, l := range lines {
		pdf.SetXY(x+cols[0], y+5.5*float64(i))
		pdf.CellFormat(cols[1], 5.5, l, "", 0, "L", false, 0, "")
	}
	// Number, rate and amount on the description's first line; one rule
	// under the whole row.
	pdf.SetXY(x+cols[0]+cols[1], y)
	pdf.CellFormat(cols[2], 5.5, rate, "", 0, "R", false, 0, "")
	pdf.CellFormat(cols[3], 5.5, amount, "", 0, "R", false, 0, "")
	pdf.Line(x, y+h, x+pdfWidth, y+h)
	pdf.SetXY(x, y+h)
}
