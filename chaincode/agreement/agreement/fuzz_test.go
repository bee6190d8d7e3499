package agreement_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
)

// FuzzProposeSLA drives ProposeSLA with any document (transient "sla") and
// provider signature: never a panic, and a refusal changes nothing.
func FuzzProposeSLA(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "fuzz-1")
	doc, d := cctest.Doc(f, s)
	n.Fund(s, 100_000)
	f.Add([]byte(doc), cctest.Sign(f, n.Provider, d))
	f.Add([]byte(doc), "")
	f.Add([]byte(`{"schema_version":"slasa.sla/v1"}`), "AAAA")
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, doc []byte, sig string) {
		n.T = t
		n.FuzzCall(t, cctest.ProposeCall(n.Provider, string(doc), sig))
	})
}

// FuzzAcceptSLA drives AcceptSLA of a proposed SLA with any id, digest,
// signature and document.
func FuzzAcceptSLA(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "fuzz-1")
	n.Fund(s, 100_000)
	d := n.MustPropose(s)
	doc, _ := cctest.Doc(f, s)
	f.Add("fuzz-1", cctest.Hex(d), cctest.Sign(f, n.Client, d), []byte(doc))
	f.Add("fuzz-1", cctest.Hex(d), "", []byte(doc))
	f.Add("fuzz-2", "00", "AA==", []byte(`{}`))
	f.Fuzz(func(t *testing.T, id, digest, sig string, doc []byte) {
		n.T = t
		n.FuzzCall(t, cctest.WithDocument(n.Client, string(doc), "AcceptSLA", id, digest, sig))
	})
}

// FuzzAnchorLogBatch drives AnchorLogBatch of an active SLA with any
// arguments.
func FuzzAnchorLogBatch(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "fuzz-1")
	n.Activate(s, 100_000)
	n.At("2026-01-02T00:00:00Z")
	a := signedsla.Anchor{SLAID: s.ID, Seq: 1, CID: cctest.CID(s.ID, 1), PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T01:00:00Z"}
	f.Add(a.SLAID, fmt.Sprint(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, cctest.AnchorSig(f, n.Logger, a))
	f.Add(a.SLAID, "0", "", "", "", "", "")
	f.Add("fuzz-9", "-1", "x", "y", "2026-13-01T00:00:00Z", "24:00", "AA==")
	f.Fuzz(func(t *testing.T, id, seq, cid, prev, start, end, sig string) {
		n.T = t
		n.FuzzCall(t, fabricfake.Call{ID: n.Logger, Chaincode: cctest.Agreement, Fn: "AnchorLogBatch", Args: []string{id, seq, cid, prev, start, end, sig}})
	})
}

// FuzzRenewSLA drives RenewSLA of an active SLA (once its paid period has
// begun) with any id and document (transient "sla").
func FuzzRenewSLA(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "fuzz-1")
	n.Activate(s, 300_000)
	n.At("2026-01-06T00:00:00Z")
	doc, _ := cctest.Doc(f, s)
	f.Add("fuzz-1", []byte(doc))
	f.Add("fuzz-1", []byte(strings.Replace(doc, `"fuzz-1"`, `"fuzz-2"`, 1)))
	f.Add("fuzz-2", []byte(`{}`))
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, id string, doc []byte) {
		n.T = t
		n.FuzzCall(t, cctest.WithDocument(n.Client, string(doc), "RenewSLA", id))
	})
}

// FuzzTerminateSLA drives TerminateSLA of an active SLA with any id and
// reason.
func FuzzTerminateSLA(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "fuzz-1")
	n.Activate(s, 300_000)
	n.At("2026-01-06T00:00:00Z")
	f.Add("fuzz-1", "the service moved")
	f.Add("fuzz-1", "")
	f.Add("fuzz-1", "two\nlines")
	f.Add("fuzz-1", strings.Repeat("x", 257))
	f.Add("fuzz-2", "no such SLA")
	f.Fuzz(func(t *testing.T, id, reason string) {
		n.T = t
		n.FuzzCall(t, fabricfake.Call{ID: n.Client, Chaincode: cctest.Agreement, Fn: "TerminateSLA", Args: []string{id, reason}})
	})
}

// FuzzConfigure drives the agreement chaincode's Configure with any
// configuration JSON (cctest.FuzzConfigure).
func FuzzConfigure(f *testing.F) { cctest.FuzzConfigure(f, cctest.Agreement) }
