// Command ercc runs the enclave registry chaincode as a chaincode-as-a-service
// server. Environment: CHAINCODE_ID (the package id from the peer) and
// CHAINCODE_SERVER_ADDRESS (host:port to listen on).
package main

import (
	"fmt"
	"os"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/fpc/ercc/registry"
	"github.com/slasa/slasa/internal/ccserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "ercc: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	cc, err := contractapi.NewChaincode(&registry.Contract{})
	if err != nil {
		return fmt.Errorf("create chaincode: %w", err)
	}
	cc.Info.Title = "slasa enclave registry"
	cc.Info.Version = "1.0.0"
	return ccserver.Run(cc)
}
