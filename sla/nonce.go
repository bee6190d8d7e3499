package sla

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// NonceBytes is the number of random bytes of an SLA's nonce (128 bits,
// written as 32 lower-case hex digits).
const NonceBytes = 16

// NewNonce returns a fresh nonce for an SLA document: NonceBytes random bytes
// from crypto/rand as lower-case hex.
func NewNonce() (string, error) {
	return newNonce(rand.Reader)
}

func newNonce(r io.Reader) (string, error) {
	b := make([]byte, NonceBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("sla: nonce: read random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// WithNonce returns the document data with a fresh nonce (NewNonce) when its
// top-level object has no "nonce" member, and data unchanged (added false)
// when it has one, whatever its value: Parse judges it. The nonce is inserted
// as the object's first member, so the rest of the document keeps its bytes.
// It fails when data is not a JSON object.
func WithNonce(data []byte) (out []byte, added bool, err error) {
	return withNonce(data, rand.Reader)
}

func withNonce(data []byte, r io.Reader) ([]byte, bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, false, fmt.Errorf("sla: add a nonce: the document is not a JSON object: %w", err)
	}
	if _, ok := top["nonce"]; ok {
		return data, false, nil
	}
	open := bytes.IndexByte(data, '{')
	if open < 0 {
		// Unreachable: the document decoded as an object.
		return nil, false, errors.New("sla: add a nonce: no object found")
	}
	nonce, err := newNonce(r)
	if err != nil {
		return nil, false, err
	}
	member := fmt.Sprintf(`"nonce": %q`, nonce)
	if len(top) > 0 {
		member += ", "
	}
	out := make([]byte, 0, len(data)+len(member))
	out = append(out, data[:open+1]...)
	out = append(out, member...)
	out = append(out, data[open+1:]...)
	return out, true, nil
}
