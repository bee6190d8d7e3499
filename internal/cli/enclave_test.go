package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/fpc/credentials"
)

func TestDefaultRunDir(t *testing.T) {
	repo := t.TempDir()
	sub := filepath.Join(repo, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, wd, want string
	}{
		{"env wins", filepath.Join(repo, "custom"), sub, filepath.Join(repo, "custom")},
		{"repo root from a sub folder", "", sub, filepath.Join(repo, ".run")},
		{"repo root itself", "", repo, filepath.Join(repo, ".run")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLASA_RUN_DIR", tt.env)
			t.Chdir(tt.wd)
			got, err := DefaultRunDir()
			if err != nil || got != tt.want {
				t.Fatalf("DefaultRunDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestEnclaveCommandErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"show without network", []string{"enclave", "show", "--run-dir", empty}, ExitFailure, "is the network up?"},
		{"setup without network", []string{"enclave", "setup", "--run-dir", empty}, ExitFailure, "is the network up?"},
		{"extra argument", []string{"enclave", "show", "x"}, ExitUsage, "takes 0 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.wantCode || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("code %d, stderr %q; want %d and %q", code, errOut.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestPrintRecordSaysSimulated(t *testing.T) {
	var out bytes.Buffer
	rec := &credentials.Record{Chaincode: "slaenclave", EnclaveID: "ABC", AttestationType: credentials.AttestationSimulated,
		ChaincodeVersion: "2", ChaincodeSequence: 2, PeerMSPID: "ProviderOrgMSP"}
	if err := printRecord(&out, rec); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SIMULATED ENCLAVE", "enclave id:", "ABC", "chaincode sequence:", "ProviderOrgMSP"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
