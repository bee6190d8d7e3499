package fabricfake

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// Endorsers is the set of organizations whose peers endorsed a
// transaction: one peer identity (NodeOU role peer) per organization.
// Every is the default endorsement: "the right organizations" (see
// World.PeerOrgs); it satisfies every principal of a peer or member role.
type Endorsers struct {
	Orgs  []string
	Every bool
}

// EndorsedBy returns the endorsements of the peers of orgs.
func EndorsedBy(orgs ...string) Endorsers {
	o := append([]string(nil), orgs...)
	sort.Strings(o)
	return Endorsers{Orgs: o}
}

func (e Endorsers) String() string {
	if e.Every {
		return "every organization"
	}
	if len(e.Orgs) == 0 {
		return "no organization"
	}
	return strings.Join(e.Orgs, ", ")
}

// policy is a parsed common.SignaturePolicyEnvelope.
type policy struct {
	rule       *common.SignaturePolicy
	principals []principal
}

type principal struct {
	mspID string
	role  msp.MSPRole_MSPRoleType
}

// parsePolicy decodes a signature policy envelope (a key's validation
// parameter or a chaincode's endorsement policy) whose principals are MSP
// roles.
func parsePolicy(raw []byte) (*policy, error) {
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode signature policy envelope: %w", err)
	}
	if env.GetRule() == nil {
		return nil, errors.New("signature policy envelope without a rule")
	}
	p := &policy{rule: env.GetRule()}
	for i, id := range env.GetIdentities() {
		if id.GetPrincipalClassification() != msp.MSPPrincipal_ROLE {
			return nil, fmt.Errorf("principal %d: classification %s is not modelled (MSP roles only)", i, id.GetPrincipalClassification())
		}
		var role msp.MSPRole
		if err := proto.Unmarshal(id.GetPrincipal(), &role); err != nil {
			return nil, fmt.Errorf("principal %d: decode MSP role: %w", i, err)
		}
		p.principals = append(p.principals, principal{mspID: role.GetMspIdentifier(), role: role.GetRole()})
	}
	if err := p.check(p.rule); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *policy) check(r *common.SignaturePolicy) error {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		if t.SignedBy < 0 || int(t.SignedBy) >= len(p.principals) {
			return fmt.Errorf("signed_by %d names no principal (%d)", t.SignedBy, len(p.principals))
		}
	case *common.SignaturePolicy_NOutOf_:
		for _, sub := range t.NOutOf.GetRules() {
			if err := p.check(sub); err != nil {
				return err
			}
		}
	default:
		return errors.New("signature policy rule of no known type")
	}
	return nil
}

// satisfiedBy evaluates the policy the way Fabric's cauthdsl does: each
// endorsing identity satisfies at most one signed_by of a satisfied
// n_out_of, tried in order.
func (p *policy) satisfiedBy(e Endorsers) bool {
	used := make([]bool, len(e.Orgs))
	return p.eval(p.rule, e, used)
}

func (p *policy) eval(r *common.SignaturePolicy, e Endorsers, used []bool) bool {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		pr := p.principals[t.SignedBy]
		if pr.role != msp.MSPRole_PEER && pr.role != msp.MSPRole_MEMBER {
			return false // an endorsement is a peer's signature
		}
		if e.Every {
			return true
		}
		for i, org := range e.Orgs {
			if !used[i] && org == pr.mspID {
				used[i] = true
				return true
			}
		}
		return false
	case *common.SignaturePolicy_NOutOf_:
		verified := int32(0)
		tmp := make([]bool, len(used))
		for _, sub := range t.NOutOf.GetRules() {
			copy(tmp, used)
			if p.eval(sub, e, tmp) {
				verified++
				copy(used, tmp)
			}
		}
		return verified >= t.NOutOf.GetN()
	}
	return false
}

// String writes the policy as Fabric's policy language would, e.g.
// AND('A.peer', OutOf(1, 'B.peer', 'C.peer')).
func (p *policy) String() string { return p.str(p.rule) }

func (p *policy) str(r *common.SignaturePolicy) string {
	switch t := r.GetType().(type) {
	case *common.SignaturePolicy_SignedBy:
		pr := p.principals[t.SignedBy]
		return fmt.Sprintf("'%s.%s'", pr.mspID, strings.ToLower(pr.role.String()))
	case *common.SignaturePolicy_NOutOf_:
		parts := make([]string, 0, len(t.NOutOf.GetRules()))
		for _, sub := range t.NOutOf.GetRules() {
			parts = append(parts, p.str(sub))
		}
		return fmt.Sprintf("OutOf(%d, %s)", t.NOutOf.GetN(), strings.Join(parts, ", "))
	}
	return "?"
}

// DescribePolicy writes a signature policy envelope in Fabric's policy
// language with OutOf for every n_out_of (for test messages).
func DescribePolicy(raw []byte) string {
	p, err := parsePolicy(raw)
	if err != nil {
		return "invalid policy: " + err.Error()
	}
	return p.String()
}

// PolicySatisfied reports whether the peers of e satisfy the signature
// policy envelope raw (an error when it does not decode).
func PolicySatisfied(raw []byte, e Endorsers) (bool, error) {
	p, err := parsePolicy(raw)
	if err != nil {
		return false, err
	}
	return p.satisfiedBy(e), nil
}

// SignaturePolicy builds a signature policy envelope for tests of the fake:
// OutOf(n) over the peers of orgs, in the order given.
func SignaturePolicy(n int, orgs ...string) []byte {
	env := &common.SignaturePolicyEnvelope{Rule: &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: int32(n)}}}}
	for i, o := range orgs {
		role, _ := proto.Marshal(&msp.MSPRole{MspIdentifier: o, Role: msp.MSPRole_PEER})
		env.Identities = append(env.Identities, &msp.MSPPrincipal{PrincipalClassification: msp.MSPPrincipal_ROLE, Principal: role})
		env.Rule.GetNOutOf().Rules = append(env.Rule.GetNOutOf().Rules, &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: int32(i)}})
	}
	raw, _ := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	return raw
}
