package verdict

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sample(t *testing.T, key *ecdsa.PrivateKey) Verdict {
	t.Helper()
	id, err := EnclaveIDOf(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return Verdict{
		SLAID:        "aws-ec2-region-2026",
		SLADigest:    strings.Repeat("ab", 32),
		Period:       "2026-03-01T00:00:00Z",
		PeriodEnd:    "2026-04-01T00:00:00Z",
		Violated:     true,
		CreditBPS:    1000,
		CreditAmount: 10000,
		Currency:     "USD",
		ReportDigest: strings.Repeat("cd", 32),
		BatchSeq:     744,
		BatchCID:     "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
		Chaincode:    "slaenclave",
		EnclaveID:    id,
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := testKey(t)
	s, err := Sign(sample(t, key), key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseSigned(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(parsed, &key.PublicKey); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	key, other := testKey(t), testKey(t)
	tests := []struct {
		name   string
		mutate func(s *Signed)
		pub    *ecdsa.PublicKey
		want   string
	}{
		{"credit changed after signing", func(s *Signed) { s.Verdict.CreditAmount++ }, &key.PublicKey, ErrBadSignature.Error()},
		{"period changed after signing", func(s *Signed) { s.Verdict.Period = "2026-02-01T00:00:00Z" }, &key.PublicKey, ErrBadSignature.Error()},
		{"signature flipped", func(s *Signed) { s.Signature[len(s.Signature)-1] ^= 1 }, &key.PublicKey, ErrBadSignature.Error()},
		{"another enclave's key", func(*Signed) {}, &other.PublicKey, "verdict.enclave_id"},
		{"bad digest field", func(s *Signed) { s.Verdict.SLADigest = "xyz" }, &key.PublicKey, "verdict.sla_digest"},
		{"credit without violation", func(s *Signed) { s.Verdict.Violated = false }, &key.PublicKey, "verdict.violated"},
		{"bps out of range", func(s *Signed) { s.Verdict.CreditBPS = 10001 }, &key.PublicKey, "verdict.credit_bps"},
		{"no batch", func(s *Signed) { s.Verdict.BatchSeq = 0 }, &key.PublicKey, "verdict.batch_seq: 0 is not a positive batch sequence number"},
		{"no batch cid", func(s *Signed) { s.Verdict.BatchCID = "" }, &key.PublicKey, "verdict.batch_cid: must not be empty"},
		{"batch changed after signing", func(s *Signed) { s.Verdict.BatchSeq++ }, &key.PublicKey, ErrBadSignature.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Sign(sample(t, key), key)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(s)
			err = Verify(s, tc.pub)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSigningBytesAreStable(t *testing.T) {
	v := Verdict{SLAID: "x", SLADigest: strings.Repeat("0", 64), Period: "p", PeriodEnd: "q", Currency: "EUR",
		ReportDigest: strings.Repeat("1", 64), BatchSeq: 3, BatchCID: "cid", Chaincode: "c", EnclaveID: strings.Repeat("A", 64)}
	got, err := v.SigningBytes()
	if err != nil {
		t.Fatal(err)
	}
	if DomainTag != "slasa.verdict/v3\n" {
		t.Fatalf("domain tag %q", DomainTag)
	}
	want := DomainTag + `{"sla_id":"x","sla_digest":"` + strings.Repeat("0", 64) + `","period":"p","period_end":"q",` +
		`"violated":false,"credit_bps":0,"credit_amount":0,"penalty_amount":0,"currency":"EUR","terminate":false,` +
		`"report_digest":"` + strings.Repeat("1", 64) + `","batch_seq":3,"batch_cid":"cid","chaincode":"c","enclave_id":"` + strings.Repeat("A", 64) + `"}`
	if string(got) != want {
		t.Fatalf("signing bytes changed:\n got %s\nwant %s", got, want)
	}
}

func TestParseSignedRejects(t *testing.T) {
	for name, in := range map[string]string{
		"unknown field": `{"verdict":{},"signature":"AA==","extra":1}`,
		"trailing":      `{"verdict":{},"signature":"AA=="} {}`,
		"no signature":  `{"verdict":{}}`,
		"not json":      `nope`,
	} {
		if _, err := ParseSigned([]byte(in)); err == nil {
			t.Errorf("%s: ParseSigned accepted %s", name, in)
		}
	}
	if err := Verify(nil, nil); err == nil || errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(nil) = %v", err)
	}
}

// The report digest is HMAC-SHA256 under the report key (RFC 4231 test
// case 2's key and data), and CheckReport refuses another report, another
// key and a key of the wrong size.
func TestReportDigest(t *testing.T) {
	key := bytes.Repeat([]byte("Jefe"), 8)
	report := []byte(`{"sla_id":"x"}`)
	v := Verdict{ReportDigest: ReportDigest(key, report)}
	if err := v.CheckReport(key, report); err != nil {
		t.Fatal(err)
	}
	if got := ReportDigest([]byte("Jefe"), []byte("what do ya want for nothing?")); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("HMAC-SHA256 test vector: %s", got)
	}
	for name, tc := range map[string]struct{ key, report []byte }{
		"another report": {key, []byte(`{"sla_id":"y"}`)},
		"another key":    {bytes.Repeat([]byte("Jeff"), 8), report},
	} {
		if err := v.CheckReport(tc.key, tc.report); err == nil || !strings.Contains(err.Error(), ", not the verdict's report_digest ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := v.CheckReport(key[:16], report); err == nil || err.Error() != "report key: 16 bytes, want 32" {
		t.Errorf("short key: %v", err)
	}
}
