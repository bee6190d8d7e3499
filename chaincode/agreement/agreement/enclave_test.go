package agreement_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

// propose proposes the example SLA id and returns its document, its
// digest and the client's signature over it.
func propose(t *testing.T, n *cctest.Net, id string) (string, string, string) {
	t.Helper()
	s := cctest.ExampleSLA(t, id)
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))
	return doc, cctest.Hex(d), cctest.Sign(t, n.Client, d)
}

func TestAcceptPinsTheRegisteredEnclave(t *testing.T) {
	n := cctest.New(t)
	n.Activate(cctest.ExampleSLA(t, "sla-1"), 100_000)
	a := get(t, n, "sla-1")
	want := agreement.EnclavePin{Chaincode: cctest.Enclave, EnclaveID: n.EnclaveID, ChaincodeVersion: "1.0", ChaincodeSequence: 1,
		AttestationType: "simulated", ConfigDigest: n.Guard.Digest(), EnclaveVK: n.Registry.Records[cctest.Enclave][n.EnclaveID].EnclaveVK,
		PinnedAt: a.AcceptedAt, PinnedTxID: a.Enclave.PinnedTxID}
	if a.Enclave == nil || *a.Enclave != want || a.Enclave.PinnedTxID == "" || len(a.EnclaveHistory) != 0 || a.Handover != nil {
		t.Fatalf("pin %+v, want %+v", a.Enclave, want)
	}
	// A later registration (a redeploy, a rotated key) does not move the pin.
	n.NewEnclave()
	if b := get(t, n, "sla-1"); *b.Enclave != want {
		t.Fatalf("pin moved to %+v", b.Enclave)
	}
}

func TestAcceptRefusesEnclavesItCannotPin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(n *cctest.Net)
		want  func(n *cctest.Net) string
	}{
		{"no enclave registered", func(n *cctest.Net) { delete(n.Registry.Current, cctest.Enclave) },
			func(*cctest.Net) string {
				return `SLA "sla-1": pin the enclave: ercc QueryEnclave: no enclave is registered for chaincode "slaenclave"`
			}},
		{"initialised with another configuration", func(n *cctest.Net) {
			rec := n.Registry.Records[cctest.Enclave][n.EnclaveID]
			rec.ConfigDigest = strings.Repeat("0", 64)
			n.Registry.Records[cctest.Enclave][n.EnclaveID] = rec
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`SLA "sla-1": pin the enclave: enclave %s of chaincode "slaenclave" was initialised with the deploy configuration %q, not this peer's (%s); register an enclave initialised with it`,
				n.EnclaveID, strings.Repeat("0", 64), n.Guard.Digest())
		}},
		{"the registry answers for another chaincode", func(n *cctest.Net) {
			rec := n.Registry.Records[cctest.Enclave][n.EnclaveID]
			rec.Chaincode = "evil"
			n.Registry.Records[cctest.Enclave][n.EnclaveID] = rec
		}, func(n *cctest.Net) string {
			return fmt.Sprintf(`SLA "sla-1": pin the enclave: the registry answered with enclave %q of chaincode "evil", not an enclave of chaincode "slaenclave"`, n.EnclaveID)
		}},
		{"the registry's record holds another enclave's key", func(n *cctest.Net) {
			rec := n.Registry.Records[cctest.Enclave][n.EnclaveID]
			_, other := n.NewEnclave()
			rec.EnclaveVK = n.Registry.Records[cctest.Enclave][other].EnclaveVK
			n.Registry.Records[cctest.Enclave][n.EnclaveID] = rec
			n.Registry.Current[cctest.Enclave] = n.EnclaveID
		}, func(n *cctest.Net) string {
			var other string
			for id := range n.Registry.Records[cctest.Enclave] {
				if id != n.EnclaveID {
					other = id
				}
			}
			return fmt.Sprintf(`SLA "sla-1": pin the enclave: the registry's record of enclave %s of chaincode "slaenclave" holds the key of enclave %s`, n.EnclaveID, other)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := cctest.New(t)
			doc, d, sig := propose(t, n, "sla-1")
			tc.setup(n)
			n.ExpectCallError(cctest.WithDocument(n.Client, doc, "AcceptSLA", "sla-1", d, sig), tc.want(n))
		})
	}
}

func handover(t *testing.T, n *cctest.Net, who *fabricfake.Identity, slaID, enclaveID string) (string, agreement.HandoverEvent) {
	t.Helper()
	r := n.Submit(who, AG, "ApproveEnclaveHandover", slaID, enclaveID)
	if !r.OK() {
		t.Fatalf("ApproveEnclaveHandover(%s, %s): %s", slaID, enclaveID, r.Message)
	}
	var ev agreement.HandoverEvent
	if err := json.Unmarshal(r.Event.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	return r.Event.Name, ev
}

func TestEnclaveHandover(t *testing.T) {
	n := cctest.New(t)
	n.Activate(cctest.ExampleSLA(t, "sla-1"), 100_000)
	old := n.EnclaveID
	pinned := *get(t, n, "sla-1").Enclave
	_, b := n.NewEnclave()
	_, c := n.NewEnclave()

	otherCA := cctest.SameCN(n.ClientCA2, n.Client, "client")
	adminRole := cctest.SameCN(n.ProviderCA, n.Provider, "admin")
	for _, who := range []*fabricfake.Identity{n.Logger, n.Other, n.Stranger, n.ProviderAdmin, n.ClientAdmin, otherCA, adminRole} {
		n.ExpectError(who, AG, "ApproveEnclaveHandover", fmt.Sprintf(`only the SLA's provider or client may approve an enclave handover of SLA "sla-1" (caller %s)`, cctest.ID(who)), "sla-1", b)
	}
	unknown := strings.Repeat("AB", 32)
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", fmt.Sprintf(`enclaveID: %s is not a registered enclave of chaincode "slaenclave": ercc QueryEnclaveByID: enclave %s of chaincode "slaenclave" is not registered`, unknown, unknown), "sla-1", unknown)
	n.ExpectError(n.Client, AG, "ApproveEnclaveHandover", fmt.Sprintf(`enclaveID: %s is already the pinned enclave of SLA "sla-1"`, old), "sla-1", old)
	n.ExpectError(n.Client, AG, "ApproveEnclaveHandover", `SLA "nope" does not exist`, "nope", b)

	// One party's approval does not move the pin.
	name, ev := handover(t, n, n.Provider, "sla-1", b)
	a := get(t, n, "sla-1")
	if name != agreement.EventEnclaveHandoverApproved || *a.Enclave != pinned || a.Handover == nil || a.Handover.ProviderApproves != b || a.Handover.ClientApproves != "" ||
		ev.ApprovedAs != "provider" || ev.By.Subject != cctest.DN(n.Provider) || ev.By.Issuer != cctest.IssuerDN(n.Provider) || ev.EnclaveID != b || ev.Enclave != pinned || ev.Previous != nil {
		t.Fatalf("after the provider's approval: %s %+v / %+v", name, a, ev)
	}
	// Two different approvals do not move it either.
	name, _ = handover(t, n, n.Client, "sla-1", c)
	if a = get(t, n, "sla-1"); name != agreement.EventEnclaveHandoverApproved || *a.Enclave != pinned || a.Handover.ProviderApproves != b || a.Handover.ClientApproves != c {
		t.Fatalf("after different approvals: %s %+v", name, a)
	}
	// Both name b: the pin moves, the old pin is kept in the history.
	name, ev = handover(t, n, n.Client, "sla-1", b)
	a = get(t, n, "sla-1")
	if name != agreement.EventEnclaveHandover || a.Enclave.EnclaveID != b || a.Enclave.ChaincodeSequence != 2 || a.Enclave.PinnedAt == pinned.PinnedAt ||
		len(a.EnclaveHistory) != 1 || a.EnclaveHistory[0] != pinned || a.Handover != nil ||
		ev.Previous == nil || *ev.Previous != pinned || ev.Enclave != *a.Enclave || ev.ApprovedAs != "client" || ev.Handover != nil {
		t.Fatalf("after the handover: %s pin %+v history %+v handover %+v / %+v", name, a.Enclave, a.EnclaveHistory, a.Handover, ev)
	}
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", fmt.Sprintf(`enclaveID: %s is already the pinned enclave of SLA "sla-1"`, b), "sla-1", b)

	// A terminated SLA's pin can still be handed over (its escrow is settled).
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-1", "done")
	handover(t, n, n.Provider, "sla-1", old)
	name, _ = handover(t, n, n.Client, "sla-1", old)
	if a = get(t, n, "sla-1"); name != agreement.EventEnclaveHandover || a.Enclave.EnclaveID != old || len(a.EnclaveHistory) != 2 {
		t.Fatalf("handover back: %s %+v", name, a)
	}
}

func TestEnclaveHandoverRefusals(t *testing.T) {
	n := cctest.New(t)
	propose(t, n, "sla-p")
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", `SLA "sla-p" is PROPOSED; an enclave handover is approved for an ACTIVE or TERMINATED SLA`, "sla-p", n.EnclaveID)
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-p", "no")
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", `SLA "sla-p" is WITHDRAWN; an enclave handover is approved for an ACTIVE or TERMINATED SLA`, "sla-p", n.EnclaveID)

	n.Activate(cctest.ExampleSLA(t, "sla-1"), 100_000)
	_, b := n.NewEnclave()
	rec := n.Registry.Records[cctest.Enclave][b]
	rec.ConfigDigest = strings.Repeat("1", 64)
	n.Registry.Records[cctest.Enclave][b] = rec
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", fmt.Sprintf(`enclaveID: enclave %s of chaincode "slaenclave" was initialised with the deploy configuration %q, not this peer's (%s); register an enclave initialised with it`,
		b, strings.Repeat("1", 64), n.Guard.Digest()), "sla-1", b)

	// The registry answers with the record of another enclave.
	_, c := n.NewEnclave()
	n.Registry.Records[cctest.Enclave][c] = n.Registry.Records[cctest.Enclave][n.EnclaveID]
	n.ExpectError(n.Provider, AG, "ApproveEnclaveHandover", fmt.Sprintf(`enclaveID: the registry answered with enclave %q of chaincode "slaenclave", not enclave %s of chaincode "slaenclave"`, n.EnclaveID, c), "sla-1", c)
}
