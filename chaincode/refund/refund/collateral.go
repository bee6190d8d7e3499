package refund

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/sla"
)

// Collateral hold statuses.
const (
	HoldLocked   = "LOCKED"
	HoldReleased = "RELEASED"
)

// keyHold is the object type of a collateral hold: hold~<sla>.
const keyHold = "hold"

// CollateralLock is the argument of LockCollateral (written by the
// agreement chaincode from the SLA document in ProposeSLA): the SLA's
// collateral (consequences.collateral_minor) and the wallet it is locked
// from (consequences.collateral_wallet).
type CollateralLock struct {
	SLAID     string    `json:"sla_id"`
	SLADigest string    `json:"sla_digest"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Wallet    string    `json:"wallet"`
	Provider  sla.Party `json:"provider"`
	Client    sla.Party `json:"client"`
}

// Hold is an SLA's collateral: money out of the provider's collateral
// wallet, locked from the SLA's proposal until ReleaseCollateral, which
// nobody but a settlement touches meanwhile.
type Hold struct {
	CollateralLock
	Status string `json:"status"`
	// Held is the money still in the hold: Amount minus Drawn until
	// released, then 0; Drawn the penalties paid from it to the client;
	// Released what went back to the provider's wallet.
	Held     int64  `json:"held"`
	Drawn    int64  `json:"drawn"`
	Released int64  `json:"released"`
	LockTx   string `json:"lock_tx"`
	LockedAt string `json:"locked_at"`
	// ReleaseTx and ReleasedAt record the release.
	ReleaseTx  string `json:"release_tx,omitempty"`
	ReleasedAt string `json:"released_at,omitempty"`
}

func (l *CollateralLock) validate() error {
	switch {
	case l.SLAID == "":
		return errors.New("lock.sla_id: must not be empty")
	case !digestHex.MatchString(l.SLADigest):
		return fmt.Errorf("lock.sla_digest: %q is not 64 lower-case hex digits", l.SLADigest)
	case l.Amount <= 0:
		return fmt.Errorf("lock.amount: %d is not positive", l.Amount)
	case !currencyCode.MatchString(l.Currency):
		return fmt.Errorf("lock.currency: %q is not an ISO 4217 code", l.Currency)
	case l.Wallet == "":
		return errors.New("lock.wallet: must not be empty")
	case l.Provider.ID().Validate("lock.provider") != nil:
		return l.Provider.ID().Validate("lock.provider")
	case l.Client.ID().Validate("lock.client") != nil:
		return l.Client.ID().Validate("lock.client")
	}
	return nil
}

func holdKey(ctx contractapi.TransactionContextInterface, slaID string) (string, error) {
	return key(ctx, keyHold, slaID)
}

// loadHold reads the hold of an SLA; nil when there is none.
func loadHold(ctx contractapi.TransactionContextInterface, slaID string) (*Hold, string, error) {
	k, err := holdKey(ctx, slaID)
	if err != nil {
		return nil, "", err
	}
	var h Hold
	ok, err := getJSON(ctx, k, "collateral hold", &h)
	if err != nil || !ok {
		return nil, k, err
	}
	return &h, k, nil
}

// LockCollateral moves an SLA's collateral from the provider's collateral
// wallet into the SLA's collateral hold (lockJSON: CollateralLock). It
// accepts only calls made inside a transaction of the configured agreement
// chaincode (its ProposeSLA), submitted by the provider (MSP ID,
// certificate subject and issuer), who must own the wallet; an SLA's
// collateral is locked once. The wallet must cover the amount, else the
// whole proposal fails with the wallet's balance named. The hold key is
// created with the policy "peers of the provider's and the client's
// organizations"; the amount is a debit of the wallet (kind
// collateral_lock).
func (c *Contract) LockCollateral(ctx contractapi.TransactionContextInterface, lockJSON string) error {
	agreementCC := c.g.Config().Chaincodes.Agreement
	via, err := proposalChaincode(ctx)
	if err != nil {
		return err
	}
	// mutate:check lock-via-agreement
	if via != agreementCC {
		return fmt.Errorf("LockCollateral may be called only by the %s chaincode, not in a transaction of %q", agreementCC, via)
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	var l CollateralLock
	if err := strictjson.Unmarshal([]byte(lockJSON), &l); err != nil {
		return fmt.Errorf("lockJSON: %w", err)
	}
	if err := l.validate(); err != nil {
		return err
	}
	// mutate:check lock-provider
	if caller.ID != l.Provider.ID() {
		return fmt.Errorf("the submitter %s is not the provider %s: only the provider locks its collateral", caller.ID, l.Provider.ID())
	}
	existing, k, err := loadHold(ctx, l.SLAID)
	if err != nil {
		return err
	}
	// mutate:check lock-replay
	if existing != nil {
		return fmt.Errorf("the collateral of SLA %q is already locked (tx %s)", l.SLAID, existing.LockTx)
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	if err := ownedBy(b, "collateral", l.Wallet, caller.ID); err != nil {
		return err
	}
	w, err := b.base(l.Wallet)
	if err != nil {
		return err
	}
	have, err := c.funds(ctx, b.now, w, l.Amount)
	if err != nil {
		return err
	}
	// mutate:check lock-funds
	if have < l.Amount {
		return fmt.Errorf("consequences.collateral_minor: the collateral wallet %q holds %d, less than the collateral %d %s of SLA %q", l.Wallet, max(have, 0), l.Amount, l.Currency, l.SLAID)
	}
	if err := b.debit(l.Wallet, l.Amount, KindCollateralLock, "collateral-hold", l.SLAID+"/"); err != nil {
		return err
	}
	if err := b.flush(); err != nil {
		return err
	}
	policy, err := ccpolicy.AllOf(l.Provider.MSPID, l.Client.MSPID)
	if err != nil {
		return fmt.Errorf("collateral hold policy: %w", err)
	}
	h := Hold{CollateralLock: l, Status: HoldLocked, Held: l.Amount, LockTx: b.txID, LockedAt: b.now.Format(time.RFC3339)}
	return putWithPolicy(ctx, k, "collateral hold", h, policy)
}

// checkHold checks, for a deposit of an SLA with collateral, that the
// SLA's hold is locked with the deposit's amount, digest and parties: no
// period of such an SLA is paid into escrow before the provider's
// collateral is locked.
func checkHold(ctx contractapi.TransactionContextInterface, d *Deposit) error {
	h, _, err := loadHold(ctx, d.SLAID)
	if err != nil {
		return err
	}
	// mutate:check deposit-hold-exists
	if h == nil {
		return fmt.Errorf("SLA %q names a collateral of %d but its provider has not locked it (no collateral hold)", d.SLAID, d.Collateral)
	}
	// mutate:check deposit-hold-terms
	if h.Status != HoldLocked || h.SLADigest != d.SLADigest || h.Amount != d.Collateral || h.Provider.ID() != d.Provider.ID() || h.Client.ID() != d.Payer.ID() {
		return fmt.Errorf("the collateral hold of SLA %q (%s, digest %s, %d) is not the locked collateral %d of this SLA's digest %s and parties", d.SLAID, h.Status, h.SLADigest, h.Amount, d.Collateral, d.SLADigest)
	}
	return nil
}

// GetCollateral returns the Hold of an SLA as JSON; readable by members of
// the provider's and the client's organizations.
func (c *Contract) GetCollateral(ctx contractapi.TransactionContextInterface, slaID string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	h, _, err := loadHold(ctx, slaID)
	if err != nil {
		return "", err
	}
	if h == nil {
		return "", fmt.Errorf("SLA %q has no collateral hold", slaID)
	}
	// mutate:check hold-read-org
	if caller.ID.MSPID != h.Provider.MSPID && caller.ID.MSPID != h.Client.MSPID {
		return "", fmt.Errorf("the collateral of SLA %q is readable by %s and %s only, not by %s", slaID, h.Provider.MSPID, h.Client.MSPID, caller.ID.MSPID)
	}
	return toJSON(h)
}

// ReleaseCollateral returns what is left in an SLA's collateral hold to
// the provider's collateral wallet (kind collateral_release). Members of
// the provider's or the client's organization may call it, and only once
// the SLA is over (the agreement chaincode's GetSettlementView, read in
// this transaction):
//
//   - WITHDRAWN (never accepted): at once;
//   - TERMINATED: once the transaction time is at or after its ends_at;
//   - ACTIVE: once the transaction time is at or after its validity end;
//
// and, for a terminated or ended SLA, only when none of its paid periods
// is still in escrow (each is settled, expired or refunded): a penalty of
// a period not settled yet can still be drawn. The hold is released once.
// Returns the Hold as JSON.
func (c *Contract) ReleaseCollateral(ctx contractapi.TransactionContextInterface, slaID string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	h, k, err := loadHold(ctx, slaID)
	if err != nil {
		return "", err
	}
	if h == nil {
		return "", fmt.Errorf("SLA %q has no collateral hold", slaID)
	}
	// mutate:check release-caller
	if caller.ID.MSPID != h.Provider.MSPID && caller.ID.MSPID != h.Client.MSPID {
		return "", fmt.Errorf("the collateral of SLA %q is released by members of %s and %s only, not by %s", slaID, h.Provider.MSPID, h.Client.MSPID, caller.ID)
	}
	// mutate:check release-replay
	if h.Status != HoldLocked {
		return "", fmt.Errorf("the collateral of SLA %q is already released (tx %s)", slaID, h.ReleaseTx)
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return "", err
	}
	var view slaView
	if err := ccall.JSON(ctx, &view, c.g.Config().Chaincodes.Agreement, "GetSettlementView", slaID, "1"); err != nil {
		return "", fmt.Errorf("read SLA %q: %w", slaID, err)
	}
	if err := c.over(ctx, &view, b.now); err != nil {
		return "", err
	}
	if h.Held > 0 {
		if err := b.credit(h.Wallet, h.Provider.MSPID, h.Held, KindCollateralRelease, "collateral-hold", slaID+"/"); err != nil {
			return "", err
		}
	}
	h.Released, h.Held, h.Status = h.Held, 0, HoldReleased
	h.ReleaseTx, h.ReleasedAt = b.txID, b.now.Format(time.RFC3339)
	if err := putJSON(ctx, k, "collateral hold", h); err != nil {
		return "", err
	}
	payload, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode collateral hold: %w", err)
	}
	if err := ctx.GetStub().SetEvent(EventCollateralReleased, payload); err != nil {
		return "", fmt.Errorf("set event %s: %w", EventCollateralReleased, err)
	}
	return string(payload), nil
}

// over fails unless the SLA of view is over at now and none of its paid
// periods is still held in escrow (see ReleaseCollateral).
func (c *Contract) over(ctx contractapi.TransactionContextInterface, view *slaView, now time.Time) error {
	var end string
	switch view.Status {
	case "WITHDRAWN":
		return nil
	case "TERMINATED":
		end = view.EndsAt
	case "ACTIVE":
		end = view.ValidityEnd
	}
	// mutate:check release-status
	if end == "" {
		return fmt.Errorf("SLA %q is %s: its collateral is released once it has ended, was terminated or was withdrawn", view.ID, view.Status)
	}
	t, err := time.Parse(time.RFC3339, end)
	if err != nil {
		return fmt.Errorf("SLA %q: end %q: %w", view.ID, end, err)
	}
	// mutate:check release-ended
	if now.Before(t) {
		return fmt.Errorf("SLA %q is %s until %s, after this transaction (%s): its collateral still covers its penalties", view.ID, view.Status, end, now.Format(time.RFC3339))
	}
	it, err := ctx.GetStub().GetStateByPartialCompositeKey(keyEscrow, []string{view.ID})
	if err != nil {
		return fmt.Errorf("read the escrow of SLA %q: %w", view.ID, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return fmt.Errorf("read the escrow of SLA %q: %w", view.ID, err)
		}
		var e Escrow
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return fmt.Errorf("decode escrow: %w", err)
		}
		// mutate:check release-periods-settled
		if e.SLAID == view.ID && e.Status == EscrowHeld {
			return fmt.Errorf("period %s of SLA %q is still in escrow (not settled, expired or refunded): its penalty may still be drawn from the collateral", e.Period, view.ID)
		}
	}
	return nil
}
