package logger

import (
	"context"
	"strings"
	"testing"

	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

func TestSLAOrgs(t *testing.T) {
	a := &sla.SLA{ID: "a", Parties: sla.Parties{Provider: sla.Party{MSPID: "P"}, Client: sla.Party{MSPID: "C"}}}
	b := &sla.SLA{ID: "b", Parties: sla.Parties{Provider: sla.Party{MSPID: "X"}, Client: sla.Party{MSPID: "X"}}}
	orgs, err := SLAOrgs([]*sla.SLA{a})
	if err != nil || strings.Join(orgs["a"], ",") != "C,P" {
		t.Fatalf("%v %v", orgs, err)
	}
	if _, err := SLAOrgs([]*sla.SLA{a, b}); err == nil || err.Error() != `SLA "b": the endorsing organizations of an SLA: the provider and the client are the same organization X` {
		t.Fatalf("err = %v", err)
	}
	// An anchor of an SLA whose parties are unknown is not submitted.
	c := &AgreementClient{Orgs: orgs}
	if err := c.AnchorLogBatch(context.Background(), signedsla.Anchor{SLAID: "z"}, nil); err == nil ||
		err.Error() != `AnchorLogBatch: the endorsing organizations of SLA "z" are not known (its document was not given)` {
		t.Fatalf("err = %v", err)
	}
	var v AgreementView
	v.Parties.Provider.MSPID, v.Parties.Client.MSPID = "P", "C"
	if o, err := v.Orgs(); err != nil || strings.Join(o, ",") != "C,P" {
		t.Fatalf("%v %v", o, err)
	}
}
