package sla

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonical returns the canonical form of s: the bytes whose SHA-256 digest
// the provider and the client sign.
//
// Definition. The typed model s is encoded with encoding/json (so fields
// appear under their JSON names, optional fields tagged omitempty are left
// out when empty, and the required lists metrics, monitoring.zones,
// consequences.credit_tiers, support.calendars, support.severities, the
// days of each support hours range and the notify list of each escalation
// level are written as [] when nil), and the result is
// canonicalised per RFC 8785 (JSON Canonicalization Scheme, JCS):
//
//   - object members are sorted by their names compared as sequences of
//     UTF-16 code units; names are unique;
//   - no whitespace between tokens;
//   - strings are written in UTF-8 with only these escapes: \" and \\,
//     \b \f \n \r \t, and \u00xx (lower-case hex) for the other control
//     characters below U+0020; everything else, including '<', '>', '&',
//     U+2028 and U+2029 and non-ASCII characters, is written literally;
//   - numbers are integers (the model has no floating point numbers) in
//     minimal decimal form: an optional '-', no leading zeros, no "-0".
//     Integers must lie within +/-9007199254740991 (2^53-1), where RFC 8785's
//     ECMAScript number formatting is exact; Canonical fails otherwise;
//   - literals true, false, null as such.
//
// Because the canonical form is computed from the typed model, documents
// that differ only in key order, whitespace, escaping or in leaving out
// empty optional values have the same canonical form and digest. Canonical
// does not validate s; use Parse (or Validate) for that.
func Canonical(s *SLA) ([]byte, error) {
	if s == nil {
		return nil, errors.New("sla: canonical form of a nil SLA")
	}
	data, err := json.Marshal(normalized(s))
	if err != nil {
		return nil, fmt.Errorf("sla: encoding SLA: %w", err)
	}
	return CanonicalJSON(data)
}

// Digest returns the SHA-256 digest of Canonical(s): the value both parties
// sign.
func Digest(s *SLA) ([32]byte, error) {
	c, err := Canonical(s)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(c), nil
}

// DigestHex returns Digest(s) as 64 lower-case hexadecimal digits.
func DigestHex(s *SLA) (string, error) {
	d, err := Digest(s)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(d[:]), nil
}

// DigestOf parses and validates a document (see Parse) and returns its
// digest together with the parsed SLA.
func DigestOf(data []byte) ([32]byte, *SLA, error) {
	s, err := Parse(data)
	if err != nil {
		return [32]byte{}, nil, err
	}
	d, err := Digest(s)
	if err != nil {
		return [32]byte{}, nil, err
	}
	return d, s, nil
}

// normalized returns a shallow copy of s whose required lists are non-nil,
// so that a nil and an empty list encode alike ([]).
func normalized(s *SLA) *SLA {
	c := *s
	if c.Metrics == nil {
		c.Metrics = []Metric{}
	}
	if c.Monitoring.Zones == nil {
		c.Monitoring.Zones = []Zone{}
	}
	if c.Consequences.CreditTiers == nil {
		c.Consequences.CreditTiers = []CreditTier{}
	}
	if s.Support != nil {
		c.Support = normalizedSupport(s.Support)
	}
	return &c
}

// normalizedSupport returns a copy of sup whose required lists
// (calendars, severities, the days of each hours range, the parties of
// each escalation level) are empty rather than nil; sup is not modified.
func normalizedSupport(sup *Support) *Support {
	c := *sup
	if c.Calendars == nil {
		c.Calendars = []SupportCalendar{}
	}
	if c.Severities == nil {
		c.Severities = []Severity{}
	}
	if slices.ContainsFunc(c.Calendars, func(cal SupportCalendar) bool {
		return slices.ContainsFunc(cal.Hours, func(h HoursRange) bool { return h.Days == nil })
	}) {
		c.Calendars = slices.Clone(c.Calendars)
		for i := range c.Calendars {
			hours := slices.Clone(c.Calendars[i].Hours)
			for j := range hours {
				if hours[j].Days == nil {
					hours[j].Days = []string{}
				}
			}
			c.Calendars[i].Hours = hours
		}
	}
	if slices.ContainsFunc(c.Escalation, func(e Escalation) bool { return e.Notify == nil }) {
		c.Escalation = slices.Clone(c.Escalation)
		for i := range c.Escalation {
			if c.Escalation[i].Notify == nil {
				c.Escalation[i].Notify = []string{}
			}
		}
	}
	return &c
}

// maxSafeInteger is 2^53-1, the largest integer RFC 8785 writes exactly.
const maxSafeInteger = 1<<53 - 1

// CanonicalJSON canonicalises one JSON document per RFC 8785 (see
// Canonical for the rules). It accepts only integer numbers within
// +/-9007199254740991, and rejects duplicate object names, invalid
// UTF-8 and trailing data.
func CanonicalJSON(data []byte) ([]byte, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("jcs: input is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJCS(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("jcs: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("jcs: data after the JSON value")
	}
	var out bytes.Buffer
	if err := encodeJCS(&out, v); err != nil {
		return nil, fmt.Errorf("jcs: %w", err)
	}
	return out.Bytes(), nil
}

// member is one name/value pair of a decoded object.
type member struct {
	name  string
	value any
}

// jcsObject is a decoded object, members in document order.
type jcsObject []member

// maxJCSDepth bounds nesting (encoding/json allows 10000 levels).
const maxJCSDepth = 10000

func decodeJCS(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJCSDepth {
		return nil, errors.New("nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("unexpected end of input")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var obj jcsObject
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				name, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object name is %T", kt)
				}
				if seen[name] {
					return nil, fmt.Errorf("duplicate object name %q", name)
				}
				seen[name] = true
				v, err := decodeJCS(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{name, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if obj == nil {
				obj = jcsObject{}
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeJCS(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil // string, json.Number, bool or nil
	}
}

func encodeJCS(out *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		if t {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case string:
		writeJCSString(out, t)
	case json.Number:
		n, err := jcsInteger(string(t))
		if err != nil {
			return err
		}
		out.WriteString(n)
	case []any:
		out.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := encodeJCS(out, e); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case jcsObject:
		members := append(jcsObject(nil), t...)
		sort.Slice(members, func(i, j int) bool { return lessUTF16(members[i].name, members[j].name) })
		out.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				out.WriteByte(',')
			}
			writeJCSString(out, m.name)
			out.WriteByte(':')
			if err := encodeJCS(out, m.value); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	default:
		return fmt.Errorf("unexpected value of type %T", v)
	}
	return nil
}

// jcsInteger writes a JSON number literal in minimal integer form. It
// rejects fractions, exponents and magnitudes above 2^53-1.
func jcsInteger(lit string) (string, error) {
	if !integerLiteral.MatchString(lit) {
		return "", fmt.Errorf("number %s is not an integer literal; the canonical form supports integers only", clip(lit))
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
		return "", fmt.Errorf("integer %s is outside +/-9007199254740991", clip(lit))
	}
	return strconv.FormatInt(n, 10), nil
}

const hexDigits = "0123456789abcdef"

// writeJCSString writes s as an RFC 8785 string. s is valid UTF-8 (it
// comes from encoding/json, which replaces invalid bytes with U+FFFD).
func writeJCSString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch b {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if b < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hexDigits[b>>4])
				out.WriteByte(hexDigits[b&0xf])
			} else {
				out.WriteByte(b)
			}
		}
	}
	out.WriteByte('"')
}

// lessUTF16 compares two strings as sequences of UTF-16 code units.
func lessUTF16(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return a < b // UTF-16 order equals byte order on ASCII
	}
	ua := utf16.Encode([]rune(a))
	ub := utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
