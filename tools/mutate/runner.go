package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Outcomes of a mutant.
const (
	Killed   = "KILLED"   // a test failed: the check is guarded
	Survived = "SURVIVED" // every test passed without the check
	Broken   = "BROKEN"   // the marker or the mutant is unusable, or the tests fail without any mutant
)

// run is what one go test invocation showed.
type run struct {
	buildFailed bool     // a package or the mutant did not build (or a pattern matched nothing usable)
	testFailed  bool     // a test or a test binary failed
	failed      []string // "pkg.TestName" of the failed tests, in order
	timedOut    bool     // a test binary hit go test's -timeout
	exitErr     error    // the go command's error, when it did not exit 0
	deadline    bool     // the run did not finish before the outer deadline
	output      []string // build output, test output of failures, and stderr, for the report
	seconds     float64
}

// testEvent is the part of a go test -json event (cmd/test2json) we read.
type testEvent struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Output      string
	FailedBuild string
}

// goTest runs the tests of pkgs in the module at root, with the overlay file
// when it is not empty. timeout is go test's -timeout; the whole run,
// building included, may take twice as long.
func goTest(ctx context.Context, root, overlay string, pkgs []string, timeout time.Duration) run {
	ctx, cancel := context.WithTimeout(ctx, 2*timeout)
	defer cancel()
	args := []string{"test", "-json", "-count=1", "-vet=off", "-short", "-failfast", "-timeout=" + timeout.String()}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	ownProcessGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{seconds: time.Since(start).Seconds(), exitErr: err}
	if ctx.Err() != nil && err != nil {
		r.deadline = true
	}
	testOut := map[string][]string{} // output per package/test, kept for failures
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			r.output = append(r.output, sc.Text())
			continue
		}
		key := ev.Package + " " + ev.Test
		switch ev.Action {
		case "build-output":
			r.output = append(r.output, strings.TrimRight(ev.Output, "\n"))
		case "build-fail":
			r.buildFailed = true
		case "output":
			testOut[key] = append(testOut[key], strings.TrimRight(ev.Output, "\n"))
			if strings.HasPrefix(ev.Output, "panic: test timed out after") {
				r.timedOut = true
			}
		case "fail":
			if ev.FailedBuild != "" {
				r.buildFailed = true
				continue
			}
			r.testFailed = true
			if ev.Test != "" {
				r.failed = append(r.failed, ev.Package+"."+ev.Test)
			}
			r.output = append(r.output, testOut[key]...)
		}
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		r.output = append(r.output, strings.Split(s, "\n")...)
	}
	return r
}

// verdict turns a mutant's run into an outcome and an explanation.
func verdict(r run, timeout time.Duration) (status, reason string) {
	switch {
	case r.deadline:
		return Broken, fmt.Sprintf("go test did not finish within %s (twice -timeout)", 2*timeout)
	case r.buildFailed:
		return Broken, "the mutant does not build, or go test could not load the packages"
	case r.testFailed && r.timedOut:
		return Killed, "the tests timed out"
	case r.testFailed:
		return Killed, ""
	case r.exitErr != nil:
		return Broken, fmt.Sprintf("go test failed without a failing test: %v", r.exitErr)
	default:
		return Survived, "every test passed with the check removed: add a test that expects this check's error"
	}
}

// baseline checks that the tests pass without any mutant, so that a failing
// mutant run means the mutant was caught.
func baseline(ctx context.Context, root string, pkgs []string, timeout time.Duration) (ok bool, reason string, r run) {
	r = goTest(ctx, root, "", pkgs, timeout)
	switch {
	case r.deadline:
		return false, fmt.Sprintf("the tests without any mutant did not finish within %s", 2*timeout), r
	case r.buildFailed:
		return false, "go test without any mutant does not build or cannot load " + strings.Join(pkgs, " "), r
	case r.testFailed || r.exitErr != nil:
		return false, "the tests fail without any mutant", r
	}
	return true, "", r
}

// mutantRun writes the marker's mutant to a temporary folder and runs its
// tests with an overlay that replaces the file.
func mutantRun(ctx context.Context, root string, m *Marker, timeout time.Duration) (run, error) {
	dir, err := os.MkdirTemp("", "mutate-")
	if err != nil {
		return run{}, err
	}
	defer os.RemoveAll(dir)
	mutant := filepath.Join(dir, filepath.Base(m.abs))
	if err := os.WriteFile(mutant, m.Mutant(), 0o644); err != nil {
		return run{}, err
	}
	ov, err := json.Marshal(struct{ Replace map[string]string }{map[string]string{m.abs: mutant}})
	if err != nil {
		return run{}, err
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, ov, 0o644); err != nil {
		return run{}, err
	}
	return goTest(ctx, root, overlay, m.Tests, timeout), nil
}

// tail returns the last n lines.
func tail(lines []string, n int) []string {
	if len(lines) > n {
		return append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return lines
}
