package harness

// The application on the network: deploy-all, the deploy configuration, the
// slasa CLI, and each organization's chaincode servers.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabnet"
)

// Server is one organization's chaincode server of a deployment.
type Server = fabnet.Server

// DeployAll runs network/deploy-all.sh (the application: agreement, refund, ercc and slaenclave, each
// organization's own servers, the deploy configuration recorded, the enclave set up). Running it again
// redeploys with the next sequence.
func (n *Network) DeployAll() error {
	start := time.Now()
	if _, err := n.script("deploy-all.sh"); err != nil {
		return err
	}
	n.logf("deployed the application in %s", time.Since(start).Round(time.Millisecond))
	return n.refresh()
}

// WriteDeployConfig runs network/deploy-config.sh: every peer organization's admin fetches the channel
// configuration block and writes its deploy configuration (DeployConfigPath). force overwrites files
// that exist (their servers keep the old one until restarted).
func (n *Network) WriteDeployConfig(force bool) error {
	var args []string
	if force {
		args = append(args, "--force")
	}
	_, err := n.script("deploy-config.sh", args...)
	return err
}

// DeployConfigPath is the deploy configuration file of organization org ("provider", "client"), which
// that organization's chaincode servers read.
func (n *Network) DeployConfigPath(org string) string {
	return filepath.Join(n.runDir, "orgs", org, cli.DeployConfigFile)
}

// DeployConfig reads and parses organization org's deploy configuration.
func (n *Network) DeployConfig(org string) (*deploycfg.Config, error) {
	return deploycfg.Load(n.DeployConfigPath(org))
}

// CLI runs the slasa command line in this process against the network (--run-dir is set) and returns
// its standard output; a non-zero exit is an error carrying the standard error.
func (n *Network) CLI(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"--run-dir", n.runDir}, args...), strings.NewReader(""), &stdout, &stderr)
	if code != cli.ExitOK {
		return stdout.String(), fmt.Errorf("slasa %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// RecordConfig runs `slasa config record` as the identity (an admin, e.g. "provider-admin"): Configure
// of agreement, refund and ercc with the identity's organization's deploy configuration, then waits
// until every peer sees it.
func (n *Network) RecordConfig(identityName string) (string, error) {
	return n.CLI("--as", identityName, "config", "record")
}

// Server returns organization org's server of the deployed chaincode.
func (n *Network) Server(chaincode, org string) (Server, error) {
	if n.Info == nil {
		return Server{}, errors.New("the network is not running")
	}
	d, ok := n.Info.Chaincodes[chaincode]
	if !ok {
		return Server{}, fmt.Errorf("chaincode %q is not deployed", chaincode)
	}
	return d.Server(org)
}

// StopServer stops organization org's server of the chaincode (network/node.sh stop): that
// organization's peer can no longer endorse it, the other organizations' servers keep running.
func (n *Network) StopServer(chaincode, org string) error {
	s, err := n.Server(chaincode, org)
	if err != nil {
		return err
	}
	return n.Node("stop", s.Node)
}

// StartServer starts organization org's server of the chaincode again, with the environment it was
// deployed with (network/node.sh start), and waits until it listens.
func (n *Network) StartServer(chaincode, org string) error {
	s, err := n.Server(chaincode, org)
	if err != nil {
		return err
	}
	return n.Node("start", s.Node)
}

// Node runs network/node.sh ACTION NODE (stop, start or restart an orderer, a peer or a chaincode
// server: "orderer1", "peer-client", "chaincode-agreement-client").
func (n *Network) Node(action, node string) error {
	_, err := n.script("node.sh", action, node)
	return err
}

// ServerLog returns the log of organization org's server of the chaincode so far.
func (n *Network) ServerLog(chaincode, org string) (string, error) {
	s, err := n.Server(chaincode, org)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(s.Log)
	return string(data), err
}
