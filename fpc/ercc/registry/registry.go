// Package registry is the enclave registry chaincode (ercc): the on-chain
// directory of enclaves in the Fabric Private Chaincode model.
//
// # Configuration
//
// Each organization runs its own ercc server with its own copy of the deploy
// configuration (internal/deploycfg), loaded at start (-config or
// SLASA_DEPLOY_CONFIG). Nothing is configured on the ledger by a first
// caller: the configuration fixes the enclave chaincode's name, the
// organization that hosts the enclave and the attestation accepted
// ("simulated" or "sgx"), and every organization's peer endorses only what its
// own file allows. Configure records the file's digest once (an admin of an
// approving organization, the exact file of the endorsing peers; see
// internal/ccguard); every other function refuses to run on a peer whose file
// is not the recorded one, and every function refuses a transaction timestamp
// more than the allowed clock skew away from the peer's clock.
//
// # Who may call what
//
//   - Configure(configJSON): an admin (NodeOU admin) of an organization of the
//     configuration's orgs; GetConfig: anyone.
//   - RegisterEnclave(credentialsJSON): an admin of the enclave's host
//     organization (enclave.host_msp_id) only. The attested data must name
//     that organization as the hosting peer's MSP, the configured enclave
//     chaincode, this channel, the chaincode version and sequence committed
//     in _lifecycle, and the digest of the registry peer's own deploy
//     configuration; the evidence must be of the configured attestation
//     mode (simulated evidence proves possession of the enclave key only;
//     SGX evidence cannot be verified by this build and is refused).
//   - QueryEnclave, QueryEnclaveByID, QueryEnclaveCredentials: anyone. The
//     registry is public: clients encrypt requests, the Cloud Logger
//     encrypts batches, and the agreement and refund chaincodes and the
//     enclave runtime verify responses and verdicts with what it serves.
//
// # Registrations are kept
//
// Every registration is kept under (chaincode, enclave id) and never deleted;
// a "current" pointer per chaincode names the enclave that QueryEnclave
// serves. An enclave already registered may register again only for a newer
// chaincode sequence (a redeploy that kept its keys): its record is updated
// and becomes current. An enclave with a new key (a restarted enclave without
// sealing, a new measurement) is registered by the host organization's admin
// and becomes current; the SLAs accepted before stay pinned to the enclave id
// they recorded (agreement chaincode) until both parties approve a handover,
// so a new key takes over no existing agreement by itself.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer/lifecycle"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/deploycfg"
)

// State keys (composite key object types).
const (
	keyEnclave     = "ercc.enclave"     // (chaincode, enclave id) -> credentials.Record
	keyCredentials = "ercc.credentials" // (chaincode, enclave id) -> credentials JSON as submitted
	keyCurrent     = "ercc.current"     // (chaincode) -> enclave id of the current enclave
	lifecycleName  = "_lifecycle"
)

// EventRegistered is the chaincode event emitted on every registration.
const EventRegistered = "EnclaveRegistered"

// Registered is the payload of EventRegistered.
type Registered struct {
	Chaincode         string `json:"chaincode"`
	EnclaveID         string `json:"enclave_id"`
	AttestationType   string `json:"attestation_type"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	ConfigDigest      string `json:"config_digest"`
	RegisteredBy      string `json:"registered_by"`
}

// Contract is the enclave registry contract.
type Contract struct {
	contractapi.Contract
	g *ccguard.Guard
}

// New returns the registry contract guarded by g: g.Before runs before every
// function (clock skew; recorded configuration for all but Configure and
// GetConfig).
func New(g *ccguard.Guard) *Contract {
	c := &Contract{g: g}
	c.BeforeTransaction = g.Before
	return c
}

// Configure records this organization's deploy configuration on the ledger
// (see ccguard.Guard.Configure) and returns the record as JSON.
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (string, error) {
	r, err := c.g.Configure(ctx, configJSON)
	if err != nil {
		return "", err
	}
	return marshal(r)
}

// GetConfig returns this peer's deploy configuration, its digest and the
// recorded one (ccguard.ConfigView) as JSON.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	v, err := c.g.View(ctx)
	if err != nil {
		return "", err
	}
	return marshal(v)
}

// RegisterEnclave verifies and records an enclave's credentials (JSON of
// credentials.Credentials) and makes the enclave its chaincode's current
// one. See the package documentation for who may call it and what is
// checked.
func (c *Contract) RegisterEnclave(ctx contractapi.TransactionContextInterface, credentialsJSON string) (*credentials.Record, error) {
	cfg := c.g.Config()
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return nil, err
	}
	// mutate:check ercc-admin
	if err := caller.RequireAdmin(cfg.Enclave.HostMSPID); err != nil {
		return nil, fmt.Errorf("RegisterEnclave: only an admin of the enclave host %s may register an enclave: %w", cfg.Enclave.HostMSPID, err)
	}
	creds, data, err := credentials.Parse([]byte(credentialsJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	// mutate:check ercc-host
	if data.PeerMSPID != cfg.Enclave.HostMSPID {
		return nil, fmt.Errorf("attested_data.peer_msp_id: %q is not the enclave host %q of the deploy configuration", data.PeerMSPID, cfg.Enclave.HostMSPID)
	}
	// mutate:check ercc-chaincode
	if data.Chaincode != cfg.Chaincodes.Enclave {
		return nil, fmt.Errorf("attested_data.chaincode: %q is not the enclave chaincode %q of the deploy configuration", data.Chaincode, cfg.Chaincodes.Enclave)
	}
	// mutate:check ercc-channel
	if data.Channel != stub.GetChannelID() {
		return nil, fmt.Errorf("attested_data.channel: %q is not this channel %q", data.Channel, stub.GetChannelID())
	}
	if err := checkDefinition(ctx, data); err != nil {
		return nil, err
	}
	if err := checkEvidence(cfg.Enclave.Attestation, creds, data); err != nil {
		return nil, err
	}
	// mutate:check ercc-config-digest
	if data.ConfigDigest != c.g.Digest() {
		return nil, fmt.Errorf("attested_data.config_digest: the enclave was initialised with deploy configuration %s, not this peer's %s; give the enclave server the organizations' file and initialise it again",
			data.ConfigDigest, c.g.Digest())
	}
	vk, err := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	if err != nil {
		return nil, err
	}
	id, err := credentials.EnclaveID(vk)
	if err != nil {
		return nil, err
	}
	recKey, err := compositeKey(ctx, keyEnclave, data.Chaincode, id)
	if err != nil {
		return nil, err
	}
	prev, err := readRecord(ctx, recKey)
	if err != nil {
		return nil, err
	}
	// mutate:check ercc-same-enclave
	if prev != nil && data.ChaincodeSequence <= prev.ChaincodeSequence {
		return nil, fmt.Errorf("enclave %s is already registered for chaincode %q (sequence %d, tx %s); it registers again only for a newer chaincode sequence",
			id, data.Chaincode, prev.ChaincodeSequence, prev.RegisteredTxID)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return nil, err
	}
	rec := credentials.Record{
		Chaincode: data.Chaincode, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, Endpoint: data.Endpoint, AttestationType: creds.Attestation.Type,
		ChaincodeVersion: data.ChaincodeVersion, ChaincodeSequence: data.ChaincodeSequence, Channel: data.Channel,
		ConfigDigest: data.ConfigDigest, RegisteredBy: caller.ID.String(), RegisteredTxID: stub.GetTxID(),
		RegisteredAt: now.Format(time.RFC3339Nano),
	}
	credKey, err := compositeKey(ctx, keyCredentials, data.Chaincode, id)
	if err != nil {
		return nil, err
	}
	curKey, err := compositeKey(ctx, keyCurrent, data.Chaincode)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode enclave record: %w", err)
	}
	for _, w := range []struct {
		key   string
		value []byte
	}{{recKey, raw}, {credKey, []byte(credentialsJSON)}, {curKey, []byte(id)}} {
		if err := stub.PutState(w.key, w.value); err != nil {
			return nil, fmt.Errorf("write registry state: %w", err)
		}
	}
	event, err := json.Marshal(Registered{Chaincode: rec.Chaincode, EnclaveID: id, AttestationType: rec.AttestationType,
		ChaincodeSequence: rec.ChaincodeSequence, ConfigDigest: rec.ConfigDigest, RegisteredBy: rec.RegisteredBy})
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if err := stub.SetEvent(EventRegistered, event); err != nil {
		return nil, fmt.Errorf("set event: %w", err)
	}
	return &rec, nil
}

// QueryEnclave returns the record of a chaincode's current enclave.
func (c *Contract) QueryEnclave(ctx contractapi.TransactionContextInterface, chaincode string) (*credentials.Record, error) {
	id, err := currentID(ctx, chaincode)
	if err != nil {
		return nil, err
	}
	return c.QueryEnclaveByID(ctx, chaincode, id)
}

// QueryEnclaveByID returns the record of one enclave ever registered for a
// chaincode, current or not: what a pinned agreement and the refund
// chaincode verify verdicts with.
func (c *Contract) QueryEnclaveByID(ctx contractapi.TransactionContextInterface, chaincode, enclaveID string) (*credentials.Record, error) {
	if enclaveID == "" {
		return nil, errors.New("enclaveID: must not be empty")
	}
	key, err := compositeKey(ctx, keyEnclave, chaincode, enclaveID)
	if err != nil {
		return nil, err
	}
	rec, err := readRecord(ctx, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("enclave %s is not registered for chaincode %q", enclaveID, chaincode)
	}
	return rec, nil
}

// QueryEnclaveCredentials returns the current enclave's credentials exactly
// as submitted, so that anyone can re-verify the attestation independently.
func (c *Contract) QueryEnclaveCredentials(ctx contractapi.TransactionContextInterface, chaincode string) (string, error) {
	id, err := currentID(ctx, chaincode)
	if err != nil {
		return "", err
	}
	key, err := compositeKey(ctx, keyCredentials, chaincode, id)
	if err != nil {
		return "", err
	}
	raw, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", fmt.Errorf("read credentials: %w", err)
	}
	if raw == nil {
		return "", fmt.Errorf("credentials of enclave %s of chaincode %q: missing", id, chaincode)
	}
	return string(raw), nil
}

// checkEvidence accepts only evidence of the configured attestation mode.
func checkEvidence(mode string, creds *credentials.Credentials, data *credentials.AttestedData) error {
	t := creds.Attestation.Type
	switch mode {
	case deploycfg.AttestationSimulated:
		// mutate:check ercc-attestation-simulated
		if t != credentials.AttestationSimulated {
			return fmt.Errorf("attestation.type: %q is refused: the deploy configuration accepts simulated attestation only (enclave.attestation %q)", t, mode)
		}
		// mutate:check ercc-evidence
		if err := credentials.VerifySimulated(creds, data); err != nil {
			return err
		}
		return nil
	case deploycfg.AttestationSGX:
		// mutate:check ercc-attestation-sgx
		if t == credentials.AttestationSimulated {
			return fmt.Errorf("attestation.type: simulated evidence is refused: the deploy configuration requires SGX attestation (enclave.attestation %q)", mode)
		}
		if t == credentials.AttestationEPIDLinkable || t == credentials.AttestationEPIDUnlinkable || t == credentials.AttestationDCAP {
			return fmt.Errorf("attestation.type: %q evidence cannot be verified by this build (no SGX attestation verifier); see fpc/README.md", t)
		}
		return fmt.Errorf("attestation.type: unknown type %q", t)
	default:
		return fmt.Errorf("deploy configuration: enclave.attestation %q is not known", mode)
	}
}

// checkDefinition compares the attested chaincode version and sequence with
// the definition committed on the channel, read from _lifecycle.
func checkDefinition(ctx contractapi.TransactionContextInterface, data *credentials.AttestedData) error {
	args, err := proto.Marshal(&lifecycle.QueryChaincodeDefinitionArgs{Name: data.Chaincode})
	if err != nil {
		return fmt.Errorf("encode lifecycle query: %w", err)
	}
	stub := ctx.GetStub()
	resp := stub.InvokeChaincode(lifecycleName, [][]byte{[]byte("QueryChaincodeDefinition"), args}, stub.GetChannelID())
	// mutate:check ercc-definition
	if resp.GetStatus() != 200 {
		return fmt.Errorf("attested_data.chaincode: no chaincode definition %q on channel %q: %s", data.Chaincode, stub.GetChannelID(), resp.GetMessage())
	}
	var def lifecycle.QueryChaincodeDefinitionResult
	if err := proto.Unmarshal(resp.GetPayload(), &def); err != nil {
		return fmt.Errorf("decode chaincode definition of %q: %w", data.Chaincode, err)
	}
	// mutate:check ercc-version
	if def.GetVersion() != data.ChaincodeVersion {
		return fmt.Errorf("attested_data.chaincode_version: %q, but the committed definition of %q has version %q", data.ChaincodeVersion, data.Chaincode, def.GetVersion())
	}
	// mutate:check ercc-sequence
	if def.GetSequence() != data.ChaincodeSequence {
		return fmt.Errorf("attested_data.chaincode_sequence: %d, but the committed definition of %q has sequence %d", data.ChaincodeSequence, data.Chaincode, def.GetSequence())
	}
	return nil
}

func currentID(ctx contractapi.TransactionContextInterface, chaincode string) (string, error) {
	key, err := compositeKey(ctx, keyCurrent, chaincode)
	if err != nil {
		return "", err
	}
	raw, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", fmt.Errorf("read current enclave: %w", err)
	}
	if raw == nil {
		return "", fmt.Errorf("no enclave is registered for chaincode %q", chaincode)
	}
	return string(raw), nil
}

func compositeKey(ctx contractapi.TransactionContextInterface, objectType, chaincode string, rest ...string) (string, error) {
	if chaincode == "" {
		return "", errors.New("chaincode: must not be empty")
	}
	key, err := ctx.GetStub().CreateCompositeKey(objectType, append([]string{chaincode}, rest...))
	if err != nil {
		return "", fmt.Errorf("chaincode: %w", err)
	}
	return key, nil
}

func readRecord(ctx contractapi.TransactionContextInterface, key string) (*credentials.Record, error) {
	raw, err := ctx.GetStub().GetState(key)
	if err != nil {
		return nil, fmt.Errorf("read enclave record: %w", err)
	}
	if raw == nil {
		return nil, nil
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode enclave record: %w", err)
	}
	return &rec, nil
}

func marshal(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(raw), nil
}
