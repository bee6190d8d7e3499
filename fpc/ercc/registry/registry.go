// Package registry is the enclave registry chaincode (ercc): the on-chain
// directory of enclaves in the Fabric Private Chaincode model.
//
// An enclave registers its credentials; the registry checks them against the
// chaincode definition committed on the channel (name, version, sequence), the
// channel, the submitter's MSP (which must be the hosting peer's MSP) and the
// attestation evidence, and then serves the enclave's verifying key and the
// chaincode encryption key to anyone: clients encrypting requests, the Cloud
// Logger encrypting batches, the refund chaincode verifying verdicts.
//
// Attestation: the registry is configured once, by an organization admin, for
// mode "simulated" (development: accepts only simulated evidence, which proves
// possession of the enclave key but not that an enclave runs) or "sgx" (accepts
// only SGX evidence, which this build cannot verify and therefore refuses with
// a clear error). Unconfigured, it registers nothing.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer/lifecycle"
	"github.com/slasa/slasa/fpc/credentials"
	"google.golang.org/protobuf/proto"
)

// Registry modes.
const (
	ModeSimulated = "simulated"
	ModeSGX       = "sgx"
)

const (
	configKey        = "config"
	enclaveKeyPrefix = "enclave"
	lifecycleName    = "_lifecycle"
	// EventRegistered is the chaincode event emitted on registration.
	EventRegistered = "EnclaveRegistered"
)

// Config is the registry's one-time configuration.
type Config struct {
	Mode           string `json:"mode"`
	ConfiguredBy   string `json:"configured_by"` // MSP ID of the admin that set it
	ConfiguredAt   string `json:"configured_at"` // transaction timestamp, RFC 3339
	ConfiguredTxID string `json:"configured_txid"`
}

// Contract is the enclave registry contract.
type Contract struct {
	contractapi.Contract
}

// Configure sets the attestation mode, once. Only an organization admin may
// call it.
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, mode string) error {
	if mode != ModeSimulated && mode != ModeSGX {
		return fmt.Errorf("mode: %q is not %q or %q", mode, ModeSimulated, ModeSGX)
	}
	msp, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	existing, err := ctx.GetStub().GetState(configKey)
	if err != nil {
		return fmt.Errorf("read registry configuration: %w", err)
	}
	if existing != nil {
		return errors.New("registry is already configured; its mode cannot change")
	}
	ts, err := ctx.GetStub().GetTxTimestamp()
	if err != nil {
		return fmt.Errorf("read transaction timestamp: %w", err)
	}
	cfg := Config{Mode: mode, ConfiguredBy: msp, ConfiguredAt: ts.AsTime().UTC().Format("2006-01-02T15:04:05Z07:00"),
		ConfiguredTxID: ctx.GetStub().GetTxID()}
	return putJSON(ctx, configKey, cfg)
}

// GetConfig returns the registry's configuration.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (*Config, error) {
	return readConfig(ctx)
}

// RegisterEnclave verifies and records an enclave's credentials (JSON of
// credentials.Credentials). The submitter must belong to the MSP of the peer
// hosting the enclave. A chaincode has one enclave; a new registration for the
// same chaincode replaces the previous one only from the same hosting MSP
// (an enclave restarted with new keys) or for a newer chaincode sequence (a
// redeployed chaincode whose enclave kept its keys re-registers this way).
func (c *Contract) RegisterEnclave(ctx contractapi.TransactionContextInterface, credentialsJSON string) (*credentials.Record, error) {
	cfg, err := readConfig(ctx)
	if err != nil {
		return nil, err
	}
	creds, data, err := credentials.Parse([]byte(credentialsJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	if data.Channel != stub.GetChannelID() {
		return nil, fmt.Errorf("attested_data.channel: %q is not this channel %q", data.Channel, stub.GetChannelID())
	}
	submitterMSP, err := ctx.GetClientIdentity().GetMSPID()
	if err != nil {
		return nil, fmt.Errorf("read submitter MSP ID: %w", err)
	}
	if submitterMSP != data.PeerMSPID {
		return nil, fmt.Errorf("attested_data.peer_msp_id: %q, but the submitter belongs to %q; an enclave is registered by its hosting organization", data.PeerMSPID, submitterMSP)
	}
	if err := checkDefinition(ctx, data); err != nil {
		return nil, err
	}
	if err := checkEvidence(cfg, creds, data); err != nil {
		return nil, err
	}
	vk, err := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	if err != nil {
		return nil, err
	}
	id, err := credentials.EnclaveID(vk)
	if err != nil {
		return nil, err
	}
	key, err := enclaveKey(ctx, data.Chaincode)
	if err != nil {
		return nil, err
	}
	if prev, err := readRecord(ctx, key); err != nil {
		return nil, err
	} else if prev != nil {
		switch {
		case prev.EnclaveID == id && data.ChaincodeSequence <= prev.ChaincodeSequence:
			return nil, fmt.Errorf("enclave %s is already registered for chaincode %q (sequence %d)", id, data.Chaincode, prev.ChaincodeSequence)
		case data.ChaincodeSequence < prev.ChaincodeSequence:
			return nil, fmt.Errorf("attested_data.chaincode_sequence: %d is older than the registered enclave's %d", data.ChaincodeSequence, prev.ChaincodeSequence)
		case data.ChaincodeSequence == prev.ChaincodeSequence && prev.PeerMSPID != data.PeerMSPID:
			return nil, fmt.Errorf("chaincode %q already has an enclave hosted by %q; only that organization may replace it", data.Chaincode, prev.PeerMSPID)
		}
	}
	rec := credentials.Record{
		Chaincode: data.Chaincode, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, Endpoint: data.Endpoint, AttestationType: creds.Attestation.Type,
		ChaincodeVersion: data.ChaincodeVersion, ChaincodeSequence: data.ChaincodeSequence, Channel: data.Channel,
	}
	if err := putJSON(ctx, key, rec); err != nil {
		return nil, err
	}
	if err := putRaw(ctx, key+"\x00credentials", []byte(credentialsJSON)); err != nil {
		return nil, err
	}
	event, err := json.Marshal(struct {
		Chaincode       string `json:"chaincode"`
		EnclaveID       string `json:"enclave_id"`
		AttestationType string `json:"attestation_type"`
	}{rec.Chaincode, rec.EnclaveID, rec.AttestationType})
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if err := stub.SetEvent(EventRegistered, event); err != nil {
		return nil, fmt.Errorf("set event: %w", err)
	}
	return &rec, nil
}

// QueryEnclave returns the registered enclave of a chaincode.
func (c *Contract) QueryEnclave(ctx contractapi.TransactionContextInterface, chaincode string) (*credentials.Record, error) {
	key, err := enclaveKey(ctx, chaincode)
	if err != nil {
		return nil, err
	}
	rec, err := readRecord(ctx, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("no enclave is registered for chaincode %q", chaincode)
	}
	return rec, nil
}

// QueryEnclaveCredentials returns the registered credentials exactly as
// submitted, so that anyone can re-verify the attestation independently.
func (c *Contract) QueryEnclaveCredentials(ctx contractapi.TransactionContextInterface, chaincode string) (string, error) {
	key, err := enclaveKey(ctx, chaincode)
	if err != nil {
		return "", err
	}
	raw, err := ctx.GetStub().GetState(key + "\x00credentials")
	if err != nil {
		return "", fmt.Errorf("read credentials: %w", err)
	}
	if raw == nil {
		return "", fmt.Errorf("no enclave is registered for chaincode %q", chaincode)
	}
	return string(raw), nil
}

func checkEvidence(cfg *Config, creds *credentials.Credentials, data *credentials.AttestedData) error {
	switch t := creds.Attestation.Type; {
	case t == credentials.AttestationSimulated && cfg.Mode == ModeSimulated:
		return credentials.VerifySimulated(creds, data)
	case t == credentials.AttestationSimulated:
		return fmt.Errorf("attestation.type: simulated evidence is refused: the registry is configured for mode %q", cfg.Mode)
	case cfg.Mode == ModeSimulated:
		return fmt.Errorf("attestation.type: %q is refused: the registry is configured for simulated attestation only", t)
	case t == credentials.AttestationEPIDLinkable || t == credentials.AttestationEPIDUnlinkable || t == credentials.AttestationDCAP:
		return fmt.Errorf("attestation.type: %q evidence cannot be verified by this build (no SGX attestation verifier); see fpc/README.md", t)
	default:
		return fmt.Errorf("attestation.type: unknown type %q", t)
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
	if resp.GetStatus() != 200 {
		return fmt.Errorf("attested_data.chaincode: no chaincode definition %q on channel %q: %s", data.Chaincode, stub.GetChannelID(), resp.GetMessage())
	}
	var def lifecycle.QueryChaincodeDefinitionResult
	if err := proto.Unmarshal(resp.GetPayload(), &def); err != nil {
		return fmt.Errorf("decode chaincode definition of %q: %w", data.Chaincode, err)
	}
	if def.GetVersion() != data.ChaincodeVersion {
		return fmt.Errorf("attested_data.chaincode_version: %q, but the committed definition of %q has version %q", data.ChaincodeVersion, data.Chaincode, def.GetVersion())
	}
	if def.GetSequence() != data.ChaincodeSequence {
		return fmt.Errorf("attested_data.chaincode_sequence: %d, but the committed definition of %q has sequence %d", data.ChaincodeSequence, data.Chaincode, def.GetSequence())
	}
	return nil
}

// requireAdmin returns the caller's MSP ID if the caller holds an admin
// certificate (NodeOU "admin").
func requireAdmin(ctx contractapi.TransactionContextInterface) (string, error) {
	id := ctx.GetClientIdentity()
	msp, err := id.GetMSPID()
	if err != nil {
		return "", fmt.Errorf("read submitter MSP ID: %w", err)
	}
	cert, err := id.GetX509Certificate()
	if err != nil || cert == nil {
		return "", fmt.Errorf("read submitter certificate: %v", err)
	}
	for _, ou := range cert.Subject.OrganizationalUnit {
		if strings.EqualFold(ou, "admin") {
			return msp, nil
		}
	}
	return "", fmt.Errorf("caller %q of %s is not an organization admin (certificate OU admin required)", cert.Subject.CommonName, msp)
}

func readConfig(ctx contractapi.TransactionContextInterface) (*Config, error) {
	raw, err := ctx.GetStub().GetState(configKey)
	if err != nil {
		return nil, fmt.Errorf("read registry configuration: %w", err)
	}
	if raw == nil {
		return nil, errors.New("registry is not configured: an organization admin must call Configure(simulated|sgx) first")
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("decode registry configuration: %w", err)
	}
	return &cfg, nil
}

func enclaveKey(ctx contractapi.TransactionContextInterface, chaincode string) (string, error) {
	if chaincode == "" {
		return "", errors.New("chaincode: must not be empty")
	}
	key, err := ctx.GetStub().CreateCompositeKey(enclaveKeyPrefix, []string{chaincode})
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

func putJSON(ctx contractapi.TransactionContextInterface, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return putRaw(ctx, key, raw)
}

func putRaw(ctx contractapi.TransactionContextInterface, key string, raw []byte) error {
	if err := ctx.GetStub().PutState(key, raw); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
