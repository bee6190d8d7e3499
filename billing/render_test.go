package billing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
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
	if got := len(rows); got != 1+1+len(st.Lines)+1+len(st.Periods) {
		t.Errorf("statement CSV has %d rows, want header, opening, %d lines, closing, %d periods", got, len(st.Lines), len(st.Periods))
	}
	// The periods in SLA and period order: the settled one nets the fee
	// less the credit, the held one the whole fee.
	want := []string{
		"period demo-sla 2026-12-06T10:00:00Z SETTLED fee 100000 credit 30000 back 30000 net 70000 closed f0e1d2c3",
		"period demo-sla 2026-12-06T10:02:00Z HELD fee 100000 credit 0 back 0 net 100000 closed ",
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var got []string
	for _, r := range rows[1:] {
		if r[col["row_type"]] == "period" {
			got = append(got, fmt.Sprintf("period %s %s %s fee %s credit %s back %s net %s closed %s", r[col["sla_id"]], r[col["period"]],
				r[col["escrow_status"]], r[col["fee_minor"]], r[col["credit_minor"]], r[col["back_to_client_minor"]], r[col["net_minor"]], r[col["closed_tx_id"]]))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statement CSV period rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
