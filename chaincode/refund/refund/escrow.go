package refund

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/verdict"
)

// PartyWallet is an SLA party with its wallet.
type PartyWallet struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
	Wallet     string `json:"wallet,omitempty"`
}

func (p PartyWallet) party() Party { return Party{MSPID: p.MSPID, CommonName: p.CommonName} }

// Deposit is the argument of DepositEscrow (written by the agreement
// chaincode).
type Deposit struct {
	SLAID            string      `json:"sla_id"`
	Period           string      `json:"period"`
	PeriodEnd        string      `json:"period_end"`
	Amount           int64       `json:"amount"`
	Currency         string      `json:"currency"`
	Payer            PartyWallet `json:"payer"`
	Provider         PartyWallet `json:"provider"`
	CollateralWallet string      `json:"collateral_wallet,omitempty"`
	ProductID        string      `json:"product_id"`
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
}

// Settlement is the outcome of SettleVerdict for one (SLA, period); it is
// also the payload of the RefundIssued and PeriodSettled events.
type Settlement struct {
	SLAID     string `json:"sla_id"`
	SLADigest string `json:"sla_digest"`
	Period    string `json:"period"`
	PeriodEnd string `json:"period_end"`
	Provider  Party  `json:"provider"`
	Client    Party  `json:"client"`
	ProductID string `json:"product_id"`
	Currency  string `json:"currency"`
	Violated  bool   `json:"violated"`
	Fee       int64  `json:"fee"`
	CreditBPS int64  `json:"credit_bps"`
	// Credit went from escrow to the client's wallet, Released from escrow
	// to the provider's wallet (Credit + Released = Fee).
	Credit   int64 `json:"credit"`
	Released int64 `json:"released"`
	// PenaltyOwed is the verdict's penalty; PenaltyPaid what the
	// collateral wallet paid to the client; PenaltyUnpaid the rest (no
	// collateral wallet, or not enough in it).
	PenaltyOwed   int64  `json:"penalty_owed"`
	PenaltyPaid   int64  `json:"penalty_paid"`
	PenaltyUnpaid int64  `json:"penalty_unpaid"`
	Refund        int64  `json:"refund"` // Credit + PenaltyPaid: what the client received
	Terminate     bool   `json:"terminate"`
	ReportDigest  string `json:"report_digest"`
	EnclaveID     string `json:"enclave_id"`
	TxID          string `json:"tx_id"`
	SettledAt     string `json:"settled_at"`
}

// ScoreEntry is the contribution of one settled period to the reputation.
type ScoreEntry struct {
	SLAID       string `json:"sla_id"`
	Period      string `json:"period"`
	Violated    bool   `json:"violated"`
	Credit      int64  `json:"credit"`
	PenaltyPaid int64  `json:"penalty_paid"`
}

// Score is a provider's (or one of its products') reputation.
type Score struct {
	Provider  string `json:"provider_msp_id"`
	ProductID string `json:"product_id,omitempty"`
	// Periods evaluated (settled), of which Violated missed an objective.
	Periods  int64 `json:"periods"`
	Violated int64 `json:"violated"`
	// Credits and Penalties paid in minor units.
	Credits   int64 `json:"credits"`
	Penalties int64 `json:"penalties"`
	// ComplianceBPS is (Periods - Violated) * 10000 / Periods, rounded
	// down; 0 when no period has been evaluated (look at Periods).
	ComplianceBPS int64 `json:"compliance_bps"`
}

// slaView is the part of the agreement chaincode's GetSLA answer that
// settlement needs.
type slaView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Digest string `json:"digest"`
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

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
	case d.Payer.MSPID == "" || d.Payer.CommonName == "" || d.Payer.Wallet == "":
		return errors.New("deposit.payer: msp_id, common_name and wallet must be set")
	case d.Provider.MSPID == "" || d.Provider.CommonName == "" || d.Provider.Wallet == "":
		return errors.New("deposit.provider: msp_id, common_name and wallet must be set")
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
	return nil
}

func escrowKey(ctx contractapi.TransactionContextInterface, slaID, period string) (string, error) {
	return key(ctx, keyEscrow, slaID, period)
}

// ownedBy checks that wallet id exists in b and is owned by p.
func ownedBy(b *book, role, id string, p Party) error {
	a, err := b.account(id)
	if err != nil {
		return fmt.Errorf("%s wallet: %w", role, err)
	}
	if a.Owner != p {
		return fmt.Errorf("%s wallet %q is owned by %s, not by the %s %s", role, id, a.Owner, role, p)
	}
	return nil
}

// DepositEscrow moves one period's fee from the client's wallet into escrow
// for (SLA, period). It accepts only calls made inside a transaction of the
// configured agreement chaincode (the proposal's chaincode), submitted by
// the payer, who must own the paying wallet; the provider's wallet and the
// collateral wallet (if any) must exist and be owned by the provider. A
// period is paid once.
func (c *Contract) DepositEscrow(ctx contractapi.TransactionContextInterface, depositJSON string) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	via, err := proposalChaincode(ctx)
	if err != nil {
		return err
	}
	if via != cfg.AgreementChaincode {
		return fmt.Errorf("DepositEscrow may be called only by the %s chaincode, not in a transaction of %q", cfg.AgreementChaincode, via)
	}
	var d Deposit
	if err := strictjson.Unmarshal([]byte(depositJSON), &d); err != nil {
		return fmt.Errorf("depositJSON: %w", err)
	}
	if err := d.validate(); err != nil {
		return err
	}
	me, _, err := caller(ctx)
	if err != nil {
		return err
	}
	if me != d.Payer.party() {
		return fmt.Errorf("the submitter %s is not the payer %s", me, d.Payer.party())
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
	if ok {
		return fmt.Errorf("period %s of SLA %q is already paid into escrow (tx %s)", d.Period, d.SLAID, existing.DepositTx)
	}
	b, err := newBook(ctx)
	if err != nil {
		return err
	}
	if err := ownedBy(b, "payer", d.Payer.Wallet, me); err != nil {
		return err
	}
	if err := ownedBy(b, "provider", d.Provider.Wallet, d.Provider.party()); err != nil {
		return err
	}
	if d.CollateralWallet != "" {
		if err := ownedBy(b, "collateral", d.CollateralWallet, d.Provider.party()); err != nil {
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
	e := Escrow{Deposit: d, Status: EscrowHeld, Held: d.Amount, DepositTx: ctx.GetStub().GetTxID(), DepositAt: b.now.Format(time.RFC3339)}
	return putJSON(ctx, k, "escrow", e)
}

// enclaveKey asks the enclave registry for the enclave of the configured
// enclave chaincode and returns its verifying key.
func (c *Contract) enclaveKey(ctx contractapi.TransactionContextInterface, enclaveChaincode string) (*ecdsa.PublicKey, *credentials.Record, error) {
	resp := ctx.GetStub().InvokeChaincode(c.registryName(), [][]byte{[]byte("QueryEnclave"), []byte(enclaveChaincode)}, "")
	if resp == nil || resp.GetStatus() != 200 {
		return nil, nil, fmt.Errorf("no enclave registered for chaincode %q in %s: %s", enclaveChaincode, c.registryName(), resp.GetMessage())
	}
	var reg credentials.Record
	if err := json.Unmarshal(resp.GetPayload(), &reg); err != nil {
		return nil, nil, fmt.Errorf("decode enclave registration of %q: %w", enclaveChaincode, err)
	}
	if reg.Chaincode != enclaveChaincode {
		return nil, nil, fmt.Errorf("enclave registration names chaincode %q, not %q", reg.Chaincode, enclaveChaincode)
	}
	pub, err := reg.VerifyingKey()
	if err != nil {
		return nil, nil, fmt.Errorf("enclave registration of %q: %w", enclaveChaincode, err)
	}
	return pub, &reg, nil
}

// querySLA asks the agreement chaincode for the SLA's status and digest.
func querySLA(ctx contractapi.TransactionContextInterface, agreementChaincode, id string) (*slaView, error) {
	resp := ctx.GetStub().InvokeChaincode(agreementChaincode, [][]byte{[]byte("GetSLA"), []byte(id)}, "")
	if resp == nil || resp.GetStatus() != 200 {
		return nil, fmt.Errorf("query SLA %q in %s: %s", id, agreementChaincode, resp.GetMessage())
	}
	var v slaView
	if err := json.Unmarshal(resp.GetPayload(), &v); err != nil {
		return nil, fmt.Errorf("decode SLA %q from %s: %w", id, agreementChaincode, err)
	}
	return &v, nil
}

// SettleVerdict settles one (SLA, period) with the enclave's signed verdict
// (verdict.Signed as JSON). The verdict must be signed by the enclave that
// the registry holds for the configured enclave chaincode and name that
// chaincode; the submitter (who relays the verdict) must belong to the
// provider's or the client's organization; the SLA must be ACTIVE or
// TERMINATED (a terminated SLA's escrowed periods are still settled) with
// the verdict's digest; the period
// must be in escrow and not yet settled, with the verdict's period end and
// currency. The credit (at most the fee) goes to the client's wallet and
// the rest of the fee to the provider's; the penalty is paid from the
// collateral wallet as far as its balance allows. The settlement is
// recorded once per (SLA, period), with the provider's score entry. Event
// RefundIssued when the client received money, else PeriodSettled.
func (c *Contract) SettleVerdict(ctx contractapi.TransactionContextInterface, signedVerdictJSON string) (string, error) {
	cfg, err := loadConfig(ctx)
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
	if v.Chaincode != cfg.EnclaveChaincode {
		return "", fmt.Errorf("verdict.chaincode: %q is not the trusted enclave chaincode %q", v.Chaincode, cfg.EnclaveChaincode)
	}
	pub, _, err := c.enclaveKey(ctx, cfg.EnclaveChaincode)
	if err != nil {
		return "", err
	}
	if err := verdict.Verify(signed, pub); err != nil {
		return "", fmt.Errorf("verdict: %w", err)
	}
	k, err := escrowKey(ctx, v.SLAID, v.Period)
	if err != nil {
		return "", err
	}
	var e Escrow
	ok, err := getJSON(ctx, k, "escrow", &e)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("verdict.period: no escrow for period %s of SLA %q", v.Period, v.SLAID)
	}
	me, _, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if me.MSPID != e.Provider.MSPID && me.MSPID != e.Payer.MSPID {
		return "", fmt.Errorf("verdicts of SLA %q are relayed by members of %s and %s only, not by %s", v.SLAID, e.Provider.MSPID, e.Payer.MSPID, me)
	}
	if e.Status == EscrowSettled {
		return "", fmt.Errorf("verdict.period: period %s of SLA %q is already settled (tx %s)", v.Period, v.SLAID, e.Settlement.TxID)
	}
	if v.PeriodEnd != e.PeriodEnd {
		return "", fmt.Errorf("verdict.period_end: %s is not the end %s of period %s", v.PeriodEnd, e.PeriodEnd, v.Period)
	}
	if v.Currency != e.Currency {
		return "", fmt.Errorf("verdict.currency: %s is not the SLA's currency %s", v.Currency, e.Currency)
	}
	if v.CreditAmount > e.Amount {
		return "", fmt.Errorf("verdict.credit_amount: %d exceeds the escrowed fee %d", v.CreditAmount, e.Amount)
	}
	view, err := querySLA(ctx, cfg.AgreementChaincode, v.SLAID)
	if err != nil {
		return "", err
	}
	if view.Status != "ACTIVE" && view.Status != "TERMINATED" {
		return "", fmt.Errorf("SLA %q is %s, not ACTIVE", v.SLAID, view.Status)
	}
	if view.Digest != v.SLADigest {
		return "", fmt.Errorf("verdict.sla_digest: %s is not the digest of SLA %q (%s)", v.SLADigest, v.SLAID, view.Digest)
	}

	b, err := newBook(ctx)
	if err != nil {
		return "", err
	}
	ref := v.SLAID + "/" + v.Period
	s := Settlement{
		SLAID: v.SLAID, SLADigest: v.SLADigest, Period: v.Period, PeriodEnd: v.PeriodEnd,
		Provider: e.Provider.party(), Client: e.Payer.party(), ProductID: e.ProductID, Currency: e.Currency,
		Violated: v.Violated, Fee: e.Amount, CreditBPS: v.CreditBPS, Credit: v.CreditAmount,
		Released: e.Amount - v.CreditAmount, PenaltyOwed: v.PenaltyAmount, Terminate: v.Terminate,
		ReportDigest: v.ReportDigest, EnclaveID: v.EnclaveID, TxID: ctx.GetStub().GetTxID(),
		SettledAt: b.now.Format(time.RFC3339),
	}
	if s.Credit > 0 {
		if err := b.credit(e.Payer.Wallet, s.Credit, KindCredit, "escrow", ref); err != nil {
			return "", err
		}
	}
	if s.Released > 0 {
		if err := b.credit(e.Provider.Wallet, s.Released, KindRelease, "escrow", ref); err != nil {
			return "", err
		}
	}
	if s.PenaltyOwed > 0 && e.CollateralWallet != "" {
		col, err := b.account(e.CollateralWallet)
		if err != nil {
			return "", fmt.Errorf("collateral wallet: %w", err)
		}
		s.PenaltyPaid = min(s.PenaltyOwed, col.Balance)
		if s.PenaltyPaid > 0 {
			if err := b.debit(e.CollateralWallet, s.PenaltyPaid, KindPenaltyOut, e.Payer.Wallet, ref); err != nil {
				return "", err
			}
			if err := b.credit(e.Payer.Wallet, s.PenaltyPaid, KindPenaltyIn, e.CollateralWallet, ref); err != nil {
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
	rk, err := key(ctx, keyRep, e.Provider.MSPID, e.ProductID, v.SLAID, v.Period)
	if err != nil {
		return "", err
	}
	if err := putJSON(ctx, rk, "score entry", ScoreEntry{SLAID: v.SLAID, Period: v.Period, Violated: v.Violated, Credit: s.Credit, PenaltyPaid: s.PenaltyPaid}); err != nil {
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
	me, _, err := caller(ctx)
	if err != nil {
		return "", err
	}
	k, err := escrowKey(ctx, slaID, period)
	if err != nil {
		return "", err
	}
	var e Escrow
	ok, err := getJSON(ctx, k, "escrow", &e)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("no escrow for period %s of SLA %q", period, slaID)
	}
	if me.MSPID != e.Payer.MSPID && me.MSPID != e.Provider.MSPID {
		return "", fmt.Errorf("escrow of SLA %q is readable by %s and %s only, not by %s", slaID, e.Provider.MSPID, e.Payer.MSPID, me.MSPID)
	}
	return toJSON(e)
}

func score(ctx contractapi.TransactionContextInterface, providerMSP, productID string) (*Score, error) {
	if providerMSP == "" {
		return nil, errors.New("providerMSP: must not be empty")
	}
	attrs := []string{providerMSP}
	if productID != "" {
		attrs = append(attrs, productID)
	}
	it, err := ctx.GetStub().GetStateByPartialCompositeKey(keyRep, attrs)
	if err != nil {
		return nil, fmt.Errorf("read reputation of %s: %w", providerMSP, err)
	}
	defer it.Close()
	s := &Score{Provider: providerMSP, ProductID: productID}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read reputation of %s: %w", providerMSP, err)
		}
		var e ScoreEntry
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return nil, fmt.Errorf("decode score entry: %w", err)
		}
		s.Periods++
		if e.Violated {
			s.Violated++
		}
		if s.Credits, err = add(s.Credits, e.Credit); err != nil {
			return nil, fmt.Errorf("credits of %s: %w", providerMSP, err)
		}
		if s.Penalties, err = add(s.Penalties, e.PenaltyPaid); err != nil {
			return nil, fmt.Errorf("penalties of %s: %w", providerMSP, err)
		}
	}
	if s.Periods > 0 {
		s.ComplianceBPS = (s.Periods - s.Violated) * 10000 / s.Periods
	}
	return s, nil
}

// GetReputation returns the Score of a provider organization over all its
// products as JSON. Readable by every member of the channel.
func (c *Contract) GetReputation(ctx contractapi.TransactionContextInterface, providerMSP string) (string, error) {
	s, err := score(ctx, providerMSP, "")
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// GetProductScore returns the Score of one product of a provider
// organization as JSON. Readable by every member of the channel.
func (c *Contract) GetProductScore(ctx contractapi.TransactionContextInterface, providerMSP, productID string) (string, error) {
	if productID == "" {
		return "", errors.New("productID: must not be empty")
	}
	s, err := score(ctx, providerMSP, productID)
	if err != nil {
		return "", err
	}
	return toJSON(s)
}
