package scale_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

const (
	jan, feb = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
	// pageSize is the page size of the ListSLAs reads.
	pageSize = 20
	// blockSize is the number of settlements simulated against the same
	// state and committed together in one block.
	blockSize = 100
	// getSamples bounds the GetSLA reads timed per run.
	getSamples = 1000
	// listRepeats is how many times the first and the middle ListSLAs
	// pages are read (the median is reported).
	listRepeats = 9
)

// result is one run's figures.
type result struct {
	slas                     int
	activate, anchor, settle time.Duration
	get                      []time.Duration
	listFirst, listMiddle    time.Duration
	pages                    int
	public, private          int64 // committed state, bytes of keys and values
	blocks                   int64 // bytes of the block views of every transaction since the SLAs
	txs                      int
}

// TestScale activates SLASA_SCALE_FAKE_SLAS SLAs (default 100) of one
// provider and one client, reads them back (GetSLA, ListSLAs pages),
// anchors and settles their January periods in blocks of blockSize, every
// settlement valid, and logs the figures.
func TestScale(t *testing.T) {
	sizes := []int{100}
	if v := os.Getenv("SLASA_SCALE_FAKE_SLAS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < blockSize || n%blockSize != 0 {
				t.Fatalf("SLASA_SCALE_FAKE_SLAS: %q is not a positive multiple of %d", f, blockSize)
			}
			sizes = append(sizes, n)
		}
	}
	var rows []string
	for _, size := range sizes {
		t.Run(fmt.Sprintf("slas=%d", size), func(t *testing.T) {
			r := run(t, size)
			rows = append(rows, r.row())
		})
	}
	t.Logf("scale with the fakes\n\n%s\n%s\n", header, strings.Join(rows, "\n"))
}

const header = `| SLAs | activation (ProposeSLA + AcceptSLA) | GetSLA p50 / p95 | ListSLAs first page / middle page (20 records, median of 9) | settlement (blocks of 100, all VALID) | public state | private state (both parties' collections) | block bytes (propose .. settle) |
|---:|---:|---:|---:|---:|---:|---:|---:|`

func (r result) row() string {
	per := func(b int64) string { return fmt.Sprintf("%.1f MB (%d B/SLA)", float64(b)/(1<<20), b/int64(r.slas)) }
	return fmt.Sprintf("| %d | %.0f SLAs/s | %s / %s | %s / %s (%d pages) | %.0f TPS | %s | %s | %s in %d txs |",
		r.slas, float64(r.slas)/r.activate.Seconds(), us(pct(r.get, 0.5)), us(pct(r.get, 0.95)),
		us(r.listFirst), us(r.listMiddle), r.pages, float64(r.slas)/r.settle.Seconds(),
		per(r.public), per(r.private), per(r.blocks), r.txs)
}

func run(t *testing.T, size int) result {
	r := result{slas: size}
	n := cctest.New(t)
	first := cctest.ExampleSLA(t, "sla-00000")
	fee := first.Price.AmountMinor
	n.Fund(first, int64(size)*fee)
	blocksBefore := len(n.World.Blocks)

	// Activation: each SLA proposed and accepted (one transaction per
	// block), paying January into escrow.
	ids := make([]string, size)
	digests := make([][32]byte, size)
	start := time.Now()
	for i := range size {
		s := cctest.ExampleSLA(t, fmt.Sprintf("sla-%05d", i))
		n.At(cctest.Start)
		ids[i], digests[i] = s.ID, n.Activate(s, 0)
	}
	r.activate = time.Since(start)
	activated := len(n.World.Blocks)

	// GetSLA as the client, on its own peer.
	step := max(1, size/getSamples)
	for i := 0; i < size; i += step {
		t0 := time.Now()
		res := n.World.EvaluateCall(fabricfake.Call{ID: n.Client, Chaincode: cctest.Agreement, Fn: "GetSLA", Args: []string{ids[i]}})
		r.get = append(r.get, time.Since(t0))
		if !res.OK() {
			t.Fatalf("GetSLA %s: %s", ids[i], res.Message)
		}
	}

	// ListSLAs: the client's SLAs, page after page; then the first page
	// and the middle one (by its bookmark), each read listRepeats times.
	list := func(bookmark string) agreement.Page[agreement.Agreement] {
		res := n.World.Evaluate(n.Client, cctest.Agreement, "ListSLAs", "client", n.Client.MSPID, "", strconv.Itoa(pageSize), bookmark)
		if !res.OK() {
			t.Fatalf("ListSLAs: %s", res.Message)
		}
		var p agreement.Page[agreement.Agreement]
		if err := json.Unmarshal(res.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Records) > pageSize {
			t.Fatalf("ListSLAs: %d records in a page of %d", len(p.Records), pageSize)
		}
		return p
	}
	bookmarks := []string{""}
	listed := 0
	for {
		p := list(bookmarks[len(bookmarks)-1])
		listed += len(p.Records)
		if p.Bookmark == "" {
			break
		}
		bookmarks = append(bookmarks, p.Bookmark)
	}
	if listed != size {
		t.Fatalf("ListSLAs: %d SLAs over the pages, want %d", listed, size)
	}
	timed := func(bookmark string) time.Duration {
		var lat []time.Duration
		for range listRepeats {
			t0 := time.Now()
			list(bookmark)
			lat = append(lat, time.Since(t0))
		}
		return pct(lat, 0.5)
	}
	r.pages, r.listFirst, r.listMiddle = len(bookmarks), timed(""), timed(bookmarks[len(bookmarks)/2])

	// Anchors of January, then the verdicts (every third SLA violated).
	start = time.Now()
	var verdicts []string
	for i, id := range ids {
		s := cctest.ExampleSLA(t, id)
		n.AnchorPeriod(s, jan, feb)
		bps := int64(i % 3 * 500)
		verdicts = append(verdicts, cctest.SignVerdict(t, n.Verdict(s, digests[i], jan, feb, bps, fee*bps/10000, 0), n.EnclaveKey))
	}
	r.anchor = time.Since(start)
	anchored := len(n.World.Blocks)
	n.World.Now = time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)

	// Settlements: blocks of blockSize, simulated against the same state.
	start = time.Now()
	for i := 0; i < size; i += blockSize {
		b := n.World.NewBlock()
		for _, v := range verdicts[i:min(size, i+blockSize)] {
			b.Submit(n.Provider, cctest.Refund, "SettleVerdict", v)
		}
		for j, res := range b.Commit() {
			if res.Status != 200 {
				t.Fatalf("settlement %d refused: %s", i+j, res.Message)
			}
			if res.Code != peer.TxValidationCode_VALID {
				t.Fatalf("settlement %d: %s (%s)", i+j, res.Code, res.Reason)
			}
		}
	}
	r.settle = time.Since(start)

	for _, kv := range n.World.Snapshot() {
		r.public += stateBytes(kv)
	}
	for _, kv := range n.World.PrivateSnapshot() {
		r.private += stateBytes(kv)
	}
	var phase [3]int64 // activation, anchors, settlements
	for i, b := range n.World.Blocks[blocksBefore:] {
		switch j := blocksBefore + i; {
		case j < activated:
			phase[0] += txBytes(b)
		case j < anchored:
			phase[1] += txBytes(b)
		default:
			phase[2] += txBytes(b)
		}
		r.blocks += txBytes(b)
		r.txs++
	}
	t.Logf("%d SLAs: block bytes per SLA: ProposeSLA + AcceptSLA %d, AnchorLogBatch %d, SettleVerdict %d",
		size, phase[0]/int64(size), phase[1]/int64(size), phase[2]/int64(size))
	t.Logf("%d SLAs: activated in %s, anchored in %s, settled in %s", size, r.activate.Round(time.Millisecond), r.anchor.Round(time.Millisecond), r.settle.Round(time.Millisecond))
	return r
}

func stateBytes(kv map[string]string) int64 {
	var b int64
	for k, v := range kv {
		b += int64(len(k) + len(v))
	}
	return b
}

// txBytes approximates what a transaction puts in a block by the content
// every member reads (fabricfake.BlockTx): the transaction id, creator MSP,
// chaincode name and arguments, the response, the event, every public write
// (namespace, key, value) and the hashes of the private writes (32-byte key
// and value hashes, namespace and collection). The envelope's fixed parts
// (headers, the creator's and each endorser's certificate and signature,
// about 1 KB per endorsement) are left out: they do not depend on the
// number of SLAs.
func txBytes(b fabricfake.BlockTx) int64 {
	n := len(b.TxID) + len(b.Creator) + len(b.Chaincode) + len(b.Response)
	for _, a := range b.Args {
		n += len(a)
	}
	if b.Event != nil {
		n += len(b.Event.Name) + len(b.Event.Payload)
	}
	for _, w := range b.Writes {
		n += len(w.Namespace) + len(w.Key) + len(w.Value)
	}
	for _, w := range b.PrivateWrites {
		n += len(w.Namespace) + len(w.Collection) + len(w.KeyHash) + len(w.ValueHash)
	}
	return int64(n)
}

func pct(lat []time.Duration, p float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }
