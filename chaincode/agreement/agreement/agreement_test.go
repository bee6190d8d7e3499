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
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

const (
	AG = cctest.Agreement
)

// get reads an SLA as the client, on a peer of the client's organization.
func get(t *testing.T, n *cctest.Net, id string) agreement.SLAView {
	t.Helper()
	var a agreement.SLAView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "GetSLA", id)), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// notParty is identity.Mismatch's message for a certificate that is not the
// SLA's party role.
func notParty(role string, got, want *fabricfake.Identity) string {
	r := "the SLA's " + role
	switch {
	case got.MSPID != want.MSPID:
		return fmt.Sprintf("%s: MSP %q is not the MSP %q of %s", r, got.MSPID, want.MSPID, r)
	case cctest.DN(got) != cctest.DN(want):
		return fmt.Sprintf("%s: certificate subject %q is not the subject %q of %s", r, cctest.DN(got), cctest.DN(want), r)
	}
	return fmt.Sprintf("%s: certificate issuer %q is not the issuer %q of %s", r, cctest.IssuerDN(got), cctest.IssuerDN(want), r)
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

	otherCA := cctest.SameCN(n.ProviderCA2, n.Provider, "client")
	adminRole := cctest.SameCN(n.ProviderCA, n.Provider, "admin")

	n.ExpectCallErrorPrefix(cctest.ProposeCall(n.Provider, "{not json", sig), `transient "sla": invalid SLA: 1 problem(s); (root): invalid JSON`)
	n.ExpectCallErrorPrefix(cctest.ProposeCall(n.Provider, udoc, cctest.Sign(t, n.Provider, ud)), `transient "sla": `)
	noNonce := strings.Replace(doc, `"nonce":"`+s.Nonce+`",`, "", 1)
	n.ExpectCallError(cctest.ProposeCall(n.Provider, noNonce, sig), `transient "sla": invalid SLA: 1 problem(s); nonce: is required`)
	for _, tc := range []struct {
		name string
		call fabricfake.Call
		want string
	}{
		{"no transient data", fabricfake.Call{ID: n.Provider, Chaincode: AG, Fn: "ProposeSLA", Args: []string{sig}},
			`transient "sla": missing: pass the SLA document in the transient map under key "sla" (the arguments are written to the block, the transient map is not)`},
		{"empty document", fabricfake.Call{ID: n.Provider, Chaincode: AG, Fn: "ProposeSLA", Args: []string{sig}, Transient: map[string][]byte{"sla": nil}},
			`transient "sla": missing: pass the SLA document in the transient map under key "sla" (the arguments are written to the block, the transient map is not)`},
		{"other transient key", fabricfake.Call{ID: n.Provider, Chaincode: AG, Fn: "ProposeSLA", Args: []string{sig}, Transient: map[string][]byte{"sla": []byte(doc), "price": []byte("1")}},
			`transient: key "price" is not used; the transient map carries only the SLA document under key "sla"`},
		// The contract API passes the first argument and drops the others.
		{"document in the arguments", fabricfake.Call{ID: n.Provider, Chaincode: AG, Fn: "ProposeSLA", Args: []string{doc, sig}},
			`providerSignature: this is an SLA document, not a signature; pass the document in the transient map under key "sla", never in the arguments (they are written to the block)`},
		{"document as the signature", fabricfake.Call{ID: n.Provider, Chaincode: AG, Fn: "ProposeSLA", Args: []string{" " + doc}, Transient: map[string][]byte{"sla": []byte(doc)}},
			`providerSignature: this is an SLA document, not a signature; pass the document in the transient map under key "sla", never in the arguments (they are written to the block)`},
		{"empty signature", cctest.ProposeCall(n.Provider, doc, ""), "providerSignature: must not be empty"},
		{"signature not base64", cctest.ProposeCall(n.Provider, doc, "%%%"), "providerSignature: not standard base64: illegal base64 data at input byte 0"},
		{"client proposes", cctest.ProposeCall(n.Client, doc, cctest.Sign(t, n.Client, d)), "only the SLA's provider may propose it: " + notParty("provider", n.Client, n.Provider)},
		{"other provider identity", cctest.ProposeCall(n.Other, doc, cctest.Sign(t, n.Other, d)), "only the SLA's provider may propose it: " + notParty("provider", n.Other, n.Provider)},
		{"same common name from another CA", cctest.ProposeCall(otherCA, doc, cctest.Sign(t, otherCA, d)), "only the SLA's provider may propose it: " + notParty("provider", otherCA, n.Provider)},
		{"same common name with another role", cctest.ProposeCall(adminRole, doc, cctest.Sign(t, adminRole, d)), "only the SLA's provider may propose it: " + notParty("provider", adminRole, n.Provider)},
		{"signature by someone else", cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Other, d)), `providerSignature: verify signature of "provider@providerorg.slasa.local": signature does not verify with the certificate's public key`},
		{"signature over another digest", cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, ud)), `providerSignature: verify signature of "provider@providerorg.slasa.local": signature does not verify with the certificate's public key`},
		{"validity ended", cctest.ProposeCall(n.Provider, edoc, cctest.Sign(t, n.Provider, ed)), `transient "sla": validity ended at 2026-01-01T00:00:00Z, before this transaction (2026-01-01T00:00:19Z)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "validity ended" {
				n.At("2026-01-01T00:00:19Z")
			}
			n.ExpectCallError(tc.call, tc.want)
		})
	}
	// The subject check is not a common-name check: the impostors' common
	// name is the provider's.
	if otherCA.Cert.Subject.CommonName != n.Provider.Cert.Subject.CommonName || adminRole.Cert.Subject.CommonName != n.Provider.Cert.Subject.CommonName {
		t.Fatal("impostors do not share the provider's common name")
	}

	n.At("2026-02-01T00:00:00Z")
	r := n.World.SubmitCall(cctest.ProposeCall(n.Provider, doc, sig))
	if !r.OK() {
		t.Fatal(r.Message)
	}
	if r.Event == nil || r.Event.Name != agreement.EventSLAProposed || len(r.Payload) != 0 {
		t.Fatalf("event %+v, payload %q", r.Event, r.Payload)
	}
	var ev agreement.SLAEvent
	if err := json.Unmarshal(r.Event.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.SLAID != "sla-1" || ev.Digest != cctest.Hex(d) || ev.Status != agreement.StatusProposed || ev.Client.CommonName != "client@clientorg.slasa.local" ||
		ev.Client.Subject != cctest.DN(n.Client) || ev.Client.Issuer != cctest.IssuerDN(n.Client) || ev.Provider.Subject != cctest.DN(n.Provider) {
		t.Fatalf("event payload %+v", ev)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusProposed || a.Digest != cctest.Hex(d) || a.ProposedAt != "2026-02-01T00:00:00Z" || string(a.Signed.Document) != doc || a.Enclave != nil ||
		a.Parties.Logger.Subject != cctest.DN(n.Logger) || a.ValidityStart != "2026-01-01T00:00:00Z" || a.ValidityEnd != "2027-01-01T00:00:00Z" ||
		a.Signed.Digest != a.Digest || a.Signed.Provider.MSPID != "ProviderOrgMSP" || len(a.Signed.Client.Signature) != 0 {
		t.Fatalf("stored agreement %+v", a)
	}
	// Both parties' organizations hold the document, byte for byte.
	key := cctest.SLAKey("sla-1")
	for _, msp := range []string{"ProviderOrgMSP", "ClientOrgMSP"} {
		if got := n.World.PrivateState(AG, agreement.Collection(msp), key); string(got) != doc {
			t.Fatalf("%s holds %q", msp, got)
		}
	}
	if c := n.World.Collections(AG); strings.Join(c, ",") != "_implicit_org_ClientOrgMSP,_implicit_org_ProviderOrgMSP" {
		t.Fatalf("collections %v", c)
	}
	n.ExpectCallError(cctest.ProposeCall(n.Provider, doc, sig), `SLA "sla-1" already exists`)
}

func TestAcceptSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 150_000)
	n.At("2026-03-10T12:00:00Z")
	n.MustPropose(s)
	csig := cctest.Sign(t, n.Client, d)
	var other [32]byte
	other[0] = 1
	otherCA := cctest.SameCN(n.ClientCA2, n.Client, "client")
	adminRole := cctest.SameCN(n.ClientCA, n.Client, "admin")
	// The same SLA with a lower price: another digest.
	cheaper := *s
	cheaper.Price.AmountMinor = 1
	cdoc, cd := cctest.Doc(t, &cheaper)
	accept := func(id *fabricfake.Identity, args ...string) fabricfake.Call {
		return cctest.WithDocument(id, doc, "AcceptSLA", args...)
	}

	for _, tc := range []struct {
		name string
		call fabricfake.Call
		want string
	}{
		{"unknown id", accept(n.Client, "nope", cctest.Hex(d), csig), `SLA "nope" does not exist`},
		{"empty id", accept(n.Client, "", cctest.Hex(d), csig), "id: must not be empty"},
		{"empty signature", accept(n.Client, "sla-1", cctest.Hex(d), ""), "signature: must not be empty"},
		{"provider accepts", accept(n.Provider, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Provider, d)), "only the SLA's client may accept it: " + notParty("client", n.Provider, n.Client)},
		{"stranger accepts", accept(n.Stranger, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Stranger, d)), "only the SLA's client may accept it: " + notParty("client", n.Stranger, n.Client)},
		{"same common name from another CA", accept(otherCA, "sla-1", cctest.Hex(d), cctest.Sign(t, otherCA, d)), "only the SLA's client may accept it: " + notParty("client", otherCA, n.Client)},
		{"same common name with another role", accept(adminRole, "sla-1", cctest.Hex(d), cctest.Sign(t, adminRole, d)), "only the SLA's client may accept it: " + notParty("client", adminRole, n.Client)},
		{"wrong digest", accept(n.Client, "sla-1", cctest.Hex(other), cctest.Sign(t, n.Client, other)), fmt.Sprintf(`digest: %q is not the digest of SLA "sla-1" (%s)`, cctest.Hex(other), cctest.Hex(d))},
		{"forged signature", accept(n.Client, "sla-1", cctest.Hex(d), cctest.Sign(t, n.Provider, d)), `signature: verify signature of "client@clientorg.slasa.local": signature does not verify with the certificate's public key`},
		{"no document", fabricfake.Call{ID: n.Client, Chaincode: AG, Fn: "AcceptSLA", Args: []string{"sla-1", cctest.Hex(d), csig}},
			`transient "sla": missing: pass the SLA document in the transient map under key "sla" (the arguments are written to the block, the transient map is not)`},
		{"document with another digest", cctest.WithDocument(n.Client, cdoc, "AcceptSLA", "sla-1", cctest.Hex(d), csig),
			fmt.Sprintf(`transient "sla": the document's digest %s is not the digest of SLA "sla-1" (%s)`, cctest.Hex(cd), cctest.Hex(d))},
		{"invalid document", cctest.WithDocument(n.Client, "{}", "AcceptSLA", "sla-1", cctest.Hex(d), csig),
			`transient "sla": invalid SLA: 12 problem(s); consequences: is required; id: is required; interval: is required; metrics: is required; monitoring: is required; nonce: is required; parties: is required; price: is required; schema_version: is required; service: is required; title: is required; validity: is required`},
	} {
		t.Run(tc.name, func(t *testing.T) { n.ExpectCallError(tc.call, tc.want) })
	}

	t.Run("insufficient balance", func(t *testing.T) {
		n.MustSubmit(n.Client, cctest.Refund, "Transfer", "client", "provider", "60000")
		n.ExpectCallError(accept(n.Client, "sla-1", cctest.Hex(d), csig), `pay period 2026-04-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: wallet "client": insufficient balance 90000 for 100000`)
		n.MustSubmit(n.Issuer, cctest.Refund, "Mint", "client", "60000")
	})

	// Accepted on 10 March: March has begun, April is the first period paid.
	n.At("2026-03-10T12:00:00Z")
	reads := len(n.World.PrivateReads)
	r := n.World.SubmitCall(accept(n.Client, "sla-1", cctest.Hex(d), csig))
	if !r.OK() {
		t.Fatal(r.Message)
	}
	if len(n.World.PrivateReads) != reads {
		t.Fatalf("AcceptSLA read private data: %+v", n.World.PrivateReads[reads:])
	}
	var ev agreement.SLAEvent
	_ = json.Unmarshal(r.Event.Payload, &ev)
	if r.Event.Name != agreement.EventSLASigned || ev.Period != "2026-04-01T00:00:00Z" || ev.PeriodEnd != "2026-05-01T00:00:00Z" || ev.Digest != cctest.Hex(d) ||
		ev.Enclave == nil || ev.Enclave.EnclaveID != n.EnclaveID {
		t.Fatalf("event %s %+v", r.Event.Name, ev)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusActive || a.AcceptedAt != "2026-03-10T12:00:00Z" || a.LastPeriod != "2026-04-01T00:00:00Z" || a.PaidThrough != "2026-05-01T00:00:00Z" {
		t.Fatalf("agreement %+v", a)
	}
	// GetSLA gives a complete Parametric SLA Signed record.
	if _, err := a.Signed.Verify(signedsla.Options{Roots: pools(n)}); err != nil {
		t.Fatalf("signed record does not verify: %v", err)
	}
	if n.Balance("client") != 50_000 {
		t.Fatalf("client balance %d", n.Balance("client"))
	}
	n.ExpectCallError(accept(n.Client, "sla-1", cctest.Hex(d), csig), `SLA "sla-1" is ACTIVE, not PROPOSED`)
}

// AcceptSLA pays the first period that has not started at the transaction
// time: a client cannot buy a period in which it already saw an outage.
func TestAcceptPaysFirstUnstartedPeriod(t *testing.T) {
	n := cctest.New(t)
	for i, tc := range []struct{ at, period, paidThrough string }{
		{"2025-12-20T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"}, // before validity: its first period
		{"2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"}, // at a period's start: that period
		{"2026-01-01T00:00:01Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}, // a second later: the next
		{"2026-03-10T12:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"},
		{"2026-11-30T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"}, // the last period, just before it starts
	} {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		doc, d := cctest.Doc(t, s)
		n.Fund(s, 100_000)
		n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
		n.At(tc.at)
		n.MustAccept(s)
		if a := get(t, n, s.ID); a.LastPeriod != tc.period || a.PaidThrough != tc.paidThrough || a.PaidPeriods != 1 {
			t.Fatalf("accepted at %s: paid %s..%s, want %s..%s", tc.at, a.LastPeriod, a.PaidThrough, tc.period, tc.paidThrough)
		}
	}
}

func TestAcceptNoPeriodLeft(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2026-03-01T00:00:00Z"}
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
	n.At("2026-02-10T00:00:00Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d)),
		`SLA "sla-1": its last billing period 2026-02-01T00:00:00Z started before this transaction (2026-02-10T00:00:00Z); no period is left to pay (a period is paid only before it starts)`)
}

func TestAcceptAfterValidityEnded(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2026-02-01T00:00:00Z"}
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
	n.At("2026-02-01T00:00:00Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d)), `SLA "sla-1": validity ended at 2026-02-01T00:00:00Z, before this transaction (2026-02-01T00:00:00Z)`)
}

func TestAcceptWalletChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(n *cctest.Net, s *sla.SLA)
		want  func(n *cctest.Net) string
	}{
		{"client wallet missing", func(n *cctest.Net, s *sla.SLA) { s.Parties.Client.Wallet = "ghost" },
			func(*cctest.Net) string {
				return `pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: payer wallet: wallet "ghost" does not exist`
			}},
		{"client wallet owned by provider", func(n *cctest.Net, s *sla.SLA) {
			n.MustSubmit(n.Provider, cctest.Refund, "OpenAccount", "theirs")
			s.Parties.Client.Wallet = "theirs"
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: payer wallet "theirs" is owned by %s, not by the payer %s`, cctest.ID(n.Provider), cctest.ID(n.Client))
		}},
		{"provider wallet owned by client", func(n *cctest.Net, s *sla.SLA) {
			n.MustSubmit(n.Client, cctest.Refund, "OpenAccount", "mine")
			s.Parties.Provider.Wallet = "mine"
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: provider wallet "mine" is owned by %s, not by the provider %s`, cctest.ID(n.Client), cctest.ID(n.Provider))
		}},
		{"collateral wallet missing", func(n *cctest.Net, s *sla.SLA) { s.Consequences.CollateralWallet = "nocollateral" },
			func(*cctest.Net) string {
				return `pay period 2026-01-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: collateral wallet: wallet "nocollateral" does not exist`
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := cctest.New(t)
			s := cctest.ExampleSLA(t, "sla-1")
			n.Fund(s, 100_000)
			tc.setup(n, s)
			doc, d := cctest.Doc(t, s)
			n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
			n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d)), tc.want(n))
		})
	}
}

func TestRenewSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2026-03-01T00:00:00Z"}
	d := n.Activate(s, 250_000) // pays January
	doc, _ := cctest.Doc(t, s)
	longer := *s
	longer.Validity.End = "2026-04-01T00:00:00Z"
	ldoc, ld := cctest.Doc(t, &longer)

	otherCA := cctest.SameCN(n.ClientCA2, n.Client, "client")
	adminRole := cctest.SameCN(n.ClientCA, n.Client, "admin")
	n.At("2026-01-06T00:00:00Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "RenewSLA", "nope"), `SLA "nope" does not exist`)
	n.ExpectCallError(cctest.WithDocument(n.Provider, doc, "RenewSLA", "sla-1"), "only the SLA's client may renew it: "+notParty("client", n.Provider, n.Client))
	n.ExpectCallError(cctest.WithDocument(otherCA, doc, "RenewSLA", "sla-1"), "only the SLA's client may renew it: "+notParty("client", otherCA, n.Client))
	n.ExpectCallError(cctest.WithDocument(adminRole, doc, "RenewSLA", "sla-1"), "only the SLA's client may renew it: "+notParty("client", adminRole, n.Client))
	n.ExpectCallError(fabricfake.Call{ID: n.Client, Chaincode: AG, Fn: "RenewSLA", Args: []string{"sla-1"}},
		`transient "sla": missing: pass the SLA document in the transient map under key "sla" (the arguments are written to the block, the transient map is not)`)
	n.ExpectCallError(cctest.WithDocument(n.Client, ldoc, "RenewSLA", "sla-1"),
		fmt.Sprintf(`transient "sla": the document's digest %s is not the digest of SLA "sla-1" (%s)`, cctest.Hex(ld), cctest.Hex(d)))
	reads := len(n.World.PrivateReads)
	r := n.Renew(s)
	if !r.OK() || r.Event.Name != agreement.EventSLARenewed {
		t.Fatalf("renew: %s %+v", r.Message, r.Event)
	}
	if len(n.World.PrivateReads) != reads {
		t.Fatalf("RenewSLA read private data: %+v", n.World.PrivateReads[reads:])
	}
	a := get(t, n, "sla-1")
	if a.LastPeriod != "2026-02-01T00:00:00Z" || a.PaidThrough != "2026-03-01T00:00:00Z" || a.PaidPeriods != 2 {
		t.Fatalf("after renewal %+v", a)
	}
	if n.Balance("client") != 50_000 {
		t.Fatalf("client balance %d", n.Balance("client"))
	}
	n.At("2026-02-06T00:00:00Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "RenewSLA", "sla-1"), `SLA "sla-1" is paid through the end of its validity (2026-03-01T00:00:00Z)`)
}

// RenewSLA pays the next period only once the last paid one has begun and
// only before the next one starts.
func TestRenewTiming(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.Activate(s, 350_000) // January
	doc, _ := cctest.Doc(t, s)
	n.At("2025-12-31T23:59:59Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "RenewSLA", "sla-1"), `SLA "sla-1" is paid through 2026-02-01T00:00:00Z; renew once its last paid period (2026-01-01T00:00:00Z) has begun`)
	n.At("2026-01-01T00:00:00Z")
	n.MustRenew(s) // February, during January
	n.At("2026-03-01T00:00:01Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "RenewSLA", "sla-1"), `SLA "sla-1": its next period 2026-03-01T00:00:00Z started before this transaction (2026-03-01T00:00:01Z); a period is paid only before it starts`)
	n.At("2026-03-01T00:00:00Z") // exactly at its start: not started before the transaction
	n.MustRenew(s)
	if a := get(t, n, "sla-1"); a.LastPeriod != "2026-03-01T00:00:00Z" || a.PaidThrough != "2026-04-01T00:00:00Z" || a.PaidPeriods != 3 {
		t.Fatalf("after renewals %+v", a)
	}
	n.At("2026-03-02T00:00:00Z")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "RenewSLA", "sla-1"), `pay period 2026-04-01T00:00:00Z of SLA "sla-1" into escrow: refund DepositEscrow: wallet "client": insufficient balance 50000 for 100000`)
}

func TestTerminateSLA(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
	otherCA := cctest.SameCN(n.ClientCA2, n.Client, "client")
	adminRole := cctest.SameCN(n.ProviderCA, n.Provider, "admin")

	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", "")
	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", "a\nb")
	n.ExpectError(n.Client, AG, "TerminateSLA", "reason: must be 1..256 bytes of UTF-8 on one line", "sla-1", strings.Repeat("x", 257))
	n.ExpectError(n.Client, AG, "TerminateSLA", `SLA "nope" does not exist`, "nope", "bye")
	for _, who := range []*fabricfake.Identity{n.Logger, n.Stranger, otherCA, adminRole} {
		n.ExpectError(who, AG, "TerminateSLA", fmt.Sprintf(`only the SLA's provider or client may terminate SLA "sla-1" (caller %s)`, cctest.ID(who)), "sla-1", "bye")
	}

	// Withdraw a proposal.
	n.At("2026-01-02T00:00:00Z")
	r := n.Submit(n.Client, AG, "TerminateSLA", "sla-1", "declined")
	if !r.OK() || r.Event.Name != agreement.EventSLATerminated {
		t.Fatalf("withdraw: %s", r.Message)
	}
	var ev agreement.SLAEvent
	if err := json.Unmarshal(r.Event.Payload, &ev); err != nil || ev.By == nil || ev.By.Subject != cctest.DN(n.Client) || ev.By.Issuer != cctest.IssuerDN(n.Client) || ev.Reason != "declined" {
		t.Fatalf("event %+v %v", ev, err)
	}
	a := get(t, n, "sla-1")
	if a.Status != agreement.StatusWithdrawn || a.TerminatedBy != cctest.ID(n.Client) || a.TerminatedAs != "client" || a.Reason != "declined" || a.EndsAt != "2026-01-02T00:00:00Z" {
		t.Fatalf("withdrawn %+v", a)
	}
	n.ExpectError(n.Provider, AG, "TerminateSLA", `SLA "sla-1" is WITHDRAWN; only a PROPOSED or ACTIVE SLA can be terminated`, "sla-1", "again")
	n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", cctest.Hex(d), cctest.Sign(t, n.Client, d)), `SLA "sla-1" is WITHDRAWN, not PROPOSED`)

	// Terminate an active SLA before its only paid period started: the
	// period is refunded and the SLA ends at once.
	s2 := cctest.ExampleSLA(t, "sla-2")
	n.At("2026-04-10T00:00:00Z")
	before := n.Balance("client")
	n.Activate(s2, 0) // pays May
	doc2, _ := cctest.Doc(t, s2)
	n.MustSubmit(n.Provider, AG, "TerminateSLA", "sla-2", "end of service")
	a = get(t, n, "sla-2")
	if a.Status != agreement.StatusTerminated || a.EndsAt != a.TerminatedAt || a.RefundedPeriod != "2026-05-01T00:00:00Z" || a.PaidPeriods != 0 ||
		a.TerminatedBy != cctest.ID(n.Provider) || a.TerminatedAs != "provider" {
		t.Fatalf("terminated %+v", a)
	}
	if got := n.Balance("client"); got != before {
		t.Fatalf("client balance %d after the refund of the unstarted period, want %d", got, before)
	}

	// Terminate mid-period with the next period paid: the next one is
	// refunded, the current one is judged when it ends (ends_at).
	s3 := cctest.ExampleSLA(t, "sla-3")
	n.At("2026-04-20T00:00:00Z")
	n.Activate(s3, 200_000) // pays May
	n.At("2026-05-10T00:00:00Z")
	n.MustRenew(s3) // pays June
	paid := n.Balance("client")
	n.At("2026-05-15T00:00:00Z")
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-3", "moving on")
	a = get(t, n, "sla-3")
	if a.EndsAt != "2026-06-01T00:00:00Z" || a.RefundedPeriod != "2026-06-01T00:00:00Z" || a.PaidThrough != "2026-06-01T00:00:00Z" || a.PaidPeriods != 1 {
		t.Fatalf("terminated mid-period %+v", a)
	}
	if got := n.Balance("client"); got != paid+s3.Price.AmountMinor {
		t.Fatalf("client balance %d, want %d (June refunded)", got, paid+s3.Price.AmountMinor)
	}
	var may, june refund.Escrow
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, cctest.Refund, "GetEscrow", "sla-3", "2026-05-01T00:00:00Z")), &may)
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, cctest.Refund, "GetEscrow", "sla-3", "2026-06-01T00:00:00Z")), &june)
	if may.Status != refund.EscrowHeld || june.Status != refund.EscrowRefunded || june.Held != 0 || june.Refunded == nil {
		t.Fatalf("escrow after termination: May %s, June %s %+v", may.Status, june.Status, june.Refunded)
	}
	n.ExpectCallError(cctest.WithDocument(n.Client, doc2, "RenewSLA", "sla-2"), `SLA "sla-2" is TERMINATED, not ACTIVE`)
	n.ExpectError(n.Client, AG, "TerminateSLA", `SLA "sla-2" is TERMINATED; only a PROPOSED or ACTIVE SLA can be terminated`, "sla-2", "again")
}

func TestGetAndListSLAs(t *testing.T) {
	n := cctest.New(t)
	for i := 0; i < 5; i++ {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%d", i))
		n.MustPropose(s)
	}
	n.ExpectError(n.Stranger, AG, "GetSLA", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1")
	n.ExpectError(n.OtherAdmin, AG, "GetSLA", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1")
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
		{[]string{"provider", "ProviderOrgMSP", "", "10", ""}, `mspID: "ProviderOrgMSP" is not the caller's MSP "ClientOrgMSP"; list your own organization's SLAs`},
	} {
		n.ExpectError(n.Client, AG, "ListSLAs", tc.want, tc.args...)
	}
}

func TestGetSLAHistory(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
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

// GetParties: the public fields of an SLA, for its parties' organizations
// only.
func TestGetParties(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	d := n.Activate(s, 100_000)
	for _, who := range []*fabricfake.Identity{n.Provider, n.Client, n.Other} {
		var v agreement.PartiesView
		if err := json.Unmarshal([]byte(n.MustEvaluate(who, AG, "GetParties", "sla-1")), &v); err != nil {
			t.Fatal(err)
		}
		if v.ID != "sla-1" || v.Status != agreement.StatusActive || v.Digest != cctest.Hex(d) || v.Parties.Provider.ID() != cctest.ID(n.Provider) ||
			v.Parties.Client.ID() != cctest.ID(n.Client) || v.ValidityStart != s.Validity.Start || v.ValidityEnd != s.Validity.End || v.EndsAt != "" {
			t.Fatalf("GetParties as %s: %+v", who.MSPID, v)
		}
	}
	n.ExpectError(n.Stranger, AG, "GetParties", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1")
	n.ExpectError(n.Client, AG, "GetParties", `SLA "x" does not exist`, "x")
}

// Direct calls with fakes: failures of the ledger and of the identity.
func TestLedgerAndIdentityFailures(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	sig := cctest.Sign(t, n.Provider, d)
	c := n.AgreementContract()
	newTx := func() (*fabricfake.Tx, *fabricfake.TransactionContext) {
		tx := n.World.NewTx(n.Provider, AG)
		tx.SetTransient(map[string][]byte{agreement.TransientSLA: []byte(doc)})
		return tx, tx.Context()
	}

	tx, ctx := newTx()
	tx.Stub.GetStateReturns(nil, errors.New("ledger down"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != `read SLA "sla-1": ledger down` {
		t.Fatalf("got %v", err)
	}
	if tx.PendingWrites() != 0 {
		t.Fatal("failed ProposeSLA wrote state")
	}

	_, ctx = newTx()
	ci := &fabricfake.ClientIdentity{}
	ci.GetMSPIDReturns("ProviderOrgMSP", nil)
	ci.GetX509CertificateReturns(nil, errors.New("no cert"))
	ctx.GetClientIdentityReturns(ci)
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != "submitter: read certificate: no cert" {
		t.Fatalf("got %v", err)
	}

	tx, ctx = newTx()
	tx.Stub.PutStateReturns(errors.New("disk full"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != `write SLA "sla-1": disk full` {
		t.Fatalf("got %v", err)
	}

	tx, ctx = newTx()
	tx.Stub.GetTxTimestampReturns(nil, errors.New("no time"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != "read transaction timestamp: no time" {
		t.Fatalf("got %v", err)
	}

	tx, ctx = newTx()
	tx.Stub.GetTransientReturns(nil, errors.New("no transient"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != "read the transient map: no transient" {
		t.Fatalf("got %v", err)
	}

	tx, ctx = newTx()
	tx.Stub.PutPrivateDataReturns(errors.New("no room"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != `write the document of SLA "sla-1" to _implicit_org_ProviderOrgMSP: no room` {
		t.Fatalf("got %v", err)
	}

	tx, ctx = newTx()
	tx.Stub.SetStateValidationParameterReturns(errors.New("no policy"))
	if err := c.ProposeSLA(ctx, sig); err == nil || err.Error() != fmt.Sprintf(`SLA "sla-1": key %q: set key-level policy: no policy`, cctest.SLAKey("sla-1")) {
		t.Fatalf("got %v", err)
	}
}

func pools(n *cctest.Net) map[string]*x509.CertPool {
	return map[string]*x509.CertPool{"ProviderOrgMSP": n.ProviderCA.Pool(), "ClientOrgMSP": n.ClientCA.Pool()}
}
