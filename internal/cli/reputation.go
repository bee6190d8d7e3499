package cli

// The reputation summary (refund GetReputationSummary and
// CompactReputation): a provider's score kept as a checkpoint plus the
// periods settled after it, read by the console's reputation page and
// `slasa reputation --summary`, compacted by `slasa reputation compact`.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slasa/slasa/internal/sortedkey"
)

// productTally is the refund chaincode's ProductTally.
type productTally struct {
	ProductID string `json:"product_id"`
	tally
}

// reputationSummary is the refund chaincode's ReputationSummary.
type reputationSummary struct {
	score
	Products    []productTally `json:"products"`
	Next        string         `json:"next,omitempty"`
	Compacted   int64          `json:"compacted"`
	CompactedTx string         `json:"compacted_tx,omitempty"`
	CompactedAt string         `json:"compacted_at,omitempty"`
}

// add adds another page of the same summary (months and products) and
// takes its bookmark.
func (r *reputationSummary) add(p reputationSummary) {
	r.score.add(p.score)
	for _, pp := range p.Products {
		r.Products[sortedkey.Slot(&r.Products, pp.ProductID, productID, func(k string) productTally { return productTally{ProductID: k} })].add(pp.tally)
	}
}

func productID(p productTally) string { return p.ProductID }

// product returns the score of one product of the summary (empty when it
// has no counted period).
func (r *reputationSummary) product(id string) score {
	sc := score{Provider: r.Provider, ProductID: id, Months: []monthScore{}}
	if i, found := sortedkey.Find(r.Products, id, productID); found {
		sc.tally = r.Products[i].tally
	}
	return sc
}

// readReputation reads a provider organization's summary
// (GetReputationSummary: its checkpoint and the periods settled after it),
// every page added up.
func readReputation(ctx context.Context, ev evaluateFunc, cc, provider string) (reputationSummary, error) {
	var sum reputationSummary
	first := true
	err := eachScorePage(cc, "reputation", provider, func(bookmark string) ([]byte, error) {
		return ev(ctx, cc, "GetReputationSummary", provider, "", bookmark)
	}, func(out []byte) (string, error) {
		var p reputationSummary
		if err := json.Unmarshal(out, &p); err != nil {
			return "", fmt.Errorf("%s: decode reputation summary: %w", cc, err)
		}
		if first {
			sum, first = p, false
		} else {
			sum.add(p)
		}
		return p.Bookmark, nil
	})
	sum.Bookmark = ""
	return sum, err
}

// compactReputationResult is the refund chaincode's CompactReputationResult.
type compactReputationResult struct {
	Provider string `json:"provider_msp_id"`
	Folded   int64  `json:"folded"`
	More     bool   `json:"more"`
	Next     string `json:"next"`
}

func newReputationCompactCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "compact PROVIDER_MSP [--all]",
		Short: "Fold a provider's older settled periods into its reputation checkpoint (CompactReputation)",
		Long: "Submits CompactReputation: the provider's score entries settled more than twice the chaincode's\n" +
			"allowed clock skew ago (at most 5,000 a transaction) are added to its checkpoint, so that reading\n" +
			"its reputation (GetReputationSummary: the console's reputation page, slasa reputation --summary)\n" +
			"costs the periods settled since, not all it ever settled. No score changes. Any member of an\n" +
			"organization of the deploy configuration may run it (slasa-monitor does, for its organization,\n" +
			"every -compact-reputation); the checkpoint needs the endorsement of a majority of the\n" +
			"organizations (the Gateway collects them). A settlement of the provider in flight while the\n" +
			"compaction commits fails Fabric's read check and is submitted again. --all repeats while older\n" +
			"entries remain. Default --as client.",
		Args: exactArgs(1, "PROVIDER_MSP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			var folded int64
			var last compactReputationResult
			txs, err := submitWhileMore(cmd, s, cc, "CompactReputation", all, func(out []byte) (bool, error) {
				if err := json.Unmarshal(out, &last); err != nil {
					return false, fmt.Errorf("%s.CompactReputation: decode: %w", cc, err)
				}
				folded += last.Folded
				return last.More && last.Folded > 0, nil
			}, args[0])
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"provider_msp_id": args[0], "folded": folded, "more": last.More, "next": last.Next, "tx_ids": txs})
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"provider", args[0]}, {"folded periods", strconv.FormatInt(folded, 10)},
				{"older periods left", yesNo(last.More)}, {"tx", strings.Join(txs, " ")}})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "repeat while older entries remain")
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// writeReputation writes a summary as writeScore does, then a table of its
// products and where its checkpoint stands.
func writeReputation(w io.Writer, sum reputationSummary) error {
	if err := writeScore(w, sum.score); err != nil {
		return err
	}
	if len(sum.Products) > 0 {
		fmt.Fprintln(w)
		t := tallyTable("PRODUCT")
		for _, p := range sum.Products {
			t.add(tallyRow(p.ProductID, p.tally)...)
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	compacted := "never (every period is read)"
	if sum.CompactedTx != "" {
		compacted = fmt.Sprintf("%d periods folded, last at %s (tx %s)", sum.Compacted, sum.CompactedAt, sum.CompactedTx)
	}
	return writeFields(w, [][2]string{{"checkpoint", compacted}})
}
