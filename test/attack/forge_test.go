//go:build integration

package attack

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"time"

	gwclient "github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// forgeTimestamp rewrites a proposal's channel header timestamp and signs
// the result with key, as a client that controls its own software can: the
// transaction timestamp is the client's choice and Fabric does not check it.
// The transaction id (nonce and creator) is unchanged.
func forgeTimestamp(gw *gwclient.Gateway, p *gwclient.Proposal, at time.Time, key *ecdsa.PrivateKey) (*gwclient.Proposal, error) {
	raw, err := p.Bytes()
	if err != nil {
		return nil, err
	}
	var pt gateway.ProposedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		return nil, fmt.Errorf("decode proposed transaction: %w", err)
	}
	var prop peer.Proposal
	if err := proto.Unmarshal(pt.GetProposal().GetProposalBytes(), &prop); err != nil {
		return nil, fmt.Errorf("decode proposal: %w", err)
	}
	var hdr common.Header
	if err := proto.Unmarshal(prop.GetHeader(), &hdr); err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(hdr.GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("decode channel header: %w", err)
	}
	ch.Timestamp = timestamppb.New(at)
	if hdr.ChannelHeader, err = proto.Marshal(&ch); err != nil {
		return nil, err
	}
	if prop.Header, err = proto.Marshal(&hdr); err != nil {
		return nil, err
	}
	propBytes, err := proto.Marshal(&prop)
	if err != nil {
		return nil, err
	}
	pt.Proposal = &peer.SignedProposal{ProposalBytes: propBytes}
	out, err := proto.Marshal(&pt)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(propBytes)
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, err
	}
	sig, err := sign(sum[:])
	if err != nil {
		return nil, err
	}
	return gw.NewSignedProposal(out, sig)
}

// submitAt submits fn to chaincode as the gateway's identity, with the
// proposal options opts (arguments, transient data, endorsing
// organizations) and the transaction timestamp at, and waits for the
// commit. It returns the endorsement or commit error.
func submitAt(ctx context.Context, gw *gwclient.Gateway, key *ecdsa.PrivateKey, channel, chaincode string, at time.Time, fn string, opts ...gwclient.ProposalOption) error {
	contract := gw.GetNetwork(channel).GetContract(chaincode)
	p, err := contract.NewProposal(fn, opts...)
	if err != nil {
		return err
	}
	forged, err := forgeTimestamp(gw, p, at, key)
	if err != nil {
		return err
	}
	return endorseAndCommit(ctx, forged)
}

// endorseAndCommit endorses a proposal, submits the transaction and waits
// for its commit: the endorsement or submit error, or an error naming the
// validation code of a transaction invalidated at commit.
func endorseAndCommit(ctx context.Context, p *gwclient.Proposal) error {
	tx, err := p.EndorseWithContext(ctx)
	if err != nil {
		return err
	}
	commit, err := tx.SubmitWithContext(ctx)
	if err != nil {
		return err
	}
	status, err := commit.StatusWithContext(ctx)
	if err != nil {
		return err
	}
	if !status.Successful {
		return fmt.Errorf("transaction %s was invalidated at commit: %s", status.TransactionID, status.Code)
	}
	return nil
}
