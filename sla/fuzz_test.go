package sla

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// addSeeds adds the example documents to a fuzz target's corpus; the
// committed corpus under testdata/fuzz holds more.
func addSeeds(f *testing.F, withSeed bool) {
	files := append(append([]string(nil), exampleFiles...), brokenExample)
	for i, name := range files {
		data := readFile(f, name)
		if withSeed {
			f.Add(data, uint64(i))
		} else {
			f.Add(data)
		}
	}
}

// FuzzParse checks that Parse never panics and that the canonical form of a
// valid document is a fixed point: Parse(Canonical(s)) yields the same
// canonical bytes, hence the same digest.
func FuzzParse(f *testing.F) {
	addSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if s != nil {
				t.Fatal("SLA returned with an error")
			}
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, p := range ve.Problems {
				if p.Path == "" || p.Reason == "" {
					t.Fatalf("empty problem %+v", p)
				}
			}
			return
		}
		c, err := Canonical(s)
		if err != nil {
			t.Fatalf("Canonical of a valid SLA: %v", err)
		}
		s2, err := Parse(c)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c)
		}
		c2, err := Canonical(s2)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("canonical form is not a fixed point: %v\n%s\n%s", err, c, c2)
		}
	})
}

// FuzzCanonical rewrites valid documents (members shuffled, whitespace
// and string escapes changed, empty optional values dropped) and checks
// that the digest does not change.
func FuzzCanonical(f *testing.F) {
	addSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		want, err := Digest(s)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		tree, err := decodeJCS(dec, 0)
		if err != nil {
			t.Fatalf("valid document does not decode: %v", err)
		}
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var out bytes.Buffer
		writeVariant(&out, tree, r)
		variant := out.Bytes()
		s2, err := Parse(variant)
		if err != nil {
			t.Fatalf("variant rejected: %v\n%s", err, variant)
		}
		got, err := Digest(s2)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("variant digest differs\n%s", variant)
		}
	})
}

// droppable are members the typed model omits when empty: dropping them
// (or keeping them) must not change the digest.
var droppable = map[string]bool{
	"description": true, "parameters": true, "rules": true, "valid": true, "failure": true,
	"penalties": true, "collateral_wallet": true, "collateral_minor": true, "value": true, "measurement": true,
	"pause_statuses": true, "escalation": true, "objectives": true, "holidays": true,
}

func isEmptyValue(v any) bool {
	switch t := v.(type) {
	case string:
		return t == ""
	case json.Number:
		return t == "0"
	case []any:
		return len(t) == 0
	case jcsObject:
		return len(t) == 0
	}
	return false
}

func space(out *bytes.Buffer, r *rand.Rand) {
	const ws = " \t\n\r"
	for n := r.IntN(3); n > 0; n-- {
		out.WriteByte(ws[r.IntN(len(ws))])
	}
}

// writeVariant writes tree as JSON with random member order, whitespace
// and string escapes, dropping some empty optional members.
func writeVariant(out *bytes.Buffer, v any, r *rand.Rand) {
	space(out, r)
	switch t := v.(type) {
	case jcsObject:
		members := append(jcsObject(nil), t...)
		r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		out.WriteByte('{')
		first := true
		for _, m := range members {
			if droppable[m.name] && isEmptyValue(m.value) && r.IntN(2) == 0 {
				continue
			}
			if !first {
				out.WriteByte(',')
			}
			first = false
			writeVariantString(out, m.name, r)
			space(out, r)
			out.WriteByte(':')
			writeVariant(out, m.value, r)
		}
		space(out, r)
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				out.WriteByte(',')
			}
			writeVariant(out, e, r)
		}
		space(out, r)
		out.WriteByte(']')
	case string:
		writeVariantString(out, t, r)
	case json.Number:
		out.WriteString(string(t))
	case bool:
		fmt.Fprint(out, t)
	case nil:
		out.WriteString("null")
	}
	space(out, r)
}

// writeVariantString writes s with a random mix of literal characters and
// \uXXXX escapes (surrogate pairs above U+FFFF).
func writeVariantString(out *bytes.Buffer, s string, r *rand.Rand) {
	out.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\' || c < 0x20 || r.IntN(4) == 0:
			if c > 0xffff {
				c -= 0x10000
				fmt.Fprintf(out, `\u%04x\u%04X`, 0xd800+(c>>10), 0xdc00+(c&0x3ff))
			} else if r.IntN(2) == 0 {
				fmt.Fprintf(out, `\u%04x`, c)
			} else {
				fmt.Fprintf(out, `\u%04X`, c)
			}
		case c == '/' && r.IntN(2) == 0:
			out.WriteString(`\/`)
		default:
			out.WriteString(string(c))
		}
	}
	out.WriteByte('"')
}

// TestWriteVariant makes sure the variant writer really rewrites documents.
func TestWriteVariant(t *testing.T) {
	data := readFile(t, exampleFiles[0])
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tree, err := decodeJCS(dec, 0)
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(0); seed < 50; seed++ {
		var out bytes.Buffer
		writeVariant(&out, tree, rand.New(rand.NewPCG(seed, seed)))
		if bytes.Equal(out.Bytes(), data) || !strings.Contains(out.String(), `\u`) {
			t.Fatalf("seed %d: variant is not rewritten:\n%s", seed, out.Bytes())
		}
		if h := mustDigestHex(t, mustParse(t, out.Bytes())); h != awsDigest {
			t.Fatalf("seed %d: digest %s", seed, h)
		}
	}
}
