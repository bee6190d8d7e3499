// Package runtime runs a plain v1 shim.Chaincode as a Fabric Private
// Chaincode: it implements FPC 1.0's entry points __initEnclave, __invoke and
// __endorse around an Enclave, the one small interface behind which the
// confidential part runs.
//
// This build ships one Enclave backend, Simulated, for hosts without SGX: it
// implements the FPC protocol exactly (keys, encrypted requests and state,
// signed responses bound to request and proposal, registry-verified
// endorsement) but runs in an ordinary process, so its keys and the plaintext
// it handles are visible to whoever controls that process and its memory.
// Its attestation type is "simulated" and the registry accepts it only when
// the deploy configuration says so. An SGX backend (FPC's EGo build) replaces
// Simulated behind the same interface; see fpc/README.md.
//
// # Configuration and trust
//
// Every organization runs its own chaincode server with its own copy of the
// deploy configuration (internal/deploycfg, WithConfig). The runtime gives
// it to the enclave at __initEnclave; the enclave's credentials attest its
// digest, and the chaincode inside reads the trusted CA roots from it
// (Services.DeployConfig). __endorse, on every endorsing peer, refuses the
// responses of an enclave whose registered record's config_digest is not the
// digest of the peer's own file, so an enclave initialised with trust
// anchors one organization did not approve gets no endorsement from it.
//
// Time: the enclave's only clock is the timestamp of the signed proposal it
// ran under (chosen by the client). __invoke refuses a transaction whose
// timestamp is more than the allowed skew (WithMaxSkew, default 5 minutes)
// away from the host's clock, and __endorse on every endorsing peer refuses
// both its own transaction timestamp and the enclave's proposal timestamp
// when either is further than that from the peer's clock.
//
// # What a chaincode may use inside the enclave
//
// GetState, PutState, DelState, SetStateValidationParameter (the key-level
// policy of a key the transaction writes, set by __endorse when the write
// creates the key), composite keys (create and split), GetTxTimestamp (the
// signed proposal's), GetTxID, GetChannelID, GetCreator, GetSignedProposal,
// its (decrypted) arguments, and the enclave Services (including DeriveKey,
// keys derived from the sealed state key). Range, partial composite key, rich and history queries,
// chaincode-to-chaincode calls, events and private data return "not
// supported inside the enclave": a host could leave keys out of a range
// answer without the enclave noticing, so an FPC chaincode reads only keys it
// can name.
package runtime

import (
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/internal/deploycfg"
)

// Host is what the untrusted side offers the enclave for one invocation:
// ledger reads at the endorsing peer, the transaction context, and the
// tunneling ocall for content the enclave verifies itself. The enclave checks
// the transaction id, channel and creator against the signed proposal.
type Host interface {
	GetState(key string) ([]byte, error)
	TxID() string
	ChannelID() string
	Creator() ([]byte, error)
	SignedProposal() (proposal, signature []byte, err error)
	// Fetch returns content by id (an IPFS CID) through the tunneling shim.
	// The result is untrusted: the enclave checks it.
	Fetch(id string) ([]byte, error)
}

// InitParams are the chaincode and host parameters an enclave is
// initialised with and attests to.
type InitParams struct {
	Channel           string `json:"channel"`
	Chaincode         string `json:"chaincode"`
	ChaincodeVersion  string `json:"chaincode_version"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	PeerMSPID         string `json:"peer_msp_id"`
	Endpoint          string `json:"endpoint"`
	// Config is the host organization's deploy configuration: the enclave
	// attests its digest (credentials.AttestedData.ConfigDigest) and serves
	// it to the chaincode (Services.DeployConfig).
	Config *deploycfg.Config `json:"config"`
}

// Enclave is the enclave boundary.
type Enclave interface {
	// Init creates the enclave's keys on first use, binds them to the
	// deploy configuration of p and returns credentials attesting them for
	// the given parameters. An enclave whose keys are bound to one
	// configuration refuses to be initialised with another.
	Init(p InitParams) (*credentials.Credentials, error)
	// Invoke opens an encrypted request, runs the chaincode against the
	// host's state and returns the signed response.
	Invoke(host Host, req *protocol.RequestMessage) (*protocol.SignedResponse, error)
	// ID is the enclave id (FPC style), empty before Init.
	ID() string
}
