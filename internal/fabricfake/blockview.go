package fabricfake

import (
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// BlockTx is what a committed transaction puts in a block, i.e. what every
// member of the channel can read, whatever the chaincodes allow: the
// proposal's arguments, the creator's MSP, the top-level chaincode's
// response and event, every public write and the hashes of every private
// write. The transient map is not in it.
type BlockTx struct {
	TxID      string
	Creator   string
	Chaincode string
	Args      []string
	// Response is the top-level chaincode's payload (transactions run by
	// Submit or SubmitCall).
	Response []byte
	Event    *Event
	// Writes are the public writes of every chaincode of the transaction,
	// sorted by namespace and key.
	Writes        []BlockWrite
	PrivateWrites []HashedWrite
}

// BlockWrite is a public write in a block.
type BlockWrite struct {
	Namespace string
	Key       string
	Value     []byte
	Delete    bool
}

// HashedWrite is a private write in a block: SHA-256 of the key and of the
// value (nil for a delete), unsalted, as Fabric writes them.
type HashedWrite struct {
	Namespace  string
	Collection string
	KeyHash    []byte
	ValueHash  []byte
	Delete     bool
}

// blockTx builds the block view of the transaction about to be committed.
func (tx *Tx) blockTx() BlockTx {
	sh := tx.shared
	b := BlockTx{TxID: sh.id}
	if id, err := creatorMSP(sh.creator); err == nil {
		b.Creator = id
	}
	b.Chaincode, _ = proposalChaincode(sh.proposal)
	b.Args = proposalArgs(sh.proposal)
	for _, ns := range sortedKeys(sh.writes) {
		for _, key := range sortedKeys(sh.writes[ns]) {
			wr := sh.writes[ns][key]
			b.Writes = append(b.Writes, BlockWrite{Namespace: ns, Key: key, Value: append([]byte(nil), wr.value...), Delete: wr.delete})
		}
	}
	if sh.event != nil {
		ev := *sh.event
		b.Event = &ev
	}
	return b
}

func creatorMSP(creator []byte) (string, error) {
	var sid msp.SerializedIdentity
	if err := proto.Unmarshal(creator, &sid); err != nil {
		return "", err
	}
	return sid.GetMspid(), nil
}

func proposalArgs(sp *peer.SignedProposal) []string {
	var prop peer.Proposal
	if err := proto.Unmarshal(sp.GetProposalBytes(), &prop); err != nil {
		return nil
	}
	var pl peer.ChaincodeProposalPayload
	if err := proto.Unmarshal(prop.GetPayload(), &pl); err != nil {
		return nil
	}
	var cis peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(pl.GetInput(), &cis); err != nil {
		return nil
	}
	var out []string
	for _, a := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		out = append(out, string(a))
	}
	return out
}
