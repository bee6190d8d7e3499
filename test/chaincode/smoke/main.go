// Command smoke is a tiny chaincode for the network smoke test, written with fabric-contract-api-go/v2
// and run as a chaincode-as-a-service server (CCaaS): the peer connects to it at
// CHAINCODE_SERVER_ADDRESS, and CHAINCODE_ID is the installed package ID. network/deploy.sh smoke
// builds, packages, installs, starts and commits it.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccserver"
)

// PutEventName is the name of the chaincode event Put emits.
const PutEventName = "Put"

// Contract is the smoke-test contract: a key-value store, a chaincode-to-chaincode call and an event.
type Contract struct {
	contractapi.Contract
}

// PutEvent is the payload of the Put event.
type PutEvent struct {
	// Key is the key written.
	Key string `json:"key"`
	// Value is the value written.
	Value string `json:"value"`
	// Creator is the common name of the submitting client.
	Creator string `json:"creator"`
}

// Put stores value under key and emits a Put event.
func (c *Contract) Put(ctx contractapi.TransactionContextInterface, key, value string) error {
	if key == "" {
		return fmt.Errorf("key: must not be empty")
	}
	if err := ctx.GetStub().PutState(key, []byte(value)); err != nil {
		return fmt.Errorf("writing key %q: %w", key, err)
	}
	cn, err := c.Whoami(ctx)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(PutEvent{Key: key, Value: value, Creator: cn})
	if err != nil {
		return err
	}
	return ctx.GetStub().SetEvent(PutEventName, payload)
}

// Get returns the value stored under key, or an error naming the key when there is none.
func (c *Contract) Get(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	v, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", fmt.Errorf("reading key %q: %w", key, err)
	}
	if v == nil {
		return "", fmt.Errorf("key %q: not found", key)
	}
	return string(v), nil
}

// GetFrom reads key through the Get function of the chaincode named chaincode on this channel
// (a chaincode-to-chaincode call).
func (c *Contract) GetFrom(ctx contractapi.TransactionContextInterface, chaincode, key string) (string, error) {
	resp := ctx.GetStub().InvokeChaincode(chaincode, [][]byte{[]byte("Get"), []byte(key)}, "")
	if resp.Status != shim.OK {
		return "", fmt.Errorf("calling %s Get %q: status %d: %s", chaincode, key, resp.Status, resp.Message)
	}
	return string(resp.Payload), nil
}

// PutTo writes key=value through the Put function of the chaincode named chaincode (a
// chaincode-to-chaincode call whose write lands in the other chaincode's namespace).
func (c *Contract) PutTo(ctx contractapi.TransactionContextInterface, chaincode, key, value string) error {
	resp := ctx.GetStub().InvokeChaincode(chaincode, [][]byte{[]byte("Put"), []byte(key), []byte(value)}, "")
	if resp.Status != shim.OK {
		return fmt.Errorf("calling %s Put %q: status %d: %s", chaincode, key, resp.Status, resp.Message)
	}
	return nil
}

// Whoami returns the common name of the client that submitted the transaction.
func (c *Contract) Whoami(ctx contractapi.TransactionContextInterface) (string, error) {
	cert, err := ctx.GetClientIdentity().GetX509Certificate()
	if err != nil {
		return "", fmt.Errorf("reading the client certificate: %w", err)
	}
	if cert == nil {
		return "", fmt.Errorf("the client identity has no X.509 certificate")
	}
	return cert.Subject.CommonName, nil
}

// MSPID returns the MSP ID of the client that submitted the transaction.
func (c *Contract) MSPID(ctx contractapi.TransactionContextInterface) (string, error) {
	return ctx.GetClientIdentity().GetMSPID()
}

// PeerMSPID returns the MSP ID of the organization whose chaincode server runs this transaction: the
// server's CORE_PEER_LOCALMSPID, which network/deploy.sh sets for every organization's server
// (shim.GetMSPID). Evaluated on one organization's peer, it names that organization.
func (c *Contract) PeerMSPID(_ contractapi.TransactionContextInterface) (string, error) {
	msp, err := shim.GetMSPID()
	if err != nil {
		return "", fmt.Errorf("this chaincode server's organization: %w", err)
	}
	return msp, nil
}

func main() { ccserver.Main("smoke", &Contract{}) }
