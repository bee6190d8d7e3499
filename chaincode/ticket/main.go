// Command ticket runs the trouble-ticket chaincode as a chaincode server
// (Fabric's chaincode-as-a-service): the peer connects to it.
//
// Each organization runs its own server with its own copy of the deploy
// configuration: -config FILE (default $SLASA_DEPLOY_CONFIG) and
// -max-clock-skew DURATION (default $SLASA_MAX_CLOCK_SKEW, else 5m). The
// server exits with status 1 and a message naming the problem when the
// configuration is missing or invalid.
//
// Environment: CHAINCODE_ID (the package id the peer knows the chaincode
// by), CHAINCODE_SERVER_ADDRESS (host:port to listen on) and
// CORE_PEER_LOCALMSPID (the MSP ID of the peer's organization: the queries
// read that organization's implicit collection). TLS is off.
package main

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccserver"
)

func main() {
	ccserver.MainGuarded("ticket chaincode", func(g *ccguard.Guard) contractapi.ContractInterface { return ticket.New(g) })
}
