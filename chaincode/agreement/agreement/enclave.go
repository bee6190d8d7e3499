package agreement

import (
	"fmt"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/ccguard"
)

// EnclavePin names the enclave whose verdicts settle an SLA: a registration
// of the enclave registry (ercc), copied when it was pinned.
type EnclavePin struct {
	Chaincode         string `json:"chaincode"`
	EnclaveID         string `json:"enclave_id"`
	ChaincodeVersion  string `json:"chaincode_version"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	AttestationType   string `json:"attestation_type"`
	ConfigDigest      string `json:"config_digest"`
	// EnclaveVK is the registered verifying key of the enclave (PEM "PUBLIC
	// KEY"), whose SHA-256 is EnclaveID: the refund chaincode verifies
	// verdicts with it without asking the registry again (a registration is
	// never changed). Empty in pins made before the key was copied; the
	// refund chaincode then reads it from the registry.
	EnclaveVK string `json:"enclave_vk,omitempty"`
	// PinnedAt and PinnedTxID are the transaction that pinned it (AcceptSLA
	// or the approval that completed a handover).
	PinnedAt   string `json:"pinned_at"`
	PinnedTxID string `json:"pinned_tx_id"`
}

// Handover holds the parties' approvals of an enclave (by id) that is to
// replace the pinned one; empty for a party that has not approved one.
type Handover struct {
	ProviderApproves string `json:"provider_approves,omitempty"`
	ClientApproves   string `json:"client_approves,omitempty"`
}

// HandoverEvent is the payload of EnclaveHandoverApproved and
// EnclaveHandover.
type HandoverEvent struct {
	SLAID    string   `json:"sla_id"`
	Digest   string   `json:"digest"`
	Provider PartyRef `json:"provider"`
	Client   PartyRef `json:"client"`
	// By approved EnclaveID as ApprovedAs (provider or client).
	By         PartyRef `json:"by"`
	ApprovedAs string   `json:"approved_as"`
	EnclaveID  string   `json:"enclave_id"`
	// Handover is the pending approvals after the transaction (nil after a
	// handover); Enclave the pin after it, Previous the pin it replaced
	// (EnclaveHandover only).
	Handover *Handover   `json:"handover,omitempty"`
	Enclave  EnclavePin  `json:"enclave"`
	Previous *EnclavePin `json:"previous,omitempty"`
}

// queryRegistry calls the configured enclave registry in this transaction
// and decodes the credentials.Record it returns.
func (c *Contract) queryRegistry(ctx contractapi.TransactionContextInterface, fn string, args ...string) (*credentials.Record, error) {
	var rec credentials.Record
	if err := ccall.JSON(ctx, &rec, c.g.Config().Chaincodes.Registry, fn, args...); err != nil {
		return nil, err
	}
	return &rec, nil
}

// pinOf checks a registry record of chaincode (and of enclaveID when not
// empty) and returns its pin made at now in this transaction.
func (c *Contract) pinOf(ctx contractapi.TransactionContextInterface, rec *credentials.Record, chaincode, enclaveID string, now time.Time) (*EnclavePin, error) {
	// mutate:check pin-record
	if rec.Chaincode != chaincode || rec.EnclaveID == "" || (enclaveID != "" && rec.EnclaveID != enclaveID) {
		want := "an enclave"
		if enclaveID != "" {
			want = "enclave " + enclaveID
		}
		return nil, fmt.Errorf("the registry answered with enclave %q of chaincode %q, not %s of chaincode %q", rec.EnclaveID, rec.Chaincode, want, chaincode)
	}
	// mutate:check pin-config
	if rec.ConfigDigest != c.g.Digest() {
		return nil, fmt.Errorf("enclave %s of chaincode %q was initialised with the deploy configuration %q, not this peer's (%s); register an enclave initialised with it",
			rec.EnclaveID, chaincode, rec.ConfigDigest, c.g.Digest())
	}
	id, err := keyID(rec.EnclaveVK)
	if err != nil {
		return nil, fmt.Errorf("enclave %s of chaincode %q: %w", rec.EnclaveID, chaincode, err)
	}
	// mutate:check pin-key
	if id != rec.EnclaveID {
		return nil, fmt.Errorf("the registry's record of enclave %s of chaincode %q holds the key of enclave %s", rec.EnclaveID, chaincode, id)
	}
	return &EnclavePin{
		Chaincode: rec.Chaincode, EnclaveID: rec.EnclaveID, ChaincodeVersion: rec.ChaincodeVersion,
		ChaincodeSequence: rec.ChaincodeSequence, AttestationType: rec.AttestationType, ConfigDigest: rec.ConfigDigest,
		EnclaveVK: rec.EnclaveVK, PinnedAt: format(now), PinnedTxID: ctx.GetStub().GetTxID(),
	}, nil
}

// keyID returns the enclave id of a verifying key in PEM.
func keyID(vk string) (string, error) {
	pub, err := credentials.ParseECDSAPublicKey(vk)
	if err != nil {
		return "", err
	}
	return credentials.EnclaveID(pub)
}

// currentEnclave returns the pin of the enclave the registry holds now for
// the configured enclave chaincode.
func (c *Contract) currentEnclave(ctx contractapi.TransactionContextInterface, now time.Time) (*EnclavePin, error) {
	chaincode := c.g.Config().Chaincodes.Enclave
	rec, err := c.queryRegistry(ctx, "QueryEnclave", chaincode)
	if err != nil {
		return nil, err
	}
	return c.pinOf(ctx, rec, chaincode, "", now)
}

// ApproveEnclaveHandover records the submitter's approval of the enclave
// enclaveID as the judge of an ACTIVE or TERMINATED SLA, replacing the
// pinned one. The submitter must be the SLA's provider or client (MSP ID,
// certificate subject and issuer). enclaveID must be registered in the
// enclave registry for the pinned chaincode (ercc QueryEnclaveByID),
// initialised with this peer's deploy configuration, and differ from the
// pinned enclave. The approval replaces the party's earlier one. When both
// parties approve the same enclave id, the pin moves to it (the old pin is
// appended to enclave_history, the approvals are cleared; event
// EnclaveHandover); else event EnclaveHandoverApproved.
func (c *Contract) ApproveEnclaveHandover(ctx contractapi.TransactionContextInterface, slaID, enclaveID string) error {
	a, err := load(ctx, slaID)
	if err != nil {
		return err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return err
	}
	role := partyRole(a, caller)
	// mutate:check handover-caller
	if role == "" {
		return fmt.Errorf("only the SLA's provider or client may approve an enclave handover of SLA %q (caller %s)", slaID, caller.ID)
	}
	// mutate:check handover-status
	if a.Status != StatusActive && a.Status != StatusTerminated {
		return fmt.Errorf("SLA %q is %s; an enclave handover is approved for an %s or %s SLA", slaID, a.Status, StatusActive, StatusTerminated)
	}
	if a.Enclave == nil {
		return fmt.Errorf("SLA %q has no pinned enclave", slaID)
	}
	// mutate:check handover-same-pin
	if enclaveID == a.Enclave.EnclaveID {
		return fmt.Errorf("enclaveID: %s is already the pinned enclave of SLA %q", enclaveID, slaID)
	}
	now, err := c.g.TxTime(ctx)
	if err != nil {
		return err
	}
	rec, err := c.queryRegistry(ctx, "QueryEnclaveByID", a.Enclave.Chaincode, enclaveID)
	if err != nil {
		return fmt.Errorf("enclaveID: %s is not a registered enclave of chaincode %q: %w", enclaveID, a.Enclave.Chaincode, err)
	}
	pin, err := c.pinOf(ctx, rec, a.Enclave.Chaincode, enclaveID, now)
	if err != nil {
		return fmt.Errorf("enclaveID: %w", err)
	}
	h := Handover{}
	if a.Handover != nil {
		h = *a.Handover
	}
	if role == "provider" {
		h.ProviderApproves = enclaveID
	} else {
		h.ClientApproves = enclaveID
	}
	ev := HandoverEvent{SLAID: a.ID, Digest: a.Digest, Provider: a.Parties.Provider, Client: a.Parties.Client,
		By: refOf(caller.ID), ApprovedAs: role, EnclaveID: enclaveID}
	name := EventEnclaveHandoverApproved
	// mutate:check handover-agree
	if h.ProviderApproves == h.ClientApproves {
		previous := *a.Enclave
		a.EnclaveHistory = append(a.EnclaveHistory, previous)
		a.Enclave = pin
		a.Handover = nil
		ev.Previous = &previous
		name = EventEnclaveHandover
	} else {
		a.Handover = &h
		ev.Handover = &h
	}
	ev.Enclave = *a.Enclave
	if err := save(ctx, a); err != nil {
		return err
	}
	return emit(ctx, name, ev)
}
