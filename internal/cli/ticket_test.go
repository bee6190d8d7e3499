package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
)

const (
	testSLA      = "telecom-tier1-2026"
	clientDN     = "CN=client@clientorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
	clientCA     = "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US"
	providerDN   = "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
	providerCA   = "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US"
	vendorDN     = "CN=vendor@vendororg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
	vendorCA     = "CN=ca.vendororg.slasa.local,O=vendororg.slasa.local,L=San Francisco,ST=California,C=US"
	testTerms    = `{"severity":"critical","currency":"EUR","acceptance":{"target_ms":1200000,"calendar":{"id":"always","kind":"24x7"}},"closure":{"target_ms":14400000,"calendar":{"id":"always","kind":"24x7"}},"pause_statuses":["waiting_on_customer","customer_caused"],"severity_change":"keep_elapsed","escalation":[{"at_bps":5000,"notify":["provider"]},{"at_bps":7500,"notify":["provider","vendor"]},{"at_bps":10000,"notify":["provider","vendor","customer"]}],"acceptance_penalty_minor":5000,"closure_penalty_minor":20000}`
	testCustomer = `{"msp_id":"ClientOrgMSP","subject":"` + clientDN + `","issuer":"` + clientCA + `"}`
	testProvider = `{"msp_id":"ProviderOrgMSP","subject":"` + providerDN + `","issuer":"` + providerCA + `"}`
	testVendor   = `{"msp_id":"VendorOrgMSP","subject":"` + vendorDN + `","issuer":"` + vendorCA + `"}`
)

// testRecord is the record of ticket TT-1, acknowledged 5m30s after its 20-minute acceptance target
// (escalated twice before), updated by the vendor, its 4-hour closure target running.
const testRecord = `{"nonce":"5f1e","id":"TT-1","sla_id":"` + testSLA + `","customer":` + testCustomer + `,"provider":` + testProvider + `,"vendor":` + testVendor + `,` +
	`"vendor_ticket_id":"V-77","severity":"critical","type":"outage","description":"core router down\nsince 08:55","status":"in_progress",` +
	`"created_at":"2026-12-07T09:00:00.123Z","created_by":"customer","pauses":[],"terms":` + testTerms + `,` +
	`"acceptance":{"target_ms":1200000,"start":"2026-12-07T09:00:00.123Z","carried_ms":0,"deadline":"2026-12-07T09:20:00.123Z",` +
	`"outcome":{"result":"breached","at":"2026-12-07T09:25:30.123Z","severity":"critical","elapsed_ms":1530000,"margin_ms":-330000,"penalty_minor":5000,"currency":"EUR"},"level":2},` +
	`"closure":{"target_ms":14400000,"start":"2026-12-07T09:00:00.123Z","carried_ms":0,"deadline":"2026-12-07T13:00:00.123Z","level":0},` +
	`"escalations":[{"target":"acceptance","level":1,"at_bps":5000,"notify":["provider"],"at":"2026-12-07T09:10:01Z","by":` + testProvider + `},` +
	`{"target":"acceptance","level":2,"at_bps":7500,"notify":["provider","vendor"],"at":"2026-12-07T09:15:02Z","by":` + testProvider + `}],` +
	`"timeline":[` +
	`{"seq":1,"tx_id":"aaaa000000000000000000000001","at":"2026-12-07T09:00:00.123Z","action":"CreateTicket","by":` + testCustomer + `,"role":"customer","to":"open"},` +
	`{"seq":2,"tx_id":"aaaa000000000000000000000002","at":"2026-12-07T09:05:00Z","action":"AssignVendor","by":` + testProvider + `,"role":"provider","from":"open","to":"assigned","note":"vendor VendorOrgMSP: yours"},` +
	`{"seq":3,"tx_id":"aaaa000000000000000000000003","at":"2026-12-07T09:10:01Z","action":"Escalate","by":` + testProvider + `,"role":"provider","from":"assigned","to":"assigned","note":"acceptance escalation level 1"},` +
	`{"seq":4,"tx_id":"aaaa000000000000000000000004","at":"2026-12-07T09:15:02Z","action":"Escalate","by":` + testProvider + `,"role":"provider","from":"assigned","to":"assigned","note":"acceptance escalation level 2"},` +
	`{"seq":5,"tx_id":"aaaa000000000000000000000005","at":"2026-12-07T09:25:30.123Z","action":"AcknowledgeTicket","by":` + testVendor + `,"role":"vendor","from":"assigned","to":"acknowledged","note":"on it"},` +
	`{"seq":6,"tx_id":"aaaa000000000000000000000006","at":"2026-12-07T09:40:00Z","action":"UpdateTicket","by":` + testVendor + `,"role":"vendor","from":"acknowledged","to":"in_progress","note":"line card swapped\nwatching"}]}`

const testClock = `{"target":"closure","at":"2026-12-07T10:00:00.5Z","elapsed_ms":3600377,"remaining_ms":10799623,"used_bps":2500,"paused":false}`

// testView is GetTicket's answer for testRecord.
func testView(record, clock string) string {
	v := `{"ticket":{"id":"TT-1","sla_id":"` + testSLA + `","seq":6,"hash":"9a0b","orgs":["ClientOrgMSP","ProviderOrgMSP","VendorOrgMSP"]},"record":` + record +
		`,"penalty_owed_minor":5000,"breached":true`
	if clock != "" {
		v += `,"clock":` + clock
	}
	return v + "}"
}

// fakeSubmit is a transaction the fake ledger received.
type fakeSubmit struct {
	CC, Fn    string
	Args      []string
	Transient map[string]string
	Orgs      []string
}

// fakeTickets is a ticketLedger: GetTicket answers from views (in turn, the last one repeated),
// GetSLA with slaAnswer, ListTickets with pages, GetTicketHistory with history; Submit records the
// transaction and returns the next of submitErrs (nil when none is left).
type fakeTickets struct {
	msp        string
	info       *fabnet.Info
	views      []string
	getErr     error
	slaAnswer  string
	pages      []string
	history    string
	events     chan *client.ChaincodeEvent
	submitErrs []error

	connects  int
	as        string
	evaluated []string
	submits   []fakeSubmit
}

func (f *fakeTickets) MSPID() string         { return f.msp }
func (f *fakeTickets) Network() *fabnet.Info { return f.info }
func (f *fakeTickets) Close()                {}

func (f *fakeTickets) Evaluate(_ context.Context, cc, fn string, args ...string) ([]byte, error) {
	f.evaluated = append(f.evaluated, cc+"."+fn+"("+strings.Join(args, ",")+")")
	switch fn {
	case "GetTicket":
		if f.getErr != nil {
			return nil, f.getErr
		}
		if len(f.views) == 0 {
			return nil, fmt.Errorf("chaincode response 500, ticket %q of SLA %q does not exist", args[1], args[0])
		}
		v := f.views[0]
		if len(f.views) > 1 {
			f.views = f.views[1:]
		}
		return []byte(v), nil
	case "GetSLA":
		return []byte(f.slaAnswer), nil
	case "ListTickets":
		if len(f.pages) == 0 {
			return nil, errors.New("no more pages")
		}
		p := f.pages[0]
		f.pages = f.pages[1:]
		return []byte(p), nil
	case "GetTicketHistory":
		return []byte(f.history), nil
	}
	return nil, fmt.Errorf("fake: unknown function %s", fn)
}

func (f *fakeTickets) Submit(_ context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error) {
	tm := map[string]string{}
	for k, v := range transient {
		tm[k] = string(v)
	}
	f.submits = append(f.submits, fakeSubmit{CC: cc, Fn: fn, Args: args, Transient: tm, Orgs: orgs})
	if len(f.submitErrs) > 0 {
		err := f.submitErrs[0]
		f.submitErrs = f.submitErrs[1:]
		if err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("tx%d", len(f.submits)), nil
}

func (f *fakeTickets) Events(context.Context, string, int64) (<-chan *client.ChaincodeEvent, error) {
	return f.events, nil
}

// useFake makes the ticket commands connect to f.
func useFake(t *testing.T, f *fakeTickets) {
	t.Helper()
	old := connectTickets
	connectTickets = func(cmd *cobra.Command, def string) (ticketLedger, error) {
		f.connects++
		f.as, _ = cmd.Flags().GetString("as")
		if f.as == "" {
			f.as = def
		}
		return f, nil
	}
	t.Cleanup(func() { connectTickets = old })
}

// TestTicketUsageErrors runs the ticket commands with wrong command lines: each fails with exit status
// 2, naming the flag or argument and the reason, before any connection is made.
func TestTicketUsageErrors(t *testing.T) {
	f := &fakeTickets{}
	useFake(t, f)
	long := strings.Repeat("x", 1025)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", testSLA}, "slasa ticket create takes 2 argument(s): SLA TICKET (got 1)"},
		{[]string{"create", testSLA, "TT 1", "--severity", "critical", "--type", "t", "--description", "d"}, `TICKET: "TT 1" is not 1..64 letters, digits, '.', '_' or '-' starting with a letter or digit`},
		{[]string{"create", " ", "TT-1", "--severity", "critical", "--type", "t", "--description", "d"}, "SLA: the SLA id must not be empty"},
		{[]string{"create", testSLA, "TT-1", "--type", "t", "--description", "d"}, "--severity is required"},
		{[]string{"create", testSLA, "TT-1", "--severity", "critical", "--description", "d"}, "--type is required"},
		{[]string{"create", testSLA, "TT-1", "--severity", "critical", "--type", "a\nb", "--description", "d"}, "--type: must be one line"},
		{[]string{"create", testSLA, "TT-1", "--severity", "critical", "--type", "t"}, "--description is required"},
		{[]string{"create", testSLA, "TT-1", "--severity", "critical", "--type", "t", "--description", strings.Repeat("d", 4097)}, "--description: 4097 bytes, more than 4096"},
		{[]string{"create", testSLA, "TT-1", "--severity", "critical", "--type", "t", "--description", "a\x00b"}, "--description: must be UTF-8 text without NUL"},
		{[]string{"assign", testSLA, "TT-1"}, "assign needs the vendor: --vendor NAME, or --vendor-msp, --vendor-subject and --vendor-issuer"},
		{[]string{"assign", testSLA, "TT-1", "--vendor", "vendor", "--vendor-msp", "VendorOrgMSP"}, "--vendor and --vendor-msp/--vendor-subject/--vendor-issuer exclude each other"},
		{[]string{"assign", testSLA, "TT-1", "--vendor-msp", "VendorOrgMSP", "--vendor-issuer", vendorCA}, "--vendor-subject: must not be empty"},
		{[]string{"assign", testSLA, "TT-1", "--vendor", "vendor", "--note", long}, "--note: 1025 bytes, more than 1024"},
		{[]string{"ack", testSLA, "TT-1", "--note", long}, "--note: 1025 bytes, more than 1024"},
		{[]string{"resolve", testSLA, "TT-1", "extra"}, "takes 2 argument(s)"},
		{[]string{"update", testSLA, "TT-1"}, "--reason is required"},
		{[]string{"update", testSLA, "TT-1", "--reason", "r", "--vendor-ticket-id", "V\n1"}, "--vendor-ticket-id: must be one line"},
		{[]string{"update", testSLA, "TT-1", "--reason", "r", "--vendor-ticket-id", strings.Repeat("v", 129)}, "--vendor-ticket-id: 129 bytes, more than 128"},
		{[]string{"pause", testSLA, "TT-1", "--reason", "r"}, "--status is required (a pause status of the SLA, e.g. waiting_on_customer)"},
		{[]string{"pause", testSLA, "TT-1", "--status", "Waiting", "--reason", "r"}, `--status: "Waiting" is not a status (lower-case letters, digits and '_')`},
		{[]string{"pause", testSLA, "TT-1", "--status", "waiting_on_customer"}, "--reason is required"},
		{[]string{"reopen", testSLA, "TT-1"}, "--reason is required"},
		{[]string{"severity", testSLA, "TT-1", "--reason", "r"}, "--severity is required"},
		{[]string{"severity", testSLA, "TT-1", "--severity", "high"}, "--reason is required"},
		{[]string{"escalate", testSLA, "TT-1"}, "takes 3 argument(s): SLA TICKET LEVEL"},
		{[]string{"escalate", testSLA, "TT-1", "0"}, `LEVEL: "0" is not an escalation level 1..5`},
		{[]string{"escalate", testSLA, "TT-1", "6"}, `LEVEL: "6" is not an escalation level 1..5`},
		{[]string{"escalate", testSLA, "TT-1", "01"}, `LEVEL: "01" is not an escalation level 1..5`},
		{[]string{"escalate", testSLA, "TT-1", "two"}, `LEVEL: "two" is not an escalation level 1..5`},
		{[]string{"show", testSLA}, "takes 2 argument(s)"},
		{[]string{"history", testSLA, "-x"}, "unknown shorthand flag"},
		{[]string{"list", testSLA, "--page-size", "0"}, "--page-size: 0 is not within 1..100"},
		{[]string{"list", testSLA, "--page-size", "101"}, "--page-size: 101 is not within 1..100"},
		{[]string{"list", testSLA, "--status", "In Progress"}, `--status: "In Progress" is not a ticket status`},
		{[]string{"list"}, "takes 1 argument(s): SLA"},
		{[]string{"watch", "--max", "-1"}, "--max: -1 is negative"},
		{[]string{"watch", "x"}, "takes 0 argument(s)"},
	}
	for _, tc := range tests {
		code, _, stderr := run(t, "", append([]string{"ticket"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr, ExitUsage, tc.want)
		}
	}
	if f.connects != 0 || len(f.submits) != 0 {
		t.Errorf("wrong command lines connected %d times and submitted %v", f.connects, f.submits)
	}
}

// TestTicketTransitions checks what each transition command submits: the function, slaID and
// ticketID (and Escalate's level) as the only arguments, the record exactly as GetTicket returned it
// under "ticket", the input under "input", endorsed by exactly the ticket's organizations, as the
// command's default identity.
func TestTicketTransitions(t *testing.T) {
	orgs := []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}
	tests := []struct {
		args  []string
		as    string
		fn    string
		input string
		extra []string
	}{
		{[]string{"ack", testSLA, "TT-1", "--note", "on it"}, "vendor", "AcknowledgeTicket", `{"note":"on it"}`, nil},
		{[]string{"ack", testSLA, "TT-1"}, "vendor", "AcknowledgeTicket", "", nil},
		{[]string{"update", testSLA, "TT-1", "--reason", "line card swapped", "--vendor-ticket-id", "V-77"}, "vendor", "UpdateTicket",
			`{"reason":"line card swapped","vendor_ticket_id":"V-77"}`, nil},
		{[]string{"pause", testSLA, "TT-1", "--status", "waiting_on_customer", "--reason", "need the site's access code"}, "vendor", "PauseTicket",
			`{"reason":"need the site's access code","status":"waiting_on_customer"}`, nil},
		{[]string{"resume", testSLA, "TT-1", "--as", "client", "--note", "code sent"}, "client", "ResumeTicket", `{"note":"code sent"}`, nil},
		{[]string{"resolve", testSLA, "TT-1", "--note", "fixed"}, "vendor", "ResolveTicket", `{"note":"fixed"}`, nil},
		{[]string{"close", testSLA, "TT-1"}, "client", "CloseTicket", "", nil},
		{[]string{"reopen", testSLA, "TT-1", "--reason", "down again"}, "client", "ReopenTicket", `{"reason":"down again"}`, nil},
		{[]string{"escalate", testSLA, "TT-1", "1"}, "provider", "Escalate", "", []string{"1"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			f := &fakeTickets{msp: "VendorOrgMSP", views: []string{testView(testRecord, testClock)}}
			useFake(t, f)
			code, _, stderr := run(t, "", append([]string{"ticket"}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if f.as != tc.as {
				t.Errorf("acted as %q, want %q", f.as, tc.as)
			}
			tm := map[string]string{"ticket": testRecord}
			if tc.input != "" {
				tm["input"] = tc.input
			}
			want := []fakeSubmit{{CC: "ticket", Fn: tc.fn, Args: append([]string{testSLA, "TT-1"}, tc.extra...), Transient: tm, Orgs: orgs}}
			if got, w := mustJSON(t, f.submits), mustJSON(t, want); string(got) != string(w) {
				t.Errorf("submitted\n%s\nwant\n%s", got, w)
			}
		})
	}
}

func TestTicketTransitionOutput(t *testing.T) {
	f := &fakeTickets{msp: "VendorOrgMSP", views: []string{testView(testRecord, testClock)}}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "update", testSLA, "TT-1", "--reason", "line card swapped")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "updated:       TT-1 of SLA telecom-tier1-2026\n" +
		"status:        in_progress\n" +
		"seq:           6\n" +
		"acceptance:    breached in 25m30s of 20m (margin -5m30s), penalty 50.00 EUR\n" +
		"closure:       due 2026-12-07T13:00:00Z, 2h59m59.623s left\n" +
		"penalty owed:  50.00 EUR\n" +
		"endorsed by:   ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP\n" +
		"tx:            tx1\n"
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
	if got := strings.Join(f.evaluated, " "); got != "ticket.GetTicket("+testSLA+",TT-1) ticket.GetTicket("+testSLA+",TT-1)" {
		t.Errorf("evaluated %s", got)
	}
	code, out, _ = run(t, "", "ticket", "close", testSLA, "TT-1", "--json")
	var res map[string]any
	if code != ExitOK || json.Unmarshal([]byte(out), &res) != nil || res["action"] != "CloseTicket" || res["tx_id"] != "tx2" ||
		res["status"] != "in_progress" || res["seq"] != float64(6) {
		t.Errorf("--json: exit %d\n%s", code, out)
	}
}

// TestTicketRefusedBeforeSubmit checks the inputs that the current record or the SLA document shows
// to be wrong: an error naming the flag, nothing submitted.
func TestTicketRefusedBeforeSubmit(t *testing.T) {
	doc := repo("examples", "telecom", "sla.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"pause", testSLA, "TT-1", "--status", "on_hold", "--reason", "r"}, `--status: "on_hold" is not a pause status of SLA telecom-tier1-2026 (waiting_on_customer, customer_caused)`},
		{[]string{"escalate", testSLA, "TT-1", "4"}, "LEVEL: 4 is not a level of SLA telecom-tier1-2026's escalation (1..3)"},
		{[]string{"severity", testSLA, "TT-1", "--severity", "critical", "--reason", "r", "--sla-file", doc}, "--severity: ticket TT-1 of SLA telecom-tier1-2026 is critical already"},
		{[]string{"severity", testSLA, "TT-1", "--severity", "urgent", "--reason", "r", "--sla-file", doc}, `--severity: "urgent" is not a severity of SLA telecom-tier1-2026 (critical, high, medium, low)`},
		{[]string{"create", testSLA, "TT-2", "--severity", "urgent", "--type", "t", "--description", "d", "--sla-file", doc}, `--severity: "urgent" is not a severity of SLA telecom-tier1-2026 (critical, high, medium, low)`},
		{[]string{"create", "other-sla", "TT-2", "--severity", "high", "--type", "t", "--description", "d", "--sla-file", doc}, `the document is SLA "telecom-tier1-2026", not "other-sla"`},
		{[]string{"create", testSLA, "TT-2", "--severity", "high", "--type", "t", "--description", "d", "--sla-file", repo("examples", "aws-ec2-region", "sla.json")}, `the document is SLA "aws-ec2-region-2026", not "telecom-tier1-2026"`},
		{[]string{"create", testSLA, "TT-2", "--severity", "high", "--type", "t", "--description", "d", "--sla-file", "no-such.json"}, "--sla-file: open no-such.json"},
		{[]string{"assign", testSLA, "TT-1", "--vendor-msp", "ClientOrgMSP", "--vendor-subject", clientDN, "--vendor-issuer", clientCA}, "--vendor: ClientOrgMSP is the customer's organization; the vendor must be another organization"},
		{[]string{"assign", testSLA, "TT-1", "--vendor", "vendor"}, "--vendor NAME names an identity of the local network's run folder; with an explicit identity give --vendor-msp, --vendor-subject and --vendor-issuer"},
	}
	for _, tc := range tests {
		f := &fakeTickets{msp: "ProviderOrgMSP", views: []string{testView(testRecord, testClock)}}
		useFake(t, f)
		code, _, stderr := run(t, "", append([]string{"ticket"}, tc.args...)...)
		if code == ExitOK || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.want)
		}
		if len(f.submits) != 0 {
			t.Errorf("%v: submitted %v", tc.args, f.submits)
		}
	}
}

// TestTicketCreate checks CreateTicket's transaction: the document and the input in the transient
// map, the ticket and SLA ids as the only arguments, endorsed by the provider's and the client's
// organizations; the document from --sla-file or from GetSLA on the caller's peer.
func TestTicketCreate(t *testing.T) {
	docPath := repo("examples", "telecom", "sla.json")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	input := `{"description":"core router down","severity":"high","type":"outage"}`
	want := []fakeSubmit{{CC: "ticket", Fn: "CreateTicket", Args: []string{testSLA, "TT-2"},
		Transient: map[string]string{"sla": string(doc), "input": input}, Orgs: []string{"ClientOrgMSP", "ProviderOrgMSP"}}}

	f := &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}}
	useFake(t, f)
	code, _, stderr := run(t, "", "ticket", "create", testSLA, "TT-2", "--severity", "high", "--type", "outage", "--description", "core router down", "--sla-file", docPath)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, w := mustJSON(t, f.submits), mustJSON(t, want); string(got) != string(w) || f.as != "client" {
		t.Errorf("as %s submitted\n%s\nwant\n%s", f.as, got, w)
	}

	// Without --sla-file: the caller's organization's copy (GetSLA).
	rec, err := json.Marshal(signedsla.Record{Version: signedsla.Version, Document: doc, Digest: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	f = &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)},
		slaAnswer: `{"id":"` + testSLA + `","status":"ACTIVE","signed":` + string(rec) + `}`}
	useFake(t, f)
	code, _, stderr = run(t, "", "ticket", "create", testSLA, "TT-2", "--severity", "high", "--type", "outage", "--description", "core router down")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, w := mustJSON(t, f.submits), mustJSON(t, want); string(got) != string(w) {
		t.Errorf("submitted\n%s\nwant\n%s", got, w)
	}
	if f.evaluated[0] != "agreement.GetSLA("+testSLA+")" {
		t.Errorf("evaluated %v", f.evaluated)
	}

	// ChangeSeverity carries the document too.
	f = &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "severity", testSLA, "TT-1", "--severity", "high", "--reason", "workaround in place", "--sla-file", docPath); code != ExitOK {
		t.Fatalf("severity: exit %d: %s", code, stderr)
	}
	want = []fakeSubmit{{CC: "ticket", Fn: "ChangeSeverity", Args: []string{testSLA, "TT-1"},
		Transient: map[string]string{"sla": string(doc), "ticket": testRecord, "input": `{"reason":"workaround in place","severity":"high"}`},
		Orgs:      []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}}}
	if got, w := mustJSON(t, f.submits), mustJSON(t, want); string(got) != string(w) {
		t.Errorf("severity submitted\n%s\nwant\n%s", got, w)
	}
}

// TestTicketAssign checks AssignVendor: the vendor's identity from the run folder's certificate (or
// the explicit flags) in the input, its organization endorsing with the ticket's.
func TestTicketAssign(t *testing.T) {
	vendor := fabricfake.MustNewCA("VendorOrgMSP").MustIssue("vendor@vendororg.slasa.local", "client")
	certPath := filepath.Join(t.TempDir(), "vendor.pem")
	if err := os.WriteFile(certPath, vendor.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	info := &fabnet.Info{Orgs: map[string]fabnet.Org{"vendor": {MSPID: "VendorOrgMSP", Users: map[string]fabnet.User{"vendor": {CertPath: certPath}}}}}
	open := strings.Replace(strings.Replace(testRecord, `"status":"in_progress"`, `"status":"open"`, 1), `"vendor":`+testVendor+`,`, "", 1)
	view := strings.Replace(testView(open, testClock), `"orgs":["ClientOrgMSP","ProviderOrgMSP","VendorOrgMSP"]`, `"orgs":["ClientOrgMSP","ProviderOrgMSP"]`, 1)
	want := func(input string) []fakeSubmit {
		return []fakeSubmit{{CC: "ticket", Fn: "AssignVendor", Args: []string{testSLA, "TT-1"},
			Transient: map[string]string{"ticket": open, "input": input}, Orgs: []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}}}
	}

	f := &fakeTickets{msp: "ProviderOrgMSP", info: info, views: []string{view}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "assign", testSLA, "TT-1", "--vendor", "vendor", "--note", "yours"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	input := `{"note":"yours","vendor":{"msp_id":"VendorOrgMSP","subject":"CN=vendor@vendororg.slasa.local,OU=client,L=San Francisco,ST=California,C=US","issuer":"CN=ca.vendororg.slasa.local,O=vendororg.slasa.local,L=San Francisco,ST=California,C=US"}}`
	if got, w := mustJSON(t, f.submits), mustJSON(t, want(input)); string(got) != string(w) || f.as != "provider" {
		t.Errorf("as %s submitted\n%s\nwant\n%s", f.as, got, w)
	}

	f = &fakeTickets{msp: "ProviderOrgMSP", views: []string{view}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "assign", testSLA, "TT-1", "--vendor-msp", "VendorOrgMSP", "--vendor-subject", vendorDN, "--vendor-issuer", vendorCA); code != ExitOK {
		t.Fatalf("explicit vendor: exit %d: %s", code, stderr)
	}
	if got, w := mustJSON(t, f.submits), mustJSON(t, want(`{"note":"","vendor":`+testVendor+`}`)); string(got) != string(w) {
		t.Errorf("explicit vendor submitted\n%s\nwant\n%s", got, w)
	}

	f = &fakeTickets{msp: "ProviderOrgMSP", info: info, views: []string{view}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "assign", testSLA, "TT-1", "--vendor", "nobody"); code != ExitUsage || !strings.Contains(stderr, `--vendor: identity "nobody": unknown`) {
		t.Errorf("unknown vendor name: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "ticket", "assign", testSLA, "TT-1", "--vendor", "other"); code != ExitFailure || !strings.Contains(stderr, "--vendor other: ") {
		t.Errorf("vendor of an organization missing from the network: exit %d, %s", code, stderr)
	}
	if len(f.submits) != 0 {
		t.Errorf("submitted %v", f.submits)
	}
}

// TestTicketLag checks that a transition refused because the caller's peer had not seen the ticket's
// last transaction is read and submitted again, and that any other refusal is reported once, naming
// the function and the chaincode's message.
func TestTicketLag(t *testing.T) {
	stale := detailErr(codes.Aborted, "failed to endorse",
		`chaincode response 500, transient "ticket": it is not the current record of ticket "TT-1" of SLA "x" (seq 5); read it again with GetTicket`)
	f := &fakeTickets{msp: "VendorOrgMSP", views: []string{testView(testRecord, testClock)}, submitErrs: []error{stale}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "resolve", testSLA, "TT-1"); code != ExitOK || len(f.submits) != 2 {
		t.Fatalf("exit %d, %d submits: %s", code, len(f.submits), stderr)
	}

	refused := detailErr(codes.Aborted, "failed to endorse", `chaincode response 500, ticket "TT-1" of SLA "x" is in_progress; CloseTicket needs status resolved`)
	f = &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}, submitErrs: []error{refused}}
	useFake(t, f)
	code, _, stderr := run(t, "", "ticket", "close", testSLA, "TT-1")
	if want := `slasa: ticket.CloseTicket: Aborted: failed to endorse: ticket "TT-1" of SLA "x" is in_progress; CloseTicket needs status resolved` + "\n"; code != ExitFailure || stderr != want || len(f.submits) != 1 {
		t.Errorf("exit %d, %d submits, stderr %q; want %q", code, len(f.submits), stderr, want)
	}

	f = &fakeTickets{msp: "OtherOrgMSP", getErr: detailErr(codes.Aborted, "failed", `chaincode response 500, ticket "TT-1" of SLA "x" belongs elsewhere`)}
	useFake(t, f)
	code, _, stderr = run(t, "", "ticket", "show", testSLA, "TT-1")
	if want := `slasa: ticket.GetTicket: Aborted: failed: ticket "TT-1" of SLA "x" belongs elsewhere` + "\n"; code != ExitFailure || stderr != want {
		t.Errorf("show: exit %d, stderr %q; want %q", code, stderr, want)
	}
}

func TestTicketShow(t *testing.T) {
	f := &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "show", testSLA, "TT-1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "ticket:         TT-1 of SLA telecom-tier1-2026 (seq 6)\n" +
		"status:         in_progress\n" +
		"severity:       critical\n" +
		"type:           outage\n" +
		"description:    core router down ⏎ since 08:55\n" +
		"customer:       ClientOrgMSP/client@clientorg.slasa.local (issuer ca.clientorg.slasa.local)\n" +
		"provider:       ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local)\n" +
		"assignee:       VendorOrgMSP/vendor@vendororg.slasa.local (issuer ca.vendororg.slasa.local), vendor ticket V-77\n" +
		"created:        2026-12-07T09:00:00Z by the customer\n" +
		"clock:          closure target: 1h0.377s counted of 4h (25% used), 2h59m59.623s left at 2026-12-07T10:00:00Z\n" +
		"breached:       yes\n" +
		"penalty owed:   50.00 EUR\n" +
		"organizations:  ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP\n" +
		"\n" +
		"TARGET      LIMIT  CALENDAR  DEADLINE              REMAINING     OUTCOME                   ESCALATION  PENALTY\n" +
		"acceptance  20m    always    2026-12-07T09:20:00Z  -             breached (margin -5m30s)  2/3         50.00 EUR\n" +
		"closure     4h     always    2026-12-07T13:00:00Z  2h59m59.623s  -                         0/3         -\n"
	if out != want {
		t.Errorf("show\n%s\nwant\n%s", out, want)
	}

	// Paused: the closure deadline is unknown, its clock stopped.
	paused := strings.NewReplacer(`"status":"in_progress"`, `"status":"waiting_on_customer","paused_from":"in_progress"`,
		`"deadline":"2026-12-07T13:00:00.123Z"`, `"deadline":""`,
		`"pauses":[]`, `"pauses":[{"status":"waiting_on_customer","from":"2026-12-07T09:50:00Z"}]`).Replace(testRecord)
	f = &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(paused, strings.Replace(testClock, `"paused":false`, `"paused":true`, 1))}}
	useFake(t, f)
	_, out, _ = run(t, "", "ticket", "show", testSLA, "TT-1")
	for _, w := range []string{
		"status:         waiting_on_customer (paused from in_progress)\n",
		"clock:          closure target: 1h0.377s counted of 4h (25% used), paused, 2h59m59.623s left at 2026-12-07T10:00:00Z\n",
		"closure     4h     always    unknown (paused)      paused     -                         0/3         -\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("paused show lacks %q:\n%s", w, out)
		}
	}

	// --json prints the chaincode's answer.
	f = &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}}
	useFake(t, f)
	_, out, _ = run(t, "", "ticket", "show", testSLA, "TT-1", "--json")
	var v struct {
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !strings.HasPrefix(out, "{\n  \"ticket\": {\n") {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	var a, b any
	_ = json.Unmarshal(v.Record, &a)
	_ = json.Unmarshal([]byte(testRecord), &b)
	if string(mustJSON(t, a)) != string(mustJSON(t, b)) {
		t.Error("--json changed the record")
	}
}

func TestTicketList(t *testing.T) {
	closed := strings.NewReplacer(`"status":"in_progress"`, `"status":"closed"`, `"id":"TT-1"`, `"id":"TT-2"`,
		`"deadline":"2026-12-07T13:00:00.123Z","level":0}`,
		`"deadline":"2026-12-07T13:00:00.123Z","outcome":{"result":"met","at":"2026-12-07T11:00:00Z","severity":"critical","elapsed_ms":7199877,"margin_ms":7200123,"penalty_minor":0,"currency":"EUR"},"level":0}`).Replace(testRecord)
	closedView := strings.Replace(testView(closed, ""), `"id":"TT-1"`, `"id":"TT-2"`, 1)
	open := strings.NewReplacer(`"status":"in_progress"`, `"status":"open"`, `"id":"TT-1"`, `"id":"TT-3"`, `"vendor":`+testVendor+`,`, "",
		`"outcome":{"result":"breached","at":"2026-12-07T09:25:30.123Z","severity":"critical","elapsed_ms":1530000,"margin_ms":-330000,"penalty_minor":5000,"currency":"EUR"},`, "",
		`"escalations":[{`, `"escalations":[],"x":[{`).Replace(testRecord)
	openView := strings.NewReplacer(`"id":"TT-1"`, `"id":"TT-3"`, `"penalty_owed_minor":5000,"breached":true`, `"penalty_owed_minor":0,"breached":false`).Replace(
		testView(open, `{"target":"acceptance","at":"2026-12-07T09:30:00Z","elapsed_ms":1800000,"remaining_ms":-600000,"used_bps":10000,"paused":false}`))
	f := &fakeTickets{msp: "ProviderOrgMSP", pages: []string{
		`{"records":[` + testView(testRecord, testClock) + `,` + closedView + `],"bookmark":"TT-3"}`,
		`{"records":[` + openView + `],"bookmark":""}`,
	}}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "list", testSLA, "--breached", "--page-size", "2", "--as", "provider")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "TICKET  STATUS       SEVERITY  ASSIGNEE                                   ACCEPTANCE                CLOSURE                   REMAINING               ESCALATION    PENALTY\n" +
		"TT-1    in_progress  critical  VendorOrgMSP/vendor@vendororg.slasa.local  breached -5m30s           due 2026-12-07T13:00:00Z  closure 2h59m59.623s    acceptance 2  50.00 EUR\n" +
		"TT-2    closed       critical  VendorOrgMSP/vendor@vendororg.slasa.local  breached -5m30s           met +2h0.123s             -                       acceptance 2  50.00 EUR\n" +
		"TT-3    open         critical  -                                          due 2026-12-07T09:20:00Z  due 2026-12-07T13:00:00Z  acceptance overdue 10m  -             -\n"
	if out != want {
		t.Errorf("list\n%s\nwant\n%s", out, want)
	}
	if got := strings.Join(f.evaluated, " "); got != "ticket.ListTickets("+testSLA+",,true,2,) ticket.ListTickets("+testSLA+",,true,2,TT-3)" {
		t.Errorf("evaluated %s", got)
	}

	f = &fakeTickets{msp: "ProviderOrgMSP", pages: []string{`{"records":[],"bookmark":""}`}}
	useFake(t, f)
	if _, out, _ := run(t, "", "ticket", "list", testSLA, "--status", "closed"); out != "no tickets\n" || f.evaluated[0] != "ticket.ListTickets("+testSLA+",closed,,50,)" {
		t.Errorf("empty list %q, evaluated %v", out, f.evaluated)
	}
	f = &fakeTickets{msp: "ProviderOrgMSP", pages: []string{`{"records":[],"bookmark":""}`}}
	useFake(t, f)
	if _, out, _ := run(t, "", "ticket", "list", testSLA, "--json"); out != "[]\n" {
		t.Errorf("empty list --json %q", out)
	}
	f = &fakeTickets{msp: "ProviderOrgMSP", pages: []string{`{"records":[],"bookmark":"TT-9"}`, `{"records":[],"bookmark":"TT-9"}`}}
	useFake(t, f)
	if code, _, stderr := run(t, "", "ticket", "list", testSLA); code != ExitFailure || !strings.Contains(stderr, `the bookmark "TT-9" came back twice`) {
		t.Errorf("repeated bookmark: exit %d %s", code, stderr)
	}
}

func TestTicketHistory(t *testing.T) {
	var r struct {
		Timeline json.RawMessage `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(testRecord), &r); err != nil {
		t.Fatal(err)
	}
	f := &fakeTickets{msp: "ClientOrgMSP", history: string(r.Timeline)}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "history", testSLA, "TT-1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "SEQ  AT                    ACTION             BY                                               ROLE      FROM          TO            NOTE                           TX\n" +
		"1    2026-12-07T09:00:00Z  CreateTicket       ClientOrgMSP/client@clientorg.slasa.local        customer  -             open          -                              aaaa000000000000000000000001\n" +
		"2    2026-12-07T09:05:00Z  AssignVendor       ProviderOrgMSP/provider@providerorg.slasa.local  provider  open          assigned      vendor VendorOrgMSP: yours     aaaa000000000000000000000002\n" +
		"3    2026-12-07T09:10:01Z  Escalate           ProviderOrgMSP/provider@providerorg.slasa.local  provider  assigned      assigned      acceptance escalation level 1  aaaa000000000000000000000003\n" +
		"4    2026-12-07T09:15:02Z  Escalate           ProviderOrgMSP/provider@providerorg.slasa.local  provider  assigned      assigned      acceptance escalation level 2  aaaa000000000000000000000004\n" +
		"5    2026-12-07T09:25:30Z  AcknowledgeTicket  VendorOrgMSP/vendor@vendororg.slasa.local        vendor    assigned      acknowledged  on it                          aaaa000000000000000000000005\n" +
		"6    2026-12-07T09:40:00Z  UpdateTicket       VendorOrgMSP/vendor@vendororg.slasa.local        vendor    acknowledged  in_progress   line card swapped ⏎ watching   aaaa000000000000000000000006\n"
	if out != want {
		t.Errorf("history\n%s\nwant\n%s", out, want)
	}
}

func TestTicketWatch(t *testing.T) {
	events := make(chan *client.ChaincodeEvent, 4)
	events <- &client.ChaincodeEvent{BlockNumber: 7, TransactionID: "0123456789abcdef0123", ChaincodeName: "ticket", EventName: "TicketUpdated",
		Payload: []byte(`{"sla_id":"` + testSLA + `","ticket_id":"TT-1","seq":6}`)}
	events <- &client.ChaincodeEvent{BlockNumber: 8, TransactionID: "tx8", ChaincodeName: "ticket", EventName: "TicketCreated",
		Payload: []byte(`{"sla_id":"another-sla","ticket_id":"A-1","seq":1}`)}
	events <- &client.ChaincodeEvent{BlockNumber: 9, TransactionID: "tx9", ChaincodeName: "ticket", EventName: "TicketEscalated",
		Payload: []byte(`{"sla_id":"` + testSLA + `","ticket_id":"TT-1","seq":5}`)}
	f := &fakeTickets{msp: "ClientOrgMSP", views: []string{testView(testRecord, testClock)}, events: events}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "watch", "--sla", testSLA, "--max", "2")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "block 7  TicketUpdated  telecom-tier1-2026/TT-1 seq 6  status in_progress, severity critical, assignee VendorOrgMSP/vendor@vendororg.slasa.local, " +
		"closure 2h59m59.623s left, acceptance breached, escalation acceptance 2 (notify provider, vendor), penalty 50.00 EUR  tx 0123456789abcdef…\n" +
		"block 9  TicketEscalated  telecom-tier1-2026/TT-1 seq 5  status in_progress, severity critical, assignee VendorOrgMSP/vendor@vendororg.slasa.local, " +
		"closure 2h59m59.623s left, acceptance breached, escalation acceptance 2 (notify provider, vendor), penalty 50.00 EUR, (read at seq 6)  tx tx9\n"
	if out != want {
		t.Errorf("watch\n%s\nwant\n%s", out, want)
	}

	// A ticket the caller's organization does not hold; --json; the stream ending.
	events = make(chan *client.ChaincodeEvent, 1)
	events <- &client.ChaincodeEvent{BlockNumber: 3, TransactionID: "tx3", ChaincodeName: "ticket", EventName: "TicketCreated",
		Payload: []byte(`{"sla_id":"s2","ticket_id":"B-1","seq":1}`)}
	close(events)
	f = &fakeTickets{msp: "OtherOrgMSP", events: events,
		getErr: detailErr(codes.Aborted, "failed", `chaincode response 500, ticket "B-1" of SLA "s2" is readable by ClientOrgMSP, ProviderOrgMSP only, not by OtherOrgMSP`)}
	useFake(t, f)
	code, out, stderr = run(t, "", "ticket", "watch", "--json")
	if code != ExitFailure || !strings.Contains(stderr, "the event stream of ticket ended") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	want = `{"block":3,"error":"ticket.GetTicket: Aborted: failed: ticket \"B-1\" of SLA \"s2\" is readable by ClientOrgMSP, ProviderOrgMSP only, not by OtherOrgMSP","event":"TicketCreated","seq":1,"sla_id":"s2","ticket_id":"B-1","tx_id":"tx3"}` + "\n"
	if out != want {
		t.Errorf("watch --json\n%s\nwant\n%s", out, want)
	}
}

// TestTicketWatchStops checks that watch ends without error when its context ends (--for here, an
// interrupt alike) while no event comes.
func TestTicketWatchStops(t *testing.T) {
	f := &fakeTickets{msp: "ClientOrgMSP", events: make(chan *client.ChaincodeEvent)}
	useFake(t, f)
	code, out, stderr := run(t, "", "ticket", "watch", "--for", "50ms")
	if code != ExitOK || out != "" || stderr != "watching ticket events (Ctrl-C to stop)\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestDurText(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want string
	}{
		{0, "0s"}, {1, "0.001s"}, {1500, "1.5s"}, {1_200_000, "20m"}, {14_400_000, "4h"}, {3_723_500, "1h2m3.5s"},
		{-330_000, "-5m30s"}, {90_000_000, "25h"}, {3_600_377, "1h0.377s"},
	} {
		if got := durText(tc.ms); got != tc.want {
			t.Errorf("durText(%d) = %q, want %q", tc.ms, got, tc.want)
		}
	}
	if timeText("2026-12-07T09:00:00.123Z") != "2026-12-07T09:00:00Z" || timeText("") != "-" {
		t.Error("timeText")
	}
}
