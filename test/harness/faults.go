package harness

// Fault injection on the running network: kill a node the hard way and find
// the Raft leader, for the fault suite (test/faults). A killed node comes
// back with Node("start", node), which starts it from its data folder with
// the environment recorded at network-up.

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillNode sends SIGKILL to a node of the network (an orderer, a peer or a
// chaincode server, named as for Node: "orderer2", "peer-provider",
// "chaincode-refund-client"): no chance to flush or close anything, as a
// power cut or the OOM killer. It waits until the process is gone and
// leaves its PID file, so Node("start", node) starts it again.
func (n *Network) KillNode(node string) error {
	pidFile := filepath.Join(n.runDir, "pids", node+".pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("kill %s: no recorded PID: %w", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("kill %s: PID file %s holds %q, not a PID", node, pidFile, strings.TrimSpace(string(b)))
	}
	// The PID must still be a program of this network (a binary of the run folder or of the cache's bin
	// folder), never a process that reused the number.
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return fmt.Errorf("kill %s: process %d is not running: %w", node, pid, err)
	}
	if n.Info != nil && !under(exe, n.Info.BinDir) && !under(exe, n.runDir) {
		return fmt.Errorf("kill %s: process %d runs %s, not a program of this network", node, pid, exe)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s (PID %d): %w", node, pid, err)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			n.logf("killed %s (PID %d) with SIGKILL", node, pid)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kill %s: process %d still exists 10 s after SIGKILL", node, pid)
}

// under reports whether path is inside dir, symbolic links of dir resolved (/proc/PID/exe is a resolved path).
func under(path, dir string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	return strings.HasPrefix(path, dir+string(os.PathSeparator))
}

// OrdererNode is the node name (for Node and KillNode) of an orderer of
// Info.Orderers: "orderer1" for orderer1.<domain>.
func OrdererNode(o Orderer) string {
	name, _, _ := strings.Cut(o.Name, ".")
	return name
}

// RaftLeader returns the node name of the orderer that leads the channel's
// etcdraft cluster, as the orderers' operations endpoints report it (the
// gauge consensus_etcdraft_is_leader{channel="<channel>"} of /metrics). It
// fails when no orderer, or more than one, reports itself leader; orderers
// that do not answer are skipped (a killed one).
func (n *Network) RaftLeader() (string, error) {
	if n.Info == nil {
		return "", errors.New("the network is not running")
	}
	var leaders, answered []string
	for _, o := range n.Info.Orderers {
		v, err := metricValue("http://"+o.OperationsAddress+"/metrics", "consensus_etcdraft_is_leader", `channel="`+n.Info.Channel+`"`)
		if err != nil {
			continue
		}
		answered = append(answered, OrdererNode(o))
		if v == 1 {
			leaders = append(leaders, OrdererNode(o))
		}
	}
	if len(leaders) != 1 {
		return "", fmt.Errorf("channel %s: %d orderers report themselves Raft leader (%v) of %d answering (%v)", n.Info.Channel, len(leaders), leaders, len(answered), answered)
	}
	return leaders[0], nil
}

// WaitRaftLeader waits up to timeout for a Raft leader other than not
// ("" for any) and returns it.
func (n *Network) WaitRaftLeader(not string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		l, err := n.RaftLeader()
		if err == nil && l != not {
			return l, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the leader is still %s", l)
			}
			return "", fmt.Errorf("no new Raft leader within %s: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// MetricValue reads the Prometheus text endpoint url and returns the value
// of the sample of metric whose label set contains labels ("" for any,
// else e.g. `sla="x"`); several matching samples are added up.
func MetricValue(url, metric, labels string) (float64, error) {
	return metricValue(url, metric, labels)
}

func metricValue(url, metric, labels string) (float64, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, metric)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		sel, val := "", rest
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			if end < 0 {
				continue
			}
			sel, val = rest[1:end], rest[end+1:]
		}
		if labels != "" && !strings.Contains(","+sel+",", ","+labels+",") {
			continue
		}
		fields := strings.Fields(val) // value [timestamp]
		if len(fields) == 0 {
			continue
		}
		f, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("GET %s: %s: %w", url, line, err)
		}
		sum += f
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if !found {
		return 0, fmt.Errorf("GET %s: no sample of %s{%s}", url, metric, labels)
	}
	return sum, nil
}

// RestartAll stops every process of the network (chaincode servers, peers, orderers, the tunneling shim,
// then the IPFS node; network/node.sh stop: SIGTERM, SIGKILL after a grace period) and starts them again
// from the run folder (the IPFS node, the shim, the orderers, the peers, the chaincode servers, each
// waited for), as after a power cut of the whole site. It returns how long the network was down: from
// the first stop to the last node ready.
func (n *Network) RestartAll() (time.Duration, error) {
	envs, err := filepath.Glob(filepath.Join(n.runDir, "nodes", "*.env"))
	if err != nil {
		return 0, err
	}
	byKind := map[string][]string{}
	for _, f := range envs {
		node := strings.TrimSuffix(filepath.Base(f), ".env")
		kind := node
		for _, prefix := range []string{"chaincode-", "peer-", "orderer"} {
			if strings.HasPrefix(node, prefix) {
				kind = prefix
			}
		}
		byKind[kind] = append(byKind[kind], node)
	}
	withIPFS := true
	if _, err := os.Stat(filepath.Join(n.runDir, "shim-url")); err != nil {
		withIPFS = false
	}
	start := time.Now()
	for _, kind := range []string{"chaincode-", "peer-", "orderer", "shim-tunnel"} {
		for _, node := range byKind[kind] {
			if err := n.Node("stop", node); err != nil {
				return 0, err
			}
		}
	}
	if withIPFS {
		if _, err := n.repoScript("ipfs/down.sh"); err != nil {
			return 0, err
		}
		if _, err := n.repoScript("ipfs/up.sh"); err != nil {
			return 0, err
		}
	}
	for _, kind := range []string{"shim-tunnel", "orderer", "peer-", "chaincode-"} {
		for _, node := range byKind[kind] {
			if err := n.Node("start", node); err != nil {
				return 0, err
			}
		}
	}
	down := time.Since(start)
	n.logf("restarted every node of the network from its run folder: down for %s", down.Round(time.Millisecond))
	return down, nil
}
