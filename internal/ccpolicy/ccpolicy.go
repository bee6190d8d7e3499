// Package ccpolicy builds the key-level (state-based) endorsement policies
// of the slasa chaincodes: marshalled common.SignaturePolicyEnvelope values
// for SetStateValidationParameter, over the PEER role of MSPs, with sorted
// MSP lists and deterministic bytes (the same arguments give the same bytes
// on every endorsing peer, as the endorsements of one transaction must
// agree).
//
//	AllOf(A, B)             AND('A.peer', 'B.peer')              e.g. an escrow: both parties of an SLA
//	OutOf(2, orgs)          any two organizations' peers         the chaincode-level policy
//	OwnerAndOneOf(A, orgs)  AND('A.peer', OR(other orgs' peers))  a wallet: its owner and one more organization
//
// Fabric checks a key's policy on every write and delete after the key's
// creation, instead of the chaincode's policy; the creation itself is
// checked against the chaincode's policy. Set a key's policy once, in the
// transaction that creates it: setting it again invalidates the other
// writes of the key in the same block, and a delete removes it.
package ccpolicy

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// AllOf returns the policy "a peer of every one of orgs" (NOutOf(len(orgs))
// over their PEER roles, the MSP IDs sorted and deduplicated): the bytes
// fabric-chaincode-go's statebased package builds for the same orgs.
func AllOf(orgs ...string) ([]byte, error) {
	ids, err := clean(orgs)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errors.New("policy: no organization")
	}
	rules := make([]*common.SignaturePolicy, len(ids))
	for i := range ids {
		rules[i] = signedBy(i)
	}
	return marshal(ids, outOf(len(ids), rules...))
}

// OutOf returns the policy "peers of n of orgs" (sorted, deduplicated),
// e.g. the chaincode-level policy OutOf(2, every peer organization) of the
// design: any two organizations.
func OutOf(n int, orgs ...string) ([]byte, error) {
	ids, err := clean(orgs)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > len(ids) {
		return nil, fmt.Errorf("policy: OutOf(%d) of %d organizations", n, len(ids))
	}
	rules := make([]*common.SignaturePolicy, len(ids))
	for i := range ids {
		rules[i] = signedBy(i)
	}
	return marshal(ids, outOf(n, rules...))
}

// OwnerAndOneOf returns the policy "a peer of owner AND a peer of one of
// the other organizations of orgs" (orgs without owner, sorted and
// deduplicated): no organization alone, not even the owner, satisfies it,
// and the owner with any one other organization does. It fails when orgs
// names no organization but the owner.
func OwnerAndOneOf(owner string, orgs []string) ([]byte, error) {
	if err := checkMSP(owner); err != nil {
		return nil, err
	}
	all, err := clean(orgs)
	if err != nil {
		return nil, err
	}
	others := slices.DeleteFunc(all, func(o string) bool { return o == owner })
	if len(others) == 0 {
		return nil, fmt.Errorf("policy: no organization but %s to co-endorse", owner)
	}
	ids := append([]string{owner}, others...)
	rules := make([]*common.SignaturePolicy, len(others))
	for i := range others {
		rules[i] = signedBy(i + 1)
	}
	return marshal(ids, outOf(2, signedBy(0), outOf(1, rules...)))
}

// Owner returns the owner of a policy that OwnerAndOneOf built and the
// other organizations, sorted; an error when raw is not such a policy.
func Owner(raw []byte) (owner string, others []string, err error) {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return "", nil, fmt.Errorf("policy: decode: %w", err)
	}
	ids := make([]string, 0, len(env.GetIdentities()))
	for i, p := range env.GetIdentities() {
		var role msp.MSPRole
		if p.GetPrincipalClassification() != msp.MSPPrincipal_ROLE {
			return "", nil, fmt.Errorf("policy: principal %d is not an MSP role", i)
		}
		if err := proto.Unmarshal(p.GetPrincipal(), &role); err != nil {
			return "", nil, fmt.Errorf("policy: principal %d: %w", i, err)
		}
		if role.GetRole() != msp.MSPRole_PEER {
			return "", nil, fmt.Errorf("policy: principal %d is the %s role, not peer", i, role.GetRole())
		}
		ids = append(ids, role.GetMspIdentifier())
	}
	if len(ids) < 2 {
		return "", nil, errors.New("policy: not an owner-and-one-of policy")
	}
	want, err := OwnerAndOneOf(ids[0], ids[1:])
	if err != nil {
		return "", nil, err
	}
	if !proto.Equal(mustUnmarshal(want), &env) {
		return "", nil, errors.New("policy: not an owner-and-one-of policy")
	}
	return ids[0], ids[1:], nil
}

func mustUnmarshal(raw []byte) *common.SignaturePolicyEnvelope {
	var env common.SignaturePolicyEnvelope
	_ = proto.Unmarshal(raw, &env)
	return &env
}

func clean(orgs []string) ([]string, error) {
	out := make([]string, 0, len(orgs))
	for _, o := range orgs {
		if err := checkMSP(o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

func checkMSP(id string) error {
	if id == "" {
		return errors.New("policy: empty MSP ID")
	}
	return nil
}

func signedBy(i int) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: int32(i)}}
}

func outOf(n int, rules ...*common.SignaturePolicy) *common.SignaturePolicy {
	return &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: int32(n), Rules: rules}}}
}

func marshal(ids []string, rule *common.SignaturePolicy) ([]byte, error) {
	env := &common.SignaturePolicyEnvelope{Version: 0, Rule: rule}
	for _, id := range ids {
		role, err := proto.MarshalOptions{Deterministic: true}.Marshal(&msp.MSPRole{MspIdentifier: id, Role: msp.MSPRole_PEER})
		if err != nil {
			return nil, fmt.Errorf("policy: encode the role of %s: %w", id, err)
		}
		env.Identities = append(env.Identities, &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_ROLE, Principal: role})
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("policy: encode: %w", err)
	}
	return raw, nil
}

// AllOfOrgs decodes a policy made by AllOf and returns its organizations,
// sorted. It fails on any other policy.
func AllOfOrgs(raw []byte) ([]string, error) {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	n := env.GetRule().GetNOutOf()
	if n == nil || int(n.GetN()) != len(env.GetIdentities()) || len(n.GetRules()) != len(env.GetIdentities()) {
		return nil, errors.New("policy: not an N out of N policy")
	}
	var orgs []string
	for i, id := range env.GetIdentities() {
		var role msp.MSPRole
		if id.GetPrincipalClassification() != msp.MSPPrincipal_ROLE || proto.Unmarshal(id.GetPrincipal(), &role) != nil || role.GetRole() != msp.MSPRole_PEER {
			return nil, fmt.Errorf("policy: principal %d is not an organization's peer role", i)
		}
		if n.GetRules()[i].GetSignedBy() != int32(i) {
			return nil, fmt.Errorf("policy: rule %d does not name principal %d", i, i)
		}
		orgs = append(orgs, role.GetMspIdentifier())
	}
	if !slices.IsSorted(orgs) {
		return nil, errors.New("policy: organizations not sorted")
	}
	return orgs, nil
}
