package schemas

import (
	"bytes"
	"encoding/json"
	"sort"
	"testing"
)

func TestGet(t *testing.T) {
	for _, name := range []string{"parametric-sla", ParametricSLAFile} {
		b, err := Get(name)
		if err != nil || !bytes.Equal(b, ParametricSLA) {
			t.Errorf("Get(%q) = %d bytes, %v", name, len(b), err)
		}
	}
	for _, bad := range []string{"nope", "../schemas.go", "a/b"} {
		if _, err := Get(bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
	}
	names := Names()
	if !sort.StringsAreSorted(names) || len(names) == 0 {
		t.Errorf("Names() = %v", names)
	}
	hasLog := false
	for _, n := range names {
		hasLog = hasLog || n == LogRecordFile
		b, err := Get(n)
		if err != nil || !json.Valid(b) {
			t.Errorf("%s: %v (valid JSON: %v)", n, err, json.Valid(b))
		}
	}
	if hasLog != (LogRecord != nil) {
		t.Errorf("LogRecord is set = %v, file present = %v", LogRecord != nil, hasLog)
	}
}

// TestParametricSLASchemaIsDocumentedAndClosed checks that every property
// and definition carries a description and that every object schema
// forbids unknown properties.
func TestParametricSLASchemaIsDocumentedAndClosed(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(ParametricSLA, &root); err != nil {
		t.Fatal(err)
	}
	if root["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v", root["$schema"])
	}
	var walk func(node map[string]any, path string)
	walk = func(node map[string]any, path string) {
		if _, ok := node["description"].(string); !ok {
			t.Errorf("%s has no description", path)
		}
		if node["type"] == "object" && node["additionalProperties"] != false {
			t.Errorf("%s does not set additionalProperties: false", path)
		}
		if node["type"] == "number" {
			t.Errorf("%s accepts floating point numbers", path)
		}
		for _, key := range []string{"properties", "definitions"} {
			if m, ok := node[key].(map[string]any); ok {
				for name, sub := range m {
					if s, ok := sub.(map[string]any); ok {
						walk(s, path+"."+name)
					}
				}
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			if _, isRef := items["$ref"]; !isRef {
				walk(items, path+"[]")
			}
		}
	}
	walk(root, "(root)")
}
