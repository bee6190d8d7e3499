package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repo returns a path inside the repository.
func repo(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	code, out, errOut := run(t, "", "sla", "validate", repo("examples", "aws-ec2-region", "sla.json"), repo("examples", "telecom", "sla.json"))
	if code != ExitOK || !strings.Contains(out, `valid SLA "aws-ec2-region-2026"`) || !strings.Contains(out, `valid SLA "telecom-tier1-2026"`) || errOut != "" {
		t.Fatalf("code %d\nout %s\nerr %s", code, out, errOut)
	}
	code, _, errOut = run(t, "", "sla", "validate", repo("examples", "broken", "sla.json"))
	if code != ExitFailure {
		t.Fatalf("broken SLA: exit %d", code)
	}
	for _, want := range []string{"invalid SLA (18 problem(s))", "nonce: does not match the pattern ^[0-9a-f]{32}$", "metrics[0].objective.target: does not match the pattern", "parties.client.wallet: is required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, _, _ := run(t, "", "sla", "validate"); code != ExitUsage {
		t.Errorf("no file: exit %d, want %d", code, ExitUsage)
	}
	if code, _, errOut := run(t, "", "sla", "validate", "no-such-file.json"); code != ExitFailure || !strings.Contains(errOut, "no-such-file.json") {
		t.Errorf("missing file: exit %d %s", code, errOut)
	}
}

func TestDigest(t *testing.T) {
	code, out, _ := run(t, "", "sla", "digest", repo("examples", "aws-ec2-region", "sla.json"))
	if code != ExitOK || strings.TrimSpace(out) != "506e055b4e27ece2579b436df956719bad7671a6506cb0dc82aa62f6a5253262" {
		t.Fatalf("code %d out %q", code, out)
	}
}

func TestEvaluateJSON(t *testing.T) {
	code, out, errOut := run(t, "", "sla", "evaluate", "--sla", repo("examples", "aws-ec2-region", "sla.json"),
		"--logs", repo("examples", "aws-ec2-region", "logs.jsonl"), "--period", "2026-04", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Period  string `json:"period"`
		Metrics []struct {
			ID    string `json:"id"`
			Value string `json:"value"`
			Met   *bool  `json:"met"`
		} `json:"metrics"`
		Violated     *bool  `json:"violated"`
		CreditBPS    *int64 `json:"credit_bps"`
		CreditAmount *int64 `json:"credit_amount"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	// Hand-checked in driver/examples_test.go: 99% uptime, tier < 99.99 -> 10% of 100000.
	if got.Period != "2026-04-01T00:00:00Z" || len(got.Metrics) != 1 || got.Metrics[0].ID != "availability" ||
		got.Metrics[0].Value != "99" || got.Metrics[0].Met == nil || *got.Metrics[0].Met ||
		got.Violated == nil || !*got.Violated || *got.CreditBPS != 1000 || *got.CreditAmount != 10000 {
		t.Fatalf("outcome %s", out)
	}
	if strings.Contains(out, `\u003e`) {
		t.Error("JSON output escapes HTML characters")
	}
}

func TestEvaluateTableAndStdin(t *testing.T) {
	logs := `{"time":"2026-02-01T00:00:00Z","source":{"probe":"p","zone":"zone-a","region":"region-1"},"measurements":{"ok":true}}` + "\n"
	code, out, errOut := run(t, logs, "sla", "evaluate", "--sla", repo("examples", "aws-ec2-region", "sla.json"), "--logs", "-", "--period", "2026-02")
	if code != ExitOK || !strings.Contains(out, "METRIC") || !strings.Contains(out, "availability") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestEvaluateErrors(t *testing.T) {
	sla := repo("examples", "aws-ec2-region", "sla.json")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing --period", []string{"--sla", sla, "--logs", "-"}, ExitUsage, "--period is required"},
		{"period outside validity", []string{"--sla", sla, "--logs", "-", "--period", "2030-01"}, ExitFailure, "--period"},
		{"period not aligned", []string{"--sla", sla, "--logs", "-", "--period", "2026-02-03T00:00:00Z"}, ExitFailure, "--period"},
		{"missing logs file", []string{"--sla", sla, "--logs", "nope.jsonl", "--period", "2026-02"}, ExitFailure, "--logs"},
		{"broken SLA", []string{"--sla", repo("examples", "broken", "sla.json"), "--logs", "-", "--period", "2026-02"}, ExitFailure, "invalid SLA"},
		{"unknown flag", []string{"--bogus"}, ExitUsage, "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, "", append([]string{"sla", "evaluate"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
		})
	}
	code, _, errOut := run(t, "not json\n", "sla", "evaluate", "--sla", sla, "--logs", "-", "--period", "2026-02")
	if code != ExitFailure || !strings.Contains(errOut, "line 1") {
		t.Fatalf("bad log line: exit %d %q", code, errOut)
	}
}
