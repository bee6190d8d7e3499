package slaenclave_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"
	//lint:ignore SA1019 shimtest is the v1 shim's stub double, as in fpc/runtime's tests
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Distinctive strings of the logs and of the report that must never reach
// the ledger in plaintext.
const (
	probeMarker   = "MARKER-probe-xyz"
	latencyMarker = "987654"
)

// world is the channel of the lifecycle test: three organizations, the
// client's with an intermediate CA, plus a foreign CA nobody trusts.
type world struct {
	providerCA, clientCA, clientICA, org3CA, foreignCA  *ca
	provider, client, logger, other, org3User, admin    *identity
	foreignProvider, foreignLogger, foreignClientClaims *identity
}

func newWorld(t *testing.T) *world {
	w := &world{providerCA: newCA(t, "ProviderOrgMSP"), clientCA: newCA(t, "ClientOrgMSP"), org3CA: newCA(t, "Org3MSP")}
	w.clientICA = w.clientCA.intermediate(t)
	w.foreignCA = newCA(t, "ProviderOrgMSP")
	foreignClient := newCA(t, "ClientOrgMSP")
	w.provider = w.providerCA.issue(t, "provider@providerorg")
	w.logger = w.providerCA.issue(t, "logger@providerorg")
	w.other = w.providerCA.issue(t, "other@providerorg")
	w.admin = w.providerCA.issue(t, "admin@providerorg")
	w.client = w.clientICA.issue(t, "client@clientorg")
	w.org3User = w.org3CA.issue(t, "user@org3")
	w.foreignProvider = w.foreignCA.issue(t, "provider@providerorg")
	w.foreignLogger = w.foreignCA.issue(t, "logger@providerorg")
	w.foreignClientClaims = foreignClient.issue(t, "client@clientorg")
	return w
}

func (w *world) mspsJSON(t *testing.T) string {
	t.Helper()
	m := map[string]slaenclave.MSPCAs{
		"ProviderOrgMSP": {Roots: []string{w.providerCA.pem}},
		"ClientOrgMSP":   {Roots: []string{w.clientCA.pem}, Intermediates: []string{w.clientICA.pem}},
		"Org3MSP":        {Roots: []string{w.org3CA.pem}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// records returns the log lines of [from, to) (5 s sampling, three zones);
// zones a and b fail in the sub-interval starting at down.
func records(from, to, down time.Time) string {
	var b strings.Builder
	for at := from; at.Before(to); at = at.Add(5 * time.Second) {
		for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
			ok := !(z != "zone-c" && !at.Before(down) && at.Before(down.Add(10*time.Second)))
			b.WriteString(line(at, probeMarker+"-"+z, z, ok, 987654))
		}
	}
	return b.String()
}

func header(id string, seq int64, prev string, from, to time.Time) logbatch.Header {
	return logbatch.Header{SLAID: id, Seq: seq, PrevCID: prev, WindowStart: from.Format(time.RFC3339), WindowEnd: to.Format(time.RFC3339)}
}

func TestLifecycle(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t)
	f.initEnclave(t, w.admin)

	now := time.Now().UTC()
	vs := now.Truncate(time.Hour).Add(-2 * time.Hour) // validity start; periods of 300 s from here
	ve := vs.Add(30 * 24 * time.Hour)
	const id = "sla-region-1"
	doc := slaDoc(id, vs, ve, "Compute region SLA")
	rec := signRecord(t, doc, w.provider, w.client)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	period0, period1 := vs.Format(time.RFC3339), sec(300).Format(time.RFC3339)

	// Before InitMSPs nothing works.
	f.reject(t, w.provider, "call InitMSPs first", slaenclave.FnRegisterAgreement, string(rec))

	t.Run("InitMSPs", func(t *testing.T) {
		f.reject(t, w.admin, "msps.ProviderOrgMSP.roots[0]: certificate \"provider@providerorg\" is not a CA certificate",
			slaenclave.FnInitMSPs, `{"ProviderOrgMSP":{"roots":[`+strconv.Quote(w.provider.certPEM)+`]}}`)
		f.reject(t, w.admin, "msps: json: unknown field", slaenclave.FnInitMSPs, `{"ProviderOrgMSP":{"root":[]}}`)
		var res slaenclave.MSPsResult
		if err := json.Unmarshal(f.must(t, w.admin, slaenclave.FnInitMSPs, w.mspsJSON(t)), &res); err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.MSPs, ",") != "ClientOrgMSP,Org3MSP,ProviderOrgMSP" {
			t.Fatalf("MSPs %v", res.MSPs)
		}
		f.reject(t, w.admin, "were already set", slaenclave.FnInitMSPs, w.mspsJSON(t))
	})

	t.Run("RegisterAgreement rejects", func(t *testing.T) {
		halfSigned := *w.client
		halfSigned.key = nil
		otherDigest := signRecord(t, doc, w.provider, w.client)
		var r map[string]any
		_ = json.Unmarshal(otherDigest, &r)
		// The provider signs a digest of another document.
		other := signRecord(t, slaDoc(id, vs, ve, "Another title"), w.provider, w.client)
		var o map[string]any
		_ = json.Unmarshal(other, &o)
		r["provider"].(map[string]any)["signature"] = o["provider"].(map[string]any)["signature"]
		wrongDigest, _ := json.Marshal(r)
		expired := signRecord(t, slaDoc("sla-expired", vs.Add(-48*time.Hour), vs.Add(-24*time.Hour), "Old"), w.provider, w.client)
		for _, tc := range []struct {
			name, record, want string
		}{
			{"half-signed", string(signRecord(t, doc, w.provider, &halfSigned)), "the client signature is missing; both parties must sign"},
			{"signature over another digest", string(wrongDigest), `provider: verify signature of "provider@providerorg": signature does not verify`},
			{"certificate from a foreign CA", string(signRecord(t, doc, w.foreignProvider, w.client)), `provider: certificate does not chain to the roots of MSP "ProviderOrgMSP"`},
			{"expired", string(expired), `SLA "sla-expired" expired: validity.end`},
			{"not JSON", "{", "decode signed SLA record"},
		} {
			t.Run(tc.name, func(t *testing.T) { f.reject(t, w.provider, tc.want, slaenclave.FnRegisterAgreement, tc.record) })
		}
	})

	t.Run("RegisterAgreement", func(t *testing.T) {
		var st slaenclave.Status
		if err := json.Unmarshal(f.must(t, w.client, slaenclave.FnRegisterAgreement, string(rec)), &st); err != nil {
			t.Fatal(err)
		}
		if st.SLAID != id || st.LastSeq != 0 || len(st.Periods) != 0 {
			t.Fatalf("status %+v", st)
		}
		// Idempotent: the same record again writes nothing.
		before := f.snapshot()
		o := f.submit(t, w.provider, slaenclave.FnRegisterAgreement, string(rec))
		if o.status != shim.OK || o.writes != 0 {
			t.Fatalf("re-register: %d %s, %d writes", o.status, o.message, o.writes)
		}
		after := f.snapshot()
		for k, v := range before {
			if after[k] != v {
				t.Fatalf("re-register changed %q", k)
			}
		}
		f.reject(t, w.provider, `SLA "sla-region-1" is already registered with digest`, slaenclave.FnRegisterAgreement,
			string(signRecord(t, slaDoc(id, vs, ve, "Another title"), w.provider, w.client)))
	})

	cid1 := f.batch(t, w.logger, header(id, 1, "", sec(0), sec(150)), records(sec(0), sec(150), sec(200)))
	var cid2 string
	t.Run("IngestBatch", func(t *testing.T) {
		var res slaenclave.IngestResult
		if err := json.Unmarshal(f.must(t, w.provider, slaenclave.FnIngestBatch, id, "1", cid1), &res); err != nil {
			t.Fatal(err)
		}
		if res.Seq != 1 || res.Period != period0 || res.CoveredEnd != sec(150).Format(time.RFC3339) || res.Complete {
			t.Fatalf("ingest 1: %+v", res)
		}
		good2 := records(sec(150), sec(300), sec(200))
		tampered := f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(300)), good2)
		data, _ := f.shim.fetch(tampered)
		data = bytes.Replace(data, []byte(`"seq":2`), []byte(`"seq":2 `), 1)
		f.shim.put(tampered, data)
		for _, tc := range []struct {
			name, seq, cid, want string
		}{
			{"replayed", "1", cid1, `seq: batch 1 of SLA "sla-region-1" was already ingested (replay); expected seq 2`},
			{"skipped", "3", cid1, `seq: got 3, expected 2: batches 2..2 of SLA "sla-region-1" are missing (skipped)`},
			{"bytes not matching the CID", "2", tampered, "batch bytes do not match cid " + tampered},
			{"signed by another identity of the logger's MSP", "2",
				f.batch(t, w.other, header(id, 2, cid1, sec(150), sec(300)), good2),
				`is not signed by the SLA's logger: logger: certificate common name "other@providerorg" is not the SLA's logger "logger@providerorg"`},
			{"signed by the logger's name under a foreign CA", "2",
				f.batch(t, w.foreignLogger, header(id, 2, cid1, sec(150), sec(300)), good2),
				`is not signed by the SLA's logger: certificate "logger@providerorg" does not chain to the roots of MSP "ProviderOrgMSP"`},
			{"wrong prev_cid", "2",
				f.batch(t, w.logger, header(id, 2, tampered, sec(150), sec(300)), good2),
				"header.prev_cid is " + tampered + ", expected the last ingested batch " + cid1 + " (seq 1)"},
			{"non-contiguous window", "2",
				f.batch(t, w.logger, header(id, 2, cid1, sec(160), sec(300)), records(sec(160), sec(300), sec(200))),
				"window is not contiguous: window_start is " + sec(160).Format(time.RFC3339) + ", expected " + sec(150).Format(time.RFC3339) + " (the end of batch 1)"},
			{"record outside the window", "2",
				f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(300)), good2+line(sec(100), probeMarker+"-zone-a", "zone-a", true, 1)),
				"records: line 91: time " + sec(100).Format("2006-01-02T15:04:05Z") + " is outside the batch window"},
			{"header for another seq", "2",
				f.batch(t, w.logger, header(id, 3, cid1, sec(150), sec(300)), good2),
				"header.seq 3 is not the requested seq 2"},
			{"unregistered SLA", "1", cid1, `slaID: SLA "nope" is not registered`},
		} {
			slaID := id
			if tc.name == "unregistered SLA" {
				slaID = "nope"
			}
			t.Run(tc.name, func(t *testing.T) { f.reject(t, w.provider, tc.want, slaenclave.FnIngestBatch, slaID, tc.seq, tc.cid) })
		}
		cid2 = f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(300)), good2)
		if err := json.Unmarshal(f.must(t, w.client, slaenclave.FnIngestBatch, id, "2", cid2), &res); err != nil {
			t.Fatal(err)
		}
		if !res.Complete || res.CoveredEnd != sec(300).Format(time.RFC3339) {
			t.Fatalf("ingest 2: %+v", res)
		}
	})

	cid3 := f.batch(t, w.logger, header(id, 3, cid2, sec(300), sec(450)), records(sec(300), sec(450), sec(1000)))
	t.Run("next period", func(t *testing.T) {
		f.must(t, w.provider, slaenclave.FnIngestBatch, id, "3", cid3)
		spanning := f.batch(t, w.logger, header(id, 4, cid3, sec(450), sec(650)), records(sec(450), sec(650), sec(1000)))
		f.reject(t, w.provider, "spans two billing periods", slaenclave.FnIngestBatch, id, "4", spanning)
		f.reject(t, w.client, "period "+period1+` of SLA "sla-region-1" is incomplete: batches cover `+period1+".."+sec(450).Format(time.RFC3339)+" of "+period1+".."+sec(600).Format(time.RFC3339),
			slaenclave.FnEvaluate, id, period1)
		f.reject(t, w.client, "no batch covers any of it yet", slaenclave.FnEvaluate, id, sec(600).Format(time.RFC3339))
		f.reject(t, w.client, "is not the start of a billing period", slaenclave.FnEvaluate, id, sec(30).Format(time.RFC3339))
	})

	t.Run("Evaluate access", func(t *testing.T) {
		f.reject(t, w.org3User, `access denied: caller "user@org3" of MSP "Org3MSP" is not the provider or the client of SLA "sla-region-1"`, slaenclave.FnEvaluate, id, period0)
		f.reject(t, w.other, `access denied: caller "other@providerorg" of MSP "ProviderOrgMSP"`, slaenclave.FnEvaluate, id, period0)
		f.reject(t, w.foreignClientClaims, `access denied: certificate "client@clientorg" does not chain to the roots of MSP "ClientOrgMSP"`, slaenclave.FnEvaluate, id, period0)
		f.reject(t, w.org3User, "access denied", slaenclave.FnGetAgreementStatus, id)
	})

	var first []byte
	t.Run("Evaluate", func(t *testing.T) {
		first = f.must(t, w.provider, slaenclave.FnEvaluate, id, period0)
		ev, err := slaenclave.ParseEvaluation(first)
		if err != nil {
			t.Fatal(err)
		}
		vk, _ := f.record.VerifyingKey()
		if err := verdict.Verify(&ev.Verdict, vk); err != nil {
			t.Fatalf("verdict does not verify with the registered enclave key: %v", err)
		}
		if err := ev.CheckReport(); err != nil {
			t.Fatal(err)
		}
		digest := mustDigest(t, doc)
		// 30 sub-intervals of 10 s, one down (zones a and b fail): 29/30 =
		// 96.66..% < 99.0 -> 2500 bps of 123457 = 30864.25 -> 30864; the
		// objective is missed -> penalty 500; not worse than 90 -> no termination.
		want := verdict.Verdict{SLAID: id, SLADigest: digest, Period: period0, PeriodEnd: sec(300).Format(time.RFC3339),
			Violated: true, CreditBPS: 2500, CreditAmount: 30864, PenaltyAmount: 500, Currency: "USD", Terminate: false,
			ReportDigest: ev.Verdict.Verdict.ReportDigest, Chaincode: ccName, EnclaveID: f.record.EnclaveID}
		if ev.Verdict.Verdict != want {
			t.Fatalf("verdict\n got %+v\nwant %+v", ev.Verdict.Verdict, want)
		}
		var out struct {
			Metrics []struct {
				Value, Exact string
			}
			Samples struct{ Accepted int64 }
		}
		if err := json.Unmarshal(ev.Report, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Metrics) != 1 || out.Metrics[0].Value != "96.6666" || out.Metrics[0].Exact != "290/3" || out.Samples.Accepted != 180 {
			t.Fatalf("report %s", ev.Report)
		}
		// Frozen: the client gets the identical signed verdict, and nothing is written.
		o := f.submit(t, w.client, slaenclave.FnEvaluate, id, period0)
		if o.status != shim.OK || !bytes.Equal(o.payload, first) || o.writes != 0 {
			t.Fatalf("second evaluation: %d %s, %d writes, same=%v", o.status, o.message, o.writes, bytes.Equal(o.payload, first))
		}
		// A batch for the frozen period is rejected.
		late := f.batch(t, w.logger, header(id, 4, cid3, sec(250), sec(300)), "")
		f.reject(t, w.logger, "period "+period0+` of SLA "sla-region-1" is already evaluated; its verdict is frozen`, slaenclave.FnIngestBatch, id, "4", late)
	})

	t.Run("GetAgreementStatus", func(t *testing.T) {
		var st slaenclave.Status
		if err := json.Unmarshal(f.must(t, w.client, slaenclave.FnGetAgreementStatus, id), &st); err != nil {
			t.Fatal(err)
		}
		want := slaenclave.Status{SLAID: id, SLADigest: mustDigest(t, doc), RegisteredAt: st.RegisteredAt, LastSeq: 3, LastCID: cid3,
			LastWindowEnd: sec(450).Format(time.RFC3339), EvaluatedPeriods: []string{period0}, Periods: []slaenclave.PeriodStatus{
				{Period: period0, PeriodEnd: period1, CoveredEnd: period1, Batches: 2, FirstSeq: 1, LastSeq: 2, Complete: true, Evaluated: true},
				{Period: period1, PeriodEnd: sec(600).Format(time.RFC3339), CoveredEnd: sec(450).Format(time.RFC3339), Batches: 1, FirstSeq: 3, LastSeq: 3},
			}}
		got, _ := json.Marshal(st)
		exp, _ := json.Marshal(want)
		if !bytes.Equal(got, exp) {
			t.Fatalf("status\n got %s\nwant %s", got, exp)
		}
	})

	t.Run("no plaintext on the ledger", func(t *testing.T) {
		ev, _ := slaenclave.ParseEvaluation(first)
		secrets := []string{probeMarker, latencyMarker, "96.6666", "290/3", "zone-a", "provider@providerorg", "Compute region SLA", ev.Verdict.Verdict.ReportDigest}
		if len(f.stub.State) < 6 {
			t.Fatalf("only %d state entries", len(f.stub.State))
		}
		for k, v := range f.stub.State {
			for _, s := range secrets {
				if strings.Contains(k, s) || bytes.Contains(v, []byte(s)) {
					t.Fatalf("%q in plaintext on the ledger under key %q", s, k)
				}
			}
		}
	})
}

func mustDigest(t *testing.T, doc []byte) string {
	t.Helper()
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(d[:])
}

// The chaincode refuses to run outside an enclave: a plain stub has no
// enclave services.
func TestOutsideEnclave(t *testing.T) {
	stub := shimtest.NewMockStub(ccName, slaenclave.Chaincode{})
	resp := stub.MockInvoke("tx1", [][]byte{[]byte(slaenclave.FnIngestBatch), []byte("a"), []byte("1"),
		[]byte("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")})
	if resp.Status == shim.OK || !strings.Contains(resp.Message, "runs only inside an FPC enclave") {
		t.Fatalf("%d %s", resp.Status, resp.Message)
	}
	resp = stub.MockInvoke("tx2", [][]byte{[]byte("Nope")})
	if resp.Status == shim.OK || !strings.Contains(resp.Message, `unknown function "Nope"`) {
		t.Fatalf("%d %s", resp.Status, resp.Message)
	}
}

// The first batch must start at a period start, a window may not end after
// the transaction time, and an empty batch keeps coverage contiguous; a
// period without violation yields a verdict without credit.
func TestChainStartAndEmptyBatches(t *testing.T) {
	w := newWorld(t)
	f := newFixture(t)
	f.initEnclave(t, w.admin)
	f.must(t, w.admin, slaenclave.FnInitMSPs, w.mspsJSON(t))
	now := time.Now().UTC()
	vs := now.Truncate(time.Hour).Add(-time.Hour)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	const id = "sla-quiet"
	f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(signRecord(t, slaDoc(id, vs, vs.Add(24*time.Hour), "Quiet"), w.provider, w.client)))

	mid := f.batch(t, w.logger, header(id, 1, "", sec(650), sec(700)), "")
	f.reject(t, w.logger, "the first batch of SLA \"sla-quiet\" must start at a billing period start; window_start "+sec(650).Format(time.RFC3339)+" is inside the period "+sec(600).Format(time.RFC3339),
		slaenclave.FnIngestBatch, id, "1", mid)

	// The logger starts with the third period; the first batch is empty.
	first := f.batch(t, w.logger, header(id, 1, "", sec(600), sec(750)), "")
	f.must(t, w.logger, slaenclave.FnIngestBatch, id, "1", first)
	second := f.batch(t, w.logger, header(id, 2, first, sec(750), sec(900)), "")
	f.must(t, w.logger, slaenclave.FnIngestBatch, id, "2", second)

	ev, err := slaenclave.ParseEvaluation(f.must(t, w.client, slaenclave.FnEvaluate, id, sec(600).Format(time.RFC3339)))
	if err != nil {
		t.Fatal(err)
	}
	v := ev.Verdict.Verdict
	if v.Violated || v.CreditBPS != 0 || v.CreditAmount != 0 || v.PenaltyAmount != 0 || v.Terminate {
		t.Fatalf("a period without data: %+v", v)
	}
	vk, _ := f.record.VerifyingKey()
	if err := verdict.Verify(&ev.Verdict, vk); err != nil {
		t.Fatal(err)
	}

	// A window ending after the transaction time is rejected.
	p := now.Add(-now.Sub(vs) % (300 * time.Second)).Truncate(time.Second) // start of the current period
	var prev = second
	seq := int64(3)
	for at := sec(900); at.Before(p); at = at.Add(300 * time.Second) {
		c := f.batch(t, w.logger, header(id, seq, prev, at, at.Add(300*time.Second)), "")
		f.must(t, w.logger, slaenclave.FnIngestBatch, id, strconv.FormatInt(seq, 10), c)
		prev, seq = c, seq+1
	}
	ahead := f.batch(t, w.logger, header(id, seq, prev, p, p.Add(300*time.Second)), "")
	if !p.Add(300 * time.Second).After(time.Now()) {
		t.Skip("period ended while the test ran")
	}
	f.reject(t, w.logger, "window ends at "+p.Add(300*time.Second).Format(time.RFC3339)+", after the transaction time", slaenclave.FnIngestBatch, id, strconv.FormatInt(seq, 10), ahead)
}
