// Package refund is the Refund chaincode: wallets, escrow of period fees,
// settlement of enclave verdicts, and the providers' reputation.
//
// # Configuration
//
// Configure(issuerMSP, enclaveChaincode, agreementChaincode) is accepted
// once. The submitter must belong to issuerMSP and becomes the issuer: the
// only identity (MSP ID and certificate common name) that may Mint. The
// refund chaincode trusts verdicts signed only by the enclave that the
// enclave registry chaincode (ercc) holds for enclaveChaincode, whatever
// chaincode a verdict names, and escrow deposits only from
// agreementChaincode. Run it right after deployment, as the issuer
// (issuer@providerorg.slasa.local on the native network).
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
// PeriodSettled; both carry the same Settlement payload. Wallet operations
// set no event. DepositEscrow sets none: it runs inside the agreement
// chaincode's transaction, and events of a called chaincode are not
// delivered.
//
// # State
//
// Composite keys, none shared between SLAs (settlements of different SLAs
// never conflict):
//
//	config                                   the Config (written once)
//	account~<id>                             an Account
//	entry~<account>~<ts ns, 20 digits>~<txid>~<n>   a wallet History entry
//	escrow~<sla>~<period>                    an Escrow (with its Settlement)
//	rep~<provider msp>~<product>~<sla>~<period>     a ScoreEntry per settled period
//
// Reputation is summed at query time from the per-period entries, so no
// settlement writes a shared counter.
package refund

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// DefaultRegistryChaincode is the enclave registry chaincode's name.
const DefaultRegistryChaincode = "ercc"

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
	keyConfig  = "config"
	keyAccount = "account"
	keyEntry   = "entry"
	keyEscrow  = "escrow"
	keyRep     = "rep"
)

var accountID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Contract is the Refund contract.
type Contract struct {
	contractapi.Contract
	// RegistryChaincode is the enclave registry; DefaultRegistryChaincode
	// when empty.
	RegistryChaincode string
}

// Config is the chaincode's configuration.
type Config struct {
	Issuer             Party  `json:"issuer"`
	EnclaveChaincode   string `json:"enclave_chaincode"`
	AgreementChaincode string `json:"agreement_chaincode"`
	ConfiguredAt       string `json:"configured_at"`
}

// Party is an identity: MSP ID and certificate common name.
type Party struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
}

// Account is a wallet.
type Account struct {
	ID      string `json:"id"`
	Owner   Party  `json:"owner"`
	Balance int64  `json:"balance"`
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
	Amount       int64  `json:"amount"`
	Balance      int64  `json:"balance"`
	Counterparty string `json:"counterparty,omitempty"`
	Reference    string `json:"reference,omitempty"`
}

// ---- identity, time, state helpers ----

func (c *Contract) registryName() string {
	if c.RegistryChaincode == "" {
		return DefaultRegistryChaincode
	}
	return c.RegistryChaincode
}

func caller(ctx contractapi.TransactionContextInterface) (Party, *x509.Certificate, error) {
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return Party{}, nil, errors.New("submitter: no client identity")
	}
	msp, err := ci.GetMSPID()
	if err != nil {
		return Party{}, nil, fmt.Errorf("submitter: read MSP ID: %w", err)
	}
	cert, err := ci.GetX509Certificate()
	if err != nil {
		return Party{}, nil, fmt.Errorf("submitter: read certificate: %w", err)
	}
	if cert == nil {
		return Party{}, nil, errors.New("submitter: not identified by an X.509 certificate")
	}
	return Party{MSPID: msp, CommonName: cert.Subject.CommonName}, cert, nil
}

func (p Party) String() string { return p.MSPID + "/" + p.CommonName }

func txTime(ctx contractapi.TransactionContextInterface) (time.Time, error) {
	ts, err := ctx.GetStub().GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	return ts.AsTime().UTC(), nil
}

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

func loadConfig(ctx contractapi.TransactionContextInterface) (*Config, error) {
	var cfg Config
	ok, err := getJSON(ctx, keyConfig, "configuration", &cfg)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("refund chaincode is not configured; the issuer must call Configure first")
	}
	return &cfg, nil
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
	if a > maxInt64-b {
		return 0, fmt.Errorf("amount overflow: %d + %d exceeds %d", a, b, int64(maxInt64))
	}
	return a + b, nil
}

const maxInt64 = 1<<63 - 1

// ---- Configure ----

// Configure sets the issuer, the trusted enclave chaincode and the agreement
// chaincode, once. The submitter must belong to issuerMSP and becomes the
// issuer. Returns the Config as JSON.
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, issuerMSP, enclaveChaincode, agreementChaincode string) (string, error) {
	if issuerMSP == "" {
		return "", errors.New("issuerMSP: must not be empty")
	}
	if enclaveChaincode == "" {
		return "", errors.New("enclaveChaincode: must not be empty")
	}
	if agreementChaincode == "" {
		return "", errors.New("agreementChaincode: must not be empty")
	}
	me, _, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if me.MSPID != issuerMSP {
		return "", fmt.Errorf("issuerMSP: the submitter %s does not belong to %s", me, issuerMSP)
	}
	var existing Config
	ok, err := getJSON(ctx, keyConfig, "configuration", &existing)
	if err != nil {
		return "", err
	}
	if ok {
		return "", fmt.Errorf("refund chaincode is already configured (issuer %s at %s)", existing.Issuer, existing.ConfiguredAt)
	}
	now, err := txTime(ctx)
	if err != nil {
		return "", err
	}
	cfg := Config{Issuer: me, EnclaveChaincode: enclaveChaincode, AgreementChaincode: agreementChaincode, ConfiguredAt: now.Format(time.RFC3339)}
	if err := putJSON(ctx, keyConfig, "configuration", cfg); err != nil {
		return "", err
	}
	return toJSON(cfg)
}

// GetConfig returns the Config as JSON.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return "", err
	}
	return toJSON(cfg)
}
