// Package schemas embeds the JSON Schemas of slasa's documents so that every
// binary validates against exactly the schema it was built with.
//
// Every file matching *.schema.json in this directory is embedded. The
// Parametric SLA schema is parametric-sla.schema.json (see README.md for the
// canonical form and digest); the log record schema is
// log-record.schema.json.
package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// FS holds every *.schema.json file of this directory, at its base name.
//
//go:embed *.schema.json
var FS embed.FS

// File names of the schemas slasa knows.
const (
	ParametricSLAFile = "parametric-sla.schema.json"
	LogRecordFile     = "log-record.schema.json"
)

// ParametricSLA is the JSON Schema (draft-07) of a Parametric SLA document.
var ParametricSLA = mustRead(ParametricSLAFile)

// LogRecord is the JSON Schema of one log record (one line of a JSON Lines
// log file), or nil when this build has no log-record.schema.json.
var LogRecord, _ = Get(LogRecordFile)

// Get returns the schema called name, with or without the ".schema.json"
// suffix ("parametric-sla" and "parametric-sla.schema.json" are the same).
// The returned slice is a fresh copy that the caller may modify.
func Get(name string) ([]byte, error) {
	file := name
	if !strings.HasSuffix(file, ".schema.json") {
		file += ".schema.json"
	}
	if strings.ContainsAny(file, "/\\") {
		return nil, fmt.Errorf("schemas: invalid schema name %q", name)
	}
	b, err := FS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("schemas: no schema %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Names lists the embedded schema file names in sorted order.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func mustRead(file string) []byte {
	b, err := FS.ReadFile(file)
	if err != nil {
		panic("schemas: missing embedded " + file + ": " + err.Error())
	}
	return b
}
