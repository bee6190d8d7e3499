// Package fabricfake holds test doubles for chaincode unit tests:
// counterfeiter fakes of shim.ChaincodeStubInterface, cid.ClientIdentity and
// contractapi.TransactionContextInterface (generated, see the go:generate
// lines below), and World, an in-memory ledger that wires a fake stub to a
// world state with Fabric's semantics: a transaction reads committed state
// only (no read-your-own-writes), its writes are committed atomically when
// the top-level chaincode succeeds, chaincode-to-chaincode calls share the
// transaction, and only the top-level chaincode's last event survives.
// The World also holds the implicit organization collections, transient data
// and the organization of the peer that runs a transaction (private.go,
// SubmitCall, EvaluateCall), and the block view of every committed
// transaction (block.go, World.Blocks).
//
// Submitted transactions are committed in blocks (Block) and validated as a
// Fabric peer validates them: endorsements against the chaincode's
// endorsement policy (World.SetEndorsementPolicy) or the key-level
// validation parameters (SetStateValidationParameter) of the state before
// the block, then MVCC (versions of the keys read, phantom reads of range
// queries). A transaction carries the default endorsements (World.PeerOrgs)
// unless the test names the endorsing organizations (SubmitEndorsed,
// Block.SubmitEndorsed, Tx.EndorseBy). A write to an implicit
// organization collection is validated by the collection's policy, a peer
// of its organization.
//
// Test identities come from CA, which issues ECDSA P-256 certificates with
// the common name and organizational units Fabric's cryptogen uses.
package fabricfake

//go:generate go run github.com/maxbrunsfeld/counterfeiter/v6@v6.11.2 -o chaincode_stub.go -fake-name ChaincodeStub github.com/hyperledger/fabric-chaincode-go/v2/shim.ChaincodeStubInterface
//go:generate go run github.com/maxbrunsfeld/counterfeiter/v6@v6.11.2 -o client_identity.go -fake-name ClientIdentity github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid.ClientIdentity
//go:generate go run github.com/maxbrunsfeld/counterfeiter/v6@v6.11.2 -o transaction_context.go -fake-name TransactionContext github.com/hyperledger/fabric-contract-api-go/v2/contractapi.TransactionContextInterface
