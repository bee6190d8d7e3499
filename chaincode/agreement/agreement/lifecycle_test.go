package agreement_test

import (
	"encoding/json"
	"testing"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
)

func TestLifecycleHappyPath(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	n.At("2026-03-10T12:00:00Z")
	d := n.Activate(s, 1_000_000)

	var a agreement.SLAView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Client, cctest.Agreement, "GetSLA", "sla-1")), &a); err != nil {
		t.Fatal(err)
	}
	if a.Status != agreement.StatusActive || a.Digest != cctest.Hex(d) || a.LastPeriod != "2026-04-01T00:00:00Z" || a.PaidThrough != "2026-05-01T00:00:00Z" || a.PaidPeriods != 1 ||
		a.Enclave == nil || a.Enclave.EnclaveID != n.EnclaveID {
		t.Fatalf("agreement after accept: %+v", a)
	}
	if got := n.Balance("client"); got != 900_000 {
		t.Fatalf("client balance %d, want 900000", got)
	}
	ev := n.World.Events[len(n.World.Events)-1]
	if ev.Name != agreement.EventSLASigned {
		t.Fatalf("last event %s", ev.Name)
	}
}
