package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
)

type keys struct {
	sign *ecdsa.PrivateKey
	vk   string
	ek   string
}

func newKeys(t *testing.T) keys {
	t.Helper()
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	vkPEM, err := MarshalPublicKey(&sk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ekPEM, err := MarshalPublicKey(&ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return keys{sk, vkPEM, ekPEM}
}

func attested(k keys) AttestedData {
	return AttestedData{Channel: "slasa", Chaincode: "slaenclave", ChaincodeVersion: "sim-1", ChaincodeSequence: 1,
		PeerMSPID: "ProviderOrgMSP", Endpoint: "127.0.0.1:27100", EnclaveVK: k.vk, ChaincodeEK: k.ek,
		ConfigDigest: strings.Repeat("ab", 32)}
}

func TestSimulatedRoundTrip(t *testing.T) {
	k := newKeys(t)
	c, err := NewSimulated(attested(k), k.sign)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, data, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySimulated(parsed, data); err != nil {
		t.Fatalf("VerifySimulated: %v", err)
	}
	id, err := EnclaveID(&k.sign.PublicKey)
	if err != nil || len(id) != 64 || strings.ToUpper(id) != id {
		t.Fatalf("EnclaveID = %q, %v", id, err)
	}
}

func TestVerifySimulatedRejects(t *testing.T) {
	k, other := newKeys(t), newKeys(t)
	c, err := NewSimulated(attested(k), k.sign)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(c *Credentials) *Credentials
		want   string
	}{
		{"evidence by another key", func(c *Credentials) *Credentials {
			o, err := NewSimulated(attested(k), other.sign)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}, "attestation.evidence"},
		{"attested data changed", func(c *Credentials) *Credentials {
			d := *c
			d.AttestedData = json.RawMessage(strings.Replace(string(c.AttestedData), "sim-1", "sim-2", 1))
			return &d
		}, "attestation.evidence"},
		{"not simulated", func(c *Credentials) *Credentials {
			d := *c
			d.Attestation.Type = AttestationDCAP
			return &d
		}, "attestation.type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.mutate(c)
			raw, _ := json.Marshal(m)
			parsed, data, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			err = VerifySimulated(parsed, data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	k := newKeys(t)
	good := attested(k)
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM, _ := MarshalPublicKey(&smallRSA.PublicKey)
	tests := []struct {
		name   string
		mutate func(d *AttestedData)
		want   string
	}{
		{"no channel", func(d *AttestedData) { d.Channel = "" }, "attested_data.channel"},
		{"sequence 0", func(d *AttestedData) { d.ChaincodeSequence = 0 }, "attested_data.chaincode_sequence"},
		{"vk is RSA", func(d *AttestedData) { d.EnclaveVK = d.ChaincodeEK }, "enclave_vk"},
		{"ek too small", func(d *AttestedData) { d.ChaincodeEK = smallPEM }, "at least 2048"},
		{"ek garbage", func(d *AttestedData) { d.ChaincodeEK = "nope" }, "chaincode_ek"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good
			tc.mutate(&d)
			raw, _ := json.Marshal(d)
			c, _ := json.Marshal(Credentials{AttestedData: raw, Attestation: Attestation{Type: AttestationSimulated, Evidence: []byte{1}}})
			_, _, err := Parse(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"attested_data":{}, "x":1}`, `{}`, `[]`, `{"attestation":{}} {}`} {
		if _, _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}
