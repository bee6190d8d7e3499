package fabricfake

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// World is an in-memory channel: chaincodes deployed by name, each with its
// own world state (namespace), key versions, key-level validation
// parameters and key history. Transactions are simulated against the
// committed state and committed in blocks, validated as a Fabric peer
// validates them (see Block).
type World struct {
	// ChannelID is the channel name the stubs report.
	ChannelID string
	// Now is the timestamp of the next transaction; Step is added to it
	// after each transaction (default one second).
	Now  time.Time
	Step time.Duration
	// Events are the events of committed transactions, in order.
	Events []Event
	// PeerOrgs are the organizations that run peers: the default
	// endorsement of a transaction is theirs. When empty, the default
	// endorsement satisfies every policy (as if the Gateway always found
	// the right peers).
	PeerOrgs []string
	// AllowPolicyUpdates lets a transaction set the validation parameter
	// of a key that is already committed (Fabric allows it, validated by
	// the key's current policy, and then invalidates every later write of
	// the key in the same block). When false (the default) the fake stub
	// refuses it, so that chaincodes set each key's policy once, at the
	// key's creation.
	AllowPolicyUpdates bool
	// Blocks are the committed valid transactions as a block shows them to
	// every channel member, in order; PrivateReads every GetPrivateData
	// call.
	Blocks       []BlockTx
	PrivateReads []PrivateRead

	state      map[string]map[string][]byte
	meta       map[string]map[string][]byte
	versions   map[string]map[string]Version
	history    map[string]map[string][]*queryresult.KeyModification
	chaincodes map[string]shim.Chaincode
	ccPolicy   map[string][]byte
	// sorted caches the sorted keys of each namespace (see keys).
	sorted   map[string][]string
	txCount  int
	blockNum uint64
	private  worldPrivate
}

// Version is the height (block and transaction number) of the transaction
// that last wrote a key.
type Version struct {
	Block, Tx uint64
}

// Event is a chaincode event of a committed transaction.
type Event struct {
	TxID      string
	Chaincode string
	Name      string
	Payload   []byte
}

// Result is the outcome of a transaction run through the world.
type Result struct {
	TxID    string
	Status  int32
	Message string
	Payload []byte
	// Event is the transaction's chaincode event (nil when none was set).
	Event *Event
	// Code is the validation code of a submitted transaction that was
	// committed (VALID for a query or a proposal the chaincode refused:
	// those are never submitted); Reason says why it is not VALID.
	Code   peer.TxValidationCode
	Reason string
	// Block is the number of the block that holds the transaction (0 when
	// it was not submitted).
	Block uint64
}

// OK reports whether the chaincode returned status 200 and, for a
// submitted transaction, the transaction was valid at commit.
func (r Result) OK() bool { return r.Status == shim.OK && r.Code == peer.TxValidationCode_VALID }

// NewWorld returns an empty world on channel "slasa" whose first
// transaction is timestamped 2026-01-01T00:00:00Z.
func NewWorld() *World {
	return &World{
		ChannelID:  "slasa",
		Now:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Step:       time.Second,
		state:      map[string]map[string][]byte{},
		meta:       map[string]map[string][]byte{},
		versions:   map[string]map[string]Version{},
		history:    map[string]map[string][]*queryresult.KeyModification{},
		chaincodes: map[string]shim.Chaincode{},
		ccPolicy:   map[string][]byte{},
		sorted:     map[string][]string{},
	}
}

// Deploy installs a chaincode under name.
func (w *World) Deploy(name string, cc shim.Chaincode) { w.chaincodes[name] = cc }

// SetEndorsementPolicy sets the chaincode-level endorsement policy of a
// chaincode (a marshalled common.SignaturePolicyEnvelope): it validates the
// writes of keys without a validation parameter (a key's creation among
// them). A chaincode without one accepts any endorsement.
func (w *World) SetEndorsementPolicy(chaincode string, policy []byte) {
	w.ccPolicy[chaincode] = append([]byte(nil), policy...)
}

// Submit runs a transaction: the chaincode's function with args, submitted
// by id and endorsed by the default organizations (see PeerOrgs). When the
// chaincode returns status 200 it is committed in a block of its own and
// validated (Result.Code); its writes are applied only when it is valid.
func (w *World) Submit(id *Identity, chaincode, fn string, args ...string) Result {
	return w.SubmitEndorsed(Endorsers{Every: true}, id, chaincode, fn, args...)
}

// SubmitEndorsed is Submit with the endorsements of the given
// organizations' peers (EndorsedBy) instead of the default ones.
func (w *World) SubmitEndorsed(e Endorsers, id *Identity, chaincode, fn string, args ...string) Result {
	b := w.NewBlock()
	b.SubmitEndorsed(e, id, chaincode, fn, args...)
	return b.Commit()[0]
}

// Evaluate runs a query: like Submit, but nothing is committed.
func (w *World) Evaluate(id *Identity, chaincode, fn string, args ...string) Result {
	res, _ := w.simulate(Call{ID: id, Chaincode: chaincode, Fn: fn, Args: args})
	return res
}

// simulate runs a proposal against the committed state on c's peer with c's
// transient data; it returns the transaction when the chaincode succeeded.
func (w *World) simulate(c Call) (Result, *Tx) {
	cc, ok := w.chaincodes[c.Chaincode]
	if !ok {
		return Result{Status: shim.ERROR, Message: fmt.Sprintf("chaincode %s is not deployed", c.Chaincode)}, nil
	}
	tx := w.NewTx(c.ID, c.Chaincode, append([]string{c.Fn}, c.Args...)...)
	if c.Peer != "" {
		tx.shared.pvt.peer = c.Peer
	}
	for k, v := range c.Transient {
		tx.shared.pvt.transient[k] = append([]byte(nil), v...)
	}
	restore := setLocalMSP(tx.shared.pvt.peer)
	resp := cc.Invoke(tx.Stub)
	restore()
	res := Result{TxID: tx.ID(), Status: resp.GetStatus(), Message: resp.GetMessage(), Payload: resp.GetPayload()}
	if res.Status != shim.OK {
		return res, nil
	}
	return res, tx
}

// State returns the committed value of key in a chaincode's namespace (nil
// when absent).
func (w *World) State(chaincode, key string) []byte { return w.state[chaincode][key] }

// Keys returns the committed keys of a chaincode's namespace, sorted (a
// copy).
func (w *World) Keys(chaincode string) []string { return slices.Clone(w.keys(chaincode)) }

// keys returns the cached sorted keys of a namespace, which commits keep
// up to date; callers must not keep it across a commit.
func (w *World) keys(chaincode string) []string {
	if keys, ok := w.sorted[chaincode]; ok {
		return keys
	}
	keys := make([]string, 0, len(w.state[chaincode]))
	for k := range w.state[chaincode] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.sorted[chaincode] = keys
	return keys
}

// keyAdded and keyRemoved keep the sorted keys of a namespace in step with
// its state, so that a range query after a commit seeks instead of sorting
// the namespace again.
func (w *World) keyAdded(ns, key string) {
	if keys, ok := w.sorted[ns]; ok {
		if i, found := slices.BinarySearch(keys, key); !found {
			w.sorted[ns] = slices.Insert(keys, i, key)
		}
	}
}

func (w *World) keyRemoved(ns, key string) {
	if keys, ok := w.sorted[ns]; ok {
		if i, found := slices.BinarySearch(keys, key); found {
			w.sorted[ns] = slices.Delete(keys, i, i+1)
		}
	}
}

// Snapshot returns a copy of every namespace's committed state, for
// asserting that a failed transaction changed nothing.
func (w *World) Snapshot() map[string]map[string]string {
	out := map[string]map[string]string{}
	for ns, kv := range w.state {
		m := map[string]string{}
		for k, v := range kv {
			m[k] = string(v)
		}
		out[ns] = m
	}
	return out
}

// Put commits a value directly (test setup), keeping the key's
// validation parameter. It counts as a write of the key for the MVCC
// check of transactions that read it before.
func (w *World) Put(chaincode, key string, value []byte) {
	if w.state[chaincode] == nil {
		w.state[chaincode] = map[string][]byte{}
		w.versions[chaincode] = map[string]Version{}
	}
	w.blockNum++
	if _, ok := w.state[chaincode][key]; !ok {
		w.keyAdded(chaincode, key)
	}
	w.state[chaincode][key] = append([]byte(nil), value...)
	w.versions[chaincode][key] = Version{Block: w.blockNum}
}

// ValidationParameter returns the committed validation parameter
// (key-level endorsement policy) of key in a chaincode's namespace (nil
// when it has none).
func (w *World) ValidationParameter(chaincode, key string) []byte { return w.meta[chaincode][key] }

// KeyVersion returns the committed version of key and whether it exists.
func (w *World) KeyVersion(chaincode, key string) (Version, bool) {
	v, ok := w.versions[chaincode][key]
	return v, ok
}

// BlockHeight returns the number of the last committed block.
func (w *World) BlockHeight() uint64 { return w.blockNum }

type write struct {
	value  []byte
	delete bool
}

// read is the version of a key a transaction read (exists false: absent).
type read struct {
	exists bool
	ver    Version
}

// rangeRead is a range query of a transaction with the keys and versions
// it returned, for the phantom check at commit.
type rangeRead struct {
	ns, start, end string
	keys           []string
	vers           []Version
	// exhausted is false when the chaincode stopped before the end of the
	// range (or a page ended): then only the keys up to the last one read
	// are checked, as Fabric does.
	exhausted bool
}

// txShared is what the chaincodes of one transaction share.
type txShared struct {
	w         *World
	id        string
	ts        time.Time
	creator   []byte
	proposal  *peer.SignedProposal
	writes    map[string]map[string]write
	meta      map[string]map[string][]byte
	reads     map[string]map[string]read
	ranges    []*rangeRead
	paginated bool
	wrote     bool
	event     *Event
	endorsers Endorsers
	pvt       *txPrivate
}

// Tx is one chaincode's view of a transaction; Stub is its fake stub.
type Tx struct {
	Stub   *ChaincodeStub
	shared *txShared
	ns     string
}

// NewTx starts a transaction of chaincode submitted by id with the given
// arguments (function name first). Use Context to call contract methods
// directly and Commit to apply the writes.
func (w *World) NewTx(id *Identity, chaincode string, args ...string) *Tx {
	w.txCount++
	ts := w.Now
	w.Now = w.Now.Add(w.Step)
	var creator []byte
	if id != nil {
		creator = id.Serialized()
	}
	sh := &txShared{
		w:         w,
		id:        fmt.Sprintf("tx%06d", w.txCount),
		ts:        ts,
		creator:   creator,
		writes:    map[string]map[string]write{},
		meta:      map[string]map[string][]byte{},
		reads:     map[string]map[string]read{},
		endorsers: Endorsers{Every: true},
		pvt:       newTxPrivate(id),
	}
	sh.proposal = signedProposal(w.ChannelID, sh.id, creator, chaincode, args)
	return newTx(sh, chaincode, args)
}

// ID returns the transaction id.
func (tx *Tx) ID() string { return tx.shared.id }

// Timestamp returns the transaction timestamp.
func (tx *Tx) Timestamp() time.Time { return tx.shared.ts }

// Event returns the event set by the top-level chaincode (nil when none).
func (tx *Tx) Event() *Event { return tx.shared.event }

// PendingWrites returns the number of keys written or deleted, or whose
// validation parameter was set, so far by every chaincode of the
// transaction.
func (tx *Tx) PendingWrites() int {
	n := 0
	for ns, m := range tx.shared.writes {
		n += len(m)
		for k := range tx.shared.meta[ns] {
			if _, ok := m[k]; !ok {
				n++
			}
		}
	}
	for ns, m := range tx.shared.meta {
		if _, ok := tx.shared.writes[ns]; !ok {
			n += len(m)
		}
	}
	return n
}

// EndorseBy makes the transaction carry the endorsements of the peers of
// orgs instead of the default ones.
func (tx *Tx) EndorseBy(orgs ...string) { tx.shared.endorsers = EndorsedBy(orgs...) }

// Context returns a counterfeiter transaction context whose stub is the
// fake stub and whose client identity is derived from the creator by the
// real cid package.
func (tx *Tx) Context() *TransactionContext {
	ctx := &TransactionContext{}
	ctx.GetStubReturns(tx.Stub)
	ci, err := cid.New(tx.Stub)
	if err == nil {
		ctx.GetClientIdentityReturns(ci)
	}
	return ctx
}

// Commit submits the transaction: it is committed in a block of its own and
// validated; its writes are applied only when it is valid. It returns the
// validation code.
func (tx *Tx) Commit() peer.TxValidationCode {
	b := tx.shared.w.NewBlock()
	b.add(tx, Result{TxID: tx.ID(), Status: shim.OK})
	return b.Commit()[0].Code
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func signedProposal(channel, txID string, creator []byte, chaincode string, args []string) *peer.SignedProposal {
	input := &peer.ChaincodeInput{}
	for _, a := range args {
		input.Args = append(input.Args, []byte(a))
	}
	cis, _ := proto.Marshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
		Type: peer.ChaincodeSpec_GOLANG, ChaincodeId: &peer.ChaincodeID{Name: chaincode}, Input: input,
	}})
	payload, _ := proto.Marshal(&peer.ChaincodeProposalPayload{Input: cis})
	chdr, _ := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: channel, TxId: txID})
	shdr, _ := proto.Marshal(&common.SignatureHeader{Creator: creator})
	hdr, _ := proto.Marshal(&common.Header{ChannelHeader: chdr, SignatureHeader: shdr})
	prop, _ := proto.Marshal(&peer.Proposal{Header: hdr, Payload: payload})
	return &peer.SignedProposal{ProposalBytes: prop, Signature: []byte("fake-signature")}
}

func newTx(sh *txShared, ns string, args []string) *Tx {
	tx := &Tx{Stub: &ChaincodeStub{}, shared: sh, ns: ns}
	s := tx.Stub
	byteArgs := make([][]byte, len(args))
	for i, a := range args {
		byteArgs[i] = []byte(a)
	}
	s.GetArgsReturns(byteArgs)
	s.GetStringArgsReturns(args)
	if len(args) > 0 {
		s.GetFunctionAndParametersReturns(args[0], args[1:])
	} else {
		s.GetFunctionAndParametersReturns("", nil)
	}
	s.GetTxIDReturns(sh.id)
	s.GetChannelIDReturns(sh.w.ChannelID)
	s.GetCreatorReturns(sh.creator, nil)
	s.GetSignedProposalReturns(sh.proposal, nil)
	s.GetTxTimestampReturns(timestamppb.New(sh.ts), nil)
	s.GetTransientReturns(map[string][]byte{}, nil)
	s.GetDecorationsReturns(map[string][]byte{})
	s.CreateCompositeKeyStub = shim.CreateCompositeKey
	s.SplitCompositeKeyStub = splitCompositeKey
	s.GetStateStub = tx.getState
	s.PutStateStub = tx.putState
	s.DelStateStub = tx.delState
	s.GetStateByRangeStub = func(start, end string) (shim.StateQueryIteratorInterface, error) {
		if err := validateSimpleKeys(start, end); err != nil {
			return nil, err
		}
		it, _, err := tx.rangeQuery(start, end, 0, "", false)
		return it, err
	}
	s.GetStateByRangeWithPaginationStub = func(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		if err := validateSimpleKeys(start, end); err != nil {
			return nil, nil, err
		}
		return tx.rangeQuery(start, end, pageSize, bookmark, true)
	}
	s.GetStateByPartialCompositeKeyStub = func(objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
		start, err := shim.CreateCompositeKey(objectType, keys)
		if err != nil {
			return nil, err
		}
		it, _, err := tx.rangeQuery(start, start+string(rune(utf8.MaxRune)), 0, "", false)
		return it, err
	}
	s.GetStateByPartialCompositeKeyWithPaginationStub = func(objectType string, keys []string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		start, err := shim.CreateCompositeKey(objectType, keys)
		if err != nil {
			return nil, nil, err
		}
		return tx.rangeQuery(start, start+string(rune(utf8.MaxRune)), pageSize, bookmark, true)
	}
	s.GetStateValidationParameterStub = tx.getValidationParameter
	s.SetStateValidationParameterStub = tx.setValidationParameter
	s.GetHistoryForKeyStub = tx.history
	s.SetEventStub = tx.setEvent
	s.InvokeChaincodeStub = tx.invoke
	tx.wirePrivate()
	return tx
}

func (tx *Tx) getState(key string) ([]byte, error) {
	if key == "" {
		return nil, errors.New("key must not be an empty string")
	}
	tx.recordRead(key)
	v := tx.shared.w.state[tx.ns][key]
	if v == nil {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

// recordRead adds the committed version of key to the read set (once: the
// first read counts, as in Fabric).
func (tx *Tx) recordRead(key string) {
	sh := tx.shared
	if sh.reads[tx.ns] == nil {
		sh.reads[tx.ns] = map[string]read{}
	}
	if _, ok := sh.reads[tx.ns][key]; ok {
		return
	}
	v, ok := sh.w.versions[tx.ns][key]
	sh.reads[tx.ns][key] = read{exists: ok, ver: v}
}

// checkWrite refuses a write after a paginated query, as Fabric's
// transaction simulator does.
func (tx *Tx) checkWrite(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if tx.shared.paginated {
		return fmt.Errorf("txid [%s]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed", tx.shared.id)
	}
	tx.shared.wrote = true
	return nil
}

func (tx *Tx) putState(key string, value []byte) error {
	if err := tx.checkWrite(key); err != nil {
		return err
	}
	if tx.shared.writes[tx.ns] == nil {
		tx.shared.writes[tx.ns] = map[string]write{}
	}
	tx.shared.writes[tx.ns][key] = write{value: append([]byte(nil), value...)}
	return nil
}

func (tx *Tx) delState(key string) error {
	if err := tx.checkWrite(key); err != nil {
		return err
	}
	if tx.shared.writes[tx.ns] == nil {
		tx.shared.writes[tx.ns] = map[string]write{}
	}
	tx.shared.writes[tx.ns][key] = write{delete: true}
	return nil
}

// getValidationParameter returns the committed validation parameter of key
// (no read of the transaction's own writes) and adds key to the read set,
// as Fabric's GetStateMetadata does.
func (tx *Tx) getValidationParameter(key string) ([]byte, error) {
	if key == "" {
		return nil, errors.New("key must not be an empty string")
	}
	tx.recordRead(key)
	v := tx.shared.w.meta[tx.ns][key]
	if v == nil {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

// setValidationParameter records a metadata write of key's validation
// parameter. The parameter must decode as a signature policy envelope; a
// committed key's parameter is refused unless AllowPolicyUpdates.
func (tx *Tx) setValidationParameter(key string, ep []byte) error {
	if err := tx.checkWrite(key); err != nil {
		return err
	}
	if _, err := parsePolicy(ep); err != nil {
		return fmt.Errorf("fabricfake: validation parameter of key %q: %w", key, err)
	}
	w := tx.shared.w
	if _, exists := w.versions[tx.ns][key]; exists && !w.AllowPolicyUpdates {
		return fmt.Errorf("fabricfake: SetStateValidationParameter(%q): the key is committed already (policy %s); set a key's policy once, when it is created (Fabric invalidates every other write of the key in the same block)",
			key, describeOrNone(w.meta[tx.ns][key]))
	}
	if tx.shared.meta[tx.ns] == nil {
		tx.shared.meta[tx.ns] = map[string][]byte{}
	}
	tx.shared.meta[tx.ns][key] = append([]byte(nil), ep...)
	return nil
}

func describeOrNone(raw []byte) string {
	if raw == nil {
		return "none"
	}
	return DescribePolicy(raw)
}

func (tx *Tx) rangeQuery(start, end string, pageSize int32, bookmark string, paginated bool) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if pageSize < 0 {
		return nil, nil, fmt.Errorf("page size %d is negative", pageSize)
	}
	if paginated {
		if tx.shared.wrote {
			return nil, nil, fmt.Errorf("txid [%s]: unsuppored transaction. Paginated queries are supported only in a read-only transaction", tx.shared.id)
		}
		tx.shared.paginated = true
	}
	from := start
	if bookmark != "" {
		if bookmark < start || (end != "" && bookmark >= end) {
			return nil, nil, fmt.Errorf("bookmark %q is outside the range", bookmark)
		}
		from = bookmark
	}
	var kvs []*queryresult.KV
	var vers []Version
	next := ""
	// Seek to the range's first key, as the peer's state database does:
	// a query costs what it returns, not the size of the namespace.
	keys := tx.shared.w.keys(tx.ns)
	for _, k := range keys[sort.SearchStrings(keys, from):] {
		if end != "" && k >= end {
			break
		}
		if pageSize > 0 && int32(len(kvs)) == pageSize {
			next = k
			break
		}
		kvs = append(kvs, &queryresult.KV{Namespace: tx.ns, Key: k, Value: append([]byte(nil), tx.shared.w.state[tx.ns][k]...)})
		vers = append(vers, tx.shared.w.versions[tx.ns][k])
	}
	it := &StateIterator{items: kvs, vers: vers, rr: &rangeRead{ns: tx.ns, start: from, end: end}, paged: pageSize > 0}
	tx.shared.ranges = append(tx.shared.ranges, it.rr)
	it.fetch()
	return it, &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(kvs)), Bookmark: next}, nil
}

func (tx *Tx) history(key string) (shim.HistoryQueryIteratorInterface, error) {
	h := tx.shared.w.history[tx.ns][key]
	// Fabric returns the newest modification first.
	items := make([]*queryresult.KeyModification, 0, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		items = append(items, h[i])
	}
	return &HistoryIterator{items: items}, nil
}

func (tx *Tx) setEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	ev := &Event{TxID: tx.shared.id, Chaincode: tx.ns, Name: name, Payload: append([]byte(nil), payload...)}
	if tx.Stub != nil && tx.isTop() {
		tx.shared.event = ev
	}
	return nil
}

// isTop reports whether tx is the top-level chaincode of the transaction:
// events set by a called chaincode are not delivered by Fabric.
func (tx *Tx) isTop() bool {
	name, _ := proposalChaincode(tx.shared.proposal)
	return name == tx.ns
}

func proposalChaincode(sp *peer.SignedProposal) (string, error) {
	var prop peer.Proposal
	if err := proto.Unmarshal(sp.ProposalBytes, &prop); err != nil {
		return "", err
	}
	var pl peer.ChaincodeProposalPayload
	if err := proto.Unmarshal(prop.Payload, &pl); err != nil {
		return "", err
	}
	var cis peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(pl.Input, &cis); err != nil {
		return "", err
	}
	return cis.GetChaincodeSpec().GetChaincodeId().GetName(), nil
}

func (tx *Tx) invoke(name string, args [][]byte, channel string) *peer.Response {
	if channel != "" && channel != tx.shared.w.ChannelID {
		return shim.Error(fmt.Sprintf("channel %s is not known", channel))
	}
	cc, ok := tx.shared.w.chaincodes[name]
	if !ok {
		return shim.Error(fmt.Sprintf("chaincode %s is not deployed", name))
	}
	strArgs := make([]string, len(args))
	for i, a := range args {
		strArgs[i] = string(a)
	}
	child := newTx(tx.shared, name, strArgs)
	return cc.Invoke(child.Stub)
}

// validateSimpleKeys refuses composite keys in a range query over simple
// keys, as the shim does.
func validateSimpleKeys(keys ...string) error {
	for _, key := range keys {
		if len(key) > 0 && key[0] == 0 {
			return fmt.Errorf(`first character of the key [%s] contains a null character which is not allowed`, key)
		}
	}
	return nil
}

func splitCompositeKey(key string) (string, []string, error) {
	const sep = "\x00"
	if !strings.HasPrefix(key, sep) {
		return "", nil, fmt.Errorf("%q is not a composite key", key)
	}
	parts := strings.Split(key[1:], sep)
	if len(parts) < 2 || parts[len(parts)-1] != "" {
		return "", nil, fmt.Errorf("%q is not a composite key", key)
	}
	parts = parts[:len(parts)-1]
	return parts[0], parts[1:], nil
}

// QueryBatch is the number of results a peer sends a chaincode per batch
// of a range query (core/chaincode QueryResponseGenerator.MaxResultLimit).
const QueryBatch = 100

// StateIterator iterates over a fixed list of key-value pairs. The keys
// the peer read go into the transaction's read set (the range query's
// results), as a Fabric peer reads them: a batch of QueryBatch results plus
// the next one, fetched when the range query starts and each time the
// chaincode has consumed a batch and asks for more; the query counts as
// exhausted when the peer reached its end.
type StateIterator struct {
	items   []*queryresult.KV
	vers    []Version
	next    int
	batches int
	rr      *rangeRead
	paged   bool
}

// fetch reads one more batch into the read set.
func (it *StateIterator) fetch() {
	if it.rr == nil {
		return
	}
	it.batches++
	n := QueryBatch*it.batches + 1
	exhausted := len(it.items) <= QueryBatch*it.batches
	if it.paged { // a page is read whole; it ends the read there
		n, exhausted = len(it.items), false
	}
	n = min(n, len(it.items))
	it.rr.keys, it.rr.vers = it.rr.keys[:0], it.rr.vers[:0]
	for i := 0; i < n; i++ {
		it.rr.keys = append(it.rr.keys, it.items[i].Key)
		it.rr.vers = append(it.rr.vers, it.vers[i])
	}
	it.rr.exhausted = exhausted
}

// HasNext reports whether Next has another pair.
func (it *StateIterator) HasNext() bool {
	if it.next < len(it.items) && it.rr != nil && !it.paged && it.next == QueryBatch*it.batches {
		it.fetch()
	}
	return it.next < len(it.items)
}

// Next returns the next pair.
func (it *StateIterator) Next() (*queryresult.KV, error) {
	if !it.HasNext() {
		return nil, errors.New("no more items")
	}
	it.next++
	return it.items[it.next-1], nil
}

// Close does nothing.
func (it *StateIterator) Close() error { return nil }

// HistoryIterator iterates over a fixed list of key modifications.
type HistoryIterator struct {
	items []*queryresult.KeyModification
	next  int
}

// HasNext reports whether Next has another modification.
func (it *HistoryIterator) HasNext() bool { return it.next < len(it.items) }

// Next returns the next modification.
func (it *HistoryIterator) Next() (*queryresult.KeyModification, error) {
	if !it.HasNext() {
		return nil, errors.New("no more items")
	}
	it.next++
	return it.items[it.next-1], nil
}

// Close does nothing.
func (it *HistoryIterator) Close() error { return nil }

// ChaincodeFor returns the chaincode deployed under name (nil when none).
func (w *World) ChaincodeFor(name string) shim.Chaincode { return w.chaincodes[name] }

// NewCalledTx starts a transaction whose proposal invokes chaincode top and
// returns the view of chaincode ns called from it (as by InvokeChaincode),
// for calling a called chaincode's methods directly.
func (w *World) NewCalledTx(id *Identity, top, ns string, args ...string) *Tx {
	tx := w.NewTx(id, top, args...)
	return newTx(tx.shared, ns, args)
}
