package sla

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"
)

// awsDigest is the known-answer digest of examples/aws-ec2-region/sla.json,
// computed once and pinned: if it changes, signed SLAs stop verifying.
const awsDigest = "506e055b4e27ece2579b436df956719bad7671a6506cb0dc82aa62f6a5253262"

func TestKnownAnswerDigest(t *testing.T) {
	d, s, err := DigestOf(readFile(t, exampleFiles[0]))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(d[:]); got != awsDigest {
		t.Errorf("digest = %s, want %s", got, awsDigest)
	}
	if h := mustDigestHex(t, s); h != awsDigest {
		t.Errorf("DigestHex = %s", h)
	}
	c, err := Canonical(s)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(c) != d {
		t.Error("Digest is not SHA-256 of Canonical")
	}
	const prefix = `{"consequences":{"credit_tiers":[{"credit_bps":1000,"metric":"availability","worse_than":"99.99"},`
	if !bytes.HasPrefix(c, []byte(prefix)) {
		t.Errorf("canonical form starts %s", c[:len(prefix)])
	}
	if _, _, err := DigestOf([]byte(`{}`)); err == nil {
		t.Error("DigestOf accepted an invalid document")
	}
}

// awsVariant is examples/aws-ec2-region/sla.json rewritten by hand: keys in
// another order, other whitespace, escapes instead of literal characters,
// the zero condition value and the empty parameters left out, empty
// optional values added.
const awsVariant = `{"metrics":[{"unit":"percent","rules":{"missing_data":"excluded","min_samples":1,
	"min_zones_down":2,"zone_down_bps":10000,"failure":[{"op":"==","measurement":"ok"}],
	"valid":[{"op":"present","measurement":"ok"}]},"objective":{"target":"99.99","operator":"\u003e="},
	"driver":{"version":"1","id":"availability"},
	"description":"100% minus the percentage of minutes in the month in which the region was unavailable: more than one zone had no external connectivity for the whole minute.",
	"name":"Monthly Uptime Percentage","id":"availability"}],
  "consequences" : { "max_credit_bps" : 10000 , "penalties" : [ ] , "collateral_wallet" : "" ,
    "credit_tiers" : [
      {"worse_than": "99.99", "credit_bps": 1000, "metric": "availability"},
      {"credit_bps": 3000, "worse_than": "99.0", "metric": "availabilit\u0079"},
      {"metric": "availability", "credit_bps": 10000, "worse_than": "95.0"}]},
  "monitoring": {"zones": [{"region": "region-1", "id": "zone-a"}, {"region": "region-1", "id": "zone-b"},
                           {"region": "region-1", "id": "zone-c"}]},
  "interval": {"sub_interval_seconds": 60, "sampling_period_ms": 1000, "time_zone": "UTC",
               "billing_cycle": {"unit": "calendar_month"}},
  "validity": {"end": "2027-01-01T00:00:00Z", "start": "2026-01-01T00:00:00Z"},
  "price": {"currency": "USD", "amount_minor": 100000},
  "parties": {
    "logger": {"issuer": "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US",
               "common_name": "logger@providerorg.slasa.local", "msp_id": "ProviderOrgMSP",
               "subject": "CN=logger@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"},
    "client": {"wallet": "client", "common_name": "client@clientorg.slasa.local", "msp_id": "ClientOrgMSP",
               "subject": "CN=client@clientorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US",
               "issuer": "CN=ca.clientorg.slasa.local,O=clientorg.slasa.local,L=San Francisco,ST=California,C=US"},
    "provider": {"wallet": "provider", "common_name": "provider\u0040providerorg.slasa.local", "msp_id": "ProviderOrgMSP",
               "issuer": "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US",
               "subject": "CN=provider@providerorg.slasa.local,OU=client,L=San Francisco,ST=California,C=US"}},
  "service": {"description": "Instances deployed in two or more availability zones of one region.",
              "name": "Compute instances in one region", "product_id": "compute-region"},
  "title": "Compute region SLA (AWS EC2 region-level style)", "id": "aws-ec2-region-2026",
  "nonce": "dd7ee1408b1d8b254729748c9078f46\u0065", "schema_version": "slasa.sla/v1"}`

func TestDigestStableUnderRewriting(t *testing.T) {
	s := mustParse(t, []byte(awsVariant))
	if h := mustDigestHex(t, s); h != awsDigest {
		t.Errorf("variant digest = %s, want %s", h, awsDigest)
	}
	// Whitespace only: compact and indented re-encodings.
	var compact, indented bytes.Buffer
	data := readFile(t, exampleFiles[0])
	if err := jsonCompact(&compact, data); err != nil {
		t.Fatal(err)
	}
	if err := jsonIndent(&indented, data); err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][]byte{compact.Bytes(), indented.Bytes()} {
		if h := mustDigestHex(t, mustParse(t, doc)); h != awsDigest {
			t.Errorf("digest = %s", h)
		}
	}
}

func TestCanonicalFixedPoint(t *testing.T) {
	for _, f := range exampleFiles {
		s := mustParse(t, readFile(t, f))
		c, err := Canonical(s)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := CanonicalJSON(c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Errorf("%s: canonical form is not canonical: %v", f, err)
		}
		s2 := mustParse(t, c)
		if !reflect.DeepEqual(s, s2) {
			t.Errorf("%s: Parse(Canonical(s)) differs from s", f)
		}
	}
}

func TestCanonicalNilAndEmptyLists(t *testing.T) {
	a := &SLA{}
	b := &SLA{Metrics: []Metric{}, Monitoring: Monitoring{Zones: []Zone{}}, Consequences: Consequences{CreditTiers: []CreditTier{}, Penalties: []Penalty{}}}
	ca, err := Canonical(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Canonical(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, cb) {
		t.Errorf("nil and empty lists differ:\n%s\n%s", ca, cb)
	}
	if !bytes.Contains(ca, []byte(`"metrics":[]`)) || bytes.Contains(ca, []byte("null")) {
		t.Errorf("canonical form of the zero SLA: %s", ca)
	}
	if a.Metrics != nil {
		t.Error("Canonical modified its argument")
	}
	if _, err := Canonical(nil); err == nil {
		t.Error("Canonical(nil) succeeded")
	}
	if _, err := Digest(nil); err == nil {
		t.Error("Digest(nil) succeeded")
	}
	if _, err := DigestHex(nil); err == nil {
		t.Error("DigestHex(nil) succeeded")
	}
	big := &SLA{Price: Price{AmountMinor: 1 << 53}}
	if _, err := Canonical(big); err == nil {
		t.Error("Canonical accepted an integer above 2^53-1")
	}
}

// fullSLA returns a valid SLA in which every field holds a non-zero value.
func fullSLA(t *testing.T) *SLA {
	s := mustParse(t, readFile(t, "../examples/telecom/sla.json"))
	for i := range s.Metrics {
		s.Metrics[i].Parameters = Parameters{Measurement: "events", Percentile: 50}
		s.Metrics[i].Rules = Rules{
			Valid:       []Condition{{"ok", CondNE, 2}},
			Failure:     []Condition{{"ok", CondEQ, 1}},
			ZoneDownBPS: 5000, MinZonesDown: 1, MinSamples: 2, MissingData: MissingUp,
		}
	}
	s.Interval.BillingCycle = BillingCycle{Unit: CycleSeconds, Seconds: 3600}
	s.Consequences.CollateralMinor = 250000
	s.Consequences.EscrowExpiry = &EscrowExpiry{VerdictWithinSeconds: 604800, Outcome: ExpirySplit, ClientBPS: 5000}
	// A 24x7 calendar has no time zone, hours or holidays: make every
	// calendar a business-hours one so that each field holds a value.
	for i := range s.Support.Calendars {
		if c := &s.Support.Calendars[i]; c.Kind == CalendarTwentyFourSeven {
			c.Kind = CalendarBusinessHours
			c.TimeZone = "UTC"
			c.Hours = []HoursRange{{Days: []string{"sat", "sun"}, From: "00:00", To: "24:00"}}
			c.Holidays = []string{"2026-12-31"}
		}
	}
	if err := Validate(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDigestCoversEveryValue changes every string and integer of the model,
// one at a time, and checks that each change gives a new digest.
func TestDigestCoversEveryValue(t *testing.T) {
	s := fullSLA(t)
	base := mustDigestHex(t, s)
	seen := map[string]string{base: "(unchanged)"}
	var leaves int
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				t.Fatalf("%s is nil in the full SLA", path)
			}
			walk(v.Elem(), path)
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Fatalf("%s is empty in the full SLA", path)
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path+"[]")
			}
		case reflect.String:
			old := v.String()
			if path == "SLA.Parties.Logger.Wallet" {
				return // the logger has no wallet
			}
			if old == "" {
				t.Fatalf("%s is empty in the full SLA", path)
			}
			v.SetString(old + "x")
			checkNewDigest(t, s, path, seen)
			v.SetString(old)
			leaves++
		case reflect.Int64:
			old := v.Int()
			v.SetInt(old + 1)
			checkNewDigest(t, s, path, seen)
			v.SetInt(old)
			leaves++
		default:
			t.Fatalf("%s: unexpected kind %v", path, v.Kind())
		}
	}
	walk(reflect.ValueOf(s), "SLA")
	if h := mustDigestHex(t, s); h != base {
		t.Fatal("walk did not restore the SLA")
	}
	if leaves < 60 {
		t.Errorf("only %d leaves visited", leaves)
	}
}

func checkNewDigest(t *testing.T, s *SLA, path string, seen map[string]string) {
	t.Helper()
	h := mustDigestHex(t, s)
	if prev, dup := seen[h]; dup {
		t.Errorf("changing %s gives the digest of %s", path, prev)
	}
	seen[h] = path
}

// TestJCSRFC8785 uses the examples of RFC 8785 that involve strings,
// objects, literals and integers.
func TestJCSRFC8785(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"string escaping and literals (section 3.2.2)",
			`{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}`,
			`{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{"property sorting (section 3.2.3)",
			"{\n  \"\\u20ac\": \"Euro Sign\",\n  \"\\r\": \"Carriage Return\",\n  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  \"1\": \"One\",\n  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n  \"\\u0080\": \"Control\",\n  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n}",
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"nested objects sorted recursively",
			`{"b": {"z": 1, "a": [ {"y": 2, "x": 3} ]}, "a": {}}`,
			`{"a":{},"b":{"a":[{"x":3,"y":2}],"z":1}}`},
		{"integers (section 3.2.2.3, integral cases)",
			`[0, -0, 1, -1, 333333333, 9007199254740991, -9007199254740991]`,
			`[0,0,1,-1,333333333,9007199254740991,-9007199254740991]`},
		{"control characters and html characters",
			"[\"\\u0000\\u001f\\u007f<>&\\u2028\\u2029\\t\\b\\f\\r\"]",
			"[\"\\u0000\\u001f\u007f<>&\u2028\u2029\\t\\b\\f\\r\"]"},
		{"keys sorted by UTF-16, not by code point",
			"{\"\ufb01\": 1, \"\U0001F600\": 2}",
			"{\"\U0001F600\":2,\"\ufb01\":1}"},
		{"scalars", ` "x" `, `"x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{
		`[333333333.33333329]`, `[1E30]`, `[4.50]`, `[2e-3]`, `[1.0]`, `[9007199254740992]`, `[-9007199254740992]`,
		`{"a": 1, "a": 2}`, `{} {}`, `[1] x`, `[1`, ``, "[\"\xff\"]",
	} {
		if got, err := CanonicalJSON([]byte(bad)); err == nil {
			t.Errorf("CanonicalJSON(%q) = %s, want an error", bad, got)
		}
	}
}
