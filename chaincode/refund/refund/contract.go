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
//	OpenAccount         anyone; the submitter owns the new wallet
//	Mint                an admin (NodeOU role admin) of the configured issuer MSP
//	Transfer            the owner of the paying wallet
//	BalanceOf, History  the wallet's owner, or an admin of the issuer MSP
//	DepositEscrow       the SLA's client, only inside a transaction of the configured agreement chaincode
//	SettleVerdict       members of the SLA's provider's or client's MSP (who relay the verdict)
//	GetEscrow           members of the SLA's provider's or client's MSP
//	GetReputation, GetProductScore, GetConfig   anyone
//	Configure           an admin of an organization of the deploy configuration
//
// # The pinned enclave
//
// SettleVerdict pays a verdict only when it comes from the enclave pinned in
// the SLA's agreement record (read from the agreement chaincode,
// GetSettlementView):
// the verdict must name the pinned chaincode and enclave id, and its
// signature must verify with that enclave's key, read from the enclave
// registry by id (ercc QueryEnclaveByID). A later registration, a redeploy or
// the old key after a handover does not settle anything.
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
// below zero. Money exists in wallets and in escrow; only Mint creates it,
// so the sum of all wallet balances and held escrow equals the sum minted.
//
// # Events
//
// Fabric delivers one chaincode event per transaction. SettleVerdict sets
// RefundIssued when the client received money (a credit or a penalty), else
// PeriodSettled; both carry the same Settlement payload, which names both
// parties by MSP ID, common name, subject, issuer and wallet. Wallet
// operations set no event. DepositEscrow sets none: it runs inside the
// agreement chaincode's transaction, and events of a called chaincode are not
// delivered.
//
// # State
//
// Composite keys, none shared between SLAs (settlements of different SLAs
// never conflict):
//
//	deploy-config                            the recorded deploy configuration (ccguard.Record)
//	account~<id>                             an Account
//	entry~<account>~<ts ns, 20 digits>~<txid>~<n>   a wallet History entry
//	escrow~<sla>~<period>                    an Escrow (with its Settlement)
//	rep~<provider msp>~<product>~<sla>~<period>     a ScoreEntry per settled period
//
// Reputation is summed at query time from the per-period entries, so no
// settlement writes a shared counter.
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
	"github.com/slasa/slasa/internal/identity"
)

// Event names.
const (
	EventRefundIssued  = "RefundIssued"
	EventPeriodSettled = "PeriodSettled"
)

// Escrow statuses.
const (
	EscrowHeld    = "HELD"
	EscrowSettled = "SETTLED"
)

const (
	keyAccount = "account"
	keyEntry   = "entry"
	keyEscrow  = "escrow"
	keyRep     = "rep"
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

// Account is a wallet.
type Account struct {
	ID string `json:"id"`
	// Owner is the identity that opened the wallet.
	Owner   identity.ID `json:"owner"`
	Balance int64       `json:"balance"`
}

// Entry kinds of a wallet's history.
const (
	KindMint         = "mint"
	KindTransferIn   = "transfer_in"
	KindTransferOut  = "transfer_out"
	KindEscrow       = "escrow_deposit"
	KindRelease      = "escrow_release"
	KindCredit       = "service_credit"
	KindPenaltyOut   = "penalty_paid"
	KindPenaltyIn    = "penalty_received"
	maxEntriesPerTx  = 1000
	entryIndexDigits = 3
)

// Entry is one change of a wallet's balance.
type Entry struct {
	TxID      string `json:"tx_id"`
	Timestamp string `json:"timestamp"`
	Kind      string `json:"kind"`
	// Amount is the change: positive for money in, negative for money out.
	Amount  int64 `json:"amount"`
	Balance int64 `json:"balance"`
	// Counterparty is the other wallet, "escrow", or for a mint the
	// issuer admin's identity.
	Counterparty string `json:"counterparty,omitempty"`
	Reference    string `json:"reference,omitempty"`
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
