package agreement

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// MaxReasonLength bounds a termination reason (bytes).
const MaxReasonLength = 256

// ProposeSLA stores a new SLA with status PROPOSED. The Parametric SLA
// document is in the transient map under key "sla" (TransientSLA), never in
// the arguments: the arguments are written to the block for every channel
// member to read. The document must pass the schema and semantic checks and
// name only known algorithmic drivers. The submitter must be the SLA's
// provider (MSP ID, certificate subject and issuer), and providerSignature
// (base64) must be the submitter's signature over the SLA digest. The SLA id
// must be new and the validity window must not have ended at the
// transaction time.
//
// The document goes to the implicit collections of the provider's and the
// client's organizations (key sla~<id>), so the transaction needs both
// organizations' peers: a client submits it naming both as its endorsing
// organizations. The public record holds no terms (see Agreement); it and
// its two index keys get the key-level policy "a peer of the provider's and
// a peer of the client's organization". Event SLAProposed.
func (c *Contract) ProposeSLA(ctx contractapi.TransactionContextInterface, providerSignature string) error {
	// mutate:check propose-document-argument
	if strings.HasPrefix(strings.TrimSpace(providerSignature), "{") {
		return fmt.Errorf("providerSignature: this is an SLA document, not a signature; pass the document in the transient map under key %q, never in the arguments (they are written to the block)", TransientSLA)
	}
	raw, err := transientDocument(ctx)
	if err != nil {
		return err
	}
	doc, digest, err := parseDocument(raw)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	mismatch := signedsla.CheckParty("provider", doc.Parties.Provider, caller.ID.MSPID, caller.Cert)
	// mutate:check propose-caller
	if mismatch != nil {
		return fmt.Errorf("only the SLA's provider may propose it: %w", mismatch)
	}
	if _, err := driver.Compile(doc); err != nil {
		return fmt.Errorf("transient %q: %w", TransientSLA, err)
	}
	sig, err := decodeSignature("providerSignature", providerSignature)
	if err != nil {
		return err
	}
	bad := signedsla.VerifyDigest(caller.Cert, digest[:], sig)
	// mutate:check propose-signature
	if bad != nil {
		return fmt.Errorf("providerSignature: %w", bad)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	_, end, err := doc.ValidityWindow()
	if err != nil {
		return fmt.Errorf("transient %q: %w", TransientSLA, err)
	}
	// mutate:check propose-validity-ended
	if !now.Before(end) {
		return fmt.Errorf("transient %q: validity ended at %s, before this transaction (%s)", TransientSLA, doc.Validity.End, format(now))
	}
	key, err := slaKey(ctx, doc.ID)
	if err != nil {
		return err
	}
	existing, err := ctx.GetStub().GetState(key)
	if err != nil {
		return fmt.Errorf("read SLA %q: %w", doc.ID, err)
	}
	// mutate:check propose-exists
	if existing != nil {
		return fmt.Errorf("SLA %q already exists", doc.ID)
	}
	a := &Agreement{
		ID:     doc.ID,
		Status: StatusProposed,
		Digest: hex.EncodeToString(digest[:]),
		Parties: Parties{
			Provider: ref(doc.Parties.Provider),
			Client:   ref(doc.Parties.Client),
			Logger:   ref(doc.Parties.Logger),
		},
		ValidityStart: doc.Validity.Start,
		ValidityEnd:   doc.Validity.End,
		Signatures: Signatures{
			Provider: signedsla.Signature{MSPID: caller.ID.MSPID, Certificate: signedsla.CertificatePEM(caller.Cert), Signature: sig},
		},
		ProposedAt: format(now),
	}
	if err := save(ctx, a); err != nil {
		return err
	}
	if err := setPartiesPolicy(ctx, a, key); err != nil {
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
		if err := setPartiesPolicy(ctx, a, k); err != nil {
			return err
		}
	}
	if err := putDocument(ctx, doc.ID, raw, doc.Parties.Provider.MSPID, doc.Parties.Client.MSPID); err != nil {
		return err
	}
	if doc.Consequences.CollateralMinor > 0 {
		if err := c.lockCollateral(ctx, doc, a.Digest); err != nil {
			return err
		}
	}
	return emit(ctx, EventSLAProposed, event(a))
}

// AcceptSLA signs a PROPOSED SLA as its client, pins the enclave and pays
// the first period. The submitter must be the SLA's client (MSP ID,
// certificate subject and issuer); digest must equal the stored digest and
// signature (base64) must be the submitter's signature over it. The SLA
// document is in the transient map under key "sla" and must have the
// recorded digest (the client reads it with GetSLA from its organization's
// collection); the transaction reads no private data, so the two endorsing
// organizations simulate it alike. The first
// period is the first billing period that has not started at the
// transaction time (its start is at or after it) and lies inside the
// validity window; the transaction fails when none is left. The enclave
// registered for the configured enclave chaincode (ercc QueryEnclave) is
// pinned; the transaction fails when none is registered or when it was
// initialised with another deploy configuration. The period's fee moves
// from the client's wallet into escrow through the refund chaincode in the
// same transaction. Status ACTIVE; event SLASigned.
func (c *Contract) AcceptSLA(ctx contractapi.TransactionContextInterface, id string, digest string, signature string) error {
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	mismatch := signedsla.CheckParty("client", a.Parties.Client.party(), caller.ID.MSPID, caller.Cert)
	// mutate:check accept-caller
	if mismatch != nil {
		return fmt.Errorf("only the SLA's client may accept it: %w", mismatch)
	}
	// mutate:check accept-status
	if a.Status != StatusProposed {
		return fmt.Errorf("SLA %q is %s, not %s", id, a.Status, StatusProposed)
	}
	sig, err := decodeSignature("signature", signature)
	if err != nil {
		return err
	}
	// mutate:check accept-digest
	if digest != a.Digest {
		return fmt.Errorf("digest: %q is not the digest of SLA %q (%s)", digest, id, a.Digest)
	}
	raw, err := hex.DecodeString(a.Digest)
	if err != nil {
		return fmt.Errorf("stored digest of SLA %q: %w", id, err)
	}
	bad := signedsla.VerifyDigest(caller.Cert, raw, sig)
	// mutate:check accept-signature
	if bad != nil {
		return fmt.Errorf("signature: %w", bad)
	}
	doc, err := termsOf(ctx, a)
	if err != nil {
		return err
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	period, err := firstUnstartedPeriod(id, doc, now)
	if err != nil {
		return err
	}
	pin, err := c.currentEnclave(ctx, now)
	if err != nil {
		return fmt.Errorf("SLA %q: pin the enclave: %w", id, err)
	}
	if err := c.deposit(ctx, a, doc, period); err != nil {
		return err
	}
	a.Status = StatusActive
	a.Signatures.Client = signedsla.Signature{MSPID: caller.ID.MSPID, Certificate: signedsla.CertificatePEM(caller.Cert), Signature: sig}
	a.AcceptedAt = format(now)
	a.LastPeriod = period.String()
	a.PaidThrough = format(period.End)
	a.PaidPeriods = 1
	a.Enclave = pin
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	ev.Period, ev.PeriodEnd, ev.Enclave = period.String(), format(period.End), pin
	return emit(ctx, EventSLASigned, ev)
}

// firstUnstartedPeriod returns the first billing period of doc that has not
// started at now (start >= now) and lies inside the validity window.
func firstUnstartedPeriod(id string, doc *sla.SLA, now time.Time) (driver.Period, error) {
	start, end, err := doc.ValidityWindow()
	if err != nil {
		return driver.Period{}, fmt.Errorf("SLA %q: %w", id, err)
	}
	at := now
	if at.Before(start) {
		at = start
	}
	// mutate:check accept-validity-ended
	if !at.Before(end) {
		return driver.Period{}, fmt.Errorf("SLA %q: validity ended at %s, before this transaction (%s)", id, doc.Validity.End, format(now))
	}
	period, err := driver.PeriodOf(doc, at)
	if err != nil {
		return driver.Period{}, fmt.Errorf("SLA %q: first period: %w", id, err)
	}
	// mutate:check accept-period-started
	if period.Start.Before(now) {
		// mutate:check accept-none-left
		if !period.End.Before(end) {
			return driver.Period{}, fmt.Errorf("SLA %q: its last billing period %s started before this transaction (%s); no period is left to pay (a period is paid only before it starts)",
				id, period.String(), format(now))
		}
		period, err = driver.PeriodOf(doc, period.End)
		if err != nil {
			return driver.Period{}, fmt.Errorf("SLA %q: first period: %w", id, err)
		}
	}
	return period, nil
}

// RenewSLA pays the next billing period (the one starting at paid_through)
// of an ACTIVE SLA into escrow. Only the client (MSP ID, certificate subject
// and issuer) may renew, only once the last paid period has begun, only
// while the next period has not started (transaction time <= paid_through)
// and only while it lies inside the validity window. The SLA document is in
// the transient map under key "sla" and must have the recorded digest, as
// for AcceptSLA. Event SLARenewed.
func (c *Contract) RenewSLA(ctx contractapi.TransactionContextInterface, id string) error {
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	mismatch := signedsla.CheckParty("client", a.Parties.Client.party(), caller.ID.MSPID, caller.Cert)
	// mutate:check renew-caller
	if mismatch != nil {
		return fmt.Errorf("only the SLA's client may renew it: %w", mismatch)
	}
	// mutate:check renew-status
	if a.Status != StatusActive {
		return fmt.Errorf("SLA %q is %s, not %s", id, a.Status, StatusActive)
	}
	// mutate:check renew-paid-to-end
	if a.PaidThrough == a.ValidityEnd {
		return fmt.Errorf("SLA %q is paid through the end of its validity (%s)", id, a.ValidityEnd)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	last, err := time.Parse(time.RFC3339, a.LastPeriod)
	if err != nil {
		return fmt.Errorf("SLA %q: last period: %w", id, err)
	}
	// mutate:check renew-last-begun
	if now.Before(last) {
		return fmt.Errorf("SLA %q is paid through %s; renew once its last paid period (%s) has begun", id, a.PaidThrough, a.LastPeriod)
	}
	next, err := time.Parse(time.RFC3339, a.PaidThrough)
	if err != nil {
		return fmt.Errorf("SLA %q: paid_through: %w", id, err)
	}
	// mutate:check renew-next-started
	if now.After(next) {
		return fmt.Errorf("SLA %q: its next period %s started before this transaction (%s); a period is paid only before it starts", id, a.PaidThrough, format(now))
	}
	doc, err := termsOf(ctx, a)
	if err != nil {
		return err
	}
	period, err := driver.PeriodOf(doc, next)
	if err != nil {
		return fmt.Errorf("SLA %q: next period: %w", id, err)
	}
	if err := c.deposit(ctx, a, doc, period); err != nil {
		return err
	}
	a.LastPeriod = period.String()
	a.PaidThrough = format(period.End)
	a.PaidPeriods++
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	ev.Period, ev.PeriodEnd = period.String(), format(period.End)
	return emit(ctx, EventSLARenewed, ev)
}

// deposit pays one period's fee from the client's wallet into escrow by
// calling the configured refund chaincode's DepositEscrow in this
// transaction, with the terms of doc (the document of a).
func (c *Contract) deposit(ctx contractapi.TransactionContextInterface, a *Agreement, doc *sla.SLA, p driver.Period) error {
	dep := EscrowDeposit{
		SLAID:            a.ID,
		Period:           p.String(),
		PeriodEnd:        format(p.End),
		Amount:           doc.Price.AmountMinor,
		Currency:         doc.Price.Currency,
		Payer:            doc.Parties.Client,
		Provider:         doc.Parties.Provider,
		CollateralWallet: doc.Consequences.CollateralWallet,
		ProductID:        doc.Service.ProductID,
		Collateral:       doc.Consequences.CollateralMinor,
		Expiry:           doc.Consequences.EscrowExpiry,
	}
	if dep.Collateral > 0 {
		dep.SLADigest = a.Digest
	}
	arg, err := json.Marshal(dep)
	if err != nil {
		return fmt.Errorf("encode escrow deposit: %w", err)
	}
	if _, err := ccall.Call(ctx, c.g.Config().Chaincodes.Refund, "DepositEscrow", string(arg)); err != nil {
		return fmt.Errorf("pay period %s of SLA %q into escrow: %w", dep.Period, a.ID, err)
	}
	return nil
}

// lockCollateral locks the SLA's collateral (consequences.collateral_minor)
// from the provider's collateral wallet into the SLA's collateral hold by
// calling the configured refund chaincode's LockCollateral in this
// transaction (ProposeSLA, submitted by the provider).
func (c *Contract) lockCollateral(ctx contractapi.TransactionContextInterface, doc *sla.SLA, digest string) error {
	lock := CollateralLock{
		SLAID: doc.ID, SLADigest: digest, Amount: doc.Consequences.CollateralMinor, Currency: doc.Price.Currency,
		Wallet: doc.Consequences.CollateralWallet, Provider: doc.Parties.Provider, Client: doc.Parties.Client,
	}
	arg, err := json.Marshal(lock)
	if err != nil {
		return fmt.Errorf("encode collateral lock: %w", err)
	}
	if _, err := ccall.Call(ctx, c.g.Config().Chaincodes.Refund, "LockCollateral", string(arg)); err != nil {
		return fmt.Errorf("lock the collateral of SLA %q: %w", doc.ID, err)
	}
	return nil
}

// TerminateSLA ends an SLA. A PROPOSED SLA is withdrawn (status WITHDRAWN)
// by either party, with nothing paid (its locked collateral, if any, can
// be released at once: refund ReleaseCollateral). An ACTIVE SLA is
// terminated (status TERMINATED) by either party at any time, also when a
// settled verdict said terminate: the period under way is still judged
// when it ends (its escrow is settled or, after its verdict deadline,
// claimed), and a paid period that has not started at the transaction
// time is refunded to the client in this transaction (refund
// RefundUnstarted), so the SLA ends (ends_at) at the end of the period
// under way, or at once when none had started. No further period can be
// paid; the collateral is released after ends_at once every paid period
// is settled, expired or refunded. The submitter must be the provider or the
// client (MSP ID, certificate subject and issuer); terminated_by records its
// identity, terminated_as its role. reason is required (at most 256 bytes
// of UTF-8 on one line). Event SLATerminated.
func (c *Contract) TerminateSLA(ctx contractapi.TransactionContextInterface, id string, reason string) error {
	if reason == "" || len(reason) > MaxReasonLength || !utf8.ValidString(reason) || strings.ContainsAny(reason, "\x00\n\r") {
		return fmt.Errorf("reason: must be 1..%d bytes of UTF-8 on one line", MaxReasonLength)
	}
	a, err := load(ctx, id)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	role := partyRole(a, caller)
	// mutate:check terminate-caller
	if role == "" {
		return fmt.Errorf("only the SLA's provider or client may terminate SLA %q (caller %s)", id, caller.ID)
	}
	// mutate:check terminate-status
	if a.Status != StatusProposed && a.Status != StatusActive {
		return fmt.Errorf("SLA %q is %s; only a %s or %s SLA can be terminated", id, a.Status, StatusProposed, StatusActive)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	if a.Status == StatusProposed {
		a.Status = StatusWithdrawn
		a.EndsAt = format(now)
	} else {
		a.Status = StatusTerminated
		a.EndsAt = a.PaidThrough
		last, err := time.Parse(time.RFC3339, a.LastPeriod)
		if err != nil {
			return fmt.Errorf("SLA %q: last period: %w", id, err)
		}
		if now.Before(last) {
			if _, err := ccall.Call(ctx, c.g.Config().Chaincodes.Refund, "RefundUnstarted", id, a.LastPeriod); err != nil {
				return fmt.Errorf("refund period %s of SLA %q, which has not started: %w", a.LastPeriod, id, err)
			}
			a.RefundedPeriod = a.LastPeriod
			a.EndsAt = a.LastPeriod
			if a.PaidPeriods == 1 {
				a.EndsAt = format(now)
			}
			a.PaidThrough = a.LastPeriod
			a.PaidPeriods--
		}
	}
	a.TerminatedAt = format(now)
	a.TerminatedBy = caller.ID
	a.TerminatedAs = role
	a.Reason = reason
	if err := save(ctx, a); err != nil {
		return err
	}
	ev := event(a)
	by := refOf(caller.ID)
	ev.By, ev.Reason = &by, reason
	return emit(ctx, EventSLATerminated, ev)
}

// readable checks that the caller belongs to the provider's or the client's
// organization.
func readable(ctx contractapi.TransactionContextInterface, a *Agreement) error {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	msp := caller.ID.MSPID
	// mutate:check read-org
	if msp != a.Parties.Provider.MSPID && msp != a.Parties.Client.MSPID {
		return fmt.Errorf("SLA %q is readable by %s and %s only, not by %s", a.ID, a.Parties.Provider.MSPID, a.Parties.Client.MSPID, msp)
	}
	return nil
}

// GetSLA returns an SLA's public record and its Parametric SLA Signed
// record (SLAView) as JSON. Readable by members of the provider's and the
// client's organizations, each on a peer of its own organization: the
// document comes from the implicit collection of this peer's organization
// (CORE_PEER_LOCALMSPID), which must be the caller's, and is checked
// against the recorded digest. Peers serve their collection to any caller:
// the caller's organization is checked before anything private is read.
// A query: evaluate it on a peer of your organization.
func (c *Contract) GetSLA(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	a, err := load(ctx, id)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	local, err := localMSP()
	if err != nil {
		return "", err
	}
	// mutate:check get-own-peer
	if local != caller.ID.MSPID {
		return "", fmt.Errorf("SLA %q: evaluate GetSLA on a peer of your organization %s: this peer belongs to %s, and the document is read from the caller's organization's implicit collection",
			id, caller.ID.MSPID, local)
	}
	raw, err := readDocument(ctx, a, local)
	if err != nil {
		return "", err
	}
	return toJSON(SLAView{Agreement: *a, Signed: signedsla.Record{
		Version: signedsla.Version, Document: raw, Digest: a.Digest,
		Provider: a.Signatures.Provider, Client: a.Signatures.Client,
	}})
}

// PartiesView is GetParties' answer: the public fields of an SLA another
// chaincode needs to act for its parties (the ticket chaincode): its
// status, digest, parties and validity, and when a terminated SLA ends.
type PartiesView struct {
	ID            string  `json:"id"`
	Status        string  `json:"status"`
	Digest        string  `json:"digest"`
	Parties       Parties `json:"parties"`
	ValidityStart string  `json:"validity_start"`
	ValidityEnd   string  `json:"validity_end"`
	EndsAt        string  `json:"ends_at,omitempty"`
}

// GetParties returns an SLA's PartiesView as JSON. Readable like
// GetSLAHistory, by members of the provider's and the client's
// organizations; it reads no private data, so a chaincode may call it in a
// transaction that both parties' peers endorse.
func (c *Contract) GetParties(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	a, err := load(ctx, id)
	if err != nil {
		return "", err
	}
	if err := readable(ctx, a); err != nil {
		return "", err
	}
	return toJSON(PartiesView{ID: a.ID, Status: a.Status, Digest: a.Digest, Parties: a.Parties,
		ValidityStart: a.ValidityStart, ValidityEnd: a.ValidityEnd, EndsAt: a.EndsAt})
}

// ListSLAs returns a page of the SLAs in which a party plays role
// ("provider" or "client"), as JSON Page[Agreement], ordered by common name
// then id. mspID must be the caller's own MSP; commonName selects the
// parties of that common name, or every party of the MSP when empty.
// pageSize is 1..100; bookmark is "" for the first page, else the bookmark
// of the previous page ("" in a result means there are no more pages). A
// query: evaluate it, do not submit it (Fabric allows paginated queries in
// read-only transactions only).
func (c *Contract) ListSLAs(ctx contractapi.TransactionContextInterface, role, mspID, commonName, pageSize, bookmark string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	// mutate:check list-own-msp
	if mspID != caller.ID.MSPID {
		return "", fmt.Errorf("mspID: %q is not the caller's MSP %q; list your own organization's SLAs", mspID, caller.ID.MSPID)
	}
	if role != "provider" && role != "client" {
		return "", fmt.Errorf("role: %q is not provider or client", role)
	}
	size, err := parsePageSize(pageSize)
	if err != nil {
		return "", err
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
