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
// configured for simulation. An SGX backend (FPC's EGo build) replaces
// Simulated behind the same interface; see fpc/README.md.
//
// Inside the enclave a chaincode may use only what FPC supports: GetState,
// PutState, DelState, GetStateByPartialCompositeKey, composite keys,
// GetTxTimestamp, GetTxID, GetChannelID, GetCreator, GetSignedProposal and its
// (decrypted) arguments. Chaincode-to-chaincode calls, events, range, rich
// and history queries and private data return errors.
package runtime

import (
	"time"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
)

// KV is one state entry as stored on the ledger (the value is the
// enclave-encrypted ciphertext).
type KV struct {
	Key   string
	Value []byte
}

// Host is what the untrusted side offers the enclave for one invocation:
// ledger reads at the endorsing peer, the transaction context, and the
// tunneling ocall for content the enclave verifies itself.
type Host interface {
	GetState(key string) ([]byte, error)
	GetStateByPartialCompositeKey(objectType string, attributes []string) ([]KV, error)
	TxTimestamp() (time.Time, error)
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
}

// Enclave is the enclave boundary.
type Enclave interface {
	// Init creates the enclave's keys on first use and returns credentials
	// attesting them for the given parameters.
	Init(p InitParams) (*credentials.Credentials, error)
	// Invoke opens an encrypted request, runs the chaincode against the
	// host's state and returns the signed response.
	Invoke(host Host, req *protocol.RequestMessage) (*protocol.SignedResponse, error)
	// ID is the enclave id (FPC style), empty before Init.
	ID() string
}
