package refund

// The reputation summary: a provider's score kept as a checkpoint (the
// periods folded so far) plus the score entries settled after it, so that
// reading a provider's reputation costs the entries since the last
// compaction, not every period the provider ever settled.
//
// Each score entry (rep~<provider>~<product>~<sla>~<period>, written by
// SettleVerdict and ClaimExpiredEscrow) has a twin in the provider's time
// index, repx/<provider>/<20-digit nanoseconds>/<tx id>/<n>, written by the
// same transaction with the same key-level policy (the SLA's provider and
// client) and holding the entry and its product. CompactReputation folds the
// index keys older than twice the allowed clock skew into the provider's
// checkpoint (repsum/<provider>); settlements never write the checkpoint, so
// they never conflict with each other on it. GetReputationSummary returns
// the checkpoint plus the index keys after it, a page at a time.

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/sortedkey"
	"github.com/slasa/slasa/internal/strictjson"
)

// Simple keys of the reputation's time index and checkpoints. MSP IDs hold
// no '/', so a provider's index keys are one range, in time order.
const (
	repIndexPrefix = "repx/"
	repSumPrefix   = "repsum/"
)

// MaxCompactReputation is the most index keys one CompactReputation folds;
// the result's More says to call again.
const MaxCompactReputation = 5000

// maxCompactReputation is MaxCompactReputation, lowered by tests.
var maxCompactReputation int64 = MaxCompactReputation

func repIndexRange(provider string) (string, string) {
	return repIndexPrefix + provider + "/", repIndexPrefix + provider + "0" // '0' follows '/'
}

// repIndexEntry is the value of a time index key: the score entry and the
// product it counts for.
type repIndexEntry struct {
	ProductID string `json:"product_id"`
	ScoreEntry
}

// ProductTally is one product's share of a ReputationSummary.
type ProductTally struct {
	ProductID string `json:"product_id"`
	Tally
}

// ReputationSummary is a provider's reputation over all its settled (and
// expired) periods: the totals and months of Score and each product's
// tally.
type ReputationSummary struct {
	Score
	// Products are the provider's products with a counted period, by id.
	Products []ProductTally `json:"products"`
	// Next is the first index key the checkpoint has not folded (the
	// start of what is read after it); "" when nothing was compacted.
	Next string `json:"next,omitempty"`
	// Compacted counts the index keys folded into the checkpoint;
	// CompactedTx and CompactedAt are the last compaction's.
	Compacted   int64  `json:"compacted"`
	CompactedTx string `json:"compacted_tx,omitempty"`
	CompactedAt string `json:"compacted_at,omitempty"`
}

// CompactReputationResult is what CompactReputation did.
type CompactReputationResult struct {
	Provider string `json:"provider_msp_id"`
	// Folded index keys in this transaction; More when more than
	// MaxCompactReputation were due (call again).
	Folded int64 `json:"folded"`
	More   bool  `json:"more"`
	// Next is the checkpoint's new start of the unfolded entries.
	Next string `json:"next"`
}

// addEntry counts one entry of product in the summary.
func (r *ReputationSummary) addEntry(productID string, e ScoreEntry) error {
	month, t, err := e.tally()
	if err != nil {
		return err
	}
	if err := r.count(month, t); err != nil {
		return err
	}
	return r.countProduct(productID, t)
}

// countProduct adds t to the tally of product, which is inserted in id
// order when it is new.
func (r *ReputationSummary) countProduct(productID string, t Tally) error {
	i := sortedkey.Slot(&r.Products, productID, func(p ProductTally) string { return p.ProductID }, func(k string) ProductTally { return ProductTally{ProductID: k} })
	if err := r.Products[i].add(t); err != nil {
		return fmt.Errorf("score of %s, product %q: %w", r.Provider, productID, err)
	}
	return nil
}

// AddSummary adds another page of the same provider's summary (its months
// and products) and takes its bookmark.
func (r *ReputationSummary) AddSummary(page *ReputationSummary) error {
	if err := r.Add(&page.Score); err != nil {
		return err
	}
	for _, p := range page.Products {
		if err := r.countProduct(p.ProductID, p.Tally); err != nil {
			return err
		}
	}
	return nil
}

// putScoreIndex writes the time index twin of a score entry. It reads the
// provider's checkpoint, so that a compaction committed first invalidates
// it (Fabric's read check) and one committed after it sees its key (the
// compaction's range check), and refuses a key the checkpoint has passed
// (a transaction time more than twice the skew older than the last
// compaction's): either way no entry is written where the summary no
// longer reads. A checkpoint without the checkpoint's policy is ignored
// here (the summary refuses it), so that nobody blocks settlements with one.
func (c *Contract) putScoreIndex(ctx contractapi.TransactionContextInterface, e *Escrow, entry ScoreEntry, now time.Time, policy []byte) error {
	k := fmt.Sprintf("%s%s/%s/%s/%0*d", repIndexPrefix, e.Provider.MSPID, tsKey(now), ctx.GetStub().GetTxID(), entryIndexDigits, 0)
	raw, policyOK, err := c.readCheckpoint(ctx, e.Provider.MSPID)
	if err != nil {
		return err
	}
	if raw != nil {
		var cp struct {
			Next string `json:"next"`
		}
		if policyOK {
			if err := json.Unmarshal(raw, &cp); err != nil {
				return fmt.Errorf("decode the reputation checkpoint of %s: %w", e.Provider.MSPID, err)
			}
		}
		// mutate:check score-index-after-checkpoint
		if k < cp.Next {
			return fmt.Errorf("the transaction time %s is before the reputation of %s was compacted to (%s): submit the transaction again with a current timestamp",
				now.UTC().Format(time.RFC3339Nano), e.Provider.MSPID, cp.Next)
		}
	}
	return putWithPolicy(ctx, k, "reputation index entry", repIndexEntry{ProductID: e.ProductID, ScoreEntry: entry}, policy)
}

// summaryPolicy is the key-level policy of a provider's checkpoint: a
// majority of the deploy configuration's organizations, so that neither the
// provider nor one client can write its reputation alone.
func (c *Contract) summaryPolicy() ([]byte, error) {
	orgs := c.g.Config().Orgs
	p, err := ccpolicy.OutOf(len(orgs)/2+1, orgs...)
	if err != nil {
		return nil, fmt.Errorf("reputation checkpoint policy: %w", err)
	}
	return p, nil
}

// readCheckpoint reads a provider's checkpoint (nil when there is none)
// and whether its key carries the checkpoint's policy.
func (c *Contract) readCheckpoint(ctx contractapi.TransactionContextInterface, provider string) ([]byte, bool, error) {
	k := repSumPrefix + provider
	raw, err := ctx.GetStub().GetState(k)
	if err != nil {
		return nil, false, fmt.Errorf("read the reputation checkpoint of %s: %w", provider, err)
	}
	if raw == nil {
		return nil, false, nil
	}
	want, err := c.summaryPolicy()
	if err != nil {
		return nil, false, err
	}
	have, err := ctx.GetStub().GetStateValidationParameter(k)
	if err != nil {
		return nil, false, fmt.Errorf("read the policy of the reputation checkpoint of %s: %w", provider, err)
	}
	return raw, string(have) == string(want), nil
}

// loadSummary reads a provider's checkpoint, and whether it exists (an
// empty one when it does not), refusing a key that does not carry the
// checkpoint's policy.
func (c *Contract) loadSummary(ctx contractapi.TransactionContextInterface, provider string) (*ReputationSummary, bool, error) {
	sum := &ReputationSummary{Score: Score{Provider: provider, Months: []MonthScore{}}, Products: []ProductTally{}}
	raw, policyOK, err := c.readCheckpoint(ctx, provider)
	if err != nil || raw == nil {
		return sum, false, err
	}
	// mutate:check summary-policy
	if !policyOK {
		return nil, false, fmt.Errorf("the reputation checkpoint of %s does not carry the policy of a majority of the organizations: it was not created by this chaincode; the organizations must investigate (see its creating transaction)", provider)
	}
	if err := strictjson.Unmarshal(raw, sum); err != nil {
		return nil, false, fmt.Errorf("decode the reputation checkpoint of %s: %w", provider, err)
	}
	if sum.Provider != provider {
		return nil, false, fmt.Errorf("the reputation checkpoint of %s names %s", provider, sum.Provider)
	}
	return sum, true, nil
}

// checkProvider checks a providerMSP argument: an MSP ID holds no '/'.
func checkProvider(providerMSP string) error {
	if providerMSP == "" {
		return errors.New("providerMSP: must not be empty")
	}
	if strings.ContainsAny(providerMSP, "/\x00") {
		return fmt.Errorf("providerMSP: %q is not an MSP ID (it holds '/' or NUL)", providerMSP)
	}
	return nil
}

// CompactReputation folds the provider's score entries settled more than
// twice the allowed clock skew before the transaction (so that no later
// settlement can carry an earlier time) into its checkpoint, at most
// MaxCompactReputation per transaction. It changes no score, only where it
// is kept: GetReputationSummary answers the same before and after. Any
// member of an organization of the deploy configuration may call it; the
// checkpoint needs the endorsement of a majority of them.
func (c *Contract) CompactReputation(ctx contractapi.TransactionContextInterface, providerMSP string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	// mutate:check compact-reputation-member
	if !slices.Contains(c.g.Config().Orgs, caller.ID.MSPID) {
		return "", fmt.Errorf("CompactReputation: the caller %s is not a member of an organization of the deploy configuration (%s)", caller.ID, strings.Join(c.g.Config().Orgs, ", "))
	}
	if err := checkProvider(providerMSP); err != nil {
		return "", err
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return "", err
	}
	sum, exists, err := c.loadSummary(ctx, providerMSP)
	if err != nil {
		return "", err
	}
	start, _ := repIndexRange(providerMSP)
	if sum.Next != "" {
		start = sum.Next
	}
	cut := repIndexPrefix + providerMSP + "/" + tsKey(c.compactBefore(now))
	res := CompactReputationResult{Provider: providerMSP, Next: start}
	if start >= cut {
		return toJSON(res)
	}
	it, err := ctx.GetStub().GetStateByRange(start, cut)
	if err != nil {
		return "", fmt.Errorf("read the reputation index of %s: %w", providerMSP, err)
	}
	defer it.Close()
	next := cut
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read the reputation index of %s: %w", providerMSP, err)
		}
		if res.Folded == maxCompactReputation {
			res.More, next = true, kv.Key
			break
		}
		var e repIndexEntry
		if err := strictjson.Unmarshal(kv.Value, &e); err != nil {
			return "", fmt.Errorf("decode reputation index entry %q: %w", kv.Key, err)
		}
		if err := sum.addEntry(e.ProductID, e.ScoreEntry); err != nil {
			return "", err
		}
		res.Folded++
	}
	sum.Next, res.Next = next, next
	sum.Compacted += res.Folded
	sum.CompactedTx, sum.CompactedAt = ctx.GetStub().GetTxID(), now.UTC().Format(time.RFC3339Nano)
	// The policy is set once, when the checkpoint is created (loadSummary
	// checks it on every read).
	k := repSumPrefix + providerMSP
	if exists {
		err = putJSON(ctx, k, "reputation checkpoint", sum)
	} else {
		var policy []byte
		if policy, err = c.summaryPolicy(); err == nil {
			err = putWithPolicy(ctx, k, "reputation checkpoint", sum, policy)
		}
	}
	if err != nil {
		return "", err
	}
	return toJSON(res)
}

// GetReputationSummary returns a provider organization's ReputationSummary
// as JSON: with bookmark "", its checkpoint plus the first page (pageSize
// "" or "0" for DefaultScorePage, at most MaxScorePage) of the score entries
// after it; when the answer's bookmark is not empty, call again with it and
// add the page (AddSummary), which holds the next entries only. Readable by
// every member of the channel, as GetReputation.
func (c *Contract) GetReputationSummary(ctx contractapi.TransactionContextInterface, providerMSP, size, bookmark string) (string, error) {
	if err := checkProvider(providerMSP); err != nil {
		return "", err
	}
	n, err := pageSize(size, DefaultScorePage, MaxScorePage)
	if err != nil {
		return "", err
	}
	start, end := repIndexRange(providerMSP)
	sum := &ReputationSummary{Score: Score{Provider: providerMSP, Months: []MonthScore{}}, Products: []ProductTally{}}
	if bookmark == "" {
		if sum, _, err = c.loadSummary(ctx, providerMSP); err != nil {
			return "", err
		}
		if sum.Next != "" {
			start = sum.Next
		}
	}
	// mutate:check summary-bookmark
	if bookmark != "" && !(bookmark >= start && bookmark < end) {
		return "", fmt.Errorf("bookmark: %q is not a bookmark of the reputation of %s", bookmark, providerMSP)
	}
	it, meta, err := ctx.GetStub().GetStateByRangeWithPagination(start, end, n, bookmark)
	if err != nil {
		return "", fmt.Errorf("read the reputation index of %s: %w", providerMSP, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("read the reputation index of %s: %w", providerMSP, err)
		}
		var e repIndexEntry
		if err := strictjson.Unmarshal(kv.Value, &e); err != nil {
			return "", fmt.Errorf("decode reputation index entry %q: %w", kv.Key, err)
		}
		if err := sum.addEntry(e.ProductID, e.ScoreEntry); err != nil {
			return "", err
		}
	}
	sum.Bookmark = meta.GetBookmark()
	return toJSON(sum)
}
