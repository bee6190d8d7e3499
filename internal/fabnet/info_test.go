package fabnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentity(t *testing.T) {
	tests := []struct {
		name, org, user, wantErr string
	}{
		{"provider", "provider", "provider", ""},
		{"logger", "provider", "logger", ""},
		{"issuer", "provider", "issuer", ""},
		{"client", "client", "client", ""},
		{"provider-admin", "provider", "admin", ""},
		{"client-admin", "client", "admin", ""},
		{"other", "other", "other", ""},
		{"other-admin", "other", "admin", ""},
		{"provider-ca2", "provider", "provider-ca2", ""},
		{"provider-admin-role", "provider", "provider-admin-role", ""},
		{"vendor", "vendor", "vendor", ""},
		{"vendor-admin", "vendor", "admin", ""},
		{"org5", "org5", "user1", ""},
		{"org5-admin", "org5", "admin", ""},
		{"org20", "org20", "user1", ""},
		{"org12-admin", "org12", "admin", ""},
		{"org4", "", "", "unknown"},
		{"org21", "", "", "unknown"},
		{"org05", "", "", "unknown"},
		{"org", "", "", "unknown"},
		{"user1", "", "", "unknown"},
		{"logger-admin", "", "", "unknown"},
		{"-admin", "", "", "unknown"},
		{"Provider", "", "", "unknown"},
		{"orderer", "", "", "unknown"},
		{"", "", "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org, user, err := Identity(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || org != tt.org || user != tt.user {
				t.Fatalf("Identity = %q, %q, %v; want %q, %q", org, user, err, tt.org, tt.user)
			}
		})
	}
}

func TestReadInfo(t *testing.T) {
	const good = `{"channel":"slasa","orderers":[{"address":"127.0.0.1:1"}],"orgs":{"provider":{},"client":{}}}`
	tests := []struct {
		name, json, wantErr string
	}{
		{"good", good, ""},
		{"not json", `{`, "parsing"},
		{"no channel", `{"orderers":[{}],"orgs":{"provider":{},"client":{}}}`, "field channel"},
		{"no orderers", `{"channel":"c","orgs":{"provider":{},"client":{}}}`, "field orderers"},
		{"no client org", `{"channel":"c","orderers":[{}],"orgs":{"provider":{}}}`, `"client" missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "network.json")
			if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := ReadInfo(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || info.Channel != "slasa" {
				t.Fatalf("ReadInfo = %+v, %v", info, err)
			}
		})
	}
	if _, err := ReadInfo(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("want an error for a missing file")
	}
}

func TestIdentityNames(t *testing.T) {
	got := strings.Join(IdentityNames(), ",")
	want := "client,client-admin,issuer,logger,other,other-admin,provider,provider-admin,provider-admin-role,provider-ca2,vendor,vendor-admin"
	if got != want {
		t.Errorf("IdentityNames = %s, want %s", got, want)
	}
}

func TestDeploymentServer(t *testing.T) {
	d := Deployment{Name: "agreement", Servers: map[string]Server{
		"provider": {MSPID: "ProviderOrgMSP", Address: "127.0.0.1:1", Node: "chaincode-agreement-provider"},
		"client":   {MSPID: "ClientOrgMSP", Address: "127.0.0.1:2", Node: "chaincode-agreement-client"},
	}}
	s, err := d.Server("client")
	if err != nil || s.Address != "127.0.0.1:2" || s.Node != "chaincode-agreement-client" {
		t.Fatalf("Server(client) = %+v, %v", s, err)
	}
	_, err = d.Server("other")
	if err == nil || err.Error() != `chaincode "agreement": organization "other" runs no server of it (servers: [client provider])` {
		t.Fatalf("Server(other): err = %v", err)
	}
}

func TestPeerOrgs(t *testing.T) {
	info := &Info{Orgs: map[string]Org{"provider": {}, "client": {}, "other": {GatewayOf: "client"}}}
	if got := strings.Join(info.PeerOrgs(), ","); got != "client,provider" {
		t.Errorf("PeerOrgs = %s", got)
	}
}
