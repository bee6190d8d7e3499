// Command baseline is the no-op/put baseline chaincode of the Caliper benchmarks
// (bench/caliper): it costs what Fabric itself costs for a transaction that
// writes one key, and nothing more, so that the slasa chaincodes' figures can
// be read as ratios against it in the same run.
//
// It runs as a chaincode-as-a-service server: CHAINCODE_ID (the package id the
// peer knows it by) and CHAINCODE_SERVER_ADDRESS (host:port to listen on) must
// be set; TLS is off. network/deploy.sh baseline builds and deploys it.
package main

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccserver"
)

// MaxKeyLength bounds a key (bytes).
const MaxKeyLength = 256

// MaxValueLength bounds a value (bytes).
const MaxValueLength = 64 << 10

// Contract is the baseline contract: a key-value store with no checks beyond
// argument sizes.
type Contract struct {
	contractapi.Contract
}

// Put writes value under key. The benchmark writes one distinct key per
// transaction, so concurrent Puts never conflict.
func (c *Contract) Put(ctx contractapi.TransactionContextInterface, key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueLength {
		return fmt.Errorf("value: %d bytes, more than the limit of %d", len(value), MaxValueLength)
	}
	if err := ctx.GetStub().PutState(key, []byte(value)); err != nil {
		return fmt.Errorf("write key %q: %w", key, err)
	}
	return nil
}

// Get returns the value stored under key, or an error naming the key when
// there is none.
func (c *Contract) Get(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	v, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", fmt.Errorf("read key %q: %w", key, err)
	}
	if v == nil {
		return "", fmt.Errorf("key %q: not found", key)
	}
	return string(v), nil
}

// Noop does nothing: it measures a transaction with an empty read/write set.
func (c *Contract) Noop(ctx contractapi.TransactionContextInterface) error {
	return nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("key: must not be empty")
	case len(key) > MaxKeyLength:
		return fmt.Errorf("key: %d bytes, more than the limit of %d", len(key), MaxKeyLength)
	}
	return nil
}

func main() { ccserver.Main("baseline chaincode", &Contract{}) }
