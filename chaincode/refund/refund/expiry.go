package refund

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/sla"
)

// Expiry is the outcome of ClaimExpiredEscrow for one (SLA, period): the
// escrow's verdict did not come by its deadline, and the fee went as the
// SLA's escrow_expiry says. It is also the payload of the EscrowExpired
// event.
type Expiry struct {
	SLAID     string    `json:"sla_id"`
	Period    string    `json:"period"`
	PeriodEnd string    `json:"period_end"`
	Provider  sla.Party `json:"provider"`
	Client    sla.Party `json:"client"`
	ProductID string    `json:"product_id"`
	Currency  string    `json:"currency"`
	Fee       int64     `json:"fee"`
	// Outcome is the SLA's escrow_expiry.outcome; ClientBPS the client's
	// share in basis points (10000 for refund_client, 0 for
	// release_provider); ToClient and ToProvider what each received
	// (ToClient + ToProvider = Fee).
	Outcome    string `json:"outcome"`
	ClientBPS  int64  `json:"client_bps"`
	ToClient   int64  `json:"to_client"`
	ToProvider int64  `json:"to_provider"`
	Deadline   string `json:"deadline"`
	// ClaimedBy is the identity that claimed (a member of either party's
	// organization).
	ClaimedBy string `json:"claimed_by"`
	TxID      string `json:"tx_id"`
	ClaimedAt string `json:"claimed_at"`
}

// Refunded is the outcome of RefundUnstarted: a paid period that had not
// started when its SLA was terminated, its fee back to the client.
type Refunded struct {
	Amount     int64  `json:"amount"`
	TxID       string `json:"tx_id"`
	RefundedAt string `json:"refunded_at"`
}

// clientShare returns the client's basis points of an expired escrow.
func clientShare(x *sla.EscrowExpiry) int64 {
	switch x.Outcome {
	case sla.ExpiryRefundClient:
		return 10000
	case sla.ExpirySplit:
		return x.ClientBPS
	}
	return 0
}

// ClaimExpiredEscrow pays out the escrow of (SLA, period) whose verdict
// did not come by its deadline (the period's end plus the SLA's
// escrow_expiry.verdict_within_seconds, fixed when the period was paid),
// as escrow_expiry.outcome says: the whole fee to the client, the whole fee
// to the provider, or client_bps of it (rounded down) to the client and the
// rest to the provider. Members of the provider's and the client's
// organizations may claim, only while the escrow is held (a settled
// period is not claimed, a claimed one is not settled: SettleVerdict
// refuses it, and a claim and a settlement in one block conflict on the
// escrow key) and only when the transaction time is at or after the
// deadline. The transaction time is the client's, within the allowed skew
// of every endorsing peer's clock (the guard), and both parties' peers
// endorse the escrow's change: a claim comes at most the skew before the
// deadline. The period counts as "no verdict" in the provider's
// reputation. Event EscrowExpired with the Expiry.
func (c *Contract) ClaimExpiredEscrow(ctx contractapi.TransactionContextInterface, slaID, period string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	e, k, err := loadEscrow(ctx, "period", slaID, period)
	if err != nil {
		return "", err
	}
	// mutate:check claim-caller
	if caller.ID.MSPID != e.Provider.MSPID && caller.ID.MSPID != e.Payer.MSPID {
		return "", fmt.Errorf("the escrow of SLA %q is claimed by members of %s and %s only, not by %s", slaID, e.Provider.MSPID, e.Payer.MSPID, caller.ID)
	}
	if err := e.stillHeld(); err != nil {
		return "", err
	}
	// mutate:check claim-no-expiry
	if e.Expiry == nil || e.VerdictDeadline == "" {
		return "", fmt.Errorf("SLA %q has no consequences.escrow_expiry: the escrow of period %s waits for its verdict", slaID, period)
	}
	deadline, err := instant("escrow.verdict_deadline", e.VerdictDeadline)
	if err != nil {
		return "", err
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return "", err
	}
	// mutate:check claim-deadline
	if b.now.Before(deadline) {
		return "", fmt.Errorf("period %s of SLA %q may get its verdict until %s, after this transaction (%s)", period, slaID, e.VerdictDeadline, b.now.Format(time.RFC3339))
	}
	x := Expiry{
		SLAID: slaID, Period: period, PeriodEnd: e.PeriodEnd, Provider: e.Provider, Client: e.Payer,
		ProductID: e.ProductID, Currency: e.Currency, Fee: e.Amount, Outcome: e.Expiry.Outcome,
		ClientBPS: clientShare(e.Expiry), Deadline: e.VerdictDeadline, ClaimedBy: caller.ID.String(),
		TxID: b.txID, ClaimedAt: b.now.Format(time.RFC3339),
	}
	x.ToClient, err = bps(e.Amount, x.ClientBPS)
	if err != nil {
		return "", err
	}
	x.ToProvider = e.Amount - x.ToClient
	ref := slaID + "/" + period
	if x.ToClient > 0 {
		if err := b.credit(e.Payer.Wallet, e.Payer.MSPID, x.ToClient, KindExpiryRefund, "escrow", ref); err != nil {
			return "", err
		}
	}
	if x.ToProvider > 0 {
		if err := b.credit(e.Provider.Wallet, e.Provider.MSPID, x.ToProvider, KindExpiryRelease, "escrow", ref); err != nil {
			return "", err
		}
	}
	e.Status, e.Held, e.Expired = EscrowExpired, 0, &x
	if err := putJSON(ctx, k, "escrow", e); err != nil {
		return "", err
	}
	if err := c.putScore(ctx, e, ScoreEntry{SLAID: slaID, Period: period, NoVerdict: true}, b.now); err != nil {
		return "", err
	}
	payload, err := json.Marshal(x)
	if err != nil {
		return "", fmt.Errorf("encode expiry: %w", err)
	}
	if err := ctx.GetStub().SetEvent(EventEscrowExpired, payload); err != nil {
		return "", fmt.Errorf("set event %s: %w", EventEscrowExpired, err)
	}
	return string(payload), nil
}

// bps returns amount * points / 10000 rounded down, for 0 <= points <=
// 10000, without overflow.
func bps(amount, points int64) (int64, error) {
	if points < 0 || points > 10000 {
		return 0, fmt.Errorf("basis points %d outside 0..10000", points)
	}
	return amount/10000*points + amount%10000*points/10000, nil
}

// stillHeld fails with the reason when the escrow is no longer held: the
// period was settled, its expired escrow claimed, or it was refunded at
// termination.
func (e *Escrow) stillHeld() error {
	switch e.Status {
	case EscrowHeld:
		return nil
	case EscrowSettled:
		return fmt.Errorf("period %s of SLA %q is already settled (tx %s)", e.Period, e.SLAID, e.Settlement.TxID)
	case EscrowExpired:
		return fmt.Errorf("period %s of SLA %q expired without a verdict and was claimed (tx %s); it is not settled again", e.Period, e.SLAID, e.Expired.TxID)
	case EscrowRefunded:
		return fmt.Errorf("period %s of SLA %q was refunded to the client when the SLA was terminated before it started (tx %s)", e.Period, e.SLAID, e.Refunded.TxID)
	}
	return fmt.Errorf("period %s of SLA %q has escrow status %q", e.Period, e.SLAID, e.Status)
}

// putScore creates the provider's score entry of the escrow's period and
// its twin in the provider's reputation time index (putScoreIndex), both
// with the policy of both parties.
func (c *Contract) putScore(ctx contractapi.TransactionContextInterface, e *Escrow, entry ScoreEntry, now time.Time) error {
	rk, err := key(ctx, keyRep, e.Provider.MSPID, e.ProductID, e.SLAID, e.Period)
	if err != nil {
		return err
	}
	repPolicy, err := ccpolicy.AllOf(e.Provider.MSPID, e.Payer.MSPID)
	if err != nil {
		return fmt.Errorf("score entry policy: %w", err)
	}
	if err := putWithPolicy(ctx, rk, "score entry", entry, repPolicy); err != nil {
		return err
	}
	return c.putScoreIndex(ctx, e, entry, now, repPolicy)
}

// RefundUnstarted returns the escrowed fee of a period that has not
// started to the client (kind termination_refund): the agreement
// chaincode's TerminateSLA calls it for the paid period that lies after the
// termination. It accepts only calls made inside a transaction of the
// configured agreement chaincode, submitted by the SLA's provider or client
// (MSP ID, certificate subject and issuer), for a held escrow whose period
// starts after the transaction time (a terminating party shifts it by at
// most the allowed skew, which both parties' endorsing peers guard).
func (c *Contract) RefundUnstarted(ctx contractapi.TransactionContextInterface, slaID, period string) error {
	agreementCC := c.g.Config().Chaincodes.Agreement
	via, err := proposalChaincode(ctx)
	if err != nil {
		return err
	}
	// mutate:check refund-via-agreement
	if via != agreementCC {
		return fmt.Errorf("RefundUnstarted may be called only by the %s chaincode, not in a transaction of %q", agreementCC, via)
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	e, k, err := loadEscrow(ctx, "period", slaID, period)
	if err != nil {
		return err
	}
	// mutate:check refund-caller
	if caller.ID != e.Payer.ID() && caller.ID != e.Provider.ID() {
		return fmt.Errorf("the submitter %s is neither the provider nor the client of SLA %q", caller.ID, slaID)
	}
	if err := e.stillHeld(); err != nil {
		return err
	}
	start, err := instant("period", e.Period)
	if err != nil {
		return err
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	// mutate:check refund-not-started
	if !b.now.Before(start) {
		return fmt.Errorf("period %s of SLA %q has started (transaction time %s): it is judged when it ends, not refunded", period, slaID, b.now.Format(time.RFC3339))
	}
	if err := b.credit(e.Payer.Wallet, e.Payer.MSPID, e.Amount, KindTerminationRefund, "escrow", slaID+"/"+period); err != nil {
		return err
	}
	e.Status, e.Held = EscrowRefunded, 0
	e.Refunded = &Refunded{Amount: e.Amount, TxID: b.txID, RefundedAt: b.now.Format(time.RFC3339)}
	return putJSON(ctx, k, "escrow", e)
}
