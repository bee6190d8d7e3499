package billing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestInvoiceRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   InvoiceInput
	}{
		{"invoice-demo", demoInvoice()},
		{"invoice-penalty", penaltyInvoice()},
	} {
		inv, err := NewInvoice(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		var table, js, cs bytes.Buffer
		if err := inv.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, inv); err != nil {
			t.Fatal(err)
		}
		if err := inv.WriteCSV(&cs); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.name+".txt", table.Bytes())
		golden(t, tt.name+".json", js.Bytes())
		golden(t, tt.name+".csv", cs.Bytes())
		checkCSV(t, tt.name, cs.Bytes(), invoiceCSVHeader)
		var back map[string]any
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatalf("%s: JSON does not parse: %v", tt.name, err)
		}
	}
}

func TestStatementRenderGolden(t *testing.T) {
	st, err := NewStatement(demoStatement())
	if err != nil {
		t.Fatal(err)
	}
	var table, js, cs bytes.Buffer
	if err := st.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, st); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	golden(t, "statement-demo.txt", table.Bytes())
	golden(t, "statement-demo.json", js.Bytes())
	golden(t, "statement-demo.csv", cs.Bytes())
	rows := checkCSV(t, "statement", cs.Bytes(), statementCSVHeader)
	if got := len(rows); got != 1+1+len(st.Lines)+1 {
		t.Errorf("statement CSV has %d rows, want header, opening, %d lines, closing", got, len(st.Lines))
	}
}

// checkCSV parses the CSV strictly (RFC 4180: same field count on every
// row, CRLF line ends) and checks the header.
func checkCSV(t *testing.T, name string, data []byte, header []string) [][]string {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Errorf("%s: CSV lines do not all end in CRLF", name)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: CSV does not parse: %v", name, err)
	}
	if strings.Join(rows[0], ",") != strings.Join(header, ",") {
		t.Errorf("%s: header %v", name, rows[0])
	}
	return rows
}

func TestWriteJSONRefusesOtherTypes(t *testing.T) {
	if err := WriteJSON(&bytes.Buffer{}, Invoice{}); err == nil || !strings.Contains(err.Error(), "billing.Invoice is not an *Invoice or *Statement") {
		t.Errorf("WriteJSON(Invoice{}) error = %v", err)
	}
}
