// Package fpctest holds test doubles for private chaincodes on the v1 shim's
// shimtest.MockStub: the enclave registry's QueryEnclave, _lifecycle's
// QueryChaincodeDefinition, signed endorser proposals, and world-state
// snapshots. It links the v1 shim, so only v1-side tests may import it.
package fpctest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/golang/protobuf/ptypes/timestamp"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	//lint:ignore SA1019 shimtest is the v1 shim's only stub double that drives InvokeChaincode between chaincodes
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/common"
	pb "github.com/hyperledger/fabric-protos-go/peer"
	"github.com/hyperledger/fabric-protos-go/peer/lifecycle"

	"github.com/slasa/slasa/internal/deploycfg"
)

// RegistryDouble serves the enclave registry's QueryEnclave for one
// chaincode with Record (the JSON of a credentials.Record); with Record nil
// nothing is registered. A unit-test double of the ercc chaincode.
type RegistryDouble struct {
	Chaincode string
	Record    []byte
}

// Init does nothing.
func (r *RegistryDouble) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

// Invoke answers QueryEnclave.
func (r *RegistryDouble) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	fn, args := stub.GetFunctionAndParameters()
	if fn != "QueryEnclave" || len(args) != 1 || args[0] != r.Chaincode || r.Record == nil {
		return shim.Error(fmt.Sprintf("no enclave is registered for chaincode %q", strings.Join(args, ",")))
	}
	return shim.Success(r.Record)
}

// LifecycleDouble answers _lifecycle's QueryChaincodeDefinition for one
// committed chaincode definition.
type LifecycleDouble struct {
	Chaincode string
	Version   string
	Sequence  int64
}

// Init does nothing.
func (LifecycleDouble) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

// Invoke answers QueryChaincodeDefinition.
func (l LifecycleDouble) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	args := stub.GetArgs()
	var q lifecycle.QueryChaincodeDefinitionArgs
	if len(args) != 2 || string(args[0]) != "QueryChaincodeDefinition" || proto.Unmarshal(args[1], &q) != nil || q.Name != l.Chaincode {
		return shim.Error("namespace not defined")
	}
	b, err := proto.Marshal(&lifecycle.QueryChaincodeDefinitionResult{Version: l.Version, Sequence: l.Sequence})
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(b)
}

// SignedProposal builds an endorser proposal to chaincode on channel with
// args, timestamped ts (no timestamp when ts is zero), from creator (a
// serialized identity), signed with key as a client signs: ECDSA over SHA-256
// of the proposal bytes.
func SignedProposal(key *ecdsa.PrivateKey, creator []byte, channel, chaincode, txID string, ts time.Time, args ...[]byte) (*pb.SignedProposal, error) {
	ext, err := proto.Marshal(&pb.ChaincodeHeaderExtension{ChaincodeId: &pb.ChaincodeID{Name: chaincode}})
	if err != nil {
		return nil, err
	}
	hdr := &common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: channel, TxId: txID, Extension: ext}
	if !ts.IsZero() {
		hdr.Timestamp = &timestamp.Timestamp{Seconds: ts.Unix(), Nanos: int32(ts.Nanosecond())}
	}
	ch, err := proto.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	sh, err := proto.Marshal(&common.SignatureHeader{Creator: creator, Nonce: []byte(txID)})
	if err != nil {
		return nil, err
	}
	header, err := proto.Marshal(&common.Header{ChannelHeader: ch, SignatureHeader: sh})
	if err != nil {
		return nil, err
	}
	cis, err := proto.Marshal(&pb.ChaincodeInvocationSpec{ChaincodeSpec: &pb.ChaincodeSpec{ChaincodeId: &pb.ChaincodeID{Name: chaincode}, Input: &pb.ChaincodeInput{Args: args}}})
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&pb.ChaincodeProposalPayload{Input: cis})
	if err != nil {
		return nil, err
	}
	propBytes, err := proto.Marshal(&pb.Proposal{Header: header, Payload: payload})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(propBytes)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, err
	}
	return &pb.SignedProposal{ProposalBytes: propBytes, Signature: sig}, nil
}

// DeployConfig returns a valid deploy configuration for v1-side tests on
// channel "slasa" with the chaincodes agreement, refund, ercc and
// slaenclave: orgs run them and approve the file, the first is the issuer and
// hosts the enclave (simulated attestation), and msps are the CAs the
// enclave trusts. (internal/fabricfake.DeployConfig links the v2 shim.)
func DeployConfig(orgs []string, msps ...deploycfg.MSP) *deploycfg.Config {
	c := &deploycfg.Config{
		Version: deploycfg.Version, Channel: "slasa", Orgs: orgs,
		Chaincodes: deploycfg.Chaincodes{Agreement: "agreement", Refund: "refund", Registry: "ercc", Enclave: "slaenclave"},
		Enclave:    deploycfg.Enclave{Attestation: deploycfg.AttestationSimulated},
		MSPs:       msps,
	}
	if len(orgs) > 0 {
		c.IssuerMSPID, c.Enclave.HostMSPID = orgs[0], orgs[0]
	}
	c.Normalize()
	return c
}

// Snapshot copies the world state of a mock stub.
func Snapshot(stub *shimtest.MockStub) map[string]string {
	out := make(map[string]string, len(stub.State))
	for k, v := range stub.State {
		out[k] = string(v)
	}
	return out
}

// SameState reports whether two snapshots hold the same keys with the same
// values.
func SameState(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
