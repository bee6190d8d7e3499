package cli

// Wallet commands on the refund chaincode:
//
//	slasa wallet open ID              OpenAccount (owned by the caller)
//	slasa wallet mint ACCOUNT AMOUNT  Mint (an admin of the issuer MSP)
//	slasa wallet balance ACCOUNT      BalanceOf (owner or an issuer admin)
//	slasa wallet transfer FROM TO AMOUNT
//	slasa wallet history ACCOUNT      History (owner or an issuer admin)
//	slasa reputation PROVIDER [--product P]

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/slasa/slasa/internal/identity"
	"github.com/spf13/cobra"
)

// walletAccount is the refund chaincode's Account.
type walletAccount struct {
	ID string `json:"id"`
	// Owner is the identity that opened the wallet.
	Owner   identity.ID `json:"owner"`
	Balance int64       `json:"balance"`
}

// walletEntry is one entry of a wallet's History.
type walletEntry struct {
	TxID         string `json:"tx_id"`
	Timestamp    string `json:"timestamp"`
	Kind         string `json:"kind"`
	Amount       int64  `json:"amount"`
	Balance      int64  `json:"balance"`
	Counterparty string `json:"counterparty"`
	Reference    string `json:"reference"`
}

// score is the refund chaincode's Score.
type score struct {
	Provider      string `json:"provider_msp_id"`
	ProductID     string `json:"product_id"`
	Periods       int64  `json:"periods"`
	Violated      int64  `json:"violated"`
	Credits       int64  `json:"credits"`
	Penalties     int64  `json:"penalties"`
	ComplianceBPS int64  `json:"compliance_bps"`
}

func refundCCFlag(cmd *cobra.Command) {
	cmd.Flags().String("refund-cc", defaultRefundCC, "refund chaincode name")
}

// parseAmount checks a positive amount of minor units.
func parseAmount(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, usageError{fmt.Errorf("AMOUNT %q: want a positive whole number of minor units (e.g. 100000 for 1000.00)", s)}
	}
	return n, nil
}

func addWalletCommands(root *cobra.Command) {
	w := subcommand(root, "wallet", "Wallets of the refund chaincode (minor currency units)")
	w.AddCommand(newWalletOpenCommand(), newWalletMintCommand(), newWalletBalanceCommand(), newWalletTransferCommand(), newWalletHistoryCommand())
	root.AddCommand(newReputationCommand())
}

func newWalletOpenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "open ID",
		Short: "Open a wallet owned by the caller (OpenAccount; default --as client)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "OpenAccount", "opened", args[0])
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newWalletMintCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mint ACCOUNT AMOUNT",
		Short: "Create AMOUNT minor units in a wallet (Mint; an admin of the issuer MSP, default --as issuer)",
		Long: "Submits Mint: only an admin (NodeOU role admin) of the issuer MSP named by the deploy configuration\n" +
			"may create money (on the local network: issuer or provider-admin). Default --as issuer.",
		Args: exactArgs(2, "ACCOUNT AMOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			if _, err := parseAmount(args[1]); err != nil {
				return err
			}
			s, err := connect(cmd, "issuer")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "Mint", "minted", args[0], args[1])
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newWalletTransferCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer FROM TO AMOUNT",
		Short: "Move AMOUNT minor units from the caller's wallet FROM to wallet TO (Transfer; default --as client)",
		Args:  exactArgs(3, "FROM TO AMOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			if _, err := parseAmount(args[2]); err != nil {
				return err
			}
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "Transfer", "transferred", args[0], args[1], args[2])
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// evaluateJSON evaluates cc.fn(args) as the session and returns the result.
func evaluateJSON(cmd *cobra.Command, s *session, cc, fn string, args ...string) ([]byte, error) {
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	out, err := s.Network.GetContract(cc).EvaluateWithContext(ctx, fn, clientArgs(args...)...)
	if err != nil {
		return nil, explain(cc+"."+fn, err)
	}
	return out, nil
}

func newWalletBalanceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "balance ACCOUNT",
		Short: "Print a wallet's balance (BalanceOf; its owner or an admin of the issuer MSP; default --as client)",
		Args:  exactArgs(1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := evaluateJSON(cmd, s, cc, "BalanceOf", args[0])
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var a walletAccount
			if err := json.Unmarshal(out, &a); err != nil {
				return fmt.Errorf("%s.BalanceOf: decode: %w", cc, err)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"wallet", a.ID}, {"owner", idText(a.Owner, "")},
				{"balance", fmt.Sprintf("%d (%s)", a.Balance, money(a.Balance, ""))}})
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newWalletHistoryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history ACCOUNT",
		Short: "A wallet's balance changes, oldest first (History; its owner or an admin of the issuer MSP; default --as client)",
		Args:  exactArgs(1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := evaluateJSON(cmd, s, cc, "History", args[0])
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var entries []walletEntry
			if err := json.Unmarshal(out, &entries); err != nil {
				return fmt.Errorf("%s.History: decode: %w", cc, err)
			}
			t := &table{header: []string{"TIMESTAMP", "KIND", "AMOUNT", "BALANCE", "COUNTERPARTY", "REFERENCE"}}
			for _, e := range entries {
				t.add(e.Timestamp, e.Kind, fmt.Sprintf("%+d", e.Amount), strconv.FormatInt(e.Balance, 10), orDash(identityText(e.Counterparty)), orDash(e.Reference))
			}
			return t.write(cmd.OutOrStdout())
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// identityString matches identity.ID.String(): "<msp>/<subject> (issuer <issuer>)".
var identityString = regexp.MustCompile(`^([^/]+)/(.+) \(issuer (.+)\)$`)

// identityText shortens a text that names an identity the way
// identity.ID.String writes it (a mint's counterparty, an enclave's
// registered_by) to "MSP/common name (issuer CA)"; any other text (a wallet,
// "escrow") is kept.
func identityText(c string) string {
	m := identityString.FindStringSubmatch(c)
	if m == nil || identity.CommonName(m[2]) == "" {
		return c
	}
	return idText(identity.ID{MSPID: m[1], Subject: m[2], Issuer: m[3]}, "")
}

func newReputationCommand() *cobra.Command {
	var product string
	cmd := &cobra.Command{
		Use:   "reputation PROVIDER_MSP [--product P]",
		Short: "A provider organization's reputation from its settled periods (GetReputation / GetProductScore)",
		Args:  exactArgs(1, "PROVIDER_MSP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			var out []byte
			if product != "" {
				out, err = evaluateJSON(cmd, s, cc, "GetProductScore", args[0], product)
			} else {
				out, err = evaluateJSON(cmd, s, cc, "GetReputation", args[0])
			}
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var sc score
			if err := json.Unmarshal(out, &sc); err != nil {
				return fmt.Errorf("%s: decode score: %w", cc, err)
			}
			return writeFields(cmd.OutOrStdout(), scoreFields(sc))
		},
	}
	cmd.Flags().StringVar(&product, "product", "", "one product (service.product_id) instead of all")
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func scoreFields(sc score) [][2]string {
	compliance := "- (no settled period)"
	if sc.Periods > 0 {
		compliance = bps(sc.ComplianceBPS)
	}
	return [][2]string{{"provider", sc.Provider}, {"product", orDash(sc.ProductID)},
		{"settled periods", strconv.FormatInt(sc.Periods, 10)}, {"violated periods", strconv.FormatInt(sc.Violated, 10)},
		{"compliance", compliance}, {"credits paid", strconv.FormatInt(sc.Credits, 10)}, {"penalties paid", strconv.FormatInt(sc.Penalties, 10)}}
}
