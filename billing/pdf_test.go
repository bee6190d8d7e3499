package billing

import (
	"bytes"
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
