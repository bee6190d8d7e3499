package slaenclave_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"
	//lint:ignore SA1019 shimtest is the v1 shim's stub double, as in fpc/runtime's tests
	"github.com/hyperledger/fabric-chaincode-go/shimtest"

	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/ipfs/cidverify"
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

// world is the channel of the tests: three organizations, the client's with
// an intermediate CA and the provider's with two roots, plus impostors.
type world struct {
	providerCA, providerCA2, clientCA, clientICA, org3CA *ca
	provider, client, logger, other, org3User, admin     *user
	// providerAsAdmin has the provider's common name and MSP but another
	// role (OU admin); providerOfCA2 the provider's common name from the
	// MSP's second root.
	providerAsAdmin, providerOfCA2 *user
	// The foreign identities copy the subject and issuer DNs of the real
	// ones exactly, but their CAs are not in the deploy configuration.
	foreignProvider, foreignLogger, foreignClient *user
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{providerCA: newCA(t, "ProviderOrgMSP"), providerCA2: newNamedCA(t, "ProviderOrgMSP", "ca2.ProviderOrgMSP"),
		clientCA: newCA(t, "ClientOrgMSP"), org3CA: newCA(t, "Org3MSP")}
	w.clientICA = w.clientCA.intermediate(t)
	w.provider = w.providerCA.issue(t, "provider@providerorg", "client")
	w.logger = w.providerCA.issue(t, "logger@providerorg", "client")
	w.other = w.providerCA.issue(t, "other@providerorg", "client")
	w.admin = w.providerCA.issue(t, "admin@providerorg", "admin")
	w.providerAsAdmin = w.providerCA.issue(t, "provider@providerorg", "admin")
	w.providerOfCA2 = w.providerCA2.issue(t, "provider@providerorg", "client")
	w.client = w.clientICA.issue(t, "client@clientorg", "client")
	w.org3User = w.org3CA.issue(t, "user@org3", "client")
	foreignCA := newCA(t, "ProviderOrgMSP")
	w.foreignProvider = foreignCA.issue(t, "provider@providerorg", "client")
	w.foreignLogger = foreignCA.issue(t, "logger@providerorg", "client")
	w.foreignClient = newNamedCA(t, "ClientOrgMSP", "ica.ClientOrgMSP").issue(t, "client@clientorg", "client")
	if w.foreignClient.id() != w.client.id() || w.foreignProvider.id() != w.provider.id() || w.foreignLogger.id() != w.logger.id() {
		t.Fatal("the impostors do not copy the parties' identities")
	}
	return w
}

// config is the deploy configuration the organizations approved.
func (w *world) config() *deploycfg.Config {
	return fpctest.DeployConfig([]string{"ProviderOrgMSP", "ClientOrgMSP"},
		deploycfg.MSP{MSPID: "ProviderOrgMSP", Roots: []string{w.providerCA.pem, w.providerCA2.pem}},
		deploycfg.MSP{MSPID: "ClientOrgMSP", Roots: []string{w.clientCA.pem}, Intermediates: []string{w.clientICA.pem}},
		deploycfg.MSP{MSPID: "Org3MSP", Roots: []string{w.org3CA.pem}})
}

func (w *world) doc(id string, start, end time.Time, title string) []byte {
	return slaDoc(w.provider, w.client, w.logger, id, start, end, title)
}

// start returns a world and an initialised enclave of its configuration.
func start(t testing.TB) (*world, *fixture) {
	t.Helper()
	w := newWorld(t)
	f := newFixture(t, w.config())
	f.initEnclave(t, w.admin)
	return w, f
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
	w, f := start(t)

	now := time.Now().UTC()
	vs := now.Truncate(time.Hour).Add(-2 * time.Hour) // validity start; periods of 300 s from here
	ve := vs.Add(30 * 24 * time.Hour)
	const id = "sla-region-1"
	doc := w.doc(id, vs, ve, "Compute region SLA")
	rec := signRecord(t, doc, w.provider, w.client)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	period0, period1 := vs.Format(time.RFC3339), sec(300).Format(time.RFC3339)

	t.Run("RegisterAgreement rejects", func(t *testing.T) {
		halfSigned := *w.client
		halfSigned.key = nil
		var r map[string]any
		_ = json.Unmarshal(signRecord(t, doc, w.provider, w.client), &r)
		// The provider signs a digest of another document.
		other := signRecord(t, w.doc(id, vs, ve, "Another title"), w.provider, w.client)
		var o map[string]any
		_ = json.Unmarshal(other, &o)
		r["provider"].(map[string]any)["signature"] = o["provider"].(map[string]any)["signature"]
		wrongDigest, _ := json.Marshal(r)
		expired := signRecord(t, w.doc("sla-expired", vs.Add(-48*time.Hour), vs.Add(-24*time.Hour), "Old"), w.provider, w.client)
		for _, tc := range []struct {
			name, record, want string
		}{
			// enclave-signatures
			{"half-signed", string(signRecord(t, doc, w.provider, &halfSigned)), "RegisterAgreement: signed SLA record: the client signature is missing; both parties must sign"},
			// enclave-verify
			{"signature over another digest", string(wrongDigest), `RegisterAgreement: signed SLA record: provider: verify signature of "provider@providerorg": signature does not verify`},
			{"the provider's name and DNs under a foreign CA", string(signRecord(t, doc, w.foreignProvider, w.client)),
				`RegisterAgreement: signed SLA record: provider: certificate does not chain to the roots of MSP "ProviderOrgMSP"`},
			{"the provider's name from the MSP's other CA", string(signRecord(t, doc, w.providerOfCA2, w.client)),
				`RegisterAgreement: signed SLA record: the SLA's provider: certificate issuer "CN=ca2.ProviderOrgMSP,O=ProviderOrgMSP" is not the issuer "CN=ca.ProviderOrgMSP,O=ProviderOrgMSP" of the SLA's provider`},
			// enclave-expired
			{"expired", string(expired), `RegisterAgreement: SLA "sla-expired" expired: validity.end`},
			{"not JSON", "{", "RegisterAgreement: decode signed SLA record"},
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
		// enclave-digest-conflict
		f.reject(t, w.provider, `RegisterAgreement: SLA "sla-region-1" is already registered with digest `+mustDigest(t, doc)+
			"; a different document (digest "+mustDigest(t, w.doc(id, vs, ve, "Another title"))+") cannot reuse its id",
			slaenclave.FnRegisterAgreement, string(signRecord(t, w.doc(id, vs, ve, "Another title"), w.provider, w.client)))
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
		huge, _ := cidverify.Sum([]byte("huge"))
		f.shim.put(huge.String(), make([]byte, logbatch.MaxBatchBytes+1))
		other := f.batch(t, w.other, header(id, 2, cid1, sec(150), sec(300)), good2)
		foreign := f.batch(t, w.foreignLogger, header(id, 2, cid1, sec(150), sec(300)), good2)
		for _, tc := range []struct {
			name, seq, cid, want string
		}{
			// ingest-replay
			{"replayed", "1", cid1, `seq: batch 1 of SLA "sla-region-1" was already ingested (replay); expected seq 2`},
			// ingest-skip
			{"skipped", "3", cid1, `seq: got 3, expected 2: batches 2..2 of SLA "sla-region-1" are missing (skipped)`},
			// ingest-size
			{"too large", "2", huge.String(), "batch " + huge.String() + ": the shim returned 67108865 bytes, more than the limit of 67108864"},
			// ingest-cid
			{"bytes not matching the CID", "2", tampered, "batch bytes do not match cid " + tampered},
			// ingest-sla-id
			{"a batch of another SLA", "2",
				f.batch(t, w.logger, header("sla-other", 2, cid1, sec(150), sec(300)), good2),
				`header.sla_id "sla-other" is not the requested SLA "sla-region-1"`},
			// ingest-header-seq
			{"header for another seq", "2",
				f.batch(t, w.logger, header(id, 3, cid1, sec(150), sec(300)), good2),
				"header.seq 3 is not the requested seq 2"},
			// ingest-signer-logger
			{"signed by another identity of the logger's MSP", "2", other,
				"batch " + other + ` is not signed by the SLA's logger: the SLA's logger: certificate subject "CN=other@providerorg,OU=client,O=ProviderOrgMSP" is not the subject "CN=logger@providerorg,OU=client,O=ProviderOrgMSP" of the SLA's logger`},
			// ingest-signer-chain
			{"signed by the logger's DNs under a foreign CA", "2", foreign,
				"batch " + foreign + ` is not signed by the SLA's logger: certificate CN=logger@providerorg,OU=client,O=ProviderOrgMSP does not chain to the roots of MSP "ProviderOrgMSP"`},
			// ingest-prev-cid
			{"wrong prev_cid", "2",
				f.batch(t, w.logger, header(id, 2, tampered, sec(150), sec(300)), good2),
				"header.prev_cid is " + tampered + ", expected the last ingested batch " + cid1 + " (seq 1)"},
			// ingest-contiguous
			{"non-contiguous window", "2",
				f.batch(t, w.logger, header(id, 2, cid1, sec(160), sec(300)), records(sec(160), sec(300), sec(200))),
				"window is not contiguous: window_start is " + sec(160).Format(time.RFC3339) + ", expected " + sec(150).Format(time.RFC3339) + " (the end of batch 1)"},
			// ingest-one-period
			{"window across two periods", "2",
				f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(450)), records(sec(150), sec(450), sec(200))),
				"window " + sec(150).Format(time.RFC3339Nano) + ".." + sec(450).Format(time.RFC3339Nano) + " spans two billing periods (the period " + period0 + " ends at " + period1 + "); a batch must lie inside one period"},
			// ingest-record-window
			{"record outside the window", "2",
				f.batch(t, w.logger, header(id, 2, cid1, sec(150), sec(300)), good2+line(sec(100), probeMarker+"-zone-a", "zone-a", true, 1)),
				"records: line 91: time " + sec(100).Format("2006-01-02T15:04:05Z") + " is outside the batch window"},
			// ingest-records-count
			{"the record count does not count the records", "2",
				f.batchCounted(t, w.logger, header(id, 2, cid1, sec(150), sec(300)), good2, int64(strings.Count(good2, "\n"))-1),
				"the batch's record count (in its encrypted body) is 89 but it holds 90 records"},
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
		// enclave-complete
		f.reject(t, w.client, "Evaluate: period "+period1+` of SLA "sla-region-1" is incomplete: batches cover `+period1+".."+sec(450).Format(time.RFC3339)+" of "+period1+".."+sec(600).Format(time.RFC3339),
			slaenclave.FnEvaluate, id, period1)
		// enclave-no-batches
		f.reject(t, w.client, "Evaluate: period "+sec(600).Format(time.RFC3339)+` of SLA "sla-region-1" is incomplete: no batch covers any of it yet`, slaenclave.FnEvaluate, id, sec(600).Format(time.RFC3339))
		f.reject(t, w.client, "is not the start of a billing period", slaenclave.FnEvaluate, id, sec(30).Format(time.RFC3339))
	})

	t.Run("Evaluate and GetAgreementStatus access", func(t *testing.T) {
		for _, fn := range []string{slaenclave.FnEvaluate, slaenclave.FnGetAgreementStatus} {
			args := []string{id}
			if fn == slaenclave.FnEvaluate {
				args = append(args, period0)
			}
			for _, tc := range []struct {
				name string
				who  *user
				want string
			}{
				// enclave-party-identity
				{"a member of another MSP", w.org3User, `access denied: the caller Org3MSP/CN=user@org3,OU=client,O=Org3MSP (issuer CN=ca.Org3MSP,O=Org3MSP) is not the provider or the client of SLA "sla-region-1"`},
				{"another member of the provider's MSP", w.other, "access denied: the caller ProviderOrgMSP/CN=other@providerorg,"},
				{"the provider's name with another role", w.providerAsAdmin, "access denied: the caller ProviderOrgMSP/CN=provider@providerorg,OU=admin,O=ProviderOrgMSP"},
				{"the provider's name from the MSP's other CA", w.providerOfCA2, "access denied: the caller ProviderOrgMSP/CN=provider@providerorg,OU=client,O=ProviderOrgMSP (issuer CN=ca2.ProviderOrgMSP,O=ProviderOrgMSP) is not"},
				// enclave-party-chain
				{"the client's DNs under a foreign CA", w.foreignClient, `access denied: certificate CN=client@clientorg,OU=client,O=ClientOrgMSP does not chain to the roots of MSP "ClientOrgMSP"`},
				{"the provider's DNs under a foreign CA", w.foreignProvider, `access denied: certificate CN=provider@providerorg,OU=client,O=ProviderOrgMSP does not chain to the roots of MSP "ProviderOrgMSP"`},
			} {
				t.Run(fn+"/"+tc.name, func(t *testing.T) { f.reject(t, tc.who, fn+": "+tc.want, fn, args...) })
			}
		}
	})

	var first []byte
	t.Run("Evaluate", func(t *testing.T) {
		first = f.must(t, w.provider, slaenclave.FnEvaluate, id, period0)
		ev, err := slaenclave.ParseEvaluation(first)
		if err != nil {
			t.Fatal(err)
		}
		sv, err := ev.Check()
		if err != nil {
			t.Fatal(err)
		}
		vk, _ := f.record.VerifyingKey()
		if err := verdict.Verify(sv, vk); err != nil {
			t.Fatalf("verdict does not verify with the registered enclave key: %v", err)
		}
		// 30 sub-intervals of 10 s, one down (zones a and b fail): 29/30 =
		// 96.66..% < 99.0 -> 2500 bps of 123457 = 30864.25 -> 30864; the
		// objective is missed -> penalty 500; not worse than 90 -> no termination.
		// The verdict names the period's last batch (seq 2, whose window
		// ends at the period's end).
		want := verdict.Verdict{SLAID: id, SLADigest: mustDigest(t, doc), Period: period0, PeriodEnd: sec(300).Format(time.RFC3339),
			Violated: true, CreditBPS: 2500, CreditAmount: 30864, PenaltyAmount: 500, Currency: "USD", Terminate: false,
			ReportDigest: sv.Verdict.ReportDigest, BatchSeq: 2, BatchCID: cid2, Chaincode: ccName, EnclaveID: f.record.EnclaveID}
		if sv.Verdict != want {
			t.Fatalf("verdict\n got %+v\nwant %+v", sv.Verdict, want)
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
		// ingest-frozen: a batch for the frozen period is rejected.
		late := f.batch(t, w.logger, header(id, 4, cid3, sec(250), sec(300)), "")
		f.reject(t, w.logger, "IngestBatch: batch "+late+": period "+period0+` of SLA "sla-region-1" is already evaluated; its verdict is frozen and takes no more batches`, slaenclave.FnIngestBatch, id, "4", late)
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
		sv, _ := ev.Check()
		secrets := []string{probeMarker, latencyMarker, "96.6666", "290/3", "zone-a", "provider@providerorg", "Compute region SLA", sv.Verdict.ReportDigest, ev.ReportKey}
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
	for _, args := range [][][]byte{
		{[]byte(slaenclave.FnIngestBatch), []byte("a"), []byte("1"), []byte("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")},
		{[]byte(slaenclave.FnRegisterAgreement), []byte("{}")},
	} {
		resp := stub.MockInvoke("tx1", args)
		if resp.Status == shim.OK || !strings.Contains(resp.Message, "runs only inside an FPC enclave") {
			t.Fatalf("%s: %d %s", args[0], resp.Status, resp.Message)
		}
	}
	resp := stub.MockInvoke("tx2", [][]byte{[]byte("InitMSPs"), []byte("{}")})
	if resp.Status == shim.OK || !strings.Contains(resp.Message, `unknown function "InitMSPs"`) {
		t.Fatalf("%d %s", resp.Status, resp.Message)
	}
}

// The first batch must start at a period start, a window may not end after
// the transaction time, and an empty batch keeps coverage contiguous; a
// period without violation yields a verdict without credit.
func TestChainStartAndEmptyBatches(t *testing.T) {
	w, f := start(t)
	vs := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
	const id = "sla-quiet"
	f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(signRecord(t, w.doc(id, vs, vs.Add(24*time.Hour), "Quiet"), w.provider, w.client)))

	// ingest-first-start
	mid := f.batch(t, w.logger, header(id, 1, "", sec(650), sec(700)), "")
	f.reject(t, w.logger, "IngestBatch: batch "+mid+": the first batch of SLA \"sla-quiet\" must start at a billing period start; window_start "+sec(650).Format(time.RFC3339)+" is inside the period "+sec(600).Format(time.RFC3339),
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
	sv, err := ev.Check()
	if err != nil {
		t.Fatal(err)
	}
	v := sv.Verdict
	if v.Violated || v.CreditBPS != 0 || v.CreditAmount != 0 || v.PenaltyAmount != 0 || v.Terminate || v.BatchSeq != 2 || v.BatchCID != second {
		t.Fatalf("a period without data: %+v", v)
	}
	vk, _ := f.record.VerifyingKey()
	if err := verdict.Verify(sv, vk); err != nil {
		t.Fatal(err)
	}

	// ingest-not-after-tx: a window ending after the transaction time (the
	// signed proposal's, within the skew of the host's clock) is rejected.
	third := f.batch(t, w.logger, header(id, 3, second, sec(900), sec(1200)), "")
	f.at = sec(1199)
	f.reject(t, w.logger, "IngestBatch: batch "+third+": window ends at "+sec(1200).Format(time.RFC3339Nano)+", after the transaction time "+sec(1199).Format(time.RFC3339Nano),
		slaenclave.FnIngestBatch, id, "3", third)
	f.at = time.Time{}
	f.must(t, w.logger, slaenclave.FnIngestBatch, id, "3", third)
}

// An enclave initialised with a configuration that leaves out a party's CA
// refuses that party, whatever the caller sends: the roots come from the
// deploy configuration only.
func TestTrustComesFromTheConfiguration(t *testing.T) {
	w := newWorld(t)
	cfg := w.config()
	cfg.MSPs = cfg.MSPs[:0]
	cfg.MSPs = append(cfg.MSPs, deploycfg.MSP{MSPID: "ProviderOrgMSP", Roots: []string{w.providerCA.pem}},
		deploycfg.MSP{MSPID: "ClientOrgMSP", Roots: []string{w.org3CA.pem}})
	f := newFixture(t, cfg)
	f.initEnclave(t, w.admin)
	vs := time.Now().UTC().Truncate(time.Hour)
	f.reject(t, w.provider, `RegisterAgreement: signed SLA record: client: certificate does not chain to the roots of MSP "ClientOrgMSP"`,
		slaenclave.FnRegisterAgreement, string(signRecord(t, w.doc("sla-x", vs, vs.Add(time.Hour), "X"), w.provider, w.client)))
}
