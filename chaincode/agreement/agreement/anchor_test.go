package agreement_test

import (
	"encoding/json"
	"testing"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
)

func anchorArgs(t *testing.T, n *cctest.Net, a signedsla.Anchor, _ any) []string {
	t.Helper()
	return []string{a.SLAID, itoa(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, cctest.AnchorSig(t, n.Logger, a)}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAnchorLogBatch(t *testing.T) {
	n := cctest.New(t)
	s := cctest.ExampleSLA(t, "sla-1")
	doc, d := cctest.Doc(t, s)
	n.Fund(s, 100_000)
	n.MustCall(cctest.ProposeCall(n.Provider, doc, cctest.Sign(t, n.Provider, d)))

	a1 := signedsla.Anchor{SLAID: "sla-1", Seq: 1, CID: "bafyone", PeriodStart: "2026-01-01T00:00:00Z", PeriodEnd: "2026-01-01T01:00:00Z"}
	n.At("2026-01-01T03:00:00Z")
	n.ExpectError(n.Logger, AG, "AnchorLogBatch", `SLA "sla-1" is PROPOSED; log batches are anchored for an ACTIVE or TERMINATED SLA`, anchorArgs(t, n, a1, nil)...)
	n.At("2025-12-20T00:00:00Z")
	n.MustAccept(s)
	n.At("2026-01-01T03:00:00Z")

	r := n.Submit(n.Logger, AG, "AnchorLogBatch", anchorArgs(t, n, a1, nil)...)
	if !r.OK() || r.Event.Name != agreement.EventLogBatchAnchored {
		t.Fatalf("anchor 1: %s", r.Message)
	}
	var rec agreement.AnchorRecord
	if err := json.Unmarshal(r.Event.Payload, &rec); err != nil || rec.CID != "bafyone" || rec.Seq != 1 || rec.Logger.CommonName != "logger@providerorg.slasa.local" ||
		rec.Logger.Subject != cctest.DN(n.Logger) || rec.Logger.Issuer != cctest.IssuerDN(n.Logger) || rec.AnchoredAt != "2026-01-01T03:00:00Z" {
		t.Fatalf("event payload %+v %v", rec, err)
	}
	a2 := signedsla.Anchor{SLAID: "sla-1", Seq: 2, CID: "bafytwo", PrevCID: "bafyone", PeriodStart: "2026-01-01T01:00:00Z", PeriodEnd: "2026-01-01T02:00:00Z"}
	a3 := a2
	a3.Seq, a3.CID, a3.PrevCID = 3, "bafythree", "bafytwo"
	wrongPrev := a2
	wrongPrev.PrevCID = "bafyother"
	outside := a2
	outside.PeriodEnd = "2027-01-01T00:00:01Z"
	badTime := a2
	badTime.PeriodStart = "2026-01-01T01:00:00+01:00"
	notOver := a2
	notOver.PeriodEnd = "2026-01-01T05:00:00Z"
	otherCA := cctest.SameCN(n.ProviderCA2, n.Logger, "client")
	adminRole := cctest.SameCN(n.ProviderCA, n.Logger, "admin")

	for _, tc := range []struct {
		name string
		args []string
		who  string
		want string
	}{
		{"seq not a number", []string{"sla-1", "x", "bafytwo", "bafyone", a2.PeriodStart, a2.PeriodEnd, "AA=="}, "logger", `seq: "x" is not a positive decimal integer`},
		{"seq zero", []string{"sla-1", "0", "bafytwo", "bafyone", a2.PeriodStart, a2.PeriodEnd, "AA=="}, "logger", `seq: "0" is not a positive decimal integer`},
		{"bad cid", []string{"sla-1", "2", "bafy/two", "bafyone", a2.PeriodStart, a2.PeriodEnd, "AA=="}, "logger", `cid: "bafy/two" is not a content identifier (1..256 letters and digits)`},
		{"prev cid on seq 1", []string{"sla-1", "1", "bafytwo", "bafyone", a2.PeriodStart, a2.PeriodEnd, "AA=="}, "logger", "prevCID: must be empty for the first batch (seq 1)"},
		{"non-UTC time", anchorArgs(t, n, badTime, nil), "logger", `periodStart: "2026-01-01T01:00:00+01:00" is not a UTC timestamp in whole seconds written as 2006-01-02T15:04:05Z`},
		{"window reversed", []string{"sla-1", "2", "bafytwo", "bafyone", a2.PeriodEnd, a2.PeriodStart, "AA=="}, "logger", "periodEnd: 2026-01-01T01:00:00Z is not after periodStart 2026-01-01T02:00:00Z"},
		{"empty signature", []string{"sla-1", "2", "bafytwo", "bafyone", a2.PeriodStart, a2.PeriodEnd, ""}, "logger", "loggerSignature: must not be empty"},
		{"unknown SLA", []string{"nope", "1", "bafytwo", "", a2.PeriodStart, a2.PeriodEnd, "AA=="}, "logger", `SLA "nope" does not exist`},
		{"provider anchors", anchorArgs(t, n, a2, nil), "provider", "only the SLA's logger may anchor log batches: " + notParty("logger", n.Provider, n.Logger)},
		{"client anchors", anchorArgs(t, n, a2, nil), "client", "only the SLA's logger may anchor log batches: " + notParty("logger", n.Client, n.Logger)},
		{"same common name from another CA", anchorArgs(t, n, a2, nil), "otherCA", "only the SLA's logger may anchor log batches: " + notParty("logger", otherCA, n.Logger)},
		{"same common name with another role", anchorArgs(t, n, a2, nil), "adminRole", "only the SLA's logger may anchor log batches: " + notParty("logger", adminRole, n.Logger)},
		{"outside validity", anchorArgs(t, n, outside, nil), "logger", `periodStart, periodEnd: window 2026-01-01T01:00:00Z..2027-01-01T00:00:01Z is not inside the validity 2026-01-01T00:00:00Z..2027-01-01T00:00:00Z of SLA "sla-1"`},
		{"window not over", anchorArgs(t, n, notOver, nil), "logger", "periodEnd: the window ends at 2026-01-01T05:00:00Z, after this transaction (2026-01-01T03:00:00Z); a batch is anchored only once its window is over"},
		{"replayed batch", anchorArgs(t, n, a1, nil), "logger", `seq: log batch 1 of SLA "sla-1" is already anchored (cid bafyone)`},
		{"gap", anchorArgs(t, n, a3, nil), "logger", `seq: log batch 2 of SLA "sla-1" is not anchored; batches are anchored in sequence`},
		{"wrong predecessor", anchorArgs(t, n, wrongPrev, nil), "logger", `prevCID: "bafyother" is not the CID of log batch 1 of SLA "sla-1" (bafyone)`},
		{"signature over other fields", append(anchorArgs(t, n, a2, nil)[:6], cctest.AnchorSig(t, n.Logger, a3)), "logger", `loggerSignature: verify signature of "logger@providerorg.slasa.local": signature does not verify with the certificate's public key`},
		{"signature by provider", append(anchorArgs(t, n, a2, nil)[:6], cctest.AnchorSig(t, n.Provider, a2)), "logger", `loggerSignature: verify signature of "logger@providerorg.slasa.local": signature does not verify with the certificate's public key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := map[string]*fabricfake.Identity{"logger": n.Logger, "provider": n.Provider, "client": n.Client, "otherCA": otherCA, "adminRole": adminRole}[tc.who]
			n.At("2026-01-01T03:00:00Z")
			n.ExpectError(who, AG, "AnchorLogBatch", tc.want, tc.args...)
		})
	}
	n.MustSubmit(n.Logger, AG, "AnchorLogBatch", anchorArgs(t, n, a2, nil)...)
	// A window that ends exactly at the transaction time is over.
	a3.PeriodStart, a3.PeriodEnd = "2026-01-01T02:00:00Z", "2026-01-01T03:00:05Z"
	n.At("2026-01-01T03:00:05Z")
	n.MustSubmit(n.Logger, AG, "AnchorLogBatch", anchorArgs(t, n, a3, nil)...)

	var got agreement.AnchorRecord
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "GetLogBatch", "sla-1", "2")), &got)
	if got.CID != "bafytwo" || got.PrevCID != "bafyone" {
		t.Fatalf("GetLogBatch %+v", got)
	}
	n.ExpectError(n.Client, AG, "GetLogBatch", `seq: log batch 9 of SLA "sla-1" is not anchored`, "sla-1", "9")
	n.ExpectError(n.Stranger, AG, "GetLogBatch", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1", "1")
	n.ExpectError(n.Stranger, AG, "ListLogBatches", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1", "10", "")
	var page agreement.Page[agreement.AnchorRecord]
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "ListLogBatches", "sla-1", "2", "")), &page)
	if len(page.Records) != 2 || page.Records[0].Seq != 1 || page.Bookmark == "" {
		t.Fatalf("page 1 %+v", page)
	}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "ListLogBatches", "sla-1", "2", page.Bookmark)), &page)
	if len(page.Records) != 1 || page.Records[0].Seq != 3 || page.Bookmark != "" {
		t.Fatalf("page 2 %+v", page)
	}
	n.ExpectError(n.Client, AG, "ListLogBatches", `pageSize: "-1" is not an integer in 1..100`, "sla-1", "-1", "")

	// GetSettlementView: the SLA's status, digest and pin with one anchor, for the refund chaincode.
	var full agreement.SLAView
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Provider, AG, "GetSLA", "sla-1")), &full)
	var view agreement.SettlementView
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Provider, AG, "GetSettlementView", "sla-1", "2")), &view); err != nil {
		t.Fatal(err)
	}
	if view.ID != "sla-1" || view.Status != agreement.StatusActive || view.Digest != cctest.Hex(d) || view.Enclave == nil ||
		*view.Enclave != *full.Enclave || view.Batch == nil || *view.Batch != a2 {
		t.Fatalf("GetSettlementView %+v (batch %+v), want the SLA's fields and batch %+v", view, view.Batch, a2)
	}
	view = agreement.SettlementView{}
	_ = json.Unmarshal([]byte(n.MustEvaluate(n.Client, AG, "GetSettlementView", "sla-1", "9")), &view)
	if view.Status != agreement.StatusActive || view.Batch != nil {
		t.Fatalf("GetSettlementView of a batch that is not anchored: %+v", view)
	}
	n.ExpectError(n.Stranger, AG, "GetSettlementView", `SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP`, "sla-1", "2")
	n.ExpectError(n.Client, AG, "GetSettlementView", `seq: "0" is not a positive decimal integer`, "sla-1", "0")
	n.ExpectError(n.Client, AG, "GetSettlementView", `SLA "nope" does not exist`, "nope", "1")

	// Anchors of different SLAs use disjoint keys: a second SLA starts at seq 1.
	s2 := cctest.ExampleSLA(t, "sla-2")
	n.At("2025-12-20T00:00:00Z")
	n.Activate(s2, 100_000)
	n.At("2026-01-02T00:00:00Z")
	b1 := a1
	b1.SLAID = "sla-2"
	n.MustSubmit(n.Logger, AG, "AnchorLogBatch", anchorArgs(t, n, b1, nil)...)

	// A terminated SLA still takes anchors for its paid term.
	n.MustSubmit(n.Client, AG, "TerminateSLA", "sla-2", "done")
	b2 := a2
	b2.SLAID = "sla-2"
	n.MustSubmit(n.Logger, AG, "AnchorLogBatch", anchorArgs(t, n, b2, nil)...)
}
