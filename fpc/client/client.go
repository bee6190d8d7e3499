// Package client invokes a Fabric Private Chaincode through the Fabric
// Gateway: it encrypts every request to the chaincode's registered
// encryption key, evaluates __invoke on a peer of the organization that hosts
// the enclave, verifies the enclave's signature and the response's binding to
// the request on every response, opens the result, and, for transactions,
// submits the signed response to __endorse so that every endorsing peer
// re-verifies it against the enclave registry (and its own deploy
// configuration and clock) before the writes commit.
//
// Each organization runs its own enclave chaincode server, but only the
// enclave host's holds the initialised enclave; the others only verify in
// __endorse. So __invoke and __initEnclave are evaluated on the host
// organization's peers (the registry record's peer_msp_id, through the
// Gateway's target organizations), whichever organization's Gateway peer the
// client is connected to.
//
// The enclave's keys come only from the enclave registry chaincode (ercc),
// never from the peer that answers.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
)

// DefaultRegistry is the enclave registry chaincode's name.
const DefaultRegistry = "ercc"

// ErrNotRegistered is returned when the registry has no enclave for the chaincode.
var ErrNotRegistered = errors.New("no enclave is registered for the chaincode")

// ChaincodeError is a failure reported by the private chaincode itself
// (inside the enclave), after the response was verified.
type ChaincodeError struct {
	Function string
	Status   int32
	Message  string
}

func (e *ChaincodeError) Error() string {
	return fmt.Sprintf("%s: chaincode error (status %d): %s", e.Function, e.Status, e.Message)
}

// VerificationError means a response did not come from the registered
// enclave or does not answer the request sent: it must not be trusted.
type VerificationError struct {
	Function string
	Err      error
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("%s: enclave response rejected: %v", e.Function, e.Err)
}

func (e *VerificationError) Unwrap() error { return e.Err }

// Client calls one private chaincode on one network.
type Client struct {
	network   *client.Network
	chaincode string
	contract  *client.Contract
	registry  *client.Contract

	mu     sync.Mutex
	record *credentials.Record
}

// Option configures a Client.
type Option func(*options)

type options struct{ registry string }

// WithRegistry names the enclave registry chaincode (default "ercc").
func WithRegistry(name string) Option { return func(o *options) { o.registry = name } }

// New returns a client for the private chaincode named chaincode.
func New(network *client.Network, chaincode string, opts ...Option) *Client {
	o := options{registry: DefaultRegistry}
	for _, f := range opts {
		f(&o)
	}
	return &Client{network: network, chaincode: chaincode, contract: network.GetContract(chaincode),
		registry: network.GetContract(o.registry)}
}

// Enclave returns the chaincode's registered enclave, read from the registry
// once and cached; Refresh forgets it.
func (c *Client) Enclave(ctx context.Context) (*credentials.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.record != nil {
		return c.record, nil
	}
	raw, err := c.registry.EvaluateWithContext(ctx, "QueryEnclave", client.WithArguments(c.chaincode))
	if err != nil {
		return nil, fmt.Errorf("query enclave registry for %q: %w", c.chaincode, err)
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode enclave record: %w", err)
	}
	if rec.Chaincode != c.chaincode || rec.EnclaveID == "" {
		return nil, fmt.Errorf("%w %q", ErrNotRegistered, c.chaincode)
	}
	c.record = &rec
	return c.record, nil
}

// EnclaveByID returns the registry's record of one enclave of the chaincode
// (ercc QueryEnclaveByID), current or not: the key that verifies the
// verdicts of the SLAs pinned to it.
func (c *Client) EnclaveByID(ctx context.Context, enclaveID string) (*credentials.Record, error) {
	raw, err := c.registry.EvaluateWithContext(ctx, "QueryEnclaveByID", client.WithArguments(c.chaincode, enclaveID))
	if err != nil {
		return nil, fmt.Errorf("query enclave registry for enclave %s of %q: %w", enclaveID, c.chaincode, err)
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode enclave record: %w", err)
	}
	if rec.Chaincode != c.chaincode || rec.EnclaveID != enclaveID {
		return nil, fmt.Errorf("the registry answered with enclave %s of %q, not %s of %q", rec.EnclaveID, rec.Chaincode, enclaveID, c.chaincode)
	}
	return &rec, nil
}

// Refresh forgets the cached enclave record (after the enclave re-registered).
func (c *Client) Refresh() {
	c.mu.Lock()
	c.record = nil
	c.mu.Unlock()
}

// call is one verified __invoke.
type call struct {
	signed  []byte
	result  *protocol.Result
	session *protocol.ClientSession
}

func (c *Client) invoke(ctx context.Context, fn string, args []string) (*call, error) {
	rec, err := c.Enclave(ctx)
	if err != nil {
		return nil, err
	}
	ek, err := rec.EncryptionKey()
	if err != nil {
		return nil, fmt.Errorf("registered enclave: %w", err)
	}
	vk, err := rec.VerifyingKey()
	if err != nil {
		return nil, fmt.Errorf("registered enclave: %w", err)
	}
	msg, session, err := protocol.SealRequest(protocol.Request{Function: fn, Args: args}, ek)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	// Only the host organization's server holds the initialised enclave.
	signed, err := c.contract.EvaluateWithContext(ctx, protocol.FnInvoke, client.WithBytesArguments(raw),
		client.WithEndorsingOrganizations(rec.PeerMSPID))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	var sr protocol.SignedResponse
	if err := json.Unmarshal(signed, &sr); err != nil {
		return nil, &VerificationError{fn, fmt.Errorf("decode signed response: %w", err)}
	}
	resp, err := protocol.VerifyResponse(&sr, vk)
	if err != nil {
		return nil, &VerificationError{fn, err}
	}
	if err := session.CheckBinding(resp, rec.EnclaveID); err != nil {
		return nil, &VerificationError{fn, err}
	}
	result, err := session.OpenResult(resp)
	if err != nil {
		return nil, &VerificationError{fn, err}
	}
	if result.Status >= 400 {
		return nil, &ChaincodeError{Function: fn, Status: result.Status, Message: result.Message}
	}
	return &call{signed: signed, result: result, session: session}, nil
}

// Query runs fn in the enclave and returns its verified, decrypted payload.
// Nothing is written to the ledger.
func (c *Client) Query(ctx context.Context, fn string, args ...string) ([]byte, error) {
	r, err := c.invoke(ctx, fn, args)
	if err != nil {
		return nil, err
	}
	return r.result.Payload, nil
}

// Submit runs fn in the enclave, then submits the enclave's signed response
// to __endorse and waits for the transaction to commit. It returns the
// verified, decrypted payload and the transaction id. The Gateway chooses
// the endorsing organizations of __endorse from the policies of the keys
// written (any organizations that satisfy the chaincode policy for a key
// the transaction creates); SubmitEndorsedBy names them.
func (c *Client) Submit(ctx context.Context, fn string, args ...string) ([]byte, string, error) {
	return c.SubmitEndorsedBy(ctx, nil, fn, args...)
}

// SubmitEndorsedBy is Submit with __endorse endorsed by peers of exactly
// the organizations orgs (MSP IDs; client.WithEndorsingOrganizations), e.g.
// an SLA's two parties' organizations, so that no third organization
// endorses a transaction of the SLA, also when it creates keys (validated
// by the chaincode policy, which other pairs of organizations satisfy too).
// The enclave host's organization need not be among them: it only answers
// __invoke, an evaluation that is not part of the transaction. Empty orgs
// lets the Gateway choose (Submit).
func (c *Client) SubmitEndorsedBy(ctx context.Context, orgs []string, fn string, args ...string) ([]byte, string, error) {
	r, err := c.invoke(ctx, fn, args)
	if err != nil {
		return nil, "", err
	}
	opts := []client.ProposalOption{client.WithBytesArguments(r.signed)}
	if len(orgs) > 0 {
		opts = append(opts, client.WithEndorsingOrganizations(orgs...))
	}
	proposal, err := c.contract.NewProposal(protocol.FnEndorse, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: build %s proposal: %w", fn, protocol.FnEndorse, err)
	}
	tx, err := proposal.EndorseWithContext(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", fn, protocol.FnEndorse, err)
	}
	commit, err := tx.SubmitWithContext(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%s: submit: %w", fn, err)
	}
	status, err := commit.StatusWithContext(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%s: commit status: %w", fn, err)
	}
	if !status.Successful {
		return nil, status.TransactionID, fmt.Errorf("%s: transaction %s failed to commit: %s", fn, status.TransactionID, status.Code)
	}
	return r.result.Payload, status.TransactionID, nil
}

// InitEnclave asks the chaincode's enclave on a peer of the host
// organization peerMSPID for its credentials (evaluate __initEnclave). The
// enclave server attests its own deploy configuration. Register them with
// Register.
func (c *Client) InitEnclave(ctx context.Context, peerMSPID, endpoint string) ([]byte, error) {
	hp, err := json.Marshal(struct {
		PeerMSPID string `json:"peer_msp_id"`
		Endpoint  string `json:"endpoint"`
	}{peerMSPID, endpoint})
	if err != nil {
		return nil, err
	}
	creds, err := c.contract.EvaluateWithContext(ctx, protocol.FnInitEnclave, client.WithBytesArguments(hp),
		client.WithEndorsingOrganizations(peerMSPID))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", protocol.FnInitEnclave, err)
	}
	if _, _, err := credentials.Parse(creds); err != nil {
		return nil, fmt.Errorf("%s returned invalid credentials: %w", protocol.FnInitEnclave, err)
	}
	return creds, nil
}

// Register submits credentials to the enclave registry. The client's
// identity must be an admin (NodeOU admin) of the enclave host organization
// of the deploy configuration.
func (c *Client) Register(ctx context.Context, creds []byte) (*credentials.Record, error) {
	raw, err := c.registry.SubmitWithContext(ctx, "RegisterEnclave", client.WithBytesArguments(creds))
	if err != nil {
		return nil, fmt.Errorf("register enclave: %w", err)
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode registration: %w", err)
	}
	c.Refresh()
	return &rec, nil
}
