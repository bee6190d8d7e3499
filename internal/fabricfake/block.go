package fabricfake

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Block collects transactions that are all simulated against the same
// committed state (nothing commits until Commit) and commits them together,
// in order, validated as a Fabric peer validates a block:
//
//  1. Endorsement (VSCC). Each namespace the transaction writes is
//     checked: a write (or delete, or validation-parameter write) of a key
//     that has a validation parameter in the state committed before the
//     block is validated by that parameter only; every other key (a new
//     key, a key without a parameter) by the chaincode's endorsement
//     policy (SetEndorsementPolicy). A write to an implicit organization
//     collection needs a peer of that organization (the collection's
//     policy) and nothing else. A transaction without writes, public or
//     private, is checked against its chaincode's policy. A write of a key whose
//     validation parameter an earlier transaction of the block set (and
//     that passed this step) is invalid whatever its endorsements
//     (Fabric's ValidationParameterUpdatedError). Failure:
//     ENDORSEMENT_POLICY_FAILURE.
//  2. MVCC. Every key read must still have the version it had when the
//     transaction was simulated, counting the writes of the valid
//     transactions before it in the block (MVCC_READ_CONFLICT); every
//     range query must still return the same keys and versions, up to the
//     last key read when the chaincode did not exhaust it
//     (PHANTOM_READ_CONFLICT).
//
// A valid transaction's writes are applied at version (block, tx number):
// a delete removes the key and its validation parameter; a value write
// keeps the key's parameter unless the transaction sets a new one; a
// parameter written for a key that does not exist after the transaction is
// dropped. An invalid transaction changes nothing.
type Block struct {
	w   *World
	txs []*Tx
	res []Result
}

// NewBlock starts a block.
func (w *World) NewBlock() *Block { return &Block{w: w} }

// Submit simulates a transaction endorsed by the default organizations
// (see World.PeerOrgs) and, when the chaincode succeeds, adds it to the
// block. It returns the transaction's index in the block's results.
func (b *Block) Submit(id *Identity, chaincode, fn string, args ...string) int {
	return b.SubmitEndorsed(Endorsers{Every: true}, id, chaincode, fn, args...)
}

// SubmitEndorsed is Submit with the endorsements of e.
func (b *Block) SubmitEndorsed(e Endorsers, id *Identity, chaincode, fn string, args ...string) int {
	return b.SubmitCall(e, Call{ID: id, Chaincode: chaincode, Fn: fn, Args: args})
}

// SubmitCall is SubmitEndorsed of a Call (transient data, the peer's
// organization).
func (b *Block) SubmitCall(e Endorsers, c Call) int {
	res, tx := b.w.simulate(c)
	if tx != nil {
		tx.shared.endorsers = e
	}
	return b.add(tx, res)
}

func (b *Block) add(tx *Tx, res Result) int {
	b.txs = append(b.txs, tx)
	b.res = append(b.res, res)
	return len(b.res) - 1
}

// Commit validates and commits the block's transactions (a proposal the
// chaincode refused was never submitted: its Result is the chaincode's
// error) and returns their results in order.
func (b *Block) Commit() []Result {
	w := b.w
	w.blockNum++
	v := &blockValidation{w: w, num: w.blockNum, orig: map[string]map[string][]byte{}, updated: map[string]map[string]bool{}}
	txNum := uint64(0)
	for i, tx := range b.txs {
		if tx == nil {
			continue
		}
		res := &b.res[i]
		res.Block = w.blockNum
		code, reason, endorsed := v.validate(tx.shared)
		res.Code, res.Reason = code, reason
		if endorsed {
			v.markParameterUpdates(tx.shared)
		}
		if code == peer.TxValidationCode_VALID {
			view := tx.blockTx()
			view.Response = append([]byte(nil), res.Payload...)
			v.apply(tx.shared, txNum)
			view.PrivateWrites = tx.commitPrivate()
			w.Blocks = append(w.Blocks, view)
			res.Event = tx.shared.event
		}
		txNum++
	}
	return b.res
}

type blockValidation struct {
	w   *World
	num uint64
	// orig holds the validation parameters committed before the block of
	// the keys whose parameter the block changed so far.
	orig map[string]map[string][]byte
	// updated holds the keys whose validation parameter an endorsed
	// transaction of the block set.
	updated map[string]map[string]bool
}

// parameter returns the validation parameter of key committed before the
// block.
func (v *blockValidation) parameter(ns, key string) []byte {
	if m, ok := v.orig[ns]; ok {
		if p, ok := m[key]; ok {
			return p
		}
	}
	return v.w.meta[ns][key]
}

// validate returns the transaction's validation code and whether it passed
// the endorsement step.
func (v *blockValidation) validate(sh *txShared) (peer.TxValidationCode, string, bool) {
	if reason := v.endorsement(sh); reason != "" {
		return peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, reason, false
	}
	for _, ns := range sortedKeys(sh.reads) {
		for _, key := range sortedKeys(sh.reads[ns]) {
			r := sh.reads[ns][key]
			cur, exists := v.w.versions[ns][key]
			if exists != r.exists || cur != r.ver {
				return peer.TxValidationCode_MVCC_READ_CONFLICT, fmt.Sprintf("key %q of %s was read at version %s and is now at %s", key, ns, verText(r.exists, r.ver), verText(exists, cur)), true
			}
		}
	}
	for _, rr := range sh.ranges {
		if reason := v.phantom(rr); reason != "" {
			return peer.TxValidationCode_PHANTOM_READ_CONFLICT, reason, true
		}
	}
	return peer.TxValidationCode_VALID, "", true
}

func verText(exists bool, v Version) string {
	if !exists {
		return "absent"
	}
	return fmt.Sprintf("%d:%d", v.Block, v.Tx)
}

// endorsement checks the endorsements of every written key; "" when they
// satisfy the policies.
func (v *blockValidation) endorsement(sh *txShared) string {
	w := v.w
	needCC := map[string]bool{}
	written := map[string]map[string]bool{}
	for ns, m := range sh.writes {
		for k := range m {
			if written[ns] == nil {
				written[ns] = map[string]bool{}
			}
			written[ns][k] = true
		}
	}
	for ns, m := range sh.meta {
		for k := range m {
			if written[ns] == nil {
				written[ns] = map[string]bool{}
			}
			written[ns][k] = true
		}
	}
	private := sh.pvt.writes
	if len(written) == 0 && len(private) == 0 {
		top, _ := proposalChaincode(sh.proposal)
		needCC[top] = true
	}
	// A write to an implicit organization collection is validated by the
	// collection's endorsement policy, a peer of its organization
	// (/Channel/Application/<Org>/Endorsement), instead of the chaincode's.
	for _, ns := range sortedKeys(private) {
		for _, coll := range sortedKeys(private[ns]) {
			if len(private[ns][coll]) == 0 {
				continue
			}
			owner, _ := strings.CutPrefix(coll, implicitPrefix)
			if e := v.endorsersOf(sh); !e.Every && !slices.Contains(e.Orgs, owner) {
				return fmt.Sprintf("collection %s of %s needs a peer of %s, endorsed by %s", coll, ns, owner, e)
			}
		}
	}
	for _, ns := range sortedKeys(written) {
		for _, key := range sortedKeys(written[ns]) {
			if v.updated[ns][key] {
				return fmt.Sprintf("validation parameter of key %q of %s was set by an earlier transaction of block %d", key, ns, v.num)
			}
			param := v.parameter(ns, key)
			if param == nil {
				needCC[ns] = true
				continue
			}
			ok, err := PolicySatisfied(param, v.endorsersOf(sh))
			if err != nil {
				return fmt.Sprintf("validation parameter of key %q of %s: %v", key, ns, err)
			}
			if !ok {
				return fmt.Sprintf("key %q of %s needs %s, endorsed by %s", key, ns, DescribePolicy(param), v.endorsersOf(sh))
			}
		}
	}
	for _, ns := range sortedKeys(needCC) {
		pol := w.ccPolicy[ns]
		if pol == nil {
			continue
		}
		ok, err := PolicySatisfied(pol, v.endorsersOf(sh))
		if err != nil {
			return fmt.Sprintf("endorsement policy of %s: %v", ns, err)
		}
		if !ok {
			return fmt.Sprintf("chaincode %s needs %s, endorsed by %s", ns, DescribePolicy(pol), v.endorsersOf(sh))
		}
	}
	return ""
}

// endorsersOf returns the transaction's endorsements, the default ones
// being World.PeerOrgs when set.
func (v *blockValidation) endorsersOf(sh *txShared) Endorsers {
	if sh.endorsers.Every && len(v.w.PeerOrgs) > 0 {
		return EndorsedBy(v.w.PeerOrgs...)
	}
	return sh.endorsers
}

func (v *blockValidation) markParameterUpdates(sh *txShared) {
	for ns, m := range sh.meta {
		for k := range m {
			if v.updated[ns] == nil {
				v.updated[ns] = map[string]bool{}
			}
			v.updated[ns][k] = true
		}
	}
}

// phantom re-runs a range query on the current state; "" when it returns
// what the transaction read.
func (v *blockValidation) phantom(rr *rangeRead) string {
	end := rr.end
	last := ""
	if !rr.exhausted {
		if len(rr.keys) == 0 {
			return ""
		}
		last = rr.keys[len(rr.keys)-1]
	}
	var keys []string
	var vers []Version
	all := v.w.keys(rr.ns)
	for _, k := range all[sort.SearchStrings(all, rr.start):] {
		if (end != "" && k >= end) || (last != "" && k > last) {
			break
		}
		keys = append(keys, k)
		vers = append(vers, v.w.versions[rr.ns][k])
	}
	if len(keys) != len(rr.keys) {
		return fmt.Sprintf("range [%q, %q) of %s returned %d keys and now holds %d", rr.start, end, rr.ns, len(rr.keys), len(keys))
	}
	for i := range keys {
		if keys[i] != rr.keys[i] || vers[i] != rr.vers[i] {
			return fmt.Sprintf("range [%q, %q) of %s: key %q changed", rr.start, end, rr.ns, keys[i])
		}
	}
	return ""
}

// apply commits a valid transaction's writes at (block, txNum).
func (v *blockValidation) apply(sh *txShared, txNum uint64) {
	w := v.w
	ver := Version{Block: v.num, Tx: txNum}
	keys := map[string]map[string]bool{}
	for ns, m := range sh.writes {
		for k := range m {
			if keys[ns] == nil {
				keys[ns] = map[string]bool{}
			}
			keys[ns][k] = true
		}
	}
	for ns, m := range sh.meta {
		for k := range m {
			if keys[ns] == nil {
				keys[ns] = map[string]bool{}
			}
			keys[ns][k] = true
		}
	}
	for _, ns := range sortedKeys(keys) {
		if w.state[ns] == nil {
			w.state[ns] = map[string][]byte{}
			w.meta[ns] = map[string][]byte{}
			w.versions[ns] = map[string]Version{}
		}
		if w.history[ns] == nil {
			w.history[ns] = map[string][]*queryresult.KeyModification{}
		}
		for _, key := range sortedKeys(keys[ns]) {
			wr, hasWrite := sh.writes[ns][key]
			param, hasParam := sh.meta[ns][key]
			before := w.meta[ns][key]
			switch {
			case hasWrite && wr.delete:
				if _, ok := w.state[ns][key]; ok {
					w.keyRemoved(ns, key)
				}
				delete(w.state[ns], key)
				delete(w.meta[ns], key)
				delete(w.versions[ns], key)
			case hasWrite:
				if _, ok := w.state[ns][key]; !ok {
					w.keyAdded(ns, key)
				}
				w.state[ns][key] = wr.value
				w.versions[ns][key] = ver
				if hasParam {
					w.meta[ns][key] = param
				}
			default: // a parameter of a key the transaction does not write
				if _, exists := w.state[ns][key]; !exists {
					continue
				}
				w.meta[ns][key] = param
				w.versions[ns][key] = ver
			}
			if !bytes.Equal(before, w.meta[ns][key]) {
				if v.orig[ns] == nil {
					v.orig[ns] = map[string][]byte{}
				}
				if _, ok := v.orig[ns][key]; !ok {
					v.orig[ns][key] = before
				}
			}
			if hasWrite {
				w.history[ns][key] = append(w.history[ns][key], &queryresult.KeyModification{
					TxId: sh.id, Value: wr.value, Timestamp: timestamppb.New(sh.ts), IsDelete: wr.delete,
				})
			}
		}
	}
	if sh.event != nil {
		w.Events = append(w.Events, *sh.event)
	}
}
