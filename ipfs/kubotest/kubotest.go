// Package kubotest starts a real, private, offline kubo node for integration tests and benchmarks, through the
// project's own scripts (ipfs/build.sh, ipfs/up.sh, ipfs/down.sh), in a temporary run folder on free ports.
// The node is stopped when the test ends (t.Cleanup) and, should the test binary die first, by the scripts'
// watchdog (SLASA_IPFS_WATCH_PID).
package kubotest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	shell "github.com/ipfs/go-ipfs-api"
)

// Node is a kubo node started by Start.
type Node struct {
	// RunDir is the node's run folder (SLASA_RUN_DIR); the node lives in RunDir/ipfs.
	RunDir string
	// API is the API address, "127.0.0.1:PORT".
	API string
	// Gateway is the gateway address, "127.0.0.1:PORT".
	Gateway string
	// APIFile is the file ipfs/up.sh writes the API address to.
	APIFile string

	root string
	env  []string
}

// RepoRoot returns the repository root (the directory holding go.mod), searched upwards from the working
// directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "ipfs", "up.sh")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kubotest: repository root (go.mod with ipfs/up.sh) not found above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start builds kubo if it is missing (a cold build takes minutes), then starts a node in a fresh temporary run
// folder on free ports. It fails t on any error and stops the node when t ends.
func Start(t testing.TB) *Node {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	apiPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	gwPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for gwPort == apiPort {
		if gwPort, err = FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	run := t.TempDir()
	n := &Node{
		RunDir:  run,
		API:     fmt.Sprintf("127.0.0.1:%d", apiPort),
		Gateway: fmt.Sprintf("127.0.0.1:%d", gwPort),
		APIFile: filepath.Join(run, "ipfs", "api"),
		root:    root,
		env: append(os.Environ(),
			"SLASA_RUN_DIR="+run,
			fmt.Sprintf("SLASA_IPFS_API_PORT=%d", apiPort),
			fmt.Sprintf("SLASA_IPFS_GATEWAY_PORT=%d", gwPort),
			fmt.Sprintf("SLASA_IPFS_WATCH_PID=%d", os.Getpid()),
		),
	}
	if err := n.script("build.sh"); err != nil {
		t.Fatalf("kubotest: building kubo: %v", err)
	}
	t.Cleanup(func() {
		if err := n.script("down.sh"); err != nil {
			t.Errorf("kubotest: stopping kubo: %v", err)
		}
	})
	n.Up(t)
	return n
}

func (n *Node) script(name string) error {
	cmd := exec.Command("bash", filepath.Join(n.root, "ipfs", name))
	cmd.Env = n.env
	cmd.Dir = n.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ipfs/%s: %v\n%s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Up starts the node (again) with ipfs/up.sh; its repository, and so its content, is kept across Down/Up.
func (n *Node) Up(t testing.TB) {
	t.Helper()
	if err := n.script("up.sh"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(n.APIFile)
	if err != nil || strings.TrimSpace(string(b)) != n.API {
		t.Fatalf("kubotest: %s holds %q (%v), want %s", n.APIFile, b, err, n.API)
	}
}

// Down stops the node with ipfs/down.sh.
func (n *Node) Down(t testing.TB) {
	t.Helper()
	if err := n.script("down.sh"); err != nil {
		t.Fatal(err)
	}
}

// Add adds data to the node like `ipfs add --cid-version=1 --pin` and returns the CID kubo reports.
func (n *Node) Add(t testing.TB, data []byte) string {
	t.Helper()
	sh := shell.NewShell(n.API)
	c, err := sh.Add(bytes.NewReader(data), shell.CidVersion(1), shell.Pin(true))
	if err != nil {
		t.Fatalf("kubotest: adding %d bytes: %v", len(data), err)
	}
	return c
}
