package ccserver

import (
	"strings"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

type noop struct{ contractapi.Contract }

func (noop) Ping(contractapi.TransactionContextInterface) error { return nil }

func TestServeNeedsEnvironment(t *testing.T) {
	t.Setenv("CHAINCODE_ID", "")
	t.Setenv("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:0")
	if err := Serve(&noop{}); err == nil || !strings.Contains(err.Error(), "CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set") {
		t.Fatalf("Serve without CHAINCODE_ID: %v", err)
	}
}
