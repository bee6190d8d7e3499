package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
)

// TransientSLA is the transient key of the SLA document of ProposeSLA,
// AcceptSLA and RenewSLA (agreement.TransientSLA).
const TransientSLA = "sla"

// SLAOptions are the proposal options of a transaction of the SLA whose
// document is doc: the arguments, the document as transient data when
// withDoc, and the provider's and the client's organizations as the only
// endorsing organizations (fabnet.SLAOrgs).
func SLAOptions(doc []byte, withDoc bool, args ...string) ([]client.ProposalOption, error) {
	s, err := sla.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("SLA document: %w", err)
	}
	orgs, err := fabnet.SLAOrgs(s.Parties.Provider.MSPID, s.Parties.Client.MSPID)
	if err != nil {
		return nil, err
	}
	opts := []client.ProposalOption{client.WithArguments(args...), client.WithEndorsingOrganizations(orgs...)}
	if withDoc {
		opts = append(opts, client.WithTransient(map[string][]byte{TransientSLA: doc}))
	}
	return opts, nil
}

// SubmitSLA submits fn(args) of the agreement chaincode as identityName for
// the SLA whose document is doc (SLAOptions), and waits as SubmitAndSync.
func (n *Network) SubmitSLA(identityName, fn string, doc []byte, withDoc bool, args ...string) ([]byte, error) {
	opts, err := SLAOptions(doc, withDoc, args...)
	if err != nil {
		return nil, err
	}
	return n.SubmitAndSyncOptions(identityName, "agreement", fn, opts...)
}

// MustSubmitSLA is SubmitSLA that fails the test when the transaction does
// not commit.
func (n *Network) MustSubmitSLA(t testing.TB, identityName, fn string, doc []byte, withDoc bool, args ...string) []byte {
	t.Helper()
	out, err := n.SubmitSLA(identityName, fn, doc, withDoc, args...)
	if err != nil {
		t.Fatalf("%s agreement.%s: %s", identityName, fn, fabnet.ErrorText(err))
	}
	return out
}

// MustProposeSLA proposes the SLA doc as identityName with the provider
// signature sig (base64): the document as transient data.
func (n *Network) MustProposeSLA(t testing.TB, identityName string, doc []byte, sig string) {
	t.Helper()
	n.MustSubmitSLA(t, identityName, "ProposeSLA", doc, true, sig)
}

// MustAcceptSLA accepts the SLA doc as identityName with the digest (hex)
// and the client signature sig (base64).
func (n *Network) MustAcceptSLA(t testing.TB, identityName string, doc []byte, id, digest, sig string) {
	t.Helper()
	n.MustSubmitSLA(t, identityName, "AcceptSLA", doc, true, id, digest, sig)
}

// MustRenewSLA renews the SLA doc as identityName.
func (n *Network) MustRenewSLA(t testing.TB, identityName string, doc []byte, id string) {
	t.Helper()
	n.MustSubmitSLA(t, identityName, "RenewSLA", doc, true, id)
}

// GetSLA evaluates the agreement chaincode's GetSLA as identityName on a
// peer of the identity's own organization (the chaincode answers there
// only, from that organization's private copy of the document); an
// organization without a peer evaluates through its Gateway's organization,
// where the chaincode refuses it.
func (n *Network) GetSLA(identityName, id string) ([]byte, error) {
	org, _, err := Identity(identityName)
	if err != nil {
		return nil, err
	}
	c, err := n.Contract(identityName, "agreement")
	if err != nil {
		return nil, err
	}
	opts := []client.ProposalOption{client.WithArguments(id)}
	if o, ok := n.Info.Orgs[org]; ok && o.GatewayOf == "" {
		opts = append(opts, client.WithEndorsingOrganizations(o.MSPID))
	}
	return c.Evaluate("GetSLA", opts...)
}

// MustGetSLA is GetSLA that fails the test on an error.
func (n *Network) MustGetSLA(t testing.TB, identityName, id string) []byte {
	t.Helper()
	out, err := n.GetSLA(identityName, id)
	if err != nil {
		t.Fatalf("%s agreement.GetSLA: %s", identityName, fabnet.ErrorText(err))
	}
	return out
}

// ExampleSLA returns the example SLA examples/<name>/sla.json of the
// repository, parsed, with id and a fresh nonce (so that its digest is new).
func ExampleSLA(t testing.TB, name, id string) *sla.SLA {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "examples", name, "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatalf("examples/%s/sla.json: %v", name, err)
	}
	s.ID = id
	if s.Nonce, err = sla.NewNonce(); err != nil {
		t.Fatal(err)
	}
	return s
}

// ShortPeriods makes s valid from start for validity (UTC), in billing periods of
// period (whole seconds) with 1-second sub-intervals: the tests' clock.
func ShortPeriods(s *sla.SLA, start time.Time, validity, period time.Duration) {
	s.Validity = sla.Validity{Start: start.UTC().Format(time.RFC3339), End: start.Add(validity).UTC().Format(time.RFC3339)}
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: int64(period / time.Second)}
	s.Interval.SubIntervalSeconds = 1
}
