package logger

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKuboStore(t *testing.T) {
	var query string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v0/version" {
			w.Write([]byte(`{"Version":"0.32.1"}`))
			return
		}
		if r.URL.Path != "/api/v0/add" {
			http.NotFound(w, r)
			return
		}
		query = r.URL.RawQuery
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		part, err := mr.NextPart()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body, _ = io.ReadAll(part)
		w.Write([]byte(`{"Name":"x","Hash":"bafkreitest","Size":"3"}`))
	}))
	defer srv.Close()
	k := NewKuboStore(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
	c, err := k.Add(context.Background(), []byte("abc"))
	if err != nil || c != "bafkreitest" || string(body) != "abc" {
		t.Fatalf("Add = %q, %v (body %q)", c, err, body)
	}
	for _, want := range []string{"cid-version=1", "raw-leaves=true", "pin=true"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %q lacks %s", query, want)
		}
	}
	srv.Close()
	if _, err := k.Add(context.Background(), []byte("abc")); err == nil {
		t.Fatal("Add to a stopped node succeeded")
	}
}

func TestLoadMSPIdentity(t *testing.T) {
	id, _ := testIdentity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "signcerts"), 0o700)
	os.MkdirAll(filepath.Join(dir, "keystore"), 0o700)
	os.WriteFile(filepath.Join(dir, "signcerts", "cert.pem"), []byte(id.CertPEM), 0o600)
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "keystore", "priv_sk"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	got, err := LoadMSPIdentity(dir)
	if err != nil || !got.Key.Equal(id.Key) || got.CertPEM != id.CertPEM {
		t.Fatalf("LoadMSPIdentity: %v", err)
	}
	if _, err := LoadMSPIdentity(t.TempDir()); err == nil {
		t.Fatal("an empty folder was accepted")
	}
}
