package sla

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/xeipuuv/gojsonschema"

	"github.com/slasa/slasa/schemas"
)

// MaxDocumentBytes is the largest SLA document Parse accepts (1 MiB). Real
// SLAs are a few kilobytes; the bound keeps validation cheap on a peer.
const MaxDocumentBytes = 1 << 20

// Parse validates a Parametric SLA document and decodes it.
//
// Validation happens in four steps, and every problem found is reported at
// once in a *ValidationError (nothing is reported after step 1 fails):
//
//  1. Syntax: the document is at most MaxDocumentBytes of valid UTF-8 and is
//     exactly one JSON value (nothing but whitespace after it); a syntax
//     error names the byte offset, line and column.
//  2. Lexical: no object has the same key twice, and every number is
//     written as an integer (no fraction, no exponent: 1.0 and 1e3 are
//     rejected even though they are integral).
//  3. Schema: the document conforms to the JSON Schema
//     schemas/parametric-sla.schema.json (draft-07), which is strict: no
//     unknown properties, required fields, enums, patterns and bounds.
//  4. Semantics, i.e. what a JSON Schema cannot express (see check.go and
//     the "Checked by slasa" notes in the schema): unique metric and zone
//     ids; credit tiers, penalties and termination name existing metrics;
//     tier and termination thresholds not better than the objective
//     target, unique per metric, credits non-decreasing as thresholds get
//     worse; percent values at most 100; a valid validity window of whole
//     billing periods; sub-interval dividing every period; sampling period
//     not longer than the sub-interval; provider and client in different
//     MSPs with different wallets; collateral wallet distinct from both;
//     a collateral amount only with a collateral wallet and an escrow
//     expiry; an escrow expiry's
//     client_bps with the split outcome only (and then 1..10000);
//     min_zones_down at most the number of zones; no value with the
//     present/absent condition operators; in the support section, unique
//     calendar, severity and objective ids, targets naming existing
//     calendars, business-hours calendars with a time zone of the embedded
//     IANA database, ranges with from before to that do not overlap on a
//     day, sorted unique valid holidays, pause statuses unique and not
//     driven by the ticket chaincode, escalation levels in increasing
//     order, penalties naming existing severities (one per severity and
//     target), objective ids distinct from metric ids.
//
// Step 4 runs only when the document decodes into the typed model, and a
// semantic problem is not reported at a path where (or below where) the
// schema already found one. Parse never panics.
func Parse(data []byte) (*SLA, error) {
	s, problems := parse(data)
	if err := newValidationError(problems); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks a typed SLA exactly as Parse checks a document: it
// encodes s with encoding/json and parses the result. Use it for SLAs built
// in Go rather than read from a document.
func Validate(s *SLA) error {
	if s == nil {
		return newValidationError([]Problem{{RootPath, "SLA is nil"}})
	}
	data, err := json.Marshal(normalized(s))
	if err != nil {
		return newValidationError([]Problem{{RootPath, "cannot encode SLA: " + err.Error()}})
	}
	_, err = Parse(data)
	return err
}

func parse(data []byte) (*SLA, []Problem) {
	if len(data) > MaxDocumentBytes {
		return nil, []Problem{{RootPath, fmt.Sprintf("document is %d bytes, more than the limit of %d", len(data), MaxDocumentBytes)}}
	}
	if !utf8.Valid(data) {
		off := invalidUTF8Offset(data)
		return nil, []Problem{{RootPath, "document is not valid UTF-8 at " + position(data, off)}}
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, []Problem{{RootPath, syntaxReason(data, err)}}
	}

	// Step 2: duplicate keys and non-integer numbers.
	var lexical []Problem
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkTokens(dec, RootPath, &lexical); err != nil {
		// Unreachable: json.Unmarshal accepted the same bytes.
		return nil, []Problem{{RootPath, "invalid JSON: " + err.Error()}}
	}

	// Step 3: JSON Schema.
	schemaProblems := validateSchema(data)

	problems := append([]Problem(nil), schemaProblems...)
	for _, p := range lexical {
		if strings.HasPrefix(p.Reason, "duplicate key") || !covered(schemaProblems, p.Path) {
			problems = append(problems, p)
		}
	}

	// Step 4: strict decoding, then semantic checks.
	var s SLA
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		if len(problems) == 0 {
			// The schema and the lexical checks are meant to catch
			// everything the decoder rejects; report it anyway.
			return nil, []Problem{{RootPath, "cannot decode: " + err.Error()}}
		}
		// encoding/json skips the values it cannot store and decodes
		// the rest; the semantic checks tolerate the gaps, and their
		// problems at or below a path the schema already flagged are
		// dropped. A root that is not an object has nothing to check.
		if _, isObject := tree.(map[string]any); !isObject {
			return nil, problems
		}
	}
	for _, p := range check(&s) {
		if !covered(problems, p.Path) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &s, nil
}

// covered reports whether some problem is located at path or at one of
// its ancestors (other than the root).
func covered(problems []Problem, path string) bool {
	for _, q := range problems {
		if q.Path == RootPath {
			continue
		}
		if q.Path == path || strings.HasPrefix(path, q.Path+".") || strings.HasPrefix(path, q.Path+"[") {
			return true
		}
	}
	return false
}

var integerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// walkTokens reads one JSON value from dec, recording duplicate keys and
// numbers that are not integer literals.
func walkTokens(dec *json.Decoder, path string, problems *[]Problem) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			seen := make(map[string]bool)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, ok := kt.(string)
				if !ok {
					return fmt.Errorf("object key is %T", kt)
				}
				child := joinKey(path, key)
				if seen[key] {
					*problems = append(*problems, Problem{child, fmt.Sprintf("duplicate key %q in object", key)})
				}
				seen[key] = true
				if err := walkTokens(dec, child, problems); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := walkTokens(dec, joinIndex(path, i), problems); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return err
		}
	case json.Number:
		if !integerLiteral.MatchString(string(t)) {
			*problems = append(*problems, Problem{path, fmt.Sprintf("must be an integer written without fraction or exponent, not %s", clip(string(t)))})
		}
	}
	return nil
}

var (
	schemaOnce     sync.Once
	compiledSchema *gojsonschema.Schema
	errSchema      error
)

func loadSchema() (*gojsonschema.Schema, error) {
	schemaOnce.Do(func() {
		compiledSchema, errSchema = gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemas.ParametricSLA))
	})
	return compiledSchema, errSchema
}

// validateSchema validates data (known to be valid JSON) against the
// Parametric SLA schema.
func validateSchema(data []byte) (problems []Problem) {
	sch, err := loadSchema()
	if err != nil {
		return []Problem{{RootPath, "internal error: the embedded schema does not compile: " + err.Error()}}
	}
	defer func() {
		// The validator is third-party code; never let it take the
		// process down on a hostile document.
		if r := recover(); r != nil {
			problems = []Problem{{RootPath, fmt.Sprintf("internal error in the schema validator: %v", r)}}
		}
	}()
	res, err := sch.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		return []Problem{{RootPath, "schema validation failed: " + err.Error()}}
	}
	for _, re := range res.Errors() {
		if p, ok := schemaProblem(re); ok {
			problems = append(problems, p)
		}
	}
	return problems
}

// schemaProblem converts one gojsonschema error into a Problem.
func schemaProblem(re gojsonschema.ResultError) (Problem, bool) {
	path := contextPath(re.Context())
	details := re.Details()
	switch re.Type() {
	case "condition_then", "condition_else", "number_all_of":
		// Summary errors: the errors of the sub-schema are reported too.
		return Problem{}, false
	case "required":
		return Problem{joinKey(path, fmt.Sprint(details["property"])), "is required"}, true
	case "additional_property_not_allowed":
		return Problem{joinKey(path, fmt.Sprint(details["property"])), "is not an allowed property (unknown field)"}, true
	case "false":
		if strings.HasSuffix(path, "billing_cycle.seconds") {
			return Problem{path, `is only allowed when unit is "seconds"`}, true
		}
		if calendarOnlyField.MatchString(path) {
			return Problem{path, `is only allowed when kind is "business_hours"`}, true
		}
		return Problem{path, "is not allowed here"}, true
	case "enum":
		return Problem{path, "must be one of " + unescapeHTML(fmt.Sprint(details["allowed"]))}, true
	case "const":
		return Problem{path, "must be " + unescapeHTML(fmt.Sprint(details["allowed"]))}, true
	case "invalid_type":
		return Problem{path, fmt.Sprintf("must be of type %v, not %v", details["expected"], details["given"])}, true
	case "number_lte", "number_gte", "number_lt", "number_gt":
		return Problem{path, numberBoundReason(re.Type(), details)}, true
	case "pattern":
		return Problem{path, fmt.Sprintf("does not match the pattern %v", details["pattern"])}, true
	}
	return Problem{path, lowerFirst(re.Description())}, true
}

// calendarOnlyField matches the paths of the support calendar fields that
// only a business-hours calendar has.
var calendarOnlyField = regexp.MustCompile(`^support\.calendars\[[0-9]+\]\.(time_zone|hours|holidays)$`)

// contextPath turns a gojsonschema context ("(root).metrics.0.unit") into
// a JSON path ("metrics[0].unit"). All-digit segments are array indices:
// the schema defines no property whose name is a number, and it never
// descends into properties it does not define.
func contextPath(ctx *gojsonschema.JsonContext) string {
	if ctx == nil {
		return RootPath
	}
	segs := strings.Split(ctx.String("\x00"), "\x00")
	path := RootPath
	for i, seg := range segs {
		if i == 0 && seg == "(root)" {
			continue
		}
		if n, err := strconv.Atoi(seg); err == nil && n >= 0 && strconv.Itoa(n) == seg {
			path = joinIndex(path, n)
		} else {
			path = joinKey(path, seg)
		}
	}
	return path
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// joinKey appends an object key to a JSON path; keys that are not plain
// identifiers are written as ["key"].
func joinKey(path, key string) string {
	if !plainKey.MatchString(key) {
		q := strconv.Quote(key)
		if path == RootPath {
			return "[" + q + "]"
		}
		return path + "[" + q + "]"
	}
	if path == RootPath {
		return key
	}
	return path + "." + key
}

// joinIndex appends an array index to a JSON path.
func joinIndex(path string, i int) string {
	if path == RootPath {
		return "[" + strconv.Itoa(i) + "]"
	}
	return path + "[" + strconv.Itoa(i) + "]"
}

// numberBoundReason words a minimum/maximum error with the bound written
// as an exact decimal (the validator hands it over as a big.Float).
func numberBoundReason(typ string, details gojsonschema.ErrorDetails) string {
	key, words := "max", map[string]string{
		"number_lte": "less than or equal to", "number_lt": "less than",
		"number_gte": "greater than or equal to", "number_gt": "greater than",
	}[typ]
	if strings.HasSuffix(typ, "gte") || strings.HasSuffix(typ, "gt") {
		key = "min"
	}
	bound := fmt.Sprint(details[key])
	if f, ok := details[key].(*big.Float); ok && f != nil {
		bound = f.Text('f', -1)
	}
	return "must be " + words + " " + bound
}

// unescapeHTML undoes the HTML-safe escapes encoding/json puts in the
// allowed values the validator prints.
var unescapeHTML = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToLower(string(r)) + s[n:]
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// syntaxReason describes a json.Unmarshal error with its position.
func syntaxReason(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset) - 1 // Offset counts the byte that caused the error.
		if se.Offset >= int64(len(data)) && strings.Contains(se.Error(), "end of JSON input") {
			off = len(data)
		}
		return "invalid JSON at " + position(data, off) + ": " + se.Error()
	}
	return "invalid JSON: " + err.Error()
}

// position renders a byte offset as "byte offset N (line L, column C)",
// lines and columns counted from 1, columns in bytes.
func position(data []byte, off int) string {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off + 1
	if i := bytes.LastIndexByte(data[:off], '\n'); i >= 0 {
		col = off - i
	}
	return fmt.Sprintf("byte offset %d (line %d, column %d)", off, line, col)
}

func invalidUTF8Offset(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}
