package slaenclave_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/ipfs/cidverify"
)

// The fuzz targets drive every request of the enclave chaincode (through
// the FPC entry points, encrypted, as a client sends it) and the FPC entry
// points themselves with any bytes: never a panic (a panic fails the fuzz
// run), a refusal names the function and gives a reason, and a refused
// request carries no writes and changes no state.

// fuzzSLA is the id of the SLA the fuzz fixtures register.
const fuzzSLA = "sla-fuzz-1"

// fuzzFixture is an initialised enclave with one registered SLA whose
// validity starts two whole hours ago (periods of 300 s): rec is its signed
// record and sec(n) the time n seconds after its start.
type fuzzFixture struct {
	w   *world
	f   *fixture
	rec []byte
	sec func(int) time.Time
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	t.Helper()
	w, f := start(t)
	vs := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	rec := signRecord(t, w.doc(fuzzSLA, vs, vs.Add(30*24*time.Hour), "Fuzzed SLA"), w.provider, w.client)
	f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(rec))
	return &fuzzFixture{w: w, f: f, rec: rec, sec: func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }}
}

// batch seals the logger's batch seq of [from, to) seconds after the start
// (chained after prev) and returns its CID and bytes.
func (z *fuzzFixture) batch(t testing.TB, seq int64, prev string, from, to int) (string, []byte) {
	t.Helper()
	cid := z.f.batch(t, z.w.logger, header(fuzzSLA, seq, prev, z.sec(from), z.sec(to)), records(z.sec(from), z.sec(to), z.sec(200)))
	data, err := z.f.shim.fetch(cid)
	if err != nil {
		t.Fatal(err)
	}
	return cid, data
}

// fuzzSubmit sends fn(args) as c through __invoke and, when the enclave
// refuses it, checks the refusal (checkRefusal). An accepted request is not
// submitted through __endorse, so every input of a target meets the same
// state (the fuzzer reaches the checks behind a valid seq rather than
// replays); FuzzEndorseResponse fuzzes __endorse.
func (f *fixture) fuzzSubmit(t testing.TB, c *user, fn string, args ...string) outcome {
	t.Helper()
	before := f.snapshot()
	o, _ := f.invokeOnly(t, c, fn, args...)
	if o.status != shim.OK {
		f.checkRefusal(t, onTheWire(t, fn), o, before)
	}
	return o
}

// onTheWire is s as the enclave receives it in a request: JSON strings
// carry UTF-8 only, so each invalid byte arrives as U+FFFD.
func onTheWire(t testing.TB, s string) string {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// fuzzEntry calls an FPC entry point (__initEnclave, __invoke, __endorse)
// with arg as c: a refusal names the entry point and gives a reason and
// changes no state; with readOnly, not even a success changes the state.
func (f *fixture) fuzzEntry(t testing.TB, c *user, fn string, arg []byte, readOnly bool) {
	t.Helper()
	before := f.snapshot()
	resp := f.call(t, c, []byte(fn), arg)
	if resp.Status == shim.OK {
		if readOnly && !fpctest.SameState(before, f.snapshot()) {
			t.Fatalf("%s changed the state", fn)
		}
		return
	}
	f.checkRefusal(t, fn, outcome{status: resp.Status, message: resp.Message}, before)
}

// sealed returns the request message of fn(args) sealed to the enclave, as
// __invoke takes it.
func (f *fixture) sealed(t testing.TB, fn string, args ...string) []byte {
	t.Helper()
	ek, err := f.record.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := protocol.SealRequest(protocol.Request{Function: fn, Args: args}, ek)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// FuzzRegisterAgreement drives RegisterAgreement with any signed record
// JSON; the seeds are the registered record (idempotent), another document
// under its id, a new SLA and broken records.
func FuzzRegisterAgreement(f *testing.F) {
	z := newFuzzFixture(f)
	f.Add(z.rec)
	f.Add(signRecord(f, z.w.doc(fuzzSLA, z.sec(0), z.sec(30*24*3600), "Another title"), z.w.provider, z.w.client))
	f.Add(signRecord(f, z.w.doc("sla-fuzz-2", z.sec(0), z.sec(30*24*3600), "Second"), z.w.provider, z.w.client))
	f.Add(signRecord(f, z.w.doc("sla-fuzz-3", z.sec(-7200), z.sec(-3600), "Expired"), z.w.provider, z.w.client))
	f.Add([]byte(`{"version":1,"document":{}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, record []byte) {
		z.f.fuzzSubmit(t, z.w.provider, slaenclave.FnRegisterAgreement, string(record))
	})
}

// FuzzIngestBatch drives IngestBatch with any SLA id, seq, CID and batch
// bytes: with cid empty the bytes are served by the shim under their own
// CID (so that the fuzzer reaches the batch's decryption, signature,
// header, window and records), else the shim serves what it holds under
// cid. The seeds are the next batch of the SLA, variations of it and
// replays.
func FuzzIngestBatch(f *testing.F) {
	z := newFuzzFixture(f)
	cid1, _ := z.batch(f, 1, "", 0, 150)
	z.f.must(f, z.w.provider, slaenclave.FnIngestBatch, fuzzSLA, "1", cid1)
	_, good := z.batch(f, 2, cid1, 150, 300)
	_, across := z.batch(f, 2, cid1, 150, 450)
	_, gap := z.batch(f, 2, cid1, 160, 300)
	f.Add(fuzzSLA, "2", "", good)
	f.Add(fuzzSLA, "2", "", []byte(strings.Replace(string(good), `"seq":2`, `"seq":3`, 1)))
	f.Add(fuzzSLA, "2", "", across)
	f.Add(fuzzSLA, "2", "", gap)
	f.Add(fuzzSLA, "1", cid1, []byte(nil))
	f.Add("sla-other", "1", cid1, []byte(nil))
	f.Add(fuzzSLA, "-1", "not-a-cid", []byte(nil))
	f.Fuzz(func(t *testing.T, slaID, seq, cid string, data []byte) {
		if cid == "" {
			c, err := cidverify.Sum(data)
			if err != nil {
				t.Fatal(err)
			}
			cid = c.String()
			if _, err := z.f.shim.fetch(cid); err != nil {
				z.f.shim.put(cid, data)
				defer z.f.shim.remove(cid) // keep the shim's memory bounded over a long run
			}
		}
		z.f.fuzzSubmit(t, z.w.logger, slaenclave.FnIngestBatch, slaID, seq, cid)
	})
}

// FuzzEvaluate drives Evaluate with any SLA id and period, by the SLA's
// client; the first period is complete, the second incomplete.
func FuzzEvaluate(f *testing.F) {
	z := newFuzzFixture(f)
	cid1, _ := z.batch(f, 1, "", 0, 300)
	cid2, _ := z.batch(f, 2, cid1, 300, 450)
	z.f.must(f, z.w.provider, slaenclave.FnIngestBatch, fuzzSLA, "1", cid1)
	z.f.must(f, z.w.provider, slaenclave.FnIngestBatch, fuzzSLA, "2", cid2)
	f.Add(fuzzSLA, z.sec(0).Format(time.RFC3339))
	f.Add(fuzzSLA, z.sec(300).Format(time.RFC3339))
	f.Add(fuzzSLA, z.sec(10).Format(time.RFC3339))
	f.Add(fuzzSLA, "2026-13-01T00:00:00Z")
	f.Add(fuzzSLA, "")
	f.Add("sla-other", z.sec(0).Format(time.RFC3339))
	f.Fuzz(func(t *testing.T, slaID, period string) {
		z.f.fuzzSubmit(t, z.w.client, slaenclave.FnEvaluate, slaID, period)
	})
}

// FuzzRequest drives the chaincode's dispatch with any function name and
// arguments (args split at the unit separator 0x1f; none when empty), as
// the SLA's provider: unknown functions, wrong argument counts and
// GetAgreementStatus.
func FuzzRequest(f *testing.F) {
	z := newFuzzFixture(f)
	f.Add(slaenclave.FnGetAgreementStatus, fuzzSLA)
	f.Add(slaenclave.FnGetAgreementStatus, "sla-other")
	f.Add(slaenclave.FnGetAgreementStatus, "")
	f.Add(slaenclave.FnIngestBatch, fuzzSLA+"\x1f1")
	f.Add(slaenclave.FnEvaluate, fuzzSLA+"\x1fa\x1fb")
	f.Add("PutState", "k\x1fv")
	f.Fuzz(func(t *testing.T, fn, joined string) {
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\x1f")
		}
		z.f.fuzzSubmit(t, z.w.provider, fn, args...)
	})
}

// FuzzInitEnclave drives __initEnclave, as the host organization's peer
// admin, with any host parameters JSON.
func FuzzInitEnclave(f *testing.F) {
	w := newWorld(f)
	fx := newFixture(f, w.config())
	f.Add([]byte(`{"peer_msp_id":"ProviderOrgMSP","endpoint":"127.0.0.1:27100"}`))
	f.Add([]byte(`{"peer_msp_id":"ClientOrgMSP","endpoint":"127.0.0.1:27100"}`))
	f.Add([]byte(`{"peer_msp_id":"ProviderOrgMSP","endpoint":"127.0.0.1:27100","x":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, params []byte) {
		fx.fuzzEntry(t, w.admin, protocol.FnInitEnclave, params, false)
	})
}

// FuzzInvokeMessage drives __invoke, as the SLA's client, with any request
// message: __invoke only runs the enclave, so no input changes the state.
// The seeds are sealed requests of every function and broken messages.
func FuzzInvokeMessage(f *testing.F) {
	z := newFuzzFixture(f)
	good := z.f.sealed(f, slaenclave.FnGetAgreementStatus, fuzzSLA)
	f.Add(good)
	f.Add(z.f.sealed(f, slaenclave.FnRegisterAgreement, string(z.rec)))
	f.Add(z.f.sealed(f, slaenclave.FnEvaluate, fuzzSLA, z.sec(0).Format(time.RFC3339)))
	f.Add(append([]byte(" "), good...))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		z.f.fuzzEntry(t, z.w.client, protocol.FnInvoke, msg, true)
	})
}

// FuzzEndorseResponse drives __endorse, as the SLA's provider, with any
// signed response; the seeds are the enclave's response to the SLA's next
// batch, variations of it and broken responses.
func FuzzEndorseResponse(f *testing.F) {
	z := newFuzzFixture(f)
	cid1, _ := z.batch(f, 1, "", 0, 150)
	resp := z.f.call(f, z.w.provider, []byte(protocol.FnInvoke), z.f.sealed(f, slaenclave.FnIngestBatch, fuzzSLA, "1", cid1))
	if resp.Status != shim.OK {
		f.Fatalf("__invoke: %s", resp.Message)
	}
	f.Add(resp.Payload)
	f.Add([]byte(strings.Replace(string(resp.Payload), `"signature":"`, `"signature":"AA`, 1)))
	f.Add([]byte(`{"response":{},"signature":""}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, signed []byte) {
		z.f.fuzzEntry(t, z.w.provider, protocol.FnEndorse, signed, false)
	})
}
