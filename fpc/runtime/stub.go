package runtime

import (
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang/protobuf/ptypes/timestamp"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	pb "github.com/hyperledger/fabric-protos-go/peer"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/internal/deploycfg"
)

// errUnsupported is returned for stub features FPC does not offer inside an
// enclave.
func errUnsupported(what string) error {
	return fmt.Errorf("%s is not supported inside the enclave (Fabric Private Chaincode)", what)
}

// enclaveStub is the shim.ChaincodeStubInterface a private chaincode sees
// inside the enclave. Reads go to the host and are decrypted and recorded
// with the hash of the stored ciphertext; writes are encrypted and buffered
// in the write set, which __endorse applies after verification.
type enclaveStub struct {
	host    Host
	ts      time.Time // the signed proposal's timestamp
	svc     *services
	cipher  *protocol.StateCipher
	args    [][]byte
	reads   []protocol.Read
	readIdx map[string]int
	writes  []protocol.Write
	wIdx    map[string]int
	plain   map[string][]byte // plaintext of pending writes, for read-your-writes
}

var _ shim.ChaincodeStubInterface = (*enclaveStub)(nil)

func newEnclaveStub(host Host, ts time.Time, svc *services, cipher *protocol.StateCipher, req protocol.Request) *enclaveStub {
	args := make([][]byte, 0, len(req.Args)+1)
	args = append(args, []byte(req.Function))
	for _, a := range req.Args {
		args = append(args, []byte(a))
	}
	return &enclaveStub{host: host, ts: ts, svc: svc, cipher: cipher, args: args, readIdx: map[string]int{}, wIdx: map[string]int{}, plain: map[string][]byte{}}
}

func (s *enclaveStub) rwset() protocol.RWSet {
	reads, writes := s.reads, s.writes
	if reads == nil {
		reads = []protocol.Read{}
	}
	if writes == nil {
		writes = []protocol.Write{}
	}
	return protocol.RWSet{Reads: reads, Writes: writes}
}

// recordRead notes the hash of what the ledger held for key (first read wins,
// as in Fabric's read set).
func (s *enclaveStub) recordRead(key string, stored []byte) {
	if _, ok := s.readIdx[key]; ok {
		return
	}
	r := protocol.HashStored(stored)
	r.Key = key
	s.readIdx[key] = len(s.reads)
	s.reads = append(s.reads, r)
}

func (s *enclaveStub) GetArgs() [][]byte { return s.args }

func (s *enclaveStub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}

func (s *enclaveStub) GetFunctionAndParameters() (string, []string) {
	a := s.GetStringArgs()
	return a[0], a[1:]
}

func (s *enclaveStub) GetArgsSlice() ([]byte, error) {
	var out []byte
	for _, a := range s.args {
		out = append(out, a...)
	}
	return out, nil
}

func (s *enclaveStub) GetTxID() string      { return s.host.TxID() }
func (s *enclaveStub) GetChannelID() string { return s.host.ChannelID() }

func (s *enclaveStub) InvokeChaincode(string, [][]byte, string) pb.Response {
	return shim.Error(errUnsupported("InvokeChaincode (chaincode-to-chaincode calls)").Error())
}

func (s *enclaveStub) GetState(key string) ([]byte, error) {
	if v, ok := s.plain[key]; ok {
		return v, nil
	}
	if i, ok := s.wIdx[key]; ok && s.writes[i].Delete {
		return nil, nil
	}
	stored, err := s.host.GetState(key)
	if err != nil {
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	s.recordRead(key, stored)
	if stored == nil {
		return nil, nil
	}
	return s.cipher.Decrypt(key, stored)
}

func (s *enclaveStub) PutState(key string, value []byte) error {
	if key == "" {
		return errors.New("put state: empty key")
	}
	if value == nil {
		value = []byte{}
	}
	enc, err := s.cipher.Encrypt(key, value)
	if err != nil {
		return fmt.Errorf("put state %q: %w", key, err)
	}
	s.setWrite(protocol.Write{Key: key, Value: enc})
	s.plain[key] = append([]byte(nil), value...)
	return nil
}

func (s *enclaveStub) DelState(key string) error {
	if key == "" {
		return errors.New("delete state: empty key")
	}
	s.setWrite(protocol.Write{Key: key, Delete: true})
	delete(s.plain, key)
	return nil
}

func (s *enclaveStub) setWrite(w protocol.Write) {
	if i, ok := s.wIdx[w.Key]; ok {
		if !w.Delete {
			w.Policy = s.writes[i].Policy // a rewrite keeps the key's policy
		}
		s.writes[i] = w
		return
	}
	s.wIdx[w.Key] = len(s.writes)
	s.writes = append(s.writes, w)
}

func (s *enclaveStub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

func (s *enclaveStub) SplitCompositeKey(compositeKey string) (string, []string, error) {
	// Any stub's SplitCompositeKey is pure; use the shim's implementation.
	return (&shim.ChaincodeStub{}).SplitCompositeKey(compositeKey)
}

func (s *enclaveStub) GetCreator() ([]byte, error) { return s.host.Creator() }

func (s *enclaveStub) GetSignedProposal() (*pb.SignedProposal, error) {
	p, sig, err := s.host.SignedProposal()
	if err != nil {
		return nil, err
	}
	return &pb.SignedProposal{ProposalBytes: p, Signature: sig}, nil
}

// GetTxTimestamp returns the timestamp of the signed proposal the enclave
// runs under (checked by the enclave, not told by the host).
func (s *enclaveStub) GetTxTimestamp() (*timestamp.Timestamp, error) {
	return &timestamp.Timestamp{Seconds: s.ts.Unix(), Nanos: int32(s.ts.Nanosecond())}, nil
}

// SetStateValidationParameter names the key-level endorsement policy (a
// Fabric validation parameter) that a key this transaction writes must
// carry: it goes with the key's write into the signed write set, and
// __endorse sets it on every endorsing peer when the write creates the key
// (never on an existing key: a key's policy is set once). Call it after
// the key's PutState; a later PutState of the key keeps it.
func (s *enclaveStub) SetStateValidationParameter(key string, ep []byte) error {
	i, ok := s.wIdx[key]
	// mutate:check enclave-policy-with-write
	if !ok || s.writes[i].Delete {
		return fmt.Errorf("key-level policy of %q: the key is not written by this transaction; name a key's policy with its write", key)
	}
	if len(ep) == 0 {
		return fmt.Errorf("key-level policy of %q: empty", key)
	}
	s.writes[i].Policy = append([]byte(nil), ep...)
	return nil
}

// Unsupported inside an enclave.

// GetStateValidationParameter is not offered: the host could answer
// anything; __endorse decides whether a key is created on each endorsing
// peer.
func (s *enclaveStub) GetStateValidationParameter(string) ([]byte, error) {
	return nil, errUnsupported("reading a key-level endorsement policy")
}
func (s *enclaveStub) GetStateByRange(string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("GetStateByRange (range queries)")
}
func (s *enclaveStub) GetStateByPartialCompositeKey(string, []string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("GetStateByPartialCompositeKey (range queries)")
}
func (s *enclaveStub) GetStateByRangeWithPagination(string, string, int32, string) (shim.StateQueryIteratorInterface, *pb.QueryResponseMetadata, error) {
	return nil, nil, errUnsupported("GetStateByRangeWithPagination (range queries)")
}
func (s *enclaveStub) GetStateByPartialCompositeKeyWithPagination(string, []string, int32, string) (shim.StateQueryIteratorInterface, *pb.QueryResponseMetadata, error) {
	return nil, nil, errUnsupported("GetStateByPartialCompositeKeyWithPagination (range queries)")
}
func (s *enclaveStub) GetQueryResult(string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("rich queries")
}
func (s *enclaveStub) GetQueryResultWithPagination(string, int32, string) (shim.StateQueryIteratorInterface, *pb.QueryResponseMetadata, error) {
	return nil, nil, errUnsupported("rich queries")
}
func (s *enclaveStub) GetHistoryForKey(string) (shim.HistoryQueryIteratorInterface, error) {
	return nil, errUnsupported("history queries")
}
func (s *enclaveStub) GetPrivateData(string, string) ([]byte, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) GetPrivateDataHash(string, string) ([]byte, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) PutPrivateData(string, string, []byte) error {
	return errUnsupported("private data")
}
func (s *enclaveStub) DelPrivateData(string, string) error   { return errUnsupported("private data") }
func (s *enclaveStub) PurgePrivateData(string, string) error { return errUnsupported("private data") }
func (s *enclaveStub) SetPrivateDataValidationParameter(string, string, []byte) error {
	return errUnsupported("private data")
}
func (s *enclaveStub) GetPrivateDataValidationParameter(string, string) ([]byte, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) GetPrivateDataByRange(string, string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) GetPrivateDataByPartialCompositeKey(string, string, []string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) GetPrivateDataQueryResult(string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported("private data")
}
func (s *enclaveStub) GetTransient() (map[string][]byte, error) {
	return nil, errUnsupported("transient data (requests are encrypted to the enclave instead)")
}
func (s *enclaveStub) GetBinding() ([]byte, error)       { return nil, errUnsupported("GetBinding") }
func (s *enclaveStub) GetDecorations() map[string][]byte { return nil }
func (s *enclaveStub) SetEvent(string, []byte) error     { return errUnsupported("chaincode events") }

// Fetch is the tunneling ocall: it returns content by id (an IPFS CID)
// through the untrusted host. Private chaincodes reach it through the
// Fetcher interface and must verify what it returns.
func (s *enclaveStub) Fetch(id string) ([]byte, error) { return s.host.Fetch(id) }

// Fetcher is implemented by the stub a private chaincode receives inside the
// enclave: stub.(runtime.Fetcher).Fetch(cid).
type Fetcher interface {
	Fetch(id string) ([]byte, error)
}

// Services are what the enclave offers the private chaincode it runs, beyond
// the FPC stub: the stub a chaincode receives inside the enclave implements
// it (stub.(runtime.Services)). Outside an enclave nothing implements it, so
// a chaincode that needs it cannot run unprotected by mistake.
type Services interface {
	Fetcher
	// EnclaveID is the enclave's id (upper-case hex SHA-256 of its verifying key).
	EnclaveID() string
	// ChaincodeName is the name of the chaincode the enclave serves.
	ChaincodeName() string
	// SignAsEnclave returns the enclave's ASN.1 ECDSA signature over SHA-256(msg).
	SignAsEnclave(msg []byte) ([]byte, error)
	// ChaincodeDecryptionKey is the private half of the chaincode encryption
	// key, to open data encrypted to the chaincode (log batches).
	ChaincodeDecryptionKey() *rsa.PrivateKey
	// DeployConfig is the deploy configuration the enclave was initialised
	// with and attested (its digest is the registered config_digest): the
	// CA roots the chaincode trusts and the chaincode names. Callers must
	// not modify it.
	DeployConfig() *deploycfg.Config
	// DeriveKey returns a 32-byte key derived from the enclave's sealed
	// state key: HKDF-SHA256 (RFC 5869) with the state key as input keying
	// material, no salt, and info = label || 0x00 || context. The same
	// enclave always derives the same key for the same label and context;
	// nobody without the state key can compute it. label must not be empty
	// and must not contain a NUL byte. The runtime derives no key itself.
	DeriveKey(label string, context []byte) ([]byte, error)
}

// services carries the enclave's secrets for one invocation.
type services struct {
	id        string
	chaincode string
	sign      *ecdsa.PrivateKey
	decrypt   *rsa.PrivateKey
	cfg       *deploycfg.Config
	stateKey  []byte
}

var _ Services = (*enclaveStub)(nil)

func (s *enclaveStub) EnclaveID() string     { return s.svc.id }
func (s *enclaveStub) ChaincodeName() string { return s.svc.chaincode }

func (s *enclaveStub) SignAsEnclave(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.svc.sign, sum[:])
}

func (s *enclaveStub) ChaincodeDecryptionKey() *rsa.PrivateKey { return s.svc.decrypt }

func (s *enclaveStub) DeployConfig() *deploycfg.Config { return s.svc.cfg }

func (s *enclaveStub) DeriveKey(label string, context []byte) ([]byte, error) {
	return deriveKey(s.svc.stateKey, label, context)
}

// deriveKey is HKDF-SHA256(secret, no salt, label || 0x00 || context), 32
// bytes.
func deriveKey(secret []byte, label string, context []byte) ([]byte, error) {
	if label == "" || strings.IndexByte(label, 0) >= 0 {
		return nil, fmt.Errorf("derive key: label %q must be non-empty and without NUL bytes", label)
	}
	if len(secret) != protocol.KeySize {
		return nil, errors.New("derive key: the enclave has no state key")
	}
	return hkdf.Key(sha256.New, secret, nil, label+"\x00"+string(context), protocol.KeySize)
}
