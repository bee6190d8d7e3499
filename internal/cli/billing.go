package cli

// Billing documents built from the ledger alone (package billing):
//
//	slasa invoice SLA PERIOD      the provider's invoice of one period: refund GetEscrow (and its
//	                              settlement), agreement GetSLA (the parties, title and service),
//	                              qscc GetBlockByTxID (block and position of each transaction)
//	slasa statement --party ROLE  one wallet's account for a month: refund BalanceOf and History
//	                              (every page), GetEscrow of each SLA period its lines name, qscc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/slasa/slasa/billing"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
)

// ledgerReader is what the billing commands read from the channel: the
// session reads through the Fabric Gateway, the unit tests from fakes.
// Errors name the chaincode function that failed.
type ledgerReader interface {
	// Evaluate evaluates cc.fn(args) on a peer the Gateway chooses.
	Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error)
	// EvaluateOwnOrg evaluates cc.fn(args) on a peer of the caller's
	// organization (GetSLA reads that organization's private copy).
	EvaluateOwnOrg(ctx context.Context, cc, fn string, args ...string) ([]byte, error)
}

// gatewayReader reads through the session's Gateway.
type gatewayReader struct{ s *session }

func (g gatewayReader) Evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	out, err := g.s.Network.GetContract(cc).EvaluateWithContext(ctx, fn, clientArgs(args...)...)
	if err != nil {
		return nil, explain(cc+"."+fn, err)
	}
	return out, nil
}

func (g gatewayReader) EvaluateOwnOrg(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	out, err := g.s.Network.GetContract(cc).EvaluateWithContext(ctx, fn, client.WithArguments(args...), client.WithEndorsingOrganizations(g.s.MSPID))
	if err != nil {
		return nil, explain(cc+"."+fn, err)
	}
	return out, nil
}

// billingSource names what the billing commands read: the chaincodes and
// the channel (for qscc).
type billingSource struct {
	r                 ledgerReader
	agreement, refund string
	channel           string
	// blocks caches the position of each transaction id.
	blocks map[string]txPosition
}

func newBillingSource(r ledgerReader, agreementCC, refundCC, channel string) *billingSource {
	return &billingSource{r: r, agreement: agreementCC, refund: refundCC, channel: channel, blocks: map[string]txPosition{}}
}

// txPosition is where a transaction is on the ledger.
type txPosition struct {
	Block uint64
	Index int
}

// locate returns the block number and position of a transaction (qscc
// GetBlockByTxID), which must be valid in its block.
func (b *billingSource) locate(ctx context.Context, txID string) (txPosition, error) {
	if p, ok := b.blocks[txID]; ok {
		return p, nil
	}
	if txID == "" {
		return txPosition{}, errors.New("the ledger record names no transaction id")
	}
	raw, err := b.r.Evaluate(ctx, "qscc", "GetBlockByTxID", b.channel, txID)
	if err != nil {
		return txPosition{}, err
	}
	p, err := blockPosition(raw, txID)
	if err != nil {
		return txPosition{}, fmt.Errorf("qscc.GetBlockByTxID %s: %w", txID, err)
	}
	b.blocks[txID] = p
	return p, nil
}

// blockPosition decodes a block (common.Block) and returns its number and
// the index of transaction txID in it; the transaction must be marked
// valid in the block's transaction filter.
func blockPosition(raw []byte, txID string) (txPosition, error) {
	var blk common.Block
	if err := proto.Unmarshal(raw, &blk); err != nil {
		return txPosition{}, fmt.Errorf("decode block: %w", err)
	}
	num := blk.GetHeader().GetNumber()
	var filter []byte
	if md := blk.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, data := range blk.GetData().GetData() {
		var env common.Envelope
		var pl common.Payload
		var ch common.ChannelHeader
		if err := errors.Join(proto.Unmarshal(data, &env), proto.Unmarshal(env.GetPayload(), &pl),
			proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch)); err != nil {
			return txPosition{}, fmt.Errorf("block %d, transaction %d: %w", num, i, err)
		}
		if ch.GetTxId() != txID {
			continue
		}
		if i >= len(filter) {
			return txPosition{}, fmt.Errorf("block %d has no validation code for transaction %d", num, i)
		}
		if code := peer.TxValidationCode(filter[i]); code != peer.TxValidationCode_VALID {
			return txPosition{}, fmt.Errorf("transaction %d of block %d is %s, not VALID", i, num, code)
		}
		return txPosition{Block: num, Index: i}, nil
	}
	return txPosition{}, fmt.Errorf("block %d does not hold the transaction", num)
}

// ref returns the ledger reference of a transaction.
func (b *billingSource) ref(ctx context.Context, txID string) (billing.LedgerRef, error) {
	p, err := b.locate(ctx, txID)
	if err != nil {
		return billing.LedgerRef{}, err
	}
	return billing.LedgerRef{TxID: txID, Block: p.Block}, nil
}

// escrowRecord is the refund chaincode's Escrow.
type escrowRecord struct {
	SLAID            string            `json:"sla_id"`
	Period           string            `json:"period"`
	PeriodEnd        string            `json:"period_end"`
	Amount           int64             `json:"amount"`
	Currency         string            `json:"currency"`
	Payer            sla.Party         `json:"payer"`
	Provider         sla.Party         `json:"provider"`
	CollateralWallet string            `json:"collateral_wallet"`
	ProductID        string            `json:"product_id"`
	Status           string            `json:"status"`
	Held             int64             `json:"held"`
	DepositTx        string            `json:"deposit_tx"`
	DepositAt        string            `json:"deposit_at"`
	Settlement       *settlementRecord `json:"settlement"`
	// Expired is the claim of an escrow without a verdict by its deadline,
	// Refunded the refund of a period not started at termination.
	Expired *struct {
		ToClient int64  `json:"to_client"`
		TxID     string `json:"tx_id"`
	} `json:"expired"`
	Refunded *struct {
		Amount int64  `json:"amount"`
		TxID   string `json:"tx_id"`
	} `json:"refunded"`
}

// periodInput is the statement's summary input of the escrow e: its
// deposit and the transaction that ended it located in their blocks.
func (b *billingSource) periodInput(ctx context.Context, e *escrowRecord) (billing.PeriodInput, error) {
	p := billing.PeriodInput{SLAID: e.SLAID, Period: e.Period, PeriodEnd: e.PeriodEnd, Fee: e.Amount, Status: e.Status, Held: e.Held}
	var err error
	if p.Deposit, err = b.ref(ctx, e.DepositTx); err != nil {
		return p, fmt.Errorf("period %s of SLA %s, deposit: %w", e.Period, e.SLAID, err)
	}
	closedBy := ""
	switch {
	case e.Settlement != nil:
		s := e.Settlement
		v, err := s.verdictRef()
		if err != nil {
			return p, err
		}
		p.Verdict, p.CreditBPS, p.Credit, p.PenaltyOwed, p.PenaltyPaid = &v, s.CreditBPS, s.Credit, s.PenaltyOwed, s.PenaltyPaid
		closedBy = s.TxID
	case e.Expired != nil:
		p.ToClient, closedBy = e.Expired.ToClient, e.Expired.TxID
	case e.Refunded != nil:
		p.ToClient, closedBy = e.Refunded.Amount, e.Refunded.TxID
	}
	if closedBy != "" {
		ref, err := b.ref(ctx, closedBy)
		if err != nil {
			return p, fmt.Errorf("period %s of SLA %s, tx %s that ended the escrow: %w", e.Period, e.SLAID, closedBy, err)
		}
		p.Closed = &ref
	}
	return p, nil
}

// settlementRecord is the refund chaincode's Settlement: every field of
// the verdict it settled, and the money it moved.
type settlementRecord struct {
	SLAID         string `json:"sla_id"`
	SLADigest     string `json:"sla_digest"`
	Period        string `json:"period"`
	PeriodEnd     string `json:"period_end"`
	Currency      string `json:"currency"`
	Violated      bool   `json:"violated"`
	Fee           int64  `json:"fee"`
	CreditBPS     int64  `json:"credit_bps"`
	Credit        int64  `json:"credit"`
	Released      int64  `json:"released"`
	PenaltyOwed   int64  `json:"penalty_owed"`
	PenaltyPaid   int64  `json:"penalty_paid"`
	PenaltyUnpaid int64  `json:"penalty_unpaid"`
	Refund        int64  `json:"refund"`
	Terminate     bool   `json:"terminate"`
	ReportDigest  string `json:"report_digest"`
	Chaincode     string `json:"chaincode"`
	EnclaveID     string `json:"enclave_id"`
	BatchSeq      int64  `json:"batch_seq"`
	BatchCID      string `json:"batch_cid"`
	TxID          string `json:"tx_id"`
	SettledAt     string `json:"settled_at"`
}

// verdictRef rebuilds the verdict the settlement settled (the refund
// chaincode copied every field of it) and names it.
func (s *settlementRecord) verdictRef() (billing.VerdictRef, error) {
	v := verdict.Verdict{SLAID: s.SLAID, SLADigest: s.SLADigest, Period: s.Period, PeriodEnd: s.PeriodEnd,
		Violated: s.Violated, CreditBPS: s.CreditBPS, CreditAmount: s.Credit, PenaltyAmount: s.PenaltyOwed,
		Currency: s.Currency, Terminate: s.Terminate, ReportDigest: s.ReportDigest, BatchSeq: s.BatchSeq,
		BatchCID: s.BatchCID, Chaincode: s.Chaincode, EnclaveID: s.EnclaveID}
	id, err := billing.VerdictID(&v)
	if err != nil {
		return billing.VerdictRef{}, err
	}
	return billing.VerdictRef{VerdictID: id, EnclaveID: s.EnclaveID, ReportDigest: s.ReportDigest}, nil
}

// escrow reads the escrow of (SLA, period).
func (b *billingSource) escrow(ctx context.Context, slaID, period string) (*escrowRecord, error) {
	raw, err := b.r.Evaluate(ctx, b.refund, "GetEscrow", slaID, period)
	if err != nil {
		return nil, err
	}
	var e escrowRecord
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%s.GetEscrow: decode: %w", b.refund, err)
	}
	if e.SLAID != slaID || e.Period != period {
		return nil, fmt.Errorf("%s.GetEscrow: asked for period %s of SLA %s, got period %s of SLA %s", b.refund, period, slaID, e.Period, e.SLAID)
	}
	return &e, nil
}

// slaRecord reads the SLA's record and its document (GetSLA on a peer of
// the caller's organization).
func (b *billingSource) slaRecord(ctx context.Context, slaID string) (*agreementRecord, *sla.SLA, error) {
	raw, err := b.r.EvaluateOwnOrg(ctx, b.agreement, "GetSLA", slaID)
	if err != nil {
		return nil, nil, err
	}
	var a agreementRecord
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, nil, fmt.Errorf("%s.GetSLA: decode: %w", b.agreement, err)
	}
	_, doc, err := a.document()
	if err != nil {
		return nil, nil, err
	}
	return &a, doc, nil
}

// sameIdentity reports whether an escrow party is the agreement's party
// (MSP ID, subject and issuer).
func sameIdentity(p sla.Party, q agreementParty) bool {
	return p.MSPID == q.MSPID && p.Subject == q.Subject && p.Issuer == q.Issuer
}

// dueDate is the --due / --due-days choice.
type dueDate struct {
	Date string // YYYY-MM-DD, or "" for Days after the issue date
	Days int
}

// buildInvoice builds the invoice of a period of an SLA from the ledger.
func buildInvoice(ctx context.Context, src *billingSource, slaID, period string, due dueDate) (*billing.Invoice, error) {
	e, err := src.escrow(ctx, slaID, period)
	if err != nil {
		return nil, err
	}
	a, doc, err := src.slaRecord(ctx, slaID)
	if err != nil {
		return nil, err
	}
	if !sameIdentity(e.Provider, a.Parties.Provider) {
		return nil, fmt.Errorf("the escrow's provider %s is not the SLA's provider %s", agreementParty(e.Provider), a.Parties.Provider)
	}
	if !sameIdentity(e.Payer, a.Parties.Client) {
		return nil, fmt.Errorf("the escrow's payer %s is not the SLA's client %s", agreementParty(e.Payer), a.Parties.Client)
	}
	end, err := time.Parse(time.RFC3339, e.PeriodEnd)
	if err != nil {
		return nil, fmt.Errorf("escrow period_end %q: %w", e.PeriodEnd, err)
	}
	dueText := due.Date
	if dueText == "" {
		dueText = end.UTC().AddDate(0, 0, due.Days).Format(time.DateOnly)
	}
	in := billing.InvoiceInput{
		SLAID: slaID, SLATitle: doc.Title, Service: doc.Service.Name, Period: e.Period, PeriodEnd: e.PeriodEnd,
		DueDate: dueText, Currency: e.Currency, Seller: billing.PartyOf(e.Provider), Buyer: billing.PartyOf(e.Payer),
		Fee: e.Amount,
	}
	if e.DepositTx != "" {
		ref, err := src.ref(ctx, e.DepositTx)
		if err != nil {
			return nil, fmt.Errorf("deposit of period %s: %w", period, err)
		}
		in.Deposit = &billing.Payment{Amount: e.Amount, Ref: ref}
	}
	if s := e.Settlement; s != nil {
		ref, err := src.ref(ctx, s.TxID)
		if err != nil {
			return nil, fmt.Errorf("settlement of period %s: %w", period, err)
		}
		v, err := s.verdictRef()
		if err != nil {
			return nil, err
		}
		in.Settlement = &billing.SettlementInput{Ref: ref, Verdict: v, CreditBPS: s.CreditBPS, Credit: s.Credit,
			Released: s.Released, Refund: s.Refund}
		if s.PenaltyOwed > 0 {
			in.Penalties = []billing.PenaltyInput{{Description: "penalty of the period's verdict", Owed: s.PenaltyOwed,
				Paid: s.PenaltyPaid, Ref: ref, Verdict: v}}
		}
	}
	inv, err := billing.NewInvoice(in)
	if err != nil {
		return nil, fmt.Errorf("invoice of period %s of SLA %s: %w", period, slaID, err)
	}
	return inv, nil
}

// statementRequest is what `slasa statement` asks for.
type statementRequest struct {
	Role     string // provider or client
	Wallet   string // "" for the party's wallet named by its SLAs
	Month    string // YYYY-MM
	SLAID    string // "" for every SLA
	Currency string // "" for the currency of the SLA periods the lines name
	// Caller is the identity that reads (to find its wallet when
	// neither Wallet nor SLAID is given).
	Caller identity.ID
}

// slaPeriodOf splits a wallet history reference "SLA/period" (the period
// is an RFC 3339 time, without '/'), or "SLA/" (a collateral lock or
// release: period "").
func slaPeriodOf(ref string) (string, string, bool) {
	i := strings.LastIndex(ref, "/")
	if i <= 0 {
		return "", "", false
	}
	if i == len(ref)-1 {
		// "<sla>/": the SLA's collateral lock or release, of no period.
		return ref[:i], "", true
	}
	if _, err := time.Parse(time.RFC3339, ref[i+1:]); err != nil {
		return "", "", false
	}
	return ref[:i], ref[i+1:], true
}

// maxSnapshotTries bounds the re-reads when the wallet changes while the
// statement reads its history.
const maxSnapshotTries = 3

// buildStatement builds one party's statement of a month from the ledger.
func buildStatement(ctx context.Context, src *billingSource, req statementRequest) (*billing.Statement, error) {
	from, err := time.Parse("2006-01", req.Month)
	if err != nil {
		return nil, usageError{fmt.Errorf("--month %q: want YYYY-MM", req.Month)}
	}
	to := from.AddDate(0, 1, 0)
	wallet, currency := req.Wallet, req.Currency
	// The history is read from the month's start (all SLAs) or from the
	// SLA's proposal (one SLA, whose entries before the month make its
	// opening balance), not from the wallet's beginning.
	since := from
	if req.SLAID != "" {
		rec, doc, err := src.slaRecord(ctx, req.SLAID)
		if err != nil {
			return nil, err
		}
		proposed, err := time.Parse(time.RFC3339Nano, rec.ProposedAt)
		if err != nil {
			return nil, fmt.Errorf("SLA %s: proposed_at %q: %w", req.SLAID, rec.ProposedAt, err)
		}
		if proposed = proposed.Add(-slaHistoryMargin); proposed.Before(since) {
			since = proposed
		}
		p := doc.Parties.Client
		if req.Role == "provider" {
			p = doc.Parties.Provider
		}
		switch {
		case p.Wallet == "":
			return nil, fmt.Errorf("SLA %s names no wallet for its %s", req.SLAID, req.Role)
		case wallet != "" && wallet != p.Wallet:
			return nil, fmt.Errorf("--wallet %s: the %s of SLA %s pays and is paid through wallet %s", wallet, req.Role, req.SLAID, p.Wallet)
		case currency != "" && currency != doc.Price.Currency:
			return nil, fmt.Errorf("--currency %s: SLA %s is priced in %s", currency, req.SLAID, doc.Price.Currency)
		}
		wallet, currency = p.Wallet, doc.Price.Currency
	}
	if wallet == "" {
		if wallet, err = src.partyWallet(ctx, req.Role, req.Caller); err != nil {
			return nil, err
		}
	}
	acct, entries, err := src.walletSnapshot(ctx, wallet, since)
	if err != nil {
		return nil, err
	}
	in := billing.StatementInput{
		Party: billing.Party{MSPID: acct.Owner.MSPID, Subject: acct.Owner.Subject, Issuer: acct.Owner.Issuer,
			CommonName: identity.CommonName(acct.Owner.Subject), Wallet: wallet},
		Role: req.Role, Month: req.Month, SLAID: req.SLAID,
		Lines: []billing.StatementLineInput{},
	}
	// All SLAs: the wallet's balance at the month's end is the balance
	// now less what came after, and at its start that less the month's
	// lines (so the lines add up to the ledger's balance). One SLA: that
	// SLA's entries before and through the month.
	var before, after int64
	escrows := map[string]*escrowRecord{}
	for i, e := range entries {
		at, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("history of wallet %s, entry %d (tx %s): timestamp %q: %w", wallet, i, e.TxID, e.Timestamp, err)
		}
		slaID, period, named := slaPeriodOf(e.Reference)
		if req.SLAID != "" && (!named || slaID != req.SLAID) {
			continue
		}
		switch {
		case at.Before(from):
			if before, err = addInt64(before, e.Amount); err != nil {
				return nil, fmt.Errorf("history of wallet %s before %s: %w", wallet, req.Month, err)
			}
			continue
		case !at.Before(to):
			if after, err = addInt64(after, e.Amount); err != nil {
				return nil, fmt.Errorf("history of wallet %s after %s: %w", wallet, req.Month, err)
			}
			continue
		}
		pos, err := src.locate(ctx, e.TxID)
		if err != nil {
			return nil, fmt.Errorf("history of wallet %s, %s of tx %s: %w", wallet, e.Kind, e.TxID, err)
		}
		line := billing.StatementLineInput{
			Time: e.Timestamp, Ref: billing.LedgerRef{TxID: e.TxID, Block: pos.Block}, TxIndex: pos.Index,
			Kind: e.Kind, Counterparty: identityText(e.Counterparty), Amount: e.Amount,
		}
		if named {
			line.SLAID, line.Period = slaID, period
		}
		if named && period != "" {
			k := slaID + "/" + period
			esc, ok := escrows[k]
			if !ok {
				if esc, err = src.escrow(ctx, slaID, period); err != nil {
					return nil, fmt.Errorf("history of wallet %s, %s of tx %s: %w", wallet, e.Kind, e.TxID, err)
				}
				escrows[k] = esc
			}
			if currency == "" {
				currency = esc.Currency
			} else if esc.Currency != currency {
				return nil, fmt.Errorf("history of wallet %s: period %s of SLA %s is in %s, not %s: one statement has one currency (choose one SLA with --sla)",
					wallet, period, slaID, esc.Currency, currency)
			}
			if s := esc.Settlement; s != nil && s.TxID == e.TxID {
				v, err := s.verdictRef()
				if err != nil {
					return nil, err
				}
				line.Verdict, line.CreditBPS = &v, s.CreditBPS
			}
		}
		in.Lines = append(in.Lines, line)
	}
	if req.SLAID != "" {
		in.Opening, in.Closing = before, before
		for _, l := range in.Lines {
			if in.Closing, err = addInt64(in.Closing, l.Amount); err != nil {
				return nil, fmt.Errorf("SLA %s in wallet %s: %w", req.SLAID, wallet, err)
			}
		}
	} else {
		if in.Closing, err = addInt64(acct.Balance, -after); err != nil {
			return nil, fmt.Errorf("wallet %s: %w", wallet, err)
		}
		in.Opening = in.Closing
		for _, l := range in.Lines {
			if in.Opening, err = addInt64(in.Opening, -l.Amount); err != nil {
				return nil, fmt.Errorf("wallet %s: %w", wallet, err)
			}
		}
	}
	if currency == "" {
		return nil, usageError{fmt.Errorf("--currency: no line of wallet %s in %s names an SLA period, so its currency is unknown; give --currency", wallet, req.Month)}
	}
	in.Currency = currency
	keys := make([]string, 0, len(escrows))
	for k := range escrows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, err := src.periodInput(ctx, escrows[k])
		if err != nil {
			return nil, fmt.Errorf("statement of wallet %s for %s: %w", wallet, req.Month, err)
		}
		in.Periods = append(in.Periods, p)
	}
	st, err := billing.NewStatement(in)
	if err != nil {
		return nil, fmt.Errorf("statement of wallet %s for %s: %w", wallet, req.Month, err)
	}
	return st, nil
}

// addInt64 is a + b, failing on overflow.
func addInt64(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, fmt.Errorf("%d + %d overflows int64", a, b)
	}
	return s, nil
}

// slaHistoryMargin is how long before an SLA's proposal a one-SLA
// statement starts reading the wallet's history: an entry's time is its
// transaction's, which each endorsing peer lets differ from its clock by
// its allowed skew (minutes), so a later transaction may carry an earlier
// time than the proposal's by up to twice that.
const slaHistoryMargin = 24 * time.Hour

// walletSnapshot reads a wallet's balance and its history from a time on
// (HistoryFrom, every page), again until the balance before and after the
// history agree: the history then is the one that led to that balance.
func (b *billingSource) walletSnapshot(ctx context.Context, wallet string, from time.Time) (*walletAccount, []walletEntry, error) {
	balance := func() (*walletAccount, error) {
		raw, err := b.r.Evaluate(ctx, b.refund, "BalanceOf", wallet)
		if err != nil {
			return nil, err
		}
		var a walletAccount
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("%s.BalanceOf: decode: %w", b.refund, err)
		}
		return &a, nil
	}
	for try := 1; ; try++ {
		first, err := balance()
		if err != nil {
			return nil, nil, err
		}
		var entries []walletEntry
		for bookmark, pages := "", 0; ; pages++ {
			if pages > 100000 {
				return nil, nil, fmt.Errorf("%s.HistoryFrom of wallet %s: more than 100000 pages", b.refund, wallet)
			}
			raw, err := b.r.Evaluate(ctx, b.refund, "HistoryFrom", wallet, from.UTC().Format(time.RFC3339Nano), strconv.Itoa(maxHistoryPage), bookmark)
			if err != nil {
				return nil, nil, err
			}
			var p historyPage
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, nil, fmt.Errorf("%s.HistoryFrom: decode: %w", b.refund, err)
			}
			entries = append(entries, p.Entries...)
			if p.Bookmark == "" {
				break
			}
			if p.Bookmark == bookmark {
				return nil, nil, fmt.Errorf("%s.HistoryFrom of wallet %s: the bookmark %q does not advance", b.refund, wallet, bookmark)
			}
			bookmark = p.Bookmark
		}
		last, err := balance()
		if err != nil {
			return nil, nil, err
		}
		if *first == *last {
			return last, entries, nil
		}
		if try == maxSnapshotTries {
			return nil, nil, fmt.Errorf("wallet %s changed while its history was read, %d times: try again", wallet, try)
		}
	}
}

// maxHistoryPage is the page size the statement reads History with (the
// refund chaincode's MaxPageSize).
const maxHistoryPage = 1000

// partyWallet finds the wallet the caller pays and is paid through as
// role: the one wallet its SLAs in that role name (agreement ListSLAs,
// every page, and each SLA's document).
func (b *billingSource) partyWallet(ctx context.Context, role string, caller identity.ID) (string, error) {
	wallets := map[string][]string{}
	for bookmark := ""; ; {
		raw, err := b.r.Evaluate(ctx, b.agreement, "ListSLAs", role, caller.MSPID, identity.CommonName(caller.Subject), "100", bookmark)
		if err != nil {
			return "", err
		}
		var page struct {
			Records  []agreementRecord `json:"records"`
			Bookmark string            `json:"bookmark"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", fmt.Errorf("%s.ListSLAs: decode: %w", b.agreement, err)
		}
		for _, r := range page.Records {
			p := r.Parties.Client
			if role == "provider" {
				p = r.Parties.Provider
			}
			if p.MSPID != caller.MSPID || p.Subject != caller.Subject || p.Issuer != caller.Issuer {
				continue
			}
			_, doc, err := b.slaRecord(ctx, r.ID)
			if err != nil {
				return "", err
			}
			w := doc.Parties.Client.Wallet
			if role == "provider" {
				w = doc.Parties.Provider.Wallet
			}
			if w != "" {
				wallets[w] = append(wallets[w], r.ID)
			}
		}
		if bookmark = page.Bookmark; bookmark == "" || len(page.Records) == 0 {
			break
		}
	}
	switch len(wallets) {
	case 0:
		return "", usageError{fmt.Errorf("--wallet: no SLA names you (%s) as its %s with a wallet; give --wallet or --sla", idText(caller, ""), role)}
	case 1:
		for w := range wallets {
			return w, nil
		}
	}
	names := make([]string, 0, len(wallets))
	for w, ids := range wallets {
		names = append(names, fmt.Sprintf("%s (SLA %s)", w, strings.Join(ids, ", ")))
	}
	sort.Strings(names)
	return "", usageError{fmt.Errorf("--wallet: your SLAs as %s use several wallets: %s; choose one with --wallet or --sla", role, strings.Join(names, "; "))}
}

// addBillingCommands adds `slasa invoice` and `slasa statement`.
func addBillingCommands(root *cobra.Command) {
	root.AddCommand(newInvoiceCommand(), newStatementCommand())
}

// addFormatFlags adds --json and --csv.
func addFormatFlags(cmd *cobra.Command) {
	addJSONFlag(cmd)
	cmd.Flags().Bool("csv", false, "print RFC 4180 CSV instead of a table (for spreadsheets)")
}

// formatFlags returns --json and --csv, which exclude each other.
func formatFlags(cmd *cobra.Command) (asJSON, asCSV bool, err error) {
	asCSV, _ = cmd.Flags().GetBool("csv")
	asJSON = jsonFlag(cmd)
	if asJSON && asCSV {
		return false, false, usageError{errors.New("--json and --csv exclude each other")}
	}
	return asJSON, asCSV, nil
}

func newInvoiceCommand() *cobra.Command {
	var dueFlag, pdfPath string
	var dueDays int
	cmd := &cobra.Command{
		Use:   "invoice SLA PERIOD [--due YYYY-MM-DD | --due-days N] [--pdf FILE] [--json | --csv]",
		Short: "The invoice of a billing period from the provider to the client, from the ledger (table, JSON, CSV, PDF)",
		Long: "Builds the invoice of PERIOD (its RFC 3339 start, as the ledger names it) of SLA from the ledger\n" +
			"alone: the period's escrow and its settlement (refund GetEscrow: fee, credit tier and credit,\n" +
			"penalties, the verdict they come from), the SLA's parties, title and service (agreement GetSLA;\n" +
			"the escrow's parties must be the SLA's) and the block of every transaction (qscc\n" +
			"GetBlockByTxID). The invoice number is derived from the SLA and the period (package billing), so\n" +
			"either party computes the same invoice on any peer. The issue date is the period end's date; the\n" +
			"due date is --due, or --due-days after the issue date. Lines: the service fee, the SLA service\n" +
			"credit (negative, with its tier) and penalties paid from the provider's collateral; the status\n" +
			"says whether the period is unpaid, paid into escrow, or settled and paid. Prints a table, --json\n" +
			"or --csv; --pdf FILE also writes an A4 PDF invoice. For the SLA's provider or client (default\n" +
			"--as provider).",
		Args: exactArgs(2, "SLA PERIOD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			agreementCC, _ := cmd.Flags().GetString("agreement-cc")
			refundCC, _ := cmd.Flags().GetString("refund-cc")
			asJSON, asCSV, err := formatFlags(cmd)
			if err != nil {
				return err
			}
			if _, err := time.Parse(time.RFC3339, args[1]); err != nil {
				return usageError{fmt.Errorf("PERIOD %q: want the period's start as RFC 3339 (e.g. 2026-12-01T00:00:00Z)", args[1])}
			}
			due := dueDate{Date: dueFlag, Days: dueDays}
			switch {
			case dueFlag != "" && cmd.Flags().Changed("due-days"):
				return usageError{errors.New("--due and --due-days exclude each other")}
			case dueDays < 0 || dueDays > 3650:
				return usageError{fmt.Errorf("--due-days %d: want 0 to 3650", dueDays)}
			case dueFlag != "":
				if d, err := time.Parse(time.DateOnly, dueFlag); err != nil || d.Format(time.DateOnly) != dueFlag {
					return usageError{fmt.Errorf("--due %q: want a date YYYY-MM-DD", dueFlag)}
				}
			}
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			inv, err := buildInvoice(ctx, newBillingSource(gatewayReader{s}, agreementCC, refundCC, s.Network.Name()), args[0], args[1], due)
			if err != nil {
				return err
			}
			if pdfPath != "" {
				var buf bytes.Buffer
				if err := inv.WritePDF(&buf); err != nil {
					return fmt.Errorf("invoice %s: %w", inv.Number, err)
				}
				if err := os.WriteFile(pdfPath, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("--pdf: %w", err)
				}
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return billing.WriteJSON(out, inv)
			case asCSV:
				return inv.WriteCSV(out)
			case pdfPath != "":
				_, err := fmt.Fprintf(out, "invoice %s (%s, total due %s, %s) written to %s\n", inv.Number, inv.Status, inv.TotalDue, inv.DueDate, pdfPath)
				return err
			}
			return inv.WriteTable(out)
		},
	}
	cmd.Flags().StringVar(&dueFlag, "due", "", "payment due date YYYY-MM-DD (not before the issue date, the period end's date)")
	cmd.Flags().IntVar(&dueDays, "due-days", 30, "payment due this many days after the issue date (the period end's date)")
	cmd.Flags().StringVar(&pdfPath, "pdf", "", "also write the invoice as a PDF to this file")
	agreementCCFlag(cmd)
	refundCCFlag(cmd)
	addFormatFlags(cmd)
	return cmd
}

func newStatementCommand() *cobra.Command {
	var req statementRequest
	cmd := &cobra.Command{
		Use:   "statement --party client|provider --month YYYY-MM [--wallet W] [--sla ID] [--json | --csv]",
		Short: "A party's account statement for a month, from the ledger (table, JSON, CSV)",
		Long: "Builds the statement of a wallet for a calendar month (UTC) from the ledger alone: the wallet's\n" +
			"balance and its history from the month's start on (refund BalanceOf and HistoryFrom, every page;\n" +
			"with --sla, from a day before the SLA's proposal), the escrow of each SLA\n" +
			"period a line names (refund GetEscrow: the currency, and the verdict of a settlement's lines) and\n" +
			"the block and position of every transaction (qscc GetBlockByTxID), so the same command gives the\n" +
			"same statement on any peer. Lines are in ledger order with a running balance. Without --sla the\n" +
			"account is the whole wallet: the closing balance is its balance now less what came after the\n" +
			"month, the opening balance the closing less the month's lines (the wallet's past is not read).\n" +
			"With --sla only that SLA's lines count, the balances are their sums before and through the\n" +
			"month. After the lines, one summary per SLA period the lines name, as its escrow stands now: the\n" +
			"fee, the escrow status (HELD, SETTLED, EXPIRED, REFUNDED), the verdict's tier, credit and id, the\n" +
			"penalty owed and paid, what went back to the client, the net paid, and the transactions that paid\n" +
			"the fee in and ended the escrow. The wallet is --wallet, else the one the SLA (--sla), else the one\n" +
			"your SLAs name for you as --party. For the wallet's owner or an admin of the issuer (default --as\n" +
			"the party).",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			agreementCC, _ := cmd.Flags().GetString("agreement-cc")
			refundCC, _ := cmd.Flags().GetString("refund-cc")
			asJSON, asCSV, err := formatFlags(cmd)
			if err != nil {
				return err
			}
			if req.Role != "client" && req.Role != "provider" {
				return usageError{fmt.Errorf("--party %q: want client or provider", req.Role)}
			}
			if m, err := time.Parse("2006-01", req.Month); err != nil || m.Format("2006-01") != req.Month {
				return usageError{fmt.Errorf("--month %q: want YYYY-MM", req.Month)}
			}
			if req.Currency != "" {
				if _, err := billing.MinorUnits(req.Currency); err != nil {
					return usageError{fmt.Errorf("--currency: %w", err)}
				}
			}
			s, err := connect(cmd, req.Role)
			if err != nil {
				return err
			}
			defer s.Close()
			cert, err := s.Certificate()
			if err != nil {
				return err
			}
			req.Caller = identity.FromCert(s.MSPID, cert)
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			st, err := buildStatement(ctx, newBillingSource(gatewayReader{s}, agreementCC, refundCC, s.Network.Name()), req)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return billing.WriteJSON(cmd.OutOrStdout(), st)
			case asCSV:
				return st.WriteCSV(cmd.OutOrStdout())
			}
			return st.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&req.Role, "party", "", "the wallet's role: client or provider (required)")
	cmd.Flags().StringVar(&req.Month, "month", "", "billing month YYYY-MM, UTC (required)")
	cmd.Flags().StringVar(&req.Wallet, "wallet", "", "the wallet (default: the party's wallet in --sla, else in the party's SLAs)")
	cmd.Flags().StringVar(&req.SLAID, "sla", "", "only the lines of this SLA")
	cmd.Flags().StringVar(&req.Currency, "currency", "", "ISO 4217 code of the wallet's minor units (default: the currency of the SLA periods its lines name)")
	agreementCCFlag(cmd)
	refundCCFlag(cmd)
	addFormatFlags(cmd)
	return cmd
}
