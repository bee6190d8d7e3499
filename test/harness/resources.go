package harness

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ResidentMemory sums the resident memory (VmRSS) of the network's recorded processes (the run
// folder's pids/: orderers, peers, chaincode servers, kubo) and counts them.
func (n *Network) ResidentMemory() (bytes int64, procs int) {
	files, _ := filepath.Glob(filepath.Join(n.runDir, "pids", "*.pid"))
	for _, f := range files {
		pid, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				bytes += kb << 10
				procs++
			}
		}
	}
	return bytes, procs
}

// PeerLedgerDir is the ledger folder (CORE_PEER_FILESYSTEMPATH: block files, state and history
// databases, private data store) of the peer of the organization org.
func (n *Network) PeerLedgerDir(org string) string {
	return filepath.Join(n.runDir, "peers", org, "ledger")
}

// DiskUsage returns the disk space the files under dir occupy (allocated blocks, as du counts them).
func DiskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// Processes returns the network's recorded processes (the run folder's pids/: orderers, peers,
// chaincode servers, the tunneling shim; and kubo, ipfs/ipfs.pid, as "ipfs") by name (the pid file's
// name without .pid) and pid, whether or not they still run.
func (n *Network) Processes() map[string]int {
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(n.runDir, "pids", "*.pid"))
	files = append(files, filepath.Join(n.runDir, "ipfs", "ipfs.pid"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
		}
	}
	return out
}

// LogDir is the folder of the network's process logs (<node>.log: orderers, peers, chaincode servers).
func (n *Network) LogDir() string { return filepath.Join(n.runDir, "logs") }
