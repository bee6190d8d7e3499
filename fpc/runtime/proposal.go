package runtime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-protos-go/common"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"
)

// proposalInfo is what the enclave and __endorse need from a proposal.
type proposalInfo struct {
	ChannelID string
	TxID      string
	Chaincode string
	Creator   []byte
	Args      [][]byte
	// Timestamp is the channel header's timestamp (UTC), the transaction
	// time the client chose; zero when the header carries none.
	Timestamp time.Time
}

// parseProposal decodes a proposal's headers and chaincode input.
func parseProposal(proposalBytes []byte) (*proposalInfo, error) {
	var prop pb.Proposal
	if err := proto.Unmarshal(proposalBytes, &prop); err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	var hdr common.Header
	if err := proto.Unmarshal(prop.Header, &hdr); err != nil {
		return nil, fmt.Errorf("proposal header: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(hdr.ChannelHeader, &ch); err != nil {
		return nil, fmt.Errorf("proposal channel header: %w", err)
	}
	if common.HeaderType(ch.Type) != common.HeaderType_ENDORSER_TRANSACTION {
		return nil, fmt.Errorf("proposal: header type %d is not an endorser transaction", ch.Type)
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(hdr.SignatureHeader, &sh); err != nil {
		return nil, fmt.Errorf("proposal signature header: %w", err)
	}
	var ext pb.ChaincodeHeaderExtension
	if err := proto.Unmarshal(ch.Extension, &ext); err != nil {
		return nil, fmt.Errorf("proposal chaincode header: %w", err)
	}
	var payload pb.ChaincodeProposalPayload
	if err := proto.Unmarshal(prop.Payload, &payload); err != nil {
		return nil, fmt.Errorf("proposal payload: %w", err)
	}
	var cis pb.ChaincodeInvocationSpec
	if err := proto.Unmarshal(payload.Input, &cis); err != nil {
		return nil, fmt.Errorf("proposal invocation spec: %w", err)
	}
	info := &proposalInfo{ChannelID: ch.ChannelId, TxID: ch.TxId, Creator: sh.Creator}
	if ch.Timestamp != nil {
		info.Timestamp = time.Unix(ch.Timestamp.Seconds, int64(ch.Timestamp.Nanos)).UTC()
	}
	if ext.ChaincodeId != nil {
		info.Chaincode = ext.ChaincodeId.Name
	}
	if cis.ChaincodeSpec != nil && cis.ChaincodeSpec.Input != nil {
		info.Args = cis.ChaincodeSpec.Input.Args
	}
	return info, nil
}

// verifyCreatorSignature checks that signature is the creator's ECDSA
// signature over the proposal bytes. The peer has already validated the
// creator against the channel's MSPs; the enclave re-checks the signature so
// that a host cannot run the enclave under a proposal nobody signed.
func verifyCreatorSignature(creator, proposalBytes, signature []byte) (mspID string, cert *x509.Certificate, err error) {
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(creator, &id); err != nil {
		return "", nil, fmt.Errorf("proposal creator: %w", err)
	}
	block, _ := pem.Decode(id.IdBytes)
	if block == nil {
		return "", nil, errors.New("proposal creator: no PEM certificate")
	}
	cert, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", nil, fmt.Errorf("proposal creator certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return "", nil, errors.New("proposal creator certificate: not an ECDSA key")
	}
	sum := sha256.Sum256(proposalBytes)
	if !ecdsa.VerifyASN1(pub, sum[:], signature) {
		return "", nil, errors.New("proposal: the creator's signature does not verify")
	}
	return id.Mspid, cert, nil
}

// checkInvokeProposal binds an __invoke execution to its signed proposal:
// same channel, transaction and creator as the host claims, a valid creator
// signature, a timestamp, and the request message as the proposal's
// argument. It returns the proposal bytes and what they say.
func checkInvokeProposal(host Host, requestJSON []byte) ([]byte, *proposalInfo, error) {
	propBytes, sig, err := host.SignedProposal()
	if err != nil {
		return nil, nil, fmt.Errorf("signed proposal: %w", err)
	}
	info, err := parseProposal(propBytes)
	if err != nil {
		return nil, nil, err
	}
	// mutate:check invoke-proposal-channel
	if info.ChannelID != host.ChannelID() {
		return nil, nil, fmt.Errorf("proposal: channel %q is not the host's channel %q", info.ChannelID, host.ChannelID())
	}
	// mutate:check invoke-proposal-txid
	if info.TxID != host.TxID() {
		return nil, nil, errors.New("proposal: transaction id does not match the host's")
	}
	creator, err := host.Creator()
	if err != nil {
		return nil, nil, fmt.Errorf("creator: %w", err)
	}
	// mutate:check invoke-proposal-creator
	if !bytes.Equal(creator, info.Creator) {
		return nil, nil, errors.New("proposal: creator does not match the host's")
	}
	// mutate:check invoke-proposal-signature
	if _, _, err := verifyCreatorSignature(info.Creator, propBytes, sig); err != nil {
		return nil, nil, err
	}
	// mutate:check invoke-proposal-args
	if len(info.Args) != 2 || string(info.Args[0]) != "__invoke" || !bytes.Equal(info.Args[1], requestJSON) {
		return nil, nil, errors.New("proposal: its arguments are not this __invoke request")
	}
	// mutate:check invoke-proposal-timestamp
	if info.Timestamp.IsZero() {
		return nil, nil, errors.New("proposal: its channel header carries no timestamp")
	}
	return propBytes, info, nil
}
