package fabricfake

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
)

// Implicit organization collections, transient data and the organization of
// the peer that runs a transaction.
//
// Fabric gives every organization of a channel an implicit private data
// collection, "_implicit_org_<MSP ID>", that needs no configuration. The
// World models what the chaincodes see of them on the native network
// (checked on a Fabric 2.5 peer):
//
//   - a peer holds the private data of its own organization's collection
//     only: reading another organization's collection fails when the key
//     exists ("private data matching public hash version is not available")
//     and returns nil when it does not;
//   - any peer serves its collection to any caller: the chaincode must check
//     who calls;
//   - reads see committed data only; writes are committed with the public
//     writes of the transaction; the block holds only SHA-256 of each private
//     key and value (BlockTx.PrivateWrites), which any peer returns with
//     GetPrivateDataHash;
//   - the chaincode learns its peer's organization from the environment
//     (shim.GetMSPID reads CORE_PEER_LOCALMSPID): the World sets that
//     variable to Call.Peer while the chaincode runs, so World calls must
//     not run in parallel;
//   - transient data reaches every chaincode of the transaction and never
//     the block;
//   - a range query over a collection (GetPrivateDataByRange,
//     GetPrivateDataByPartialCompositeKey) returns the committed keys of the
//     range on a peer of the collection's organization and nothing on any
//     other peer, which holds none of its data;
//   - a write to a collection is validated at commit by the collection's
//     endorsement policy, a peer of its organization (see Block), instead of
//     the chaincode's policy.

// implicitPrefix starts the name of an implicit organization collection.
const implicitPrefix = "_implicit_org_"

// ImplicitCollection returns the name of the implicit collection of the
// organization mspID.
func ImplicitCollection(mspID string) string { return implicitPrefix + mspID }

// Call is a transaction with the options Submit and Evaluate leave at their
// defaults.
type Call struct {
	// ID submits the transaction; Chaincode, Fn and Args are the proposal.
	ID        *Identity
	Chaincode string
	Fn        string
	Args      []string
	// Transient is the proposal's transient map (GetTransient in every
	// chaincode of the transaction; never in the block).
	Transient map[string][]byte
	// Peer is the MSP ID of the organization whose peer runs the chaincode:
	// what shim.GetMSPID returns and which implicit collection it holds.
	// Empty means the caller's own organization.
	Peer string
	// Endorsers are the organizations whose peers endorse a submitted
	// transaction (nil: the default ones, see World.PeerOrgs).
	Endorsers []string
}

// SubmitCall runs a transaction like Submit, with c's transient data on c's
// peer.
func (w *World) SubmitCall(c Call) Result { return w.runCall(c, true) }

// EvaluateCall runs a query like Evaluate, with c's transient data on c's
// peer.
func (w *World) EvaluateCall(c Call) Result { return w.runCall(c, false) }

// PrivateRead is one GetPrivateData call of a transaction.
type PrivateRead struct {
	TxID       string
	Peer       string
	Namespace  string
	Collection string
	Key        string
	// End is set for a range query: the range is [Key, End).
	End string
}

// txPrivate is the private part of a transaction.
type txPrivate struct {
	peer      string
	transient map[string][]byte
	// writes: namespace -> collection -> key -> write
	writes map[string]map[string]map[string]write
}

// worldPrivate is the committed private data: namespace -> collection ->
// key -> value.
type worldPrivate map[string]map[string]map[string][]byte

func (w *World) runCall(c Call, commit bool) Result {
	if !commit {
		res, _ := w.simulate(c)
		return res
	}
	e := Endorsers{Every: true}
	if c.Endorsers != nil {
		e = EndorsedBy(c.Endorsers...)
	}
	b := w.NewBlock()
	b.SubmitCall(e, c)
	return b.Commit()[0]
}

// setLocalMSP sets CORE_PEER_LOCALMSPID (what shim.GetMSPID reads) to msp,
// or unsets it when msp is empty, and returns the function that restores
// the previous value.
func setLocalMSP(msp string) func() {
	const name = "CORE_PEER_LOCALMSPID"
	old, had := os.LookupEnv(name)
	if msp == "" {
		os.Unsetenv(name)
	} else {
		os.Setenv(name, msp)
	}
	return func() {
		if had {
			os.Setenv(name, old)
		} else {
			os.Unsetenv(name)
		}
	}
}

func newTxPrivate(id *Identity) *txPrivate {
	p := &txPrivate{transient: map[string][]byte{}, writes: map[string]map[string]map[string]write{}}
	if id != nil {
		p.peer = id.MSPID
	}
	return p
}

// wirePrivate connects the stub's private data and transient functions to
// the transaction.
func (tx *Tx) wirePrivate() {
	s := tx.Stub
	s.GetTransientStub = func() (map[string][]byte, error) {
		out := map[string][]byte{}
		for k, v := range tx.shared.pvt.transient {
			out[k] = append([]byte(nil), v...)
		}
		return out, nil
	}
	s.GetPrivateDataStub = tx.getPrivateData
	s.GetPrivateDataHashStub = tx.getPrivateDataHash
	s.PutPrivateDataStub = tx.putPrivateData
	s.DelPrivateDataStub = func(collection, key string) error { return tx.writePrivate(collection, key, write{delete: true}) }
	s.GetPrivateDataByRangeStub = func(collection, start, end string) (shim.StateQueryIteratorInterface, error) {
		if err := validateSimpleKeys(start, end); err != nil {
			return nil, err
		}
		return tx.privateRange(collection, start, end)
	}
	s.GetPrivateDataByPartialCompositeKeyStub = func(collection, objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
		start, err := shim.CreateCompositeKey(objectType, keys)
		if err != nil {
			return nil, err
		}
		return tx.privateRange(collection, start, start+string(rune(utf8.MaxRune)))
	}
}

// privateRange returns the committed keys of collection in [start, end)
// (end "" means no end), sorted, on a peer of the collection's
// organization; an empty result on any other peer.
func (tx *Tx) privateRange(collection, start, end string) (shim.StateQueryIteratorInterface, error) {
	owner, err := checkCollection(collection, "range")
	if err != nil {
		return nil, err
	}
	w := tx.shared.w
	w.PrivateReads = append(w.PrivateReads, PrivateRead{TxID: tx.shared.id, Peer: tx.shared.pvt.peer, Namespace: tx.ns, Collection: collection, Key: start, End: end})
	it := &StateIterator{}
	if owner != tx.shared.pvt.peer {
		return it, nil
	}
	data := w.private[tx.ns][collection]
	for _, k := range sortedKeys(data) {
		if k < start || (end != "" && k >= end) {
			continue
		}
		it.items = append(it.items, &queryresult.KV{Namespace: tx.ns, Key: k, Value: append([]byte(nil), data[k]...)})
	}
	return it, nil
}

// Peer returns the MSP ID of the organization whose peer runs the
// transaction (default: the creator's).
func (tx *Tx) Peer() string { return tx.shared.pvt.peer }

// SetPeer makes the transaction run on a peer of the organization mspID
// (for transactions started with NewTx; set CORE_PEER_LOCALMSPID too when
// the chaincode calls shim.GetMSPID).
func (tx *Tx) SetPeer(mspID string) { tx.shared.pvt.peer = mspID }

// SetTransient sets the transaction's transient map (for transactions
// started with NewTx).
func (tx *Tx) SetTransient(m map[string][]byte) {
	tx.shared.pvt.transient = map[string][]byte{}
	for k, v := range m {
		tx.shared.pvt.transient[k] = append([]byte(nil), v...)
	}
}

func checkCollection(collection, key string) (owner string, err error) {
	if collection == "" {
		return "", errors.New("collection must not be an empty string")
	}
	if key == "" {
		return "", errors.New("key must not be an empty string")
	}
	owner, ok := strings.CutPrefix(collection, implicitPrefix)
	if !ok || owner == "" {
		return "", fmt.Errorf("collection %s is not defined (the fake knows implicit organization collections only)", collection)
	}
	return owner, nil
}

func (tx *Tx) getPrivateData(collection, key string) ([]byte, error) {
	owner, err := checkCollection(collection, key)
	if err != nil {
		return nil, err
	}
	w := tx.shared.w
	w.PrivateReads = append(w.PrivateReads, PrivateRead{TxID: tx.shared.id, Peer: tx.shared.pvt.peer, Namespace: tx.ns, Collection: collection, Key: key})
	v, ok := w.private[tx.ns][collection][key]
	if !ok {
		return nil, nil
	}
	if owner != tx.shared.pvt.peer {
		return nil, fmt.Errorf("GET_STATE failed: transaction ID: %s: private data matching public hash version is not available (collection %s on a peer of %s)",
			tx.shared.id, collection, tx.shared.pvt.peer)
	}
	return append([]byte(nil), v...), nil
}

func (tx *Tx) getPrivateDataHash(collection, key string) ([]byte, error) {
	if _, err := checkCollection(collection, key); err != nil {
		return nil, err
	}
	v, ok := tx.shared.w.private[tx.ns][collection][key]
	if !ok {
		return nil, nil
	}
	h := sha256.Sum256(v)
	return h[:], nil
}

func (tx *Tx) putPrivateData(collection, key string, value []byte) error {
	if len(value) == 0 {
		return errors.New("value must not be empty")
	}
	return tx.writePrivate(collection, key, write{value: append([]byte(nil), value...)})
}

func (tx *Tx) writePrivate(collection, key string, wr write) error {
	if _, err := checkCollection(collection, key); err != nil {
		return err
	}
	p := tx.shared.pvt
	if p.writes[tx.ns] == nil {
		p.writes[tx.ns] = map[string]map[string]write{}
	}
	if p.writes[tx.ns][collection] == nil {
		p.writes[tx.ns][collection] = map[string]write{}
	}
	p.writes[tx.ns][collection][key] = wr
	return nil
}

// commitPrivate applies the transaction's private writes and returns their
// hashed form for the block.
func (tx *Tx) commitPrivate() []HashedWrite {
	w := tx.shared.w
	p := tx.shared.pvt
	var out []HashedWrite
	for _, ns := range sortedKeys(p.writes) {
		for _, coll := range sortedKeys(p.writes[ns]) {
			for _, key := range sortedKeys(p.writes[ns][coll]) {
				wr := p.writes[ns][coll][key]
				if w.private == nil {
					w.private = worldPrivate{}
				}
				if w.private[ns] == nil {
					w.private[ns] = map[string]map[string][]byte{}
				}
				if w.private[ns][coll] == nil {
					w.private[ns][coll] = map[string][]byte{}
				}
				kh := sha256.Sum256([]byte(key))
				hw := HashedWrite{Namespace: ns, Collection: coll, KeyHash: kh[:], Delete: wr.delete}
				if wr.delete {
					delete(w.private[ns][coll], key)
				} else {
					w.private[ns][coll][key] = wr.value
					vh := sha256.Sum256(wr.value)
					hw.ValueHash = vh[:]
				}
				out = append(out, hw)
			}
		}
	}
	p.writes = map[string]map[string]map[string]write{}
	return out
}

// PrivateState returns the committed value of key in a chaincode's
// collection as the collection's own organization holds it (nil when
// absent).
func (w *World) PrivateState(chaincode, collection, key string) []byte {
	return w.private[chaincode][collection][key]
}

// PrivateKeys returns the committed keys of a chaincode's collection, sorted.
func (w *World) PrivateKeys(chaincode, collection string) []string {
	return sortedKeys(w.private[chaincode][collection])
}

// Collections returns the names of the collections of a chaincode that hold
// data, sorted.
func (w *World) Collections(chaincode string) []string {
	return sortedKeys(w.private[chaincode])
}

// PrivateSnapshot returns a copy of the committed private data of every
// collection, keyed "namespace/collection", for asserting that a failed
// transaction changed nothing.
func (w *World) PrivateSnapshot() map[string]map[string]string {
	out := map[string]map[string]string{}
	for ns, colls := range w.private {
		for coll, kv := range colls {
			m := map[string]string{}
			for k, v := range kv {
				m[k] = string(v)
			}
			out[ns+"/"+coll] = m
		}
	}
	return out
}
