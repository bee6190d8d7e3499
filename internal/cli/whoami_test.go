package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/fabricfake"
)

func TestIdentityCommand(t *testing.T) {
	dir := t.TempDir()
	ca := fabricfake.MustNewCA("ProviderOrgMSP")
	ca2 := fabricfake.MustNewNamedCA("ProviderOrgMSP", "ca2.providerorg.slasa.local", "providerorg.slasa.local")
	write := func(name string, id *fabricfake.Identity) string {
		p := filepath.Join(dir, name+"-cert.pem")
		if err := os.WriteFile(p, id.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issuer := write("issuer", ca.MustIssue("issuer@providerorg.slasa.local", "admin"))
	ca2User := write("provider-ca2", ca2.MustIssue("provider@providerorg.slasa.local", "client"))
	info := fabnet.Info{Channel: "slasa", Orderers: []fabnet.Orderer{{Address: "127.0.0.1:1"}}, Orgs: map[string]fabnet.Org{
		"provider": {MSPID: "ProviderOrgMSP", Users: map[string]fabnet.User{"issuer": {CommonName: "issuer@providerorg.slasa.local", CertPath: issuer}}},
		"client":   {MSPID: "ClientOrgMSP"},
	}}
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fabnet.InfoFile), data, 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := runCLI("--run-dir", dir, "--as", "issuer", "identity", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got identityInfo
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := identityInfo{Name: "issuer", Role: "admin", Party: partyBlock{
		MSPID: "ProviderOrgMSP", CommonName: "issuer@providerorg.slasa.local",
		Subject: "CN=issuer@providerorg.slasa.local,OU=admin,L=San Francisco,ST=California,C=US",
		Issuer:  "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US",
	}}
	if got != want {
		t.Errorf("identity = %+v\nwant       %+v", got, want)
	}

	code, out, stderr = runCLI("identity", "--msp-id", "ProviderOrgMSP", "--cert", ca2User)
	if code != ExitOK {
		t.Fatalf("explicit: exit %d: %s", code, stderr)
	}
	for _, line := range []string{
		"msp_id:       ProviderOrgMSP",
		"common_name:  provider@providerorg.slasa.local",
		"subject:      CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
		"issuer:       CN=ca2.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US",
		"role:         client",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--run-dir", dir, "--as", "provider-ca2", "identity"}, ExitFailure,
			`identity "provider-ca2": user "provider-ca2" of ProviderOrgMSP not in the network description (provider-ca2 and provider-admin-role need a network started with SLASA_SECOND_CA=1)`},
		{[]string{"--run-dir", dir, "--as", "nobody", "identity"}, ExitUsage, `--as: identity "nobody": unknown`},
		{[]string{"identity", "--msp-id", "ProviderOrgMSP"}, ExitUsage, "an explicit identity needs both --msp-id and --cert"},
		{[]string{"--as", "issuer", "identity", "--cert", issuer}, ExitUsage, "--as and --msp-id/--cert exclude each other"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
