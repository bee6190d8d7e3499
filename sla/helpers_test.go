package sla

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exampleFiles are the valid example SLAs of the repository.
var exampleFiles = []string{
	"../examples/aws-ec2-region/sla.json",
	"../examples/azure-vm/sla.json",
	"../examples/telecom/sla.json",
}

const brokenExample = "../examples/broken/sla.json"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// loadTree decodes a document into a generic tree with json.Number leaves.
func loadTree(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeTree(t testing.TB, tree any) []byte {
	t.Helper()
	data, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// locate walks a dotted path ("metrics.0.objective") and returns the
// container holding the last segment.
func locate(t testing.TB, tree any, path string) (container any, last string) {
	t.Helper()
	segs := strings.Split(path, ".")
	cur := tree
	for _, seg := range segs[:len(segs)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(c) {
				t.Fatalf("bad path %q at %q", path, seg)
			}
			cur = c[i]
		default:
			t.Fatalf("bad path %q at %q", path, seg)
		}
	}
	return cur, segs[len(segs)-1]
}

// setPath sets the value at a dotted path (creating the last key).
func setPath(t testing.TB, tree any, path string, v any) {
	t.Helper()
	c, last := locate(t, tree, path)
	switch c := c.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i >= len(c) {
			t.Fatalf("bad path %q", path)
		}
		c[i] = v
	default:
		t.Fatalf("bad path %q", path)
	}
}

// delPath deletes the key at a dotted path.
func delPath(t testing.TB, tree any, path string) {
	t.Helper()
	c, last := locate(t, tree, path)
	m, ok := c.(map[string]any)
	if !ok {
		t.Fatalf("bad path %q", path)
	}
	delete(m, last)
}

func mustParse(t testing.TB, data []byte) *SLA {
	t.Helper()
	s, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func mustDigestHex(t testing.TB, s *SLA) string {
	t.Helper()
	h, err := DigestHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func jsonCompact(dst *bytes.Buffer, src []byte) error { return json.Compact(dst, src) }

func jsonIndent(dst *bytes.Buffer, src []byte) error { return json.Indent(dst, src, "\t", "\t  ") }
