package enclaveapi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slasa/slasa/verdict"
)

// evaluation returns an Evaluate result whose verdict commits to report
// under key, and returns reportKey as its report key.
func evaluation(t *testing.T, report string, key, reportKey []byte) []byte {
	t.Helper()
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := verdict.EnclaveIDOf(&sk.PublicKey)
	sv, err := verdict.Sign(verdict.Verdict{SLAID: "s", SLADigest: strings.Repeat("ab", 32), Period: "p", PeriodEnd: "q", Currency: "USD",
		ReportDigest: verdict.ReportDigest(key, []byte(report)), BatchSeq: 1, BatchCID: "c", Chaincode: "slaenclave", EnclaveID: id}, sk)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(sv)
	out, _ := json.Marshal(Evaluation{Format: EvaluationFormat, Verdict: v, Report: json.RawMessage(report), ReportKey: hex.EncodeToString(reportKey)})
	return out
}

func TestEvaluationCheck(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 32)
	const report = `{"metrics":[]}`
	ev, err := ParseEvaluation(evaluation(t, report, key, key))
	if err != nil {
		t.Fatal(err)
	}
	if sv, err := ev.Check(); err != nil || sv.Verdict.SLAID != "s" {
		t.Fatalf("check: %v", err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"another report key": {evaluation(t, report, key, bytes.Repeat([]byte{4}, 32)), ", not the verdict's report_digest "},
		"a short key":        {evaluation(t, report, key, key[:16]), "evaluation: report_key must be 64 lower-case hex digits"},
		"another report":     {bytes.Replace(evaluation(t, report, key, key), []byte(`"metrics":[]`), []byte(`"metrics":[1]`), 1), ", not the verdict's report_digest "},
	} {
		ev, err := ParseEvaluation(tc.data)
		if err == nil {
			_, err = ev.Check()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	upper := bytes.Replace(evaluation(t, report, key, bytes.Repeat([]byte{0xab}, 32)), []byte(strings.Repeat("ab", 32)+`"}`), []byte(strings.Repeat("AB", 32)+`"}`), 1)
	if ev, err := ParseEvaluation(upper); err != nil {
		t.Fatal(err)
	} else if _, err := ev.Key(); err == nil {
		t.Error("an upper-case report key was accepted")
	}
	for name, data := range map[string]string{
		"format 1":      `{"verdict":{},"report":{}}`,
		"another":       `{"format":"slasa.evaluation/v3","verdict":{},"report":{},"report_key":""}`,
		"unknown field": `{"format":"slasa.evaluation/v2","verdict":{},"report":{},"report_key":"","x":1}`,
	} {
		if _, err := ParseEvaluation([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
