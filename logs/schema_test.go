package logs

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/slasa/slasa/schemas"
)

// TestSchemaAgrees checks schemas/log-record.schema.json against the
// decoder: lines the decoder accepts validate, structurally wrong lines are
// rejected by both. (The decoder is stricter than the schema where the
// schema cannot express a rule: calendar validity, duplicate keys, 1.0.)
func TestSchemaAgrees(t *testing.T) {
	if schemas.LogRecord == nil {
		t.Skip("schemas/log-record.schema.json not embedded")
	}
	schema, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemas.LogRecord))
	if err != nil {
		t.Fatal(err)
	}
	valid := func(line string) bool {
		r, err := schema.Validate(gojsonschema.NewStringLoader(line))
		return err == nil && r.Valid()
	}
	decodes := func(line string) bool {
		var s Sample
		return parseStrict([]byte(line), testNames, NewInterner(), &s) == nil
	}
	var lines []string
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*", "logs.jsonl"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
	}
	const src = `"source":{"probe":"p","zone":"z","region":"r"}`
	lines = append(lines,
		`{"time":"2026-03-01T00:00:00Z",`+src+`,"measurements":{}}`,
		`{"time":"2026-03-01T00:00:00.123456789Z",`+src+`,"measurements":{"x_1":-9223372036854775808}}`,
		`{"time":"2026-03-01T00:00:00Z",`+src+`,"event":{"incident":"T-1","type":"opened","severity":"critical"}}`,
		`{"time":"2026-03-01T00:00:00Z",`+src+`,"event":{"incident":"T-1","type":"paused"}}`,
		`{"time":"2026-03-01T00:00:00Z",`+src+`,"event":{"incident":"T-1","type":"severity_changed","severity":"p-2"}}`,
	)
	for _, l := range lines {
		if !decodes(l) || !valid(l) {
			t.Errorf("decoder %v, schema %v: %s", decodes(l), valid(l), l)
		}
	}
	bad := []string{
		`{"time":"2026-03-01T00:00:00+00:00",` + src + `,"measurements":{}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{},"event":{"incident":"i","type":"opened"}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{"Ok":1}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{"ok":"1"}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{"ok":1.5}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{"ok":null}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"event":{"incident":"i","type":"escalated"}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"event":{"incident":"i","type":"opened","severity":"Critical"}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"event":{"incident":"i","type":"opened","note":"x"}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"event":{"incident":"","type":"opened"}}`,
		`{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z"},"measurements":{}}`,
		`{"time":"2026-03-01T00:00:00Z","source":{"probe":"p","zone":"z","region":"r","x":"y"},"measurements":{}}`,
		`{"time":"2026-03-01T00:00:00Z",` + src + `,"measurements":{},"note":"x"}`,
		`{"time":"2026-03-01T00:00:00Z","source":{"probe":"` + strings.Repeat("p", 257) + `","zone":"z","region":"r"},"measurements":{}}`,
	}
	for _, l := range bad {
		if decodes(l) || valid(l) {
			t.Errorf("accepted (decoder %v, schema %v): %s", decodes(l), valid(l), l)
		}
	}
}
