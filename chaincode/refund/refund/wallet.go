package refund

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/strictjson"
)

// walletBase is the value of a wallet's base key.
type walletBase struct {
	ID string `json:"id"`
	// Owner is the identity that opened the wallet.
	Owner identity.ID `json:"owner"`
	// Base is the sum of the wallet's debits and of the credits compacted
	// into it; negative while pending credits cover the debits.
	Base int64 `json:"base"`
}

// Account is a wallet as OpenAccount and BalanceOf show it.
type Account struct {
	ID string `json:"id"`
	// Owner is the identity that opened the wallet.
	Owner identity.ID `json:"owner"`
	// Base is the balance on the wallet's base key: every debit and every
	// credit compacted into it (negative while pending credits cover the
	// debits).
	Base int64 `json:"base"`
	// Pending is the sum of the PendingCredits credits not compacted yet.
	Pending        int64 `json:"pending"`
	PendingCredits int64 `json:"pending_credits"`
	// Balance is Base + Pending: what the owner may spend.
	Balance int64 `json:"balance"`
}

// Credit is the value of a credit key: money into a wallet, written once
// by the crediting transaction and moved into the wallet's history by
// Compact.
type Credit struct {
	Wallet string `json:"wallet"`
	Amount int64  `json:"amount"`
	Kind   string `json:"kind"`
	// Counterparty is the paying wallet, "escrow", or for a mint the
	// issuer admin's identity.
	Counterparty string `json:"counterparty,omitempty"`
	Reference    string `json:"reference,omitempty"`
	TxID         string `json:"tx_id"`
	Timestamp    string `json:"timestamp"`
}

// Entry kinds of a wallet's history.
const (
	KindMint        = "mint"
	KindTransferIn  = "transfer_in"
	KindTransferOut = "transfer_out"
	KindEscrow      = "escrow_deposit"
	KindRelease     = "escrow_release"
	KindCredit      = "service_credit"
	KindPenaltyOut  = "penalty_paid"
	KindPenaltyIn   = "penalty_received"
	// KindCollateralLock is the collateral leaving the provider's
	// collateral wallet into the SLA's hold, KindCollateralRelease what is
	// left of it coming back; KindCollateralPenalty a penalty the client
	// received from the hold.
	KindCollateralLock    = "collateral_lock"
	KindCollateralRelease = "collateral_release"
	KindCollateralPenalty = "collateral_penalty"
	// KindExpiryRefund and KindExpiryRelease are the client's and the
	// provider's shares of an expired escrow; KindTerminationRefund the fee
	// of a period that had not started when the SLA was terminated.
	KindExpiryRefund      = "expiry_refund"
	KindExpiryRelease     = "expiry_release"
	KindTerminationRefund = "termination_refund"
)

const (
	// entryIndexDigits is the width of the index of the credit and history
	// keys of one transaction (a transaction writes at most four: a
	// settlement's two credits, a penalty's debit and credit; Compact
	// reuses the credits' names).
	entryIndexDigits = 3
	// MaxCompact is the number of credits one Compact folds at most.
	MaxCompact = 500
)

// Entry is one change of a wallet's balance: a debit, a credit compacted
// into the base, or (Pending) a credit not compacted yet.
type Entry struct {
	TxID      string `json:"tx_id"`
	Timestamp string `json:"timestamp"`
	Kind      string `json:"kind"`
	// Amount is the change: positive for money in, negative for money out.
	Amount       int64  `json:"amount"`
	Counterparty string `json:"counterparty,omitempty"`
	Reference    string `json:"reference,omitempty"`
	// Pending is true for a credit not compacted into the base yet;
	// CompactedTx names the Compact transaction of a compacted one.
	Pending     bool   `json:"pending,omitempty"`
	CompactedTx string `json:"compacted_tx,omitempty"`
}

// HistoryPage is one page of History.
type HistoryPage struct {
	Wallet  string  `json:"wallet"`
	Entries []Entry `json:"entries"`
	// Bookmark continues the history on the next page; "" at its end.
	Bookmark string `json:"bookmark"`
}

// CompactResult is the outcome of Compact.
type CompactResult struct {
	Wallet string `json:"wallet"`
	// Compacted credits and their Amount moved into the base; Base is the
	// base afterwards.
	Compacted int64 `json:"compacted"`
	Amount    int64 `json:"amount"`
	Base      int64 `json:"base"`
	// More is true when older credits remain (MaxCompact per transaction):
	// call Compact again.
	More bool `json:"more"`
	// Skipped are keys in the wallet's credit range that are not valid
	// credits of the wallet (not counted, left alone).
	Skipped int64 `json:"skipped"`
}

// Simple keys of credits and history entries: <kind>/<wallet>/<timestamp,
// 20-digit nanoseconds>/<tx id>/<index>. Wallet ids hold no '/', so a
// wallet's keys are one range, in time order, and a range can end at a
// time (GetStateByRange takes simple keys only).
const (
	creditPrefix = "delta/"
	entryPrefix  = "entry/"
)

func tsKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

func walletRange(prefix, wallet string) (string, string) {
	return prefix + wallet + "/", prefix + wallet + "0" // '0' follows '/'
}

func itemKey(prefix, wallet, ts, txID string, n int) string {
	return fmt.Sprintf("%s%s/%s/%s/%0*d", prefix, wallet, ts, txID, entryIndexDigits, n)
}

// splitItemKey returns the wallet, timestamp, tx id and index of a credit
// or entry key.
func splitItemKey(prefix, k string) (wallet, ts, txID, n string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(k, prefix), "/")
	if !strings.HasPrefix(k, prefix) || len(parts) != 4 {
		return "", "", "", "", false
	}
	return parts[0], parts[1], parts[2], parts[3], true
}

// walletPolicy is the key-level policy of a wallet's base, credit and
// history keys: a peer of the owner's organization and a peer of one other
// organization of the deploy configuration.
func (c *Contract) walletPolicy(ownerMSP string) ([]byte, error) {
	p, err := ccpolicy.OwnerAndOneOf(ownerMSP, c.g.Config().Orgs)
	if err != nil {
		return nil, fmt.Errorf("wallet policy of %s: %w", ownerMSP, err)
	}
	return p, nil
}

// putWithPolicy creates key with value v and its key-level policy, set
// once, here, at the key's creation.
func putWithPolicy(ctx contractapi.TransactionContextInterface, k, what string, v any, policy []byte) error {
	if err := putJSON(ctx, k, what, v); err != nil {
		return err
	}
	if err := ctx.GetStub().SetStateValidationParameter(k, policy); err != nil {
		return fmt.Errorf("set the policy of %s: %w", what, err)
	}
	return nil
}

// book applies the balance changes of one transaction. Fabric does not let
// a transaction read its own writes, so every base is read once, changed
// in memory and written once by flush; credits are new keys written at
// once (blind writes, no read).
type book struct {
	c     *Contract
	ctx   contractapi.TransactionContextInterface
	now   time.Time
	txID  string
	bases map[string]*walletBase
	dirty map[string]bool
	// n numbers the credit and history keys of the transaction.
	n       int
	entries []bookEntry
}

type bookEntry struct {
	wallet string
	n      int
	Entry
}

// newBook starts the book of a transaction at its timestamp (skew-checked).
func (c *Contract) newBook(ctx contractapi.TransactionContextInterface) (*book, error) {
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return nil, err
	}
	return &book{c: c, ctx: ctx, now: now, txID: ctx.GetStub().GetTxID(), bases: map[string]*walletBase{}, dirty: map[string]bool{}}, nil
}

// base returns wallet id's base (read once), failing when it does not
// exist.
func (b *book) base(id string) (*walletBase, error) {
	if a, ok := b.bases[id]; ok {
		return a, nil
	}
	k, err := key(b.ctx, keyAccount, id)
	if err != nil {
		return nil, err
	}
	var a walletBase
	ok, err := getJSON(b.ctx, k, fmt.Sprintf("wallet %q", id), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("wallet %q does not exist", id)
	}
	b.bases[id] = &a
	return &a, nil
}

func (b *book) next() int {
	b.n++
	return b.n - 1
}

// credit creates a credit key of amount (> 0) for wallet, owned by an
// identity of ownerMSP. It reads nothing: concurrent credits of one wallet
// never conflict.
func (b *book) credit(wallet, ownerMSP string, amount int64, kind, counterparty, reference string) error {
	if amount <= 0 {
		return fmt.Errorf("amount: %d is not positive", amount)
	}
	policy, err := b.c.walletPolicy(ownerMSP)
	if err != nil {
		return err
	}
	n := b.next()
	cr := Credit{Wallet: wallet, Amount: amount, Kind: kind, Counterparty: counterparty, Reference: reference,
		TxID: b.txID, Timestamp: b.now.Format(time.RFC3339Nano)}
	return putWithPolicy(b.ctx, itemKey(creditPrefix, wallet, tsKey(b.now), b.txID, n), fmt.Sprintf("credit of wallet %q", wallet), cr, policy)
}

// debit takes amount (> 0) from wallet id's base, failing when the
// wallet's balance (base and credits) is insufficient.
func (b *book) debit(id string, amount int64, kind, counterparty, reference string) error {
	a, err := b.base(id)
	if err != nil {
		return err
	}
	if amount <= 0 {
		return fmt.Errorf("amount: %d is not positive", amount)
	}
	have, err := b.c.funds(b.ctx, b.now, a, amount)
	if err != nil {
		return err
	}
	// mutate:check money-balance
	if have < amount {
		return fmt.Errorf("wallet %q: insufficient balance %d for %d", id, have, amount)
	}
	a.Base -= amount
	b.dirty[id] = true
	n := b.next()
	b.entries = append(b.entries, bookEntry{wallet: id, n: n, Entry: Entry{
		TxID: b.txID, Timestamp: b.now.Format(time.RFC3339Nano), Kind: kind, Amount: -amount, Counterparty: counterparty, Reference: reference,
	}})
	return nil
}

// flush writes the debited bases (their policies stay) and the new history
// entries (with the wallet's policy).
func (b *book) flush() error {
	ids := make([]string, 0, len(b.dirty))
	for id := range b.dirty {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k, err := key(b.ctx, keyAccount, id)
		if err != nil {
			return err
		}
		if err := putJSON(b.ctx, k, fmt.Sprintf("wallet %q", id), b.bases[id]); err != nil {
			return err
		}
	}
	for _, e := range b.entries {
		policy, err := b.c.walletPolicy(b.bases[e.wallet].Owner.MSPID)
		if err != nil {
			return err
		}
		k := itemKey(entryPrefix, e.wallet, tsKey(b.now), e.TxID, e.n)
		if err := putWithPolicy(b.ctx, k, fmt.Sprintf("history of wallet %q", e.wallet), e.Entry, policy); err != nil {
			return err
		}
	}
	return nil
}

// ---- reading credits ----

// credits iterates over the valid credits of wallet a in [start, end) in
// key (time) order, calling f with each key and credit until f returns
// false; it returns the number of keys in the range that are not valid
// credits of the wallet (skipped: not counted).
//
// A credit counts when its key names the wallet, its value decodes with a
// positive amount, the wallet and the key's transaction, its key-level
// policy is a wallet policy (ccpolicy.OwnerAndOneOf) of the owner's
// organization with at least one other organization of the deploy
// configuration, and no history entry of the same name exists (a credit
// Compact moved into the history and somebody wrote again after the
// delete). Anything else in the range was not written by this chaincode:
// two organizations that satisfy the chaincode policy can create any new
// key (see the package documentation).
func (c *Contract) credits(ctx contractapi.TransactionContextInterface, a *walletBase, start, end string, f func(k string, cr *Credit) (bool, error)) (skipped int64, err error) {
	it, err := ctx.GetStub().GetStateByRange(start, end)
	if err != nil {
		return 0, fmt.Errorf("credits of wallet %q: %w", a.ID, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return 0, fmt.Errorf("credits of wallet %q: %w", a.ID, err)
		}
		cr, err := c.validCredit(ctx, a, kv.Key, kv.Value)
		if err != nil {
			return 0, err
		}
		if cr == nil {
			skipped++
			continue
		}
		more, err := f(kv.Key, cr)
		if err != nil || !more {
			return skipped, err
		}
	}
	return skipped, nil
}

// validCredit returns the credit under k, or nil when it is not a valid
// credit of wallet a (see credits).
func (c *Contract) validCredit(ctx contractapi.TransactionContextInterface, a *walletBase, k string, value []byte) (*Credit, error) {
	wallet, ts, txID, n, ok := splitItemKey(creditPrefix, k)
	// mutate:check credit-key
	if !ok || wallet != a.ID {
		return nil, nil
	}
	var cr Credit
	if err := strictjson.Unmarshal(value, &cr); err != nil {
		return nil, nil
	}
	// mutate:check credit-amount
	if cr.Amount <= 0 {
		return nil, nil
	}
	// mutate:check credit-names
	if cr.Wallet != a.ID || cr.TxID != txID {
		return nil, nil
	}
	policy, err := ctx.GetStub().GetStateValidationParameter(k)
	if err != nil {
		return nil, fmt.Errorf("read the policy of credit %q: %w", k, err)
	}
	owner, others, err := ccpolicy.Owner(policy)
	// mutate:check credit-policy
	if err != nil || owner != a.Owner.MSPID {
		return nil, nil
	}
	// The owner and an organization of the configuration (which runs a
	// peer) can delete it: Compact is never blocked by a credit whose policy
	// names only organizations without a peer.
	// mutate:check credit-policy-peers
	if !intersects(others, c.g.Config().Orgs) {
		return nil, nil
	}
	folded, err := ctx.GetStub().GetState(entryPrefix + a.ID + "/" + ts + "/" + txID + "/" + n)
	if err != nil {
		return nil, fmt.Errorf("read the history of wallet %q: %w", a.ID, err)
	}
	// mutate:check credit-compacted
	if folded != nil {
		return nil, nil
	}
	return &cr, nil
}

// compactBefore is the time before which credits are compacted, and
// before which a debit reads credits first: no transaction that commits
// later can carry an older timestamp than this, so the range of older
// credits is closed and reading it never meets a phantom conflict. A
// transaction's timestamp is within the allowed skew of its endorsing
// peers' clocks (the guard), and those are within the skew of now.
func (c *Contract) compactBefore(now time.Time) time.Time { return now.Add(-2 * c.g.MaxSkew()) }

// funds returns wallet a's balance as far as needed to cover amount: its
// base (as changed by this transaction) plus its credits, the older ones
// (before compactBefore) first and the newer ones only when those do not
// suffice; the whole balance when it is insufficient.
func (c *Contract) funds(ctx contractapi.TransactionContextInterface, now time.Time, a *walletBase, amount int64) (int64, error) {
	have := a.Base
	enough := false
	add := func(_ string, cr *Credit) (bool, error) {
		if have > maxInt64-cr.Amount {
			return false, fmt.Errorf("wallet %q: balance overflow", a.ID)
		}
		have += cr.Amount
		enough = have >= amount
		return !enough, nil
	}
	if have >= amount {
		return have, nil
	}
	start, end := walletRange(creditPrefix, a.ID)
	cut := creditPrefix + a.ID + "/" + tsKey(c.compactBefore(now))
	if _, err := c.credits(ctx, a, start, cut, add); err != nil || enough {
		return have, err
	}
	_, err := c.credits(ctx, a, cut, end, add)
	return have, err
}

// account returns the Account of a wallet: its base and every pending
// credit (a query).
func (c *Contract) account(ctx contractapi.TransactionContextInterface, a *walletBase) (*Account, error) {
	out := &Account{ID: a.ID, Owner: a.Owner, Base: a.Base}
	start, end := walletRange(creditPrefix, a.ID)
	_, err := c.credits(ctx, a, start, end, func(_ string, cr *Credit) (bool, error) {
		if out.Pending > maxInt64-cr.Amount {
			return false, fmt.Errorf("wallet %q: balance overflow", a.ID)
		}
		out.Pending += cr.Amount
		out.PendingCredits++
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if a.Base > 0 && out.Pending > maxInt64-a.Base {
		return nil, fmt.Errorf("wallet %q: balance overflow", a.ID)
	}
	out.Balance = a.Base + out.Pending
	return out, nil
}

// ---- functions ----

// OpenAccount creates the wallet id (1..64 of letters, digits, '.', '_',
// '-', starting with a letter or digit) owned by the submitter's identity
// (MSP ID, certificate subject and issuer), with balance 0. The owner's
// organization must be one of the deploy configuration's (it runs a peer:
// nobody else may endorse the wallet's debits). The wallet's base key gets
// its policy: the owner's organization and one other organization of the
// configuration. Returns the Account as JSON.
func (c *Contract) OpenAccount(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	if !accountID.MatchString(id) {
		return "", fmt.Errorf("id: %q is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)", id)
	}
	orgs := c.g.Config().Orgs
	// mutate:check open-org
	if !contains(orgs, caller.ID.MSPID) {
		return "", fmt.Errorf("a wallet's owner must belong to an organization of the deploy configuration (%s), whose peer endorses the wallet's debits; %s does not", strings.Join(orgs, ", "), caller.ID.MSPID)
	}
	k, err := key(ctx, keyAccount, id)
	if err != nil {
		return "", err
	}
	var existing walletBase
	ok, err := getJSON(ctx, k, fmt.Sprintf("wallet %q", id), &existing)
	if err != nil {
		return "", err
	}
	// mutate:check open-exists
	if ok {
		return "", fmt.Errorf("wallet %q already exists", id)
	}
	policy, err := c.walletPolicy(caller.ID.MSPID)
	if err != nil {
		return "", err
	}
	a := walletBase{ID: id, Owner: caller.ID}
	if err := putWithPolicy(ctx, k, fmt.Sprintf("wallet %q", id), a, policy); err != nil {
		return "", err
	}
	return toJSON(Account{ID: id, Owner: caller.ID})
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Supply is the money an issuer MSP created: the sum of its mints.
type Supply struct {
	IssuerMSPID string `json:"issuer_msp_id"`
	Minted      int64  `json:"minted"`
	// TxID and UpdatedAt are those of the last Mint.
	TxID      string `json:"tx_id"`
	UpdatedAt string `json:"updated_at"`
}

// Mint creates amount (positive minor units) in wallet account as a new
// credit and adds it to the issuer's supply key. Only an admin (NodeOU
// role admin) of the configured issuer MSP may mint. The supply key of the
// issuer MSP is created by its first Mint with the policy "a peer of the
// issuer's organization", which every later Mint must meet.
func (c *Contract) Mint(ctx contractapi.TransactionContextInterface, account, amount string) error {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	issuer := c.g.Config().IssuerMSPID
	notAdmin := caller.RequireAdmin(issuer)
	// mutate:check mint-admin
	if notAdmin != nil {
		return fmt.Errorf("only an admin of the issuer %s may mint: %w", issuer, notAdmin)
	}
	n, err := parseAmount("amount", amount)
	if err != nil {
		return err
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	a, err := b.base(account)
	if err != nil {
		return err
	}
	sk, err := key(ctx, keySupply, issuer)
	if err != nil {
		return err
	}
	want, err := ccpolicy.AllOf(issuer)
	if err != nil {
		return err
	}
	var s Supply
	exists, err := getJSON(ctx, sk, "supply", &s)
	if err != nil {
		return err
	}
	if exists {
		have, err := ctx.GetStub().GetStateValidationParameter(sk)
		if err != nil {
			return fmt.Errorf("read the policy of the supply of %s: %w", issuer, err)
		}
		// mutate:check mint-supply-policy
		if string(have) != string(want) {
			return fmt.Errorf("the supply key of %s does not carry the policy of the issuer's organization: it was not created by this chaincode; the organizations must investigate (see its creating transaction)", issuer)
		}
	}
	s.IssuerMSPID = issuer
	if s.Minted, err = add(s.Minted, n); err != nil {
		return fmt.Errorf("supply of %s: %w", issuer, err)
	}
	s.TxID, s.UpdatedAt = b.txID, b.now.Format(time.RFC3339Nano)
	if exists {
		err = putJSON(ctx, sk, "supply", s)
	} else {
		err = putWithPolicy(ctx, sk, "supply", s, want)
	}
	if err != nil {
		return err
	}
	return b.credit(account, a.Owner.MSPID, n, KindMint, caller.ID.String(), "")
}

// GetSupply returns the Supply of every issuer MSP that minted, as a JSON
// list sorted by MSP ID. Readable by every member of the channel.
func (c *Contract) GetSupply(ctx contractapi.TransactionContextInterface) (string, error) {
	it, err := ctx.GetStub().GetStateByPartialCompositeKey(keySupply, nil)
	if err != nil {
		return "", fmt.Errorf("read supply: %w", err)
	}
	defer it.Close()
	out := []Supply{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read supply: %w", err)
		}
		var s Supply
		if err := json.Unmarshal(kv.Value, &s); err != nil {
			return "", fmt.Errorf("decode supply: %w", err)
		}
		out = append(out, s)
	}
	return toJSON(out)
}

// Transfer moves amount (positive minor units) from wallet from, which the
// submitter must own (MSP ID, certificate subject and issuer), to the
// existing wallet to: a debit of from's base and a new credit of to.
func (c *Contract) Transfer(ctx contractapi.TransactionContextInterface, from, to, amount string) error {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	n, err := parseAmount("amount", amount)
	if err != nil {
		return err
	}
	if from == to {
		return fmt.Errorf("to: %q is the paying wallet itself", to)
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	src, err := b.base(from)
	if err != nil {
		return err
	}
	// mutate:check transfer-owner
	if src.Owner != caller.ID {
		return fmt.Errorf("wallet %q is owned by %s, not by the submitter %s", from, src.Owner, caller.ID)
	}
	dst, err := b.base(to)
	if err != nil {
		return err
	}
	if err := b.debit(from, n, KindTransferOut, to, ""); err != nil {
		return err
	}
	if err := b.credit(to, dst.Owner.MSPID, n, KindTransferIn, from, ""); err != nil {
		return err
	}
	return b.flush()
}

// Compact moves the wallet's credits older than twice the allowed clock
// skew (at most MaxCompact of them) into its base: each credit key is
// deleted and a history entry of the same name created. Only the wallet's
// owner (MSP ID, certificate subject and issuer) may compact. Credits that
// are not valid credits of the wallet are left alone and not counted.
// Returns the CompactResult as JSON.
func (c *Contract) Compact(ctx contractapi.TransactionContextInterface, wallet string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return "", err
	}
	a, err := b.base(wallet)
	if err != nil {
		return "", err
	}
	// mutate:check compact-owner
	if a.Owner != caller.ID {
		return "", fmt.Errorf("wallet %q is owned by %s, not by the submitter %s", wallet, a.Owner, caller.ID)
	}
	policy, err := c.walletPolicy(a.Owner.MSPID)
	if err != nil {
		return "", err
	}
	res := CompactResult{Wallet: wallet}
	start, _ := walletRange(creditPrefix, wallet)
	cut := creditPrefix + wallet + "/" + tsKey(c.compactBefore(b.now))
	res.Skipped, err = c.credits(ctx, a, start, cut, func(k string, cr *Credit) (bool, error) {
		if res.Compacted == MaxCompact {
			res.More = true
			return false, nil
		}
		if a.Base > 0 && cr.Amount > maxInt64-a.Base {
			return false, fmt.Errorf("wallet %q: balance overflow", wallet)
		}
		a.Base += cr.Amount
		res.Amount += cr.Amount
		res.Compacted++
		e := Entry{TxID: cr.TxID, Timestamp: cr.Timestamp, Kind: cr.Kind, Amount: cr.Amount, Counterparty: cr.Counterparty,
			Reference: cr.Reference, CompactedTx: b.txID}
		if err := putWithPolicy(ctx, entryPrefix+strings.TrimPrefix(k, creditPrefix), fmt.Sprintf("history of wallet %q", wallet), e, policy); err != nil {
			return false, err
		}
		if err := ctx.GetStub().DelState(k); err != nil {
			return false, fmt.Errorf("delete credit %q: %w", k, err)
		}
		return true, nil
	})
	if err != nil {
		return "", err
	}
	res.Base = a.Base
	if res.Compacted > 0 {
		b.dirty[wallet] = true
		if err := b.flush(); err != nil {
			return "", err
		}
	}
	return toJSON(res)
}

// viewable loads a wallet the submitter may read: its owner's, or any for
// an admin of the issuer MSP.
func (c *Contract) viewable(ctx contractapi.TransactionContextInterface, id string) (*walletBase, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := key(ctx, keyAccount, id)
	if err != nil {
		return nil, err
	}
	var a walletBase
	ok, err := getJSON(ctx, k, fmt.Sprintf("wallet %q", id), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("wallet %q does not exist", id)
	}
	issuer := c.g.Config().IssuerMSPID
	// mutate:check view-owner-or-issuer
	if a.Owner != caller.ID && caller.RequireAdmin(issuer) != nil {
		return nil, fmt.Errorf("wallet %q is readable by its owner %s or an admin of the issuer %s only, not by %s", id, a.Owner, issuer, caller.ID)
	}
	return &a, nil
}

// BalanceOf returns the Account (base, pending credits and balance) as
// JSON; readable by its owner and the issuer MSP's admins.
func (c *Contract) BalanceOf(ctx contractapi.TransactionContextInterface, account string) (string, error) {
	a, err := c.viewable(ctx, account)
	if err != nil {
		return "", err
	}
	out, err := c.account(ctx, a)
	if err != nil {
		return "", err
	}
	return toJSON(out)
}

// Page sizes of the paged queries.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// pageSize parses a page size: "" or "0" for the default, at most max.
func pageSize(text string, def, max int32) (int32, error) {
	if text == "" || text == "0" {
		return def, nil
	}
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n < 0 || n > int64(max) {
		return 0, fmt.Errorf("pageSize: %q is not a page size (0 for %d, at most %d)", text, def, max)
	}
	return int32(n), nil
}

// History returns one page (pageSize entries, "" or "0" for
// DefaultPageSize, at most MaxPageSize) of a wallet's history as a
// HistoryPage: first its debits and compacted credits, then its pending
// credits, each oldest first; bookmark "" starts at the beginning, else it
// is the previous page's bookmark. Readable by its owner and the issuer
// MSP's admins.
func (c *Contract) History(ctx contractapi.TransactionContextInterface, account, size, bookmark string) (string, error) {
	return c.history(ctx, account, nil, size, bookmark)
}

// HistoryFrom is History of the entries and pending credits whose
// transaction time is at or after from (RFC 3339): a statement of a month
// reads the month and what followed it, not the wallet's whole past.
// Readable by its owner and the issuer MSP's admins.
func (c *Contract) HistoryFrom(ctx contractapi.TransactionContextInterface, account, from, size, bookmark string) (string, error) {
	return c.history(ctx, account, &from, size, bookmark)
}

// history is History from a time (from nil: from the beginning); from is
// checked after the caller.
func (c *Contract) history(ctx contractapi.TransactionContextInterface, account string, from *string, size, bookmark string) (string, error) {
	a, err := c.viewable(ctx, account)
	if err != nil {
		return "", err
	}
	n, err := pageSize(size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return "", err
	}
	start := ""
	if from != nil {
		t, err := time.Parse(time.RFC3339Nano, *from)
		if err != nil {
			return "", fmt.Errorf("from: %q is not an RFC 3339 time", *from)
		}
		if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, math.MaxInt64)) {
			return "", fmt.Errorf("from: %q is outside the times a wallet key holds (1970 to 2262)", *from)
		}
		start = tsKey(t)
	}
	eStart, eEnd := walletRange(entryPrefix, account)
	cStart, cEnd := walletRange(creditPrefix, account)
	eStart, cStart = eStart+start, cStart+start
	// mutate:check history-bookmark
	if bookmark != "" && !(bookmark >= eStart && bookmark < eEnd) && !(bookmark >= cStart && bookmark < cEnd) {
		return "", fmt.Errorf("bookmark: %q is not a bookmark of the history of wallet %q", bookmark, account)
	}
	page := HistoryPage{Wallet: account, Entries: []Entry{}}
	stub := ctx.GetStub()
	if bookmark == "" || bookmark >= eStart && bookmark < eEnd {
		it, meta, err := stub.GetStateByRangeWithPagination(eStart, eEnd, n, bookmark)
		if err != nil {
			return "", fmt.Errorf("history of wallet %q: %w", account, err)
		}
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				it.Close()
				return "", fmt.Errorf("history of wallet %q: %w", account, err)
			}
			var e Entry
			if err := strictjson.Unmarshal(kv.Value, &e); err != nil {
				it.Close()
				return "", fmt.Errorf("history of wallet %q: decode entry %q: %w", account, kv.Key, err)
			}
			page.Entries = append(page.Entries, e)
		}
		it.Close()
		if meta.GetBookmark() != "" {
			page.Bookmark = meta.GetBookmark()
			return toJSON(page)
		}
		bookmark = ""
	}
	left := n - int32(len(page.Entries))
	if left == 0 {
		page.Bookmark = cStart
		return toJSON(page)
	}
	it, meta, err := stub.GetStateByRangeWithPagination(cStart, cEnd, left, bookmark)
	if err != nil {
		return "", fmt.Errorf("pending credits of wallet %q: %w", account, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("pending credits of wallet %q: %w", account, err)
		}
		cr, err := c.validCredit(ctx, a, kv.Key, kv.Value)
		if err != nil {
			return "", err
		}
		if cr == nil {
			continue
		}
		page.Entries = append(page.Entries, Entry{TxID: cr.TxID, Timestamp: cr.Timestamp, Kind: cr.Kind, Amount: cr.Amount,
			Counterparty: cr.Counterparty, Reference: cr.Reference, Pending: true})
	}
	page.Bookmark = meta.GetBookmark()
	return toJSON(page)
}
