package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/internal/deploycfg"
)

func writeConfig(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	cfg := fpctest.DeployConfig([]string{"ProviderOrgMSP"}, deploycfg.MSP{MSPID: "ProviderOrgMSP", Roots: []string{ca}})
	raw, _ := json.Marshal(cfg)
	path := filepath.Join(t.TempDir(), "deploy.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSettings(t *testing.T) {
	path := writeConfig(t)
	t.Setenv(deploycfg.EnvFile, path)
	t.Setenv("SLASA_MAX_CLOCK_SKEW", "")
	s, err := loadSettings(nil)
	if err != nil || s.cfg.Enclave.HostMSPID != "ProviderOrgMSP" || s.maxSkew != 5*time.Minute {
		t.Fatalf("from the environment: %+v %v", s, err)
	}
	t.Setenv("SLASA_MAX_CLOCK_SKEW", "2m")
	if s, err := loadSettings(nil); err != nil || s.maxSkew != 2*time.Minute {
		t.Fatalf("skew from the environment: %+v %v", s, err)
	}
	t.Setenv(deploycfg.EnvFile, "")
	if s, err := loadSettings([]string{"-config", path, "-max-clock-skew", "30s"}); err != nil || s.maxSkew != 30*time.Second {
		t.Fatalf("flags: %+v %v", s, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"version":"slasa.deploy/v1"}`), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no configuration", nil, nil, "deploy configuration: no file given (set SLASA_DEPLOY_CONFIG or -config)"},
		{"invalid configuration", nil, []string{"-config", bad}, bad + `: deploy configuration: channel: "" is not a channel name`},
		{"missing file", nil, []string{"-config", bad + ".nope"}, "no such file"},
		{"bad skew", map[string]string{"SLASA_MAX_CLOCK_SKEW": "soon"}, []string{"-config", path}, `SLASA_MAX_CLOCK_SKEW: "soon" is not a duration`},
		{"no skew", nil, []string{"-config", path, "-max-clock-skew", "0s"}, "max clock skew: 0s is not positive"},
		{"extra argument", nil, []string{"-config", path, "x"}, `unexpected arguments ["x"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLASA_MAX_CLOCK_SKEW", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if _, err := loadSettings(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// The server does not start without a valid configuration, before it looks
// at anything else.
func TestRunRefusesWithoutConfiguration(t *testing.T) {
	t.Setenv(deploycfg.EnvFile, "")
	t.Setenv("CHAINCODE_ID", "slaenclave:1")
	t.Setenv("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:0")
	if err := run(nil); err == nil || !strings.Contains(err.Error(), "no file given") {
		t.Fatalf("run without a configuration: %v", err)
	}
}
