package slaenclave

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/signedsla"
)

// IngestResult is the result of IngestBatch.
type IngestResult = enclaveapi.IngestResult

// canonicalCID parses a CID argument or header field and returns its
// canonical string form.
func canonicalCID(field, s string) (string, error) {
	c, err := cidverify.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s: %q: %w", field, s, err)
	}
	return c.String(), nil
}

func ingestBatch(stub shim.ChaincodeStubInterface, args []string) (*IngestResult, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("takes 3 arguments (slaID, seq, cid), got %d", len(args))
	}
	slaID := args[0]
	seq, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || seq < 1 {
		return nil, fmt.Errorf("seq: %q is not a positive decimal integer", args[1])
	}
	c, err := cidverify.Parse(args[2])
	if err != nil {
		return nil, fmt.Errorf("cid: %q: %w", args[2], err)
	}
	cidStr := c.String()
	svc, err := services(stub)
	if err != nil {
		return nil, err
	}
	a, err := loadAgreement(stub, slaID)
	if err != nil {
		return nil, err
	}
	tr, err := loadTrust(stub)
	if err != nil {
		return nil, err
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	// The chain position first: a replayed or skipped batch is rejected
	// without fetching it.
	want := a.head.LastSeq + 1
	switch {
	// mutate:check ingest-replay
	case seq < want:
		return nil, fmt.Errorf("seq: batch %d of SLA %q was already ingested (replay); expected seq %d", seq, slaID, want)
	// mutate:check ingest-skip
	case seq > want:
		return nil, fmt.Errorf("seq: got %d, expected %d: batches %d..%d of SLA %q are missing (skipped)", seq, want, want, seq-1, slaID)
	}

	data, err := svc.Fetch(cidStr)
	if err != nil {
		return nil, fmt.Errorf("fetch batch %s through the tunneling shim: %w", cidStr, err)
	}
	// mutate:check ingest-size
	if len(data) > logbatch.MaxBatchBytes {
		return nil, fmt.Errorf("batch %s: the shim returned %d bytes, more than the limit of %d", cidStr, len(data), logbatch.MaxBatchBytes)
	}
	// mutate:check ingest-cid
	if err := cidverify.Verify(c, data); err != nil {
		return nil, fmt.Errorf("batch bytes do not match cid %s: %w", cidStr, err)
	}
	opened, err := logbatch.Open(data, svc.ChaincodeDecryptionKey())
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", cidStr, err)
	}
	h := opened.Header
	// mutate:check ingest-sla-id
	if h.SLAID != slaID {
		return nil, fmt.Errorf("batch %s: header.sla_id %q is not the requested SLA %q", cidStr, h.SLAID, slaID)
	}
	// mutate:check ingest-header-seq
	if h.Seq != seq {
		return nil, fmt.Errorf("batch %s: header.seq %d is not the requested seq %d", cidStr, h.Seq, seq)
	}
	logger, err := txLogger(a.sla)
	if err != nil {
		return nil, err
	}
	// mutate:check ingest-signer-chain
	if err := tr.chain(logger.MSPID, opened.LoggerCert, now); err != nil {
		return nil, fmt.Errorf("batch %s is not signed by the SLA's logger: %w", cidStr, err)
	}
	// mutate:check ingest-signer-logger
	if err := signedsla.CheckParty("logger", logger, logger.MSPID, opened.LoggerCert); err != nil {
		return nil, fmt.Errorf("batch %s is not signed by the SLA's logger: %w", cidStr, err)
	}
	if seq > 1 {
		prev, err := canonicalCID("header.prev_cid", h.PrevCID)
		if err != nil {
			return nil, fmt.Errorf("batch %s: %w", cidStr, err)
		}
		// mutate:check ingest-prev-cid
		if prev != a.head.LastCID {
			return nil, fmt.Errorf("batch %s: header.prev_cid is %s, expected the last ingested batch %s (seq %d)", cidStr, prev, a.head.LastCID, a.head.LastSeq)
		}
	}

	start, end, err := h.Window()
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", cidStr, err)
	}
	ws, we := start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)
	p, err := driver.PeriodOf(a.sla, start)
	if err != nil {
		return nil, fmt.Errorf("batch %s: header.window_start %s: %w", cidStr, ws, err)
	}
	// mutate:check ingest-one-period
	if end.After(p.End) {
		return nil, fmt.Errorf("batch %s: window %s..%s spans two billing periods (the period %s ends at %s); a batch must lie inside one period",
			cidStr, ws, we, p, p.End.Format(time.RFC3339))
	}
	// mutate:check ingest-not-after-tx
	if end.After(now) {
		return nil, fmt.Errorf("batch %s: window ends at %s, after the transaction time %s", cidStr, we, now.Format(time.RFC3339Nano))
	}
	vk, err := verdictKey(stub, slaID, p)
	if err != nil {
		return nil, err
	}
	frozen, err := stub.GetState(vk)
	if err != nil {
		return nil, fmt.Errorf("read verdict state: %w", err)
	}
	// mutate:check ingest-frozen
	if frozen != nil {
		return nil, fmt.Errorf("batch %s: period %s of SLA %q is already evaluated; its verdict is frozen and takes no more batches", cidStr, p, slaID)
	}
	if a.head.LastWindowEnd == "" {
		// mutate:check ingest-first-start
		if !start.Equal(p.Start) {
			return nil, fmt.Errorf("batch %s: the first batch of SLA %q must start at a billing period start; window_start %s is inside the period %s",
				cidStr, slaID, ws, p)
		}
	} else {
		last, err := time.Parse(time.RFC3339Nano, a.head.LastWindowEnd)
		if err != nil {
			return nil, fmt.Errorf("stored chain head: %w", err)
		}
		// mutate:check ingest-contiguous
		if !start.Equal(last) {
			return nil, fmt.Errorf("batch %s: window is not contiguous: window_start is %s, expected %s (the end of batch %d)", cidStr, ws, a.head.LastWindowEnd, a.head.LastSeq)
		}
	}

	pk, err := periodKey(stub, slaID, p)
	if err != nil {
		return nil, err
	}
	var ps periodState
	found, err := getJSON(stub, pk, &ps)
	if err != nil {
		return nil, fmt.Errorf("period %s: %w", p, err)
	}
	acc, err := a.plan.NewAccumulator(p)
	if err != nil {
		return nil, err
	}
	if found {
		if err := checkFormat("period "+p.String(), ps.Format); err != nil {
			return nil, err
		}
		// The header, then the pages the batch's window can touch, by name.
		window := func(acc *driver.Accumulator) []string { return acc.PagesIn(start.UnixMilli(), end.UnixMilli()) }
		if err := loadAggregate(stub, a, p, acc, &ps, window); err != nil {
			return nil, err
		}
	} else {
		if err := carryTickets(stub, a, acc); err != nil {
			return nil, err
		}
		ps = periodState{Format: stateFormat, Period: p.String(), PeriodEnd: p.End.Format(time.RFC3339), FirstSeq: seq}
		a.head.Periods = append(a.head.Periods, ps.Period)
	}
	if err := fold(acc, opened.Records, start, end, opened.Count); err != nil {
		return nil, fmt.Errorf("batch %s: %w", cidStr, err)
	}
	header, dirty, err := acc.MarshalPaged()
	if err != nil {
		return nil, fmt.Errorf("period %s: encode aggregate: %w", p, err)
	}
	// Only the pages the batch changed are written, and the small header.
	for _, pg := range dirty {
		key, err := pageKey(stub, slaID, p, pg.Name)
		if err != nil {
			return nil, err
		}
		if err := put(stub, key, pg.Data, a.policy); err != nil {
			return nil, err
		}
	}
	ps.Aggregate = header
	// RFC3339Nano writes whole seconds exactly as RFC3339 does, so the
	// covered end compares with the period end as a string.
	ps.CoveredEnd, ps.Batches, ps.LastSeq, ps.LastCID = we, ps.Batches+1, seq, cidStr
	if err := putJSON(stub, pk, &ps, a.policy); err != nil {
		return nil, err
	}
	a.head.LastSeq, a.head.LastCID, a.head.LastWindowEnd = seq, cidStr, we
	if err := putJSON(stub, a.headKey, &a.head, a.policy); err != nil {
		return nil, err
	}
	return &IngestResult{SLAID: slaID, Seq: seq, CID: cidStr, Period: ps.Period, PeriodEnd: ps.PeriodEnd,
		CoveredEnd: ps.CoveredEnd, Complete: ps.CoveredEnd == ps.PeriodEnd}, nil
}

// carryTickets seeds the new period's aggregate acc with the tickets open
// at the end of the previous period of the chain (SLAs with a support
// section): those its frozen verdict kept, else those of its aggregate's
// header (the previous period is complete: windows are contiguous). The
// previous period is the last one of the chain head, read by its key (no
// range query); the first period of the chain carries nothing.
func carryTickets(stub shim.ChaincodeStubInterface, a *agreement, acc *driver.Accumulator) error {
	if a.sla.Support == nil || len(a.head.Periods) == 0 {
		return nil
	}
	prevStart := a.head.Periods[len(a.head.Periods)-1]
	key, err := periodKeyOf(stub, a.state.SLAID, prevStart)
	if err != nil {
		return err
	}
	var prev periodState
	found, err := getJSON(stub, key, &prev)
	if err != nil {
		return fmt.Errorf("period %s: %w", prevStart, err)
	}
	if !found {
		return fmt.Errorf("period %s is listed in the chain head but not in the state", prevStart)
	}
	carry := prev.Tickets
	if !prev.Evaluated {
		pp, err := driver.ParsePeriod(a.sla, prevStart)
		if err != nil {
			return fmt.Errorf("period %s: %w", prevStart, err)
		}
		pacc, err := a.plan.NewAccumulator(pp)
		if err != nil {
			return err
		}
		if err := pacc.UnmarshalHeader(prev.Aggregate); err != nil {
			return fmt.Errorf("period %s: %w", prevStart, err)
		}
		carry = pacc.OpenTickets()
	}
	if err := acc.CarryTickets(carry); err != nil {
		return fmt.Errorf("tickets carried from period %s: %w", prevStart, err)
	}
	return nil
}

// loadAggregate restores the aggregate of period p into acc: the header
// from the period's state, then the stored pages pages names, each read by
// its key (no range query).
func loadAggregate(stub shim.ChaincodeStubInterface, a *agreement, p driver.Period, acc *driver.Accumulator, ps *periodState, pages func(*driver.Accumulator) []string) error {
	if err := acc.UnmarshalHeader(ps.Aggregate); err != nil {
		return fmt.Errorf("period %s: %w", p, err)
	}
	for _, name := range pages(acc) {
		key, err := pageKey(stub, a.state.SLAID, p, name)
		if err != nil {
			return err
		}
		data, err := stub.GetState(key)
		if err != nil {
			return fmt.Errorf("period %s: page %s: %w", p, name, err)
		}
		if data == nil {
			return fmt.Errorf("period %s: page %s is listed in the period's aggregate but not in the state", p, name)
		}
		if err := acc.LoadPage(name, data); err != nil {
			return fmt.Errorf("period %s: %w", p, err)
		}
	}
	return nil
}

// foldChunk is how many decoded records are added to the aggregate at once.
const foldChunk = 1024

// fold decodes the batch's JSON Lines records, checks that each lies in the
// window [start, end) and that there are exactly want of them (the count
// the logger signed, in the batch's encrypted body), and adds
// them to acc. On error acc may hold part of the batch; the caller then
// discards it (nothing is written).
func fold(acc *driver.Accumulator, records []byte, start, end time.Time, want int64) error {
	d, err := acc.NewDecoder(bytes.NewReader(records))
	if err != nil {
		return err
	}
	startMS, endMS := start.UnixMilli(), end.UnixMilli()
	buf := make([]logs.Sample, 0, foldChunk)
	var n int64
	for {
		var s logs.Sample
		err := d.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("records: %w", err)
		}
		n++
		// mutate:check ingest-record-window
		if s.TimeMS < startMS || s.TimeMS >= endMS {
			return fmt.Errorf("records: line %d: time %s is outside the batch window %s..%s", d.Line(),
				time.UnixMilli(s.TimeMS).UTC().Format(time.RFC3339Nano), start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
		}
		buf = append(buf, s)
		if len(buf) == foldChunk {
			acc.Add(buf)
			buf = buf[:0]
		}
	}
	// mutate:check ingest-records-count
	if n != want {
		return fmt.Errorf("the batch's record count (in its encrypted body) is %d but it holds %d records", want, n)
	}
	acc.Add(buf)
	return nil
}
