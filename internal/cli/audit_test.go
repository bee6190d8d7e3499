package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestAuditCheck(t *testing.T) {
	ok := []walletAccount{{ID: "client", Base: -300, Pending: 1000, Balance: 700}, {ID: "provider", Base: 800, Balance: 800}}
	held := []escrowSummary{{SLAID: "s", Period: "p1", Status: "HELD", Amount: 500, Held: 500}, {SLAID: "s", Period: "p0", Status: "SETTLED", Amount: 500}}
	supply := []supplyRecord{{IssuerMSPID: "ProviderOrgMSP", Minted: 2000}}
	var a audit
	a.check(ok, held, nil, supply)
	if !a.Consistent || a.Balances != 1500 || a.Held != 500 || a.Supply != 2000 || a.Difference != 0 || a.Wallets != 2 || a.Escrows != 2 {
		t.Fatalf("%+v", a)
	}
	for _, tc := range []struct {
		name     string
		wallets  []walletAccount
		escrows  []escrowSummary
		supplies []supplyRecord
		want     []string
	}{
		{"money from nothing", append(ok, walletAccount{ID: "x", Pending: 7, Balance: 7}), held, supply,
			[]string{"wallets 1507 + held escrow 500 + held collateral 0 = 2007, but the supply is 2000: +7"}},
		{"negative balance", []walletAccount{ok[0], {ID: "provider", Base: -10, Balance: -10}, {ID: "z", Base: 810, Balance: 810}}, held, supply,
			[]string{"wallet provider has a negative balance -10"}},
		{"balance is not base + pending", []walletAccount{ok[0], {ID: "provider", Base: 700, Balance: 800}}, held, supply,
			[]string{"wallet provider: base 700 + pending 0 is not its balance 800"}},
		{"settled escrow still holding", ok, []escrowSummary{held[0], {SLAID: "s", Period: "p0", Status: "SETTLED", Amount: 500, Held: 500}}, []supplyRecord{{Minted: 2500}},
			[]string{"escrow s/p0 is SETTLED and holds 500 of 500"}},
		{"no supply", ok, held, nil, []string{"wallets 1500 + held escrow 500 + held collateral 0 = 2000, but the supply is 0: +2000"}},
		{"overflow", []walletAccount{{ID: "a", Base: 1 << 62, Balance: 1 << 62}, {ID: "b", Base: 1 << 62, Balance: 1 << 62}}, nil, nil,
			[]string{"the sums overflow int64: more money than can exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a audit
			a.check(tc.wallets, tc.escrows, nil, tc.supplies)
			if a.Consistent {
				t.Fatal("consistent")
			}
			for _, w := range tc.want {
				found := false
				for _, p := range a.Problems {
					found = found || p == w
				}
				if !found {
					t.Fatalf("problems %q, want %q", a.Problems, w)
				}
			}
			var buf bytes.Buffer
			if err := writeAudit(&buf, a); err != nil || !strings.Contains(buf.String(), "NOT consistent") || !strings.Contains(buf.String(), "problem: "+tc.want[0]) {
				t.Fatalf("%v\n%s", err, buf.String())
			}
		})
	}
}

// TestAuditCollateral: held collateral counts with the money; expired and
// refunded escrow holds nothing; a hold must add up.
func TestAuditCollateral(t *testing.T) {
	wallets := []walletAccount{{ID: "client", Base: 1000, Balance: 1000}}
	escrows := []escrowSummary{{SLAID: "s", Period: "p1", Status: "EXPIRED", Amount: 500}, {SLAID: "s", Period: "p2", Status: "REFUNDED", Amount: 500}}
	holds := []holdSummary{{SLAID: "s", Status: "LOCKED", Amount: 400, Held: 300, Drawn: 100}, {SLAID: "r", Status: "RELEASED", Amount: 200, Drawn: 50, Released: 150}}
	var a audit
	a.check(wallets, escrows, holds, []supplyRecord{{Minted: 1300}})
	if !a.Consistent || a.Collateral != 300 || a.Holds != 2 {
		t.Fatalf("%+v", a)
	}
	for _, tc := range []struct {
		name  string
		holds []holdSummary
		want  string
	}{
		{"does not add up", []holdSummary{{SLAID: "s", Status: "LOCKED", Amount: 400, Held: 300}}, "collateral of s is LOCKED and holds 300 of 400 (drawn 0, released 0)"},
		{"released but holding", []holdSummary{{SLAID: "s", Status: "RELEASED", Amount: 300, Held: 300}}, "collateral of s is RELEASED and holds 300 of 300 (drawn 0, released 0)"},
	} {
		var b audit
		b.check(wallets, escrows, tc.holds, []supplyRecord{{Minted: 1300}})
		found := false
		for _, p := range b.Problems {
			found = found || p == tc.want
		}
		if b.Consistent || !found {
			t.Fatalf("%s: problems %q, want %q", tc.name, b.Problems, tc.want)
		}
	}
}

func TestScorePages(t *testing.T) {
	var s score
	s.add(score{Bookmark: "b", Months: []monthScore{
		{Month: "2026-10", tally: tally{Periods: 2, Violated: 1, Credits: 10, Penalties: 1, ComplianceBPS: 5000}},
		{Month: "2026-12", tally: tally{Periods: 1, NoVerdict: 2, ComplianceBPS: 10000}}}, tally: tally{Periods: 3, Violated: 1, NoVerdict: 2, Credits: 10, Penalties: 1, ComplianceBPS: 6666}})
	s.add(score{Months: []monthScore{
		{Month: "2026-11", tally: tally{Periods: 1, Violated: 1, Credits: 5}},
		{Month: "2026-12", tally: tally{NoVerdict: 1}}}, tally: tally{Periods: 1, Violated: 1, NoVerdict: 1, Credits: 5, ComplianceBPS: 0}})
	if s.Periods != 4 || s.Violated != 2 || s.NoVerdict != 3 || s.Credits != 15 || s.Penalties != 1 || s.ComplianceBPS != 5000 || s.Bookmark != "" {
		t.Fatalf("%+v", s)
	}
	want := []monthScore{
		{Month: "2026-10", tally: tally{Periods: 2, Violated: 1, Credits: 10, Penalties: 1, ComplianceBPS: 5000}},
		{Month: "2026-11", tally: tally{Periods: 1, Violated: 1, Credits: 5}},
		{Month: "2026-12", tally: tally{Periods: 1, NoVerdict: 3, ComplianceBPS: 10000}}}
	if !slices.Equal(s.Months, want) {
		t.Fatalf("months %+v, want %+v", s.Months, want)
	}
	var buf bytes.Buffer
	if err := writeScore(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\nMONTH    SETTLED  VIOLATED  NO VERDICT  COMPLIANCE  CREDITS  PENALTIES\n2026-10  2        1         0           50%         10       1\n2026-11  1        1         0           0%          5        0\n2026-12  1        0         3           100%        0        0\n") {
		t.Fatalf("slasa reputation output:\n%s", buf.String())
	}
}

func TestWalletOutput(t *testing.T) {
	f := balanceFields(walletAccount{ID: "client", Base: -300, Pending: 1000, PendingCredits: 2, Balance: 700})
	if f[2] != [2]string{"base", "-300 (-3.00)"} || f[3] != [2]string{"pending credits", "1000 (10.00) in 2 credits"} || f[4] != [2]string{"balance", "700 (7.00)"} {
		t.Fatalf("%q", f)
	}
	var buf bytes.Buffer
	err := writeHistory(&buf, historyPage{Wallet: "client", Bookmark: "delta/client/1", Entries: []walletEntry{
		{Timestamp: "t1", Kind: "escrow_deposit", Amount: -300, Counterparty: "escrow", Reference: "sla/p"},
		{Timestamp: "t2", Kind: "mint", Amount: 1000, Pending: true},
	}})
	out := buf.String()
	if err != nil || !strings.Contains(out, "STATE") || !strings.Contains(out, "in base") || !strings.Contains(out, "pending") ||
		!strings.Contains(out, "-300") || !strings.Contains(out, "+1000") || !strings.HasSuffix(out, "more: --bookmark 'delta/client/1'\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}
