// Package sbe builds the key-level (state-based) endorsement policies the
// chaincodes set on the keys that belong to somebody: "a peer of each of
// these organizations" (AND of the organizations' peers).
//
// Fabric validates the first write of a key (its creation) against the
// chaincode-level policy only and every later write or delete against the
// key's own policy only, and setting a key's policy again invalidates other
// writes of the key in the same block: set a key's policy once, in the
// transaction that creates it, and never delete a key whose policy matters
// (a delete removes the policy).
package sbe

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// AllPeers returns the serialized policy that needs an endorsement by a peer
// (NodeOU role peer) of every one of the organizations mspIDs: N out of N,
// MSP IDs sorted, each once.
func AllPeers(mspIDs ...string) ([]byte, error) {
	if len(mspIDs) == 0 {
		return nil, errors.New("key-level policy: no organization")
	}
	for _, id := range mspIDs {
		if id == "" {
			return nil, errors.New("key-level policy: empty MSP ID")
		}
	}
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return nil, fmt.Errorf("key-level policy: %w", err)
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, mspIDs...); err != nil {
		return nil, fmt.Errorf("key-level policy: %w", err)
	}
	p, err := ep.Policy()
	if err != nil {
		return nil, fmt.Errorf("key-level policy: %w", err)
	}
	return p, nil
}

// SetAllPeers sets AllPeers(mspIDs...) as the key-level policy of the public
// key key. Call it only in the transaction that creates the key.
func SetAllPeers(stub shim.ChaincodeStubInterface, key string, mspIDs ...string) error {
	p, err := AllPeers(mspIDs...)
	if err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	if err := stub.SetStateValidationParameter(key, p); err != nil {
		return fmt.Errorf("key %q: set key-level policy: %w", key, err)
	}
	return nil
}

// Orgs decodes a policy made by AllPeers and returns its organizations,
// sorted. It fails on any other policy.
func Orgs(policy []byte) ([]string, error) {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(policy, &env); err != nil {
		return nil, fmt.Errorf("key-level policy: %w", err)
	}
	n := env.GetRule().GetNOutOf()
	if n == nil || int(n.GetN()) != len(env.GetIdentities()) || len(n.GetRules()) != len(env.GetIdentities()) {
		return nil, errors.New("key-level policy: not an N out of N policy")
	}
	var orgs []string
	for i, id := range env.GetIdentities() {
		var role msp.MSPRole
		if id.GetPrincipalClassification() != msp.MSPPrincipal_ROLE || proto.Unmarshal(id.GetPrincipal(), &role) != nil || role.GetRole() != msp.MSPRole_PEER {
			return nil, fmt.Errorf("key-level policy: principal %d is not an organization's peer role", i)
		}
		if n.GetRules()[i].GetSignedBy() != int32(i) {
			return nil, fmt.Errorf("key-level policy: rule %d does not name principal %d", i, i)
		}
		orgs = append(orgs, role.GetMspIdentifier())
	}
	if !slices.IsSorted(orgs) {
		return nil, errors.New("key-level policy: organizations not sorted")
	}
	return orgs, nil
}
