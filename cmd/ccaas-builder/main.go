// Command ccaas-builder is slasa's Fabric external builder for chaincode as a service. It is
// installed three times (hard links) as bin/detect, bin/build and bin/release in the builder
// folder named by the peer's chaincode.externalBuilders setting, and dispatches on the name it is
// called by; `ccaas-builder detect|build|release ARGS...` works too. See internal/ccaas.
package main

import (
	"os"

	"github.com/slasa/slasa/internal/ccaas"
)

func main() {
	os.Exit(ccaas.Run(os.Args, os.Getenv, os.Stderr))
}
