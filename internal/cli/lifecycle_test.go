package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	fpcclient "github.com/slasa/slasa/fpc/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMoneyAndBPS(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{money(100000, "USD"), "1000.00 USD"},
		{money(5, ""), "0.05"},
		{money(-30000, "EUR"), "-300.00 EUR"},
		{money(0, "USD"), "0.00 USD"},
		{bps(3000), "30%"},
		{bps(10000), "100%"},
		{bps(9983), "99.83%"},
		{bps(9990), "99.9%"},
		{bps(5), "0.05%"},
		{bps(0), "0%"},
		{bps(-150), "-1.5%"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: %q, want %q", i, tc.got, tc.want)
		}
	}
}

func TestTableAndFields(t *testing.T) {
	var b bytes.Buffer
	tb := &table{header: []string{"ID", "STATUS"}}
	tb.add("sla-1", "ACTIVE")
	tb.add("a-much-longer-id", "PROPOSED")
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "ID                STATUS\nsla-1             ACTIVE\na-much-longer-id  PROPOSED\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	if err := writeFields(&b, [][2]string{{"id", "x"}, {"paid through", "-"}}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "id:            x\npaid through:  -\n" {
		t.Errorf("fields: %q", b.String())
	}
}

func TestExplicitFlags(t *testing.T) {
	full := explicitFlags{MSPID: "Org1MSP", Cert: "c.pem", Key: "k.pem", Peer: "localhost:7051", TLSCA: "ca.pem"}
	tests := []struct {
		name     string
		f        explicitFlags
		as       string
		explicit bool
		err      string
	}{
		{name: "none", f: explicitFlags{}, explicit: false},
		{name: "none, --key only (sign key override)", f: explicitFlags{Key: "k.pem"}, explicit: false},
		{name: "complete", f: full, explicit: true},
		{name: "with --as", f: full, as: "client", explicit: true, err: "exclude each other"},
		{name: "missing", f: explicitFlags{MSPID: "Org1MSP", Peer: "p:1"}, explicit: true, err: "--cert, --key, --tls-ca required"},
	}
	for _, tc := range tests {
		explicit, err := tc.f.check(tc.as)
		if explicit != tc.explicit {
			t.Errorf("%s: explicit %v", tc.name, explicit)
		}
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
		if err != nil {
			if _, ok := err.(usageError); !ok {
				t.Errorf("%s: %T is not a usage error", tc.name, err)
			}
		}
	}
	if hostOf("peer0.org1.example.com:7051") != "peer0.org1.example.com" || hostOf("nohost") != "nohost" {
		t.Error("hostOf")
	}
}

func detailErr(code codes.Code, msg string, details ...string) error {
	st := status.New(code, msg)
	var ds []*gateway.ErrorDetail
	for _, d := range details {
		ds = append(ds, &gateway.ErrorDetail{Address: "peer0:7051", MspId: "ProviderOrgMSP", Message: d})
	}
	if len(ds) > 0 {
		var err error
		if st, err = st.WithDetails(ds[0]); err != nil {
			panic(err)
		}
		for _, d := range ds[1:] {
			if st, err = st.WithDetails(d); err != nil {
				panic(err)
			}
		}
	}
	return st.Err()
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"chaincode message from details, deduplicated", detailErr(codes.Aborted, "failed to endorse",
			"chaincode response 500, SLA \"x\" is ACTIVE, not PROPOSED", "chaincode response 500, SLA \"x\" is ACTIVE, not PROPOSED"),
			[]string{"agreement.AcceptSLA: ", `SLA "x" is ACTIVE, not PROPOSED`}},
		{"unreachable peer", status.Error(codes.Unavailable, "connection refused"), []string{"unreachable", "is the network up?"}},
		{"commit status", &commitFailure{TxID: "tx1", Code: "MVCC_READ_CONFLICT"}, []string{"tx1", "rejected it at commit", "retry"}},
		{"commit error", &client.CommitError{TransactionID: "tx2", Code: peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE}, []string{"tx2", "policy"}},
		{"enclave", &fpcclient.ChaincodeError{Function: "Evaluate", Status: 500, Message: "period is not complete"}, []string{"enclave refused: period is not complete"}},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), []string{"timed out", "--timeout"}},
		{"plain", fmt.Errorf("boom"), []string{"agreement.AcceptSLA: boom"}},
	}
	for _, tc := range tests {
		got := explainText("agreement.AcceptSLA", tc.err)
		if strings.Contains(got, "\n") {
			t.Errorf("%s: more than one line: %q", tc.name, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
	}
	if strings.Count(explainText("x", detailErr(codes.Aborted, "m", "chaincode response 500, same", "chaincode response 500, same")), "same") != 1 {
		t.Error("duplicate peer messages not merged")
	}
}

// TestUsageErrors runs the network commands with wrong command lines: each
// fails with exit status 2 before any connection is made.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sla", "propose"}, "takes 1 argument"},
		{[]string{"sla", "accept", "a", "b"}, "takes 1 argument"},
		{[]string{"sla", "list", "--page-size", "0"}, "--page-size"},
		{[]string{"wallet", "mint", "client", "0"}, "positive whole number"},
		{[]string{"wallet", "mint", "client", "1.5"}, "positive whole number"},
		{[]string{"wallet", "transfer", "a", "b", "x"}, "positive whole number"},
		{[]string{"verdict", "show", "sla-1"}, "takes 2 argument"},
		{[]string{"sla", "show", "x", "--as", "nobody"}, "--as"},
		{[]string{"sla", "show", "x", "--as", "client", "--msp-id", "Org1MSP"}, "exclude each other"},
		{[]string{"sla", "show", "x", "--msp-id", "Org1MSP", "--peer", "p:1"}, "required"},
		{[]string{"reputation", "--bogus"}, "unknown flag"},
		{[]string{"sla", "handover", "sla-1"}, "takes 2 argument"},
		{[]string{"sla", "terminate", "sla-1"}, "--reason is required"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := Main(tc.args, strings.NewReader(""), &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tc.args, code, errb.String(), ExitUsage, tc.want)
		}
	}
}

func TestMissingRunFolder(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"sla", "show", "x", "--run-dir", t.TempDir()}, strings.NewReader(""), &out, &errb)
	if code != ExitFailure || !strings.Contains(errb.String(), "make network-up") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestEventLine(t *testing.T) {
	ev := &client.ChaincodeEvent{BlockNumber: 12, TransactionID: "0123456789abcdef0123", ChaincodeName: "refund", EventName: "RefundIssued",
		Payload: []byte(`{"sla_id":"demo-1","period":"2026-01-01T00:00:00Z","violated":true,"credit_bps":3000,"credit":30000,"released":70000,"fee":100000}`)}
	got := eventLine(ev)
	want := "block 12  refund.RefundIssued  sla_id=demo-1 period=2026-01-01T00:00:00Z violated=true credit_bps=3000 credit=30000 released=70000  tx 0123456789abcdef…"
	if got != want {
		t.Errorf("event line\n%q\nwant\n%q", got, want)
	}
	const pin = "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
	for _, tc := range []struct{ name, payload, want string }{
		{"SLASigned", `{"sla_id":"s1","status":"ACTIVE","period":"P0","amount":100000,"enclave":{"chaincode":"slaenclave","enclave_id":"` + pin + `"}}`,
			"sla_id=s1 period=P0 status=ACTIVE amount=100000 enclave=ABCDEF0123456789…"},
		{"EnclaveHandoverApproved", `{"sla_id":"s1","approved_as":"client","enclave_id":"` + pin + `","by":{"msp_id":"C","common_name":"c@x"},"enclave":{"enclave_id":"X"}}`,
			"sla_id=s1 approved_as=client enclave_id=ABCDEF0123456789…"},
		{"SLATerminated", `{"sla_id":"s1","status":"TERMINATED","by":{"msp_id":"C","common_name":"c@x","subject":"CN=c@x"}}`,
			"sla_id=s1 status=TERMINATED by=C/c@x"},
	} {
		ev := &client.ChaincodeEvent{BlockNumber: 3, TransactionID: "tx", ChaincodeName: "agreement", EventName: tc.name, Payload: []byte(tc.payload)}
		if got, want := eventLine(ev), "block 3  agreement."+tc.name+"  "+tc.want+"  tx tx"; got != want {
			t.Errorf("%s event line\n%q\nwant\n%q", tc.name, got, want)
		}
	}
}

func TestIdentityText(t *testing.T) {
	admin := "ProviderOrgMSP/CN=issuer@providerorg.slasa.local,OU=admin,L=San Francisco,ST=California,C=US (issuer CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US)"
	for _, tc := range []struct{ in, want string }{
		{admin, "ProviderOrgMSP/issuer@providerorg.slasa.local (issuer ca.providerorg.slasa.local)"},
		{"provider", "provider"},
		{"escrow", "escrow"},
		{"", ""},
	} {
		if got := identityText(tc.in); got != tc.want {
			t.Errorf("identityText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDocsUpToDate checks that docs/cli.md is what `slasa docs` generates;
// regenerate it with: go run ./cmd/slasa docs --out docs/cli.md
func TestDocsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cli.md")
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: go run ./cmd/slasa docs --out docs/cli.md)", err)
	}
	if !bytes.Equal(have, Reference()) {
		t.Fatal("docs/cli.md is out of date: go run ./cmd/slasa docs --out docs/cli.md")
	}
}
