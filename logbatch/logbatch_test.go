package logbatch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	once              sync.Once
	enclaveKey, other *rsa.PrivateKey
)

func rsaKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	once.Do(func() {
		var err error
		if enclaveKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return enclaveKey, other
}

func logger(t *testing.T, cn string) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

const records = `{"time":"2026-02-01T00:00:00Z","source":{"probe":"p","zone":"zone-a","region":"r"},"measurements":{"ok":true}}` + "\n"

func header() Header {
	return Header{SLAID: "sla-1", Seq: 2, PrevCID: "bafyprev", WindowStart: "2026-02-01T00:00:00Z", WindowEnd: "2026-02-01T00:05:00Z"}
}

func TestSealOpen(t *testing.T) {
	ek, _ := rsaKeys(t)
	lk, cert := logger(t, "logger@providerorg.slasa.local")
	data, err := Seal(header(), []byte(records), 1, &ek.PublicKey, cert, lk)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "zone-a") {
		t.Fatal("records readable in the sealed batch")
	}
	o, err := Open(data, ek)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Records) != records || o.Count != 1 || o.Header.Seq != 2 || o.LoggerCert.Subject.CommonName != "logger@providerorg.slasa.local" {
		t.Fatalf("opened %+v", o.Header)
	}
	// The header says nothing about the records; the ciphertext's size
	// tells their size to a pad block only.
	b, _, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b.RawHeader), "records") {
		t.Fatalf("header %s", b.RawHeader)
	}
	for _, n := range []int{0, 1, 30, 31} {
		recs := strings.Repeat(records, n)
		d, err := Seal(header(), []byte(recs), int64(n), &ek.PublicKey, cert, lk)
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := Parse(d)
		if len(b.Ciphertext) != 12+16+PadBlock*(1+(len(recs)+2)/PadBlock) {
			t.Errorf("%d records (%d bytes): ciphertext of %d bytes", n, len(recs), len(b.Ciphertext))
		}
		o, err := Open(d, ek)
		if err != nil || o.Count != int64(n) || string(o.Records) != recs {
			t.Fatalf("%d records: %v", n, err)
		}
	}
}

// The body is read in canonical form only: the logger's signature covers
// it, but a logger's own malformed body is refused too.
func TestDecodeBody(t *testing.T) {
	good := encodeBody([]byte(records), 1)
	if r, n, err := decodeBody(good); err != nil || n != 1 || string(r) != records {
		t.Fatalf("decode: %v", err)
	}
	nonzero := append([]byte(nil), good...)
	nonzero[len(nonzero)-1] = 1
	for name, body := range map[string][]byte{
		"unpadded":        good[:len(good)-1],
		"padding not 0":   nonzero,
		"two pad blocks":  append(append([]byte(nil), good...), make([]byte, PadBlock)...),
		"length too long": append([]byte{1, 0xff, 0x7f}, make([]byte, PadBlock-3)...),
		"empty":           {},
	} {
		if _, _, err := decodeBody(body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Seal(header(), nil, -1, nil, "", nil); err == nil || err.Error() != "records count: -1 is negative" {
		t.Errorf("negative count: %v", err)
	}
}

// A batch of format version 1 is refused by name.
func TestVersion1Refused(t *testing.T) {
	if _, _, err := Parse([]byte("slasa.logbatch/v1\x00\x00")); err == nil || !strings.Contains(err.Error(), `format "slasa.logbatch/v1" (record count in the clear) is no longer read`) {
		t.Fatalf("v1: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	ek, otherKey := rsaKeys(t)
	lk, cert := logger(t, "logger")
	mallory, _ := logger(t, "mallory")
	good, err := Seal(header(), []byte(records), 1, &ek.PublicKey, cert, lk)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b *Batch)) []byte {
		b, err := decode(good)
		if err != nil {
			t.Fatal(err)
		}
		c := *b
		c.KeyTransport = append([]byte(nil), b.KeyTransport...)
		c.Ciphertext = append([]byte(nil), b.Ciphertext...)
		f(&c)
		// Header edits are re-encoded the way a forger would.
		if raw, _ := json.Marshal(c.Header); string(raw) != string(b.RawHeader) {
			c.RawHeader = raw
		}
		return c.Encode()
	}
	forged, _ := Seal(header(), []byte(records), 1, &ek.PublicKey, cert, mallory)
	tests := []struct {
		name string
		data []byte
		key  *rsa.PrivateKey
		want error
		msg  string
	}{
		{"header seq changed", mutate(func(b *Batch) { b.Header.Seq = 3 }), ek, ErrBadSignature, ""},
		{"window moved", mutate(func(b *Batch) { b.Header.WindowEnd = "2026-02-01T00:06:00Z" }), ek, ErrBadSignature, ""},
		{"ciphertext flipped", mutate(func(b *Batch) { b.Ciphertext[20] ^= 1 }), ek, ErrBadSignature, ""},
		{"signed by someone else with the logger's cert", forged, ek, ErrBadSignature, ""},
		{"another enclave", good, otherKey, nil, "not this enclave's key"},
		{"not a batch", []byte(`{"header":{},"x":1}`), ek, nil, "bad magic"},
		{"truncated", good[:len(good)-3], ek, nil, "truncated"},
		{"trailing data", append(append([]byte(nil), good...), 0), ek, nil, "trailing data"},
		{"bad header", mutate(func(b *Batch) { b.Header.Version = "v0" }), ek, nil, "header.version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.data, tc.key)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || (tc.msg != "" && !strings.Contains(err.Error(), tc.msg)) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

func TestHeaderValidate(t *testing.T) {
	for name, mut := range map[string]func(h *Header){
		"prev on first": func(h *Header) { h.Seq = 1 },
		"no prev":       func(h *Header) { h.PrevCID = "" },
		"empty window":  func(h *Header) { h.WindowEnd = h.WindowStart },
		"bad time":      func(h *Header) { h.WindowStart = "yesterday" },
		"no sla":        func(h *Header) { h.SLAID = "" },
	} {
		h := header()
		h.Version, h.RecipientKeyID = Version, strings.Repeat("a", 64)
		mut(&h)
		if err := h.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts (a verified
// signature) re-encodes to exactly the bytes given: one batch, one encoding.
func FuzzParse(f *testing.F) {
	ek, _ := rsaKeys(&testing.T{})
	lk, cert := logger(&testing.T{}, "logger")
	good, err := Seal(header(), []byte(records), 1, &ek.PublicKey, cert, lk)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, _, err := Parse(data)
		if err == nil && string(b.Encode()) != string(data) {
			t.Fatalf("accepted a batch whose encoding is not canonical: %+v", b.Header)
		}
	})
}
