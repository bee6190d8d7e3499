package monitor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/logger"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

var (
	t0    = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// me is the monitor's identity: the example SLA's client.
func me(t *testing.T) identity.ID {
	t.Helper()
	s, _ := testSLA(t, "x")
	return s.Parties.Client.ID()
}

func testSLA(t *testing.T, id string) (*sla.SLA, []byte) {
	t.Helper()
	return testSLAOf(t, id, nil)
}

// testSLAOf is testSLA with the parties changed by parties (when not nil).
func testSLAOf(t *testing.T, id string, parties func(*sla.SLA)) (*sla.SLA, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s.ID = id
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: 60}
	s.Interval.SubIntervalSeconds = 10
	s.Validity = sla.Validity{Start: t0.Format(time.RFC3339), End: t0.Add(5 * time.Minute).Format(time.RFC3339)}
	if parties != nil {
		parties(s)
	}
	doc, _ := json.Marshal(s)
	s, err = sla.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := sla.DigestHex(s)
	if err != nil {
		t.Fatal(err)
	}
	rec := signedsla.Record{Version: signedsla.Version, Document: doc, Digest: digest,
		Provider: signedsla.Signature{MSPID: s.Parties.Provider.MSPID, Signature: []byte{1}}, Client: signedsla.Signature{MSPID: s.Parties.Client.MSPID, Signature: []byte{2}}}
	raw, _ := json.Marshal(rec)
	return s, raw
}

// world is an in-memory agreement chaincode, enclave and refund chaincode
// with failure injection.
type world struct {
	t   *testing.T
	now time.Time
	key *ecdsa.PrivateKey

	slas    map[string]*logger.AgreementView
	docs    map[string]*sla.SLA
	anchors map[string][]signedsla.Anchor

	// enclave
	registered map[string]bool
	head       map[string]int64
	covered    map[string]map[string]time.Time // sla -> period -> covered end
	frozen     map[string]map[string][]byte    // sla -> period -> evaluation
	badCID     map[string]bool                 // the shim lies about these CIDs
	forge      bool                            // sign verdicts with another (registered) enclave's key, naming it
	forgeSig   bool                            // sign verdicts with another key, naming the pinned enclave
	keys       map[string]*ecdsa.PrivateKey    // the registry: enclave id -> key
	badReport  bool                            // return a report other than the verdict's
	badKey     bool                            // return another report key than the verdict's
	oldFormat  bool                            // return an evaluation of format version 1
	misdirect  string                          // "sla" or "period": sign a verdict for another one; "batch-cid", "batch-seq", "batch-missing": name another last batch

	// refund
	escrow      map[string]map[string]*Escrow
	settleCalls int

	// me is the monitor's identity (zero: the example SLA's client).
	me identity.ID
	// endorsers are the endorsing organizations of each transaction, by
	// "<function> <SLA id>"; a transaction naming other organizations than
	// the SLA's two parties' fails.
	endorsers map[string]string

	// fail maps a function name to the number of calls that fail;
	// commitThenFail makes the next SettleVerdict commit but report an error.
	fail           map[string]int
	commitThenFail int
}

func newWorld(t *testing.T) *world {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &world{t: t, now: t0, key: key, slas: map[string]*logger.AgreementView{}, docs: map[string]*sla.SLA{}, anchors: map[string][]signedsla.Anchor{},
		registered: map[string]bool{}, head: map[string]int64{}, covered: map[string]map[string]time.Time{}, frozen: map[string]map[string][]byte{},
		badCID: map[string]bool{}, escrow: map[string]map[string]*Escrow{}, fail: map[string]int{}, endorsers: map[string]string{},
		keys: map[string]*ecdsa.PrivateKey{enclaveIDOf(key): key}}
}

func enclaveIDOf(k *ecdsa.PrivateKey) string {
	id, err := verdict.EnclaveIDOf(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return id
}

func (w *world) failing(fn string) error {
	if w.fail[fn] > 0 {
		w.fail[fn]--
		return fmt.Errorf("%s: injected failure (peer down)", fn)
	}
	return nil
}

// endorsedBy records the endorsing organizations orgs of a transaction fn
// of the SLA id and fails unless they are exactly the SLA's provider's and
// client's (sorted, fabnet.SLAOrgs).
func (w *world) endorsedBy(fn, id string, orgs []string) error {
	got := strings.Join(orgs, ",")
	w.endorsers[fn+" "+id] = got
	d, ok := w.docs[id]
	if !ok {
		return fmt.Errorf("%s: SLA %q not found", fn, id)
	}
	want, err := fabnet.SLAOrgs(d.Parties.Provider.MSPID, d.Parties.Client.MSPID)
	if err != nil {
		return err
	}
	if got != strings.Join(want, ",") {
		return fmt.Errorf("%s of SLA %q endorsed by %q, not by its parties' organizations %q", fn, id, got, strings.Join(want, ","))
	}
	return nil
}

// addSLA adds an ACTIVE SLA accepted at t0 with `paid` periods in escrow.
func (w *world) addSLA(id string, paid int) { w.addSLAOf(id, paid, nil) }

// addSLAOf is addSLA with the parties changed by parties (testSLAOf).
func (w *world) addSLAOf(id string, paid int, parties func(*sla.SLA)) {
	s, raw := testSLAOf(w.t, id, parties)
	w.docs[id] = s
	w.slas[id] = &logger.AgreementView{ID: id, Status: StatusActive, Signed: raw, AcceptedAt: t0.Format(time.RFC3339),
		PaidThrough: t0.Add(time.Duration(paid) * time.Minute).Format(time.RFC3339), PaidPeriods: int64(paid),
		Enclave: &logger.EnclavePin{Chaincode: "slaenclave", EnclaveID: enclaveIDOf(w.key)}}
	w.slas[id].Parties.Provider.MSPID, w.slas[id].Parties.Client.MSPID = s.Parties.Provider.MSPID, s.Parties.Client.MSPID
	w.escrow[id] = map[string]*Escrow{}
	for i := 0; i < paid; i++ {
		p := t0.Add(time.Duration(i) * time.Minute)
		w.escrow[id][p.Format(time.RFC3339)] = &Escrow{SLAID: id, Period: p.Format(time.RFC3339), PeriodEnd: p.Add(time.Minute).Format(time.RFC3339), Amount: 100000, Status: EscrowHeld}
	}
}

// anchor anchors the next 10 s batch of an SLA.
func (w *world) anchor(id string) {
	list := w.anchors[id]
	seq := int64(len(list) + 1)
	start := t0.Add(time.Duration(seq-1) * 10 * time.Second)
	prev := ""
	if seq > 1 {
		prev = list[seq-2].CID
	}
	w.anchors[id] = append(list, signedsla.Anchor{SLAID: id, Seq: seq, CID: fmt.Sprintf("bafkcid%d", seq), PrevCID: prev,
		PeriodStart: start.Format(time.RFC3339), PeriodEnd: start.Add(10 * time.Second).Format(time.RFC3339)})
}

func (w *world) GetSLA(_ context.Context, id string) (*logger.AgreementView, error) {
	if err := w.failing("GetSLA"); err != nil {
		return nil, err
	}
	a, ok := w.slas[id]
	if !ok {
		return nil, fmt.Errorf("SLA %q not found", id)
	}
	c := *a
	return &c, nil
}

func (w *world) GetLogBatch(_ context.Context, id string, seq int64) (*signedsla.Anchor, error) {
	if err := w.failing("GetLogBatch"); err != nil {
		return nil, err
	}
	if seq < 1 || seq > int64(len(w.anchors[id])) {
		return nil, fmt.Errorf("batch %d: %w", seq, logger.ErrNotAnchored)
	}
	a := w.anchors[id][seq-1]
	return &a, nil
}

func (w *world) RegisterAgreement(_ context.Context, rec []byte, orgs []string) (*Status, error) {
	if err := w.failing("RegisterAgreement"); err != nil {
		return nil, err
	}
	r, err := signedsla.Parse(rec)
	if err != nil {
		return nil, err
	}
	s, err := sla.Parse(r.Document)
	if err != nil {
		return nil, err
	}
	if err := w.endorsedBy("RegisterAgreement", s.ID, orgs); err != nil {
		return nil, err
	}
	w.registered[s.ID] = true
	return &Status{SLAID: s.ID}, nil
}

func (w *world) Status(_ context.Context, id string) (*Status, error) {
	if err := w.failing("Status"); err != nil {
		return nil, err
	}
	if !w.registered[id] {
		return nil, fmt.Errorf("SLA %q is not registered", id)
	}
	st := &Status{SLAID: id, LastSeq: w.head[id], Periods: []PeriodStatus{}, EvaluatedPeriods: []string{}}
	var periods []string
	for p := range w.covered[id] {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	for _, p := range periods {
		start, _ := time.Parse(time.RFC3339, p)
		end := start.Add(time.Minute)
		_, ev := w.frozen[id][p]
		st.Periods = append(st.Periods, PeriodStatus{Period: p, PeriodEnd: end.Format(time.RFC3339), CoveredEnd: w.covered[id][p].Format(time.RFC3339),
			Complete: w.covered[id][p].Equal(end), Evaluated: ev})
		if ev {
			st.EvaluatedPeriods = append(st.EvaluatedPeriods, p)
		}
	}
	return st, nil
}

func (w *world) IngestBatch(_ context.Context, id string, seq int64, cid string, orgs []string) (*IngestResult, error) {
	if err := w.failing("IngestBatch"); err != nil {
		return nil, err
	}
	if err := w.endorsedBy("IngestBatch", id, orgs); err != nil {
		return nil, err
	}
	if !w.registered[id] {
		return nil, errors.New("not registered")
	}
	if seq != w.head[id]+1 {
		return nil, fmt.Errorf("seq: got %d, expected %d", seq, w.head[id]+1)
	}
	if w.badCID[cid] {
		return nil, errors.New("cid: the bytes do not hash to the CID")
	}
	a := w.anchors[id][seq-1]
	start, _ := time.Parse(time.RFC3339, a.PeriodStart)
	end, _ := time.Parse(time.RFC3339, a.PeriodEnd)
	p := t0.Add(start.Sub(t0) / time.Minute * time.Minute)
	if w.covered[id] == nil {
		w.covered[id] = map[string]time.Time{}
	}
	w.covered[id][p.Format(time.RFC3339)] = end
	w.head[id] = seq
	return &IngestResult{SLAID: id, Seq: seq, CID: cid, Period: p.Format(time.RFC3339), CoveredEnd: a.PeriodEnd, Complete: end.Equal(p.Add(time.Minute))}, nil
}

func (w *world) Evaluate(_ context.Context, id, period string, orgs []string) (*Evaluation, error) {
	if err := w.failing("Evaluate"); err != nil {
		return nil, err
	}
	if err := w.endorsedBy("Evaluate", id, orgs); err != nil {
		return nil, err
	}
	if out, ok := w.frozen[id][period]; ok {
		var ev Evaluation
		return &ev, json.Unmarshal(out, &ev)
	}
	start, _ := time.Parse(time.RFC3339, period)
	if !w.covered[id][period].Equal(start.Add(time.Minute)) {
		return nil, fmt.Errorf("period %s is not complete", period)
	}
	report := []byte(`{"metrics":[{"id":"availability","value":"98.0000"}]}`)
	reportKey := bytes.Repeat([]byte{7}, 32)
	key := w.key
	eid := enclaveIDOf(key)
	switch {
	case w.forge: // another enclave, registered and current, signs as itself
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		eid = enclaveIDOf(key)
		w.keys[eid] = key
	case w.forgeSig: // another key signs in the pinned enclave's name
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	digest, _ := sla.DigestHex(w.docs[id])
	end := start.Add(time.Minute).Format(time.RFC3339)
	var last signedsla.Anchor
	for _, a := range w.anchors[id] {
		if a.PeriodEnd == end {
			last = a
		}
	}
	v := verdict.Verdict{SLAID: id, SLADigest: digest, Period: period, PeriodEnd: end, Violated: true,
		CreditBPS: 3000, CreditAmount: 30000, Currency: "USD", ReportDigest: verdict.ReportDigest(reportKey, report),
		BatchSeq: last.Seq, BatchCID: last.CID, Chaincode: "slaenclave", EnclaveID: eid}
	switch w.misdirect {
	case "sla":
		v.SLAID = "s-other"
	case "period":
		v.Period = start.Add(time.Minute).Format(time.RFC3339)
	case "batch-cid":
		v.BatchCID = "bafkother"
	case "batch-seq":
		v.BatchSeq = 3
	case "batch-missing":
		v.BatchSeq = 99
	}
	signed, err := verdict.Sign(v, key)
	if err != nil {
		return nil, err
	}
	if w.badReport {
		report = []byte(`{"metrics":[{"id":"availability","value":"100.0000"}]}`)
	}
	if w.badKey {
		reportKey = bytes.Repeat([]byte{8}, 32)
	}
	format := enclaveapi.EvaluationFormat
	if w.oldFormat {
		format = "slasa.evaluation/v1"
	}
	vj, _ := json.Marshal(signed)
	out, _ := json.Marshal(Evaluation{Format: format, Verdict: vj, Report: report, ReportKey: hex.EncodeToString(reportKey)})
	if w.frozen[id] == nil {
		w.frozen[id] = map[string][]byte{}
	}
	w.frozen[id][period] = out
	var ev Evaluation
	return &ev, json.Unmarshal(out, &ev)
}

func (w *world) VerifyingKey(_ context.Context, enclaveID string) (*ecdsa.PublicKey, error) {
	if err := w.failing("VerifyingKey"); err != nil {
		return nil, err
	}
	k, ok := w.keys[enclaveID]
	if !ok {
		return nil, fmt.Errorf("enclave %s is not registered", enclaveID)
	}
	return &k.PublicKey, nil
}

func (w *world) GetEscrow(_ context.Context, id, period string) (*Escrow, error) {
	if err := w.failing("GetEscrow"); err != nil {
		return nil, err
	}
	e, ok := w.escrow[id][period]
	if !ok {
		return nil, fmt.Errorf("no escrow for period %s of SLA %q", period, id)
	}
	c := *e
	return &c, nil
}

func (w *world) SettleVerdict(_ context.Context, raw []byte, orgs []string) (*Settlement, error) {
	if err := w.failing("SettleVerdict"); err != nil {
		return nil, err
	}
	signed, err := verdict.ParseSigned(raw)
	if err != nil {
		return nil, err
	}
	// Endorsed by exactly the SLA's two parties' organizations.
	if err := w.endorsedBy("SettleVerdict", signed.Verdict.SLAID, orgs); err != nil {
		return nil, err
	}
	if err := verdict.Verify(signed, &w.key.PublicKey); err != nil {
		return nil, err
	}
	e, ok := w.escrow[signed.Verdict.SLAID][signed.Verdict.Period]
	if !ok {
		return nil, errors.New("no escrow")
	}
	if e.Status == EscrowSettled {
		return nil, errors.New("already settled")
	}
	w.settleCalls++
	st := &Settlement{Violated: signed.Verdict.Violated, CreditBPS: signed.Verdict.CreditBPS, Credit: signed.Verdict.CreditAmount, Released: e.Amount - signed.Verdict.CreditAmount}
	e.Status, e.Settlement = EscrowSettled, st
	if w.commitThenFail > 0 {
		w.commitThenFail--
		return nil, errors.New("commit status: timeout")
	}
	return st, nil
}

func (w *world) monitor(dir string) *Monitor {
	w.t.Helper()
	who := w.me
	if who == (identity.ID{}) {
		who = me(w.t)
	}
	m, err := New(Config{StateDir: dir, Me: who, Agreements: w, Enclave: w, Refund: w, Now: func() time.Time { return w.now }, Log: quiet,
		BackoffMin: time.Nanosecond, BackoffMax: time.Nanosecond})
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func event(t *testing.T, name string, payload any) Event {
	t.Helper()
	b, _ := json.Marshal(payload)
	return Event{Block: 7, TxID: "tx", Name: name, Payload: b}
}

func (w *world) settledPeriods(id string) []string {
	var out []string
	for p, e := range w.escrow[id] {
		if e.Status == EscrowSettled {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func TestMonitorSettlesCompletePaidPeriods(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 2)
	m := w.monitor(t.TempDir())
	if err := m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"})); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ { // 2.5 periods of batches
		w.anchor("s1")
	}
	m.HandleEvent(event(t, EventLogBatchAnchored, map[string]any{"sla_id": "s1", "seq": 15}))
	w.now = t0.Add(3 * time.Minute)
	m.ReconcileAll(context.Background())
	if got := w.settledPeriods("s1"); strings.Join(got, ",") != "2026-03-01T00:00:00Z,2026-03-01T00:01:00Z" {
		t.Fatalf("settled %v", got)
	}
	if w.head["s1"] != 15 || m.C.Settlements.Load() != 2 || m.C.Credits.Load() != 60000 || m.C.Ingested.Load() != 15 {
		t.Fatalf("head %d, counters settlements %d credits %d ingested %d", w.head["s1"], m.C.Settlements.Load(), m.C.Credits.Load(), m.C.Ingested.Load())
	}
	// Nothing more happens on later rounds; the third period is unpaid.
	for i := 0; i < 3; i++ {
		w.anchor("s1")
	}
	m.ReconcileAll(context.Background())
	if w.settleCalls != 2 || len(w.frozen["s1"]) != 2 {
		t.Fatalf("%d settle calls, %d evaluations", w.settleCalls, len(w.frozen["s1"]))
	}
	// A renewal pays the third period: it is settled on the next round.
	w.slas["s1"].PaidThrough = t0.Add(3 * time.Minute).Format(time.RFC3339)
	w.escrow["s1"]["2026-03-01T00:02:00Z"] = &Escrow{Period: "2026-03-01T00:02:00Z", Amount: 100000, Status: EscrowHeld}
	m.HandleEvent(event(t, EventSLARenewed, map[string]any{"sla_id": "s1"}))
	m.ReconcileAll(context.Background())
	if w.settleCalls != 3 {
		t.Fatalf("%d settle calls after renewal", w.settleCalls)
	}
}

// A period whose escrow was claimed after its verdict deadline (EXPIRED)
// or refunded at termination (REFUNDED) takes no verdict: the monitor
// neither evaluates nor relays it, and counts it as done.
func TestMonitorSkipsClosedEscrow(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 2)
	w.escrow["s1"]["2026-03-01T00:00:00Z"].Status = EscrowExpired
	w.escrow["s1"]["2026-03-01T00:01:00Z"].Status = EscrowRefunded
	m := w.monitor(t.TempDir())
	if err := m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"})); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		w.anchor("s1")
	}
	w.now = t0.Add(3 * time.Minute)
	m.ReconcileAll(context.Background())
	if w.settleCalls != 0 || len(w.frozen["s1"]) != 0 {
		t.Fatalf("%d settle calls, %d evaluations of closed escrow", w.settleCalls, len(w.frozen["s1"]))
	}
}

// An SLA between two organizations other than the example's (VendorOrg
// provides, OtherOrg is the client and runs the monitor): every enclave
// transaction and the settlement are endorsed by exactly VendorOrg's and
// OtherOrg's organizations, never by the example's or the enclave host's.
func TestMonitorAnyPair(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("vo", 1, func(s *sla.SLA) {
		p, c := &s.Parties.Provider, &s.Parties.Client
		p.MSPID, p.CommonName, p.Wallet = "VendorOrgMSP", "vendor@vendororg.slasa.local", "vendor"
		p.Subject = "CN=vendor@vendororg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
		p.Issuer = "CN=ca.vendororg.slasa.local,O=vendororg.slasa.local,L=San Francisco,ST=California,C=US"
		c.MSPID, c.CommonName, c.Wallet = "OtherOrgMSP", "other@otherorg.slasa.local", "other"
		c.Subject = "CN=other@otherorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"
		c.Issuer = "CN=ca.otherorg.slasa.local,O=otherorg.slasa.local,L=San Francisco,ST=California,C=US"
	})
	w.me = w.docs["vo"].Parties.Client.ID()
	for i := 0; i < 6; i++ {
		w.anchor("vo")
	}
	w.now = t0.Add(2 * time.Minute)
	m := w.monitor(t.TempDir())
	m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "vo"}))
	m.ReconcileAll(context.Background())
	if got := w.settledPeriods("vo"); len(got) != 1 || m.C.Errors.Load() != 0 {
		t.Fatalf("settled %v with %d errors", got, m.C.Errors.Load())
	}
	for _, fn := range []string{"RegisterAgreement", "IngestBatch", "Evaluate", "SettleVerdict"} {
		if got := w.endorsers[fn+" vo"]; got != "OtherOrgMSP,VendorOrgMSP" {
			t.Errorf("%s endorsed by %q, want OtherOrgMSP,VendorOrgMSP", fn, got)
		}
	}
}

// A period the enclave reports complete is settled only once it has ended
// by the monitor's clock (the refund chaincode refuses it before).
func TestMonitorSettlesOnlyAfterPeriodEnd(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 1)
	for i := 0; i < 6; i++ { // period 0 covered
		w.anchor("s1")
	}
	w.now = t0.Add(time.Minute - time.Millisecond)
	m := w.monitor(t.TempDir())
	m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
	m.ReconcileAll(context.Background())
	if w.head["s1"] != 6 || w.settleCalls != 0 || len(w.frozen["s1"]) != 0 || m.C.Errors.Load() != 0 {
		t.Fatalf("before the period's end: head %d, %d settle calls, %d evaluations, %d errors", w.head["s1"], w.settleCalls, len(w.frozen["s1"]), m.C.Errors.Load())
	}
	w.now = t0.Add(time.Minute)
	m.ReconcileAll(context.Background())
	if got := w.settledPeriods("s1"); len(got) != 1 || w.settleCalls != 1 {
		t.Fatalf("at the period's end: settled %v with %d settle calls", got, w.settleCalls)
	}
}

// TestMonitorRestartAnywhere injects a failure into every call in turn,
// restarting the monitor (a new one on the same state folder, or a fresh
// state folder) after each failure, and checks that each period is settled
// exactly once.
func TestMonitorRestartAnywhere(t *testing.T) {
	fns := []string{"GetSLA", "RegisterAgreement", "Status", "GetLogBatch", "IngestBatch", "Evaluate", "VerifyingKey", "GetEscrow", "SettleVerdict"}
	for _, fn := range fns {
		for _, nth := range []int{1, 2, 3, 5, 8} {
			for _, lose := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s#%d/lose-state=%v", fn, nth, lose), func(t *testing.T) {
					w := newWorld(t)
					w.addSLA("s1", 2)
					for i := 0; i < 12; i++ {
						w.anchor("s1")
					}
					w.now = t0.Add(3 * time.Minute)
					dir := t.TempDir()
					m := w.monitor(dir)
					m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
					// Fail one call of fn in reconcile round nth, restart
					// every third round.
					calls := 0
					for round := 0; round < 40; round++ {
						if calls == nth-1 {
							w.fail[fn] = 1
						}
						w.now = w.now.Add(time.Second)
						m.ReconcileAll(context.Background())
						calls++
						if round%3 == 2 {
							if lose {
								dir = t.TempDir()
								m = w.monitor(dir)
								m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
							} else {
								m = w.monitor(dir)
							}
						}
					}
					if got := w.settledPeriods("s1"); len(got) != 2 || w.settleCalls != 2 {
						t.Fatalf("settled %v with %d settle calls", got, w.settleCalls)
					}
				})
			}
		}
	}
}

func TestMonitorCommitThenError(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 1)
	for i := 0; i < 6; i++ {
		w.anchor("s1")
	}
	w.now = t0.Add(2 * time.Minute)
	w.commitThenFail = 1
	m := w.monitor(t.TempDir())
	m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
	m.ReconcileAll(context.Background())
	m.ReconcileAll(context.Background())
	if w.settleCalls != 1 || m.C.Errors.Load() != 0 || len(m.Snapshot().SLAs["s1"].Settled) != 1 {
		t.Fatalf("%d settle calls, %d errors, state %+v", w.settleCalls, m.C.Errors.Load(), m.Snapshot().SLAs["s1"])
	}
}

func TestMonitorRejects(t *testing.T) {
	t.Run("tampered batch stalls the chain", func(t *testing.T) {
		w := newWorld(t)
		w.addSLA("s1", 1)
		for i := 0; i < 6; i++ {
			w.anchor("s1")
		}
		w.badCID["bafkcid4"] = true
		w.now = t0.Add(2 * time.Minute)
		m := w.monitor(t.TempDir())
		m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
		for i := 0; i < 3; i++ {
			w.now = w.now.Add(time.Second)
			m.ReconcileAll(context.Background())
		}
		if w.head["s1"] != 3 || w.settleCalls != 0 || m.C.Errors.Load() != 3 {
			t.Fatalf("head %d, %d settlements, %d errors", w.head["s1"], w.settleCalls, m.C.Errors.Load())
		}
		delete(w.badCID, "bafkcid4") // the shim is fixed
		w.now = w.now.Add(time.Second)
		m.ReconcileAll(context.Background())
		if w.head["s1"] != 6 || w.settleCalls != 1 {
			t.Fatalf("after repair: head %d, %d settlements", w.head["s1"], w.settleCalls)
		}
	})
	t.Run("not a party", func(t *testing.T) {
		w := newWorld(t)
		w.addSLA("s1", 1)
		other := me(t)
		other.Issuer = "CN=ca2.clientorg.slasa.local" // the client's name from another CA
		m, err := New(Config{StateDir: t.TempDir(), Me: other, Agreements: w, Enclave: w, Refund: w, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
		m.ReconcileAll(context.Background())
		if s := m.Snapshot().SLAs["s1"]; s.Skip == "" || w.registered["s1"] {
			t.Fatalf("state %+v, registered %v", s, w.registered["s1"])
		}
	})
	t.Run("proposed then withdrawn", func(t *testing.T) {
		w := newWorld(t)
		w.addSLA("s1", 1)
		w.slas["s1"].Status = StatusProposed
		m := w.monitor(t.TempDir())
		m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
		m.ReconcileAll(context.Background())
		if w.registered["s1"] {
			t.Fatal("a proposed SLA was registered")
		}
		w.slas["s1"].Status = StatusWithdrawn
		m.ReconcileAll(context.Background())
		if m.Snapshot().SLAs["s1"].Skip != "withdrawn" {
			t.Fatal("withdrawn SLA not skipped")
		}
	})
}

func TestMonitorNotDoneWithUnsettledPeriods(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 3)
	for i := 0; i < 12; i++ { // the third paid period has no batches
		w.anchor("s1")
	}
	w.now = t0.Add(10 * time.Minute) // the validity has ended
	m := w.monitor(t.TempDir())
	m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
	m.ReconcileAll(context.Background())
	if s := m.Snapshot().SLAs["s1"]; s.Done || len(s.Settled) != 2 {
		t.Fatalf("state %+v", s)
	}
}

func TestMonitorDone(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 5)
	for i := 0; i < 30; i++ {
		w.anchor("s1")
	}
	w.now = t0.Add(10 * time.Minute)
	m := w.monitor(t.TempDir())
	m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
	m.ReconcileAll(context.Background())
	if s := m.Snapshot().SLAs["s1"]; !s.Done || len(s.Settled) != 5 {
		t.Fatalf("state %+v", s)
	}
	n := m.C.Reconciles.Load()
	m.ReconcileAll(context.Background())
	if m.C.Reconciles.Load() != n {
		t.Fatal("a done SLA was reconciled again")
	}
}

func TestHandleEvent(t *testing.T) {
	w := newWorld(t)
	m := w.monitor(t.TempDir())
	tests := []struct {
		ev      Event
		wantErr bool
	}{
		{event(t, EventLogBatchAnchored, map[string]any{"sla_id": "a", "seq": 4}), false},
		{event(t, EventLogBatchAnchored, map[string]any{"sla_id": "a", "seq": 2}), false},
		{event(t, "SLAProposed", map[string]any{"sla_id": "b"}), false},
		{Event{Name: EventSLASigned, Payload: []byte(`{}`)}, true},
		{Event{Name: EventSLASigned, Payload: []byte(`nope`)}, true},
	}
	for i, tc := range tests {
		if err := m.HandleEvent(tc.ev); (err != nil) != tc.wantErr {
			t.Errorf("event %d: %v", i, err)
		}
	}
	st := m.Snapshot()
	if len(st.SLAs) != 1 || st.SLAs["a"].Anchored != 4 {
		t.Fatalf("state %+v", st.SLAs)
	}
	// The state survives a restart.
	if m2 := w.monitor(m.cfg.StateDir); m2.Snapshot().SLAs["a"].Anchored != 4 {
		t.Fatal("state lost")
	}
}

func TestCandidatesAndPaid(t *testing.T) {
	st := &Status{Periods: []PeriodStatus{{Period: "p2", Complete: true}, {Period: "p1", Complete: true, Evaluated: true}, {Period: "p3"}}, EvaluatedPeriods: []string{"p0", "p1"}}
	if got := strings.Join(Candidates(st, []string{"p1"}), ","); got != "p0,p2" {
		t.Fatalf("candidates %s", got)
	}
	w := newWorld(t)
	w.addSLA("s1", 2)
	ag, s := w.slas["s1"], w.docs["s1"]
	tests := []struct {
		accepted string
		at       time.Duration
		want     bool
	}{
		{t0.Format(time.RFC3339), 0, true},
		{t0.Format(time.RFC3339), time.Minute, true},
		{t0.Format(time.RFC3339), 2 * time.Minute, false},
		{t0.Add(70 * time.Second).Format(time.RFC3339), 0, false},
		// AcceptSLA pays the first period not started at the acceptance.
		{t0.Add(70 * time.Second).Format(time.RFC3339), time.Minute, false},
		{t0.Add(59 * time.Second).Format(time.RFC3339), 0, false},
		{t0.Add(59 * time.Second).Format(time.RFC3339), time.Minute, true},
		{t0.Add(60 * time.Second).Format(time.RFC3339), time.Minute, true},
		{t0.Add(-time.Hour).Format(time.RFC3339), 0, true},
		{"", 0, false},
	}
	for _, tc := range tests {
		ag.AcceptedAt = tc.accepted
		p, _ := driver.PeriodOf(s, t0.Add(tc.at))
		if got, err := PaidPeriod(ag, s, p); err != nil || got != tc.want {
			t.Errorf("accepted %s period +%s: %v %v, want %v", tc.accepted, tc.at, got, err, tc.want)
		}
	}
}

// fakeChain is a ChainInfo whose answer the test sets; it ends the watch
// (cancel) at call stop.
type fakeChain struct {
	h      uint64
	err    error
	calls  int
	stop   int
	cancel func()
}

func (c *fakeChain) Height(context.Context) (uint64, error) {
	c.calls++
	if c.calls == c.stop {
		c.cancel()
	}
	return c.h, c.err
}

func watch(t *testing.T, m *Monitor, c *fakeChain, peer *opshttp.Freshness) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.calls, c.stop, c.cancel = 0, 1, cancel
	if c.err != nil {
		c.stop = 2 // the first failure is recorded, the second ends the watch
	}
	if err := m.WatchChain(ctx, c, time.Nanosecond, peer); !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchChain = %v", err)
	}
}

// scrape returns the samples of a Prometheus text answer by name, and the
// whole text.
func scrape(t *testing.T, h http.Handler) (map[string]string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics: %d", rec.Code)
	}
	out := map[string]string{}
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if name, v, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			out[name] = v
		}
	}
	return out, rec.Body.String()
}

func healthz(t *testing.T, h http.Handler) (int, Health, []string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var body Health
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("healthz: %v: %s", err, rec.Body)
	}
	return rec.Code, body, body.Reasons
}

// TestHandler drives the monitor through the fakes (one SLA, an ingestion
// failure and its retry, two settled periods, a chain 2 blocks past the last
// event) and checks /healthz and every monitor_* sample of /metrics.
func TestHandler(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 2)
	m := w.monitor(t.TempDir())
	var conn atomic.Bool
	peer := m.PeerFreshness()
	h := m.Handler(opshttp.New(func() time.Time { return w.now }), &conn, peer)

	code, hl, reasons := healthz(t, h)
	if code != 503 || hl.Status != "degraded" || hl.Events || hl.SLAs != 0 ||
		strings.Join(reasons, "|") != "events: the event stream of the agreement chaincode is not connected" {
		t.Fatalf("healthz while disconnected: %d %+v %q", code, hl, reasons)
	}
	conn.Store(true)
	if code, hl, reasons = healthz(t, h); code != 200 || hl.Status != "ok" || !hl.Events || len(reasons) != 0 {
		t.Fatalf("healthz: %d %+v %q", code, hl, reasons)
	}

	if err := m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"})); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		w.anchor("s1")
	}
	ev := event(t, EventLogBatchAnchored, map[string]any{"sla_id": "s1", "seq": 15})
	ev.Block = 9
	if err := m.HandleEvent(ev); err != nil {
		t.Fatal(err)
	}
	w.now = t0.Add(3 * time.Minute)
	w.fail["IngestBatch"] = 1
	m.ReconcileAll(context.Background())
	w.now = w.now.Add(time.Second)
	m.ReconcileAll(context.Background())
	chain := &fakeChain{h: 12}
	watch(t, m, chain, peer)

	got, text := scrape(t, h)
	want := map[string]string{
		"monitor_events_total": "2", "monitor_reconciles_total": "2", "monitor_registered_total": "1",
		"monitor_batches_ingested_total": "15", "monitor_evaluations_total": "2", "monitor_settlements_total": "2",
		"monitor_credits_minor_total": "60000", "monitor_errors_total": "1", "monitor_escalations_total": "0",
		"monitor_escalations_refused_total": "0", "monitor_escalation_errors_total": "0", "monitor_retries_total": "1",
		"monitor_event_block": "9", "monitor_chain_height": "12", "monitor_lag_blocks": "2", "monitor_slas": "1",
		"monitor_reputation_compactions_total": "0", "monitor_reputation_compacted_periods_total": "0", "monitor_reputation_compaction_errors_total": "0",
	}
	for name, v := range got {
		if strings.HasPrefix(name, "monitor_") && want[name] == "" {
			t.Errorf("unexpected sample %s %s", name, v)
		}
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %q, want %s", name, got[name], v)
		}
	}
	if !strings.Contains(text, "# TYPE monitor_settlements_total counter\nmonitor_settlements_total 2\n") ||
		!strings.Contains(text, "# TYPE monitor_lag_blocks gauge\n") || !strings.Contains(text, "\nprocess_resident_memory_bytes ") {
		t.Errorf("metrics text:\n%s", text)
	}

	// The peer stops answering: degraded once the last good poll is older
	// than MinPeerMaxAge (3 × the default 5 s poll is less).
	w.now = w.now.Add(MinPeerMaxAge)
	chain.err = errors.New("qscc GetChainInfo: connection refused")
	watch(t, m, chain, peer)
	if code, hl, reasons = healthz(t, h); code != 200 || hl.SLAs != 1 {
		t.Fatalf("healthz at the limit: %d %+v %q", code, hl, reasons)
	}
	w.now = w.now.Add(time.Second)
	code, hl, reasons = healthz(t, h)
	if code != 503 || hl.Status != "degraded" || strings.Join(reasons, "|") !=
		"peer: last successful contact with the peer (chain height) 31s ago (limit 30s); last error: qscc GetChainInfo: connection refused" {
		t.Fatalf("healthz with the peer gone: %d %+v %q", code, hl, reasons)
	}
}

// The monitor relays no enclave answer it did not check: each check refuses
// with its own error, and nothing is settled.
func TestMonitorChecksEvaluations(t *testing.T) {
	hmacOf := func(key byte, report string) string {
		return verdict.ReportDigest(bytes.Repeat([]byte{key}, 32), []byte(report))
	}
	const r98, r100 = `{"metrics":[{"id":"availability","value":"98.0000"}]}`, `{"metrics":[{"id":"availability","value":"100.0000"}]}`
	const p0 = "Evaluate 2026-03-01T00:00:00Z: "
	for _, tc := range []struct {
		name string
		edit func(w *world)
		want string
	}{
		// monitor-report-digest
		{"a report other than the verdict's", func(w *world) { w.badReport = true },
			p0 + "the report's HMAC-SHA256 under the report key is " + hmacOf(7, r100) + ", not the verdict's report_digest " + hmacOf(7, r98)},
		{"a report key other than the verdict's", func(w *world) { w.badKey = true },
			p0 + "the report's HMAC-SHA256 under the report key is " + hmacOf(8, r98) + ", not the verdict's report_digest " + hmacOf(7, r98)},
		{"an evaluation of another format", func(w *world) { w.oldFormat = true },
			p0 + `evaluation format "slasa.evaluation/v1", this monitor reads "slasa.evaluation/v2"`},
		// monitor-verdict-target
		{"a verdict for another SLA", func(w *world) { w.misdirect = "sla" },
			p0 + `the verdict is for SLA "s-other" period 2026-03-01T00:00:00Z, not SLA "s1" period 2026-03-01T00:00:00Z`},
		{"a verdict for another period", func(w *world) { w.misdirect = "period" },
			p0 + `the verdict is for SLA "s1" period 2026-03-01T00:01:00Z, not SLA "s1" period 2026-03-01T00:00:00Z`},
		// monitor-verdict-pin
		{"a verdict of an enclave the SLA is not pinned to", func(w *world) { w.forge = true },
			p0 + "the verdict comes from enclave "},
		// monitor-verdict-signature
		{"a verdict signed by another key in the pinned enclave's name", func(w *world) { w.forgeSig = true },
			p0 + verdict.ErrBadSignature.Error()},
		// monitor-verdict-batch
		{"a verdict naming another CID as the last batch", func(w *world) { w.misdirect = "batch-cid" },
			p0 + "the verdict names batch 6 with CID bafkother as the period's last (ending at 2026-03-01T00:01:00Z), but the anchored batch 6 has CID bafkcid6 and ends at 2026-03-01T00:01:00Z"},
		{"a verdict naming a batch that does not end the period", func(w *world) { w.misdirect = "batch-seq" },
			p0 + "the verdict names batch 3 with CID bafkcid6 as the period's last (ending at 2026-03-01T00:01:00Z), but the anchored batch 3 has CID bafkcid3 and ends at 2026-03-01T00:00:30Z"},
		{"a verdict naming a batch that is not anchored", func(w *world) { w.misdirect = "batch-missing" },
			p0 + "the verdict's last batch 99: batch 99: log batch is not anchored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.addSLA("s1", 1)
			for i := 0; i < 6; i++ {
				w.anchor("s1")
			}
			w.now = t0.Add(2 * time.Minute)
			tc.edit(w)
			m := w.monitor(t.TempDir())
			m.HandleEvent(event(t, EventSLASigned, map[string]any{"sla_id": "s1"}))
			err := m.Reconcile(context.Background(), "s1")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error:\n got %v\nwant %q", err, tc.want)
			}
			if w.settleCalls != 0 || w.escrow["s1"]["2026-03-01T00:00:00Z"].Status != EscrowHeld || len(m.Snapshot().SLAs["s1"].Settled) != 0 {
				t.Fatalf("a refused evaluation was settled: %d settle calls", w.settleCalls)
			}
		})
	}
}

// A verdict's own signature is checked too, not only its key's id.
func TestCheckEvaluationSignature(t *testing.T) {
	w := newWorld(t)
	w.addSLA("s1", 1)
	for i := 0; i < 6; i++ {
		w.anchor("s1")
	}
	w.covered["s1"] = map[string]time.Time{"2026-03-01T00:00:00Z": t0.Add(time.Minute)}
	ev, err := w.Evaluate(context.Background(), "s1", "2026-03-01T00:00:00Z", []string{"ClientOrgMSP", "ProviderOrgMSP"})
	if err != nil {
		t.Fatal(err)
	}
	var signed verdict.Signed
	if err := json.Unmarshal(ev.Verdict, &signed); err != nil {
		t.Fatal(err)
	}
	signed.Verdict.CreditBPS = 10000 // the host raises the credit
	ev.Verdict, _ = json.Marshal(signed)
	if _, err := CheckEvaluation(context.Background(), ev, w, w.slas["s1"].Enclave, "s1", "2026-03-01T00:00:00Z"); !errors.Is(err, verdict.ErrBadSignature) ||
		err.Error() != "Evaluate 2026-03-01T00:00:00Z: "+verdict.ErrBadSignature.Error() {
		t.Fatalf("altered verdict: %v", err)
	}
}
