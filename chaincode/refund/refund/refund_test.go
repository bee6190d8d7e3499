package refund_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
)

const RF = cctest.Refund

func TestWallets(t *testing.T) {
	n := cctest.New(t)
	var a refund.Account
	if err := json.Unmarshal([]byte(n.MustSubmit(n.Client, RF, "OpenAccount", "client")), &a); err != nil || a.Owner != cctest.ID(n.Client) || a.Balance != 0 {
		t.Fatalf("open: %+v %v", a, err)
	}
	n.MustSubmit(n.Provider, RF, "OpenAccount", "provider")
	n.ExpectError(n.Provider, RF, "OpenAccount", `wallet "client" already exists`, "client")
	n.ExpectError(cctest.SameCN(n.ClientCA2, n.Client, "client"), RF, "OpenAccount", `wallet "client" already exists`, "client")
	n.ExpectError(n.Provider, RF, "OpenAccount", `id: "-x" is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)`, "-x")
	n.ExpectError(n.Provider, RF, "OpenAccount", `id: "" is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)`, "")
	// OtherOrg runs no peer of the configuration: nobody could co-endorse
	// its wallet's debits but the other organizations.
	for _, who := range []*fabricfake.Identity{n.Stranger, n.OtherAdmin} {
		n.ExpectError(who, RF, "OpenAccount", "a wallet's owner must belong to an organization of the deploy configuration (ClientOrgMSP, ProviderOrgMSP), whose peer endorses the wallet's debits; OtherOrgMSP does not", "other")
	}
	if p := fabricfake.DescribePolicy(n.World.ValidationParameter(RF, cctest.AccountKey("client"))); p != "OutOf(2, 'ClientOrgMSP.peer', OutOf(1, 'ProviderOrgMSP.peer'))" {
		t.Fatalf("wallet policy %s", p)
	}

	// Mint: only an admin of the issuer MSP.
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "1000")
	for _, tc := range []struct {
		who  *fabricfake.Identity
		want string
	}{
		{n.IssuerClient, `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{n.Provider, `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{n.Logger, `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{cctest.SameCN(n.ProviderCA2, n.Issuer, "client"), `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{n.ClientAdmin, "is not a member of ProviderOrgMSP"},
		{n.OtherAdmin, "is not a member of ProviderOrgMSP"},
		{n.Client, "is not a member of ProviderOrgMSP"},
		{n.Stranger, "is not a member of ProviderOrgMSP"},
		{cctest.SameCN(n.ClientCA, n.Issuer, "admin"), "is not a member of ProviderOrgMSP"},
	} {
		n.ExpectError(tc.who, RF, "Mint", fmt.Sprintf("only an admin of the issuer ProviderOrgMSP may mint: the caller %s %s", cctest.ID(tc.who), tc.want), "client", "1000")
	}
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "0" is not a positive integer of minor units`, "client", "0")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "-5" is not a positive integer of minor units`, "client", "-5")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "1.5" is not a positive integer of minor units`, "client", "1.5")
	n.ExpectError(n.Issuer, RF, "Mint", `amount: "9223372036854775808" is not a positive integer of minor units`, "client", "9223372036854775808")
	n.ExpectError(n.Issuer, RF, "Mint", `wallet "ghost" does not exist`, "ghost", "5")
	n.ExpectError(n.Issuer, RF, "Mint", `supply of ProviderOrgMSP: amount overflow: 1000 + 9223372036854775807 exceeds 9223372036854775807`, "client", "9223372036854775807")

	// Transfer: only the owner, by full identity.
	n.MustSubmit(n.Client, RF, "Transfer", "client", "provider", "300")
	if n.Balance("client") != 700 || n.Balance("provider") != 300 {
		t.Fatalf("balances %d %d", n.Balance("client"), n.Balance("provider"))
	}
	for _, who := range []*fabricfake.Identity{n.Provider, n.Issuer, cctest.SameCN(n.ClientCA2, n.Client, "client"), cctest.SameCN(n.ClientCA, n.Client, "admin")} {
		n.ExpectError(who, RF, "Transfer", fmt.Sprintf(`wallet "client" is owned by %s, not by the submitter %s`, cctest.ID(n.Client), cctest.ID(who)), "client", "provider", "1")
	}
	n.ExpectError(n.Client, RF, "Transfer", `wallet "client": insufficient balance 700 for 701`, "client", "provider", "701")
	n.ExpectError(n.Client, RF, "Transfer", `to: "client" is the paying wallet itself`, "client", "client", "1")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "ghost" does not exist`, "client", "ghost", "1")
	n.ExpectError(n.Client, RF, "Transfer", `wallet "ghost" does not exist`, "ghost", "client", "1")
	n.ExpectError(n.Client, RF, "Transfer", `amount: "abc" is not a positive integer of minor units`, "client", "provider", "abc")

	// BalanceOf and History: the owner and the issuer MSP's admins.
	n.MustEvaluate(n.Client, RF, "BalanceOf", "client")
	n.MustEvaluate(n.Issuer, RF, "BalanceOf", "client")
	n.MustEvaluate(n.ProviderAdmin, RF, "History", "client", "", "")
	for _, who := range []*fabricfake.Identity{n.Provider, n.IssuerClient, n.ClientAdmin, n.Stranger, cctest.SameCN(n.ClientCA2, n.Client, "client")} {
		want := fmt.Sprintf(`wallet "client" is readable by its owner %s or an admin of the issuer ProviderOrgMSP only, not by %s`, cctest.ID(n.Client), cctest.ID(who))
		n.ExpectError(who, RF, "BalanceOf", want, "client")
		n.ExpectError(who, RF, "History", want, "client", "", "")
		n.ExpectError(who, RF, "HistoryFrom", want, "client", "2026-01-01T00:00:00Z", "", "")
		// The caller is checked before the arguments.
		n.ExpectError(who, RF, "HistoryFrom", want, "client", "not a time", "x", "")
	}
	n.ExpectError(n.Client, RF, "BalanceOf", `wallet "ghost" does not exist`, "ghost")
	// The debit is on the base; the mint is a pending credit.
	var a2 refund.Account
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, RF, "BalanceOf", "client")), &a2); err != nil {
		t.Fatal(err)
	}
	if a2.Base != -300 || a2.Pending != 1000 || a2.PendingCredits != 1 || a2.Balance != 700 {
		t.Fatalf("account %+v", a2)
	}
	h := history(t, n, n.Client, "client", "", "")
	if len(h.Entries) != 2 || h.Bookmark != "" ||
		h.Entries[0].Kind != refund.KindTransferOut || h.Entries[0].Amount != -300 || h.Entries[0].Counterparty != "provider" || h.Entries[0].Pending ||
		h.Entries[1].Kind != refund.KindMint || h.Entries[1].Amount != 1000 || h.Entries[1].Counterparty != cctest.ID(n.Issuer).String() || !h.Entries[1].Pending {
		t.Fatalf("history %+v", h)
	}
}

func history(t *testing.T, n *cctest.Net, who *fabricfake.Identity, wallet, size, bookmark string) refund.HistoryPage {
	t.Helper()
	var h refund.HistoryPage
	if err := json.Unmarshal([]byte(n.MustEvaluate(who, RF, "History", wallet, size, bookmark)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// A wallet squatted by a same-common-name certificate is not the client's:
// the client's acceptance fails instead of paying from it.
func TestSquattedWallet(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	impostor := cctest.SameCN(n.ClientCA2, n.Client, "client")
	n.MustSubmit(impostor, RF, "OpenAccount", "client")
	n.MustSubmit(n.Issuer, RF, "Mint", "client", "100000")
	n.Fund(s, 0)
	doc, d := cctest.Doc(t, s)
	n.MustPropose(s)
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d)),
		fmt.Sprintf(`pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: payer wallet "client" is owned by %s, not by the payer %s`, cctest.ID(impostor), cctest.ID(n.Client)))
}

func TestDepositEscrowOnlyFromAgreement(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.Fund(s, 200_000)
	party := func(id *fabricfake.Identity, wallet string) string {
		return fmt.Sprintf(`{"msp_id":%q,"common_name":%q,"subject":%q,"issuer":%q,"wallet":%q}`, id.MSPID, id.Cert.Subject.CommonName, cctest.DN(id), cctest.IssuerDN(id), wallet)
	}
	dep := `{"sla_id":"sla-1","period":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":100000,"currency":"USD",` +
		`"payer":` + party(n.Client, "client") + `,"provider":` + party(n.Provider, "provider") + `,"product_id":"p"}`
	n.ExpectError(n.Client, RF, "DepositEscrow", `DepositEscrow may be called only by the agreement chaincode, not in a transaction of "refund"`, dep)

	// Called as if from the agreement chaincode: the payload checks.
	c := n.RefundContract()
	impostor := cctest.SameCN(n.ClientCA2, n.Client, "client")
	for _, tc := range []struct {
		name string
		id   *fabricfake.Identity
		arg  string
		want string
	}{
		{"malformed", n.Client, "{", "depositJSON: unexpected EOF"},
		{"unknown field", n.Client, `{"x":1}`, `depositJSON: json: unknown field "x"`},
		{"no amount", n.Client, strings.Replace(dep, `"amount":100000`, `"amount":0`, 1), "deposit.amount: 0 is not positive"},
		{"bad period", n.Client, strings.Replace(dep, `"period":"2026-01-01T00:00:00Z"`, `"period":"2026-01"`, 1), `deposit.period: "2026-01" is not an RFC 3339 UTC timestamp (2006-01-02T15:04:05Z)`},
		{"payer without issuer", n.Client, strings.Replace(dep, `"issuer":"`+cctest.IssuerDN(n.Client)+`"`, `"issuer":""`, 1), "deposit.payer.issuer: must not be empty"},
		{"not the payer", n.Provider, dep, fmt.Sprintf("the submitter %s is not the payer %s", cctest.ID(n.Provider), cctest.ID(n.Client))},
		{"same common name", impostor, dep, fmt.Sprintf("the submitter %s is not the payer %s", cctest.ID(impostor), cctest.ID(n.Client))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := n.World.NewCalledTx(tc.id, cctest.Agreement, RF)
			err := c.DepositEscrow(tx.Context(), tc.arg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if tx.PendingWrites() != 0 {
				t.Fatal("failed deposit wrote state")
			}
		})
	}
	tx := n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
	if err := c.DepositEscrow(tx.Context(), dep); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	first := tx.ID()
	tx = n.World.NewCalledTx(n.Client, cctest.Agreement, RF)
	if err := c.DepositEscrow(tx.Context(), dep); err == nil || err.Error() != fmt.Sprintf(`period 2026-01-01T00:00:00Z of SLA "sla-1" is already paid into escrow (tx %s)`, first) {
		t.Fatalf("second deposit: %v", err)
	}
	if tx.PendingWrites() != 0 {
		t.Fatal("failed deposit wrote state")
	}
	if n.Balance("client") != 100_000 {
		t.Fatalf("client balance %d", n.Balance("client"))
	}
}

func TestReputation(t *testing.T) {
	n := cctest.New(t)
	n.ExpectError(n.Client, RF, "GetProductScore", "productID: must not be empty", "ProviderOrgMSP", "", "", "")
	n.ExpectError(n.Client, RF, "GetReputation", "providerMSP: must not be empty", "", "", "")
	var sc refund.Score
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Stranger, RF, "GetReputation", "ProviderOrgMSP", "", "")), &sc)
	if sc.Periods != 0 || sc.ComplianceBPS != 0 {
		t.Fatalf("empty reputation %+v", sc)
	}
}
