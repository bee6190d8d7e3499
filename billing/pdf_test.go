package billing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestInvoicePDFDeterministic(t *testing.T) {
	inv, err := NewInvoice(penaltyInvoice())
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := inv.WritePDF(&a); err != nil {
		t.Fatal(err)
	}
	if err := inv.WritePDF(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of the same invoice differ")
	}
	// Across runs and machines too: the bytes' digest is golden (a new fpdf
	// version that changes them shows up here).
	sum := sha256.Sum256(a.Bytes())
	golden(t, "invoice-penalty.pdf.sha256", []byte(hex.EncodeToString(sum[:])+"\n"))
	for _, want := range []string{"/CreationDate (D:20261206100200)", "/ModDate (D:20261206100200)", "/Producer (" + PDFProducer + ")"} {
		if !bytes.Contains(a.Bytes(), []byte(want)) {
			t.Errorf("PDF lacks %s", want)
		}
	}
}

// pdfTools finds pdftotext and pdftoppm. Without them the test fails
// unless SLASA_SKIP_PDF_TOOLS=1 says to skip it.
func pdfTools(t *testing.T) (pdftotext, pdftoppm string) {
	t.Helper()
	var missing []string
	pdftotext, err1 := exec.LookPath("pdftotext")
	pdftoppm, err2 := exec.LookPath("pdftoppm")
	if err1 != nil {
		missing = append(missing, "pdftotext")
	}
	if err2 != nil {
		missing = append(missing, "pdftoppm")
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, " and ") + " not on PATH: install Debian's poppler-utils (apt-get install -y poppler-utils)"
		if os.Getenv("SLASA_SKIP_PDF_TOOLS") == "1" {
			t.Skip(msg + "; skipped because SLASA_SKIP_PDF_TOOLS=1")
		}
		t.Fatal(msg + ", or set SLASA_SKIP_PDF_TOOLS=1 to skip this check")
	}
	return pdftotext, pdftoppm
}

// manyPenalties is demoInvoice with 60 ticket penalties, all paid: more
// lines than a page holds.
func manyPenalties() InvoiceInput {
	in := demoInvoice()
	for i := range 60 {
		in.Penalties = append(in.Penalties, PenaltyInput{
			Description: fmt.Sprintf("ticket T-%03d resolved late", i+1), Owed: 500, Paid: 500,
			Ref: in.Settlement.Ref, Verdict: demoVerdict,
		})
		in.Settlement.Refund += 500
	}
	return in
}

func TestInvoicePDFText(t *testing.T) {
	pdftotext, pdftoppm := pdfTools(t)
	for _, tt := range []struct {
		name string
		in   InvoiceInput
		want []string
	}{
		{"demo", demoInvoice(), []string{
			`INVOICE`, `SLA-20261206-8871AE8843`, `Issue date\s+2026-12-06`, `Due date\s+2026-12-20`,
			`SLA service credit, tier 30.00%\s+30.00%\s+USD -300.00`, `Service fee, 2026-12-06 10:00 to 2026-12-06 10:02 UTC\s+USD 1,000.00`,
			`Total due\s+USD 700.00`, `Status: PAID`, `provider@providerorg.slasa.local`, `client@clientorg.slasa.local`,
			`tx f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f, block 31`, `Page 1 of 1`,
		}},
		{"penalty", penaltyInvoice(), []string{
			`SLA service credit, tier 100.00%\s+100.00%\s+USD -1,000.00`, `3\s+Penalty: fixed penalty[^\n]*USD -1,200.00`,
			`Total due\s+USD -1,200.00`, `not included in the total due\): USD -300.00`,
		}},
		{"many pages", manyPenalties(), []string{
			`62\s+Penalty: ticket T-060 resolved late[^\n]*USD -5.00`, `Total due\s+USD 400.00`,
			`Page 1 of \d+\s+#\s+Description\s+Rate\s+Amount`, // the table header repeats
		}},
	} {
		inv, err := NewInvoice(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "invoice.pdf")
		var buf bytes.Buffer
		if err := inv.WritePDF(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: pdftotext: %v\n%s", tt.name, err, out)
		}
		for _, w := range tt.want {
			if !regexp.MustCompile(w).Match(out) {
				t.Errorf("%s: the PDF's text lacks %q; text:\n%s", tt.name, w, out)
			}
		}
		// Every page numbered "Page i of n", i from 1 to n.
		pages := regexp.MustCompile(`Page (\d+) of (\d+)`).FindAllSubmatch(out, -1)
		for i, m := range pages {
			if want := fmt.Sprint(i + 1); string(m[1]) != want || string(m[2]) != fmt.Sprint(len(pages)) {
				t.Errorf("%s: page footer %q, want Page %s of %d", tt.name, m[0], want, len(pages))
			}
		}
		if tt.name == "many pages" && len(pages) < 2 {
			t.Errorf("%s: %d pages, want more than one", tt.name, len(pages))
		}
		if tt.name != "demo" {
			continue
		}
		// One page as PNG: it renders, at A4 proportions, and is not blank.
		if out, err := exec.Command(pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		f, err := os.Open(filepath.Join(dir, "page.png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("page.png: %v", err)
		}
		bounds := img.Bounds()
		if w, h := bounds.Dx(), bounds.Dy(); w < 400 || w > 420 || h < 575 || h > 590 {
			t.Errorf("page image is %dx%d, want A4 at 50 dpi (413x585)", w, h)
		}
		dark := 0
		for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
			for x := bounds.Min.X; x < bounds.Max.X; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					dark++
				}
			}
		}
		if dark < 1000 {
			t.Errorf("page image has %d dark pixels: blank page?", dark)
		}
	}
}
