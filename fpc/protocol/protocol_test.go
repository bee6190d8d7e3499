package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

var (
	keysOnce sync.Once
	testEK   *rsa.PrivateKey
	testSK   *ecdsa.PrivateKey
)

func keys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if testEK, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testSK, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return testEK, testSK
}

// roundTrip plays client -> enclave -> client and returns what each side saw.
func roundTrip(t *testing.T) (*ClientSession, *EnclaveSession, *SignedResponse) {
	t.Helper()
	ek, sk := keys(t)
	msg, cs, err := SealRequest(Request{Function: "Evaluate", Args: []string{"sla-1", "2026-02"}}, &ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// The message travels as JSON.
	raw, _ := json.Marshal(msg)
	var got RequestMessage
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	es, err := OpenRequest(&got, ek)
	if err != nil {
		t.Fatal(err)
	}
	res, err := es.SealResult(Result{Status: 200, Payload: []byte(`{"uptime":"99.5"}`)})
	if err != nil {
		t.Fatal(err)
	}
	sr, err := SignResponse(&Response{EncryptedResult: res, Proposal: []byte("proposal"), RequestHash: es.RequestHash,
		EnclaveID: "ENCLAVE", RWSet: RWSet{Reads: []Read{{Key: "k", Absent: true}}, Writes: []Write{{Key: "k", Value: []byte{1}}}}}, sk)
	if err != nil {
		t.Fatal(err)
	}
	return cs, es, sr
}

func TestRoundTrip(t *testing.T) {
	_, sk := keys(t)
	cs, es, sr := roundTrip(t)
	if es.Request.Function != "Evaluate" || strings.Join(es.Request.Args, ",") != "sla-1,2026-02" {
		t.Fatalf("enclave saw %+v", es.Request)
	}
	resp, err := VerifyResponse(sr, &sk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CheckBinding(resp, "ENCLAVE"); err != nil {
		t.Fatal(err)
	}
	res, err := cs.OpenResult(resp)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || string(res.Payload) != `{"uptime":"99.5"}` {
		t.Fatalf("result %+v", res)
	}
	if len(resp.RWSet.Writes) != 1 || string(resp.Proposal) != "proposal" {
		t.Fatalf("response %+v", resp)
	}
}

func TestTamperingIsDetected(t *testing.T) {
	ek, sk := keys(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	t.Run("tampered request ciphertext", func(t *testing.T) {
		msg, _, err := SealRequest(Request{Function: "f"}, &ek.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		msg.EncryptedRequest[len(msg.EncryptedRequest)-1] ^= 1
		if _, err := OpenRequest(msg, ek); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("error %v, want ErrDecrypt", err)
		}
	})
	t.Run("tampered key transport", func(t *testing.T) {
		msg, _, _ := SealRequest(Request{Function: "f"}, &ek.PublicKey)
		msg.EncryptedKeyTransport[3] ^= 1
		if _, err := OpenRequest(msg, ek); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("error %v, want ErrDecrypt", err)
		}
	})
	t.Run("response altered after signing", func(t *testing.T) {
		_, _, sr := roundTrip(t)
		sr.Response = []byte(strings.Replace(string(sr.Response), `"ENCLAVE"`, `"ENCLAVX"`, 1))
		if _, err := VerifyResponse(sr, &sk.PublicKey); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("response signed by another key", func(t *testing.T) {
		_, _, sr := roundTrip(t)
		if _, err := VerifyResponse(sr, &other.PublicKey); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("response to another request", func(t *testing.T) {
		_, _, sr := roundTrip(t)
		cs2, _, _ := roundTrip(t)
		resp, err := VerifyResponse(sr, &sk.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := cs2.CheckBinding(resp, "ENCLAVE"); err == nil || !strings.Contains(err.Error(), "request_hash") {
			t.Fatalf("error %v", err)
		}
		if _, err := cs2.OpenResult(resp); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("another session opened the result: %v", err)
		}
	})
	t.Run("unexpected enclave", func(t *testing.T) {
		cs, _, sr := roundTrip(t)
		resp, _ := VerifyResponse(sr, &sk.PublicKey)
		if err := cs.CheckBinding(resp, "OTHER"); err == nil || !strings.Contains(err.Error(), "enclave_id") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestStateCipher(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewStateCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt("sla\x00a", []byte("marker-OUTAGE-zone-b"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), "marker") {
		t.Fatal("plaintext visible in ciphertext")
	}
	if v, err := c.Decrypt("sla\x00a", enc); err != nil || string(v) != "marker-OUTAGE-zone-b" {
		t.Fatalf("Decrypt = %q, %v", v, err)
	}
	if _, err := c.Decrypt("sla\x00b", enc); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("value moved to another key decrypted: %v", err)
	}
	other, _ := NewKey()
	c2, _ := NewStateCipher(other)
	if _, err := c2.Decrypt("sla\x00a", enc); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("another state key decrypted: %v", err)
	}
	if _, err := NewStateCipher([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	if r := HashStored(nil); !r.Absent {
		t.Fatal("nil not absent")
	}
	if a, b := HashStored(enc), HashStored(append([]byte{}, enc...)); a != b || a.Absent {
		t.Fatal("hash not stable")
	}
}

func TestRejectsMalformed(t *testing.T) {
	ek, sk := keys(t)
	if _, _, err := SealRequest(Request{}, &ek.PublicKey); err == nil {
		t.Fatal("empty function accepted")
	}
	if _, err := OpenRequest(&RequestMessage{}, ek); err == nil {
		t.Fatal("empty message accepted")
	}
	if _, err := VerifyResponse(&SignedResponse{}, &sk.PublicKey); err == nil {
		t.Fatal("empty response accepted")
	}
}
