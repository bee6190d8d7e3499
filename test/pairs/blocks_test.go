//go:build integration

package pairs

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/internal/fabnet"
)

// blockTx is what the test reads of one transaction of a block.
type blockTx struct {
	block     uint64
	txID      string
	code      peer.TxValidationCode
	chaincode string   // the invoked chaincode
	function  string   // the proposal's first argument
	endorsers []string // MSP ID of each endorsement, in the block's order
	keys      [][]byte // every key read or written, public state of every namespace
	writes    [][]byte // every key written, public state of every namespace
}

// readBlocks decodes the endorser transactions of blocks [from, to) fetched
// from qscc (GetBlockByNumber) as OtherOrg's user: every channel member
// sees every block.
func readBlocks(t *testing.T, from, to uint64) []blockTx {
	t.Helper()
	qscc := nw.MustContract(t, "other", "qscc")
	var out []blockTx
	for n := from; n < to; n++ {
		raw, err := qscc.EvaluateTransaction("GetBlockByNumber", nw.Info.Channel, fmt.Sprint(n))
		if err != nil {
			t.Fatalf("block %d: %s", n, fabnet.ErrorText(err))
		}
		txs, err := decodeBlock(raw)
		if err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
		out = append(out, txs...)
	}
	return out
}

func decodeBlock(raw []byte) ([]blockTx, error) {
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	var filter []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	var out []blockTx
	for i, envBytes := range b.GetData().GetData() {
		var env common.Envelope
		var pl common.Payload
		var ch common.ChannelHeader
		if err := errorsJoin(proto.Unmarshal(envBytes, &env), proto.Unmarshal(env.GetPayload(), &pl),
			proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch)); err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		if ch.GetType() != int32(common.HeaderType_ENDORSER_TRANSACTION) {
			continue
		}
		tx := blockTx{block: b.GetHeader().GetNumber(), txID: ch.GetTxId(), code: peer.TxValidationCode(-1)}
		if i < len(filter) {
			tx.code = peer.TxValidationCode(filter[i])
		}
		var ptx peer.Transaction
		if err := proto.Unmarshal(pl.GetData(), &ptx); err != nil {
			return nil, fmt.Errorf("transaction %s: %w", tx.txID, err)
		}
		for _, action := range ptx.GetActions() {
			var cap peer.ChaincodeActionPayload
			var cpp peer.ChaincodeProposalPayload
			var cis peer.ChaincodeInvocationSpec
			var prp peer.ProposalResponsePayload
			var cca peer.ChaincodeAction
			var txrw rwset.TxReadWriteSet
			if err := errorsJoin(proto.Unmarshal(action.GetPayload(), &cap), proto.Unmarshal(cap.GetChaincodeProposalPayload(), &cpp),
				proto.Unmarshal(cpp.GetInput(), &cis), proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp),
				proto.Unmarshal(prp.GetExtension(), &cca), proto.Unmarshal(cca.GetResults(), &txrw)); err != nil {
				return nil, fmt.Errorf("transaction %s: %w", tx.txID, err)
			}
			tx.chaincode = cis.GetChaincodeSpec().GetChaincodeId().GetName()
			if args := cis.GetChaincodeSpec().GetInput().GetArgs(); len(args) > 0 {
				tx.function = string(args[0])
			}
			for _, e := range cap.GetAction().GetEndorsements() {
				var id msp.SerializedIdentity
				if err := proto.Unmarshal(e.GetEndorser(), &id); err != nil {
					return nil, fmt.Errorf("transaction %s: endorser: %w", tx.txID, err)
				}
				tx.endorsers = append(tx.endorsers, id.GetMspid())
			}
			for _, ns := range txrw.GetNsRwset() {
				var kv kvrwset.KVRWSet
				if err := proto.Unmarshal(ns.GetRwset(), &kv); err != nil {
					return nil, fmt.Errorf("transaction %s: namespace %s: %w", tx.txID, ns.GetNamespace(), err)
				}
				for _, r := range kv.GetReads() {
					tx.keys = append(tx.keys, []byte(r.GetKey()))
				}
				for _, w := range kv.GetWrites() {
					tx.keys = append(tx.keys, []byte(w.GetKey()))
					tx.writes = append(tx.writes, []byte(w.GetKey()))
				}
			}
		}
		out = append(out, tx)
	}
	return out, nil
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// touches reports whether the transaction reads or writes a key of the SLA
// id (every key of an SLA, in agreement, refund and slaenclave alike,
// carries the SLA id as an attribute of its composite key).
func (tx *blockTx) touches(id string) bool {
	attr := append(append([]byte{0}, id...), 0)
	for _, k := range tx.keys {
		if bytes.Contains(k, attr) {
			return true
		}
	}
	return false
}

// kind names the transaction: "<chaincode> <function>", and for the enclave's
// __endorse the enclave function its write set shows.
func (tx *blockTx) kind() string {
	if tx.function != "__endorse" {
		return tx.chaincode + " " + tx.function
	}
	fn := "IngestBatch"
	for _, k := range tx.writes {
		switch {
		case bytes.HasPrefix(k, []byte("\x00slaenclave.sla\x00")):
			fn = "RegisterAgreement"
		case bytes.HasPrefix(k, []byte("\x00slaenclave.verdict\x00")):
			fn = "Evaluate"
		}
	}
	return tx.chaincode + " __endorse(" + fn + ")"
}

// checkEndorsers checks that every transaction of blocks [from, to) that
// touches one of the SLAs was endorsed by exactly one peer of each of the
// SLA's two parties' organizations, and that every step of the SLA's life
// is among them.
//
// The enclave host (ProviderOrg) endorses none of the SLAs it is not a
// party of: the enclave's transactions are FPC's __invoke, which the
// client only EVALUATES on a host peer (fpc/client: the host's server holds
// the enclave), and __endorse, which every endorsing organization's own
// slaenclave server re-verifies against the registry and its own deploy
// configuration. Only __endorse's endorsements go into the block, and the
// keys the enclave writes carry the SLA's parties' key-level policy
// (fpc/slaenclave partiesPolicy, set by fpc/runtime's __endorse at their
// creation; creations are validated by the chaincode policy any two
// organizations, which the two parties meet), so the monitor names exactly
// the two parties' organizations as endorsers (fpc/client
// SubmitEndorsedBy).
func checkEndorsers(t *testing.T, ps []*pair, from, to uint64) {
	t.Helper()
	txs := readBlocks(t, from, to)
	for _, p := range ps {
		want := p.orgs()
		kinds := map[string]int{}
		invalid := map[string]int{}
		wrong := 0
		for i := range txs {
			tx := &txs[i]
			if !tx.touches(p.id) {
				continue
			}
			got := slices.Clone(tx.endorsers)
			sort.Strings(got)
			if !slices.Equal(got, want) {
				wrong++
				t.Errorf("%s: transaction %s (block %d, %s, %s) endorsed by %v, want exactly one peer of each of %v",
					p.id, tx.txID, tx.block, tx.kind(), tx.code, tx.endorsers, want)
			}
			if tx.code == peer.TxValidationCode_VALID {
				kinds[tx.kind()]++
			} else {
				invalid[tx.kind()+" "+tx.code.String()]++
			}
		}
		// Every step of the SLA's life is there (so that the check above
		// cannot pass on nothing): at least P0's six 10-second batches.
		for kind, least := range map[string]int{
			"agreement ProposeSLA": 1, "agreement AcceptSLA": 1, "agreement AnchorLogBatch": 6,
			"slaenclave __endorse(RegisterAgreement)": 1, "slaenclave __endorse(IngestBatch)": 6, "slaenclave __endorse(Evaluate)": 1,
			"refund SettleVerdict": 1,
		} {
			if kinds[kind] < least {
				t.Errorf("%s: %d valid %s transactions in blocks [%d, %d), want at least %d", p.id, kinds[kind], kind, from, to, least)
			}
		}
		var summary []string
		for _, k := range sortedKeys(kinds) {
			summary = append(summary, fmt.Sprintf("%s %d", k, kinds[k]))
		}
		t.Logf("%s: %d transactions endorsed by others than exactly %s; valid: %s; invalid: %v", p.id, wrong, strings.Join(want, " and "), strings.Join(summary, ", "), invalid)
	}
}
