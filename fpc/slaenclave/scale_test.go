package slaenclave_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/pkg/statebased"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// partiesPolicy is the validation parameter "a peer of each of orgs".
func partiesPolicy(t *testing.T, orgs ...string) []byte {
	t.Helper()
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, orgs...); err != nil {
		t.Fatal(err)
	}
	b, err := ep.Policy()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// isReplayRecord reports whether key is the runtime's record of an endorsed
// request (a key of the runtime, not of an SLA).
func isReplayRecord(key string) bool { return strings.HasPrefix(key, "\x00fpc.endorsed\x00") }

// Every key the enclave creates for an SLA carries the key-level policy
// "a peer of the provider's and of the client's organization", set once at
// its creation; afterwards a third organization, alone or with one party,
// cannot change the SLA's keys (the transaction is invalidated at commit and
// nothing changes), while the two parties can.
func TestKeyPoliciesOfAnSLA(t *testing.T) {
	w, f := start(t)
	parties := partiesPolicy(t, "ProviderOrgMSP", "ClientOrgMSP")
	vs := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	const id = "sla-policies"
	both := []string{"ProviderOrgMSP", "ClientOrgMSP"}
	// createdWithPolicy checks that the transaction sets the parties' policy
	// on exactly the keys it creates.
	createdWithPolicy := func(tx *fpctest.Tx, wantNew int) {
		t.Helper()
		created := map[string]bool{}
		for _, wr := range tx.Writes {
			if _, exists := f.stub.State[wr.Key]; !exists && !wr.Delete && !isReplayRecord(wr.Key) {
				created[wr.Key] = true
			}
		}
		if len(created) != wantNew || len(tx.Metadata) != wantNew {
			t.Fatalf("%d keys created, %d policies set; want %d", len(created), len(tx.Metadata), wantNew)
		}
		for _, m := range tx.Metadata {
			if !created[m.Key] || !bytes.Equal(m.Policy, parties) {
				t.Fatalf("policy of %q: created %v, parties' policy %v", m.Key, created[m.Key], bytes.Equal(m.Policy, parties))
			}
		}
	}

	reg := f.endorseTx(t, w.provider, slaenclave.FnRegisterAgreement, string(signRecord(t, w.doc(id, vs, vs.Add(24*time.Hour), "Policies"), w.provider, w.client)))
	createdWithPolicy(reg, 2) // the record and the chain head
	f.commit(t, reg, fpctest.Valid, both...)

	cid1 := f.batch(t, w.logger, header(id, 1, "", sec(0), sec(100)), records(sec(0), sec(100), sec(1000)))
	in1 := f.endorseTx(t, w.logger, slaenclave.FnIngestBatch, id, "1", cid1)
	createdWithPolicy(in1, 5) // the period, 3 bitmap pages (one per probe), 1 counter page; the head exists
	f.commit(t, in1, fpctest.Valid, both...)

	cid2 := f.batch(t, w.logger, header(id, 2, cid1, sec(100), sec(300)), records(sec(100), sec(300), sec(200)))
	in2 := f.endorseTx(t, w.logger, slaenclave.FnIngestBatch, id, "2", cid2)
	createdWithPolicy(in2, 0)
	before := f.snapshot()
	for _, orgs := range [][]string{{"Org3MSP", "ProviderOrgMSP"}, {"Org3MSP", "ClientOrgMSP"}, {"Org3MSP"}} {
		f.commit(t, in2, fpctest.EndorsementPolicyFailure, orgs...)
		if !fpctest.SameState(before, f.snapshot()) {
			t.Fatalf("a transaction endorsed by %v changed the state", orgs)
		}
	}
	f.commit(t, in2, fpctest.Valid, both...)

	ev := f.endorseTx(t, w.client, slaenclave.FnEvaluate, id, sec(0).Format(time.RFC3339))
	createdWithPolicy(ev, 1) // the verdict
	deleted := 0
	for _, wr := range ev.Writes {
		if wr.Delete {
			deleted++
			if !strings.Contains(wr.Key, "slaenclave.page") {
				t.Fatalf("evaluation deletes %q", wr.Key)
			}
		}
	}
	if deleted != 4 {
		t.Fatalf("evaluation deletes %d pages, want 4", deleted)
	}
	f.commit(t, ev, fpctest.EndorsementPolicyFailure, "Org3MSP", "ClientOrgMSP")
	f.commit(t, ev, fpctest.Valid, both...)
	for k := range f.stub.State {
		if isReplayRecord(k) {
			continue
		}
		if strings.Contains(k, "slaenclave.page") {
			t.Fatalf("page %q left after the evaluation", k)
		}
		if !bytes.Equal(f.ledger.Policy(k), parties) {
			t.Fatalf("key %q does not carry the parties' policy", k)
		}
	}
}

// A batch reads only the pages of its window and writes only the pages it
// changed, the period's header and the chain head; the record is written
// once.
func TestIngestWritesPagesOfItsWindow(t *testing.T) {
	w, f := start(t)
	vs := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	const id = "sla-pages"
	f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(signRecord(t, w.doc(id, vs, vs.Add(24*time.Hour), "Pages"), w.provider, w.client)))
	cid1 := f.batch(t, w.logger, header(id, 1, "", sec(0), sec(150)), records(sec(0), sec(150), sec(1000)))
	f.must(t, w.logger, slaenclave.FnIngestBatch, id, "1", cid1)
	// An empty batch changes no page: it writes the period and the head.
	cid2 := f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(200)), "")
	tx := f.endorseTx(t, w.logger, slaenclave.FnIngestBatch, id, "2", cid2)
	var kinds []string
	for _, wr := range tx.Writes {
		switch {
		case strings.Contains(wr.Key, "slaenclave.period"):
			kinds = append(kinds, "period")
		case strings.Contains(wr.Key, "slaenclave.head"):
			kinds = append(kinds, "head")
		case isReplayRecord(wr.Key):
		default:
			kinds = append(kinds, wr.Key)
		}
	}
	if strings.Join(kinds, ",") != "period,head" {
		t.Fatalf("an empty batch writes %q", kinds)
	}
	pages := 0
	for _, r := range tx.Reads {
		if strings.Contains(r.Key, "slaenclave.page") {
			pages++
		}
	}
	if pages != 4 { // the window's bitmap pages of 3 probes and its counter page
		t.Fatalf("the batch read %d pages, want 4", pages)
	}
	f.commit(t, tx, fpctest.Valid, "ProviderOrgMSP", "ClientOrgMSP")
}

// demoDoc is the demo's SLA (2-minute periods, 1-second samples and
// sub-intervals, three zones, down when two zones fail) between the
// world's parties.
func demoDoc(w *world, id string, start, end time.Time) []byte {
	doc := string(w.doc(id, start, end, "Demo"))
	return []byte(strings.Replace(doc, `"interval": {"billing_cycle": {"unit": "seconds", "seconds": 300}, "time_zone": "UTC", "sampling_period_ms": 5000, "sub_interval_seconds": 10}`,
		`"interval": {"billing_cycle": {"unit": "seconds", "seconds": 120}, "time_zone": "UTC", "sampling_period_ms": 1000, "sub_interval_seconds": 1}`, 1))
}

// demoLog is a log of the demo's 120 seconds from start in which down
// seconds have failing zones failing (the first ones), every zone probed
// once a second.
func demoLog(start time.Time, down, failing int) string {
	var b strings.Builder
	for s := range 120 {
		for zi, z := range []string{"zone-a", "zone-b", "zone-c"} {
			b.WriteString(line(start.Add(time.Duration(s)*time.Second), probeMarker+"-"+z, z, !(s < down && zi < failing), 100))
		}
	}
	return b.String()
}

// The guessing attack on the verdict: an outsider who reads the verdict on
// the ledger and knows the SLA's terms enumerates every report the SLA can
// produce (every count of down seconds of the 120, with two or three zones
// failing, encoded exactly as the enclave encodes its report, through the
// driver) and compares each with report_digest. Against the keyed digest
// nothing matches, neither as SHA-256 nor as an HMAC under a key the
// outsider could guess; against an unkeyed SHA-256 of the same report the
// same attack recovers the uptime, so the test can fail.
func TestReportDigestResistsGuessing(t *testing.T) {
	w, f := start(t)
	vs := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	const id, down = "demo-sla", 5
	doc := demoDoc(w, id, vs, vs.Add(24*time.Hour))
	rec := signRecord(t, doc, w.provider, w.client)
	f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(rec))
	cid := f.batch(t, w.logger, header(id, 1, "", vs, vs.Add(120*time.Second)), demoLog(vs, down, 2))
	f.must(t, w.logger, slaenclave.FnIngestBatch, id, "1", cid)
	ev, err := slaenclave.ParseEvaluation(f.must(t, w.client, slaenclave.FnEvaluate, id, vs.Format(time.RFC3339)))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := ev.Check()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ev.Report, []byte(`"value":"95.8333","exact":"575/6"`)) {
		t.Fatalf("report %s", ev.Report)
	}

	// The outsider's candidates.
	s, err := sla.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := driver.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	period, err := driver.PeriodOf(s, vs)
	if err != nil {
		t.Fatal(err)
	}
	type candidate struct {
		down, failing int
		report        []byte
	}
	var candidates []candidate
	for d := 0; d <= 120; d++ {
		for _, failing := range []int{2, 3} {
			o, err := driver.Evaluate(plan, period, strings.NewReader(demoLog(vs, d, failing)))
			if err != nil {
				t.Fatal(err)
			}
			j, err := o.JSON()
			if err != nil {
				t.Fatal(err)
			}
			candidates = append(candidates, candidate{d, failing, bytes.TrimSuffix(j, []byte("\n"))})
		}
	}
	recover := func(digest string, hash func(report []byte) []string) []candidate {
		var hits []candidate
		for _, c := range candidates {
			for _, h := range hash(c.report) {
				if h == digest {
					hits = append(hits, c)
				}
			}
		}
		return hits
	}
	sha := func(report []byte) []string {
		sum := sha256.Sum256(report)
		return []string{hex.EncodeToString(sum[:])}
	}
	// Keys an outsider could try: public names and digests of the SLA, the
	// enclave and the label.
	slaSum := sha256.Sum256([]byte(id))
	guesses := [][]byte{nil, []byte(id), []byte(sv.Verdict.SLADigest), []byte(sv.Verdict.EnclaveID), []byte(sv.Verdict.Chaincode),
		[]byte(verdict.ReportKeyLabel), []byte(verdict.ReportKeyLabel + "\x00" + id), slaSum[:], []byte(sv.Verdict.BatchCID)}
	if d, err := hex.DecodeString(sv.Verdict.SLADigest); err == nil {
		guesses = append(guesses, d)
	}
	hmacs := func(report []byte) []string {
		var out []string
		for _, k := range guesses {
			m := hmac.New(sha256.New, k)
			m.Write(report)
			out = append(out, hex.EncodeToString(m.Sum(nil)))
		}
		return out
	}

	// The control: the enclave's report is among the candidates, and an
	// unkeyed SHA-256 of it (what report_digest was before) gives it away.
	unkeyed := sha(ev.Report)[0]
	if hits := recover(unkeyed, sha); len(hits) != 1 || hits[0].down != down || !bytes.Equal(hits[0].report, ev.Report) {
		t.Fatalf("the attack does not recover the uptime from an unkeyed SHA-256 (%d hits): it proves nothing", len(hits))
	}
	// The keyed digest resists it.
	if hits := recover(sv.Verdict.ReportDigest, sha); len(hits) != 0 {
		t.Fatalf("report_digest is the SHA-256 of the report of %d down seconds: the verdict gives the uptime away", hits[0].down)
	}
	if hits := recover(sv.Verdict.ReportDigest, hmacs); len(hits) != 0 {
		t.Fatalf("report_digest is an HMAC under a guessable key: %d down seconds recovered", hits[0].down)
	}
	// The parties, with the report key, check the report.
	key, _ := ev.Key()
	if err := sv.Verdict.CheckReport(key, ev.Report); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d candidate reports: the unkeyed SHA-256 gives %d down seconds away, the keyed digest nothing", len(candidates), down)
}
