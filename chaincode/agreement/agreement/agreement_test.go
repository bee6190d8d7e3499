package agreement_test

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

const (
	AG = cctest.Agreement
)

func get(t *testing.T, n *cctest.Net, id string) agreement.Agreement {
	t.Helper()
	var a agreement.Agreement
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "GetSLA", id)), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestProposeSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	sig := cctest.Sign(t, n.Provider, d)

	unknownDriver := cctest.ExampleSLA(t, "sla-x")
	unknownDriver.Metrics[0].Driver.ID = "no-such-driver"
	udoc, ud := cctest.Doc(t, unknownDriver)

	expired := cctest.ExampleSLA(t, "sla-old")
	expired.Validity = sla.Validity{Start: "2025-01-01T00:00:00Z", End: "2026-01-01T00:00:00Z"}
	edoc, ed := cctest.Doc(t, expired)

	n.ExpectErrorPrefix(n.Provider, AG, "ProposeSLA", "slaJSON: invalid SLA: 1 problem(s); (root): invalid JSON", "{not json", sig)
	n.ExpectErrorPrefix(n.Provider, AG, "ProposeSLA", "slaJSON: ", udoc, cctest.Sign(t, n.Provider, ud))
	for _, tc := range []struct {
		name string
		id   *fabricfake.Identity
		args []string
		want string
	}{
		{"empty signature", n.Provider, []string{doc, ""}, "providerSignature: must not be empty"},
		{"signature not base64", n.Provider, []string{doc, "%%%"}, "providerSignature: not standard base64: illegal base64 data at input byte 0"},
		{"client proposes", n.Client, []string{doc, cctest.Sign(t, n.Client, d)}, `only the SLA's provider may propose it: provider: MSP "ClientOrgMSP" is not the SLA's provider MSP "ProviderOrgMSP"`},
		{"other provider identity", n.Other, []string{doc, cctest.Sign(t, n.Other, d)}, `only the SLA's provider may propose it: provider: certificate common name "other@providerorg.slasa.local" is not the SLA's provider "provider@providerorg.slasa.local"`},
		{"signature by someone else", n.Provider, []string{doc, cctest.Sign(t, n.Other, d)}, `providerSignature: verify signature of "provider@providerorg.slasa.local": signature does not verify with the certificate's public key`},
		{"signature over another digest", n.Provider, []string{doc, cctest.Sign(t, n.Provider, ud)}, `providerSignature: verify signature of "provider@providerorg.slasa.local": signature does not verify with the certificate's public key`},
		{"validity ended", n.Provider, []string{edoc, cctest.Sign(t, n.Provider, ed)}, "slaJSON: validity ended at 2026-01-01T00:00:00Z, before this transaction (2026-01-01T00:00:19Z)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "validity ended" {
				n.At("2026-01-01T00:00:19Z")
			}
			n.ExpectError(tc.id, AG, "ProposeSLA", tc.want, tc.args...)
		})
	}

	n.At("2026-02-01T00:00:00Z")
	r := n.Submit(n.Provider, AG, "ProposeSLA", doc, sig)
	if !r.OK() {
		t.Fatal(r.Message)
	}
	if r.Event == nil || r.Event.Name != agreement.EventSLAProposed {
		t.Fatalf("event %+v", r.Event)
	}
	var ev agreement.SLAEvent
	if err := json.Unmarshal(r.Event.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SLAID != "sla-1" || ev.Digest != cctest.Hex(d) || ev.Status != agreement.StatusProposed || ev.Client.CommonName != "client@clientorg.slasa.local" {
		t.Fatalf("event payload %+v", ev)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusProposed || a.Digest != cctest.Hex(d) || a.ProposedAt != "2026-02-01T00:00:00Z" || a.Terms.PriceMinor != 100000 || string(a.Signed.Document) != doc {
		t.Fatalf("stored agreement %+v", a)
	}
	n.ExpectError(n.Provider, AG, "ProposeSLA", `SLA "sla-1" already exists`, doc, sig)
}

func TestAcceptSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 150_000)
	n.At("2026-03-10T12:00:00Z")
	n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, cctest.Sign(t, n.Provider, d))
	csig := cctest.Sign(t, n.Client, d)
	var other [32]byte
	other[0] = 1

	for _, tc := range []struct {
		name string
		id   *fabricfake.Identity
		args []string
		want string
	}{
		{"unknown id", n.Client, []string{"nope", cctest.Hex(d), csig}, `SLA "nope" does not exist`},
		{"empty id", n.Client, []string{"", cctest.Hex(d), csig}, "id: must not be empty"},
		{"empty signature", n.Client, []string{"sla-1", cctest.Hex(d), ""}, "signature: must not be empty"},
		{"provider accepts", n.Provider, []string{"sla-1", cctest.Hex(d), cctest.Sign(t, n.Provider, d)}, `only the SLA's client may accept it: client: MSP "ProviderOrgMSP" is not the SLA's client MSP "ClientOrgMSP"`},
		{"stranger accepts", n.Stranger, []string{"sla-1", cctest.Hex(d), cctest.Sign(t, n.Stranger, d)}, `only the SLA's client may accept it: client: MSP "OtherOrgMSP" is not the SLA's client MSP "ClientOrgMSP"`},
		{"wrong digest", n.Client, []string{"sla-1", cctest.Hex(other), cctest.Sign(t, n.Client, other)}, fmt.Sprintf(`digest: %q is not the digest of SLA "sla-1" (%s)`, cctest.Hex(other), cctest.Hex(d))},
		{"forged signature", n.Client, []string{"sla-1", cctest.Hex(d), cctest.Sign(t, n.Provider, d)}, `signature: verify signature of "client@clientorg.slasa.local": signature does not verify with the certificate's public key`},
	} {
		t.Run(tc.name, func(t *testing.T) { n.ExpectError(tc.id, AG, "AcceptSLA", tc.want, tc.args...) })
	}

	t.Run("insufficient balance", func(t *testing.T) {
		n.MustSubmit(n.Client, cctest.Refund, "Transfer", "client", "provider", "60000")
		n.ExpectError(n.Client, AG, "AcceptSLA", `pay period 2026-03-01T00:00:00Z of SLA "sla-1" into escrow: wallet "client": insufficient balance 90000 for 100000`, "sla-1", cctest.Hex(d), csig)
		n.MustSubmit(n.Issuer, cctest.Refund, "Mint", "client", "60000")
	})

	n.At("2026-03-10T12:00:00Z")
	r := n.Submit(n.Client, AG, "AcceptSLA", "sla-1", cctest.Hex(d), csig)
	if !r.OK() {
		t.Fatal(r.Message)
	}
	var ev agreement.SLAEvent
	_ = json.Unmarshal(r.Event.Payload, &ev)
	if r.Event.Name != agreement.EventSLASigned || ev.Period != "2026-03-01T00:00:00Z" || ev.PeriodEnd != "2026-04-01T00:00:00Z" || ev.Amount != 100000 || ev.Digest != cctest.Hex(d) {
		t.Fatalf("event %s %+v", r.Event.Name, ev)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusActive || a.AcceptedAt != "2026-03-10T12:00:00Z" || a.PaidThrough != "2026-04-01T00:00:00Z" {
		t.Fatalf("agreement %+v", a)
	}
	// The stored record is a complete Parametric SLA Signed record.
	if _, err := a.Signed.Verify(signedsla.Options{Roots: pools(n)}); err != nil {
		t.Fatalf("signed record does not verify: %v", err)
	}
	if n.Balance("client") != 50_000 {
		t.Fatalf("client balance %d", n.Balance("client"))
	}
	n.ExpectError(n.Client, AG, "AcceptSLA", `SLA "sla-1" is ACTIVE, not PROPOSED`, "sla-1", cctest.Hex(d), csig)
}

func TestAcceptBeforeValidityPaysFirstPeriod(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-06-01T00:00:00Z", End: "2026-09-01T00:00:00Z"}
	n.At("2026-05-20T00:00:00Z")
	n.Activate(s, 100_000)
	if a := get(t, n, "sla-1"); a.LastPeriod != "2026-06-01T00:00:00Z" || a.PaidThrough != "2026-07-01T00:00:00Z" {
		t.Fatalf("agreement %+v", a)
	}
}

func TestAcceptAfterValidityEnded(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2026-02-01T00:00:00Z"}
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, cctest.Sign(t, n.Provider, d))
	n.At("2026-02-01T00:00:00Z")
	n.ExpectError(n.Client, AG, "AcceptSLA", `SLA "sla-1": validity ended at 2026-02-01T00:00:00Z, before this transaction (2026-02-01T00:00:00Z)`, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d))
}

func TestAcceptWalletChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(n *cctest.Net, s *sla.SLA)
		want  string
	}{
		{"client wallet missing", func(n *cctest.Net, s *sla.SLA) { s.Parties.Client.Wallet = "ghost" },
			`pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: payer wallet: wallet "ghost" does not exist`},
		{"client wallet owned by provider", func(n *cctest.Net, s *sla.SLA) {
			n.MustSubmit(n.Provider, cctest.Refund, "OpenAccount", "theirs")
			s.Parties.Client.Wallet = "theirs"
		}, `pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: payer wallet "theirs" is owned by ProviderOrgMSP/provider@providerorg.slasa.local, not by the payer ClientOrgMSP/client@clientorg.slasa.local`},
		{"provider wallet owned by client", func(n *cctest.Net, s *sla.SLA) {
			n.MustSubmit(n.Client, cctest.Refund, "OpenAccount", "mine")
			s.Parties.Provider.Wallet = "mine"
		}, `pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: provider wallet "mine" is owned by ClientOrgMSP/client@clientorg.slasa.local, not by the provider ProviderOrgMSP/provider@providerorg.slasa.local`},
		{"collateral wallet missing", func(n *cctest.Net, s *sla.SLA) { s.Consequences.CollateralWallet = "nocollateral" },
			`pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: collateral wallet: wallet "nocollateral" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := cctest.New(t)
			s := cctest.ExampleSLA(t, "sla-1")
			n.Fund(s, 100_000)
			tc.setup(n, s)
			doc, d := cctest.Doc(t, s)
			n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, cctest.Sign(t, n.Provider, d))
			n.ExpectError(n.Client, AG, "AcceptSLA", tc.want, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d))
		})
	}
}

func TestRenewSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2026-03-01T00:00:00Z"}
	n.At("2026-01-05T00:00:00Z")
	n.Activate(s, 250_000)

	n.ExpectError(n.Client, AG, "RenewSLA", `SLA "nope" does not exist`, "nope")
	n.ExpectError(n.Provider, AG, "RenewSLA", `only the SLA's client may renew it: client: MSP "ProviderOrgMSP" is not the SLA's client MSP "ClientOrgMSP"`, "sla-1")
	n.At("2026-01-06T00:00:00Z")
	r := n.Submit(n.Client, AG, "RenewSLA", "sla-1")
	if !r.OK() || r.Event.Name != agreement.EventSLARenewed {
		t.Fatalf("renew: %s %+v", r.Message, r.Event)
	}
	a := get(t, n, "sla-1")
	if a.LastPeriod != "2026-02-01T00:00:00Z" || a.PaidThrough != "2026-03-01T00:00:00Z" || a.PaidPeriods != 2 {
		t.Fatalf("after renewal %+v", a)
	}
	if n.Balance("client") != 50_000 {
		t.Fatalf("client balance %d", n.Balance("client"))
	}
	n.ExpectError(n.Client, AG, "RenewSLA", `SLA "sla-1" is paid through the end of its validity (2026-03-01T00:00:00Z)`, "sla-1")
}

func TestRenewTooEarlyAndInsufficient(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.At("2026-01-05T00:00:00Z")
	n.Activate(s, 250_000)
	n.MustSubmit(n.Client, AG, "RenewSLA", "sla-1") // pays February during January
	n.ExpectError(n.Client, AG, "RenewSLA", `SLA "sla-1" is paid through 2026-03-01T00:00:00Z; renew once its last paid period (2026-02-01T00:00:00Z) has begun`, "sla-1")
	n.At("2026-02-02T00:00:00Z")
	n.ExpectError(n.Client, AG, "RenewSLA", `pay period 2026-03-01T00:00:00Z of SLA "sla-1" into escrow: wallet "client": insufficient balance 50000 for 100000`, "sla-1")
}

func TestTerminateSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, cctest.Sign(t, n.Provider, d))

	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", "")
	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", "a\nb")
	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", strings.Repeat("x", 257))
	n.ExpectError(n.Client, AG, "TerminateSLA", `SLA "nope" does not exist`, "nope", "bye")
	n.ExpectError(n.Logger, AG, "TerminateSLA", `only the SLA's provider or client may terminate SLA "sla-1" (caller ProviderOrgMSP/logger@providerorg.slasa.local)`, "sla-1", "bye")

	// Withdraw a proposal.
	n.At("2026-01-02T00:00:00Z")
	r := n.Submit(n.Client, AG, "TerminateSLA", "sla-1", "declined")
	if !r.OK() || r.Event.Name != agreement.EventSLATerminated {
		t.Fatalf("withdraw: %s", r.Message)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusWithdrawn || a.TerminatedBy != "client" || a.Reason != "declined" || a.EndsAt != "2026-01-02T00:00:00Z" {
		t.Fatalf("withdrawn %+v", a)
	}
	n.ExpectError(n.Provider, AG, "TerminateSLA", `SLA "sla-1" is WITHDRAWN; only a PROPOSED or ACTIVE SLA can be terminated`, "sla-1", "again")
	n.ExpectError(n.Client, AG, "AcceptSLA", `SLA "sla-1" is WITHDRAWN, not PROPOSED`, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d))

	// Terminate an active SLA: effective at the end of the paid term.
	s2 := cctest.ExampleSLA(t, "sla-2")
	n.At("2026-04-10T00:00:00Z")
	n.Activate(s2, 0)
	n.MustSubmit(n.Provider, AG, "TerminateSLA", "sla-2", "end of service")
	a = get(t, n, "sla-2")
	if a.Status != agreement.StatusTerminated || a.EndsAt != "2026-05-01T00:00:00Z" || a.TerminatedBy != "provider" {
		t.Fatalf("terminated %+v", a)
	}
	n.ExpectError(n.Client, AG, "RenewSLA", `SLA "sla-2" is TERMINATED, not ACTIVE`, "sla-2")
}

func TestGetAndListSLAs(t *testing.T) {
	n := cctest.New(t)
	for i := 0; i < 5; i++ {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		doc, d := cctest.Doc(t, s)
		n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, cctest.Sign(t, n.Provider, d))
	}
	n.ExpectError(n.Stranger, AG, "GetSLA", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1")
	n.ExpectError(n.Client, AG, "GetSLA", `SLA "nope" does not exist`, "nope")

	var ids []string
	bookmark := ""
	pages := 0
	for {
		var p agreement.Page[agreement.Agreement]
		out := n.MustEvaluate(n.Client, AG, "ListSLAs", "client", "ClientOrgMSP", "client@clientorg.slasa.local", "2", bookmark)
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if p.Bookmark == "" {
			break
		}
		bookmark = p.Bookmark
	}
	if strings.Join(ids, ",") != "sla-0,sla-1,sla-2,sla-3,sla-4" || pages != 3 {
		t.Fatalf("listed %v in %d pages", ids, pages)
	}
	var p agreement.Page[agreement.Agreement]
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Logger, AG, "ListSLAs", "provider", "ProviderOrgMSP", "", "100", "")), &p)
	if len(p.Records) != 5 {
		t.Fatalf("provider org lists %d", len(p.Records))
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "ListSLAs", "provider", "ClientOrgMSP", "", "100", "")), &p)
	if len(p.Records) != 0 {
		t.Fatalf("client org as provider lists %d", len(p.Records))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"logger", "ClientOrgMSP", "", "10", ""}, `role: "logger" is not provider or client`},
		{[]string{"client", "ClientOrgMSP", "", "0", ""}, `pageSize: "0" is not an integer in 1..100`},
		{[]string{"client", "ClientOrgMSP", "", "101", ""}, `pageSize: "101" is not an integer in 1..100`},
		{[]string{"client", "ClientOrgMSP", "", "x", ""}, `pageSize: "x" is not an integer in 1..100`},
		{[]string{"client", "ProviderOrgMSP", "", "10", ""}, `mspID: "ProviderOrgMSP" is not the caller's MSP "ClientOrgMSP"; list your own organization's SLAs`},
	} {
		n.ExpectError(n.Client, AG, "ListSLAs", tc.want, tc.args...)
	}
}

func TestGetSLAHistory(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.At("2026-01-05T00:00:00Z")
	n.Activate(s, 100_000)
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-1", "done")
	var h []agreement.HistoryEntry
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, AG, "GetSLAHistory", "sla-1")), &h); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, e := range h {
		statuses = append(statuses, e.Record.Status)
	}
	if strings.Join(statuses, ",") != "TERMINATED,ACTIVE,PROPOSED" {
		t.Fatalf("history statuses %v", statuses)
	}
	n.ExpectError(n.Stranger, AG, "GetSLAHistory", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1")
	n.ExpectError(n.Client, AG, "GetSLAHistory", `SLA "x" does not exist`, "x")
}

// Direct calls with fakes: failures of the ledger and of the identity.
func TestLedgerAndIdentityFailures(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	sig := cctest.Sign(t, n.Provider, d)
	c := &agreement.Contract{}

	tx := n.World.NewTx(n.Provider, AG)
	ctx := tx.Context()
	tx.Stub.GetStateReturns(nil, errors.New("ledger down"))
	if err := c.ProposeSLA(ctx, doc, sig); err == nil || err.Error() != `read SLA "sla-1": ledger down` {
		t.Fatalf("got %v", err)
	}
	if tx.PendingWrites() != 0 {
		t.Fatal("failed ProposeSLA wrote state")
	}

	tx = n.World.NewTx(n.Provider, AG)
	ctx = tx.Context()
	ci := &fabricfake.ClientIdentity{}
	ci.GetMSPIDReturns("ProviderOrgMSP", nil)
	ci.GetX509CertificateReturns(nil, errors.New("no cert"))
	ctx.GetClientIdentityReturns(ci)
	if err := c.ProposeSLA(ctx, doc, sig); err == nil || err.Error() != "submitter: read certificate: no cert" {
		t.Fatalf("got %v", err)
	}

	tx = n.World.NewTx(n.Provider, AG)
	ctx = tx.Context()
	tx.Stub.PutStateReturns(errors.New("disk full"))
	if err := c.ProposeSLA(ctx, doc, sig); err == nil || err.Error() != `write SLA "sla-1": disk full` {
		t.Fatalf("got %v", err)
	}

	tx = n.World.NewTx(n.Provider, AG)
	ctx = tx.Context()
	tx.Stub.GetTxTimestampReturns(nil, errors.New("no time"))
	if err := c.ProposeSLA(ctx, doc, sig); err == nil || err.Error() != "read transaction timestamp: no time" {
		t.Fatalf("got %v", err)
	}

	// A refund chaincode that is not deployed makes AcceptSLA fail.
	n.MustSubmit(n.Provider, AG, "ProposeSLA", doc, sig)
	tx = n.World.NewTx(n.Client, AG)
	ctx = tx.Context()
	c2 := &agreement.Contract{RefundChaincode: "missing"}
	err := c2.AcceptSLA(ctx, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d))
	if err == nil || err.Error() != `pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: chaincode missing is not deployed` {
		t.Fatalf("got %v", err)
	}
	if tx.PendingWrites() != 0 {
		t.Fatal("failed AcceptSLA wrote state")
	}
}

func pools(n *cctest.Net) map[string]*x509.CertPool {
	return map[string]*x509.CertPool{"ProviderOrgMSP": n.ProviderCA.Pool(), "ClientOrgMSP": n.ClientCA.Pool()}
}
