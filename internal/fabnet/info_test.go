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
