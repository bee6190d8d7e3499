package billing

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./billing/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

var (
	provider = Party{
		MSPID: "ProviderOrgMSP", CommonName: "provider@providerorg.slasa.local", Wallet: "provider",
		Subject: "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
		Issuer:  "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US",
	}
	client = Party{
		MSPID: "ClientOrgMSP", CommonName: "client@clientorg.slasa.local", Wallet: "client",
		Subject: "CN=client@clientorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
		Issuer:  "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US",
	}
	// demoVerdict refers to demoVerdictRecord (VerdictID checks the id).
	demoVerdict = VerdictRef{
		VerdictID:    "32a80eb9576fb912c5499d0fac515d3d9262ab247f430da090cb2437042c6dcf",
		EnclaveID:    "3F2A9C1D7E5B4A60C8D2E6F1A3B5C7D9E0F2A4B6C8D0E1F3A5B7C9D1E3F5A7B9",
		ReportDigest: "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b",
	}
)

// demoInvoice is the demo's story: a 1,000.00 USD period, uptime 95.83 %,
// tier 30 %: 300.00 USD back to the client, 700.00 USD to the provider.
func demoInvoice() InvoiceInput {
	return InvoiceInput{
		SLAID: "demo-sla", SLATitle: "Demo web service SLA", Service: "Demo web service in three availability zones",
		Period: "2026-12-06T10:00:00Z", PeriodEnd: "2026-12-06T10:02:00Z", DueDate: "2026-12-20",
		Currency: "USD", Seller: provider, Buyer: client, Fee: 100000,
		Deposit: &Payment{Amount: 100000, Ref: LedgerRef{TxID: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", Block: 12}},
		Settlement: &SettlementInput{
			Ref:       LedgerRef{TxID: "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f", Block: 31},
			Verdict:   demoVerdict,
			CreditBPS: 3000, Credit: 30000, Released: 70000, Refund: 30000,
		},
	}
}

// penaltyInvoice is demoInvoice with a 100 % credit and a 1,500.00 USD
// penalty of which the collateral covered 1,200.00.
func penaltyInvoice() InvoiceInput {
	in := demoInvoice()
	in.Settlement.CreditBPS, in.Settlement.Credit, in.Settlement.Released, in.Settlement.Refund = 10000, 100000, 0, 220000
	in.Penalties = []PenaltyInput{{
		Description: "fixed penalty for availability below 95.0%", Owed: 150000, Paid: 120000,
		Ref: in.Settlement.Ref, Verdict: demoVerdict,
	}}
	return in
}

func i64(v int64) *int64 { return &v }

// demoStatement is the client's December: a mint, two periods' fees into
// escrow, the first period's credit, a transfer out.
func demoStatement() StatementInput {
	return StatementInput{
		Party: client, Role: "client", Month: "2026-12", Currency: "USD", Opening: 50000, Closing: 815000,
		Lines: []StatementLineInput{
			// Given out of order: NewStatement orders by block and position.
			{Time: "2026-12-06T10:02:09Z", Ref: LedgerRef{TxID: "f0e1d2c3", Block: 31}, TxIndex: 0, Kind: KindServiceCredit,
				SLAID: "demo-sla", Period: "2026-12-06T10:00:00Z", Counterparty: "escrow", Amount: 30000,
				Verdict: &demoVerdict, CreditBPS: 3000, BalanceAfter: i64(880000)},
			{Time: "2026-12-01T09:00:00Z", Ref: LedgerRef{TxID: "0aa1", Block: 3}, Kind: KindMint, Counterparty: "issuer admin", Amount: 1000000},
			{Time: "2026-12-06T09:59:00Z", Ref: LedgerRef{TxID: "a1b2c3d4", Block: 12}, TxIndex: 1, Kind: KindEscrowDeposit,
				SLAID: "demo-sla", Period: "2026-12-06T10:00:00Z", Counterparty: "escrow", Amount: -100000},
			{Time: "2026-12-06T10:01:00Z", Ref: LedgerRef{TxID: "b7c8", Block: 20}, Kind: KindEscrowDeposit,
				SLAID: "demo-sla", Period: "2026-12-06T10:02:00Z", Counterparty: "escrow", Amount: -100000},
			{Time: "2026-12-31T23:59:59Z", Ref: LedgerRef{TxID: "c9d0", Block: 40}, Kind: KindTransferOut,
				Counterparty: "supplier", Description: "Transfer to supplier", Amount: -65000},
		},
		// Given out of order: NewStatement orders by SLA and period.
		Periods: []PeriodInput{
			{SLAID: "demo-sla", Period: "2026-12-06T10:02:00Z", PeriodEnd: "2026-12-06T10:04:00Z", Fee: 100000,
				Status: EscrowHeld, Held: 100000, Deposit: LedgerRef{TxID: "b7c8", Block: 20}},
			{SLAID: "demo-sla", Period: "2026-12-06T10:00:00Z", PeriodEnd: "2026-12-06T10:02:00Z", Fee: 100000,
				Status: EscrowSettled, Deposit: LedgerRef{TxID: "a1b2c3d4", Block: 12}, Verdict: &demoVerdict,
				CreditBPS: 3000, Credit: 30000, Closed: &LedgerRef{TxID: "f0e1d2c3", Block: 31}},
		},
	}
}
