package refund_test

import (
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

// FuzzSettleVerdict drives SettleVerdict with any signed verdict JSON, the
// seeds being a valid verdict of an anchored period and variations of it:
// never a panic, and a refusal changes nothing (no partial payment).
func FuzzSettleVerdict(f *testing.F) {
	n := cctest.New(f)
	s := cctest.ExampleSLA(f, "sla-1")
	d := n.Activate(s, 300_000)
	n.AnchorPeriod(s, jan, jan15)
	n.AnchorPeriod(s, jan15, feb)
	n.At(afterJanuary)
	good := cctest.SignVerdict(f, n.Verdict(s, d, jan, feb, 1000, 10000, 0), n.EnclaveKey)
	f.Add(good)
	f.Add(strings.Replace(good, `"credit_amount":10000`, `"credit_amount":-1`, 1))
	f.Add(strings.Replace(good, `"sla_id":"sla-1"`, `"sla_id":"sla-2"`, 1))
	f.Add(`{"verdict":{},"signature":""}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, signed string) {
		n.T = t
		n.FuzzCall(t, fabricfake.Call{ID: n.Provider, Chaincode: cctest.Refund, Fn: "SettleVerdict", Args: []string{signed}})
	})
}
