// Command guarded is a test chaincode for the deploy configuration tooling: the smallest contract wired
// to internal/ccguard the way agreement, refund and ercc are (Configure, GetConfig, and a Ping that runs
// only when this organization's deploy configuration is the recorded one). It runs as a CCaaS server and
// refuses to start without a deploy configuration (-config or SLASA_DEPLOY_CONFIG; -max-clock-skew or
// SLASA_MAX_CLOCK_SKEW). network/deploy.sh guarded gives each organization's server its own file;
// test/network drives `slasa config record` and `slasa config show` against it.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccserver"
)

// Contract is the guarded test contract.
type Contract struct {
	contractapi.Contract
	g *ccguard.Guard
}

// Configure records the deploy configuration (an admin of an approving organization; see ccguard).
func (c *Contract) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (string, error) {
	r, err := c.g.Configure(ctx, configJSON)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(r)
	return string(raw), err
}

// GetConfig returns this peer's configuration and digest and the recorded one.
func (c *Contract) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	v, err := c.g.View(ctx)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(v)
	return string(raw), err
}

// Ping writes a key and answers "pong"; the guard lets it run only after Configure, on peers whose
// deploy configuration is the recorded one.
func (c *Contract) Ping(ctx contractapi.TransactionContextInterface) (string, error) {
	if err := ctx.GetStub().PutState("ping", []byte("pong")); err != nil {
		return "", fmt.Errorf("write ping: %w", err)
	}
	return "pong", nil
}

func main() {
	g, err := ccguard.Load("guarded", os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "guarded: %v\n", err)
		os.Exit(1)
	}
	c := &Contract{g: g}
	c.BeforeTransaction = g.Before
	ccserver.Main("guarded", c)
}
