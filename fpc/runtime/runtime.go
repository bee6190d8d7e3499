package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	"github.com/hyperledger/fabric-protos-go/common"
	pb "github.com/hyperledger/fabric-protos-go/peer"
	"github.com/hyperledger/fabric-protos-go/peer/lifecycle"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/skew"
	"github.com/slasa/slasa/internal/strictjson"
)

// endorsedPrefix keys the record of each __invoke transaction whose response
// was endorsed, so that a response cannot be applied twice.
const endorsedPrefix = "\x00fpc.endorsed\x00"

// ContentFetcher fetches content by id for the enclave (the tunneling shim).
type ContentFetcher func(id string) ([]byte, error)

// PrivateChaincode is a shim.Chaincode that serves FPC's entry points for an
// Enclave.
type PrivateChaincode struct {
	enclave Enclave
	cfg     *deploycfg.Config
	digest  string
	fetch   ContentFetcher
	maxSkew time.Duration
	now     func() time.Time
}

// Option configures a PrivateChaincode.
type Option func(*PrivateChaincode)

// WithConfig sets this organization's deploy configuration (required): the
// enclave is initialised with it, the enclave registry is its
// chaincodes.registry, and __endorse accepts only an enclave registered with
// its digest.
func WithConfig(cfg *deploycfg.Config) Option { return func(p *PrivateChaincode) { p.cfg = cfg } }

// WithFetcher sets the tunneling ocall used by Fetch inside the enclave.
func WithFetcher(f ContentFetcher) Option { return func(p *PrivateChaincode) { p.fetch = f } }

// WithMaxSkew sets the largest accepted difference between a transaction's
// timestamp and this peer's clock (default skew.Default, 5 minutes).
func WithMaxSkew(d time.Duration) Option { return func(p *PrivateChaincode) { p.maxSkew = d } }

// WithClock replaces this peer's clock (tests).
func WithClock(now func() time.Time) Option { return func(p *PrivateChaincode) { p.now = now } }

// NewPrivateChaincode wraps an enclave into a chaincode. WithConfig is
// required and its configuration must be valid.
func NewPrivateChaincode(e Enclave, opts ...Option) (*PrivateChaincode, error) {
	p := &PrivateChaincode{enclave: e, maxSkew: skew.Default, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	if p.cfg == nil {
		return nil, fmt.Errorf("deploy configuration: none given (set %s or -config)", deploycfg.EnvFile)
	}
	cfg := *p.cfg
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	cfg.Normalize()
	digest, err := cfg.Digest()
	if err != nil {
		return nil, err
	}
	if err := skew.Validate(p.maxSkew); err != nil {
		return nil, err
	}
	p.cfg, p.digest = &cfg, digest
	// An enclave that can resume from keys sealed to this configuration by an earlier process (a restarted
	// chaincode server) is ready at once, without a new __initEnclave.
	if r, ok := e.(interface {
		Resume(*deploycfg.Config) (bool, error)
	}); ok {
		if _, err := r.Resume(p.cfg); err != nil {
			return nil, fmt.Errorf("resume the enclave from its sealed keys: %w", err)
		}
	}
	return p, nil
}

// ConfigDigest returns the digest of the chaincode's deploy configuration.
func (p *PrivateChaincode) ConfigDigest() string { return p.digest }

// Init does nothing: an enclave is initialised with __initEnclave.
func (p *PrivateChaincode) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

// Invoke dispatches FPC's entry points.
func (p *PrivateChaincode) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	fn, args := stub.GetFunctionAndParameters()
	var (
		payload []byte
		err     error
	)
	switch fn {
	case protocol.FnInitEnclave:
		payload, err = p.initEnclave(stub, args)
	case protocol.FnInvoke:
		payload, err = p.invoke(stub, args)
	case protocol.FnEndorse:
		payload, err = p.endorse(stub, args)
	default:
		err = fmt.Errorf("function %q: a private chaincode is called through %s (encrypted) and %s", fn, protocol.FnInvoke, protocol.FnEndorse)
	}
	if err != nil {
		return shim.Error(fmt.Sprintf("%s: %v", fn, err))
	}
	return shim.Success(payload)
}

// HostParams are the arguments of __initEnclave.
type HostParams struct {
	PeerMSPID string `json:"peer_msp_id"`
	Endpoint  string `json:"endpoint"`
}

func (p *PrivateChaincode) initEnclave(stub shim.ChaincodeStubInterface, args []string) ([]byte, error) {
	if len(args) != 1 {
		return nil, errors.New("takes one argument: host parameters JSON {peer_msp_id, endpoint}")
	}
	var hp HostParams
	if err := strictjson.Unmarshal([]byte(args[0]), &hp); err != nil {
		return nil, fmt.Errorf("host parameters: %w", err)
	}
	if hp.PeerMSPID != p.cfg.Enclave.HostMSPID {
		return nil, fmt.Errorf("host parameters: peer_msp_id %q is not the enclave host %q of the deploy configuration", hp.PeerMSPID, p.cfg.Enclave.HostMSPID)
	}
	name, err := ownName(stub)
	if err != nil {
		return nil, err
	}
	def, err := queryDefinition(stub, name)
	if err != nil {
		return nil, err
	}
	creds, err := p.enclave.Init(InitParams{Channel: stub.GetChannelID(), Chaincode: name, ChaincodeVersion: def.Version,
		ChaincodeSequence: def.Sequence, PeerMSPID: hp.PeerMSPID, Endpoint: hp.Endpoint, Config: p.cfg})
	if err != nil {
		return nil, err
	}
	return json.Marshal(creds)
}

func (p *PrivateChaincode) invoke(stub shim.ChaincodeStubInterface, args []string) ([]byte, error) {
	ts, err := txTimestamp(stub)
	if err != nil {
		return nil, err
	}
	// mutate:check invoke-skew
	if err := skew.Check(ts, p.now(), p.maxSkew); err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, errors.New("takes one argument: the encrypted request message")
	}
	var msg protocol.RequestMessage
	if err := strictjson.Unmarshal([]byte(args[0]), &msg); err != nil {
		return nil, fmt.Errorf("request message: %w", err)
	}
	// The enclave re-checks that the proposal carries exactly this message.
	canonical, err := json.Marshal(&msg)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canonical, []byte(args[0])) {
		return nil, errors.New("request message: not in canonical encoding")
	}
	sr, err := p.enclave.Invoke(&stubHost{stub: stub, fetch: p.fetch}, &msg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sr)
}

// endorse runs on every endorsing peer: it verifies the enclave's signed
// response against the registry and this peer's configuration and clock,
// and applies the write set.
func (p *PrivateChaincode) endorse(stub shim.ChaincodeStubInterface, args []string) ([]byte, error) {
	now := p.now()
	ts, err := txTimestamp(stub)
	if err != nil {
		return nil, err
	}
	// mutate:check endorse-skew
	if err := skew.Check(ts, now, p.maxSkew); err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, errors.New("takes one argument: the enclave's signed response")
	}
	var sr protocol.SignedResponse
	if err := strictjson.Unmarshal([]byte(args[0]), &sr); err != nil {
		return nil, fmt.Errorf("signed response: %w", err)
	}
	name, err := ownName(stub)
	if err != nil {
		return nil, err
	}
	rec, err := p.lookupEnclave(stub, name)
	if err != nil {
		return nil, err
	}
	// mutate:check endorse-config-digest
	if rec.ConfigDigest != p.digest {
		return nil, fmt.Errorf("registered enclave %s was initialised with deploy configuration %s, not this peer's %s; this organization does not endorse its responses",
			rec.EnclaveID, rec.ConfigDigest, p.digest)
	}
	vk, err := rec.VerifyingKey()
	if err != nil {
		return nil, fmt.Errorf("registered enclave: %w", err)
	}
	resp, err := protocol.VerifyResponse(&sr, vk)
	// mutate:check endorse-signature
	if err != nil {
		return nil, err
	}
	// mutate:check endorse-enclave-id
	if resp.EnclaveID != rec.EnclaveID {
		return nil, fmt.Errorf("response: enclave %s is not the registered enclave %s", resp.EnclaveID, rec.EnclaveID)
	}
	info, err := parseProposal(resp.Proposal)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	// mutate:check endorse-binding
	if info.ChannelID != stub.GetChannelID() || info.Chaincode != name {
		return nil, fmt.Errorf("response: ran for chaincode %q on channel %q, not %q on %q", info.Chaincode, info.ChannelID, name, stub.GetChannelID())
	}
	// mutate:check endorse-proposal-skew
	if err := skew.Check(info.Timestamp, now, p.maxSkew); err != nil {
		return nil, fmt.Errorf("response: the enclave ran the request under the proposal's timestamp: %w", err)
	}
	creator, err := stub.GetCreator()
	if err != nil {
		return nil, fmt.Errorf("creator: %w", err)
	}
	// mutate:check endorse-creator
	if !bytes.Equal(creator, info.Creator) {
		return nil, errors.New("response: the request was made by another identity; only its requester can submit it")
	}
	replayKey := endorsedPrefix + info.TxID
	seen, err := stub.GetState(replayKey)
	if err != nil {
		return nil, fmt.Errorf("read replay record: %w", err)
	}
	// mutate:check endorse-replay
	if seen != nil {
		return nil, fmt.Errorf("response to request %s was already endorsed (replay)", info.TxID)
	}
	for _, r := range resp.RWSet.Reads {
		cur, err := stub.GetState(r.Key)
		if err != nil {
			return nil, fmt.Errorf("re-read %q: %w", r.Key, err)
		}
		stored := protocol.HashStored(cur)
		// mutate:check endorse-read-set
		if stored.Absent != r.Absent || stored.Hash != r.Hash {
			return nil, fmt.Errorf("state %q changed since the enclave read it; re-run the request", r.Key)
		}
	}
	for _, w := range resp.RWSet.Writes {
		// mutate:check endorse-reserved-key
		if w.Key == "" || strings.HasPrefix(w.Key, endorsedPrefix) {
			return nil, fmt.Errorf("write set: key %q is reserved", w.Key)
		}
		if err := applyWrite(stub, w); err != nil {
			return nil, err
		}
	}
	if err := stub.PutState(replayKey, []byte(stub.GetTxID())); err != nil {
		return nil, fmt.Errorf("record endorsement: %w", err)
	}
	// The submitter gets the encrypted result back in the transaction's
	// response; only it holds the key.
	return resp.EncryptedResult, nil
}

// applyWrite applies one write of a verified response. A write that names
// a key-level policy sets it (SetStateValidationParameter) only when the
// write creates the key, which the peer learns by reading the key: a key's
// policy is set once, at its creation, and never again (setting it again
// would invalidate the other writes of the key in the same block, and
// would let whoever satisfies the chaincode policy rewrite it). A key that
// exists keeps the policy it has, if any.
func applyWrite(stub shim.ChaincodeStubInterface, w protocol.Write) error {
	if w.Delete {
		// mutate:check endorse-delete-policy
		if len(w.Policy) != 0 {
			return fmt.Errorf("write set: key %q is deleted and names a key-level policy; a delete removes the key's policy", w.Key)
		}
		if err := stub.DelState(w.Key); err != nil {
			return fmt.Errorf("apply write %q: %w", w.Key, err)
		}
		return nil
	}
	created := false
	if len(w.Policy) != 0 {
		// mutate:check endorse-policy-envelope
		if err := checkPolicy(w.Policy); err != nil {
			return fmt.Errorf("write set: key %q: key-level policy: %w", w.Key, err)
		}
		cur, err := stub.GetState(w.Key)
		if err != nil {
			return fmt.Errorf("read %q: %w", w.Key, err)
		}
		created = cur == nil
	}
	if err := stub.PutState(w.Key, w.Value); err != nil {
		return fmt.Errorf("apply write %q: %w", w.Key, err)
	}
	// mutate:check endorse-policy-at-creation
	if created {
		if err := stub.SetStateValidationParameter(w.Key, w.Policy); err != nil {
			return fmt.Errorf("set the key-level policy of %q: %w", w.Key, err)
		}
	}
	return nil
}

// checkPolicy checks that a validation parameter is a signature policy
// envelope with a rule and principals.
func checkPolicy(ep []byte) error {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(ep, &env); err != nil {
		return fmt.Errorf("not a signature policy envelope: %w", err)
	}
	if env.Rule == nil || len(env.Identities) == 0 {
		return errors.New("not a signature policy envelope: no rule or no principal")
	}
	return nil
}

func (p *PrivateChaincode) lookupEnclave(stub shim.ChaincodeStubInterface, name string) (*credentials.Record, error) {
	registry := p.cfg.Chaincodes.Registry
	resp := stub.InvokeChaincode(registry, [][]byte{[]byte("QueryEnclave"), []byte(name)}, stub.GetChannelID())
	if resp.Status != shim.OK {
		return nil, fmt.Errorf("enclave registry %q: %s", registry, resp.Message)
	}
	var rec credentials.Record
	if err := json.Unmarshal(resp.Payload, &rec); err != nil {
		return nil, fmt.Errorf("enclave registry %q: decode record: %w", registry, err)
	}
	return &rec, nil
}

// ownName reads this chaincode's name from the transaction's proposal.
func ownName(stub shim.ChaincodeStubInterface) (string, error) {
	sp, err := stub.GetSignedProposal()
	if err != nil {
		return "", fmt.Errorf("signed proposal: %w", err)
	}
	info, err := parseProposal(sp.ProposalBytes)
	if err != nil {
		return "", err
	}
	if info.Chaincode == "" {
		return "", errors.New("proposal names no chaincode")
	}
	return info.Chaincode, nil
}

// txTimestamp reads the transaction timestamp.
func txTimestamp(stub shim.ChaincodeStubInterface) (time.Time, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("transaction timestamp: %w", err)
	}
	if ts == nil {
		return time.Time{}, errors.New("transaction timestamp: none")
	}
	return time.Unix(ts.Seconds, int64(ts.Nanos)).UTC(), nil
}

func queryDefinition(stub shim.ChaincodeStubInterface, name string) (*lifecycle.QueryChaincodeDefinitionResult, error) {
	args, err := proto.Marshal(&lifecycle.QueryChaincodeDefinitionArgs{Name: name})
	if err != nil {
		return nil, err
	}
	resp := stub.InvokeChaincode("_lifecycle", [][]byte{[]byte("QueryChaincodeDefinition"), args}, stub.GetChannelID())
	if resp.Status != shim.OK {
		return nil, fmt.Errorf("chaincode definition of %q: %s", name, resp.Message)
	}
	var def lifecycle.QueryChaincodeDefinitionResult
	if err := proto.Unmarshal(resp.Payload, &def); err != nil {
		return nil, fmt.Errorf("chaincode definition of %q: %w", name, err)
	}
	return &def, nil
}

// stubHost is the Host of one invocation, backed by the peer's stub.
type stubHost struct {
	stub  shim.ChaincodeStubInterface
	fetch ContentFetcher
}

func (h *stubHost) GetState(key string) ([]byte, error) {
	if strings.HasPrefix(key, endorsedPrefix) {
		return nil, fmt.Errorf("key %q is reserved", key)
	}
	return h.stub.GetState(key)
}

func (h *stubHost) TxID() string             { return h.stub.GetTxID() }
func (h *stubHost) ChannelID() string        { return h.stub.GetChannelID() }
func (h *stubHost) Creator() ([]byte, error) { return h.stub.GetCreator() }

func (h *stubHost) SignedProposal() ([]byte, []byte, error) {
	sp, err := h.stub.GetSignedProposal()
	if err != nil {
		return nil, nil, err
	}
	if sp == nil {
		return nil, nil, errors.New("no signed proposal")
	}
	return sp.ProposalBytes, sp.Signature, nil
}

func (h *stubHost) Fetch(id string) ([]byte, error) {
	if h.fetch == nil {
		return nil, errors.New("no tunneling shim is configured for this enclave host")
	}
	return h.fetch(id)
}
