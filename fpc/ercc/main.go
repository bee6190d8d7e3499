// Command ercc runs the enclave registry chaincode as a chaincode-as-a-service
// server.
//
// Flags and environment:
//
//	-config FILE            the organization's deploy configuration (default $SLASA_DEPLOY_CONFIG); required
//	-max-clock-skew D       refuse transactions whose timestamp is further than D from this server's
//	                        clock (default $SLASA_MAX_CLOCK_SKEW, else 5m)
//	CHAINCODE_ID            the package id from the peer (required)
//	CHAINCODE_SERVER_ADDRESS host:port to listen on (required)
//
// It refuses to start without a valid deploy configuration.
package main

import (
	"fmt"
	"os"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/fpc/ercc/registry"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "ercc: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	g, err := ccguard.Load("ercc", os.Args[1:])
	if err != nil {
		return err
	}
	cc, err := contractapi.NewChaincode(registry.New(g))
	if err != nil {
		return fmt.Errorf("create chaincode: %w", err)
	}
	cc.Info.Title = "slasa enclave registry"
	cc.Info.Version = "2.0.0"
	fmt.Fprintf(os.Stderr, "ercc: deploy configuration %s (enclave %s hosted by %s, %s attestation), max clock skew %s\n",
		g.Digest(), g.Config().Chaincodes.Enclave, g.Config().Enclave.HostMSPID, g.Config().Enclave.Attestation, g.MaxSkew())
	return ccserver.Run(cc)
}
