// Package ccserver runs a contract-API (v2) chaincode as a chaincode server,
// Fabric's chaincode-as-a-service: the peer connects to it.
//
// Environment: CHAINCODE_ID (the package id the peer knows the chaincode by)
// and CHAINCODE_SERVER_ADDRESS (host:port to listen on). TLS is off; the
// server listens on loopback in the slasa networks.
//
// A guarded contract (agreement, refund, ercc) is served with ServeGuarded
// or MainGuarded: the organization's deploy configuration and clock policy
// are read first (ccguard.Load: -config or SLASA_DEPLOY_CONFIG,
// -max-clock-skew or SLASA_MAX_CLOCK_SKEW), and the server does not start
// without a valid configuration.
package ccserver

import (
	"errors"
	"fmt"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
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

// ServeGuarded loads the guard of chaincode name from the command-line
// arguments and the environment (ccguard.Load), builds the contract with it
// and serves it (see Serve). It fails before serving when the deploy
// configuration is missing or invalid.
func ServeGuarded(name string, args []string, build func(*ccguard.Guard) contractapi.ContractInterface) error {
	g, err := ccguard.Load(name, args)
	if err != nil {
		return err
	}
	return Serve(build(g))
}

// MainGuarded is ServeGuarded with os.Args[1:]; it exits with status 1,
// naming the chaincode, when loading the configuration or serving fails.
func MainGuarded(name string, build func(*ccguard.Guard) contractapi.ContractInterface) {
	if err := ServeGuarded(name, os.Args[1:], build); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
