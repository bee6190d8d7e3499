package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every mainstream architecture; reading sysconf would need cgo).
const clockTicks = 100

// Sample is one /proc reading of one process.
type Sample struct {
	Process string `json:"process"`
	AtMS    int64  `json:"at_ms"`
	// CPUTicks is utime + stime in clock ticks since the process started.
	CPUTicks int64 `json:"cpu_ticks"`
	// RSSKB is the resident set size in KiB.
	RSSKB int64 `json:"rss_kb"`
}

// monitored lists the run folder's PID files of the network's processes
// (peers, orderers, chaincode servers), by process name.
func monitored(runDir string) (map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(runDir, "pids", "*.pid"))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if !strings.HasPrefix(name, "peer-") && !strings.HasPrefix(name, "orderer") && !strings.HasPrefix(name, "chaincode-") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[name] = pid
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no peer, orderer or chaincode PID files in %s/pids", runDir)
	}
	return out, nil
}

// readProc reads utime+stime and VmRSS of a process.
func readProc(pid int) (ticks, rssKB int64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces: fields after the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	st2, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer st2.Close()
	sc := bufio.NewScanner(st2)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				rssKB, _ = strconv.ParseInt(fields[0], 10, 64)
			}
		}
	}
	return ut + st, rssKB, nil
}

func runMonitor(args []string) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	runDir := fs.String("run-dir", "", "run folder of the running network")
	out := fs.String("out", "", "JSON Lines file of samples")
	interval := fs.Duration("interval", time.Second, "sampling interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runDir == "" || *out == "" {
		return errors.New("-run-dir and -out: required")
	}
	procs, err := monitored(*runDir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(procs))
	for n := range procs {
		names = append(names, n)
	}
	sort.Strings(names)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		now := time.Now().UnixMilli()
		for _, n := range names {
			ticks, rss, err := readProc(procs[n])
			if err != nil {
				continue // the process ended; the report shows the gap
			}
			if err := enc.Encode(Sample{Process: n, AtMS: now, CPUTicks: ticks, RSSKB: rss}); err != nil {
				return err
			}
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}
