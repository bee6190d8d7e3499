package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/slasa/slasa/sla"
)

// TestTicketSLATemplate: the ticket SLA is the benchmark's template with the
// telecom example's support terms (gen prepare's defaults); the pair must
// make a valid document with the critical severity the create-ticket round
// opens tickets of.
func TestTicketSLATemplate(t *testing.T) {
	read := func(path string) *sla.SLA {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", path))
		if err != nil {
			t.Fatal(err)
		}
		s, err := sla.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return s
	}
	s := read(filepath.Join("examples", "aws-ec2-region", "sla.json"))
	terms := read(filepath.Join("examples", "telecom", "sla.json"))
	if terms.Support == nil {
		t.Fatal("examples/telecom has no support section")
	}
	s.Support = terms.Support
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sla.Parse(doc)
	if err != nil {
		t.Fatalf("the ticket SLA: %v", err)
	}
	found := false
	for _, sev := range got.Support.Severities {
		found = found || sev.ID == "critical"
	}
	if !found {
		t.Fatal("the ticket SLA has no critical severity (workloads/createticket.js)")
	}
}
