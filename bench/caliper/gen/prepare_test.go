package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestExpiringSLATemplate: the claim-expired round's SLAs are the
// benchmark's template with expiringTerms (no collateral: the schema needs
// an escrow_expiry with a collateral, not the reverse), a valid document;
// below the schema's 60 s it would not be.
func TestExpiringSLATemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s.Consequences.CollateralMinor != 0 {
		t.Fatalf("the template has a collateral of %d: gen prepare does not lock collateral", s.Consequences.CollateralMinor)
	}
	s.Consequences.EscrowExpiry = expiringTerms()
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sla.Parse(doc); err != nil {
		t.Fatalf("the claim-expired SLA: %v", err)
	}
	s.Consequences.EscrowExpiry.VerdictWithinSeconds = expiryVerdictWithin - 1
	if doc, err = json.Marshal(s); err != nil {
		t.Fatal(err)
	}
	if _, err := sla.Parse(doc); err == nil || !strings.Contains(err.Error(), "verdict_within_seconds") {
		t.Fatalf("a deadline of %d s: %v", expiryVerdictWithin-1, err)
	}
}

func TestExpiringIDsDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		id, pw, cw := expiringIDs("b1", i)
		for _, k := range []string{id, pw, cw, fmt.Sprintf("b1-p-%05d", i), fmt.Sprintf("b1-c-%05d", i)} {
			if seen[k] {
				t.Fatalf("%q twice", k)
			}
			seen[k] = true
		}
	}
}

func TestPaidPeriod(t *testing.T) {
	const period = 30 * time.Second
	tests := []struct {
		name, raw, want, wantErr string
	}{
		{"one period", `{"status":"ACTIVE","last_period":"2026-12-06T10:00:30Z","paid_through":"2026-12-06T10:01:00Z","paid_periods":1}`, "2026-12-06T10:00:30Z", ""},
		{"proposed", `{"status":"PROPOSED","paid_periods":0}`, "", "status PROPOSED with 0 periods paid; want ACTIVE with one"},
		{"two periods", `{"status":"ACTIVE","last_period":"2026-12-06T10:00:30Z","paid_through":"2026-12-06T10:01:00Z","paid_periods":2}`, "", "status ACTIVE with 2 periods paid"},
		{"length", `{"status":"ACTIVE","last_period":"2026-12-06T10:00:30Z","paid_through":"2026-12-06T10:01:30Z","paid_periods":1}`, "", "paid period 2026-12-06T10:00:30Z..2026-12-06T10:01:30Z is not 30s long"},
		{"bad start", `{"status":"ACTIVE","last_period":"today","paid_through":"2026-12-06T10:01:30Z","paid_periods":1}`, "", "last_period: \"today\" is not an RFC 3339 timestamp"},
		{"not JSON", `[`, "", "GetSLA: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := paidPeriod([]byte(tt.raw), period)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestVerdictDeadline(t *testing.T) {
	escrow := func(status, expiry, deadline string) string {
		return `{"status":"` + status + `","period":"2026-12-06T10:00:30Z","period_end":"2026-12-06T10:01:00Z","expiry":` + expiry + `,"verdict_deadline":"` + deadline + `"}`
	}
	const terms = `{"verdict_within_seconds":60,"outcome":"split","client_bps":5000}`
	tests := []struct {
		name, raw, wantErr string
		want               time.Time
	}{
		{"held", escrow("HELD", terms, "2026-12-06T10:02:00Z"), "", time.Date(2026, 12, 6, 10, 2, 0, 0, time.UTC)},
		{"settled", escrow("SETTLED", terms, "2026-12-06T10:02:00Z"), `escrow status "SETTLED", want HELD`, time.Time{}},
		{"no expiry", escrow("HELD", "null", ""), "escrow expiry <nil>, want", time.Time{}},
		{"other terms", escrow("HELD", `{"verdict_within_seconds":60,"outcome":"refund_client"}`, "2026-12-06T10:02:00Z"), "escrow expiry &{VerdictWithinSeconds:60 Outcome:refund_client ClientBPS:0}", time.Time{}},
		{"late deadline", escrow("HELD", terms, "2026-12-06T10:03:00Z"), "escrow verdict_deadline 2026-12-06T10:03:00Z is not 60 s after the period's end 2026-12-06T10:01:00Z", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verdictDeadline([]byte(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestBenchmarkClaimExpiredLast: the claim-expired round comes after every
// other round (they run as before issue 17), one claim per SLA.
func TestBenchmarkClaimExpiredLast(t *testing.T) {
	b := caliperBenchmark(prepareFlags{slas: 40, batches: 3, workers: 2, load: 4}, "/out")
	rounds := b["test"].(map[string]any)["rounds"].([]any)
	m := rounds[len(rounds)-1].(map[string]any)
	w := m["workload"].(map[string]any)
	if m["label"] != roundClaimExpired || m["txNumber"] != 40 || w["module"] != "workloads/claimexpired.js" ||
		w["arguments"].(map[string]any)["payloads"] != "/out/payloads.json" {
		t.Fatalf("last round %+v", m)
	}
}
