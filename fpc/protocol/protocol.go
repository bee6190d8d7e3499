// Package protocol implements the message protocol of Fabric Private
// Chaincode 1.0 between clients, the enclave and the endorsement step, in pure
// Go with the standard library's cryptography:
//
//   - A client encrypts each request to the chaincode encryption key (RSA-OAEP
//     with SHA-256 transports fresh AES-256 request and response keys; the
//     request itself is AES-256-GCM encrypted). See SealRequest.
//   - The enclave opens the request (OpenRequest), runs the chaincode against a
//     stub that encrypts every state value with the state key (StateCipher) and
//     records what it read (key + SHA-256 of the stored ciphertext) and wrote,
//     then returns a Response: the result encrypted with the response key, the
//     read/write set, the proposal it ran under and the SHA-256 of the request,
//     signed with the enclave's ECDSA P-256 key (SignResponse). Each write
//     may name the key-level (state-based) endorsement policy the key must
//     carry (Write.Policy); __endorse sets it when it creates the key.
//   - The client verifies the enclave's signature (VerifyResponse) and opens
//     the result (OpenResult); to commit, it submits the signed response to
//     __endorse, where each endorsing peer verifies the signature against the
//     key in the enclave registry, re-reads every read key comparing hashes,
//     and applies the writes (and the policies of the keys they create).
//
// Version 2 of the signed response (domain tag "slasa.fpc.response/v2")
// added Write.Policy; a version 1 response does not verify as version 2.
//
// Nothing here imports Fabric: the enclave runtime (v1 shim) and the client
// (Fabric Gateway, v2 protos) share it without linking both proto generations.
package protocol

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/slasa/slasa/internal/strictjson"
)

// Entry points of a private chaincode.
const (
	FnInitEnclave = "__initEnclave"
	FnInvoke      = "__invoke"
	FnEndorse     = "__endorse"
)

// Domain tags separate what the enclave signs and what the keys encrypt.
const (
	responseDomainTag = "slasa.fpc.response/v2\n"
	requestAAD        = "slasa.fpc.request/v1"
	resultAAD         = "slasa.fpc.result/v1"
	keyTransportLabel = "slasa.fpc.key-transport/v1"
	stateAADPrefix    = "slasa.fpc.state/v1\n"
)

// KeySize is the AES key size used everywhere (AES-256).
const KeySize = 32

// Errors callers test for.
var (
	ErrBadSignature = errors.New("enclave signature does not verify")
	ErrDecrypt      = errors.New("decryption failed: wrong key or tampered ciphertext")
)

// Request is the cleartext of a private chaincode invocation.
type Request struct {
	Function string   `json:"function"`
	Args     []string `json:"args"`
}

// keyTransport carries the per-request keys, encrypted to the chaincode key.
type keyTransport struct {
	RequestKey  []byte `json:"request_key"`
	ResponseKey []byte `json:"response_key"`
}

// RequestMessage is what a client sends to __invoke.
type RequestMessage struct {
	// EncryptedRequest is nonce || AES-256-GCM(request key, Request JSON).
	EncryptedRequest []byte `json:"encrypted_request"`
	// EncryptedKeyTransport is RSA-OAEP-SHA256(chaincode key, key transport JSON).
	EncryptedKeyTransport []byte `json:"encrypted_key_transport"`
}

// Hash returns the SHA-256 of the request message's canonical bytes, which the
// enclave's response is bound to.
func (m *RequestMessage) Hash() ([32]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encode request message: %w", err)
	}
	return sha256.Sum256(raw), nil
}

// ClientSession holds the keys of one request on the client side.
type ClientSession struct {
	responseKey []byte
	requestHash [32]byte
}

// RequestHash is the hash the enclave's response must carry.
func (s *ClientSession) RequestHash() [32]byte { return s.requestHash }

// SealRequest encrypts req to the chaincode encryption key with fresh keys.
func SealRequest(req Request, chaincodeKey *rsa.PublicKey) (*RequestMessage, *ClientSession, error) {
	if req.Function == "" {
		return nil, nil, errors.New("request.function: must not be empty")
	}
	reqKey, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	respKey, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	plain, err := json.Marshal(req)
	if err != nil {
		return nil, nil, fmt.Errorf("encode request: %w", err)
	}
	encReq, err := seal(reqKey, plain, []byte(requestAAD))
	if err != nil {
		return nil, nil, err
	}
	kt, err := json.Marshal(keyTransport{RequestKey: reqKey, ResponseKey: respKey})
	if err != nil {
		return nil, nil, fmt.Errorf("encode key transport: %w", err)
	}
	encKT, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, chaincodeKey, kt, []byte(keyTransportLabel))
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt key transport to the chaincode key: %w", err)
	}
	msg := &RequestMessage{EncryptedRequest: encReq, EncryptedKeyTransport: encKT}
	h, err := msg.Hash()
	if err != nil {
		return nil, nil, err
	}
	return msg, &ClientSession{responseKey: respKey, requestHash: h}, nil
}

// EnclaveSession holds what the enclave learned from one request.
type EnclaveSession struct {
	Request     Request
	RequestHash [32]byte
	responseKey []byte
}

// OpenRequest decrypts a request message with the chaincode decryption key.
func OpenRequest(msg *RequestMessage, chaincodeKey *rsa.PrivateKey) (*EnclaveSession, error) {
	if msg == nil || len(msg.EncryptedRequest) == 0 || len(msg.EncryptedKeyTransport) == 0 {
		return nil, errors.New("request message: encrypted_request and encrypted_key_transport are required")
	}
	kt, err := rsa.DecryptOAEP(sha256.New(), nil, chaincodeKey, msg.EncryptedKeyTransport, []byte(keyTransportLabel))
	if err != nil {
		return nil, fmt.Errorf("request message: key transport: %w", ErrDecrypt)
	}
	var keys keyTransport
	if err := strictjson.Unmarshal(kt, &keys); err != nil {
		return nil, fmt.Errorf("request message: key transport: %w", err)
	}
	if len(keys.RequestKey) != KeySize || len(keys.ResponseKey) != KeySize {
		return nil, errors.New("request message: key transport: keys must be 32 bytes")
	}
	plain, err := open(keys.RequestKey, msg.EncryptedRequest, []byte(requestAAD))
	if err != nil {
		return nil, fmt.Errorf("request message: request: %w", err)
	}
	var req Request
	if err := strictjson.Unmarshal(plain, &req); err != nil {
		return nil, fmt.Errorf("request message: request: %w", err)
	}
	if req.Function == "" {
		return nil, errors.New("request: function must not be empty")
	}
	h, err := msg.Hash()
	if err != nil {
		return nil, err
	}
	return &EnclaveSession{Request: req, RequestHash: h, responseKey: keys.ResponseKey}, nil
}

// Result is the chaincode's answer to a request, seen only by the requester.
type Result struct {
	Status  int32  `json:"status"`
	Message string `json:"message,omitempty"`
	Payload []byte `json:"payload,omitempty"`
}

// Read is one key the enclave read, with the SHA-256 of the stored bytes
// (all zero and Absent set when the key did not exist).
type Read struct {
	Key    string   `json:"key"`
	Hash   [32]byte `json:"hash"`
	Absent bool     `json:"absent,omitempty"`
}

// Write is one key the enclave wrote (the encrypted value) or deleted.
type Write struct {
	Key    string `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Delete bool   `json:"delete,omitempty"`
	// Policy is the key-level endorsement policy the key must carry (a
	// Fabric validation parameter: a marshalled SignaturePolicyEnvelope),
	// empty for a key that keeps the chaincode's policy. __endorse sets it
	// only when the write creates the key: a key's policy is set once, at
	// its creation, and never again.
	Policy []byte `json:"policy,omitempty"`
}

// RWSet is the enclave's read/write set, in the order of first access.
type RWSet struct {
	Reads  []Read  `json:"reads"`
	Writes []Write `json:"writes"`
}

// Response is the enclave's signed answer to one request.
type Response struct {
	// EncryptedResult is nonce || AES-256-GCM(response key, Result JSON).
	EncryptedResult []byte `json:"encrypted_result"`
	RWSet           RWSet  `json:"rwset"`
	// Proposal is the signed proposal the enclave ran under (bytes as
	// received), binding the response to its channel, creator and tx id.
	Proposal    []byte   `json:"proposal"`
	RequestHash [32]byte `json:"request_hash"`
	EnclaveID   string   `json:"enclave_id"`
}

// SignedResponse is a response with the enclave's ASN.1 ECDSA signature over
// SHA-256(domain tag || Response bytes).
type SignedResponse struct {
	Response  []byte `json:"response"`
	Signature []byte `json:"signature"`
}

// SealResult encrypts the chaincode's result for the requester.
func (s *EnclaveSession) SealResult(r Result) ([]byte, error) {
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return seal(s.responseKey, plain, []byte(resultAAD))
}

// SignResponse encodes and signs a response with the enclave key.
func SignResponse(r *Response, enclaveKey *ecdsa.PrivateKey) (*SignedResponse, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	sum := sha256.Sum256(append([]byte(responseDomainTag), raw...))
	sig, err := ecdsa.SignASN1(rand.Reader, enclaveKey, sum[:])
	if err != nil {
		return nil, fmt.Errorf("sign response: %w", err)
	}
	return &SignedResponse{Response: raw, Signature: sig}, nil
}

// VerifyResponse checks the enclave signature with the registered verifying
// key and returns the decoded response. It does not check bindings; see
// CheckBinding.
func VerifyResponse(sr *SignedResponse, enclaveVK *ecdsa.PublicKey) (*Response, error) {
	if sr == nil || len(sr.Response) == 0 || len(sr.Signature) == 0 {
		return nil, errors.New("signed response: response and signature are required")
	}
	sum := sha256.Sum256(append([]byte(responseDomainTag), sr.Response...))
	if !ecdsa.VerifyASN1(enclaveVK, sum[:], sr.Signature) {
		return nil, ErrBadSignature
	}
	var r Response
	if err := strictjson.Unmarshal(sr.Response, &r); err != nil {
		return nil, fmt.Errorf("signed response: %w", err)
	}
	return &r, nil
}

// CheckBinding checks that a verified response answers the client's request
// and comes from the expected enclave.
func (s *ClientSession) CheckBinding(r *Response, enclaveID string) error {
	if r.RequestHash != s.requestHash {
		return errors.New("response: request_hash does not match the request sent (tampered or replayed response)")
	}
	if r.EnclaveID != enclaveID {
		return fmt.Errorf("response: enclave_id %s is not the registered enclave %s", r.EnclaveID, enclaveID)
	}
	return nil
}

// OpenResult decrypts the result of a verified, bound response.
func (s *ClientSession) OpenResult(r *Response) (*Result, error) {
	plain, err := open(s.responseKey, r.EncryptedResult, []byte(resultAAD))
	if err != nil {
		return nil, fmt.Errorf("response: result: %w", err)
	}
	var res Result
	if err := strictjson.Unmarshal(plain, &res); err != nil {
		return nil, fmt.Errorf("response: result: %w", err)
	}
	return &res, nil
}

// StateCipher encrypts chaincode state values with the enclave's state key.
// The key name is bound into each ciphertext, so a value moved to another key
// does not decrypt.
type StateCipher struct{ key []byte }

// NewStateCipher returns a cipher for a 32-byte state key.
func NewStateCipher(key []byte) (*StateCipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("state key: %d bytes, need %d", len(key), KeySize)
	}
	return &StateCipher{key: bytes.Clone(key)}, nil
}

// Encrypt seals a value stored under key.
func (c *StateCipher) Encrypt(key string, value []byte) ([]byte, error) {
	return seal(c.key, value, []byte(stateAADPrefix+key))
}

// Decrypt opens a value stored under key.
func (c *StateCipher) Decrypt(key string, stored []byte) ([]byte, error) {
	v, err := open(c.key, stored, []byte(stateAADPrefix+key))
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", key, err)
	}
	return v, nil
}

// HashStored returns the read-set hash of stored bytes (nil: absent).
func HashStored(stored []byte) Read {
	if stored == nil {
		return Read{Absent: true}
	}
	return Read{Hash: sha256.Sum256(stored)}
}

// NewKey returns a fresh random AES-256 key.
func NewKey() ([]byte, error) { return newKey() }

func newKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, k); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

func seal(key, plain, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	return cipher.NewGCM(block)
}
