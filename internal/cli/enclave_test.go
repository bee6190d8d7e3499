package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/fabricfake"
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

func TestEnclaveHostMember(t *testing.T) {
	provider, client := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP")
	newInfo := func(t *testing.T, host *fabricfake.CA) *fabnet.Info {
		dir := t.TempDir()
		info := &fabnet.Info{RunDir: dir, Orgs: map[string]fabnet.Org{
			"provider": {MSPID: "ProviderOrgMSP"}, "client": {MSPID: "ClientOrgMSP"}, "other": {MSPID: "OtherOrgMSP", GatewayOf: "client"}}}
		if host == nil {
			return info
		}
		cfg := fabricfake.DeployConfig([]*fabricfake.CA{host, provider, client})
		data, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, org := range []string{"provider", "client"} {
			if err := os.MkdirAll(filepath.Join(dir, "orgs", org), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "orgs", org, DeployConfigFile), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return info
	}
	tests := []struct {
		name string
		host *fabricfake.CA
		as   string
		want string
		err  string
	}{
		{"no configuration: provider", nil, "", "provider", ""},
		{"host ProviderOrg", provider, "", "provider", ""},
		{"host ClientOrg", client, "", "client", ""},
		{"a member of the host", client, "client-admin", "client-admin", ""},
		{"not a member of the host", client, "provider", "",
			"--as provider: a member of ProviderOrgMSP, but the deploy configuration's enclave host is ClientOrgMSP"},
		{"unknown name", provider, "nobody", "", "--as"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enclaveHostMember(newInfo(t, tc.host), tc.as)
			if tc.err != "" {
				var ue usageError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error with %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("enclaveHostMember = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
