package ticket_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/deploycfg"
)

func list(t *testing.T, n *cctest.Net, status, breached, size, bookmark string) (string, string) {
	t.Helper()
	var p ticket.Page
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, cctest.Ticket, "ListTickets", "sla-1", status, breached, size, bookmark)), &p); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range p.Records {
		ids = append(ids, v.Ticket.ID)
	}
	return strings.Join(ids, ","), p.Bookmark
}

// ListTickets: the tickets of an SLA in the caller's organization's
// collection, filtered by status and breach, page by page.
func TestListTickets(t *testing.T) {
	n, s := setup(t)
	for i, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
		create(t, n, s, id, "critical", fmt.Sprintf("2026-03-10T13:0%d:00Z", i))
	}
	other := cctest.SupportSLA(t, "sla-2")
	n.Activate(other, 1_000_000)
	n.MustCall(cctest.CreateTicketCall(t, n.Client, other, "a1", "critical", "incident", "down"))
	step(t, n, n.Provider, "AssignVendor", "a2", "2026-03-10T13:10:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "a2", "2026-03-10T13:11:00Z", nil)
	step(t, n, n.Provider, "AssignVendor", "a3", "2026-03-10T13:12:00Z", vendorInput(n.Vendor))
	step(t, n, n.Vendor, "AcknowledgeTicket", "a3", "2026-03-10T13:30:00Z", nil)
	// At 13:21: a1 (open since 13:00) is past its acceptance deadline, a3
	// breached it, a2 met it; a4 (13:03) and a5 (13:04) not yet.
	n.At("2026-03-10T13:21:00Z")
	for _, tc := range []struct {
		status, breached, size, bookmark string
		ids, next                        string
	}{
		{"", "", "10", "", "a1,a2,a3,a4,a5", ""},
		{"", "", "2", "", "a1,a2", "a3"},
		{"", "", "2", "a3", "a3,a4", "a5"},
		{"", "", "2", "a5", "a5", ""},
		{"open", "", "10", "", "a1,a4,a5", ""},
		{"acknowledged", "", "10", "", "a2,a3", ""},
		{"", "true", "10", "", "a1,a3", ""},
		{"", "false", "10", "", "a2,a4,a5", ""},
		{"open", "true", "10", "", "a1", ""},
		{"closed", "", "10", "", "", ""},
	} {
		ids, next := list(t, n, tc.status, tc.breached, tc.size, tc.bookmark)
		if ids != tc.ids || next != tc.next {
			t.Errorf("ListTickets(%q, %q, %s, %q) = %s next %q, want %s next %q", tc.status, tc.breached, tc.size, tc.bookmark, ids, next, tc.ids, tc.next)
		}
	}
	// The vendor's organization holds a2 and a3 only.
	var p ticket.Page
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Vendor2, cctest.Ticket, "ListTickets", "sla-1", "", "", "10", "")), &p); err != nil || len(p.Records) != 2 || p.Records[0].Ticket.ID != "a2" {
		t.Fatalf("vendor's list %+v %v", p, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"", "", "", "10", ""}, "slaID: must not be empty"},
		{[]string{"sla-1", "Open", "", "10", ""}, `status: "Open" is not a ticket status`},
		{[]string{"sla-1", "", "yes", "10", ""}, `breached: "yes" is not true, false or empty`},
		{[]string{"sla-1", "", "", "0", ""}, `pageSize: "0" is not an integer in 1..100`},
		{[]string{"sla-1", "", "", "101", ""}, `pageSize: "101" is not an integer in 1..100`},
		{[]string{"sla-1", "", "", "10", "a~b"}, `bookmark: "a~b" is not a ticket id`},
	} {
		if r := n.World.Evaluate(n.Provider, cctest.Ticket, "ListTickets", tc.args...); r.Message != tc.want {
			t.Errorf("ListTickets%q: %q, want %q", tc.args, r.Message, tc.want)
		}
	}
	// GetTicket's clock while paused, and after the targets ended.
	step(t, n, n.Client, "PauseTicket", "a4", "2026-03-10T13:22:00Z", map[string]string{"status": "customer_caused", "reason": "x"})
	n.At("2026-03-10T14:00:00Z")
	v := n.GetTicket(n.Client, "sla-1", "a4")
	if v.Clock == nil || *v.Clock != (ticket.ClockView{Target: "acceptance", At: "2026-03-10T14:00:00Z", ElapsedMS: 1_140_000, RemainingMS: 60_000, UsedBPS: 9500, Paused: true}) ||
		v.Record.Acceptance.Deadline != "" || v.Breached {
		t.Fatalf("paused view %+v %+v", v.Clock, v.Record.Acceptance)
	}
}

// GetTicket's failures, with a faked collection and environment.
func TestGetTicketFailures(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	var pub ticket.TicketPublic
	if err := json.Unmarshal(n.World.State(cctest.Ticket, cctest.TicketKey("sla-1", "t1")), &pub); err != nil {
		t.Fatal(err)
	}
	c := n.TicketContract()
	t.Setenv("CORE_PEER_LOCALMSPID", "ClientOrgMSP")
	stale := `{"id":"t1"}`
	for _, tc := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"no copy", nil, `ticket "t1" of SLA "sla-1": this peer holds no copy of its record in _implicit_org_ClientOrgMSP`},
		{"another record", []byte(stale), fmt.Sprintf(`ticket "t1" of SLA "sla-1": the record in _implicit_org_ClientOrgMSP is not the record of the public hash %s (seq 1)`, pub.Hash)},
		{"not a record", []byte("{"), fmt.Sprintf(`ticket "t1" of SLA "sla-1": the record in _implicit_org_ClientOrgMSP is not the record of the public hash %s (seq 1)`, pub.Hash)},
	} {
		tx := n.World.NewTx(n.Client, cctest.Ticket)
		tx.Stub.GetPrivateDataReturns(tc.value, nil)
		if _, err := c.GetTicket(tx.Context(), "sla-1", "t1"); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	tx := n.World.NewTx(n.Client, cctest.Ticket)
	tx.Stub.GetPrivateDataReturns(nil, fmt.Errorf("pvt down"))
	if _, err := c.GetTicket(tx.Context(), "sla-1", "t1"); err == nil || err.Error() != `read the record of ticket "t1" of SLA "sla-1" from _implicit_org_ClientOrgMSP: pvt down` {
		t.Errorf("read error: %v", err)
	}
	os.Unsetenv("CORE_PEER_LOCALMSPID")
	tx = n.World.NewTx(n.Client, cctest.Ticket)
	if _, err := c.GetTicket(tx.Context(), "sla-1", "t1"); err == nil ||
		err.Error() != "this chaincode server does not know its organization: 'CORE_PEER_LOCALMSPID' is not set (set CORE_PEER_LOCALMSPID to the MSP ID of its peer's organization)" {
		t.Errorf("no local MSP: %v", err)
	}
	if r := n.World.Evaluate(n.Client, cctest.Ticket, "GetTicket", "sla-1", "t9"); r.Message != `ticket "t9" of SLA "sla-1" does not exist` {
		t.Errorf("missing ticket: %q", r.Message)
	}
}

// Every function but Configure and GetConfig, with arguments.
var functions = []struct {
	name string
	args []string
}{
	{"CreateTicket", []string{"sla-1", "t1"}},
	{"AssignVendor", []string{"sla-1", "t1"}},
	{"AcknowledgeTicket", []string{"sla-1", "t1"}},
	{"UpdateTicket", []string{"sla-1", "t1"}},
	{"ResolveTicket", []string{"sla-1", "t1"}},
	{"CloseTicket", []string{"sla-1", "t1"}},
	{"ReopenTicket", []string{"sla-1", "t1"}},
	{"PauseTicket", []string{"sla-1", "t1"}},
	{"ResumeTicket", []string{"sla-1", "t1"}},
	{"ChangeSeverity", []string{"sla-1", "t1"}},
	{"Escalate", []string{"sla-1", "t1", "1"}},
	{"GetTicket", []string{"sla-1", "t1"}},
	{"GetTicketHistory", []string{"sla-1", "t1"}},
	{"ListTickets", []string{"sla-1", "", "", "10", ""}},
}

// The guard: nothing runs before Configure, on a peer with another
// configuration, or with a timestamp off the peers' clocks.
func TestGuard(t *testing.T) {
	n := cctest.NewThreeOrgs(t)
	notConfigured := fmt.Sprintf("the deploy configuration is not recorded on the channel yet: an admin of ClientOrgMSP or ProviderOrgMSP or VendorOrgMSP must call Configure with the deploy configuration (digest %s)", n.Guard.Digest())
	for _, f := range functions {
		n.ExpectError(n.Client, cctest.Ticket, f.name, notConfigured, f.args...)
	}
	n.ExpectError(n.Stranger, cctest.Ticket, "Configure", fmt.Sprintf("Configure: the caller %s is not a member of ClientOrgMSP or ProviderOrgMSP or VendorOrgMSP", cctest.ID(n.Stranger)), n.ConfigJSON)
	n.MustSubmit(n.VendorAdmin, cctest.Ticket, "Configure", n.ConfigJSON)
	if !strings.Contains(n.MustEvaluate(n.Stranger, cctest.Ticket, "GetConfig"), `"agrees":true`) {
		t.Fatal("GetConfig does not agree")
	}
	for _, clock := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		n.Clock = clock
		for _, f := range functions {
			n.ExpectError(n.Client, cctest.Ticket, f.name, n.SkewError(clock), f.args...)
		}
	}
	n.Clock = 0
	recorded := n.Guard.Digest()
	other := *n.Config
	other.Enclave.Attestation = deploycfg.AttestationSGX
	n.Deploy(&other)
	for _, f := range functions {
		n.ExpectError(n.Client, cctest.Ticket, f.name, n.MismatchError(recorded), f.args...)
	}
}
