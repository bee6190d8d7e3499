package sla

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

var nonceRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestNewNonce(t *testing.T) {
	a, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	if !nonceRE.MatchString(a) || !nonceRE.MatchString(b) || a == b {
		t.Fatalf("nonces %q %q", a, b)
	}
	if _, err := newNonce(iotest.ErrReader(errors.New("no entropy"))); err == nil || err.Error() != "sla: nonce: read random bytes: no entropy" {
		t.Fatalf("err = %v", err)
	}
}

func TestWithNonce(t *testing.T) {
	data := readFile(t, exampleFiles[0])
	without := regexp.MustCompile(`\n  "nonce": "[0-9a-f]{32}",`).ReplaceAll(data, nil)
	if bytes.Contains(without, []byte(`"nonce"`)) {
		t.Fatal("example without its nonce still has one")
	}
	if _, err := Parse(without); err == nil || !strings.Contains(err.Error(), "nonce: is required") {
		t.Fatalf("a document without nonce: %v", err)
	}
	out, added, err := WithNonce(without)
	if err != nil || !added {
		t.Fatalf("added %v, err %v", added, err)
	}
	s, err := Parse(out)
	if err != nil {
		t.Fatalf("document with the added nonce: %v", err)
	}
	if !nonceRE.MatchString(s.Nonce) || !bytes.HasSuffix(out, without[1:]) || !bytes.HasPrefix(out, []byte(`{"nonce": "`+s.Nonce+`", `)) {
		t.Fatalf("document with nonce:\n%s", out[:80])
	}
	again, added, err := WithNonce(out)
	if err != nil || added || !bytes.Equal(again, out) {
		t.Fatalf("a document with a nonce was changed: added %v, err %v", added, err)
	}
	// A wrong nonce is kept: Parse reports it.
	bad := bytes.Replace(out, []byte(s.Nonce), []byte("xyz"), 1)
	if kept, added, err := WithNonce(bad); err != nil || added || !bytes.Equal(kept, bad) {
		t.Fatalf("a wrong nonce was replaced: added %v, err %v", added, err)
	}
	if out, added, err := WithNonce([]byte(" {}")); err != nil || !added || !regexp.MustCompile(`^ \{"nonce": "[0-9a-f]{32}"\}$`).Match(out) {
		t.Fatalf("empty object: %s %v %v", out, added, err)
	}
	for _, doc := range []string{"[]", "", "{", `"x"`} {
		if _, _, err := WithNonce([]byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "sla: add a nonce: the document is not a JSON object: ") {
			t.Errorf("%q: err = %v", doc, err)
		}
	}
	if _, _, err := withNonce([]byte("{}"), iotest.ErrReader(errors.New("no entropy"))); err == nil || err.Error() != "sla: nonce: read random bytes: no entropy" {
		t.Fatalf("err = %v", err)
	}
}
