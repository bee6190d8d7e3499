package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/slasa/slasa/verdict"
)

func demoVerdictRecord() verdict.Verdict {
	return verdict.Verdict{
		SLAID: "demo-sla", SLADigest: "1f3a5c7e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a",
		Period: "2026-12-06T10:00:00Z", PeriodEnd: "2026-12-06T10:02:00Z", Violated: true,
		CreditBPS: 3000, CreditAmount: 30000, Currency: "USD",
		ReportDigest: "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b",
		BatchSeq:     121, BatchCID: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
		Chaincode: "slaenclave", EnclaveID: "3F2A9C1D7E5B4A60C8D2E6F1A3B5C7D9E0F2A4B6C8D0E1F3A5B7C9D1E3F5A7B9",
	}
}

func TestVerdictID(t *testing.T) {
	v := demoVerdictRecord()
	id, err := VerdictID(&v)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := v.SigningBytes()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(signed)
	if want := hex.EncodeToString(sum[:]); id != want {
		t.Errorf("VerdictID = %s, want SHA-256 of the signing bytes %s", id, want)
	}
	golden(t, "verdict-id.golden", []byte(id+"\n"))
	if demoVerdict != (VerdictRef{VerdictID: id, EnclaveID: v.EnclaveID, ReportDigest: v.ReportDigest}) {
		t.Errorf("the fixtures' demoVerdict %+v does not refer to demoVerdictRecord (id %s)", demoVerdict, id)
	}
	v.CreditAmount++
	if other, _ := VerdictID(&v); other == id {
		t.Error("VerdictID does not change with the credit amount")
	}
}
