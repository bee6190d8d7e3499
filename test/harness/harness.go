// Package harness brings up a real Hyperledger Fabric network (native processes, see network/README.md)
// for Go integration tests, once per test binary, in its own temporary run folder and on its own free
// port block, so a network started with `make network-up` is left alone. It drives the network with the
// same scripts a developer uses (network/up.sh, deploy.sh, down.sh), deploys the chaincodes a test
// package asks for, and hands out fabric-gateway connections per identity.
//
// Typical use, in a package built with the integration tag:
//
//	var net *harness.Network
//
//	func TestMain(m *testing.M) {
//		os.Exit(harness.Run(m, harness.Options{Chaincodes: []harness.Chaincode{{Source: "smoke"}}}, &net))
//	}
//
// Teardown happens on normal exit, on SIGINT/SIGTERM, and, through a watchdog process that waits for
// the test binary to exit, even when a test panics or go test's -timeout kills the binary.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/internal/fabnet"
	"google.golang.org/grpc"
)

// Chaincode is a chaincode to deploy with network/deploy.sh.
type Chaincode struct {
	// Source is the deploy.sh table name: "smoke", "agreement", "refund", ...
	Source string
	// Name is the chaincode name on the channel; empty means Source.
	Name string
	// Policy is the endorsement signature policy; empty means deploy.sh's default (agreement, refund,
	// ercc, slaenclave: any two organizations with a peer, Network.AnyTwoPolicy; smoke, baseline,
	// guarded: AND of ProviderOrg's and ClientOrg's peers). AnyTwoPolicy asks for the former.
	Policy string
}

// AnyTwoPolicy is a Chaincode.Policy: OutOf(2, <every organization with a peer>.peer), the default of
// the application chaincodes, for any source (deploy.sh's --policy any-two; Info.AnyTwoPolicy spells
// it out).
const AnyTwoPolicy = "any-two"

// Options configure Start. The zero value starts a single-orderer network of three organizations with
// a peer and deploys nothing.
type Options struct {
	// Orderers is the number of Raft orderers, 1 (default) or 3.
	Orderers int
	// Orgs is the number of organizations with a peer (SLASA_ORGS), 3 (default) to 20: ProviderOrg,
	// ClientOrg, VendorOrg, then OtherOrg (with 3, a channel member without a peer) and Org5 .. OrgN.
	Orgs int
	// Channel is the channel name; empty means "slasa".
	Channel string
	// PortBase fixes the first port of the network's 500-port block (PortBlock); 0 picks a free block.
	PortBase int
	// Chaincodes are deployed, in order, after the network is up.
	Chaincodes []Chaincode
	// DeployAll runs network/deploy-all.sh after Chaincodes: the application (agreement, refund, ercc,
	// slaenclave, each organization's own servers), its deploy configuration recorded, the enclave set up.
	DeployAll bool
	// Env is extra environment ("NAME=value") for every script of the network (up.sh, deploy.sh,
	// deploy-config.sh, deploy-all.sh, node.sh, down.sh), e.g. "SLASA_SECOND_CA=1", "SLASA_WITH_IPFS=0",
	// "SLASA_MAX_CLOCK_SKEW=1m", "SLASA_ATTESTATION=sgx". It is applied after the harness's own
	// variables, so it may override them.
	Env []string
	// Log receives progress lines and the scripts' output; nil means os.Stderr.
	Log io.Writer
}

// Network is a running network started by Start.
type Network struct {
	// Info is the parsed network.json of the running network (refreshed after each Deploy).
	Info *Info

	repoRoot string
	tmpDir   string
	runDir   string
	env      []string
	log      io.Writer
	watchdog *exec.Cmd
	sigs     chan os.Signal

	mu       sync.Mutex
	conns    map[string]*grpc.ClientConn // by org
	gateways map[string]*client.Gateway  // by identity name
	stopOnce sync.Once
	stopErr  error
}

// RepoRoot finds the repository root (the folder holding network/up.sh) from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "network", "up.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found: no network/up.sh above the working directory")
		}
		dir = parent
	}
}

// Start builds the binaries if needed, brings up a network in a new temporary run folder, and deploys
// opts.Chaincodes. On error nothing is left running.
func Start(opts Options) (*Network, error) {
	if opts.Orderers == 0 {
		opts.Orderers = 1
	}
	if opts.Orderers != 1 && opts.Orderers != 3 {
		return nil, fmt.Errorf("Options.Orderers: %d must be 1 or 3", opts.Orderers)
	}
	if opts.Channel == "" {
		opts.Channel = "slasa"
	}
	if opts.Orgs == 0 {
		opts.Orgs = fabnet.DefaultOrgs
	}
	if opts.Orgs < fabnet.MinOrgs || opts.Orgs > fabnet.MaxOrgs {
		return nil, fmt.Errorf("Options.Orgs: %d must be %d..%d", opts.Orgs, fabnet.MinOrgs, fabnet.MaxOrgs)
	}
	logw := opts.Log
	if logw == nil {
		logw = os.Stderr
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "slasa-it-")
	if err != nil {
		return nil, err
	}
	n := &Network{
		repoRoot: root,
		tmpDir:   tmp,
		runDir:   filepath.Join(tmp, "run"),
		log:      logw,
		conns:    map[string]*grpc.ClientConn{},
		gateways: map[string]*client.Gateway{},
	}
	n.watch()

	start := time.Now()
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		base := opts.PortBase
		if base == 0 {
			if base, err = FreePortBase(); err != nil {
				n.Stop()
				return nil, err
			}
		}
		n.env = append(os.Environ(),
			"SLASA_RUN_DIR="+n.runDir,
			"SLASA_PORT_BASE="+strconv.Itoa(base),
			"ORDERERS="+strconv.Itoa(opts.Orderers),
			"SLASA_ORGS="+strconv.Itoa(opts.Orgs),
			"SLASA_CHANNEL="+opts.Channel,
		)
		n.env = append(n.env, opts.Env...)
		out, err := n.script("up.sh")
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = err
		// Another process may have grabbed a port between our check and up.sh's: try another block.
		if opts.PortBase != 0 || !strings.Contains(out, "is already in use") {
			break
		}
	}
	if lastErr != nil {
		n.Stop()
		return nil, lastErr
	}
	n.logf("network up in %s (run folder %s)", time.Since(start).Round(time.Millisecond), n.runDir)
	for _, cc := range opts.Chaincodes {
		if err := n.Deploy(cc); err != nil {
			n.Stop()
			return nil, err
		}
	}
	if opts.DeployAll {
		if err := n.DeployAll(); err != nil {
			n.Stop()
			return nil, err
		}
	}
	if err := n.refresh(); err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

// Run is a TestMain body: it starts the network, stores it in *net, runs the tests and stops the
// network, returning the exit code for os.Exit. A start failure is reported and yields exit code 1.
func Run(m *testing.M, opts Options, net **Network) int {
	n, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: starting the network: %v\n", err)
		return 1
	}
	*net = n
	code := m.Run()
	if err := n.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "harness: stopping the network: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// RunDir is the network's run folder.
func (n *Network) RunDir() string { return n.runDir }

// Env is the environment the scripts run with (SLASA_RUN_DIR, SLASA_PORT_BASE, ...), for tests that
// run scripts or the peer CLI themselves.
func (n *Network) Env() []string { return append([]string(nil), n.env...) }

// Deploy deploys (or redeploys, bumping the sequence) a chaincode with network/deploy.sh.
func (n *Network) Deploy(cc Chaincode) error {
	if cc.Source == "" {
		return errors.New("Chaincode.Source: must not be empty")
	}
	args := []string{cc.Source}
	if cc.Name != "" {
		args = append(args, "--name", cc.Name)
	}
	if cc.Policy != "" {
		args = append(args, "--policy", cc.Policy)
	}
	start := time.Now()
	if _, err := n.script("deploy.sh", args...); err != nil {
		return err
	}
	n.logf("deployed %s as %s in %s", cc.Source, nameOr(cc.Name, cc.Source), time.Since(start).Round(time.Millisecond))
	return n.refresh()
}

// PeerCLI runs the peer CLI as USER of ORG through `source network/env.sh ORG USER` (an organization
// key: "provider", "client", "vendor", "other", "org5", ...; user "admin" or a user name of the
// organization) and returns its standard output; on failure the error carries the combined output.
func (n *Network) PeerCLI(org, user string, args ...string) (string, error) {
	script := `source network/env.sh "$1" "$2" >/dev/null 2>&1 || exit 3; shift 2; exec peer "$@"`
	cmd := exec.Command("bash", append([]string{"-c", script, "peer-cli", org, user}, args...)...)
	cmd.Dir = n.repoRoot
	cmd.Env = n.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("peer %s as %s/%s: %v\n%s%s", strings.Join(args, " "), org, user, err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// Stop closes the gateway connections, stops every network process and removes the run folder.
// It is safe to call more than once.
func (n *Network) Stop() error {
	n.stopOnce.Do(func() {
		n.mu.Lock()
		for _, gw := range n.gateways {
			_ = gw.Close()
		}
		for _, c := range n.conns {
			_ = c.Close()
		}
		n.gateways, n.conns = map[string]*client.Gateway{}, map[string]*grpc.ClientConn{}
		n.mu.Unlock()
		if n.sigs != nil {
			signal.Stop(n.sigs)
		}
		if n.env != nil {
			if _, err := n.script("down.sh"); err != nil {
				n.stopErr = err
			}
		}
		if n.watchdog != nil && n.watchdog.Process != nil {
			// The watchdog runs in its own process group: stop it and its sleep.
			_ = syscall.Kill(-n.watchdog.Process.Pid, syscall.SIGKILL)
			_ = n.watchdog.Wait()
		}
		if err := os.RemoveAll(n.tmpDir); err != nil && n.stopErr == nil {
			n.stopErr = err
		}
	})
	return n.stopErr
}

// watch installs the SIGINT/SIGTERM handler and starts the watchdog: a shell, in its own session,
// that waits for this process to end and then runs network/down.sh for this run folder. It covers
// the cases no deferred Stop can: a panicking test, go test's -timeout, SIGKILL.
func (n *Network) watch() {
	n.sigs = make(chan os.Signal, 1)
	signal.Notify(n.sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s, ok := <-n.sigs
		if !ok {
			return
		}
		n.logf("received %v: stopping the network", s)
		_ = n.Stop()
		code := 130
		if s == syscall.SIGTERM {
			code = 143
		}
		os.Exit(code)
	}()
	script := `while kill -0 "$1" 2>/dev/null; do sleep 1; done; [ -d "$2" ] && SLASA_RUN_DIR="$2" bash "$3" >/dev/null 2>&1; rm -rf "$4"`
	cmd := exec.Command("bash", "-c", script, "slasa-watchdog", strconv.Itoa(os.Getpid()), n.runDir,
		filepath.Join(n.repoRoot, "network", "down.sh"), n.tmpDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		n.logf("warning: could not start the teardown watchdog: %v", err)
		return
	}
	n.watchdog = cmd
}

// script runs network/NAME with the network's environment, streaming its output to the log, and
// returns the output; on failure the error carries the output's tail.
func (n *Network) script(name string, args ...string) (string, error) {
	return n.repoScript("network/"+name, args...)
}

// repoScript runs the script at path (relative to the repository root, e.g. "ipfs/up.sh") as script does.
func (n *Network) repoScript(path string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(n.repoRoot, filepath.FromSlash(path))}, args...)...)
	cmd.Dir = n.repoRoot
	cmd.Env = n.env
	var out bytes.Buffer
	w := io.MultiWriter(&out, n.log)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %v\n%s", path, strings.Join(args, " "), err, tail(out.String(), 40))
	}
	return out.String(), nil
}

func (n *Network) refresh() error {
	info, err := ReadInfo(filepath.Join(n.runDir, "network.json"))
	if err != nil {
		return err
	}
	n.Info = info
	return nil
}

func (n *Network) logf(format string, args ...any) {
	fmt.Fprintf(n.log, "[harness] "+format+"\n", args...)
}

// PortBlock is the number of ports of a network's block (network/lib.sh SLASA_PORT_BLOCK): orderers,
// IPFS and the shim below base+100, one peer per organization at base+100+10*i, chaincode servers at
// base+300 .. base+499.
const PortBlock = 500

// FreePortBase picks a random PortBlock-port block between 20000 and 32500 (below Linux's usual
// ephemeral range) whose ports are all free on 127.0.0.1.
func FreePortBase() (int, error) {
	const lo, hi, size = 20000, 32500, PortBlock
	blocks := (hi - lo) / size
	first := rand.IntN(blocks)
	for i := 0; i < blocks; i++ {
		base := lo + ((first+i)%blocks)*size
		if base == 27000 { // the default of `make network-up`
			continue
		}
		if portsFree(base, size) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free block of %d ports between %d and %d", size, lo, hi)
}

// services is the block of ports ServiceAddr hands out, one after the other.
var services struct {
	sync.Mutex
	base, next int
}

// ServiceAddr returns a 127.0.0.1 address for a service that a test starts
// (a logger's or a monitor's /metrics, a proxy): the next port of a block
// that FreePortBase found free, below the kernel's ephemeral range, taken
// once per test binary (another block when it is used up). A port that
// "127.0.0.1:0" handed out and that was closed again before the service
// binds it can meanwhile go to any outgoing connection.
func ServiceAddr(t testing.TB) string {
	t.Helper()
	services.Lock()
	defer services.Unlock()
	if services.base == 0 || services.next == PortBlock {
		base, err := FreePortBase()
		if err != nil {
			t.Fatalf("a port for a service: %v", err)
		}
		services.base, services.next = base, 0
	}
	p := services.base + services.next
	services.next++
	return "127.0.0.1:" + strconv.Itoa(p)
}

func portsFree(base, size int) bool {
	for p := base; p < base+size; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func nameOr(name, def string) string {
	if name != "" {
		return name
	}
	return def
}
