package ccaas

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		metadata string // "" means no metadata.json at all
		want     bool
		wantErr  string
	}{
		{"ccaas", `{"type":"ccaas","label":"x_1"}`, true, ""},
		{"upper case", `{"type":"CCaaS","label":"x_1"}`, true, ""},
		{"golang", `{"type":"golang","label":"x_1"}`, false, ""},
		{"no type", `{"label":"x_1"}`, false, ""},
		{"bad json", `{"type":`, false, "parsing metadata.json"},
		{"missing", "", false, "reading package metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.metadata != "" {
				writeFile(t, filepath.Join(dir, MetadataFile), tt.metadata)
			}
			got, err := Detect(t.TempDir(), dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestParseConnection(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"minimal", `{"address":"127.0.0.1:9999"}`, ""},
		{"full no tls", `{"address":"localhost:9999","dial_timeout":"10s","tls_required":false}`, ""},
		{"tls", `{"address":"cc:9999","tls_required":true,"root_cert":"PEM"}`, ""},
		{"mtls", `{"address":"cc:9999","tls_required":true,"root_cert":"PEM","client_auth_required":true,"client_cert":"C","client_key":"K"}`, ""},
		{"empty address", `{"address":""}`, "field address: must not be empty"},
		{"no port", `{"address":"127.0.0.1"}`, "field address"},
		{"no host", `{"address":":9999"}`, "has no host"},
		{"port zero", `{"address":"h:0"}`, "port \"0\""},
		{"port text", `{"address":"h:http"}`, "port \"http\""},
		{"bad timeout", `{"address":"h:1","dial_timeout":"ten"}`, "field dial_timeout"},
		{"negative timeout", `{"address":"h:1","dial_timeout":"-1s"}`, "must be positive"},
		{"tls without root", `{"address":"h:1","tls_required":true}`, "field root_cert"},
		{"mtls without tls", `{"address":"h:1","client_auth_required":true}`, "needs tls_required"},
		{"mtls without cert", `{"address":"h:1","tls_required":true,"root_cert":"R","client_auth_required":true}`, "client_cert and client_key"},
		{"unknown field", `{"address":"h:1","adress":"x"}`, "unknown field"},
		{"not json", `address`, "parsing connection.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnection([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRenderConnection(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		config  string
		want    string
		wantErr string
	}{
		{"no config", `{"address":"{{.host}}:1"}`, "", `{"address":"{{.host}}:1"}`, ""},
		{"fill", `{"address":"{{.host}}:1","tls_required":false}`, `{"host":"cc1"}`, "{\n  \"address\": \"cc1:1\",\n  \"tls_required\": false\n}", ""},
		{"missing key", `{"address":"{{.host}}:1"}`, `{"other":"x"}`, "", "field address"},
		{"bad config", `{"address":"h:1"}`, `[1]`, "", BuilderConfigEnv},
		{"bad template", `{"address":"{{.host:1"}`, `{"host":"x"}`, "", "bad template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderConnection([]byte(tt.json), tt.config)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestBuildAndRelease(t *testing.T) {
	src, meta, out, rel := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(meta, MetadataFile), `{"type":"ccaas","label":"smoke_1"}`)
	conn := `{"address":"127.0.0.1:27200","dial_timeout":"10s","tls_required":false}`
	writeFile(t, filepath.Join(src, ConnectionFile), conn)
	index := `{"index":{"fields":["owner"]},"name":"byOwner","type":"json"}`
	writeFile(t, filepath.Join(src, "META-INF", "statedb", "couchdb", "indexes", "owner.json"), index)

	if err := Build(src, meta, out, ""); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, ConnectionFile)); string(got) != conn {
		t.Fatalf("build output connection.json = %q", got)
	}
	if err := Release(out, rel); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(rel, "chaincode", "server", ConnectionFile)); string(got) != conn {
		t.Fatalf("released connection.json = %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(rel, "statedb", "couchdb", "indexes", "owner.json")); string(got) != index {
		t.Fatalf("released index = %q", got)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name     string
		metadata string
		conn     string // "" means absent
		wantErr  string
	}{
		{"not ccaas", `{"type":"golang"}`, `{"address":"h:1"}`, "package type is not"},
		{"no connection", `{"type":"ccaas"}`, "", "must contain connection.json"},
		{"invalid connection", `{"type":"ccaas"}`, `{"address":"nohostport"}`, "field address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, meta := t.TempDir(), t.TempDir()
			writeFile(t, filepath.Join(meta, MetadataFile), tt.metadata)
			if tt.conn != "" {
				writeFile(t, filepath.Join(src, ConnectionFile), tt.conn)
			}
			err := Build(src, meta, t.TempDir(), "")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReleaseWithoutBuildOutput(t *testing.T) {
	if err := Release(t.TempDir(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no connection.json") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildRefusesSymlinkInMetaInf(t *testing.T) {
	src, meta := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(meta, MetadataFile), `{"type":"ccaas"}`)
	writeFile(t, filepath.Join(src, ConnectionFile), `{"address":"h:1"}`)
	if err := os.MkdirAll(filepath.Join(src, "META-INF"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "META-INF", "x")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := Build(src, meta, t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "only regular files") {
		t.Fatalf("err = %v", err)
	}
}

func TestRun(t *testing.T) {
	src, meta, out, rel := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(meta, MetadataFile), `{"type":"ccaas"}`)
	writeFile(t, filepath.Join(src, ConnectionFile), `{"address":"{{.host}}:7052"}`)
	env := func(k string) string {
		if k == BuilderConfigEnv {
			return `{"host":"cc.example"}`
		}
		return ""
	}
	otherMeta := t.TempDir()
	writeFile(t, filepath.Join(otherMeta, MetadataFile), `{"type":"golang"}`)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"detect by argv0", []string{"/x/bin/detect", src, meta}, 0},
		{"detect no match", []string{"/x/bin/detect", src, otherMeta}, 1},
		{"detect subcommand", []string{"ccaas-builder", "detect", src, meta}, 0},
		{"detect bad args", []string{"detect", src}, 2},
		{"build", []string{"/x/bin/build", src, meta, out}, 0},
		{"build bad args", []string{"build", src, meta}, 2},
		{"release", []string{"release", out, rel}, 0},
		{"release bad args", []string{"release", out}, 2},
		{"release failure", []string{"release", t.TempDir(), rel}, 1},
		{"unknown", []string{"ccaas-builder", "bogus"}, 2},
		{"no command", []string{"ccaas-builder"}, 2},
		{"empty", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := Run(tt.args, env, &stderr); got != tt.want {
				t.Fatalf("Run = %d, want %d (stderr %q)", got, tt.want, stderr.String())
			}
		})
	}
	got, err := os.ReadFile(filepath.Join(rel, "chaincode", "server", ConnectionFile))
	if err != nil || !strings.Contains(string(got), `"cc.example:7052"`) {
		t.Fatalf("released connection.json = %q, %v", got, err)
	}
}
