//go:build integration

// Package tickets runs the ticket chaincode on a real network (ProviderOrg, ClientOrg and VendorOrg with
// peers, OtherOrg without one): the SLA's client opens a ticket, the provider assigns VendorOrg's vendor,
// the vendor acknowledges late (the acceptance target is breached and its penalty owed), works and
// resolves it in time, the client closes it. Every transition is endorsed by exactly the ticket's
// organizations and carries its text only in the transient map; an outsider reads nothing private, and
// identities that are not the assigned vendor cannot act as it.
package tickets

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{DeployAll: true, Env: []string{"SLASA_WITH_IPFS=0"}}, &nw))
}

const (
	acceptanceMS   = 5_000   // critical: acknowledge within 5 s (24x7)
	closureMS      = 600_000 // critical: resolve within 10 min (24x7)
	acceptancePen  = 5_000   // minor units owed when acceptance is breached
	closurePenalty = 20_000
)

// record is the part of the private ticket record the test checks; raw is the record as returned by
// GetTicket, passed back unchanged in the transient map.
type view struct {
	Ticket struct {
		ID   string   `json:"id"`
		Seq  int64    `json:"seq"`
		Hash string   `json:"hash"`
		Orgs []string `json:"orgs"`
	} `json:"ticket"`
	Record           json.RawMessage `json:"record"`
	PenaltyOwedMinor int64           `json:"penalty_owed_minor"`
	Breached         bool            `json:"breached"`
}

type record struct {
	Status         string `json:"status"`
	Severity       string `json:"severity"`
	Description    string `json:"description"`
	VendorTicketID string `json:"vendor_ticket_id"`
	Acceptance     target `json:"acceptance"`
	Closure        target `json:"closure"`
	Timeline       []struct {
		Action string `json:"action"`
	} `json:"timeline"`
}

type target struct {
	TargetMS int64  `json:"target_ms"`
	Deadline string `json:"deadline"`
	Outcome  *struct {
		Result       string `json:"result"`
		ElapsedMS    int64  `json:"elapsed_ms"`
		MarginMS     int64  `json:"margin_ms"`
		PenaltyMinor int64  `json:"penalty_minor"`
		Currency     string `json:"currency"`
	} `json:"outcome"`
}

func marker(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// telecomSLA is examples/telecom with a fresh id and nonce, a validity that starts next year (so that
// AcceptSLA pays its first month, which has not started) and a critical severity scaled down to seconds.
func telecomSLA(t *testing.T) (*sla.SLA, []byte) {
	t.Helper()
	s := harness.ExampleSLA(t, "telecom", fmt.Sprintf("tickets-%d", time.Now().UnixNano()))
	y := time.Now().UTC().Year() + 1
	s.Validity = sla.Validity{Start: fmt.Sprintf("%d-01-01T00:00:00Z", y), End: fmt.Sprintf("%d-01-01T00:00:00Z", y+1)}
	s.Consequences.CollateralWallet = ""
	if s.Support == nil {
		t.Fatal("examples/telecom has no support section")
	}
	found := false
	for i := range s.Support.Severities {
		if sev := &s.Support.Severities[i]; sev.ID == "critical" {
			sev.Acceptance.TargetMS, sev.Closure.TargetMS = acceptanceMS, closureMS
			found = true
		}
	}
	if !found {
		t.Fatal("examples/telecom has no critical severity")
	}
	s.Support.Penalties = []sla.TicketPenalty{
		{Severity: "critical", Target: "acceptance", AmountMinor: acceptancePen},
		{Severity: "critical", Target: "closure", AmountMinor: closurePenalty},
	}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sla.Parse(doc); err != nil {
		t.Fatalf("the test's SLA: %v", err)
	}
	return s, doc
}

// activate proposes and accepts s (doc) between the example's provider and client.
func activate(t *testing.T, s *sla.SLA, doc []byte) {
	t.Helper()
	for _, w := range []struct{ who, wallet string }{{"client", s.Parties.Client.Wallet}, {"provider", s.Parties.Provider.Wallet}} {
		if _, err := nw.SubmitAndSync(w.who, "refund", "OpenAccount", w.wallet); err != nil && !strings.Contains(fabnet.ErrorText(err), "already exists") {
			t.Fatalf("OpenAccount %s: %s", w.wallet, fabnet.ErrorText(err))
		}
	}
	nw.MustSubmit(t, "issuer", "refund", "Mint", s.Parties.Client.Wallet, strconv.FormatInt(s.Price.AmountMinor*2, 10))
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	nw.MustProposeSLA(t, "provider", doc, nw.SignB64(t, "provider", d[:]))
	nw.MustAcceptSLA(t, "client", doc, s.ID, hex.EncodeToString(d[:]), nw.SignB64(t, "client", d[:]))
}

// getTicket evaluates GetTicket as who (on its organization's peer).
func getTicket(t *testing.T, who, slaID, id string) (view, record) {
	t.Helper()
	var v view
	if err := json.Unmarshal(nw.MustEvaluate(t, who, "ticket", "GetTicket", slaID, id), &v); err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(v.Record, &r); err != nil {
		t.Fatal(err)
	}
	return v, r
}

// transition submits fn of a ticket as who: the current record (read by reader, a member of the ticket's
// organizations) and input in the transient map, endorsed by exactly the ticket's organizations (or orgs
// when given).
func transition(who, reader, fn, slaID, id string, input any, orgs ...string) error {
	raw, err := nw.Contract(reader, "ticket")
	if err != nil {
		return err
	}
	out, err := raw.Evaluate("GetTicket", client.WithArguments(slaID, id))
	if err != nil {
		return fmt.Errorf("GetTicket: %s", fabnet.ErrorText(err))
	}
	var v view
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	tm := map[string][]byte{"ticket": v.Record}
	if input != nil {
		b, err := json.Marshal(input)
		if err != nil {
			return err
		}
		tm["input"] = b
	}
	if len(orgs) == 0 {
		orgs = v.Ticket.Orgs
	}
	_, err = nw.SubmitAndSyncOptions(who, "ticket", fn, client.WithArguments(slaID, id), client.WithTransient(tm), client.WithEndorsingOrganizations(orgs...))
	return err
}

func mustTransition(t *testing.T, who, fn, slaID, id string, input any) {
	t.Helper()
	if err := transition(who, who, fn, slaID, id, input); err != nil {
		t.Fatalf("%s %s: %s", who, fn, fabnet.ErrorText(err))
	}
}

func TestTicketStory(t *testing.T) {
	s, doc := telecomSLA(t)
	activate(t, s, doc)
	desc, reason, vendorRef := marker(t, "DESC"), marker(t, "REASON"), marker(t, "VREF")
	id := "TT-1"
	vendor := nw.ID(t, "vendor")

	// The client (the customer) opens a critical ticket: the document and the text in the transient map,
	// endorsed by the customer's and the provider's organizations.
	orgs, err := fabnet.SLAOrgs(s.Parties.Provider.MSPID, s.Parties.Client.MSPID)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]string{"severity": "critical", "type": "outage", "description": desc})
	if _, err := nw.SubmitAndSyncOptions("client", "ticket", "CreateTicket", client.WithArguments(s.ID, id),
		client.WithTransient(map[string][]byte{"sla": doc, "input": in}), client.WithEndorsingOrganizations(orgs...)); err != nil {
		t.Fatalf("CreateTicket: %s", fabnet.ErrorText(err))
	}
	created := time.Now()
	v, r := getTicket(t, "provider", s.ID, id)
	if r.Status != "open" || r.Description != desc || r.Severity != "critical" || r.Acceptance.TargetMS != acceptanceMS || r.Closure.TargetMS != closureMS {
		t.Fatalf("created ticket %+v", r)
	}
	if strings.Join(v.Ticket.Orgs, ",") != strings.Join(orgs, ",") {
		t.Fatalf("ticket orgs %v, want %v", v.Ticket.Orgs, orgs)
	}

	// The provider assigns VendorOrg's vendor: the record goes to VendorOrg's collection too, so VendorOrg
	// endorses the assignment and every transition after it.
	withVendor := append([]string{vendor.MSPID}, orgs...)
	sort.Strings(withVendor)
	if err := transition("provider", "provider", "AssignVendor", s.ID, id, map[string]any{
		"vendor": map[string]string{"msp_id": vendor.MSPID, "subject": vendor.Subject, "issuer": vendor.Issuer}, "note": "yours"}, withVendor...); err != nil {
		t.Fatalf("AssignVendor: %s", fabnet.ErrorText(err))
	}
	v, r = getTicket(t, "vendor", s.ID, id)
	if r.Status != "assigned" || len(v.Ticket.Orgs) != 3 {
		t.Fatalf("assigned ticket: status %s, orgs %v", r.Status, v.Ticket.Orgs)
	}

	// Nobody but the assigned vendor acknowledges: not the provider, not VendorOrg's admin, not an
	// outsider; and not without VendorOrg's endorsement.
	for _, who := range []string{"provider", "vendor-admin", "other"} {
		reader := who
		if who == "other" || who == "vendor-admin" {
			reader = "vendor"
		}
		if err := transition(who, reader, "AcknowledgeTicket", s.ID, id, nil); err == nil {
			t.Fatalf("%s acknowledged the vendor's ticket", who)
		} else {
			t.Logf("%s AcknowledgeTicket refused: %s", who, fabnet.ErrorText(err))
		}
	}
	if err := transition("vendor", "vendor", "AcknowledgeTicket", s.ID, id, nil, orgs...); err == nil {
		t.Fatal("AcknowledgeTicket committed without VendorOrg's endorsement")
	} else {
		t.Logf("without VendorOrg's endorsement: %s", fabnet.ErrorText(err))
	}

	// The vendor acknowledges after the 5-second acceptance target: breached, its penalty owed.
	if wait := time.Until(created.Add(acceptanceMS*time.Millisecond + 2*time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	mustTransition(t, "vendor", "AcknowledgeTicket", s.ID, id, map[string]string{"note": "on it"})
	mustTransition(t, "vendor", "UpdateTicket", s.ID, id, map[string]string{"reason": reason, "vendor_ticket_id": vendorRef})
	mustTransition(t, "vendor", "ResolveTicket", s.ID, id, map[string]string{"note": "fixed"})
	mustTransition(t, "client", "CloseTicket", s.ID, id, nil)

	v, r = getTicket(t, "client", s.ID, id)
	if r.Status != "closed" || r.VendorTicketID != vendorRef {
		t.Fatalf("closed ticket %+v", r)
	}
	a, c := r.Acceptance.Outcome, r.Closure.Outcome
	if a == nil || a.Result != "breached" || a.PenaltyMinor != acceptancePen || a.ElapsedMS < acceptanceMS || a.MarginMS != acceptanceMS-a.ElapsedMS || a.Currency != s.Price.Currency {
		t.Fatalf("acceptance outcome %+v, want breached with penalty %d", a, acceptancePen)
	}
	if c == nil || c.Result != "met" || c.PenaltyMinor != 0 || c.ElapsedMS >= closureMS {
		t.Fatalf("closure outcome %+v, want met", c)
	}
	if v.PenaltyOwedMinor != acceptancePen || !v.Breached {
		t.Fatalf("penalty owed %d (breached %v), want %d", v.PenaltyOwedMinor, v.Breached, acceptancePen)
	}
	var actions []string
	for _, tr := range r.Timeline {
		actions = append(actions, tr.Action)
	}
	t.Logf("ticket %s: %s; acceptance %d ms (breached by %d ms), closure %d ms", id, strings.Join(actions, " → "), a.ElapsedMS, -a.MarginMS, c.ElapsedMS)

	// The three organizations hold the same record; the outsider reads nothing.
	for _, who := range []string{"provider", "vendor"} {
		if w, _ := getTicket(t, who, s.ID, id); w.Ticket.Hash != v.Ticket.Hash || !bytes.Equal(w.Record, v.Record) {
			t.Fatalf("%s's record differs from the client's", who)
		}
	}
	if out, err := nw.Contract("other", "ticket"); err != nil {
		t.Fatal(err)
	} else if res, err := out.Evaluate("GetTicket", client.WithArguments(s.ID, id)); err == nil {
		t.Fatalf("the outsider read the ticket: %s", res)
	}

	// No block holds the ticket's text, severity or the vendor's reference: every member reads the blocks.
	qscc, err := nw.Contract("other", "qscc")
	if err != nil {
		t.Fatal(err)
	}
	height, err := nw.Height("provider")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{desc, reason, vendorRef, `"critical"`, "outage"}
	for b := uint64(0); b < height; b++ {
		raw, err := qscc.Evaluate("GetBlockByNumber", client.WithArguments(nw.Info.Channel, strconv.FormatUint(b, 10)))
		if err != nil {
			t.Fatalf("block %d: %s", b, fabnet.ErrorText(err))
		}
		for _, sec := range secrets {
			if bytes.Contains(raw, []byte(sec)) {
				t.Errorf("block %d holds %q", b, sec)
			}
		}
	}
}
