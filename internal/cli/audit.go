package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// auditWallets is the refund chaincode's WalletsPage.
type auditWallets struct {
	Wallets  []walletAccount `json:"wallets"`
	Bookmark string          `json:"bookmark"`
}

// escrowSummary and auditEscrows are the refund chaincode's EscrowSummary
// and EscrowsPage.
type escrowSummary struct {
	SLAID  string `json:"sla_id"`
	Period string `json:"period"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
	Held   int64  `json:"held"`
}

type auditEscrows struct {
	Escrows  []escrowSummary `json:"escrows"`
	Bookmark string          `json:"bookmark"`
}

// holdSummary and auditHolds are the refund chaincode's HoldSummary and
// HoldsPage (AuditCollateral).
type holdSummary struct {
	SLAID    string `json:"sla_id"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Held     int64  `json:"held"`
	Drawn    int64  `json:"drawn"`
	Released int64  `json:"released"`
}

type auditHolds struct {
	Holds    []holdSummary `json:"holds"`
	Bookmark string        `json:"bookmark"`
}

// supplyRecord is the refund chaincode's Supply.
type supplyRecord struct {
	IssuerMSPID string `json:"issuer_msp_id"`
	Minted      int64  `json:"minted"`
	TxID        string `json:"tx_id"`
	UpdatedAt   string `json:"updated_at"`
}

// audit is the outcome of `slasa audit`.
type audit struct {
	Wallets    int            `json:"wallets"`
	Balances   int64          `json:"balances"`
	Escrows    int            `json:"escrows"`
	Held       int64          `json:"held"`
	Holds      int            `json:"holds"`
	Collateral int64          `json:"collateral"`
	Supply     int64          `json:"supply"`
	Supplies   []supplyRecord `json:"supplies"`
	Difference int64          `json:"difference"`
	Problems   []string       `json:"problems"`
	Consistent bool           `json:"consistent"`
	PagesRead  int            `json:"pages_read"`
}

// check adds up the wallets, the held escrow, the held collateral and the
// supplies and lists what does not add up: the balances plus the held
// escrow and collateral must equal the supply (only Mint creates money), no
// balance may be negative, an escrow holds its amount until it is settled,
// expired or refunded, then nothing, and a collateral hold's held, drawn
// and released money add up to its amount (held 0 once released).
func (a *audit) check(wallets []walletAccount, escrows []escrowSummary, holds []holdSummary, supplies []supplyRecord) {
	a.Problems = []string{}
	a.Supplies = supplies
	overflow := false
	sum := func(x *int64, v int64) {
		if (v > 0 && *x > 1<<63-1-v) || (v < 0 && *x < -1<<63-v) {
			overflow = true
		}
		*x += v
	}
	for _, w := range wallets {
		a.Wallets++
		sum(&a.Balances, w.Balance)
		if w.Balance < 0 {
			a.Problems = append(a.Problems, fmt.Sprintf("wallet %s has a negative balance %d", w.ID, w.Balance))
		}
		if w.Base+w.Pending != w.Balance {
			a.Problems = append(a.Problems, fmt.Sprintf("wallet %s: base %d + pending %d is not its balance %d", w.ID, w.Base, w.Pending, w.Balance))
		}
	}
	for _, e := range escrows {
		a.Escrows++
		sum(&a.Held, e.Held)
		switch {
		case e.Status == "HELD" && e.Held != e.Amount,
			(e.Status == "SETTLED" || e.Status == "EXPIRED" || e.Status == "REFUNDED") && e.Held != 0,
			e.Status != "HELD" && e.Status != "SETTLED" && e.Status != "EXPIRED" && e.Status != "REFUNDED":
			a.Problems = append(a.Problems, fmt.Sprintf("escrow %s/%s is %s and holds %d of %d", e.SLAID, e.Period, e.Status, e.Held, e.Amount))
		}
	}
	for _, h := range holds {
		a.Holds++
		sum(&a.Collateral, h.Held)
		if h.Held < 0 || h.Drawn < 0 || h.Released < 0 || h.Held+h.Drawn+h.Released != h.Amount ||
			(h.Status != "LOCKED" && h.Status != "RELEASED") || (h.Status == "RELEASED" && h.Held != 0) {
			a.Problems = append(a.Problems, fmt.Sprintf("collateral of %s is %s and holds %d of %d (drawn %d, released %d)", h.SLAID, h.Status, h.Held, h.Amount, h.Drawn, h.Released))
		}
	}
	for _, s := range supplies {
		sum(&a.Supply, s.Minted)
	}
	total := a.Balances
	sum(&total, a.Held)
	sum(&total, a.Collateral)
	a.Difference = total - a.Supply
	if overflow {
		a.Problems = append(a.Problems, "the sums overflow int64: more money than can exist")
	}
	if a.Difference != 0 {
		a.Problems = append(a.Problems, fmt.Sprintf("wallets %d + held escrow %d + held collateral %d = %d, but the supply is %d: %+d", a.Balances, a.Held, a.Collateral, total, a.Supply, a.Difference))
	}
	a.Consistent = len(a.Problems) == 0
}

func newAuditCommand() *cobra.Command {
	var size int
	cmd := &cobra.Command{
		Use:   "audit [--page-size N]",
		Short: "Recompute the money on the ledger: every wallet, escrow and collateral hold against the supply (default --as issuer)",
		Long: "Reads every wallet (AuditWallets), every escrow (AuditEscrows), every collateral hold\n" +
			"(AuditCollateral) and the supply of each issuer (GetSupply), a page at a time, and checks that the\n" +
			"wallets' balances plus the held escrow and collateral equal the money minted, that no balance is\n" +
			"negative, that every escrow holds its amount until settled, expired or refunded, and that every\n" +
			"hold's held, drawn and released money add up to its amount.\n" +
			"Two colluding organizations can create credit keys (money from nothing) without the issuer: this\n" +
			"is how it shows. Exits 1 when something does not add up. For admins of the issuer and of the deploy\n" +
			"configuration's organizations (default --as issuer).",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			if size < 0 || size > 1000 {
				return usageError{fmt.Errorf("--page-size %d: want 0 (the chaincode's default) to 1000", size)}
			}
			s, err := connect(cmd, "issuer")
			if err != nil {
				return err
			}
			defer s.Close()
			var a audit
			var wallets []walletAccount
			for bookmark := ""; ; {
				out, err := evaluateJSON(cmd, s, cc, "AuditWallets", strconv.Itoa(size), bookmark)
				if err != nil {
					return err
				}
				var p auditWallets
				if err := json.Unmarshal(out, &p); err != nil {
					return fmt.Errorf("%s.AuditWallets: decode: %w", cc, err)
				}
				a.PagesRead++
				wallets = append(wallets, p.Wallets...)
				if bookmark = p.Bookmark; bookmark == "" {
					break
				}
			}
			var escrows []escrowSummary
			for bookmark := ""; ; {
				out, err := evaluateJSON(cmd, s, cc, "AuditEscrows", strconv.Itoa(size), bookmark)
				if err != nil {
					return err
				}
				var p auditEscrows
				if err := json.Unmarshal(out, &p); err != nil {
					return fmt.Errorf("%s.AuditEscrows: decode: %w", cc, err)
				}
				a.PagesRead++
				escrows = append(escrows, p.Escrows...)
				if bookmark = p.Bookmark; bookmark == "" {
					break
				}
			}
			var holds []holdSummary
			for bookmark := ""; ; {
				out, err := evaluateJSON(cmd, s, cc, "AuditCollateral", strconv.Itoa(size), bookmark)
				if err != nil {
					return err
				}
				var p auditHolds
				if err := json.Unmarshal(out, &p); err != nil {
					return fmt.Errorf("%s.AuditCollateral: decode: %w", cc, err)
				}
				a.PagesRead++
				holds = append(holds, p.Holds...)
				if bookmark = p.Bookmark; bookmark == "" {
					break
				}
			}
			out, err := evaluateJSON(cmd, s, cc, "GetSupply")
			if err != nil {
				return err
			}
			var supplies []supplyRecord
			if err := json.Unmarshal(out, &supplies); err != nil {
				return fmt.Errorf("%s.GetSupply: decode: %w", cc, err)
			}
			a.check(wallets, escrows, holds, supplies)
			if jsonFlag(cmd) {
				if err := writeJSON(cmd.OutOrStdout(), a); err != nil {
					return err
				}
			} else if err := writeAudit(cmd.OutOrStdout(), a); err != nil {
				return err
			}
			if !a.Consistent {
				return errors.New("audit: the money on the ledger does not add up (see above)")
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&size, "page-size", 0, "wallets or escrows per page (0: the chaincode's default, 100; at most 1000)")
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func writeAudit(w io.Writer, a audit) error {
	supplies := make([]string, 0, len(a.Supplies))
	for _, s := range a.Supplies {
		supplies = append(supplies, fmt.Sprintf("%s %d", s.IssuerMSPID, s.Minted))
	}
	verdict := "consistent"
	if !a.Consistent {
		verdict = "NOT consistent"
	}
	if err := writeFields(w, [][2]string{
		{"wallets", fmt.Sprintf("%d, balances %d", a.Wallets, a.Balances)},
		{"escrows", fmt.Sprintf("%d, held %d", a.Escrows, a.Held)},
		{"collateral holds", fmt.Sprintf("%d, held %d", a.Holds, a.Collateral)},
		{"supply", fmt.Sprintf("%d (%s)", a.Supply, orDash(strings.Join(supplies, ", ")))},
		{"wallets + escrow + collateral - supply", strconv.FormatInt(a.Difference, 10)},
		{"ledger", verdict},
	}); err != nil {
		return err
	}
	for _, p := range a.Problems {
		if _, err := fmt.Fprintf(w, "problem: %s\n", p); err != nil {
			return err
		}
	}
	return nil
}
