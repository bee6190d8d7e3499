package signedsla_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

type fixture struct {
	provider, client, other *fabricfake.Identity
	pca, cca                *fabricfake.CA
	record                  signedsla.Record
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	doc, err := os.ReadFile("../examples/aws-ec2-region/sla.json")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pca: fabricfake.MustNewCA("ProviderOrgMSP"), cca: fabricfake.MustNewCA("ClientOrgMSP")}
	f.provider = f.pca.MustIssue("provider@providerorg.slasa.local", "client")
	f.other = f.pca.MustIssue("other@providerorg.slasa.local", "client")
	f.client = f.cca.MustIssue("client@clientorg.slasa.local", "client")
	ps, err := signedsla.Sign(d, f.provider.Key)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := signedsla.Sign(d, f.client.Key)
	if err != nil {
		t.Fatal(err)
	}
	f.record = signedsla.Record{
		Version: signedsla.Version, Document: doc, Digest: hex.EncodeToString(d[:]),
		Provider: signedsla.Signature{MSPID: "ProviderOrgMSP", Certificate: string(f.provider.CertPEM), Signature: ps},
		Client:   signedsla.Signature{MSPID: "ClientOrgMSP", Certificate: string(f.client.CertPEM), Signature: cs},
	}
	return f
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	roots := map[string]*x509.CertPool{"ProviderOrgMSP": f.pca.Pool(), "ClientOrgMSP": f.cca.Pool()}
	swapped := map[string]*x509.CertPool{"ProviderOrgMSP": f.cca.Pool(), "ClientOrgMSP": f.pca.Pool()}

	// Round trip through JSON.
	data, err := f.record.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := signedsla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := back.Verify(signedsla.Options{Roots: roots})
	if err != nil || s.ID != "aws-ec2-region-2026" {
		t.Fatalf("verify: %v", err)
	}

	otherSig, _ := signedsla.Sign(sha256.Sum256([]byte("x")), f.client.Key)
	for _, tc := range []struct {
		name   string
		mutate func(r *signedsla.Record)
		opts   signedsla.Options
		want   string
	}{
		{"version", func(r *signedsla.Record) { r.Version = "v0" }, signedsla.Options{}, `version: "v0" is not "slasa.sla-signed/v1"`},
		{"digest", func(r *signedsla.Record) { r.Digest = strings.Repeat("0", 64) }, signedsla.Options{}, `digest: "` + strings.Repeat("0", 64) + `" is not the digest of the document (` + f.record.Digest + `)`},
		{"document", func(r *signedsla.Record) { r.Document = []byte("{}") }, signedsla.Options{}, "document: "},
		{"client signature", func(r *signedsla.Record) { r.Client.Signature = otherSig }, signedsla.Options{}, `client: verify signature of "client@clientorg.slasa.local": signature does not verify with the certificate's public key`},
		{"provider cert of another user", func(r *signedsla.Record) { r.Provider.Certificate = string(f.other.CertPEM) }, signedsla.Options{}, `the SLA's provider: certificate subject "CN=other@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US" is not the subject "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US" of the SLA's provider`},
		{"provider's CN as an admin", func(r *signedsla.Record) {
			r.Provider.Certificate = string(f.pca.MustIssue("provider@providerorg.slasa.local", "admin").CertPEM)
		}, signedsla.Options{}, `the SLA's provider: certificate subject "CN=provider@providerorg.slasa.local,OU=admin,L=San Francisco,ST=California,C=US" is not the subject "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US" of the SLA's provider`},
		{"provider's CN from another CA", func(r *signedsla.Record) {
			r.Provider.Certificate = string(fabricfake.MustNewNamedCA("ProviderOrgMSP", "ca2.providerorg.slasa.local", "providerorg.slasa.local").MustIssue("provider@providerorg.slasa.local", "client").CertPEM)
		}, signedsla.Options{}, `the SLA's provider: certificate issuer "CN=ca2.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US" is not the issuer "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US" of the SLA's provider`},
		{"client msp", func(r *signedsla.Record) { r.Client.MSPID = "ProviderOrgMSP" }, signedsla.Options{}, `the SLA's client: MSP "ProviderOrgMSP" is not the MSP "ClientOrgMSP" of the SLA's client`},
		{"certificate not PEM", func(r *signedsla.Record) { r.Client.Certificate = "junk" }, signedsla.Options{}, "client.certificate: no PEM block found"},
		{"wrong roots", func(r *signedsla.Record) {}, signedsla.Options{Roots: swapped}, `provider: certificate does not chain to the roots of MSP "ProviderOrgMSP": x509: certificate signed by unknown authority`},
		{"missing roots", func(r *signedsla.Record) {}, signedsla.Options{Roots: map[string]*x509.CertPool{}}, `provider: certificate: no roots known for MSP "ProviderOrgMSP"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.record
			tc.mutate(&r)
			_, err := r.Verify(tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	var nilRec *signedsla.Record
	if _, err := nilRec.Verify(signedsla.Options{}); err == nil {
		t.Fatal("nil record verified")
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"version":"x","extra":1}`, `decode signed SLA record: json: unknown field "extra"`},
		{`{} {}`, "decode signed SLA record: trailing data after the JSON object"},
		{`[`, "decode signed SLA record: unexpected EOF"},
	} {
		if _, err := signedsla.Parse([]byte(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%s): got %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestKeysAndSignatures(t *testing.T) {
	f := newFixture(t)
	if _, err := signedsla.Sign([32]byte{}, nil); err == nil || err.Error() != "sign digest: no private key" {
		t.Fatalf("got %v", err)
	}
	if err := signedsla.VerifyDigest(nil, nil, nil); err == nil || err.Error() != "verify signature: no certificate" {
		t.Fatalf("got %v", err)
	}
	if err := signedsla.VerifyDigest(f.client.Cert, make([]byte, 32), nil); err == nil || err.Error() != "verify signature: signature is empty" {
		t.Fatalf("got %v", err)
	}
	err := signedsla.VerifyDigest(f.client.Cert, make([]byte, 32), []byte{1, 2})
	if !errors.Is(err, signedsla.ErrBadSignature) {
		t.Fatalf("got %v", err)
	}
	for _, tc := range []struct{ in, want string }{
		{"", "private key: no PEM block found"},
		{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", `private key: PEM block is "CERTIFICATE", not PRIVATE KEY or EC PRIVATE KEY`},
	} {
		if _, err := signedsla.ParsePrivateKeyPEM([]byte(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
	der, _ := x509.MarshalPKCS8PrivateKey(f.client.Key)
	pk := "-----BEGIN PRIVATE KEY-----\n" + b64lines(der) + "-----END PRIVATE KEY-----\n"
	k, err := signedsla.ParsePrivateKeyPEM([]byte(pk))
	if err != nil || !k.Equal(f.client.Key) {
		t.Fatalf("PKCS8: %v", err)
	}
	ec, _ := x509.MarshalECPrivateKey(f.client.Key)
	k, err = signedsla.ParsePrivateKeyPEM([]byte("-----BEGIN EC PRIVATE KEY-----\n" + b64lines(ec) + "-----END EC PRIVATE KEY-----\n"))
	if err != nil || !k.Equal(f.client.Key) {
		t.Fatalf("SEC1: %v", err)
	}
	if _, err := signedsla.ParseCertificatePEM([]byte("-----BEGIN PRIVATE KEY-----\n" + b64lines(der) + "-----END PRIVATE KEY-----\n")); err == nil || err.Error() != `certificate: PEM block is "PRIVATE KEY", not CERTIFICATE` {
		t.Fatalf("got %v", err)
	}
	c, err := signedsla.ParseCertificatePEM([]byte(signedsla.CertificatePEM(f.client.Cert)))
	if err != nil || !c.Equal(f.client.Cert) {
		t.Fatalf("certificate round trip: %v", err)
	}
}

func TestAnchor(t *testing.T) {
	f := newFixture(t)
	a := signedsla.Anchor{SLAID: "s", Seq: 2, CID: "bafy2", PrevCID: "bafy1", PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T00:01:00Z"}
	want := "slasa.anchor/v1\ns\n2\nbafy2\nbafy1\n2026-01-01T00:00:00Z\n2026-01-01T00:01:00Z\n"
	if got := string(a.SigningBytes()); got != want {
		t.Fatalf("signing bytes %q", got)
	}
	sig, err := signedsla.SignAnchor(a, f.client.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := signedsla.VerifyAnchor(a, f.client.Cert, sig); err != nil {
		t.Fatal(err)
	}
	b := a
	b.Seq = 3
	if err := signedsla.VerifyAnchor(b, f.client.Cert, sig); !errors.Is(err, signedsla.ErrBadSignature) {
		t.Fatalf("changed anchor verified: %v", err)
	}
	for _, tc := range []struct {
		mutate func(*signedsla.Anchor)
		want   string
	}{
		{func(a *signedsla.Anchor) { a.SLAID = "" }, "slaID: must be non-empty without control characters"},
		{func(a *signedsla.Anchor) { a.SLAID = "a\nb" }, "slaID: must be non-empty without control characters"},
		{func(a *signedsla.Anchor) { a.Seq = 0 }, "seq: 0 is not a positive sequence number"},
		{func(a *signedsla.Anchor) { a.CID = "" }, `cid: "" is not a content identifier (1..256 letters and digits)`},
		{func(a *signedsla.Anchor) { a.CID = strings.Repeat("a", 257) }, `cid: "` + strings.Repeat("a", 257) + `" is not a content identifier (1..256 letters and digits)`},
		{func(a *signedsla.Anchor) { a.PrevCID = "" }, `prevCID: "" is not a content identifier (1..256 letters and digits)`},
		{func(a *signedsla.Anchor) { a.Seq = 1 }, "prevCID: must be empty for the first batch (seq 1)"},
		{func(a *signedsla.Anchor) { a.PeriodStart = "2026-01-01" }, `periodStart: "2026-01-01" is not an RFC 3339 timestamp`},
		{func(a *signedsla.Anchor) { a.PeriodEnd = "2026-01-01T00:01:00.5Z" }, `periodEnd: "2026-01-01T00:01:00.5Z" is not a UTC timestamp in whole seconds written as 2006-01-02T15:04:05Z`},
		{func(a *signedsla.Anchor) { a.PeriodEnd = a.PeriodStart }, "periodEnd: 2026-01-01T00:00:00Z is not after periodStart 2026-01-01T00:00:00Z"},
	} {
		b := a
		tc.mutate(&b)
		if err := b.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
		if _, err := signedsla.SignAnchor(b, f.client.Key); err == nil {
			t.Errorf("signed an invalid anchor (%s)", tc.want)
		}
	}
}

func b64lines(der []byte) string { return wrap(base64Std(der)) }
