//go:build integration

package consortium

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/test/harness"
)

// fetchBlocks returns every block of the channel, 0 to the peer's height, fetched from the deliver
// service of the peer of the identity's own organization and signed by the identity (fabric-gateway
// BlockEvents: what any member of the channel can read).
func fetchBlocks(t *testing.T, identity string) []*common.Block {
	t.Helper()
	org, _, err := harness.Identity(identity)
	if err != nil {
		t.Fatal(err)
	}
	height, err := nw.Height(org)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := nw.Gateway(identity)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	events, err := gw.GetNetwork(nw.Info.Channel).BlockEvents(ctx, client.WithStartBlock(0))
	if err != nil {
		t.Fatalf("block events as %s: %v", identity, err)
	}
	var out []*common.Block
	for uint64(len(out)) < height {
		select {
		case b, ok := <-events:
			if !ok {
				t.Fatalf("block events as %s ended after %d of %d blocks", identity, len(out), height)
			}
			if n := b.GetHeader().GetNumber(); n != uint64(len(out)) {
				t.Fatalf("block events as %s: block %d, want %d", identity, n, len(out))
			}
			out = append(out, b)
		case <-ctx.Done():
			t.Fatalf("block events as %s: %d of %d blocks: %v", identity, len(out), height, ctx.Err())
		}
	}
	return out
}

// ledgerTx is one endorser transaction of a block as any channel member decodes it: its validation
// code, its creator's and endorsers' MSPs, the public writes of each namespace and the hashed
// writes of each private data collection.
type ledgerTx struct {
	Block     uint64
	TxID      string
	Code      peer.TxValidationCode
	Creator   string
	Endorsers []string
	// Writes maps a namespace to its public writes.
	Writes map[string][]*kvrwset.KVWrite
	// Collections maps "namespace/collection" to the number of hashed writes.
	Collections map[string]int
}

// decodeTxs decodes the endorser transactions of blocks.
func decodeTxs(t *testing.T, blocks []*common.Block) []ledgerTx {
	t.Helper()
	var out []ledgerTx
	for _, b := range blocks {
		filter := b.GetMetadata().GetMetadata()[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
		for i, raw := range b.GetData().GetData() {
			tx, ok, err := decodeTx(raw)
			if err != nil {
				t.Fatalf("block %d, transaction %d: %v", b.GetHeader().GetNumber(), i, err)
			}
			if !ok {
				continue
			}
			tx.Block = b.GetHeader().GetNumber()
			if i < len(filter) {
				tx.Code = peer.TxValidationCode(filter[i])
			} else {
				tx.Code = peer.TxValidationCode_NOT_VALIDATED
			}
			out = append(out, tx)
		}
	}
	return out
}

// decodeTx decodes one envelope; ok is false for a transaction that is not an endorser transaction
// (a configuration block).
func decodeTx(raw []byte) (tx ledgerTx, ok bool, err error) {
	var env common.Envelope
	var payload common.Payload
	var ch common.ChannelHeader
	var sh common.SignatureHeader
	var creator msp.SerializedIdentity
	var tr peer.Transaction
	if err := unmarshal(raw, &env, "envelope"); err != nil {
		return tx, false, err
	}
	if err := unmarshal(env.GetPayload(), &payload, "payload"); err != nil {
		return tx, false, err
	}
	if err := unmarshal(payload.GetHeader().GetChannelHeader(), &ch, "channel header"); err != nil {
		return tx, false, err
	}
	if ch.GetType() != int32(common.HeaderType_ENDORSER_TRANSACTION) {
		return tx, false, nil
	}
	if err := unmarshal(payload.GetHeader().GetSignatureHeader(), &sh, "signature header"); err != nil {
		return tx, false, err
	}
	if err := unmarshal(sh.GetCreator(), &creator, "creator"); err != nil {
		return tx, false, err
	}
	if err := unmarshal(payload.GetData(), &tr, "transaction"); err != nil {
		return tx, false, err
	}
	tx = ledgerTx{TxID: ch.GetTxId(), Creator: creator.GetMspid(), Writes: map[string][]*kvrwset.KVWrite{}, Collections: map[string]int{}}
	for _, a := range tr.GetActions() {
		var cap peer.ChaincodeActionPayload
		var prp peer.ProposalResponsePayload
		var ca peer.ChaincodeAction
		var rws rwset.TxReadWriteSet
		if err := unmarshal(a.GetPayload(), &cap, "chaincode action payload"); err != nil {
			return tx, false, err
		}
		for _, e := range cap.GetAction().GetEndorsements() {
			var id msp.SerializedIdentity
			if err := unmarshal(e.GetEndorser(), &id, "endorser"); err != nil {
				return tx, false, err
			}
			tx.Endorsers = append(tx.Endorsers, id.GetMspid())
		}
		if err := unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp, "proposal response payload"); err != nil {
			return tx, false, err
		}
		if err := unmarshal(prp.GetExtension(), &ca, "chaincode action"); err != nil {
			return tx, false, err
		}
		if err := unmarshal(ca.GetResults(), &rws, "read-write set"); err != nil {
			return tx, false, err
		}
		for _, ns := range rws.GetNsRwset() {
			var kv kvrwset.KVRWSet
			if err := unmarshal(ns.GetRwset(), &kv, "namespace "+ns.GetNamespace()); err != nil {
				return tx, false, err
			}
			tx.Writes[ns.GetNamespace()] = append(tx.Writes[ns.GetNamespace()], kv.GetWrites()...)
			for _, c := range ns.GetCollectionHashedRwset() {
				var h kvrwset.HashedRWSet
				if err := unmarshal(c.GetHashedRwset(), &h, "collection "+c.GetCollectionName()); err != nil {
					return tx, false, err
				}
				tx.Collections[ns.GetNamespace()+"/"+c.GetCollectionName()] += len(h.GetHashedWrites())
			}
		}
	}
	sort.Strings(tx.Endorsers)
	return tx, true, nil
}

func unmarshal(raw []byte, m proto.Message, what string) error {
	if err := proto.Unmarshal(raw, m); err != nil {
		return fmt.Errorf("decode the %s: %w", what, err)
	}
	return nil
}

// committedValue returns the value the last valid transaction of txs wrote to key in namespace ns
// (nil and false when none wrote it or the last write deleted it).
func committedValue(txs []ledgerTx, ns, key string) ([]byte, bool) {
	var value []byte
	found := false
	for _, tx := range txs {
		if tx.Code != peer.TxValidationCode_VALID {
			continue
		}
		for _, w := range tx.Writes[ns] {
			if w.GetKey() == key {
				value, found = w.GetValue(), !w.GetIsDelete()
			}
		}
	}
	return value, found
}

// compositeKey is the state key of a chaincode composite key (shim CreateCompositeKey).
func compositeKey(objectType string, attrs ...string) string {
	k := "\x00" + objectType + "\x00"
	for _, a := range attrs {
		k += a + "\x00"
	}
	return k
}

// secret is a value an outsider must not learn, by name.
type secret struct {
	name  string
	value []byte
}

// haystack is bytes to search, by the name of where they come from.
type haystack struct {
	where string
	data  []byte
}

// blockHaystacks returns each block's bytes, as delivered.
func blockHaystacks(t *testing.T, blocks []*common.Block) []haystack {
	t.Helper()
	out := make([]haystack, 0, len(blocks))
	for _, b := range blocks {
		raw, err := proto.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, haystack{fmt.Sprintf("block %d", b.GetHeader().GetNumber()), raw})
	}
	return out
}

// fileHaystacks returns the content of every regular file under each of paths (a folder or a file),
// and the total number of bytes read. A path that does not exist fails the test.
func fileHaystacks(t *testing.T, paths ...string) ([]haystack, int64) {
	t.Helper()
	var out []haystack
	var total int64
	for _, root := range paths {
		if _, err := os.Stat(root); err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				// A file removed while the walk runs (a leveldb compaction) was read elsewhere.
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			total += int64(len(data))
			out = append(out, haystack{p, data})
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
	}
	return out, total
}

// find returns, for each secret found in a haystack, "<secret> in <where>".
func find(secrets []secret, in []haystack) []string {
	var found []string
	for _, s := range secrets {
		for _, h := range in {
			if bytes.Contains(h.data, s.value) {
				found = append(found, fmt.Sprintf("%s in %s", s.name, h.where))
			}
		}
	}
	return found
}

// foundSecrets returns the names of the secrets found in some haystack.
func foundSecrets(secrets []secret, in []haystack) map[string]bool {
	out := map[string]bool{}
	for _, s := range secrets {
		for _, h := range in {
			if bytes.Contains(h.data, s.value) {
				out[s.name] = true
				break
			}
		}
	}
	return out
}
