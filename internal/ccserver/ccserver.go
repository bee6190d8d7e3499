// Package ccserver runs a contract-API (v2) chaincode as a chaincode server,
// Fabric's chaincode-as-a-service: the peer connects to it.
//
// Environment: CHAINCODE_ID (the package id the peer knows the chaincode by)
// and CHAINCODE_SERVER_ADDRESS (host:port to listen on). TLS is off; the
// server listens on loopback in the slasa networks.
package ccserver

import (
	"errors"
	"fmt"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Run serves cc until the server stops. It fails when the environment does
// not name the package id and the listen address.
func Run(cc shim.Chaincode) error {
	id, addr := os.Getenv("CHAINCODE_ID"), os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if id == "" || addr == "" {
		return errors.New("CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set (chaincode as a service)")
	}
	server := &shim.ChaincodeServer{CCID: id, Address: addr, CC: cc, TLSProps: shim.TLSProperties{Disabled: true}}
	return server.Start()
}

// Serve builds a chaincode from the contracts and runs it (see Run).
func Serve(contracts ...contractapi.ContractInterface) error {
	cc, err := contractapi.NewChaincode(contracts...)
	if err != nil {
		return fmt.Errorf("create chaincode: %w", err)
	}
	return Run(cc)
}

// Main serves the contracts and exits with status 1, naming the chaincode,
// when serving fails.
func Main(name string, contracts ...contractapi.ContractInterface) {
	if err := Serve(contracts...); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
