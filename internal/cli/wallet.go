package cli

// Wallet commands on the refund chaincode:
//
//	slasa wallet open ID              OpenAccount (owned by the caller)
//	slasa wallet mint ACCOUNT AMOUNT  Mint (an admin of the issuer MSP)
//	slasa wallet balance ACCOUNT      BalanceOf (owner or an issuer admin): base, pending credits, balance
//	slasa wallet transfer FROM TO AMOUNT
//	slasa wallet history ACCOUNT      History pages (owner or an issuer admin)
//	slasa wallet compact ACCOUNT      Compact (the owner)
//	slasa reputation PROVIDER [--product P]   GetReputation / GetProductScore pages, added up
//	slasa audit                       AuditWallets + AuditEscrows pages vs GetSupply

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/sortedkey"
	"github.com/spf13/cobra"
)

// walletAccount is the refund chaincode's Account.
type walletAccount struct {
	ID string `json:"id"`
	// Owner is the identity that opened the wallet.
	Owner identity.ID `json:"owner"`
	// Base is the balance on the wallet's base key (debits and compacted
	// credits); Pending the PendingCredits credits not compacted yet;
	// Balance their sum.
	Base           int64 `json:"base"`
	Pending        int64 `json:"pending"`
	PendingCredits int64 `json:"pending_credits"`
	Balance        int64 `json:"balance"`
}

// walletEntry is one entry of a wallet's History.
type walletEntry struct {
	TxID         string `json:"tx_id"`
	Timestamp    string `json:"timestamp"`
	Kind         string `json:"kind"`
	Amount       int64  `json:"amount"`
	Counterparty string `json:"counterparty"`
	Reference    string `json:"reference"`
	Pending      bool   `json:"pending"`
	CompactedTx  string `json:"compacted_tx"`
}

// historyPage is the refund chaincode's HistoryPage.
type historyPage struct {
	Wallet   string        `json:"wallet"`
	Entries  []walletEntry `json:"entries"`
	Bookmark string        `json:"bookmark"`
}

// compactResult is the refund chaincode's CompactResult.
type compactResult struct {
	Wallet    string `json:"wallet"`
	Compacted int64  `json:"compacted"`
	Amount    int64  `json:"amount"`
	Base      int64  `json:"base"`
	More      bool   `json:"more"`
	Skipped   int64  `json:"skipped"`
}

// score is the refund chaincode's Score.
type score struct {
	Provider  string `json:"provider_msp_id"`
	ProductID string `json:"product_id"`
	SLAID     string `json:"sla_id,omitempty"`
	tally
	Bookmark string       `json:"bookmark,omitempty"`
	Months   []monthScore `json:"months"`
}

// tally is the refund chaincode's Tally: what a score counts, over all its
// periods or one month's.
type tally struct {
	Periods       int64 `json:"periods"`
	Violated      int64 `json:"violated"`
	NoVerdict     int64 `json:"no_verdict"`
	Credits       int64 `json:"credits"`
	Penalties     int64 `json:"penalties"`
	ComplianceBPS int64 `json:"compliance_bps"`
}

// monthScore is the refund chaincode's MonthScore: a score's periods that
// started in one calendar month (UTC).
type monthScore struct {
	Month string `json:"month"`
	tally
}

// compliance is (periods - violated) * 10000 / periods, rounded down; 0
// without a settled period.
func compliance(periods, violated int64) int64 {
	if periods == 0 {
		return 0
	}
	return (periods - violated) * 10000 / periods
}

// add adds n's counts and recomputes the compliance.
func (t *tally) add(n tally) {
	t.Periods += n.Periods
	t.Violated += n.Violated
	t.NoVerdict += n.NoVerdict
	t.Credits += n.Credits
	t.Penalties += n.Penalties
	t.ComplianceBPS = compliance(t.Periods, t.Violated)
}

// add adds another page of the same score, in total and month by month,
// and takes the page's bookmark.
func (s *score) add(p score) {
	s.tally.add(p.tally)
	for _, pm := range p.Months {
		s.Months[sortedkey.Slot(&s.Months, pm.Month, monthOf, func(k string) monthScore { return monthScore{Month: k} })].add(pm.tally)
	}
	s.Bookmark = p.Bookmark
}

func monthOf(m monthScore) string { return m.Month }

// writeScore writes a score's fields, then its months as a table.
func writeScore(w io.Writer, sc score) error {
	if err := writeFields(w, scoreFields(sc)); err != nil || len(sc.Months) == 0 {
		return err
	}
	fmt.Fprintln(w)
	t := tallyTable("MONTH")
	for _, m := range sc.Months {
		t.add(tallyRow(m.Month, m.tally)...)
	}
	return t.write(w)
}

// tallyTable is a table of tallies, one per first (a month, a product).
func tallyTable(first string) *table {
	return &table{header: []string{first, "SETTLED", "VIOLATED", "NO VERDICT", "COMPLIANCE", "CREDITS", "PENALTIES"}}
}

// tallyRow is the row of tallyTable of the tally t named label.
func tallyRow(label string, t tally) []string {
	c := "-"
	if t.Periods > 0 {
		c = bps(t.ComplianceBPS)
	}
	return []string{label, strconv.FormatInt(t.Periods, 10), strconv.FormatInt(t.Violated, 10), strconv.FormatInt(t.NoVerdict, 10), c,
		strconv.FormatInt(t.Credits, 10), strconv.FormatInt(t.Penalties, 10)}
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
	w.AddCommand(newWalletOpenCommand(), newWalletMintCommand(), newWalletBalanceCommand(), newWalletTransferCommand(), newWalletHistoryCommand(), newWalletCompactCommand())
	root.AddCommand(newReputationCommand(), newAuditCommand())
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
		Long: "Evaluates BalanceOf: the wallet's base (its debits and the credits compacted into it), its pending\n" +
			"credits (each credit is a key of its own until the owner compacts them: `slasa wallet compact`) and\n" +
			"the balance, their sum. Default --as client.",
		Args: exactArgs(1, "ACCOUNT"),
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
			return writeFields(cmd.OutOrStdout(), balanceFields(a))
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func balanceFields(a walletAccount) [][2]string {
	return [][2]string{{"wallet", a.ID}, {"owner", idText(a.Owner, "")},
		{"base", fmt.Sprintf("%d (%s)", a.Base, money(a.Base, ""))},
		{"pending credits", fmt.Sprintf("%d (%s) in %d credits", a.Pending, money(a.Pending, ""), a.PendingCredits)},
		{"balance", fmt.Sprintf("%d (%s)", a.Balance, money(a.Balance, ""))}}
}

func newWalletHistoryCommand() *cobra.Command {
	var size int
	var bookmark string
	var all bool
	cmd := &cobra.Command{
		Use:   "history ACCOUNT [--page-size N] [--bookmark B | --all]",
		Short: "A wallet's balance changes, a page at a time (History; its owner or an admin of the issuer MSP; default --as client)",
		Long: "Evaluates History: first the wallet's debits and the credits compacted into its base, then its pending\n" +
			"credits, each oldest first, one page (--page-size, default 100) at a time; the next page starts at the\n" +
			"printed bookmark (--bookmark). --all follows the bookmarks to the end. Default --as client.",
		Args: exactArgs(1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			if size < 0 || size > 1000 {
				return usageError{fmt.Errorf("--page-size %d: want 0 (the chaincode's default) to 1000", size)}
			}
			if all && bookmark != "" {
				return usageError{fmt.Errorf("--all and --bookmark exclude each other")}
			}
			bookmark, err := parseBookmark(bookmark)
			if err != nil {
				return err
			}
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			page := historyPage{Wallet: args[0], Entries: []walletEntry{}}
			for {
				out, err := evaluateJSON(cmd, s, cc, "History", args[0], strconv.Itoa(size), bookmark)
				if err != nil {
					return err
				}
				var p historyPage
				if err := json.Unmarshal(out, &p); err != nil {
					return fmt.Errorf("%s.History: decode: %w", cc, err)
				}
				page.Entries = append(page.Entries, p.Entries...)
				page.Bookmark = p.Bookmark
				if !all || p.Bookmark == "" {
					break
				}
				bookmark = p.Bookmark
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), page)
			}
			return writeHistory(cmd.OutOrStdout(), page)
		},
	}
	cmd.Flags().IntVar(&size, "page-size", 0, "entries per page (0: the chaincode's default, 100; at most 1000)")
	cmd.Flags().StringVar(&bookmark, "bookmark", "", "start at this bookmark, as the previous page printed it (its --json bookmark works too)")
	cmd.Flags().BoolVar(&all, "all", false, "follow the bookmarks to the end of the history")
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func writeHistory(w io.Writer, p historyPage) error {
	t := &table{header: []string{"TIMESTAMP", "KIND", "AMOUNT", "STATE", "COUNTERPARTY", "REFERENCE"}}
	for _, e := range p.Entries {
		state := "in base"
		if e.Pending {
			state = "pending"
		}
		t.add(e.Timestamp, e.Kind, fmt.Sprintf("%+d", e.Amount), state, orDash(identityText(e.Counterparty)), orDash(e.Reference))
	}
	if err := t.write(w); err != nil {
		return err
	}
	if p.Bookmark != "" {
		_, err := fmt.Fprintf(w, "more: --bookmark %s\n", bookmarkArg(p.Bookmark))
		return err
	}
	return nil
}

// submitResult submits cc.fn(args) as the session, waits for the commit
// and returns the chaincode's result and the transaction id.
func submitResult(cmd *cobra.Command, s *session, cc, fn string, args ...string) ([]byte, string, error) {
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	out, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, fn, clientArgs(args...)...)
	if err == nil {
		err = waitCommit(ctx, commit)
	}
	if err != nil {
		return nil, "", explain(cc+"."+fn, err)
	}
	return out, commit.TransactionID(), nil
}

// submitWhileMore submits fn(args) and hands its result to step; with all
// it submits again while step says more is due (and the last transaction
// made progress). It returns the committed transactions' ids.
func submitWhileMore(cmd *cobra.Command, s *session, cc, fn string, all bool, step func(out []byte) (more bool, err error), args ...string) ([]string, error) {
	var txs []string
	for {
		out, tx, err := submitResult(cmd, s, cc, fn, args...)
		if err != nil {
			return txs, err
		}
		txs = append(txs, tx)
		more, err := step(out)
		if err != nil || !all || !more {
			return txs, err
		}
	}
}

func newWalletCompactCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "compact ACCOUNT [--all]",
		Short: "Move a wallet's older pending credits into its base (Compact; the owner; default --as client)",
		Long: "Submits Compact: the credits older than twice the chaincode's allowed clock skew (at most 500 a\n" +
			"transaction) move into the wallet's base and its history. Only the wallet's owner may compact; the\n" +
			"transaction needs the owner's organization and one more (the Gateway collects them). --all repeats\n" +
			"while older credits remain. Default --as client.",
		Args: exactArgs(1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			var total compactResult
			txs, err := submitWhileMore(cmd, s, cc, "Compact", all, func(out []byte) (bool, error) {
				var r compactResult
				if err := json.Unmarshal(out, &r); err != nil {
					return false, fmt.Errorf("%s.Compact: decode: %w", cc, err)
				}
				total.Wallet, total.Base, total.More = r.Wallet, r.Base, r.More
				total.Compacted += r.Compacted
				total.Amount += r.Amount
				total.Skipped = r.Skipped
				return r.More && r.Compacted > 0, nil
			}, args[0])
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"result": total, "tx_ids": txs})
			}
			fields := [][2]string{{"wallet", total.Wallet}, {"compacted credits", strconv.FormatInt(total.Compacted, 10)},
				{"amount", fmt.Sprintf("%d (%s)", total.Amount, money(total.Amount, ""))}, {"base", fmt.Sprintf("%d (%s)", total.Base, money(total.Base, ""))},
				{"older credits left", yesNo(total.More)}, {"tx", strings.Join(txs, " ")}}
			if total.Skipped > 0 {
				fields = append(fields, [2]string{"not credits of the wallet", fmt.Sprintf("%d keys in its credit range (not counted; see the audit)", total.Skipped)})
			}
			return writeFields(cmd.OutOrStdout(), fields)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "repeat while older credits remain")
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
// counterpartyShort is a history entry's counterparty as "MSP/common
// name" when it is an identity, else as it is ("-" when empty).
func counterpartyShort(c string) string {
	m := identityString.FindStringSubmatch(c)
	if m == nil || identity.CommonName(m[2]) == "" {
		return orDash(c)
	}
	return shortID(identity.ID{MSPID: m[1], Subject: m[2], Issuer: m[3]})
}

func identityText(c string) string {
	m := identityString.FindStringSubmatch(c)
	if m == nil || identity.CommonName(m[2]) == "" {
		return c
	}
	return idText(identity.ID{MSPID: m[1], Subject: m[2], Issuer: m[3]}, "")
}

func newReputationCommand() *cobra.Command {
	var product string
	var summary bool
	cmd := &cobra.Command{
		Use:   "reputation PROVIDER_MSP [--product P] [--summary]",
		Short: "A provider organization's reputation from its settled periods (GetReputation / GetProductScore, every page)",
		Long: "Reads a provider organization's score over its settled periods: the periods, the violated ones, the\n" +
			"compliance, the credits and penalties paid, and the same per month. By default every score entry\n" +
			"(GetReputation, or GetProductScore with --product). With --summary, the provider's checkpoint plus\n" +
			"the periods settled after it (GetReputationSummary; see slasa reputation compact), with a line per\n" +
			"product: the same figures at a cost that does not grow with the provider's past (with --product,\n" +
			"that product's totals, without months).",
		Args: exactArgs(1, "PROVIDER_MSP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			if summary {
				sum, err := readReputation(ctx, gatewayReader{s}.Evaluate, cc, args[0])
				if err != nil {
					return err
				}
				if product != "" {
					sum.score = sum.product(product)
					sum.Products = nil
				}
				if jsonFlag(cmd) {
					return writeJSON(cmd.OutOrStdout(), sum)
				}
				return writeReputation(cmd.OutOrStdout(), sum)
			}
			sc, err := readScore(ctx, gatewayReader{s}.Evaluate, cc, args[0], product)
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), sc)
			}
			return writeScore(cmd.OutOrStdout(), sc)
		},
	}
	cmd.AddCommand(newReputationCompactCommand())
	cmd.Flags().StringVar(&product, "product", "", "one product (service.product_id) instead of all")
	cmd.Flags().BoolVar(&summary, "summary", false, "read the checkpoint and the periods after it (GetReputationSummary)")
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// maxScorePages bounds the pages of one score read.
const maxScorePages = 10000

// readScore reads a provider organization's score (GetReputation), or one
// of its products' (GetProductScore) when product is not empty, every
// page added up.
func readScore(ctx context.Context, ev evaluateFunc, cc, provider, product string) (score, error) {
	return sumScorePages(cc, provider, func(bookmark string) ([]byte, error) {
		if product != "" {
			return ev(ctx, cc, "GetProductScore", provider, product, "", bookmark)
		}
		return ev(ctx, cc, "GetReputation", provider, "", bookmark)
	})
}

// readSLAScore reads one SLA's score (GetSLAScore: its settled periods and
// the credits and penalties its client was paid), every page added up.
func readSLAScore(ctx context.Context, ev evaluateFunc, cc, provider, product, slaID string) (score, error) {
	return sumScorePages(cc, provider, func(bookmark string) ([]byte, error) {
		return ev(ctx, cc, "GetSLAScore", provider, product, slaID, "", bookmark)
	})
}

// slaCredit is what an SLA's document and score add to its public record
// in the console's SLA list and in slasa sla list --credit: the product
// and the current period (GetSLA), the settled periods (and those that
// expired without a verdict), the violated ones and the credit so far,
// the credits and penalties paid to the client in the SLA's currency
// (GetSLAScore). Err is why the document, ScoreErr why the score could
// not be read.
type slaCredit struct {
	Product, Period, Credit      string
	Settled, Violated, NoVerdict int64
	Err, ScoreErr                string
	// match is false when the document names another product than the
	// one asked for (its score is not read).
	match bool
}

// readSLACredit reads the slaCredit of a at now: its document, then, when
// product is "" or the document's, its score.
func readSLACredit(ctx context.Context, src *billingSource, a *agreementRecord, product string, now time.Time) slaCredit {
	var c slaCredit
	_, doc, err := src.slaRecord(ctx, a.ID)
	if err != nil {
		c.Err, c.match = err.Error(), true
		return c
	}
	c.Product, c.Period = doc.Service.ProductID, currentPeriod(a, doc, now)
	if c.match = product == "" || product == doc.Service.ProductID; !c.match {
		return c
	}
	sc, err := readSLAScore(ctx, src.r.Evaluate, src.refund, a.Parties.Provider.MSPID, doc.Service.ProductID, a.ID)
	if err != nil {
		c.ScoreErr = err.Error()
		return c
	}
	c.Settled, c.Violated, c.NoVerdict = sc.Periods, sc.Violated, sc.NoVerdict
	c.Credit = money(sc.Credits+sc.Penalties, doc.Price.Currency)
	return c
}

// SettledText is the settled periods, with those that expired without a
// verdict.
func (c slaCredit) SettledText() string {
	t := strconv.FormatInt(c.Settled, 10)
	if c.NoVerdict > 0 {
		t += fmt.Sprintf(" (and %d without a verdict)", c.NoVerdict)
	}
	return t
}

// sumScorePages reads the pages of a score of provider with page (at most
// maxScorePages) and adds them up.
func sumScorePages(cc, provider string, page func(bookmark string) ([]byte, error)) (score, error) {
	var sc score
	err := eachScorePage(cc, "score", provider, page, func(out []byte) (string, error) {
		var p score
		if err := json.Unmarshal(out, &p); err != nil {
			return "", fmt.Errorf("%s: decode score: %w", cc, err)
		}
		sc.Provider, sc.ProductID, sc.SLAID = p.Provider, p.ProductID, p.SLAID
		sc.add(p)
		return p.Bookmark, nil
	})
	return sc, err
}

// eachScorePage asks page for "" and then each bookmark an answer names,
// at most maxScorePages pages; take adds an answer and returns its
// bookmark. what names the answers in errors ("score", "reputation").
func eachScorePage(cc, what, provider string, page func(bookmark string) ([]byte, error), take func(out []byte) (string, error)) error {
	bookmark := ""
	for pages := 0; ; pages++ {
		if pages == maxScorePages {
			return fmt.Errorf("%s: the %s of %s has more than %d pages", cc, what, provider, maxScorePages)
		}
		out, err := page(bookmark)
		if err != nil {
			return err
		}
		next, err := take(out)
		if err != nil || next == "" {
			return err
		}
		if next == bookmark {
			return fmt.Errorf("%s: the %s's bookmark %q does not advance", cc, what, bookmark)
		}
		bookmark = next
	}
}

func scoreFields(sc score) [][2]string {
	compliance := "- (no settled period)"
	if sc.Periods > 0 {
		compliance = bps(sc.ComplianceBPS)
	}
	return [][2]string{{"provider", sc.Provider}, {"product", orDash(sc.ProductID)},
		{"settled periods", strconv.FormatInt(sc.Periods, 10)}, {"violated periods", strconv.FormatInt(sc.Violated, 10)},
		{"no verdict", strconv.FormatInt(sc.NoVerdict, 10)},
		{"compliance", compliance}, {"credits paid", strconv.FormatInt(sc.Credits, 10)}, {"penalties paid", strconv.FormatInt(sc.Penalties, 10)}}
}
