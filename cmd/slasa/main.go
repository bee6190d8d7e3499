// Command slasa is the command-line client of slasa: it validates, digests and
// evaluates Parametric SLAs locally, and drives the slasa chaincodes on a
// Fabric network through the Fabric Gateway.
package main

import (
	"os"

	"github.com/slasa/slasa/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
