package refund

import (
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
)

// WalletsPage is one page of AuditWallets.
type WalletsPage struct {
	Wallets []Account `json:"wallets"`
	// Bookmark continues on the next page; "" at the end.
	Bookmark string `json:"bookmark"`
}

// EscrowSummary is an escrow as AuditEscrows lists it.
type EscrowSummary struct {
	SLAID  string `json:"sla_id"`
	Period string `json:"period"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
	Held   int64  `json:"held"`
}

// EscrowsPage is one page of AuditEscrows.
type EscrowsPage struct {
	Escrows  []EscrowSummary `json:"escrows"`
	Bookmark string          `json:"bookmark"`
}

// auditor checks that the caller is an admin (NodeOU role admin) of an
// organization of the deploy configuration or of the issuer MSP: the
// organizations whose peers hold every balance and escrow in their blocks
// anyway.
func (c *Contract) auditor(ctx contractapi.TransactionContextInterface) error {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	cfg := c.g.Config()
	msps := cfg.Orgs
	if !contains(msps, cfg.IssuerMSPID) {
		msps = append(append([]string(nil), msps...), cfg.IssuerMSPID)
	}
	notAdmin := caller.RequireAdmin(msps...)
	// mutate:check audit-admin
	if notAdmin != nil {
		return fmt.Errorf("the audit is for admins of the issuer and of the deploy configuration's organizations: %w", notAdmin)
	}
	return nil
}

// AuditWallets returns one page (pageSize "" or "0" for DefaultPageSize,
// at most MaxPageSize) of every wallet's Account (base, pending credits and
// balance), in wallet id order, as a WalletsPage. With AuditEscrows and
// GetSupply (and AuditCollateral) it lets an auditor recompute the money
// on the ledger: the balances plus the held escrow and collateral must
// equal the supply. For admins of the
// issuer and of the deploy configuration's organizations.
func (c *Contract) AuditWallets(ctx contractapi.TransactionContextInterface, size, bookmark string) (string, error) {
	if err := c.auditor(ctx); err != nil {
		return "", err
	}
	n, err := pageSize(size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return "", err
	}
	if err := c.bookmarkOf(ctx, keyAccount, bookmark); err != nil {
		return "", err
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyAccount, nil, n, bookmark)
	if err != nil {
		return "", fmt.Errorf("read wallets: %w", err)
	}
	defer it.Close()
	page := WalletsPage{Wallets: []Account{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read wallets: %w", err)
		}
		var a walletBase
		if err := json.Unmarshal(kv.Value, &a); err != nil {
			return "", fmt.Errorf("decode wallet %q: %w", kv.Key, err)
		}
		acct, err := c.account(ctx, &a)
		if err != nil {
			return "", err
		}
		page.Wallets = append(page.Wallets, *acct)
	}
	page.Bookmark = meta.GetBookmark()
	return toJSON(page)
}

// AuditEscrows returns one page of every escrow (SLA, period, status,
// amount, held), in key order, as an EscrowsPage; paged and readable as
// AuditWallets.
func (c *Contract) AuditEscrows(ctx contractapi.TransactionContextInterface, size, bookmark string) (string, error) {
	if err := c.auditor(ctx); err != nil {
		return "", err
	}
	n, err := pageSize(size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return "", err
	}
	if err := c.bookmarkOf(ctx, keyEscrow, bookmark); err != nil {
		return "", err
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyEscrow, nil, n, bookmark)
	if err != nil {
		return "", fmt.Errorf("read escrows: %w", err)
	}
	defer it.Close()
	page := EscrowsPage{Escrows: []EscrowSummary{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read escrows: %w", err)
		}
		var e Escrow
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return "", fmt.Errorf("decode escrow %q: %w", kv.Key, err)
		}
		page.Escrows = append(page.Escrows, EscrowSummary{SLAID: e.SLAID, Period: e.Period, Status: e.Status, Amount: e.Amount, Held: e.Held})
	}
	page.Bookmark = meta.GetBookmark()
	return toJSON(page)
}

// HoldSummary is a collateral hold as AuditCollateral lists it.
type HoldSummary struct {
	SLAID    string `json:"sla_id"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Held     int64  `json:"held"`
	Drawn    int64  `json:"drawn"`
	Released int64  `json:"released"`
}

// HoldsPage is one page of AuditCollateral.
type HoldsPage struct {
	Holds    []HoldSummary `json:"holds"`
	Bookmark string        `json:"bookmark"`
}

// AuditCollateral returns one page of every collateral hold (SLA, status,
// amount, held, drawn, released), in key order, as a HoldsPage; paged and
// readable as AuditWallets. The balances plus the held escrow plus the
// held collateral must equal the supply.
func (c *Contract) AuditCollateral(ctx contractapi.TransactionContextInterface, size, bookmark string) (string, error) {
	if err := c.auditor(ctx); err != nil {
		return "", err
	}
	n, err := pageSize(size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return "", err
	}
	if err := c.bookmarkOf(ctx, keyHold, bookmark); err != nil {
		return "", err
	}
	it, meta, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(keyHold, nil, n, bookmark)
	if err != nil {
		return "", fmt.Errorf("read collateral holds: %w", err)
	}
	defer it.Close()
	page := HoldsPage{Holds: []HoldSummary{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read collateral holds: %w", err)
		}
		var h Hold
		if err := json.Unmarshal(kv.Value, &h); err != nil {
			return "", fmt.Errorf("decode collateral hold %q: %w", kv.Key, err)
		}
		page.Holds = append(page.Holds, HoldSummary{SLAID: h.SLAID, Status: h.Status, Amount: h.Amount, Held: h.Held, Drawn: h.Drawn, Released: h.Released})
	}
	page.Bookmark = meta.GetBookmark()
	return toJSON(page)
}

// bookmarkOf checks that bookmark ("" or a key) is a key of objectType.
func (c *Contract) bookmarkOf(ctx contractapi.TransactionContextInterface, objectType, bookmark string) error {
	if bookmark == "" {
		return nil
	}
	prefix, err := key(ctx, objectType)
	if err != nil {
		return err
	}
	// mutate:check audit-bookmark
	if len(bookmark) < len(prefix) || bookmark[:len(prefix)] != prefix {
		return fmt.Errorf("bookmark: %q is not a bookmark of the %s keys", bookmark, objectType)
	}
	return nil
}
