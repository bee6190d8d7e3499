package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

const testReport = `{"sla_id":"demo-1","period":"2026-01-01T00:00:00Z","period_end":"2026-01-01T00:02:00Z","metrics":[{"id":"availability","name":"Uptime","unit":"percent","value":"95.8333","exact":"575/6","no_data":false,"objective":">= 99.99","met":false,"credit_bps":3000,"penalty_amount":0,"terminate":false,"driver":"availability@1","samples":{"valid":360,"failed":10,"rejected_rule":0,"missing_measurement":0},"details":{"sub_intervals":120,"counted":120,"down":5}}],"violated":true,"credit_bps":3000,"credit_amount":30000,"penalty_amount":0,"currency":"USD","terminate":false,"samples":{"read":360,"events":0,"accepted":360,"outside_period":0,"unknown_zone":0,"zone_region_mismatch":0,"duplicate":0,"too_many_probes":0}}`

func testEvaluation(t *testing.T, report string) []byte {
	return testEvaluationKey(t, report, testReportKey)
}

// testEvaluationKey is testEvaluation returning reportKey as the report key.
func testEvaluationKey(t *testing.T, report string, reportKey []byte) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := verdict.EnclaveIDOf(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := verdict.Sign(verdict.Verdict{SLAID: "demo-1", SLADigest: strings.Repeat("ab", 32), Period: "2026-01-01T00:00:00Z",
		PeriodEnd: "2026-01-01T00:02:00Z", Violated: true, CreditBPS: 3000, CreditAmount: 30000, Currency: "USD",
		ReportDigest: verdict.ReportDigest(testReportKey, []byte(testReport)), BatchSeq: 2, BatchCID: "bafy-batch-2", Chaincode: "slaenclave", EnclaveID: id}, key)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(sv)
	return []byte(`{"format":"slasa.evaluation/v2","verdict":` + string(v) + `,"report":` + report + `,"report_key":"` + hex.EncodeToString(reportKey) + `"}`)
}

// testReportKey is the report key of the test evaluations.
var testReportKey = bytes.Repeat([]byte{0x5a}, 32)

func TestDecodeEvaluation(t *testing.T) {
	tests := []struct {
		name   string
		report string
		err    string
	}{
		{"exact report", testReport, ""},
		{"report changed", strings.Replace(testReport, `"down":5`, `"down":4`, 1), ", not the verdict's report_digest"},
		{"report reformatted", strings.Replace(testReport, `{"sla_id"`, `{ "sla_id"`, 1), ", not the verdict's report_digest"},
		{"another report key", "key", ", not the verdict's report_digest"},
	}
	for _, tc := range tests {
		raw := testEvaluation(t, tc.report)
		if tc.report == "key" {
			raw = testEvaluationKey(t, testReport, bytes.Repeat([]byte{1}, 32))
		}
		rep, err := decodeEvaluation(raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var b bytes.Buffer
		if err := writeVerdict(&b, rep); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"VIOLATED: credit 30% of the fee = 300.00 USD", "360 read, 360 accepted",
			"last batch:  seq 2, CID bafy-batch-2 (its window ends at the period end)", " of slaenclave\n",
			"availability  95.8333 percent  >= 99.99   no   30%     counted=120 down=5 sub_intervals=120"} {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, b.String())
			}
		}
	}
	if _, err := decodeEvaluation([]byte(`{"format":"slasa.evaluation/v2","verdict":{},"report":{},"report_key":""}`)); err == nil {
		t.Error("an empty verdict was accepted")
	}
	old := strings.Replace(string(testEvaluation(t, testReport)), `"format":"slasa.evaluation/v2"`, `"format":"slasa.evaluation/v1"`, 1)
	if _, err := decodeEvaluation([]byte(old)); err == nil || err.Error() != `evaluation: format "slasa.evaluation/v1" is not "slasa.evaluation/v2"` {
		t.Errorf("evaluation of format 1: %v", err)
	}
}

func TestAgreementFields(t *testing.T) {
	const (
		ca    = "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US"
		pinA  = "AAAA000000000000000000000000000000000000000000000000000000000000"
		pinB  = "BBBB000000000000000000000000000000000000000000000000000000000000"
		pinC  = "CCCC000000000000000000000000000000000000000000000000000000000000"
		party = `{"msp_id":"P","common_name":"p@x","subject":"CN=p@x,OU=client","issuer":"CN=ca.p,O=p"}`
	)
	var a agreementRecord
	raw := `{"id":"s1","status":"TERMINATED","digest":"d","parties":{"provider":` + party + `,"client":{"msp_id":"C","common_name":"c@x","subject":"CN=c@x,OU=client","issuer":"` + ca + `"},"logger":{"msp_id":"P","common_name":"l@x","subject":"CN=l@x,OU=client","issuer":"CN=ca.p,O=p"}},"validity_start":"A","validity_end":"B","signed":{},"proposed_at":"T0","paid_periods":2,"paid_through":"T2",` +
		`"enclave":{"chaincode":"slaenclave","enclave_id":"` + pinB + `","chaincode_version":"1.0","chaincode_sequence":2,"attestation_type":"simulated","config_digest":"cd","pinned_at":"T5","pinned_tx_id":"tx-pin-b"},` +
		`"enclave_history":[{"chaincode":"slaenclave","enclave_id":"` + pinA + `","chaincode_version":"1.0","chaincode_sequence":1,"attestation_type":"simulated","config_digest":"cd","pinned_at":"T1","pinned_tx_id":"tx-pin-a"}],` +
		`"handover":{"client_approves":"` + pinC + `"},` +
		`"terminated_at":"T1","terminated_by":{"msp_id":"C","subject":"CN=c@x,OU=client","issuer":"` + ca + `"},"terminated_as":"client","reason":"bye","ends_at":"T2"}`
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	doc := &sla.SLA{Service: sla.Service{ProductID: "web"}, Price: sla.Price{AmountMinor: 100000, Currency: "USD"}}
	var b bytes.Buffer
	if err := writeFields(&b, agreementFields(&a, doc)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"provider:          P/p@x (issuer ca.p)\n",
		"client:            C/c@x (issuer ca.clientorg.slasa.local)\n",
		"fee:               1000.00 USD per period (private to the parties)\n", "product:           web\n", "validity:          A .. B\n",
		"accepted at:       -\n", "paid periods:      2\n",
		"enclave:           " + pinB + " of slaenclave (version 1.0, sequence 2, simulated attestation), pinned T5 (tx tx-pin-b)\n",
		"replaced enclave:  " + pinA + " of slaenclave (version 1.0, sequence 1, simulated attestation), pinned T1 (tx tx-pin-a)\n",
		"handover:          pending: the provider approves -, the client approves " + pinC + " (the pin moves when both name the same enclave)\n",
		"terminated:        T1 by the client C/c@x (issuer ca.clientorg.slasa.local) (bye), ends T2\n",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("lacks %q:\n%s", w, b.String())
		}
	}

	// A proposed SLA has no pin and no handover.
	var p agreementRecord
	if err := json.Unmarshal([]byte(`{"id":"s2","status":"PROPOSED","parties":{"provider":`+party+`}}`), &p); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := writeFields(&b, agreementFields(&p, doc)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "enclave:       - (pinned when the client accepts)\n") || strings.Contains(b.String(), "handover") ||
		strings.Contains(b.String(), "terminated") {
		t.Errorf("proposed SLA:\n%s", b.String())
	}
}

func TestCheckPinned(t *testing.T) {
	const idA, idB = "AAAA000000000000000000000000000000000000000000000000000000000000", "BBBB000000000000000000000000000000000000000000000000000000000000"
	v := &verdict.Verdict{SLAID: "s1", Period: "P0", Chaincode: "slaenclave", EnclaveID: idA}
	tests := []struct {
		name string
		pin  *enclavePin
		err  string
	}{
		{"the pinned enclave", &enclavePin{Chaincode: "slaenclave", EnclaveID: idA}, ""},
		{"another enclave", &enclavePin{Chaincode: "slaenclave", EnclaveID: idB},
			"the verdict of period P0 was signed by enclave " + idA + " of slaenclave, not by the SLA's pinned enclave " + idB + " of slaenclave: the refund chaincode does not pay it"},
		{"another chaincode", &enclavePin{Chaincode: "other", EnclaveID: idA}, "not by the SLA's pinned enclave " + idA + " of other"},
		{"no pin", nil, "SLA s1 has no pinned enclave"},
	}
	for _, tc := range tests {
		err := checkPinned(v, tc.pin)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

// A report with a support section shows its objectives with the metrics
// and a table of the tickets' counted targets; the escrow line names the
// penalty paid and unpaid.
func TestWriteVerdictSupport(t *testing.T) {
	o, err := driver.ParseOutcome([]byte(testReport))
	if err != nil {
		t.Fatal(err)
	}
	o.Support = &driver.SupportOutcome{
		Objectives: []driver.SupportObjectiveOutcome{
			{ID: "mttrespond", Measure: "acceptance", Objective: "<= 10000", Tickets: 2, ValueMS: "9500.5", Exact: "19001/2", Met: true},
			{ID: "mttresolve", Measure: "closure", Objective: "<= 60000", NoData: true, Met: true},
		},
		Tickets: []driver.TicketOutcome{
			{Ticket: "T1", Severity: "critical", Target: "acceptance", Result: "breached", At: "2026-01-01T00:00:15.000Z", ElapsedMS: 13001, MarginMS: -3001, TargetMS: 10000, PenaltyMinor: 5000},
			{Ticket: "T2", Severity: "critical", Target: "acceptance", Result: "met", At: "2026-01-01T00:00:40.000Z", ElapsedMS: 6000, MarginMS: 4000, TargetMS: 10000},
		},
		PenaltyAmount: 5000, Open: 1,
	}
	sv := &verdict.Signed{Verdict: verdict.Verdict{SLAID: "demo-1", Period: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T00:02:00Z", PenaltyAmount: 5000, Currency: "USD"}}
	rep := &verdictReport{Verdict: sv, Report: o, Verified: "ok",
		Escrow: json.RawMessage(`{"status":"SETTLED","amount":100000,"currency":"USD","settlement":{"credit":0,"released":100000,"penalty_owed":5000,"penalty_paid":0,"penalty_unpaid":5000,"tx_id":"tx9"}}`)}
	var b bytes.Buffer
	if err := writeVerdict(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"penalty:     50.00 USD\n",
		"escrow:      SETTLED, fee 1000.00 USD: 0.00 USD credited to the client, 1000.00 USD released to the provider; penalty 0.00 USD paid from the collateral wallet, 50.00 USD unpaid (tx tx9)\n",
		"mttrespond    9500.5 ms        <= 10000 ms  yes  -       acceptance tickets=2\n",
		"mttresolve    no data          <= 60000 ms  yes  -       closure tickets=0\n",
		"tickets: 2 targets counted, penalty 50.00 USD, 1 open at the period end (carried), 0 ignored\n",
		"T1      critical  acceptance  breached  13001       -3001      50.00 USD  2026-01-01T00:00:15.000Z\n",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, b.String())
		}
	}
}
