package refund

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/sortedkey"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Deposit is the argument of DepositEscrow (written by the agreement
// chaincode). Payer and Provider are the SLA's client and provider with
// their wallets.
type Deposit struct {
	SLAID            string    `json:"sla_id"`
	Period           string    `json:"period"`
	PeriodEnd        string    `json:"period_end"`
	Amount           int64     `json:"amount"`
	Currency         string    `json:"currency"`
	Payer            sla.Party `json:"payer"`
	Provider         sla.Party `json:"provider"`
	CollateralWallet string    `json:"collateral_wallet,omitempty"`
	ProductID        string    `json:"product_id"`
	// SLADigest and Collateral name the SLA's locked collateral
	// (consequences.collateral_minor; 0 for none): the deposit is refused
	// unless the SLA's collateral hold is locked with them.
	SLADigest  string `json:"sla_digest,omitempty"`
	Collateral int64  `json:"collateral,omitempty"`
	// Expiry is the SLA's consequences.escrow_expiry (nil for none).
	Expiry *sla.EscrowExpiry `json:"expiry,omitempty"`
}

// Escrow is one period's fee held for an SLA, and its settlement.
type Escrow struct {
	Deposit
	Status string `json:"status"`
	// Held is the money still in escrow: Amount until settled, then 0.
	Held       int64       `json:"held"`
	DepositTx  string      `json:"deposit_tx"`
	DepositAt  string      `json:"deposit_at"`
	Settlement *Settlement `json:"settlement,omitempty"`
	// VerdictDeadline is the period's end plus the Expiry's
	// verdict_within_seconds, fixed at the deposit: from then on either
	// party may claim the escrow (ClaimExpiredEscrow).
	VerdictDeadline string `json:"verdict_deadline,omitempty"`
	// Expired is the outcome of the claim (status EXPIRED), Refunded of
	// the refund at termination (status REFUNDED).
	Expired  *Expiry   `json:"expired,omitempty"`
	Refunded *Refunded `json:"refunded,omitempty"`
}

// Settlement is the outcome of SettleVerdict for one (SLA, period); it is
// also the payload of the RefundIssued and PeriodSettled events.
type Settlement struct {
	SLAID     string    `json:"sla_id"`
	SLADigest string    `json:"sla_digest"`
	Period    string    `json:"period"`
	PeriodEnd string    `json:"period_end"`
	Provider  sla.Party `json:"provider"`
	Client    sla.Party `json:"client"`
	ProductID string    `json:"product_id"`
	Currency  string    `json:"currency"`
	Violated  bool      `json:"violated"`
	Fee       int64     `json:"fee"`
	CreditBPS int64     `json:"credit_bps"`
	// Credit went from escrow to the client's wallet, Released from escrow
	// to the provider's wallet (Credit + Released = Fee).
	Credit   int64 `json:"credit"`
	Released int64 `json:"released"`
	// PenaltyOwed is the verdict's penalty; PenaltyPaid what the
	// collateral hold (an SLA with collateral_minor) or else the
	// collateral wallet paid to the client; PenaltyUnpaid the rest (no
	// collateral, or not enough left in it).
	PenaltyOwed   int64  `json:"penalty_owed"`
	PenaltyPaid   int64  `json:"penalty_paid"`
	PenaltyUnpaid int64  `json:"penalty_unpaid"`
	Refund        int64  `json:"refund"` // Credit + PenaltyPaid: what the client received
	Terminate     bool   `json:"terminate"`
	ReportDigest  string `json:"report_digest"`
	// Chaincode and EnclaveID name the pinned enclave that signed the
	// verdict; BatchSeq and BatchCID the anchored batch that ends the
	// period.
	Chaincode string `json:"chaincode"`
	EnclaveID string `json:"enclave_id"`
	BatchSeq  int64  `json:"batch_seq"`
	BatchCID  string `json:"batch_cid"`
	TxID      string `json:"tx_id"`
	SettledAt string `json:"settled_at"`
}

// ScoreEntry is the contribution of one settled period to the reputation.
type ScoreEntry struct {
	SLAID       string `json:"sla_id"`
	Period      string `json:"period"`
	Violated    bool   `json:"violated"`
	Credit      int64  `json:"credit"`
	PenaltyPaid int64  `json:"penalty_paid"`
	// NoVerdict marks a period whose escrow expired without a verdict
	// (ClaimExpiredEscrow): not evaluated.
	NoVerdict bool `json:"no_verdict,omitempty"`
}

// Score is a provider's (or one of its products', or one SLA's)
// reputation.
type Score struct {
	Provider  string `json:"provider_msp_id"`
	ProductID string `json:"product_id,omitempty"`
	SLAID     string `json:"sla_id,omitempty"`
	Tally
	// Bookmark is set when the score is one page of the settled periods:
	// ask for the next page with it and add them (Add).
	Bookmark string `json:"bookmark,omitempty"`
	// Months is the same score per calendar month of the periods' starts
	// (UTC), oldest first: the reputation over time.
	Months []MonthScore `json:"months"`
}

// Tally is what a Score counts, over all its periods or one month's.
type Tally struct {
	// Periods evaluated (settled), of which Violated missed an objective.
	Periods  int64 `json:"periods"`
	Violated int64 `json:"violated"`
	// NoVerdict counts the periods whose escrow expired without a verdict
	// (not in Periods).
	NoVerdict int64 `json:"no_verdict"`
	// Credits and Penalties paid in minor units.
	Credits   int64 `json:"credits"`
	Penalties int64 `json:"penalties"`
	// ComplianceBPS is (Periods - Violated) * 10000 / Periods, rounded
	// down; 0 when no period has been evaluated (look at Periods).
	ComplianceBPS int64 `json:"compliance_bps"`
}

// slaView is the agreement chaincode's GetSettlementView answer: the SLA's
// status, digest and pinned enclave, and the anchor of the log batch the
// verdict names (nil when it is not anchored).
type slaView struct {
	ID      string            `json:"id"`
	Status  string            `json:"status"`
	Digest  string            `json:"digest"`
	Enclave *pinView          `json:"enclave"`
	Batch   *signedsla.Anchor `json:"batch"`
	// ValidityEnd and EndsAt (a terminated SLA's end) tell
	// ReleaseCollateral when the SLA is over.
	ValidityEnd string `json:"validity_end"`
	EndsAt      string `json:"ends_at"`
}

// pinView is the part of the agreement's enclave pin that settlement needs.
// EnclaveVK is the registered key the agreement chaincode copied from the
// registry when it pinned the enclave (empty in pins made before it did).
type pinView struct {
	Chaincode string `json:"chaincode"`
	EnclaveID string `json:"enclave_id"`
	EnclaveVK string `json:"enclave_vk"`
}

var (
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	digestHex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func instant(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Format(time.RFC3339) != s {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 UTC timestamp (2006-01-02T15:04:05Z)", field, s)
	}
	return t, nil
}

func (d *Deposit) validate() error {
	switch {
	case d.SLAID == "":
		return errors.New("deposit.sla_id: must not be empty")
	case d.Amount <= 0:
		return fmt.Errorf("deposit.amount: %d is not positive", d.Amount)
	case !currencyCode.MatchString(d.Currency):
		return fmt.Errorf("deposit.currency: %q is not an ISO 4217 code", d.Currency)
	case d.Payer.ID().Validate("deposit.payer") != nil:
		return d.Payer.ID().Validate("deposit.payer")
	case d.Payer.Wallet == "":
		return errors.New("deposit.payer.wallet: must not be empty")
	case d.Provider.ID().Validate("deposit.provider") != nil:
		return d.Provider.ID().Validate("deposit.provider")
	case d.Provider.Wallet == "":
		return errors.New("deposit.provider.wallet: must not be empty")
	case d.ProductID == "":
		return errors.New("deposit.product_id: must not be empty")
	}
	start, err := instant("deposit.period", d.Period)
	if err != nil {
		return err
	}
	end, err := instant("deposit.period_end", d.PeriodEnd)
	if err != nil {
		return err
	}
	if !start.Before(end) {
		return fmt.Errorf("deposit.period_end: %s is not after the period start %s", d.PeriodEnd, d.Period)
	}
	if d.Collateral < 0 {
		return fmt.Errorf("deposit.collateral: %d is negative", d.Collateral)
	}
	if d.Collateral > 0 && !digestHex.MatchString(d.SLADigest) {
		return fmt.Errorf("deposit.sla_digest: %q is not 64 lower-case hex digits", d.SLADigest)
	}
	if x := d.Expiry; x != nil {
		switch {
		case x.VerdictWithinSeconds < 1 || x.VerdictWithinSeconds > maxVerdictWithin:
			return fmt.Errorf("deposit.expiry.verdict_within_seconds: %d is not 1..%d", x.VerdictWithinSeconds, maxVerdictWithin)
		case x.Outcome != sla.ExpiryRefundClient && x.Outcome != sla.ExpiryReleaseProvider && x.Outcome != sla.ExpirySplit:
			return fmt.Errorf("deposit.expiry.outcome: %q is not %s, %s or %s", x.Outcome, sla.ExpiryRefundClient, sla.ExpiryReleaseProvider, sla.ExpirySplit)
		case x.ClientBPS < 0 || x.ClientBPS > 10000:
			return fmt.Errorf("deposit.expiry.client_bps: %d is not 0..10000", x.ClientBPS)
		}
	}
	return nil
}

// maxVerdictWithin bounds a verdict deadline after a period's end (365
// days, as the schema).
const maxVerdictWithin = 365 * 24 * 3600

func escrowKey(ctx contractapi.TransactionContextInterface, slaID, period string) (string, error) {
	return key(ctx, keyEscrow, slaID, period)
}

// loadEscrow reads the escrow of (SLA, period) and its key; an escrow that
// does not exist is an error naming field, the argument that chose it.
func loadEscrow(ctx contractapi.TransactionContextInterface, field, slaID, period string) (*Escrow, string, error) {
	k, err := escrowKey(ctx, slaID, period)
	if err != nil {
		return nil, "", err
	}
	var e Escrow
	ok, err := getJSON(ctx, k, "escrow", &e)
	if err != nil {
		return nil, "", err
	}
	// mutate:check escrow-exists
	if !ok {
		return nil, "", fmt.Errorf("%s: no escrow for period %s of SLA %q", field, period, slaID)
	}
	return &e, k, nil
}

// ownedBy checks that wallet id exists in b and is owned by owner.
func ownedBy(b *book, role, id string, owner identity.ID) error {
	a, err := b.base(id)
	if err != nil {
		return fmt.Errorf("%s wallet: %w", role, err)
	}
	// mutate:check wallet-owner
	if a.Owner != owner {
		return fmt.Errorf("%s wallet %q is owned by %s, not by the %s %s", role, id, a.Owner, role, owner)
	}
	return nil
}

// DepositEscrow moves one period's fee from the client's wallet into escrow
// for (SLA, period). It accepts only calls made inside a transaction of the
// configured agreement chaincode (the proposal's chaincode), submitted by
// the payer (MSP ID, certificate subject and issuer), who must own the
// paying wallet; the provider's wallet and the collateral wallet (if any)
// must exist and be owned by the provider (their bases are read, not
// written). A period is paid once. The fee is a debit of the client's
// base; the escrow key is created with the policy "peers of the provider's
// and the client's organizations".
func (c *Contract) DepositEscrow(ctx contractapi.TransactionContextInterface, depositJSON string) error {
	agreementCC := c.g.Config().Chaincodes.Agreement
	via, err := proposalChaincode(ctx)
	if err != nil {
		return err
	}
	// mutate:check deposit-via-agreement
	if via != agreementCC {
		return fmt.Errorf("DepositEscrow may be called only by the %s chaincode, not in a transaction of %q", agreementCC, via)
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	var d Deposit
	if err := strictjson.Unmarshal([]byte(depositJSON), &d); err != nil {
		return fmt.Errorf("depositJSON: %w", err)
	}
	if err := d.validate(); err != nil {
		return err
	}
	// mutate:check deposit-payer
	if caller.ID != d.Payer.ID() {
		return fmt.Errorf("the submitter %s is not the payer %s", caller.ID, d.Payer.ID())
	}
	k, err := escrowKey(ctx, d.SLAID, d.Period)
	if err != nil {
		return err
	}
	var existing Escrow
	ok, err := getJSON(ctx, k, "escrow", &existing)
	if err != nil {
		return err
	}
	// mutate:check deposit-replay
	if ok {
		return fmt.Errorf("period %s of SLA %q is already paid into escrow (tx %s)", d.Period, d.SLAID, existing.DepositTx)
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	if err := ownedBy(b, "payer", d.Payer.Wallet, caller.ID); err != nil {
		return err
	}
	if err := ownedBy(b, "provider", d.Provider.Wallet, d.Provider.ID()); err != nil {
		return err
	}
	if d.CollateralWallet != "" {
		if err := ownedBy(b, "collateral", d.CollateralWallet, d.Provider.ID()); err != nil {
			return err
		}
	}
	if d.Collateral > 0 {
		if err := checkHold(ctx, &d); err != nil {
			return err
		}
	}
	ref := d.SLAID + "/" + d.Period
	if err := b.debit(d.Payer.Wallet, d.Amount, KindEscrow, "escrow", ref); err != nil {
		return err
	}
	if err := b.flush(); err != nil {
		return err
	}
	policy, err := ccpolicy.AllOf(d.Provider.MSPID, d.Payer.MSPID)
	if err != nil {
		return fmt.Errorf("escrow policy: %w", err)
	}
	e := Escrow{Deposit: d, Status: EscrowHeld, Held: d.Amount, DepositTx: ctx.GetStub().GetTxID(), DepositAt: b.now.Format(time.RFC3339)}
	if d.Expiry != nil {
		end, _ := instant("deposit.period_end", d.PeriodEnd) // validated above
		e.VerdictDeadline = end.Add(time.Duration(d.Expiry.VerdictWithinSeconds) * time.Second).UTC().Format(time.RFC3339)
	}
	return putWithPolicy(ctx, k, "escrow", e, policy)
}

// pinnedKey returns the verifying key of the pinned enclave: the key the
// pin holds, which must be the key of the pinned enclave id (the id is the
// key's SHA-256; the agreement chaincode copied the key from the registry
// when it pinned the enclave, and a registration never changes). A pin
// without a key (pinned before the agreement chaincode copied it) is looked
// up in the enclave registry (QueryEnclaveByID).
func (c *Contract) pinnedKey(ctx contractapi.TransactionContextInterface, pin *pinView) (*ecdsa.PublicKey, error) {
	if pin.EnclaveVK != "" {
		pub, err := credentials.ParseECDSAPublicKey(pin.EnclaveVK)
		if err != nil {
			return nil, fmt.Errorf("the pinned enclave %s of chaincode %q: %w", pin.EnclaveID, pin.Chaincode, err)
		}
		id, err := credentials.EnclaveID(pub)
		if err != nil {
			return nil, err
		}
		// mutate:check settle-pin-key
		if id != pin.EnclaveID {
			return nil, fmt.Errorf("the pin of enclave %s of chaincode %q holds the key of enclave %s", pin.EnclaveID, pin.Chaincode, id)
		}
		return pub, nil
	}
	var rec credentials.Record
	if err := ccall.JSON(ctx, &rec, c.g.Config().Chaincodes.Registry, "QueryEnclaveByID", pin.Chaincode, pin.EnclaveID); err != nil {
		return nil, fmt.Errorf("the pinned enclave %s of chaincode %q: %w", pin.EnclaveID, pin.Chaincode, err)
	}
	// mutate:check settle-registry-record
	if rec.Chaincode != pin.Chaincode || rec.EnclaveID != pin.EnclaveID {
		return nil, fmt.Errorf("the registry answered with enclave %q of chaincode %q, not the pinned enclave %s of chaincode %q", rec.EnclaveID, rec.Chaincode, pin.EnclaveID, pin.Chaincode)
	}
	pub, err := rec.VerifyingKey()
	if err != nil {
		return nil, fmt.Errorf("the pinned enclave %s of chaincode %q: %w", pin.EnclaveID, pin.Chaincode, err)
	}
	return pub, nil
}

// SettleVerdict settles one (SLA, period) with the enclave's signed verdict
// (verdict.Signed as JSON). It pays only when every check holds:
//
//   - the period is in escrow and still held (not settled, not claimed
//     after its verdict deadline, not refunded at termination), with the
//     verdict's period end, currency and at most the escrowed fee as
//     credit;
//   - the submitter (who relays the verdict) belongs to the provider's or
//     the client's MSP;
//   - the transaction time is at or after the period's end;
//   - the SLA (the agreement chaincode's GetSettlementView) is ACTIVE or
//     TERMINATED (a terminated SLA's escrowed periods are still settled)
//     with the verdict's digest;
//   - the verdict names the SLA's pinned enclave (chaincode and enclave id)
//     and its signature verifies with that enclave's registered key, which
//     the pin holds (ercc QueryEnclaveByID for a pin without one);
//   - the agreement chaincode holds log batch verdict.batch_seq of the SLA
//     (read by the same GetSettlementView) with CID verdict.batch_cid and a
//     window ending at the period's end.
//
// The credit goes to the client's wallet and the rest of the fee to the
// provider's, each as a new credit key: the settlement reads neither
// wallet's base, so settlements of one provider and one client never
// conflict. The penalty is paid from the SLA's collateral hold (an SLA
// with consequences.collateral_minor) as far as it holds money; for an SLA
// with a collateral wallet but no locked collateral, from that wallet as
// far as its balance allows: the one debit of a settlement (settlements
// that pay a penalty from one collateral wallet or hold at the same moment
// serialise on it). The settlement is recorded once per (SLA, period) in the escrow
// (policy: both parties), with the provider's score entry (created with
// the same policy). Event RefundIssued when the client received money,
// else PeriodSettled.
func (c *Contract) SettleVerdict(ctx contractapi.TransactionContextInterface, signedVerdictJSON string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	signed, err := verdict.ParseSigned([]byte(signedVerdictJSON))
	if err != nil {
		return "", fmt.Errorf("signedVerdictJSON: %w", err)
	}
	v := signed.Verdict
	if err := v.Validate(); err != nil {
		return "", err
	}
	e, k, err := loadEscrow(ctx, "verdict.period", v.SLAID, v.Period)
	if err != nil {
		return "", err
	}
	// mutate:check settle-relayer
	if caller.ID.MSPID != e.Provider.MSPID && caller.ID.MSPID != e.Payer.MSPID {
		return "", fmt.Errorf("verdicts of SLA %q are relayed by members of %s and %s only, not by %s", v.SLAID, e.Provider.MSPID, e.Payer.MSPID, caller.ID)
	}
	held := e.stillHeld()
	// mutate:check settle-replay
	if held != nil {
		return "", fmt.Errorf("verdict.period: %w", held)
	}
	// mutate:check settle-period-end
	if v.PeriodEnd != e.PeriodEnd {
		return "", fmt.Errorf("verdict.period_end: %s is not the end %s of period %s", v.PeriodEnd, e.PeriodEnd, v.Period)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return "", err
	}
	end, err := instant("verdict.period_end", v.PeriodEnd)
	if err != nil {
		return "", err
	}
	// mutate:check settle-period-over
	if now.Before(end) {
		return "", fmt.Errorf("verdict.period_end: period %s of SLA %q ends at %s, after this transaction (%s); a period is settled only once it is over",
			v.Period, v.SLAID, v.PeriodEnd, now.Format(time.RFC3339))
	}
	cfg := c.g.Config()
	// One call reads the SLA and the anchor of the batch the verdict names.
	var view slaView
	if err := ccall.JSON(ctx, &view, cfg.Chaincodes.Agreement, "GetSettlementView", v.SLAID, fmt.Sprint(v.BatchSeq)); err != nil {
		return "", fmt.Errorf("read SLA %q: %w", v.SLAID, err)
	}
	// mutate:check settle-status
	if view.Status != "ACTIVE" && view.Status != "TERMINATED" {
		return "", fmt.Errorf("SLA %q is %s, not ACTIVE or TERMINATED", v.SLAID, view.Status)
	}
	// mutate:check settle-digest
	if view.Digest != v.SLADigest {
		return "", fmt.Errorf("verdict.sla_digest: %s is not the digest of SLA %q (%s)", v.SLADigest, v.SLAID, view.Digest)
	}
	// mutate:check settle-pin-missing
	if view.Enclave == nil {
		return "", fmt.Errorf("SLA %q has no pinned enclave", v.SLAID)
	}
	// mutate:check settle-pin-chaincode
	if v.Chaincode != view.Enclave.Chaincode {
		return "", fmt.Errorf("verdict.chaincode: %q is not the chaincode %q of the enclave pinned by SLA %q", v.Chaincode, view.Enclave.Chaincode, v.SLAID)
	}
	// mutate:check settle-pin-enclave
	if v.EnclaveID != view.Enclave.EnclaveID {
		return "", fmt.Errorf("verdict.enclave_id: %s is not the enclave %s pinned by SLA %q", v.EnclaveID, view.Enclave.EnclaveID, v.SLAID)
	}
	pub, err := c.pinnedKey(ctx, view.Enclave)
	if err != nil {
		return "", err
	}
	bad := verdict.Verify(signed, pub)
	// mutate:check settle-signature
	if bad != nil {
		return "", fmt.Errorf("verdict: %w", bad)
	}
	anchor := view.Batch
	// mutate:check settle-anchor-missing
	if anchor == nil {
		return "", fmt.Errorf("verdict.batch_seq: log batch %d of SLA %q is not anchored", v.BatchSeq, v.SLAID)
	}
	// mutate:check settle-anchor-cid
	if anchor.CID != v.BatchCID {
		return "", fmt.Errorf("verdict.batch_cid: %s is not the CID %s of log batch %d of SLA %q", v.BatchCID, anchor.CID, v.BatchSeq, v.SLAID)
	}
	// mutate:check settle-anchor-end
	if anchor.PeriodEnd != v.PeriodEnd {
		return "", fmt.Errorf("verdict.batch_seq: log batch %d of SLA %q ends at %s, not at the period end %s", v.BatchSeq, v.SLAID, anchor.PeriodEnd, v.PeriodEnd)
	}
	// mutate:check settle-currency
	if v.Currency != e.Currency {
		return "", fmt.Errorf("verdict.currency: %s is not the SLA's currency %s", v.Currency, e.Currency)
	}
	// mutate:check settle-credit-cap
	if v.CreditAmount > e.Amount {
		return "", fmt.Errorf("verdict.credit_amount: %d exceeds the escrowed fee %d", v.CreditAmount, e.Amount)
	}

	b, err := c.newBook(ctx)
	if err != nil {
		return "", err
	}
	ref := v.SLAID + "/" + v.Period
	s := Settlement{
		SLAID: v.SLAID, SLADigest: v.SLADigest, Period: v.Period, PeriodEnd: v.PeriodEnd,
		Provider: e.Provider, Client: e.Payer, ProductID: e.ProductID, Currency: e.Currency,
		Violated: v.Violated, Fee: e.Amount, CreditBPS: v.CreditBPS, Credit: v.CreditAmount,
		Released: e.Amount - v.CreditAmount, PenaltyOwed: v.PenaltyAmount, Terminate: v.Terminate,
		ReportDigest: v.ReportDigest, Chaincode: v.Chaincode, EnclaveID: v.EnclaveID,
		BatchSeq: v.BatchSeq, BatchCID: v.BatchCID, TxID: ctx.GetStub().GetTxID(),
		SettledAt: b.now.Format(time.RFC3339),
	}
	if s.Credit > 0 {
		if err := b.credit(e.Payer.Wallet, e.Payer.MSPID, s.Credit, KindCredit, "escrow", ref); err != nil {
			return "", err
		}
	}
	if s.Released > 0 {
		if err := b.credit(e.Provider.Wallet, e.Provider.MSPID, s.Released, KindRelease, "escrow", ref); err != nil {
			return "", err
		}
	}
	if s.PenaltyOwed > 0 && e.Collateral > 0 {
		// The SLA's collateral hold pays the penalty as far as it holds
		// money (settlements of one SLA that pay a penalty serialise on
		// its hold).
		h, hk, err := loadHold(ctx, v.SLAID)
		if err != nil {
			return "", err
		}
		// mutate:check settle-hold
		if h == nil || h.Status != HoldLocked {
			return "", fmt.Errorf("SLA %q has no locked collateral hold to pay its penalty from", v.SLAID)
		}
		s.PenaltyPaid = min(s.PenaltyOwed, h.Held)
		if s.PenaltyPaid > 0 {
			if err := b.credit(e.Payer.Wallet, e.Payer.MSPID, s.PenaltyPaid, KindCollateralPenalty, "collateral-hold", ref); err != nil {
				return "", err
			}
			h.Held -= s.PenaltyPaid
			h.Drawn += s.PenaltyPaid
			if err := putJSON(ctx, hk, "collateral hold", h); err != nil {
				return "", err
			}
		}
	} else if s.PenaltyOwed > 0 && e.CollateralWallet != "" {
		// The one debit of a settlement: the provider's collateral wallet
		// (settlements that pay no penalty read no wallet).
		col, err := b.base(e.CollateralWallet)
		if err != nil {
			return "", fmt.Errorf("collateral wallet: %w", err)
		}
		have, err := c.funds(ctx, b.now, col, s.PenaltyOwed)
		if err != nil {
			return "", err
		}
		s.PenaltyPaid = min(s.PenaltyOwed, max(have, 0))
		if s.PenaltyPaid > 0 {
			if err := b.debit(e.CollateralWallet, s.PenaltyPaid, KindPenaltyOut, e.Payer.Wallet, ref); err != nil {
				return "", err
			}
			if err := b.credit(e.Payer.Wallet, e.Payer.MSPID, s.PenaltyPaid, KindPenaltyIn, e.CollateralWallet, ref); err != nil {
				return "", err
			}
		}
	}
	s.PenaltyUnpaid = s.PenaltyOwed - s.PenaltyPaid
	if s.Refund, err = add(s.Credit, s.PenaltyPaid); err != nil {
		return "", fmt.Errorf("refund: %w", err)
	}
	if err := b.flush(); err != nil {
		return "", err
	}
	e.Status, e.Held, e.Settlement = EscrowSettled, 0, &s
	if err := putJSON(ctx, k, "escrow", e); err != nil {
		return "", err
	}
	if err := c.putScore(ctx, e, ScoreEntry{SLAID: v.SLAID, Period: v.Period, Violated: v.Violated, Credit: s.Credit, PenaltyPaid: s.PenaltyPaid}, b.now); err != nil {
		return "", err
	}
	name := EventPeriodSettled
	if s.Refund > 0 {
		name = EventRefundIssued
	}
	payload, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode settlement: %w", err)
	}
	if err := ctx.GetStub().SetEvent(name, payload); err != nil {
		return "", fmt.Errorf("set event %s: %w", name, err)
	}
	return string(payload), nil
}

// GetEscrow returns the Escrow of (SLA, period) as JSON; readable by
// members of the payer's and the provider's organizations.
func (c *Contract) GetEscrow(ctx contractapi.TransactionContextInterface, slaID, period string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	e, _, err := loadEscrow(ctx, "period", slaID, period)
	if err != nil {
		return "", err
	}
	// mutate:check escrow-read-org
	if caller.ID.MSPID != e.Payer.MSPID && caller.ID.MSPID != e.Provider.MSPID {
		return "", fmt.Errorf("escrow of SLA %q is readable by %s and %s only, not by %s", slaID, e.Provider.MSPID, e.Payer.MSPID, caller.ID.MSPID)
	}
	return toJSON(e)
}

// Page sizes of the reputation queries (score entries are small).
const (
	DefaultScorePage = 1000
	MaxScorePage     = 10000
)

// score sums one page of the score entries of a provider, of one of its
// products (productID not empty) or of one SLA of that product (slaID not
// empty too): the entries under rep~<provider>[~<product>[~<sla>]].
func score(ctx contractapi.TransactionContextInterface, providerMSP, productID, slaID, size, bookmark string) (*Score, error) {
	if providerMSP == "" {
		return nil, errors.New("providerMSP: must not be empty")
	}
	n, err := pageSize(size, DefaultScorePage, MaxScorePage)
	if err != nil {
		return nil, err
	}
	attrs := []string{providerMSP}
	if productID != "" {
		attrs = append(attrs, productID)
		if slaID != "" {
			attrs = append(attrs, slaID)
		}
	}
	prefix, err := key(ctx, keyRep, attrs...)
	if err != nil {
		return nil, err
	}
	// mutate:check score-bookmark
	if bookmark != "" && !strings.HasPrefix(bookmark, prefix) {
		return nil, fmt.Errorf("bookmark: %q is not a bookmark of the reputation of %s", bookmark, strings.Join(attrs, "/"))
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyRep, attrs, n, bookmark)
	if err != nil {
		return nil, fmt.Errorf("read reputation of %s: %w", providerMSP, err)
	}
	defer it.Close()
	s := &Score{Provider: providerMSP, ProductID: productID, SLAID: slaID, Months: []MonthScore{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read reputation of %s: %w", providerMSP, err)
		}
		var e ScoreEntry
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return nil, fmt.Errorf("decode score entry: %w", err)
		}
		if err := s.AddEntry(e); err != nil {
			return nil, err
		}
	}
	s.Bookmark = meta.GetBookmark()
	return s, nil
}

// MonthScore is a score's share of one calendar month: the periods that
// started in it (UTC).
type MonthScore struct {
	// Month is "YYYY-MM".
	Month string `json:"month"`
	Tally
}

// AddEntry counts one settled (or expired) period's entry in the score
// and in the month its period started.
func (s *Score) AddEntry(e ScoreEntry) error {
	month, t, err := e.tally()
	if err != nil {
		return err
	}
	return s.count(month, t)
}

// tally is what the entry counts, and the month ("YYYY-MM", UTC) its
// period started.
func (e ScoreEntry) tally() (string, Tally, error) {
	start, err := time.Parse(time.RFC3339, e.Period)
	if err != nil {
		return "", Tally{}, fmt.Errorf("score entry of SLA %q: period %q is not an RFC 3339 time", e.SLAID, e.Period)
	}
	t := Tally{NoVerdict: 1}
	if !e.NoVerdict {
		t = Tally{Periods: 1, Credits: e.Credit, Penalties: e.PenaltyPaid}
		if e.Violated {
			t.Violated = 1
		}
	}
	return start.UTC().Format("2006-01"), t, nil
}

// add adds n's counts and recomputes the compliance.
func (t *Tally) add(n Tally) error {
	var err error
	if t.Credits, err = add(t.Credits, n.Credits); err != nil {
		return fmt.Errorf("credits: %w", err)
	}
	if t.Penalties, err = add(t.Penalties, n.Penalties); err != nil {
		return fmt.Errorf("penalties: %w", err)
	}
	t.Periods += n.Periods
	t.Violated += n.Violated
	t.NoVerdict += n.NoVerdict
	t.ComplianceBPS = compliance(t.Periods, t.Violated)
	return nil
}

// count adds t to the score's totals and to month, which is inserted in
// month order when it is new.
func (s *Score) count(month string, t Tally) error {
	if err := s.Tally.add(t); err != nil {
		return fmt.Errorf("score of %s: %w", s.Provider, err)
	}
	i := sortedkey.Slot(&s.Months, month, func(m MonthScore) string { return m.Month }, func(k string) MonthScore { return MonthScore{Month: k} })
	if err := s.Months[i].add(t); err != nil {
		return fmt.Errorf("score of %s in %s: %w", s.Provider, month, err)
	}
	return nil
}

// compliance is (periods - violated) * 10000 / periods, rounded down; 0
// when no period has been evaluated.
func compliance(periods, violated int64) int64 {
	if periods == 0 {
		return 0
	}
	return (periods - violated) * 10000 / periods
}

// Compliance is (Periods - Violated) * 10000 / Periods, rounded down; 0
// when no period has been evaluated.
func (t *Tally) Compliance() int64 { return compliance(t.Periods, t.Violated) }

// Add adds another page of the same score, month by month, and takes its
// bookmark.
func (s *Score) Add(page *Score) error {
	for _, m := range page.Months {
		if err := s.count(m.Month, m.Tally); err != nil {
			return err
		}
	}
	s.Bookmark = page.Bookmark
	return nil
}

// GetReputation returns the Score of a provider organization over all its
// products as JSON, one page of its settled periods at a time (pageSize
// "" or "0" for DefaultScorePage, at most MaxScorePage): when the Score's
// bookmark is not empty, call again with it and add the pages
// (Score.Add). Readable by every member of the channel.
func (c *Contract) GetReputation(ctx contractapi.TransactionContextInterface, providerMSP, size, bookmark string) (string, error) {
	s, err := score(ctx, providerMSP, "", "", size, bookmark)
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// GetProductScore returns the Score of one product of a provider
// organization as JSON, paged as GetReputation. Readable by every member
// of the channel.
func (c *Contract) GetProductScore(ctx contractapi.TransactionContextInterface, providerMSP, productID, size, bookmark string) (string, error) {
	if productID == "" {
		return "", errors.New("productID: must not be empty")
	}
	s, err := score(ctx, providerMSP, productID, "", size, bookmark)
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// slaParties is the part of the agreement chaincode's GetParties answer
// (agreement.PartiesView) that GetSLAScore needs.
type slaParties struct {
	Parties struct {
		Provider sla.Party `json:"provider"`
		Client   sla.Party `json:"client"`
	} `json:"parties"`
}

// GetSLAScore returns the Score of one SLA as JSON: its settled periods,
// the violated ones, and the service credits and penalties its client was
// paid (Credits + Penalties is the credit so far), paged as GetReputation.
// providerMSP and productID are the SLA's provider organization and
// service.product_id, the keys its score entries are stored under (the
// product is in the parties' private copies of the document only, so the
// caller names it; another product gives an empty score). Readable by
// members of the SLA's provider's and client's organizations: the SLA's
// parties are read with the agreement chaincode's GetParties, which
// refuses anybody else, and providerMSP must be its provider's.
func (c *Contract) GetSLAScore(ctx contractapi.TransactionContextInterface, providerMSP, productID, slaID, size, bookmark string) (string, error) {
	switch {
	case providerMSP == "":
		return "", errors.New("providerMSP: must not be empty")
	case productID == "":
		return "", errors.New("productID: must not be empty")
	case slaID == "":
		return "", errors.New("slaID: must not be empty")
	}
	var p slaParties
	if err := ccall.JSON(ctx, &p, c.g.Config().Chaincodes.Agreement, "GetParties", slaID); err != nil {
		return "", fmt.Errorf("read the parties of SLA %q: %w", slaID, err)
	}
	if providerMSP != p.Parties.Provider.MSPID {
		return "", fmt.Errorf("providerMSP: %s is not the provider organization %s of SLA %q", providerMSP, p.Parties.Provider.MSPID, slaID)
	}
	s, err := score(ctx, providerMSP, productID, slaID, size, bookmark)
	if err != nil {
		return "", err
	}
	return toJSON(s)
}
