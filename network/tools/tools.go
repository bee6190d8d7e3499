//go:build tools

// Package tools pins the Hyperledger Fabric v2.5.9 command packages that the
// network scripts build (peer, orderer, configtxgen, configtxlator, cryptogen
// and osnadmin), so that go.mod and go.sum record exact, reproducible
// versions. It is never compiled: the build tag keeps it out of every build.
package tools

import (
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/configtxlator"
	_ "github.com/hyperledger/fabric/cmd/cryptogen"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
