package agreement

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// MaxReasonLength bounds a termination reason (bytes).
const MaxReasonLength = 256

// ProposeSLA stores a new SLA with status PROPOSED. slaJSON is the
// Parametric SLA document; it must pass the schema and semantic checks and
// name only known algorithmic drivers. The submitter must be the SLA's
// provider (MSP ID and certificate common name), and providerSignature (base64)
// must be the submitter's signature over the SLA digest. The SLA id must be
// new and the validity window must not have ended. Event SLAProposed.
func (c *Contract) ProposeSLA(ctx contractapi.TransactionContextInterface, slaJSON string, providerSignature string) error {
	doc, err := sla.Parse([]byte(slaJSON))
	if err != nil {
		return fmt.Errorf("slaJSON: invalid SLA: %s", describe(err))
	}
	if _, err := driver.Compile(doc); err != nil {
		return fmt.Errorf("slaJSON: %w", err)
	}
	sig, err := decodeSignature("providerSignature", providerSignature)
	if err != nil {
		return err
	}
	msp, cert, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := signedsla.CheckParty("provider", doc.Parties.Provider, msp, cert); err != nil {
		return fmt.Errorf("only the SLA's provider may propose it: %w", err)
	}
	digest, err := sla.Digest(doc)
	if err != nil {
		return fmt.Errorf("slaJSON: digest: %w", err)
	}
	if err := signedsla.VerifyDigest(cert, digest[:], sig); err != nil {
		return fmt.Errorf("providerSignature: %w", err)
	}
	now, err := txTime(ctx)
	if err != nil {
		return err
	}
	_, end, err := doc.ValidityWindow()
	if err != nil {
		return fmt.Errorf("slaJSON: %w", err)
	}
	if !now.Before(end) {
		return fmt.Errorf("slaJSON: validity ended at %s, before this transaction (%s)", doc.Validity.End, format(now))
	}
	key, err := slaKey(ctx, doc.ID)
	if err != nil {
		return err
	}
	existing, err := ctx.GetStub().GetState(key)
	if err != nil {
		return fmt.Errorf("read SLA %q: %w", doc.ID, err)
	}
	if existing != nil {
		return fmt.Errorf("SLA %q already exists", doc.ID)
	}
	a := &Agreement{
		ID:     doc.ID,
		Status: StatusProposed,
		Digest: hex.EncodeToString(digest[:]),
		Terms: Terms{
			Provider:         doc.Parties.Provider,
			Client:           doc.Parties.Client,
			Logger:           doc.Parties.Logger,
			ProductID:        doc.Service.ProductID,
			PriceMinor:       doc.Price.AmountMinor,
			Currency:         doc.Price.Currency,
			CollateralWallet: doc.Consequences.CollateralWallet,
			ValidityStart:    doc.Validity.Start,
			ValidityEnd:      doc.Validity.End,
		},
		Signed: signedsla.Record{
			Version:  signedsla.Version,
			Document: []byte(slaJSON),
			Digest:   hex.EncodeToString(digest[:]),
			Provider: signedsla.Signature{MSPID: msp, Certificate: signedsla.CertificatePEM(cert), Signature: sig},
		},
		ProposedAt: format(now),
	}
	if err := save(ctx, a); err != nil {
		return err
	}
	for _, idx := range []struct {
		role string
		p    sla.Party
	}{{"provider", doc.Parties.Provider}, {"client", doc.Parties.Client}} {
		k, err := ctx.GetStub().CreateCompositeKey(keyByParty, []string{idx.role, idx.p.MSPID, idx.p.CommonName, doc.ID})
		if err != nil {
			return fmt.Errorf("index key of SLA %q: %w", doc.ID, err)
		}
		// Fabric treats an empty value as a delete: store one byte.
		if err := ctx.GetStub().PutState(k, []byte{0}); err != nil {
			return fmt.Errorf("write index of SLA %q: %w", doc.ID, err)
		}
	}
	return emit(ctx, EventSLAProposed, event(a))
}

// AcceptSLA signs a PROPOSED SLA as its client and pays the first period.
// digest must equal the stored digest and signature (base64) must be the
// submitter's signature over it; the submitter must be the SLA's client.
// The first period is the billing period containing the transaction time,
// or the first period of the validity window when that has not begun; its
// fee moves from the client's wallet into escrow through the refund
// chaincode in the same transaction. Status ACTIVE; event SLASigned.
func (c *Contract) AcceptSLA(ctx contractapi.TransactionContextInterface, id string, digest string, signature string) error {
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	if a.Status != StatusProposed {
		return fmt.Errorf("SLA %q is %s, not %s", id, a.Status, StatusProposed)
	}
	sig, err := decodeSignature("signature", signature)
	if err != nil {
		return err
	}
	msp, cert, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := signedsla.CheckParty("client", a.Terms.Client, msp, cert); err != nil {
		return fmt.Errorf("only the SLA's client may accept it: %w", err)
	}
	if digest != a.Digest {
		return fmt.Errorf("digest: %q is not the digest of SLA %q (%s)", digest, id, a.Digest)
	}
	raw, err := hex.DecodeString(a.Digest)
	if err != nil {
		return fmt.Errorf("stored digest of SLA %q: %w", id, err)
	}
	if err := signedsla.VerifyDigest(cert, raw, sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	now, err := txTime(ctx)
	if err != nil {
		return err
	}
	doc, err := document(a)
	if err != nil {
		return err
	}
	start, end, err := doc.ValidityWindow()
	if err != nil {
		return fmt.Errorf("SLA %q: %w", id, err)
	}
	if !now.Before(end) {
		return fmt.Errorf("SLA %q: validity ended at %s, before this transaction (%s)", id, a.Terms.ValidityEnd, format(now))
	}
	at := now
	if at.Before(start) {
		at = start
	}
	period, err := driver.PeriodOf(doc, at)
	if err != nil {
		return fmt.Errorf("SLA %q: first period: %w", id, err)
	}
	if err := c.deposit(ctx, a, period); err != nil {
		return err
	}
	a.Status = StatusActive
	a.Signed.Client = signedsla.Signature{MSPID: msp, Certificate: signedsla.CertificatePEM(cert), Signature: sig}
	a.AcceptedAt = format(now)
	a.LastPeriod = period.String()
	a.PaidThrough = format(period.End)
	a.PaidPeriods = 1
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	ev.Period, ev.PeriodEnd, ev.Amount = period.String(), format(period.End), a.Terms.PriceMinor
	return emit(ctx, EventSLASigned, ev)
}

// RenewSLA pays the next billing period (the one starting at paid_through)
// of an ACTIVE SLA into escrow. Only the client may renew, only once the
// last paid period has begun, and only while the next period lies inside the
// validity window. Event SLARenewed.
func (c *Contract) RenewSLA(ctx contractapi.TransactionContextInterface, id string) error {
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	if a.Status != StatusActive {
		return fmt.Errorf("SLA %q is %s, not %s", id, a.Status, StatusActive)
	}
	msp, cert, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := signedsla.CheckParty("client", a.Terms.Client, msp, cert); err != nil {
		return fmt.Errorf("only the SLA's client may renew it: %w", err)
	}
	if a.PaidThrough == a.Terms.ValidityEnd {
		return fmt.Errorf("SLA %q is paid through the end of its validity (%s)", id, a.Terms.ValidityEnd)
	}
	now, err := txTime(ctx)
	if err != nil {
		return err
	}
	last, err := time.Parse(time.RFC3339, a.LastPeriod)
	if err != nil {
		return fmt.Errorf("SLA %q: last period: %w", id, err)
	}
	if now.Before(last) {
		return fmt.Errorf("SLA %q is paid through %s; renew once its last paid period (%s) has begun", id, a.PaidThrough, a.LastPeriod)
	}
	next, err := time.Parse(time.RFC3339, a.PaidThrough)
	if err != nil {
		return fmt.Errorf("SLA %q: paid_through: %w", id, err)
	}
	doc, err := document(a)
	if err != nil {
		return err
	}
	period, err := driver.PeriodOf(doc, next)
	if err != nil {
		return fmt.Errorf("SLA %q: next period: %w", id, err)
	}
	if err := c.deposit(ctx, a, period); err != nil {
		return err
	}
	a.LastPeriod = period.String()
	a.PaidThrough = format(period.End)
	a.PaidPeriods++
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	ev.Period, ev.PeriodEnd, ev.Amount = period.String(), format(period.End), a.Terms.PriceMinor
	return emit(ctx, EventSLARenewed, ev)
}

// deposit pays one period's fee from the client's wallet into escrow by
// calling the refund chaincode's DepositEscrow in this transaction.
func (c *Contract) deposit(ctx contractapi.TransactionContextInterface, a *Agreement, p driver.Period) error {
	dep := EscrowDeposit{
		SLAID:            a.ID,
		Period:           p.String(),
		PeriodEnd:        format(p.End),
		Amount:           a.Terms.PriceMinor,
		Currency:         a.Terms.Currency,
		Payer:            a.Terms.Client,
		Provider:         a.Terms.Provider,
		CollateralWallet: a.Terms.CollateralWallet,
		ProductID:        a.Terms.ProductID,
	}
	arg, err := json.Marshal(dep)
	if err != nil {
		return fmt.Errorf("encode escrow deposit: %w", err)
	}
	resp := ctx.GetStub().InvokeChaincode(c.refundName(), [][]byte{[]byte("DepositEscrow"), arg}, "")
	if resp == nil || resp.GetStatus() != 200 {
		return fmt.Errorf("pay period %s of SLA %q into escrow: %s", dep.Period, a.ID, resp.GetMessage())
	}
	return nil
}

// TerminateSLA ends an SLA. A PROPOSED SLA is withdrawn (status WITHDRAWN)
// by either party, with nothing paid. An ACTIVE SLA is terminated (status
// TERMINATED) by either party, effective at the end of its paid term
// (ends_at = paid_through): periods already in escrow are still settled,
// no further period can be paid. reason is required (at most 256 bytes of
// printable UTF-8). Event SLATerminated.
func (c *Contract) TerminateSLA(ctx contractapi.TransactionContextInterface, id string, reason string) error {
	if reason == "" || len(reason) > MaxReasonLength || !utf8.ValidString(reason) || strings.ContainsAny(reason, "\x00\n\r") {
		return fmt.Errorf("reason: must be 1..%d bytes of UTF-8 on one line", MaxReasonLength)
	}
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	msp, cert, err := caller(ctx)
	if err != nil {
		return err
	}
	var by string
	switch {
	case isParty(a.Terms.Provider, msp, cert):
		by = "provider"
	case isParty(a.Terms.Client, msp, cert):
		by = "client"
	default:
		return fmt.Errorf("only the SLA's provider or client may terminate SLA %q (caller %s/%s)", id, msp, cert.Subject.CommonName)
	}
	now, err := txTime(ctx)
	if err != nil {
		return err
	}
	switch a.Status {
	case StatusProposed:
		a.Status = StatusWithdrawn
		a.EndsAt = format(now)
	case StatusActive:
		a.Status = StatusTerminated
		a.EndsAt = a.PaidThrough
	default:
		return fmt.Errorf("SLA %q is %s; only a %s or %s SLA can be terminated", id, a.Status, StatusProposed, StatusActive)
	}
	a.TerminatedAt = format(now)
	a.TerminatedBy = by
	a.Reason = reason
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	ev.Reason = reason
	return emit(ctx, EventSLATerminated, ev)
}

// readable checks that the caller belongs to the provider's or the client's
// organization.
func readable(ctx contractapi.TransactionContextInterface, a *Agreement) error {
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return fmt.Errorf("submitter: no client identity")
	}
	msp, err := ci.GetMSPID()
	if err != nil {
		return fmt.Errorf("submitter: read MSP ID: %w", err)
	}
	if msp != a.Terms.Provider.MSPID && msp != a.Terms.Client.MSPID {
		return fmt.Errorf("SLA %q is readable by %s and %s only, not by %s", a.ID, a.Terms.Provider.MSPID, a.Terms.Client.MSPID, msp)
	}
	return nil
}

// GetSLA returns the Agreement record of an SLA as JSON. Readable by
// members of the provider's and the client's organizations.
func (c *Contract) GetSLA(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	a, err := load(ctx, id)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	return toJSON(a)
}

// ListSLAs returns a page of the SLAs in which a party plays role
// ("provider" or "client"), as JSON Page[Agreement], ordered by common name
// then id. mspID must be the caller's own MSP; commonName selects one
// identity of it, or every identity when empty. pageSize is 1..100;
// bookmark is "" for the first page, else the bookmark of the previous page
// ("" in a result means there are no more pages). A query: evaluate it, do
// not submit it (Fabric allows paginated queries in read-only transactions
// only).
func (c *Contract) ListSLAs(ctx contractapi.TransactionContextInterface, role, mspID, commonName, pageSize, bookmark string) (string, error) {
	if role != "provider" && role != "client" {
		return "", fmt.Errorf("role: %q is not provider or client", role)
	}
	size, err := parsePageSize(pageSize)
	if err != nil {
		return "", err
	}
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return "", fmt.Errorf("submitter: no client identity")
	}
	own, err := ci.GetMSPID()
	if err != nil {
		return "", fmt.Errorf("submitter: read MSP ID: %w", err)
	}
	if mspID != own {
		return "", fmt.Errorf("mspID: %q is not the caller's MSP %q; list your own organization's SLAs", mspID, own)
	}
	attrs := []string{role, mspID}
	if commonName != "" {
		attrs = append(attrs, commonName)
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyByParty, attrs, size, bookmark)
	if err != nil {
		return "", fmt.Errorf("list SLAs: %w", err)
	}
	defer it.Close()
	page := Page[Agreement]{Records: []Agreement{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("list SLAs: %w", err)
		}
		_, parts, err := ctx.GetStub().SplitCompositeKey(kv.Key)
		if err != nil || len(parts) != 4 {
			return "", fmt.Errorf("list SLAs: malformed index key %q", kv.Key)
		}
		a, err := load(ctx, parts[3])
		if err != nil {
			return "", err
		}
		page.Records = append(page.Records, *a)
	}
	if meta != nil {
		page.Bookmark, page.Fetched = meta.Bookmark, meta.FetchedRecordsCount
	}
	return toJSON(page)
}

// HistoryEntry is one committed change of an SLA record.
type HistoryEntry struct {
	TxID      string     `json:"tx_id"`
	Timestamp string     `json:"timestamp"`
	IsDelete  bool       `json:"is_delete"`
	Record    *Agreement `json:"record,omitempty"`
}

// GetSLAHistory returns every committed version of an SLA record, newest
// first, as a JSON list of HistoryEntry. Readable like GetSLA. Requires the
// peer's history database (core.ledger.history.enableHistoryDatabase).
func (c *Contract) GetSLAHistory(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	a, err := load(ctx, id)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	key, err := slaKey(ctx, id)
	if err != nil {
		return "", err
	}
	it, err := ctx.GetStub().GetHistoryForKey(key)
	if err != nil {
		return "", fmt.Errorf("history of SLA %q: %w", id, err)
	}
	defer it.Close()
	out := []HistoryEntry{}
	for it.HasNext() {
		m, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("history of SLA %q: %w", id, err)
		}
		e := HistoryEntry{TxID: m.GetTxId(), IsDelete: m.GetIsDelete()}
		if m.GetTimestamp() != nil {
			e.Timestamp = m.GetTimestamp().AsTime().UTC().Format(time.RFC3339Nano)
		}
		if !m.GetIsDelete() {
			var rec Agreement
			if err := json.Unmarshal(m.GetValue(), &rec); err != nil {
				return "", fmt.Errorf("history of SLA %q: decode version of %s: %w", id, m.GetTxId(), err)
			}
			e.Record = &rec
		}
		out = append(out, e)
	}
	return toJSON(out)
}
