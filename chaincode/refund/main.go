// Command refund runs the Refund chaincode as a chaincode
// server (Fabric's chaincode-as-a-service): the peer connects to it.
//
// Environment: CHAINCODE_ID (the package id the peer knows the chaincode
// by) and CHAINCODE_SERVER_ADDRESS (host:port to listen on). TLS is off.
package main

import (
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/internal/ccserver"
)

func main() { ccserver.Main("refund chaincode", &refund.Contract{}) }
