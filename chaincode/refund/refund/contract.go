// Package refund is the Refund chaincode: wallets, escrow of period fees,
// settlement of enclave verdicts, and the providers' reputation.
//
// # Configuration
//
// The contract is built with New from the organization's ccguard.Guard: the
// deploy configuration (internal/deploycfg) that the organization gave its
// chaincode server (-config or SLASA_DEPLOY_CONFIG). Configure(configJSON)
// records the configuration's digest on the ledger; it is accepted only from
// an admin (NodeOU role admin) of one of the configuration's organizations,
// only with exactly the endorsing peers' own file, and not twice for the same
// file. Until it has run, and on a peer whose file differs from the recorded
// one, every other function is refused. GetConfig shows the peer's
// configuration and the recorded one. No caller chooses a setting: the issuer
// MSP and the names of the agreement chaincode and of the enclave registry
// (ercc) come from the configuration.
//
// # Who may call what
//
// An identity is MSP ID, the certificate's full subject DN and its issuer DN
// (internal/identity); a wallet's owner is the identity that opened it, and
// a certificate with the same common name from another CA, or with another
// NodeOU role, is not its owner.
//
//	OpenAccount         a member of an organization of the deploy configuration; the submitter owns the new wallet
//	Mint                an admin (NodeOU role admin) of the configured issuer MSP
//	Transfer, Compact   the owner of the wallet (paying, compacted)
//	BalanceOf, History  the wallet's owner, or an admin of the issuer MSP
//	DepositEscrow       the SLA's client, only inside a transaction of the configured agreement chaincode
//	LockCollateral      the SLA's provider, only inside a transaction of the configured agreement chaincode (ProposeSLA)
//	RefundUnstarted     the SLA's provider or client, only inside a transaction of the agreement chaincode (TerminateSLA)
//	SettleVerdict       members of the SLA's provider's or client's MSP (who relay the verdict)
//	ClaimExpiredEscrow  members of the SLA's provider's or client's MSP, at or after the period's verdict deadline
//	ReleaseCollateral   members of the SLA's provider's or client's MSP, once the SLA is over and no period is held
//	GetEscrow, GetCollateral   members of the SLA's provider's or client's MSP
//	GetSLAScore         members of the SLA's provider's or client's MSP (the agreement chaincode's GetParties refuses anybody else)
//	GetReputation, GetProductScore, GetSupply, GetConfig   anyone
//	Configure           an admin of an organization of the deploy configuration
//
// # Who must endorse what
//
// The checks above run in the chaincode, on the endorsing peers; a peer
// runs its own organization's binary, and validation at commit checks only
// the endorsements' signatures against the policies. So every key that
// belongs to somebody carries a key-level (state-based) policy, set once,
// in the transaction that creates the key (internal/ccpolicy), and never
// set again (setting it again would invalidate the key's other writes in
// the same block):
//
//	wallet base, credits, history   a peer of the owner's organization AND a peer of one other
//	                                organization of the deploy configuration (ccpolicy.OwnerAndOneOf)
//	escrow, collateral hold,        peers of the SLA's provider's and client's organizations (ccpolicy.AllOf)
//	score entry
//	supply of an issuer MSP         a peer of the issuer's organization
//
// A key's creation is validated by the chaincode-level policy (the design's
// OutOf(2, every organization): any two organizations), its later writes
// and its delete by its own policy only. So no organization alone, not
// even the owner's, changes a wallet's base (a debit), and no third
// organization, alone or with one party, changes an escrow, a score entry
// or a wallet it does not own: such a transaction is invalidated at commit
// (ENDORSEMENT_POLICY_FAILURE) and changes nothing.
//
// Residual, by Fabric's design: two organizations that meet the chaincode
// policy together can create any NEW key with any value and policy, also
// without running this chaincode. So two colluding organizations can
// create credits for their own wallets (money from nothing), fake score
// entries or an escrow key of an SLA not paid yet (which blocks its
// deposit). They cannot debit, settle or rewrite anybody else's keys. The
// block names their peers as endorsers, and the issuer's audit finds money
// from nothing: the wallets and held escrow no longer sum to the supply
// (GetSupply; every transaction but Mint moves zero net money). A credit
// only counts when it carries its wallet's policy and its value is a
// positive credit of that wallet (see credits), so a key somebody plants in
// a wallet's credit range can neither lower its balance nor block its
// compaction.
//
// A wallet's owner must belong to an organization of the deploy
// configuration (whose organizations run peers): a wallet whose owner's
// organization runs no peer could never be debited.
//
// # The pinned enclave
//
// SettleVerdict pays a verdict only when it comes from the enclave pinned in
// the SLA's agreement record (read from the agreement chaincode,
// GetSettlementView):
// the verdict must name the pinned chaincode and enclave id, and its
// signature must verify with that enclave's registered key. The agreement
// chaincode copies the key from the enclave registry into the pin when it
// pins the enclave, and the pinned id is the key's SHA-256, so settlement
// reads it with the SLA (a pin made before the key was copied is looked up
// in the registry by id, ercc QueryEnclaveByID). A later registration, a
// redeploy or the old key after a handover does not settle anything.
//
// # Time
//
// Every time the contract reads is the transaction timestamp, which the
// client chooses; the guard (ccguard, wired as BeforeTransaction) refuses
// every function whose timestamp is more than the allowed skew (default 5
// minutes, the server's -max-clock-skew) away from the endorsing peer's
// clock. What stays trusted is each endorsing organization's clock within the
// skew. SettleVerdict settles a period only when (a) the transaction time is
// at or after the period's end and (b) the agreement chaincode holds the
// anchor the verdict names (batch verdict.batch_seq, read with the SLA by
// GetSettlementView) with the
// verdict's batch_cid and a window ending at the period's end: the logger
// witnessed the end of the period (an anchor's window has ended when it is
// anchored), and the batch chain the enclave evaluated is the anchored one.
//
// # Money
//
// Amounts are int64 minor units. Every operation checks for negative
// amounts, overflow and insufficient balance, and never lets a balance go
// below zero. Money exists in wallets, in escrow and in collateral holds;
// only Mint creates it and adds it to the issuer's supply key, so the sum
// of all wallet balances, held escrow and held collateral equals the
// supply.
//
// Nothing stays stuck: an SLA's collateral (consequences.collateral_minor)
// is locked from the provider's collateral wallet into its hold when the
// provider proposes it (LockCollateral), pays the verdicts' penalties, and
// goes back to the wallet once the SLA is over and none of its periods is
// still in escrow (ReleaseCollateral). A period's escrow leaves HELD once:
// settled with its verdict (SETTLED), claimed after its verdict deadline
// (EXPIRED, ClaimExpiredEscrow, when the SLA has an escrow_expiry), or
// refunded because the SLA was terminated before the period started
// (REFUNDED, RefundUnstarted). The statuses exclude each other: each of
// these transactions reads the escrow key as HELD and rewrites it, so two
// of them in one block conflict and only the first commits.
//
// A wallet is its base key (owner, base) and its credit keys. Every CREDIT
// (a mint, a transfer in, a settlement's service credit, release or
// penalty) is a new credit key, a blind write, so credits never conflict:
// a thousand settlements crediting one provider in one block all commit.
// A settlement's credits read nothing (the escrow names the parties, whose
// wallets the deposit checked); a transfer or a mint reads the recipient's
// base (it must exist, and its owner's organization names the credit's
// policy), so it conflicts only with the recipient's own debit or
// compaction in the same block. Every DEBIT (a transfer out, an escrow deposit, a
// penalty paid from a collateral wallet) rewrites the owner's base, whose
// policy needs the owner's peer: nobody else takes money. A debit reads the
// base and, when the base does not cover it, the wallet's credits, oldest
// first: first those older than twice the allowed clock skew (a closed
// range: no later transaction adds to it), then the newer ones only when
// needed (a credit landing there meanwhile is a phantom-read conflict:
// retry). The balance is the base plus the credits; the base is negative
// while credits cover debits. Compact (the owner) moves the credits older
// than twice the skew into the base, at most MaxCompact per transaction:
// each credit key is deleted and a history entry of the same name created
// with the wallet's policy, so history is never lost. Deleting a key
// removes its policy in Fabric; a deleted credit's name re-created later
// (by two colluding organizations) does not count again, because its
// history entry exists.
//
// # Events
//
// Fabric delivers one chaincode event per transaction. SettleVerdict sets
// RefundIssued when the client received money (a credit or a penalty), else
// PeriodSettled; both carry the same Settlement payload, which names both
// parties by MSP ID, common name, subject, issuer and wallet.
// ClaimExpiredEscrow sets EscrowExpired (the Expiry), ReleaseCollateral
// CollateralReleased (the Hold); LockCollateral and RefundUnstarted run
// inside an agreement chaincode transaction and set none. Wallet
// operations (Compact included) set no event. DepositEscrow sets none: it runs inside the
// agreement chaincode's transaction, and events of a called chaincode are not
// delivered.
//
// # State
//
// Composite keys (~) and simple keys (/), none shared between SLAs and no
// key that two settlements write (settlements never conflict, also of one
// provider and one client):
//
//	deploy-config                                   the recorded deploy configuration (ccguard.Record)
//	supply~<issuer msp>                             the issuer's Supply (every Mint)
//	account~<id>                                    a wallet's base (id, owner, base)
//	delta/<wallet>/<ts ns, 20 digits>/<txid>/<n>    a Credit, pending
//	entry/<wallet>/<ts ns, 20 digits>/<txid>/<n>    a History Entry: a debit, or a credit Compact moved
//	escrow~<sla>~<period>                           an Escrow (with its Settlement, Expiry or refund)
//	hold~<sla>                                      a collateral Hold
//	rep~<provider msp>~<product>~<sla>~<period>     a ScoreEntry per settled period
//
// Credits and entries are simple keys so that a range can end at a time
// (the shim's GetStateByRange takes simple keys only); wallet ids hold no
// '/'. Reputation is summed at query time from the per-period entries, one
// page at a time, so no settlement writes a shared counter: a provider's
// (GetReputation), a product's (GetProductScore) and one SLA's
// (GetSLAScore, its credit so far) are each a partial-key range. History and
// reputation queries page with bookmarks.
package refund

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/internal/ccguard"
)

// Event names.
const (
	EventRefundIssued       = "RefundIssued"
	EventPeriodSettled      = "PeriodSettled"
	EventEscrowExpired      = "EscrowExpired"
	EventCollateralReleased = "CollateralReleased"
)

// Escrow statuses: HELD until the period is settled with its verdict
// (SETTLED), claimed after its verdict deadline (EXPIRED), or refunded to
// the client because the SLA was terminated before the period started
// (REFUNDED).
const (
	EscrowHeld     = "HELD"
	EscrowSettled  = "SETTLED"
	EscrowExpired  = "EXPIRED"
	EscrowRefunded = "REFUNDED"
)

const (
	keyAccount = "account"
	keyEscrow  = "escrow"
	keyRep     = "rep"
	keySupply  = "supply"
)

var accountID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Contract is the Refund contract.
type Contract struct {
	contractapi.Contract
	g *ccguard.Guard
}

// New returns the contract guarded by g: g.Before runs before every
// function, and the issuer and chaincode names come from g's configuration.
func New(g *ccguard.Guard) *Contract {
	c := &Contract{g: g}
	c.BeforeTransaction = g.Before
	return c
}

// ---- configuration ----

// Configure records the organization's deploy configuration (configJSON,
// exactly the file of every endorsing peer) on the ledger and returns the
// record (ccguard.Record) as JSON. Only an admin of one of the
// configuration's organizations may call it; the same configuration is
// recorded once.
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (string, error) {
	r, err := c.g.Configure(ctx, configJSON)
	if err != nil {
		return "", err
	}
	return toJSON(r)
}

// GetConfig returns this peer's deploy configuration, its digest and the
// recorded one (ccguard.ConfigView) as JSON. Anyone may read it.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	v, err := c.g.View(ctx)
	if err != nil {
		return "", err
	}
	return toJSON(v)
}

// ---- state helpers ----

func key(ctx contractapi.TransactionContextInterface, objectType string, attrs ...string) (string, error) {
	k, err := ctx.GetStub().CreateCompositeKey(objectType, attrs)
	if err != nil {
		return "", fmt.Errorf("%s key: %w", objectType, err)
	}
	return k, nil
}

// getJSON reads key into v; it reports whether the key exists.
func getJSON(ctx contractapi.TransactionContextInterface, k, what string, v any) (bool, error) {
	data, err := ctx.GetStub().GetState(k)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", what, err)
	}
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", what, err)
	}
	return true, nil
}

func putJSON(ctx contractapi.TransactionContextInterface, k, what string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := ctx.GetStub().PutState(k, data); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

func toJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode result: %w", err)
	}
	return string(data), nil
}

// proposalChaincode returns the name of the chaincode the transaction's
// proposal invokes: the top-level chaincode, also inside a
// chaincode-to-chaincode call.
func proposalChaincode(ctx contractapi.TransactionContextInterface) (string, error) {
	sp, err := ctx.GetStub().GetSignedProposal()
	if err != nil {
		return "", fmt.Errorf("read signed proposal: %w", err)
	}
	if sp == nil {
		return "", errors.New("read signed proposal: none")
	}
	var prop peer.Proposal
	if err := proto.Unmarshal(sp.GetProposalBytes(), &prop); err != nil {
		return "", fmt.Errorf("decode proposal: %w", err)
	}
	var payload peer.ChaincodeProposalPayload
	if err := proto.Unmarshal(prop.GetPayload(), &payload); err != nil {
		return "", fmt.Errorf("decode proposal payload: %w", err)
	}
	var cis peer.ChaincodeInvocationSpec
	if err := proto.Unmarshal(payload.GetInput(), &cis); err != nil {
		return "", fmt.Errorf("decode invocation spec: %w", err)
	}
	return cis.GetChaincodeSpec().GetChaincodeId().GetName(), nil
}

func parseAmount(field, text string) (int64, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive integer of minor units", field, text)
	}
	return n, nil
}

// add returns a+b for non-negative a and b, failing on overflow.
func add(a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, fmt.Errorf("negative amount (%d, %d)", a, b)
	}
	// mutate:check money-overflow
	if a > maxInt64-b {
		return 0, fmt.Errorf("amount overflow: %d + %d exceeds %d", a, b, int64(maxInt64))
	}
	return a + b, nil
}

const maxInt64 = 1<<63 - 1
