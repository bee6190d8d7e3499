package refund

import (
	"fmt"
	"sort"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/strictjson"
)

// book applies the balance changes of one transaction. Fabric does not let
// a transaction read its own writes, so every account is read once, changed
// in memory, and written once by flush (in sorted order).
type book struct {
	ctx      contractapi.TransactionContextInterface
	now      time.Time
	accounts map[string]*Account
	entries  []bookEntry
}

type bookEntry struct {
	account string
	Entry
}

// newBook starts the book of a transaction at its timestamp (skew-checked).
func (c *Contract) newBook(ctx contractapi.TransactionContextInterface) (*book, error) {
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return nil, err
	}
	return &book{ctx: ctx, now: now, accounts: map[string]*Account{}}, nil
}

// account returns the account id, failing when it does not exist.
func (b *book) account(id string) (*Account, error) {
	if a, ok := b.accounts[id]; ok {
		return a, nil
	}
	k, err := key(b.ctx, keyAccount, id)
	if err != nil {
		return nil, err
	}
	var a Account
	ok, err := getJSON(b.ctx, k, fmt.Sprintf("wallet %q", id), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("wallet %q does not exist", id)
	}
	b.accounts[id] = &a
	return &a, nil
}

func (b *book) record(id string, kind string, amount int64, counterparty, reference string) {
	b.entries = append(b.entries, bookEntry{account: id, Entry: Entry{
		TxID: b.ctx.GetStub().GetTxID(), Timestamp: b.now.Format(time.RFC3339Nano), Kind: kind,
		Amount: amount, Balance: b.accounts[id].Balance, Counterparty: counterparty, Reference: reference,
	}})
}

// credit adds amount (> 0) to wallet id.
func (b *book) credit(id string, amount int64, kind, counterparty, reference string) error {
	a, err := b.account(id)
	if err != nil {
		return err
	}
	if amount <= 0 {
		return fmt.Errorf("amount: %d is not positive", amount)
	}
	nb, err := add(a.Balance, amount)
	if err != nil {
		return fmt.Errorf("wallet %q: %w", id, err)
	}
	a.Balance = nb
	b.record(id, kind, amount, counterparty, reference)
	return nil
}

// debit takes amount (> 0) from wallet id, failing when the balance is
// insufficient.
func (b *book) debit(id string, amount int64, kind, counterparty, reference string) error {
	a, err := b.account(id)
	if err != nil {
		return err
	}
	if amount <= 0 {
		return fmt.Errorf("amount: %d is not positive", amount)
	}
	// mutate:check money-balance
	if a.Balance < amount {
		return fmt.Errorf("wallet %q: insufficient balance %d for %d", id, a.Balance, amount)
	}
	a.Balance -= amount
	b.record(id, kind, -amount, counterparty, reference)
	return nil
}

// flush writes the changed accounts and their history entries.
func (b *book) flush() error {
	ids := make([]string, 0, len(b.accounts))
	for id := range b.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	changed := map[string]bool{}
	for _, e := range b.entries {
		changed[e.account] = true
	}
	for _, id := range ids {
		if !changed[id] {
			continue
		}
		k, err := key(b.ctx, keyAccount, id)
		if err != nil {
			return err
		}
		if err := putJSON(b.ctx, k, fmt.Sprintf("wallet %q", id), b.accounts[id]); err != nil {
			return err
		}
	}
	if len(b.entries) > maxEntriesPerTx {
		return fmt.Errorf("too many wallet entries in one transaction (%d)", len(b.entries))
	}
	for i, e := range b.entries {
		k, err := key(b.ctx, keyEntry, e.account, fmt.Sprintf("%020d", b.now.UnixNano()), e.TxID, fmt.Sprintf("%0*d", entryIndexDigits, i))
		if err != nil {
			return err
		}
		if err := putJSON(b.ctx, k, fmt.Sprintf("history of wallet %q", e.account), e.Entry); err != nil {
			return err
		}
	}
	return nil
}

// OpenAccount creates the wallet id (1..64 of letters, digits, '.', '_',
// '-', starting with a letter or digit) owned by the submitter's identity
// (MSP ID, certificate subject and issuer), with balance 0. Returns the
// Account as JSON.
func (c *Contract) OpenAccount(ctx contractapi.TransactionContextInterface, id string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	if !accountID.MatchString(id) {
		return "", fmt.Errorf("id: %q is not a wallet id (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)", id)
	}
	k, err := key(ctx, keyAccount, id)
	if err != nil {
		return "", err
	}
	var existing Account
	ok, err := getJSON(ctx, k, fmt.Sprintf("wallet %q", id), &existing)
	if err != nil {
		return "", err
	}
	// mutate:check open-exists
	if ok {
		return "", fmt.Errorf("wallet %q already exists", id)
	}
	a := Account{ID: id, Owner: caller.ID, Balance: 0}
	if err := putJSON(ctx, k, fmt.Sprintf("wallet %q", id), a); err != nil {
		return "", err
	}
	return toJSON(a)
}

// Mint creates amount (positive minor units) in wallet account. Only an
// admin (NodeOU role admin) of the configured issuer MSP may mint.
func (c *Contract) Mint(ctx contractapi.TransactionContextInterface, account, amount string) error {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	notAdmin := caller.RequireAdmin(c.g.Config().IssuerMSPID)
	// mutate:check mint-admin
	if notAdmin != nil {
		return fmt.Errorf("only an admin of the issuer %s may mint: %w", c.g.Config().IssuerMSPID, notAdmin)
	}
	n, err := parseAmount("amount", amount)
	if err != nil {
		return err
	}
	b, err := c.newBook(ctx)
	if err != nil {
		return err
	}
	if err := b.credit(account, n, KindMint, caller.ID.String(), ""); err != nil {
		return err
	}
	return b.flush()
}

// Transfer moves amount (positive minor units) from wallet from, which the
// submitter must own (MSP ID, certificate subject and issuer), to the
// existing wallet to.
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
	src, err := b.account(from)
	if err != nil {
		return err
	}
	// mutate:check transfer-owner
	if src.Owner != caller.ID {
		return fmt.Errorf("wallet %q is owned by %s, not by the submitter %s", from, src.Owner, caller.ID)
	}
	if _, err := b.account(to); err != nil {
		return err
	}
	if err := b.debit(from, n, KindTransferOut, to, ""); err != nil {
		return err
	}
	if err := b.credit(to, n, KindTransferIn, from, ""); err != nil {
		return err
	}
	return b.flush()
}

// viewable loads an account the submitter may read: its owner's, or any
// for an admin of the issuer MSP.
func (c *Contract) viewable(ctx contractapi.TransactionContextInterface, id string) (*Account, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := key(ctx, keyAccount, id)
	if err != nil {
		return nil, err
	}
	var a Account
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

// BalanceOf returns the Account (with its balance) as JSON; readable by its
// owner and the issuer MSP's admins.
func (c *Contract) BalanceOf(ctx contractapi.TransactionContextInterface, account string) (string, error) {
	a, err := c.viewable(ctx, account)
	if err != nil {
		return "", err
	}
	return toJSON(a)
}

// History returns the balance changes of a wallet, oldest first, as a JSON
// list of Entry; readable by its owner and the issuer MSP's admins.
func (c *Contract) History(ctx contractapi.TransactionContextInterface, account string) (string, error) {
	if _, err := c.viewable(ctx, account); err != nil {
		return "", err
	}
	it, err := ctx.GetStub().GetStateByPartialCompositeKey(keyEntry, []string{account})
	if err != nil {
		return "", fmt.Errorf("history of wallet %q: %w", account, err)
	}
	defer it.Close()
	out := []Entry{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("history of wallet %q: %w", account, err)
		}
		var e Entry
		if err := strictjson.Unmarshal(kv.Value, &e); err != nil {
			return "", fmt.Errorf("history of wallet %q: decode entry: %w", account, err)
		}
		out = append(out, e)
	}
	return toJSON(out)
}
