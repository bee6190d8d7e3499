package fabricfake

import (
	"errors"
	"fmt"
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
// own world state (namespace) and key history.
type World struct {
	// ChannelID is the channel name the stubs report.
	ChannelID string
	// Now is the timestamp of the next transaction; Step is added to it
	// after each transaction (default one second).
	Now  time.Time
	Step time.Duration
	// Events are the events of committed transactions, in order.
	Events []Event
	// Blocks are the committed transactions as a block shows them to every
	// channel member, in order; PrivateReads every GetPrivateData call.
	Blocks       []BlockTx
	PrivateReads []PrivateRead

	state      map[string]map[string][]byte
	history    map[string]map[string][]*queryresult.KeyModification
	chaincodes map[string]shim.Chaincode
	txCount    int
	private    worldPrivate
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
}

// OK reports whether the chaincode returned status 200.
func (r Result) OK() bool { return r.Status == shim.OK }

// NewWorld returns an empty world on channel "slasa" whose first
// transaction is timestamped 2026-01-01T00:00:00Z.
func NewWorld() *World {
	return &World{
		ChannelID:  "slasa",
		Now:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Step:       time.Second,
		state:      map[string]map[string][]byte{},
		history:    map[string]map[string][]*queryresult.KeyModification{},
		chaincodes: map[string]shim.Chaincode{},
	}
}

// Deploy installs a chaincode under name.
func (w *World) Deploy(name string, cc shim.Chaincode) { w.chaincodes[name] = cc }

// Submit runs a transaction: the chaincode's function with args, submitted
// by id. The writes of all chaincodes involved are committed only when the
// chaincode returns status 200.
func (w *World) Submit(id *Identity, chaincode, fn string, args ...string) Result {
	return w.run(id, chaincode, fn, args, true)
}

// Evaluate runs a query: like Submit, but nothing is committed.
func (w *World) Evaluate(id *Identity, chaincode, fn string, args ...string) Result {
	return w.run(id, chaincode, fn, args, false)
}

func (w *World) run(id *Identity, chaincode, fn string, args []string, commit bool) Result {
	return w.runCall(Call{ID: id, Chaincode: chaincode, Fn: fn, Args: args}, commit)
}

// State returns the committed value of key in a chaincode's namespace (nil
// when absent).
func (w *World) State(chaincode, key string) []byte { return w.state[chaincode][key] }

// Keys returns the committed keys of a chaincode's namespace, sorted.
func (w *World) Keys(chaincode string) []string {
	keys := make([]string, 0, len(w.state[chaincode]))
	for k := range w.state[chaincode] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// Put commits a value directly (test setup).
func (w *World) Put(chaincode, key string, value []byte) {
	if w.state[chaincode] == nil {
		w.state[chaincode] = map[string][]byte{}
	}
	w.state[chaincode][key] = append([]byte(nil), value...)
}

type write struct {
	value  []byte
	delete bool
}

// txShared is what the chaincodes of one transaction share.
type txShared struct {
	w        *World
	id       string
	ts       time.Time
	creator  []byte
	proposal *peer.SignedProposal
	writes   map[string]map[string]write
	event    *Event
	pvt      *txPrivate
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
		w:       w,
		id:      fmt.Sprintf("tx%06d", w.txCount),
		ts:      ts,
		creator: creator,
		writes:  map[string]map[string]write{},
		pvt:     newTxPrivate(id),
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

// PendingWrites returns the number of keys written or deleted so far by
// every chaincode of the transaction.
func (tx *Tx) PendingWrites() int {
	n := 0
	for _, m := range tx.shared.writes {
		n += len(m)
	}
	return n
}

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

// Commit applies the transaction's writes to the world and records the
// event and key history.
func (tx *Tx) Commit() {
	sh := tx.shared
	w := sh.w
	block := tx.blockTx()
	block.PrivateWrites = tx.commitPrivate()
	w.Blocks = append(w.Blocks, block)
	for _, ns := range sortedKeys(sh.writes) {
		for _, key := range sortedKeys(sh.writes[ns]) {
			wr := sh.writes[ns][key]
			if w.state[ns] == nil {
				w.state[ns] = map[string][]byte{}
			}
			if w.history[ns] == nil {
				w.history[ns] = map[string][]*queryresult.KeyModification{}
			}
			if wr.delete {
				delete(w.state[ns], key)
			} else {
				w.state[ns][key] = wr.value
			}
			w.history[ns][key] = append(w.history[ns][key], &queryresult.KeyModification{
				TxId: sh.id, Value: wr.value, Timestamp: timestamppb.New(sh.ts), IsDelete: wr.delete,
			})
		}
	}
	if sh.event != nil {
		w.Events = append(w.Events, *sh.event)
	}
	sh.writes = map[string]map[string]write{}
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
		it, _, err := tx.rangeQuery(start, end, 0, "")
		return it, err
	}
	s.GetStateByRangeWithPaginationStub = func(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		return tx.rangeQuery(start, end, pageSize, bookmark)
	}
	s.GetStateByPartialCompositeKeyStub = func(objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
		start, err := shim.CreateCompositeKey(objectType, keys)
		if err != nil {
			return nil, err
		}
		it, _, err := tx.rangeQuery(start, start+string(rune(utf8.MaxRune)), 0, "")
		return it, err
	}
	s.GetStateByPartialCompositeKeyWithPaginationStub = func(objectType string, keys []string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		start, err := shim.CreateCompositeKey(objectType, keys)
		if err != nil {
			return nil, nil, err
		}
		return tx.rangeQuery(start, start+string(rune(utf8.MaxRune)), pageSize, bookmark)
	}
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
	v := tx.shared.w.state[tx.ns][key]
	if v == nil {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

func (tx *Tx) putState(key string, value []byte) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if tx.shared.writes[tx.ns] == nil {
		tx.shared.writes[tx.ns] = map[string]write{}
	}
	tx.shared.writes[tx.ns][key] = write{value: append([]byte(nil), value...)}
	return nil
}

func (tx *Tx) delState(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if tx.shared.writes[tx.ns] == nil {
		tx.shared.writes[tx.ns] = map[string]write{}
	}
	tx.shared.writes[tx.ns][key] = write{delete: true}
	return nil
}

func (tx *Tx) rangeQuery(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if pageSize < 0 {
		return nil, nil, fmt.Errorf("page size %d is negative", pageSize)
	}
	from := start
	if bookmark != "" {
		if bookmark < start || (end != "" && bookmark >= end) {
			return nil, nil, fmt.Errorf("bookmark %q is outside the range", bookmark)
		}
		from = bookmark
	}
	var kvs []*queryresult.KV
	next := ""
	for _, k := range tx.shared.w.Keys(tx.ns) {
		if k < from || (end != "" && k >= end) {
			continue
		}
		if pageSize > 0 && int32(len(kvs)) == pageSize {
			next = k
			break
		}
		kvs = append(kvs, &queryresult.KV{Namespace: tx.ns, Key: k, Value: append([]byte(nil), tx.shared.w.state[tx.ns][k]...)})
	}
	return &StateIterator{items: kvs}, &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(kvs)), Bookmark: next}, nil
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

// StateIterator iterates over a fixed list of key-value pairs.
type StateIterator struct {
	items []*queryresult.KV
	next  int
}

// HasNext reports whether Next has another pair.
func (it *StateIterator) HasNext() bool { return it.next < len(it.items) }

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
