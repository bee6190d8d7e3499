package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	cases := []struct {
		addr  string
		allow bool
		ok    bool
	}{
		{"127.0.0.1:27082", false, true},
		{"[::1]:27082", false, true},
		{"localhost:27082", false, true},
		{"0.0.0.0:27082", false, false},
		{":27082", false, false},
		{"10.1.2.3:27082", false, false},
		{"10.1.2.3:27082", true, true},
		{"no-port", false, false},
	}
	for _, tc := range cases {
		if err := checkLoopback(tc.addr, tc.allow); (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q, %v) = %v, want ok=%v", tc.addr, tc.allow, err, tc.ok)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "api")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-backend", "gateway"}, "-backend must be cat or blocks"},
		{[]string{"-listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-ipfs-api-file", filepath.Join(t.TempDir(), "missing")}, "-ipfs-api-file"},
		{[]string{"-ipfs-api-file", empty}, "is empty"},
		{[]string{"-max-size", "-1", "-listen", "127.0.0.1:0"}, "MaxSize"},
		{[]string{"-backend", "blocks", "-ipfs-api", "/ip4/127.0.0.1/tcp/1"}, "needs host:port"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range cases {
		err := run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.wantErr)
		}
	}
}
