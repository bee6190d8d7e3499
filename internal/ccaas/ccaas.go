// Package ccaas implements a Hyperledger Fabric external builder for chaincode
// run as a service (CCaaS). A CCaaS package holds no code: its code.tar.gz
// carries a connection.json telling the peer where the already running
// chaincode server listens. The peer calls three programs of the builder:
//
//	detect SOURCE_DIR METADATA_DIR             exit 0 when metadata.json says type "ccaas"
//	build  SOURCE_DIR METADATA_DIR OUTPUT_DIR  validate connection.json, copy it (and META-INF) to OUTPUT_DIR
//	release BUILD_DIR RELEASE_DIR              publish chaincode/server/connection.json (and statedb indexes)
//
// The package uses the standard library only.
package ccaas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// PackageType is the metadata.json "type" value this builder accepts (compared case-insensitively).
const PackageType = "ccaas"

// ConnectionFile is the name of the file, inside the package's code.tar.gz and the build output,
// that describes how the peer reaches the chaincode server.
const ConnectionFile = "connection.json"

// MetadataFile is the name of the package metadata file the peer passes in METADATA_DIR.
const MetadataFile = "metadata.json"

// BuilderConfigEnv names the environment variable whose JSON object (string values) fills
// {{.key}} placeholders in connection.json string fields during build, as Fabric's own ccaas
// builder does. The peer passes it only when listed in the builder's propagateEnvironment.
const BuilderConfigEnv = "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"

// Metadata is the part of a chaincode package's metadata.json the builder reads.
type Metadata struct {
	// Type is the chaincode package type; "ccaas" selects this builder.
	Type string `json:"type"`
	// Label is the package label (informational).
	Label string `json:"label"`
}

// Connection is the content of connection.json, in the field names the peer expects.
type Connection struct {
	// Address is the host:port the chaincode server listens on.
	Address string `json:"address"`
	// DialTimeout is how long the peer waits to connect, as a Go duration ("10s"); empty means the peer default.
	DialTimeout string `json:"dial_timeout,omitempty"`
	// TLSRequired tells the peer to connect with TLS.
	TLSRequired bool `json:"tls_required"`
	// ClientAuthRequired tells the peer to present a client certificate (mutual TLS).
	ClientAuthRequired bool `json:"client_auth_required,omitempty"`
	// ClientKey is the PEM client key for mutual TLS.
	ClientKey string `json:"client_key,omitempty"`
	// ClientCert is the PEM client certificate for mutual TLS.
	ClientCert string `json:"client_cert,omitempty"`
	// RootCert is the PEM CA certificate that signed the chaincode server's TLS certificate.
	RootCert string `json:"root_cert,omitempty"`
}

// ReadMetadata reads and parses METADATA_DIR/metadata.json.
func ReadMetadata(metadataDir string) (Metadata, error) {
	var m Metadata
	data, err := os.ReadFile(filepath.Join(metadataDir, MetadataFile))
	if err != nil {
		return m, fmt.Errorf("reading package metadata: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("parsing %s: %w", MetadataFile, err)
	}
	return m, nil
}

// Detect reports whether the package described by metadataDir is a CCaaS package.
// sourceDir is accepted for the protocol's sake and not read.
func Detect(sourceDir, metadataDir string) (bool, error) {
	_ = sourceDir
	m, err := ReadMetadata(metadataDir)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(strings.TrimSpace(m.Type), PackageType), nil
}

// ParseConnection parses and validates connection.json content.
func ParseConnection(data []byte) (Connection, error) {
	var c Connection
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parsing %s: %w", ConnectionFile, err)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks the fields of a connection description and names the first bad one.
func (c Connection) Validate() error {
	if strings.TrimSpace(c.Address) == "" {
		return fmt.Errorf("%s: field address: must not be empty", ConnectionFile)
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("%s: field address: %q is not host:port: %v", ConnectionFile, c.Address, err)
	}
	if host == "" {
		return fmt.Errorf("%s: field address: %q has no host", ConnectionFile, c.Address)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s: field address: port %q must be a number from 1 to 65535", ConnectionFile, port)
	}
	if c.DialTimeout != "" {
		d, err := time.ParseDuration(c.DialTimeout)
		if err != nil {
			return fmt.Errorf("%s: field dial_timeout: %q is not a duration such as \"10s\"", ConnectionFile, c.DialTimeout)
		}
		if d <= 0 {
			return fmt.Errorf("%s: field dial_timeout: %q must be positive", ConnectionFile, c.DialTimeout)
		}
	}
	if c.TLSRequired && strings.TrimSpace(c.RootCert) == "" {
		return fmt.Errorf("%s: field root_cert: required when tls_required is true", ConnectionFile)
	}
	if c.ClientAuthRequired {
		if !c.TLSRequired {
			return fmt.Errorf("%s: field client_auth_required: needs tls_required true", ConnectionFile)
		}
		if strings.TrimSpace(c.ClientCert) == "" || strings.TrimSpace(c.ClientKey) == "" {
			return fmt.Errorf("%s: fields client_cert and client_key: required when client_auth_required is true", ConnectionFile)
		}
	}
	return nil
}

// RenderConnection fills {{.key}} placeholders in connection.json's string values from the JSON
// object builderConfig (an empty builderConfig leaves the content unchanged, placeholders included,
// which then fail validation if they make the address invalid).
func RenderConnection(data []byte, builderConfig string) ([]byte, error) {
	if strings.TrimSpace(builderConfig) == "" {
		return data, nil
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(builderConfig), &vars); err != nil {
		return nil, fmt.Errorf("%s: must be a JSON object of strings: %w", BuilderConfigEnv, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", ConnectionFile, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := raw[k].(string)
		if !ok || !strings.Contains(s, "{{") {
			continue
		}
		t, err := template.New(k).Option("missingkey=error").Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s: field %s: bad template: %w", ConnectionFile, k, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, vars); err != nil {
			return nil, fmt.Errorf("%s: field %s: %w", ConnectionFile, k, err)
		}
		raw[k] = b.String()
	}
	return json.MarshalIndent(raw, "", "  ") // encoding/json sorts map keys: deterministic output
}

// Build validates SOURCE_DIR/connection.json (after filling placeholders from builderConfig) and
// writes it to outputDir, copying SOURCE_DIR/META-INF along when present.
func Build(sourceDir, metadataDir, outputDir, builderConfig string) error {
	ok, err := Detect(sourceDir, metadataDir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("package type is not %q", PackageType)
	}
	data, err := os.ReadFile(filepath.Join(sourceDir, ConnectionFile))
	if err != nil {
		return fmt.Errorf("the package's code.tar.gz must contain %s: %w", ConnectionFile, err)
	}
	data, err = RenderConnection(data, builderConfig)
	if err != nil {
		return err
	}
	if _, err := ParseConnection(data); err != nil {
		return err
	}
	if err := os.MkdirAll(outputDir, 0o755); err != nil {
		return fmt.Errorf("creating build output: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outputDir, ConnectionFile), data, 0o644); err != nil {
		return fmt.Errorf("writing build output: %w", err)
	}
	return copyTreeIfExists(filepath.Join(sourceDir, "META-INF"), filepath.Join(outputDir, "META-INF"))
}

// Release publishes BUILD_DIR/connection.json as RELEASE_DIR/chaincode/server/connection.json and
// BUILD_DIR/META-INF/statedb (CouchDB index definitions) as RELEASE_DIR/statedb.
func Release(buildDir, releaseDir string) error {
	data, err := os.ReadFile(filepath.Join(buildDir, ConnectionFile))
	if err != nil {
		return fmt.Errorf("build output has no %s: %w", ConnectionFile, err)
	}
	if _, err := ParseConnection(data); err != nil {
		return err
	}
	dir := filepath.Join(releaseDir, "chaincode", "server")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating release output: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConnectionFile), data, 0o644); err != nil {
		return fmt.Errorf("writing release output: %w", err)
	}
	return copyTreeIfExists(filepath.Join(buildDir, "META-INF", "statedb"), filepath.Join(releaseDir, "statedb"))
}

// copyTreeIfExists copies regular files and directories from src to dst; a missing src is not an
// error. Symbolic links and other special files are refused.
func copyTreeIfExists(src, dst string) error {
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(path, target)
		default:
			return fmt.Errorf("%s: only regular files and directories are allowed in META-INF", path)
		}
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
