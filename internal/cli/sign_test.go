package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// writeKey writes a fresh P-256 key as PKCS #8 PEM (cryptogen's format) and returns it with its path.
func writeKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "priv_sk")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, path
}

func decodeSig(t *testing.T, out string) []byte {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("output %q is not base64: %v", out, err)
	}
	return sig
}

func TestSLASign(t *testing.T) {
	key, keyPath := writeKey(t)
	slaPath := repo("examples", "aws-ec2-region", "sla.json")
	data, err := os.ReadFile(slaPath)
	if err != nil {
		t.Fatal(err)
	}
	digest, _, err := sla.DigestOf(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"file", "", []string{"sla", "sign", "--key", keyPath, slaPath}},
		{"stdin", string(data), []string{"sla", "sign", "--key", keyPath, "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.stdin, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], decodeSig(t, out)) {
				t.Fatal("signature does not verify over the SLA digest")
			}
		})
	}
}

func TestAnchorSign(t *testing.T) {
	key, keyPath := writeKey(t)
	a := signedsla.Anchor{SLAID: "sla-1", Seq: 2, CID: "bafytwo", PrevCID: "bafyone", PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T01:00:00Z"}
	code, out, errOut := run(t, "", "anchor", "sign", "--key", keyPath, "--sla", a.SLAID, "--seq", "2", "--cid", a.CID,
		"--prev", a.PrevCID, "--start", a.PeriodStart, "--end", a.PeriodEnd)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sum := sha256.Sum256(a.SigningBytes())
	if !ecdsa.VerifyASN1(&key.PublicKey, sum[:], decodeSig(t, out)) {
		t.Fatal("signature does not verify over the anchor")
	}
}

func testVerdict() verdict.Verdict {
	return verdict.Verdict{
		SLAID: "sla-1", SLADigest: strings.Repeat("ab", 32), Period: "2026-01-01T00:00:00Z", PeriodEnd: "2026-02-01T00:00:00Z",
		Violated: true, CreditBPS: 1000, CreditAmount: 10000, Currency: "USD", ReportDigest: strings.Repeat("cd", 32),
		BatchSeq: 3, BatchCID: "bafy-batch-3", Chaincode: "testenclave",
	}
}

func TestVerdictSign(t *testing.T) {
	key, keyPath := writeKey(t)
	id, err := verdict.EnclaveIDOf(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		enclaveID string
	}{{"enclave id filled from the key", ""}, {"enclave id given", id}} {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerdict()
			v.EnclaveID = tc.enclaveID
			doc, _ := json.Marshal(v)
			code, out, errOut := run(t, string(doc), "verdict", "sign", "--key", keyPath, "-")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			s, err := verdict.ParseSigned([]byte(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := verdict.Verify(s, &key.PublicKey); err != nil {
				t.Fatal(err)
			}
			if s.Verdict.EnclaveID != id {
				t.Fatalf("enclave id %s, want %s", s.Verdict.EnclaveID, id)
			}
		})
	}
}

func TestSimulatedCredentials(t *testing.T) {
	key, keyPath := writeKey(t)
	newKey := filepath.Join(t.TempDir(), "enclave.pem")
	digest := strings.Repeat("0f", 32)
	common := []string{"--channel", "slasa", "--chaincode", "testenclave", "--version", "1", "--sequence", "1", "--peer-msp", "ProviderOrgMSP",
		"--config-digest", digest}
	for _, tc := range []struct {
		name string
		flag []string
	}{{"existing key", []string{"--key", keyPath}}, {"new key", []string{"--new-key", newKey}}} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append(append([]string{"enclave", "simulated-credentials"}, tc.flag...), common...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			c, d, err := credentials.Parse([]byte(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := credentials.VerifySimulated(c, d); err != nil {
				t.Fatal(err)
			}
			if d.Channel != "slasa" || d.Chaincode != "testenclave" || d.ChaincodeVersion != "1" || d.ChaincodeSequence != 1 || d.PeerMSPID != "ProviderOrgMSP" || d.ConfigDigest != digest {
				t.Fatalf("attested data %+v", d)
			}
			want := &key.PublicKey
			if tc.flag[0] == "--new-key" {
				k, err := readKey(newKey)
				if err != nil {
					t.Fatal(err)
				}
				want = &k.PublicKey
			}
			vk, err := credentials.ParseECDSAPublicKey(d.EnclaveVK)
			if err != nil || !vk.Equal(want) {
				t.Fatalf("enclave_vk is not the key's public key (%v)", err)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	key, keyPath := writeKey(t)
	slaPath := repo("examples", "aws-ec2-region", "sla.json")
	notKey := filepath.Join(t.TempDir(), "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherID, _ := verdict.EnclaveIDOf(&other.PublicKey)
	ownID, _ := verdict.EnclaveIDOf(&key.PublicKey)
	wrongID := testVerdict()
	wrongID.EnclaveID = otherID
	wrongIDDoc, _ := json.Marshal(wrongID)
	badVerdict := testVerdict()
	badVerdict.CreditBPS = 20000
	badVerdictDoc, _ := json.Marshal(badVerdict)
	anchor := []string{"anchor", "sign", "--key", keyPath, "--sla", "s", "--cid", "bafy", "--start", "2026-01-01T00:00:00Z", "--end", "2026-01-01T01:00:00Z"}
	creds := []string{"enclave", "simulated-credentials", "--channel", "slasa", "--chaincode", "testenclave", "--version", "1", "--peer-msp", "ProviderOrgMSP",
		"--config-digest", strings.Repeat("0f", 32)}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"sla sign without key", "", []string{"sla", "sign", slaPath}, ExitUsage, "--key is required"},
		{"sla sign missing key file", "", []string{"sla", "sign", "--key", "no-such.pem", slaPath}, ExitFailure, "--key: open no-such.pem"},
		{"sla sign not a key", "", []string{"sla", "sign", "--key", notKey, slaPath}, ExitFailure, "--key " + notKey},
		{"sla sign invalid SLA", "", []string{"sla", "sign", "--key", keyPath, repo("examples", "broken", "sla.json")}, ExitFailure, "invalid SLA"},
		{"sla sign no file", "", []string{"sla", "sign", "--key", keyPath}, ExitUsage, "takes 1 argument(s)"},
		{"anchor sign without seq", "", anchor, ExitUsage, "--seq is required"},
		{"anchor sign without cid", "", []string{"anchor", "sign", "--key", keyPath, "--seq", "1"}, ExitUsage, "--sla is required"},
		{"anchor sign prev on seq 1", "", append(anchor, "--seq", "1", "--prev", "bafyx"), ExitFailure, "prevCID: must be empty for the first batch (seq 1)"},
		{"anchor sign bad window", "", []string{"anchor", "sign", "--key", keyPath, "--sla", "s", "--cid", "bafy", "--seq", "1", "--start", "2026-01-01T00:00:00Z", "--end", "2025-01-01T00:00:00Z"},
			ExitFailure, "periodEnd: 2025-01-01T00:00:00Z is not after periodStart 2026-01-01T00:00:00Z"},
		{"verdict sign other enclave id", string(wrongIDDoc), []string{"verdict", "sign", "--key", keyPath, "-"}, ExitFailure,
			"verdict.enclave_id: " + otherID + " is not the id " + ownID + " of the key"},
		{"verdict sign invalid verdict", string(badVerdictDoc), []string{"verdict", "sign", "--key", keyPath, "-"}, ExitFailure, "verdict.credit_bps: 20000 is outside 0..10000"},
		{"verdict sign unknown field", `{"sla":"x"}`, []string{"verdict", "sign", "--key", keyPath, "-"}, ExitFailure, `unknown field "sla"`},
		{"credentials without key", "", append(creds, "--sequence", "1"), ExitUsage, "exactly one of --key and --new-key"},
		{"credentials both keys", "", append(creds, "--sequence", "1", "--key", keyPath, "--new-key", "x.pem"), ExitUsage, "exactly one of --key and --new-key"},
		{"credentials without sequence", "", append(creds, "--key", keyPath), ExitUsage, "--sequence is required"},
		{"credentials existing new key", "", append(creds, "--sequence", "1", "--new-key", keyPath), ExitFailure, "--new-key: open " + keyPath + ": file exists"},
		{"credentials bad sequence", "", append(creds, "--sequence", "0", "--key", keyPath), ExitFailure, "attested_data.chaincode_sequence: 0, must be >= 1"},
		{"credentials bad config digest", "", append(creds, "--sequence", "1", "--key", keyPath, "--config-digest", "ABC"), ExitFailure,
			"attested_data.config_digest: must be 64 lower-case hex digits (the deploy configuration's digest)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.stdin, tc.args...)
			if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.code, out, errOut, tc.want)
			}
		})
	}
}
