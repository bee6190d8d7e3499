package fpctest

import (
	"errors"
	"fmt"
	"sort"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/golang/protobuf/ptypes/timestamp"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	//lint:ignore SA1019 shimtest is the v1 shim's only stub double that drives InvokeChaincode between chaincodes
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/common"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"
)

// Ledger is the committed state of one chaincode on a channel, with
// Fabric's transaction semantics for unit tests of private chaincodes: a
// transaction is simulated against committed state (its writes are
// buffered, reads of its own writes see them), and Commit validates it as a
// peer does before applying it: every read must still have its version
// (MVCC), a key written with a committed validation parameter (key-level,
// state-based policy) is validated by that policy only, and any other write
// (a key's creation) by the chaincode-level policy. A validation parameter
// set in a transaction takes effect when it commits. A delete removes the
// key and its validation parameter, as in Fabric.
//
// Stub holds the committed state (Stub.State, Stub.EndorsementPolicies);
// chaincode-to-chaincode calls go to the chaincodes mocked on it
// (MockPeerChaincode). Invoking Stub directly (MockInvoke) runs the
// chaincode as the mock stub does, writing at once, unvalidated.
type Ledger struct {
	Stub *shimtest.MockStub
	// ChaincodePolicy decides whether the endorsing organizations satisfy
	// the chaincode-level endorsement policy.
	ChaincodePolicy func(orgs []string) bool

	rec      *recorder
	versions map[string]Version
	block    uint64
}

// Version is a committed key's version: the block and transaction that
// last wrote it.
type Version struct{ Block, Tx uint64 }

// KVRead is a key a transaction read with the version it saw (nil when
// the key did not exist).
type KVRead struct {
	Key     string
	Version *Version
}

// KVWrite is a key a transaction wrote or deleted.
type KVWrite struct {
	Key    string
	Value  []byte
	Delete bool
}

// MetadataWrite sets a key's validation parameter.
type MetadataWrite struct {
	Key    string
	Policy []byte
}

// Tx is one simulated transaction: its arguments, result and read/write
// set, in the order of first access.
type Tx struct {
	ID       string
	Args     [][]byte
	Response pb.Response
	Reads    []KVRead
	Writes   []KVWrite
	Metadata []MetadataWrite
	// Calls are the chaincodes it called (chaincode-to-chaincode).
	Calls []string
}

// Validation codes of Commit.
const (
	Valid                     = "VALID"
	EndorsementPolicyFailure  = "ENDORSEMENT_POLICY_FAILURE"
	MVCCReadConflict          = "MVCC_READ_CONFLICT"
	InvalidValidationParamErr = "INVALID_VALIDATION_PARAMETER"
)

// NewLedger runs cc on a new mock stub named name on channel.
func NewLedger(name, channel string, cc shim.Chaincode, ccPolicy func(orgs []string) bool) *Ledger {
	rec := &recorder{inner: cc}
	l := &Ledger{ChaincodePolicy: ccPolicy, rec: rec, versions: map[string]Version{}}
	l.Stub = shimtest.NewMockStub(name, rec)
	l.Stub.ChannelID = channel
	return l
}

// AnyOf returns a chaincode policy satisfied by n distinct organizations
// among orgs (OutOf(n, orgs' peers)).
func AnyOf(n int, orgs ...string) func([]string) bool {
	return func(endorsers []string) bool {
		k := 0
		for _, o := range orgs {
			for _, e := range endorsers {
				if e == o {
					k++
					break
				}
			}
		}
		return k >= n
	}
}

// Simulate runs the chaincode with args under txID as creator, with the
// signed proposal sp (nil: none), against committed state. Nothing is
// committed.
func (l *Ledger) Simulate(txID string, creator []byte, sp *pb.SignedProposal, args [][]byte) *Tx {
	tx := &Tx{ID: txID, Args: args}
	l.rec.ledger, l.rec.tx = l, tx
	defer func() { l.rec.tx = nil }()
	l.Stub.Creator = creator
	if sp == nil {
		tx.Response = l.Stub.MockInvoke(txID, args)
	} else {
		tx.Response = l.Stub.MockInvokeWithSignedProposal(txID, args, sp)
	}
	return tx
}

// Commit validates tx as endorsed by the peers of the organizations
// endorsers and applies it when valid; it returns the validation code.
func (l *Ledger) Commit(tx *Tx, endorsers []string) (string, error) {
	for _, r := range tx.Reads {
		cur, ok := l.versions[r.Key]
		if (r.Version == nil) != !ok || ok && *r.Version != cur {
			return MVCCReadConflict, nil
		}
	}
	ccChecked := false
	checkCC := func() bool {
		if ccChecked {
			return true
		}
		ccChecked = true
		return l.ChaincodePolicy(endorsers)
	}
	keys := map[string]bool{}
	for _, w := range tx.Writes {
		keys[w.Key] = true
	}
	for _, m := range tx.Metadata {
		keys[m.Key] = true
	}
	if len(keys) == 0 && !checkCC() {
		return EndorsementPolicyFailure, nil
	}
	for _, k := range sortedKeys(keys) {
		ep, err := l.Stub.GetStateValidationParameter(k)
		if err != nil {
			return "", err
		}
		if ep == nil {
			if !checkCC() {
				return EndorsementPolicyFailure, nil
			}
			continue
		}
		ok, err := SatisfiedByPeers(ep, endorsers)
		if err != nil {
			return InvalidValidationParamErr, nil
		}
		if !ok {
			return EndorsementPolicyFailure, nil
		}
	}
	l.block++
	l.Stub.MockTransactionStart(tx.ID)
	defer l.Stub.MockTransactionEnd(tx.ID)
	for _, w := range tx.Writes {
		var err error
		if w.Delete {
			err = l.Stub.DelState(w.Key)
			delete(l.versions, w.Key)
			if m := l.Stub.EndorsementPolicies[""]; m != nil {
				delete(m, w.Key)
			}
		} else {
			err = l.Stub.PutState(w.Key, w.Value)
			l.versions[w.Key] = Version{Block: l.block}
		}
		if err != nil {
			return "", err
		}
	}
	for _, m := range tx.Metadata {
		if err := l.Stub.SetStateValidationParameter(m.Key, m.Policy); err != nil {
			return "", err
		}
	}
	return Valid, nil
}

// Policy returns the committed validation parameter of key (nil: none).
func (l *Ledger) Policy(key string) []byte {
	ep, _ := l.Stub.GetStateValidationParameter(key)
	return ep
}

// KeyVersion returns the committed version of key.
func (l *Ledger) KeyVersion(key string) (Version, bool) {
	v, ok := l.versions[key]
	return v, ok
}

// SatisfiedByPeers evaluates a validation parameter (a marshalled
// common.SignaturePolicyEnvelope of NOutOf and SignedBy rules over MSP role
// principals) for endorsements by one peer of each organization in orgs: a
// peer satisfies the roles PEER and MEMBER of its MSP.
func SatisfiedByPeers(policy []byte, orgs []string) (bool, error) {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(policy, &env); err != nil {
		return false, fmt.Errorf("validation parameter: %w", err)
	}
	if env.Rule == nil {
		return false, errors.New("validation parameter: no rule")
	}
	sat := make([]bool, len(env.Identities))
	for i, p := range env.Identities {
		if p.PrincipalClassification != msp.MSPPrincipal_ROLE {
			return false, fmt.Errorf("validation parameter: principal %d is not an MSP role", i)
		}
		var role msp.MSPRole
		if err := proto.Unmarshal(p.Principal, &role); err != nil {
			return false, fmt.Errorf("validation parameter: principal %d: %w", i, err)
		}
		if role.Role != msp.MSPRole_PEER && role.Role != msp.MSPRole_MEMBER {
			continue
		}
		for _, o := range orgs {
			if o == role.MspIdentifier {
				sat[i] = true
			}
		}
	}
	return evalRule(env.Rule, sat)
}

// evalRule evaluates a rule over the principals the endorsements satisfy.
func evalRule(r *common.SignaturePolicy, sat []bool) (bool, error) {
	switch t := r.Type.(type) {
	case *common.SignaturePolicy_SignedBy:
		i := int(t.SignedBy)
		if i < 0 || i >= len(sat) {
			return false, fmt.Errorf("validation parameter: signed_by %d out of range", i)
		}
		return sat[i], nil
	case *common.SignaturePolicy_NOutOf_:
		n := 0
		for _, sub := range t.NOutOf.Rules {
			ok, err := evalRule(sub, sat)
			if err != nil {
				return false, err
			}
			if ok {
				n++
			}
		}
		return n >= int(t.NOutOf.N), nil
	default:
		return false, errors.New("validation parameter: unknown rule type")
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recorder is the chaincode the mock stub runs: it hands the wrapped
// chaincode a stub that records the transaction's read/write set.
type recorder struct {
	inner  shim.Chaincode
	ledger *Ledger
	tx     *Tx
}

func (r *recorder) Init(stub shim.ChaincodeStubInterface) pb.Response { return r.inner.Init(stub) }

func (r *recorder) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	if r.tx == nil {
		// Invoked on Stub directly (MockInvoke): writes apply at once.
		return r.inner.Invoke(stub)
	}
	return r.inner.Invoke(&txStub{ChaincodeStubInterface: stub, l: r.ledger, tx: r.tx,
		readIdx: map[string]bool{}, wIdx: map[string]int{}, mIdx: map[string]int{}})
}

// txStub buffers writes and records reads over the committed state.
type txStub struct {
	shim.ChaincodeStubInterface
	l       *Ledger
	tx      *Tx
	readIdx map[string]bool
	wIdx    map[string]int
	mIdx    map[string]int
}

func (s *txStub) GetState(key string) ([]byte, error) {
	if i, ok := s.wIdx[key]; ok {
		w := s.tx.Writes[i]
		if w.Delete {
			return nil, nil
		}
		return append([]byte(nil), w.Value...), nil
	}
	v, err := s.ChaincodeStubInterface.GetState(key)
	if err != nil {
		return nil, err
	}
	if !s.readIdx[key] {
		s.readIdx[key] = true
		r := KVRead{Key: key}
		if ver, ok := s.l.versions[key]; ok {
			r.Version = &ver
		}
		s.tx.Reads = append(s.tx.Reads, r)
	}
	return v, nil
}

func (s *txStub) setWrite(w KVWrite) {
	if i, ok := s.wIdx[w.Key]; ok {
		s.tx.Writes[i] = w
		return
	}
	s.wIdx[w.Key] = len(s.tx.Writes)
	s.tx.Writes = append(s.tx.Writes, w)
}

func (s *txStub) PutState(key string, value []byte) error {
	if key == "" {
		return errors.New("put state: empty key")
	}
	s.setWrite(KVWrite{Key: key, Value: append([]byte(nil), value...)})
	return nil
}

func (s *txStub) DelState(key string) error {
	s.setWrite(KVWrite{Key: key, Delete: true})
	return nil
}

func (s *txStub) SetStateValidationParameter(key string, ep []byte) error {
	m := MetadataWrite{Key: key, Policy: append([]byte(nil), ep...)}
	if i, ok := s.mIdx[key]; ok {
		s.tx.Metadata[i] = m
		return nil
	}
	s.mIdx[key] = len(s.tx.Metadata)
	s.tx.Metadata = append(s.tx.Metadata, m)
	return nil
}

func (s *txStub) GetStateValidationParameter(key string) ([]byte, error) {
	return s.ChaincodeStubInterface.GetStateValidationParameter(key)
}

// GetTxTimestamp returns the timestamp of the transaction's signed
// proposal, as a peer does (the mock stub's is the current time).
func (s *txStub) GetTxTimestamp() (*timestamp.Timestamp, error) {
	sp, err := s.GetSignedProposal()
	if err != nil || sp == nil || len(sp.ProposalBytes) == 0 {
		return s.ChaincodeStubInterface.GetTxTimestamp()
	}
	var prop pb.Proposal
	var hdr common.Header
	var ch common.ChannelHeader
	if proto.Unmarshal(sp.ProposalBytes, &prop) != nil || proto.Unmarshal(prop.Header, &hdr) != nil || proto.Unmarshal(hdr.ChannelHeader, &ch) != nil {
		return nil, errors.New("signed proposal: cannot decode the channel header")
	}
	if ch.Timestamp == nil {
		return nil, errors.New("signed proposal: no timestamp")
	}
	return ch.Timestamp, nil
}

func (s *txStub) InvokeChaincode(name string, args [][]byte, channel string) pb.Response {
	s.tx.Calls = append(s.tx.Calls, name)
	return s.ChaincodeStubInterface.InvokeChaincode(name, args, channel)
}
