package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestVerdict(t *testing.T) {
	exit := errors.New("exit status 1")
	tests := []struct {
		name   string
		run    run
		status string
		reason string
	}{
		{"every test passes", run{}, Survived, "every test passed with the check removed: add a test that expects this check's error"},
		{"a test fails", run{testFailed: true, exitErr: exit}, Killed, ""},
		{"a test times out", run{testFailed: true, timedOut: true, exitErr: exit}, Killed, "the tests timed out"},
		{"the mutant does not build", run{buildFailed: true, exitErr: exit}, Broken, "the mutant does not build, or go test could not load the packages"},
		{"a build failure outweighs a failing test", run{buildFailed: true, testFailed: true, exitErr: exit}, Broken, "the mutant does not build, or go test could not load the packages"},
		{"past the outer deadline", run{deadline: true, testFailed: true, exitErr: exit}, Broken, "go test did not finish within 2m0s (twice -timeout)"},
		{"go fails without a test failure", run{exitErr: exit}, Broken, "go test failed without a failing test: exit status 1"},
	}
	for _, tt := range tests {
		status, reason := verdict(tt.run, time.Minute)
		if status != tt.status || reason != tt.reason {
			t.Errorf("%s: got %s %q, want %s %q", tt.name, status, reason, tt.status, tt.reason)
		}
	}
}

// guardModule is a throwaway module: guard.Withdraw has four marked checks,
// of which the tests of guard and other catch two.
var guardModule = map[string]string{
	"go.mod": "module example.com/m\n\ngo 1.26\n",
	"guard/guard.go": `package guard

import (
	"errors"
	"time"
)

// Withdraw takes amount from balance.
func Withdraw(balance, amount int) (int, error) {
	// mutate:check funds
	if amount > balance {
		return balance, errors.New("insufficient funds")
	}
	// The amount must not be negative; no test says so.
	// mutate:check negative
	if amount < 0 {
		return balance, errors.New("negative amount")
	}
	switch {
	// mutate:check zero tested-by=./other
	case amount == 0, balance == 0:
		return balance, errors.New("nothing to do")
	}
	return balance - amount, nil
}

// Wait returns at once when ready, and never otherwise.
func Wait(ready bool) {
	// mutate:check hang
	if ready {
		return
	}
	for {
		time.Sleep(time.Millisecond)
	}
}

// Elsewhere is tested by a package that does not exist.
func Elsewhere(x int) bool {
	// mutate:check elsewhere tested-by=./missing
	if x > 0 {
		return true
	}
	// mutate:check misplaced
	x++
	return x > 1
}
`,
	"guard/guard_test.go": `package guard

import "testing"

func TestFunds(t *testing.T) {
	if _, err := Withdraw(1, 2); err == nil || err.Error() != "insufficient funds" {
		t.Fatalf("err = %v", err)
	}
}

func TestWait(t *testing.T) { Wait(true) }
`,
	"other/other_test.go": `package other

import (
	"testing"

	"example.com/m/guard"
)

func TestZero(t *testing.T) {
	if _, err := guard.Withdraw(0, 0); err == nil || err.Error() != "nothing to do" {
		t.Fatalf("err = %v", err)
	}
}
`,
	"flaky/flaky.go": `package flaky

// Check is guarded, but the package's tests fail anyway.
func Check(x int) bool {
	// mutate:check always
	if x > 0 {
		return true
	}
	return false
}
`,
	"flaky/flaky_test.go": `package flaky

import "testing"

func TestFails(t *testing.T) { t.Fatal("this test fails without any mutant") }
`,
}

// mutateIn runs the command in dir and returns its exit status and output.
func mutateIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := mutate(context.Background(), dir, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestEndToEnd runs real go test on mutants of the throwaway module.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a throwaway module (about 5 seconds)")
	}
	root := t.TempDir()
	writeFiles(t, root, guardModule)

	t.Run("list", func(t *testing.T) {
		code, out, errOut := mutateIn(t, filepath.Join(root, "guard"), "-list")
		if code != 1 || !strings.HasSuffix(out, "\nmutate: 1 of 7 markers are broken\n") {
			t.Fatalf("exit %d, output:\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{
			"ok      funds      guard/guard.go:10  if    example.com/m/guard  ./guard\n",
			"ok      zero       guard/guard.go:20  case  example.com/m/guard  ./other\n",
			"BROKEN  misplaced  guard/guard.go:44  -     example.com/m/guard  ./guard\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("-list output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("all", func(t *testing.T) {
		code, out, errOut := mutateIn(t, root, "-json", "-run", "^(funds|negative|zero|elsewhere|misplaced|always)$", "-parallel", "2")
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
		}
		var rep Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		got := map[string]string{}
		for _, r := range rep.Results {
			got[r.ID] = r.Status + " " + r.Reason + " " + strings.Join(r.KilledBy, ",")
		}
		want := map[string]string{
			"funds":     "KILLED  example.com/m/guard.TestFunds",
			"negative":  "SURVIVED every test passed with the check removed: add a test that expects this check's error ",
			"zero":      "KILLED  example.com/m/other.TestZero",
			"elsewhere": "BROKEN baseline: go test without any mutant does not build or cannot load ./missing ",
			"misplaced": `BROKEN a marker must be the last comment line directly above an if statement or a case clause of an expression-less switch; it stands above "x++" `,
			"always":    "BROKEN baseline: the tests fail without any mutant ",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("results:\n%q\nwant:\n%q", got, want)
		}
		wantSums := []Summary{
			{Package: "example.com/m/flaky", Markers: 1, Broken: 1},
			{Package: "example.com/m/guard", Markers: 5, Killed: 2, Survived: 1, Broken: 2},
		}
		for i := range rep.Packages {
			rep.Packages[i].Seconds = 0
		}
		if !reflect.DeepEqual(rep.Packages, wantSums) || rep.OK {
			t.Errorf("summary %+v ok %v, want %+v", rep.Packages, rep.OK, wantSums)
		}
		for _, want := range []string{"baseline ./guard: tests pass", "mutate: FAIL: 1 survived, 3 broken of 6 marked checks"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		for name, content := range guardModule {
			b, err := os.ReadFile(filepath.Join(root, name))
			if err != nil || string(b) != content {
				t.Errorf("%s changed: %v", name, err)
			}
		}
	})

	t.Run("guarded only", func(t *testing.T) {
		code, out, errOut := mutateIn(t, root, "-pkg", "./guard", "-run", "^(funds|zero)$")
		if code != 0 {
			t.Fatalf("exit %d, want 0; output:\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"\nKILLED   funds ", "\nKILLED   zero ", "by example.com/m/other.TestZero\n",
			"example.com/m/guard  2        2       0         0       ",
			"mutate: ok: each of the 2 marked checks fails a test when it is removed\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		code, out, errOut := mutateIn(t, root, "-run", "^hang$", "-timeout", "3s")
		if code != 0 || !strings.Contains(out, "\nKILLED   hang ") {
			t.Fatalf("exit %d, want 0 and hang KILLED; output:\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("no marker", func(t *testing.T) {
		code, _, errOut := mutateIn(t, root, "-run", "^nothing$")
		if want := "mutate: no // mutate:check marker found in module example.com/m (-run ^nothing$)\n"; code != 1 || errOut != want {
			t.Errorf("exit %d, stderr %q, want 1, %q", code, errOut, want)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"go.mod": "module example.com/m\n"})
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"-parallel", "0"}, "mutate: -parallel 0: want at least 1\n"},
		{[]string{"-timeout", "0s"}, "mutate: -timeout 0s: want a positive duration\n"},
		{[]string{"-run", "("}, "mutate: -run: error parsing regexp: missing closing ): `(`\n"},
		{[]string{"-pkg", "../x"}, "mutate: -pkg: \"../x\": want ./dir, ./dir/... or an import path of module example.com/m\n"},
	}
	for _, tt := range tests {
		code, _, errOut := mutateIn(t, root, tt.args...)
		if code != 2 || errOut != tt.err {
			t.Errorf("%q: exit %d, stderr %q, want 2, %q", tt.args, code, errOut, tt.err)
		}
	}
	if code, _, errOut := mutateIn(t, root, "extra"); code != 2 || !strings.HasPrefix(errOut, "mutate: unexpected argument \"extra\"\nusage: mutate") {
		t.Errorf("extra argument: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := mutateIn(t, t.TempDir()); code != 2 || !strings.Contains(errOut, "no go.mod in ") {
		t.Errorf("outside a module: exit %d, stderr %q", code, errOut)
	}
}
