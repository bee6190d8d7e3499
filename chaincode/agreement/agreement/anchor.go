package agreement

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/signedsla"
)

// AnchorRecord is one anchored log batch.
type AnchorRecord struct {
	signedsla.Anchor
	// Logger is the identity that anchored the batch (the SLA's logger).
	Logger PartyRef `json:"logger"`
	// Signature is the logger's ASN.1 ECDSA signature over SHA-256 of the
	// anchor's canonical string (signedsla.Anchor.SigningBytes).
	Signature  []byte `json:"signature"`
	TxID       string `json:"tx_id"`
	AnchoredAt string `json:"anchored_at"`
}

func anchorKey(ctx contractapi.TransactionContextInterface, slaID string, seq int64) (string, error) {
	k, err := ctx.GetStub().CreateCompositeKey(keyAnchor, []string{slaID, fmt.Sprintf("%020d", seq)})
	if err != nil {
		return "", fmt.Errorf("anchor key of SLA %q batch %d: %w", slaID, seq, err)
	}
	return k, nil
}

func loadAnchor(ctx contractapi.TransactionContextInterface, slaID string, seq int64) (*AnchorRecord, error) {
	key, err := anchorKey(ctx, slaID, seq)
	if err != nil {
		return nil, err
	}
	data, err := ctx.GetStub().GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read log batch %d of SLA %q: %w", seq, slaID, err)
	}
	if data == nil {
		return nil, nil
	}
	var r AnchorRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode log batch %d of SLA %q: %w", seq, slaID, err)
	}
	return &r, nil
}

func parseSeq(text string) (int64, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("seq: %q is not a positive decimal integer", text)
	}
	return n, nil
}

// AnchorLogBatch records the content identifier of a log batch of an SLA.
// Only the SLA's logger (MSP ID, certificate subject and issuer) may anchor,
// and only for an ACTIVE or TERMINATED SLA, a window inside the SLA's
// validity that has ended at the transaction time (periodEnd <= transaction
// time): an anchor witnesses that its window is over. Sequence numbers start
// at 1 and are consecutive: batch seq is accepted only when batch seq-1 is
// anchored and prevCID is its CID (empty for seq 1), and never twice.
// loggerSignature (base64) is the submitter's ECDSA signature over SHA-256 of
// the canonical string of the anchor fields (signedsla.Anchor.SigningBytes).
// Event LogBatchAnchored with the AnchorRecord.
//
// The transaction reads the SLA record and the keys of batches seq-1 and
// seq of this SLA only, so anchors of different SLAs never conflict.
func (c *Contract) AnchorLogBatch(ctx contractapi.TransactionContextInterface, slaID, seq, cid, prevCID, periodStart, periodEnd, loggerSignature string) error {
	n, err := parseSeq(seq)
	if err != nil {
		return err
	}
	anchor := signedsla.Anchor{SLAID: slaID, Seq: n, CID: cid, PrevCID: prevCID, PeriodStart: periodStart, PeriodEnd: periodEnd}
	if err := anchor.Validate(); err != nil {
		return err
	}
	a, err := load(ctx, slaID)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	mismatch := signedsla.CheckParty("logger", a.Parties.Logger.party(), caller.ID.MSPID, caller.Cert)
	// mutate:check anchor-caller
	if mismatch != nil {
		return fmt.Errorf("only the SLA's logger may anchor log batches: %w", mismatch)
	}
	// mutate:check anchor-status
	if a.Status != StatusActive && a.Status != StatusTerminated {
		return fmt.Errorf("SLA %q is %s; log batches are anchored for an %s or %s SLA", slaID, a.Status, StatusActive, StatusTerminated)
	}
	sig, err := decodeSignature("loggerSignature", loggerSignature)
	if err != nil {
		return err
	}
	// mutate:check anchor-validity
	if periodStart < a.ValidityStart || periodEnd > a.ValidityEnd {
		return fmt.Errorf("periodStart, periodEnd: window %s..%s is not inside the validity %s..%s of SLA %q", periodStart, periodEnd, a.ValidityStart, a.ValidityEnd, slaID)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	end, err := signedsla.ParseInstant(periodEnd)
	if err != nil {
		return fmt.Errorf("periodEnd: %w", err)
	}
	// mutate:check anchor-window-over
	if end.After(now) {
		return fmt.Errorf("periodEnd: the window ends at %s, after this transaction (%s); a batch is anchored only once its window is over", periodEnd, format(now))
	}
	existing, err := loadAnchor(ctx, slaID, n)
	if err != nil {
		return err
	}
	// mutate:check anchor-replay
	if existing != nil {
		return fmt.Errorf("seq: log batch %d of SLA %q is already anchored (cid %s)", n, slaID, existing.CID)
	}
	if n > 1 {
		prev, err := loadAnchor(ctx, slaID, n-1)
		if err != nil {
			return err
		}
		// mutate:check anchor-gap
		if prev == nil {
			return fmt.Errorf("seq: log batch %d of SLA %q is not anchored; batches are anchored in sequence", n-1, slaID)
		}
		// mutate:check anchor-prev-cid
		if prev.CID != prevCID {
			return fmt.Errorf("prevCID: %q is not the CID of log batch %d of SLA %q (%s)", prevCID, n-1, slaID, prev.CID)
		}
	}
	bad := signedsla.VerifyAnchor(anchor, caller.Cert, sig)
	// mutate:check anchor-signature
	if bad != nil {
		return fmt.Errorf("loggerSignature: %w", bad)
	}
	rec := AnchorRecord{
		Anchor:     anchor,
		Logger:     refOf(caller.ID),
		Signature:  sig,
		TxID:       ctx.GetStub().GetTxID(),
		AnchoredAt: format(now),
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode log batch %d of SLA %q: %w", n, slaID, err)
	}
	key, err := anchorKey(ctx, slaID, n)
	if err != nil {
		return err
	}
	if err := ctx.GetStub().PutState(key, data); err != nil {
		return fmt.Errorf("write log batch %d of SLA %q: %w", n, slaID, err)
	}
	if err := setPartiesPolicy(ctx, a, key); err != nil {
		return err
	}
	return emit(ctx, EventLogBatchAnchored, rec)
}

// GetLogBatch returns the AnchorRecord of batch seq of an SLA as JSON.
// Readable like GetSLA: by members of the provider's and the client's
// organizations, which includes the relayer of a verdict when the refund
// chaincode reads the anchor a verdict names.
func (c *Contract) GetLogBatch(ctx contractapi.TransactionContextInterface, slaID, seq string) (string, error) {
	n, err := parseSeq(seq)
	if err != nil {
		return "", err
	}
	a, err := load(ctx, slaID)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	rec, err := loadAnchor(ctx, slaID, n)
	if err != nil {
		return "", err
	}
	if rec == nil {
		return "", fmt.Errorf("seq: log batch %d of SLA %q is not anchored", n, slaID)
	}
	return toJSON(rec)
}

// SettlementView is what the refund chaincode's SettleVerdict reads of an
// SLA, in one chaincode-to-chaincode call: the SLA's status, digest and
// pinned enclave, and the anchor of the log batch the verdict names (Batch,
// nil when that batch is not anchored).
type SettlementView struct {
	ID      string            `json:"id"`
	Status  string            `json:"status"`
	Digest  string            `json:"digest"`
	Enclave *EnclavePin       `json:"enclave"`
	Batch   *signedsla.Anchor `json:"batch"`
	// ValidityEnd and EndsAt (set when terminated) tell the refund
	// chaincode's ReleaseCollateral when the SLA is over.
	ValidityEnd string `json:"validity_end"`
	EndsAt      string `json:"ends_at"`
}

// GetSettlementView returns the SettlementView of an SLA and its log batch
// seq as JSON. Readable like GetSLA: by members of the provider's and the
// client's organizations, which includes the relayer of a verdict when the
// refund chaincode reads it. It answers what GetSLA and GetLogBatch answer
// (the fields settlement needs) in one call, so that SettleVerdict makes one
// call to this chaincode instead of two.
func (c *Contract) GetSettlementView(ctx contractapi.TransactionContextInterface, slaID, seq string) (string, error) {
	n, err := parseSeq(seq)
	if err != nil {
		return "", err
	}
	a, err := load(ctx, slaID)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	rec, err := loadAnchor(ctx, slaID, n)
	if err != nil {
		return "", err
	}
	v := SettlementView{ID: a.ID, Status: a.Status, Digest: a.Digest, Enclave: a.Enclave, ValidityEnd: a.ValidityEnd, EndsAt: a.EndsAt}
	if rec != nil {
		v.Batch = &rec.Anchor
	}
	return toJSON(v)
}

// ListLogBatches returns a page of the anchored log batches of an SLA in
// sequence order, as JSON Page[AnchorRecord] (pageSize 1..100, bookmark as
// for ListSLAs). Readable like GetSLA; a query, evaluate it.
func (c *Contract) ListLogBatches(ctx contractapi.TransactionContextInterface, slaID, pageSize, bookmark string) (string, error) {
	size, err := parsePageSize(pageSize)
	if err != nil {
		return "", err
	}
	a, err := load(ctx, slaID)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyAnchor, []string{slaID}, size, bookmark)
	if err != nil {
		return "", fmt.Errorf("list log batches of SLA %q: %w", slaID, err)
	}
	defer it.Close()
	page := Page[AnchorRecord]{Records: []AnchorRecord{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("list log batches of SLA %q: %w", slaID, err)
		}
		var r AnchorRecord
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return "", fmt.Errorf("decode log batch of SLA %q: %w", slaID, err)
		}
		page.Records = append(page.Records, r)
	}
	if meta != nil {
		page.Bookmark, page.Fetched = meta.Bookmark, meta.FetchedRecordsCount
	}
	return toJSON(page)
}
