// Package logbatch defines the log batch the Cloud Logger publishes to IPFS
// and the enclave ingests: one time window of an SLA's log records (JSON
// Lines), encrypted to the enclave's chaincode encryption key and signed by
// the SLA's logger.
//
// A batch is self-describing and self-verifying:
//
//   - Header (signed, not encrypted: IPFS, the tunneling shim and whoever
//     holds the CID read it): the format version, SLA id, sequence number,
//     the CID of the previous batch, the half-open time window
//     [window_start, window_end) it covers (windows of consecutive batches
//     are contiguous) and the id of the key it is encrypted to. Nothing
//     about the records.
//   - KeyTransport: a fresh AES-256 key, RSA-OAEP-SHA256 encrypted to the
//     chaincode encryption key.
//   - Ciphertext: nonce || AES-256-GCM(key, body), with the header's
//     encoding as additional data, so a header cannot be moved onto other
//     records. The body is the number of records (unsigned varint), the
//     length of the records (unsigned varint), the records, and zero bytes
//     up to a multiple of PadBlock: the ciphertext's length tells the
//     records' size only to PadBlock bytes, so neither the record count nor
//     (with records of fixed shape) the number of failed samples can be
//     read from it exactly.
//   - LoggerCert and Signature: the logger's X.509 certificate and its ECDSA
//     signature over SHA-256 of DomainTag || header JSON || SHA-256(key
//     transport) || SHA-256(ciphertext).
//
// Encoding: the magic "slasa.logbatch/v2" and a NUL byte, then five fields,
// each an unsigned varint length followed by that many bytes: the header's
// JSON (exactly the bytes signed and used as additional data), the key
// transport, the ciphertext, the logger's PEM certificate and the signature.
// A binary envelope keeps parsing O(1) in the batch size: the enclave spends
// its time on decryption and the records, not on decoding base64 in JSON.
//
// Version 2 moved the record count from the header into the encrypted body
// and added the padding; version 1 batches are refused by name.
//
// Whoever stores or carries a batch (IPFS, the tunneling shim) can read
// nothing but the header and change nothing undetected; the enclave
// additionally checks the bytes against the CID anchored on chain. What the
// header and the padded size still tell them: which SLA, the window, the
// batch's place in the chain, and the records' size to PadBlock bytes.
package logbatch

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slasa/slasa/internal/strictjson"
)

// Version is the batch format version.
const Version = "slasa.logbatch/v2"

// DomainTag prefixes the bytes the logger signs.
const DomainTag = "slasa.logbatch/v2\n"

const keyLabel = "slasa.logbatch.key/v2"

// PadBlock is the block the encrypted body is padded to.
const PadBlock = 4096

// MaxBatchBytes bounds an encoded batch.
const MaxBatchBytes = 64 << 20

// Errors callers test for.
var (
	ErrBadSignature = errors.New("log batch: the logger's signature does not verify")
	ErrDecrypt      = errors.New("log batch: decryption failed (wrong enclave key or tampered batch)")
)

// Header describes a batch; it is signed but not encrypted.
type Header struct {
	Version     string `json:"version"`
	SLAID       string `json:"sla_id"`
	Seq         int64  `json:"seq"`
	PrevCID     string `json:"prev_cid"`
	WindowStart string `json:"window_start"`
	WindowEnd   string `json:"window_end"`
	// RecipientKeyID is the lower-case hex SHA-256 of the PKIX encoding of
	// the chaincode encryption key the batch is encrypted to.
	RecipientKeyID string `json:"recipient_key_id"`
}

// Magic starts every encoded batch.
const Magic = "slasa.logbatch/v2\x00"

// magicV1 started the batches of format version 1 (record count in the
// clear, no padding).
const magicV1 = "slasa.logbatch/v1\x00"

// Batch is a decoded batch envelope.
type Batch struct {
	Header Header
	// RawHeader is the header's JSON exactly as signed.
	RawHeader    []byte
	KeyTransport []byte
	Ciphertext   []byte
	LoggerCert   string
	Signature    []byte
}

// Encode returns the batch's binary encoding.
func (b *Batch) Encode() []byte {
	fields := [][]byte{b.RawHeader, b.KeyTransport, b.Ciphertext, []byte(b.LoggerCert), b.Signature}
	n := len(Magic)
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	out := make([]byte, 0, n)
	out = append(out, Magic...)
	for _, f := range fields {
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	return out
}

// decode splits an encoded batch into its fields without copying.
func decode(data []byte) (*Batch, error) {
	if len(data) >= len(magicV1) && string(data[:len(magicV1)]) == magicV1 {
		return nil, fmt.Errorf("log batch: format %q (record count in the clear) is no longer read; this code reads %q", "slasa.logbatch/v1", Version)
	}
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, errors.New("log batch: not a slasa log batch (bad magic)")
	}
	rest := data[len(Magic):]
	var fields [5][]byte
	names := [5]string{"header", "key_transport", "ciphertext", "logger_cert", "signature"}
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, fmt.Errorf("log batch: field %s: truncated or bad length", names[i])
		}
		fields[i] = rest[k : k+int(n)]
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("log batch: %d bytes of trailing data", len(rest))
	}
	b := &Batch{RawHeader: fields[0], KeyTransport: fields[1], Ciphertext: fields[2], LoggerCert: string(fields[3]), Signature: fields[4]}
	if err := strictjson.Unmarshal(b.RawHeader, &b.Header); err != nil {
		return nil, fmt.Errorf("log batch: header: %w", err)
	}
	return b, nil
}

// Opened is a verified, decrypted batch.
type Opened struct {
	Header Header
	// Records are the JSON Lines records; Count is their number as the
	// logger declared it in the encrypted body (the enclave checks it).
	Records    []byte
	Count      int64
	LoggerCert *x509.Certificate
}

// Window returns the header's window as times.
func (h *Header) Window() (start, end time.Time, err error) {
	start, err = time.Parse(time.RFC3339, h.WindowStart)
	if err != nil {
		return start, end, fmt.Errorf("header.window_start: %w", err)
	}
	end, err = time.Parse(time.RFC3339, h.WindowEnd)
	if err != nil {
		return start, end, fmt.Errorf("header.window_end: %w", err)
	}
	return start.UTC(), end.UTC(), nil
}

// Validate checks the header's fields and names the first bad one.
func (h *Header) Validate() error {
	switch {
	case h.Version != Version:
		return fmt.Errorf("header.version: %q is not %q", h.Version, Version)
	case h.SLAID == "":
		return errors.New("header.sla_id: must not be empty")
	case h.Seq < 1:
		return fmt.Errorf("header.seq: %d, must be >= 1", h.Seq)
	case h.Seq == 1 && h.PrevCID != "":
		return errors.New("header.prev_cid: must be empty for the first batch")
	case h.Seq > 1 && h.PrevCID == "":
		return errors.New("header.prev_cid: must name the previous batch")
	case len(h.RecipientKeyID) != 64:
		return errors.New("header.recipient_key_id: must be 64 hex digits")
	}
	start, end, err := h.Window()
	if err != nil {
		return err
	}
	if !start.Before(end) {
		return fmt.Errorf("header.window_end: %s is not after window_start %s", h.WindowEnd, h.WindowStart)
	}
	return nil
}

// KeyID returns the recipient key id of a chaincode encryption key.
func KeyID(ek *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(ek)
	if err != nil {
		return "", fmt.Errorf("encode chaincode encryption key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// Seal encrypts records (count JSON Lines records) to the chaincode
// encryption key, signs the batch with the logger's key and returns its
// encoding. h.Version and h.RecipientKeyID are filled in.
func Seal(h Header, records []byte, count int64, ek *rsa.PublicKey, loggerCertPEM string, loggerKey *ecdsa.PrivateKey) ([]byte, error) {
	if count < 0 {
		return nil, fmt.Errorf("records count: %d is negative", count)
	}
	h.Version = Version
	id, err := KeyID(ek)
	if err != nil {
		return nil, err
	}
	h.RecipientKeyID = id
	if err := h.Validate(); err != nil {
		return nil, err
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("generate batch key: %w", err)
	}
	kt, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, ek, key, []byte(keyLabel))
	if err != nil {
		return nil, fmt.Errorf("encrypt batch key: %w", err)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	ct := gcm.Seal(nonce, nonce, encodeBody(records, count), hdr)
	sig, err := ecdsa.SignASN1(rand.Reader, loggerKey, signedDigest(hdr, kt, ct))
	if err != nil {
		return nil, fmt.Errorf("sign batch: %w", err)
	}
	out := (&Batch{Header: h, RawHeader: hdr, KeyTransport: kt, Ciphertext: ct, LoggerCert: loggerCertPEM, Signature: sig}).Encode()
	if len(out) > MaxBatchBytes {
		return nil, fmt.Errorf("batch of %d bytes exceeds the limit of %d; cut smaller windows", len(out), MaxBatchBytes)
	}
	return out, nil
}

// Parse decodes a batch strictly and verifies the logger's signature with
// the certificate it carries. The caller must still check that the
// certificate is the SLA's logger and chains to its MSP.
func Parse(data []byte) (*Batch, *x509.Certificate, error) {
	if len(data) > MaxBatchBytes {
		return nil, nil, fmt.Errorf("log batch: %d bytes exceeds the limit of %d", len(data), MaxBatchBytes)
	}
	b, err := decode(data)
	if err != nil {
		return nil, nil, err
	}
	if err := b.Header.Validate(); err != nil {
		return nil, nil, fmt.Errorf("log batch: %w", err)
	}
	block, _ := pem.Decode([]byte(b.LoggerCert))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, errors.New("log batch: logger_cert is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("log batch: logger_cert: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, nil, errors.New("log batch: logger_cert: not an ECDSA key")
	}
	if !ecdsa.VerifyASN1(pub, signedDigest(b.RawHeader, b.KeyTransport, b.Ciphertext), b.Signature) {
		return nil, nil, ErrBadSignature
	}
	return b, cert, nil
}

// Open parses, verifies and decrypts a batch with the chaincode decryption key.
func Open(data []byte, ek *rsa.PrivateKey) (*Opened, error) {
	b, cert, err := Parse(data)
	if err != nil {
		return nil, err
	}
	id, err := KeyID(&ek.PublicKey)
	if err != nil {
		return nil, err
	}
	if b.Header.RecipientKeyID != id {
		return nil, fmt.Errorf("log batch: encrypted to key %s, not this enclave's key %s", b.Header.RecipientKeyID, id)
	}
	key, err := rsa.DecryptOAEP(sha256.New(), nil, ek, b.KeyTransport, []byte(keyLabel))
	if err != nil || len(key) != 32 {
		return nil, ErrDecrypt
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(b.Ciphertext) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrDecrypt
	}
	ns := gcm.NonceSize()
	body, err := gcm.Open(nil, b.Ciphertext[:ns], b.Ciphertext[ns:], b.RawHeader)
	if err != nil {
		return nil, ErrDecrypt
	}
	records, count, err := decodeBody(body)
	if err != nil {
		return nil, err
	}
	return &Opened{Header: b.Header, Records: records, Count: count, LoggerCert: cert}, nil
}

// encodeBody returns the plaintext of the ciphertext: the record count, the
// records' length, the records and zero padding to a multiple of PadBlock.
func encodeBody(records []byte, count int64) []byte {
	n := 2*binary.MaxVarintLen64 + len(records)
	body := make([]byte, 0, (n+PadBlock-1)/PadBlock*PadBlock)
	body = binary.AppendUvarint(body, uint64(count))
	body = binary.AppendUvarint(body, uint64(len(records)))
	body = append(body, records...)
	return body[:(len(body)+PadBlock-1)/PadBlock*PadBlock]
}

// decodeBody reads what encodeBody wrote, in canonical form only.
func decodeBody(body []byte) ([]byte, int64, error) {
	if len(body)%PadBlock != 0 {
		return nil, 0, errors.New("log batch: body: not padded to a multiple of the pad block")
	}
	count, k1 := binary.Uvarint(body)
	if k1 <= 0 || count > uint64(len(body)) {
		return nil, 0, errors.New("log batch: body: bad record count")
	}
	n, k2 := binary.Uvarint(body[k1:])
	if k2 <= 0 || n > uint64(len(body)-k1-k2) {
		return nil, 0, errors.New("log batch: body: bad records length")
	}
	start := k1 + k2
	records, pad := body[start:start+int(n)], body[start+int(n):]
	if len(pad) >= PadBlock {
		return nil, 0, errors.New("log batch: body: more padding than one pad block")
	}
	for _, c := range pad {
		if c != 0 {
			return nil, 0, errors.New("log batch: body: padding is not zero")
		}
	}
	return records, int64(count), nil
}

func signedDigest(hdr, kt, ct []byte) []byte {
	ktSum := sha256.Sum256(kt)
	ctSum := sha256.Sum256(ct)
	h := sha256.New()
	h.Write([]byte(DomainTag))
	h.Write(hdr)
	h.Write(ktSum[:])
	h.Write(ctSum[:])
	return h.Sum(nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	return cipher.NewGCM(block)
}
