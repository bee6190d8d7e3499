// Command agreement runs the Agreement & Payment chaincode as a chaincode
// server (Fabric's chaincode-as-a-service): the peer connects to it.
//
// Environment: CHAINCODE_ID (the package id the peer knows the chaincode
// by) and CHAINCODE_SERVER_ADDRESS (host:port to listen on). TLS is off.
package main

import (
	"fmt"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agreement chaincode:", err)
		os.Exit(1)
	}
}

func run() error {
	cc, err := contractapi.NewChaincode(&agreement.Contract{})
	if err != nil {
		return fmt.Errorf("create chaincode: %w", err)
	}
	id, addr := os.Getenv("CHAINCODE_ID"), os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if id == "" || addr == "" {
		return fmt.Errorf("CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set")
	}
	server := &shim.ChaincodeServer{CCID: id, Address: addr, CC: cc, TLSProps: shim.TLSProperties{Disabled: true}}
	return server.Start()
}
