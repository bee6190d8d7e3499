package sla

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExamplesAreValid(t *testing.T) {
	for _, f := range exampleFiles {
		t.Run(f, func(t *testing.T) {
			s := mustParse(t, readFile(t, f))
			if s.SchemaVersion != SchemaVersion {
				t.Errorf("schema_version = %q", s.SchemaVersion)
			}
			if err := Validate(s); err != nil {
				t.Errorf("Validate of the parsed example: %v", err)
			}
		})
	}
}

func TestExampleContents(t *testing.T) {
	azure := mustParse(t, readFile(t, "../examples/azure-vm/sla.json"))
	p95, ok := azure.Metric("latency-p95")
	if !ok || p95.Driver != (DriverRef{"latency-percentile", "1"}) || p95.Parameters != (Parameters{"latency_ms", 95}) ||
		p95.Objective != (Objective{OpLE, "300"}) {
		t.Errorf("azure latency metric = %+v", p95)
	}
	er, ok := azure.Metric("error-rate")
	if !ok || er.Unit != "percent" || er.Objective != (Objective{OpLE, "1.0"}) ||
		!reflect.DeepEqual(er.Rules.Failure, []Condition{{"status", CondGE, 500}}) {
		t.Errorf("azure error-rate metric = %+v", er)
	}
	tel := mustParse(t, readFile(t, "../examples/telecom/sla.json"))
	for _, want := range []struct{ id, driver, unit, op, target string }{
		{"mttrespond", "mean-time-to-respond", "min", OpLE, "20"},
		{"mttresolve", "mean-time-to-resolve", "h", OpLE, "4"},
		{"availability", "availability", "percent", OpGE, "99"},
	} {
		m, ok := tel.Metric(want.id)
		if !ok || m.Driver.ID != want.driver || m.Unit != want.unit || m.Objective.Operator != want.op || m.Objective.Target != want.target {
			t.Errorf("telecom metric %s = %+v", want.id, m)
		}
	}
	if tel.Consequences.CollateralWallet == "" || len(tel.Consequences.Penalties) != 3 || tel.Interval.BillingCycle.Unit != CycleCalendarMonth {
		t.Errorf("telecom consequences = %+v", tel.Consequences)
	}
	if _, ok := tel.Metric("nope"); ok {
		t.Error("Metric(nope) found")
	}
}

func TestValidityWindow(t *testing.T) {
	s := mustParse(t, readFile(t, exampleFiles[0]))
	start, end, err := s.ValidityWindow()
	if err != nil || !start.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ValidityWindow = %v, %v, %v", start, end, err)
	}
	if start.Location() != time.UTC {
		t.Errorf("location %v", start.Location())
	}
	for _, v := range []Validity{
		{"2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00Z"},
		{"2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z"},
		{"2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"2026-01-01T00:00:00.5Z", "2027-01-01T00:00:00Z"},
	} {
		s.Validity = v
		if _, _, err := s.ValidityWindow(); err == nil {
			t.Errorf("ValidityWindow(%+v) accepted", v)
		}
	}
	var nilSLA *SLA
	if _, _, err := nilSLA.ValidityWindow(); err == nil {
		t.Error("nil SLA accepted")
	}
}

// TestProblems mutates the AWS example and checks that each kind of
// problem is reported at the exact path with the expected reason.
func TestProblems(t *testing.T) {
	type tree = map[string]any
	set := func(path string, v any) func(*testing.T, tree) {
		return func(t *testing.T, m tree) { setPath(t, m, path, v) }
	}
	del := func(path string) func(*testing.T, tree) {
		return func(t *testing.T, m tree) { delPath(t, m, path) }
	}
	all := func(fs ...func(*testing.T, tree)) func(*testing.T, tree) {
		return func(t *testing.T, m tree) {
			for _, f := range fs {
				f(t, m)
			}
		}
	}
	num := func(s string) json.Number { return json.Number(s) }
	copyMetric := func(t *testing.T, m tree) {
		ms := m["metrics"].([]any)
		dup := encodeTree(t, ms[0])
		m["metrics"] = append(ms, loadTree(t, dup))
	}
	tier := func(metric, worse string, bps int) map[string]any {
		return map[string]any{"metric": metric, "worse_than": worse, "credit_bps": bps}
	}
	cases := []struct {
		name   string
		mutate func(*testing.T, tree)
		path   string
		reason string
	}{
		// Schema: structure.
		{"missing root field", del("title"), "title", "is required"},
		{"missing nested field", del("metrics.0.objective.target"), "metrics[0].objective.target", "is required"},
		{"unknown root field", set("extra", true), "extra", "unknown field"},
		{"unknown nested field", set("metrics.0.objective.tolerance", "1"), "metrics[0].objective.tolerance", "unknown field"},
		{"unknown odd field name", set("service.a b", 1), `service["a b"]`, "unknown field"},
		{"case-variant field name", set("service.Name", "x"), "service.Name", "unknown field"},
		{"logger has no wallet", set("parties.logger.wallet", "logger"), "parties.logger.wallet", "unknown field"},
		{"provider wallet required", del("parties.provider.wallet"), "parties.provider.wallet", "is required"},
		{"client wallet required", del("parties.client.wallet"), "parties.client.wallet", "is required"},
		{"wrong type object", set("price", "100 USD"), "price", "must be of type object, not string"},
		{"wrong type array", set("metrics", map[string]any{}), "metrics", "must be of type array, not object"},
		{"no metrics", set("metrics", []any{}), "metrics", "at least 1"},
		{"no zones", set("monitoring.zones", []any{}), "monitoring.zones", "at least 1"},
		// Schema: enums and constants.
		{"schema version", set("schema_version", "slasa.sla/v2"), "schema_version", `must be one of "slasa.sla/v1"`},
		{"billing unit", set("interval.billing_cycle.unit", "week"), "interval.billing_cycle.unit", "must be one of"},
		{"time zone", set("interval.time_zone", "Europe/Paris"), "interval.time_zone", `must be one of "UTC"`},
		{"objective operator", set("metrics.0.objective.operator", "=>"), "metrics[0].objective.operator", `">=", ">", "<=", "<"`},
		{"condition op", set("metrics.0.rules.valid.0.op", "exists"), "metrics[0].rules.valid[0].op", "must be one of"},
		{"missing data", set("metrics.0.rules.missing_data", "ignore"), "metrics[0].rules.missing_data", `"down", "up", "excluded"`},
		{"metric unit", set("metrics.0.unit", "%"), "metrics[0].unit", "must be one of"},
		// Schema: patterns.
		{"currency lower case", set("price.currency", "usd"), "price.currency", "pattern"},
		{"currency long", set("price.currency", "USDT"), "price.currency", "pattern"},
		{"timestamp offset", set("validity.start", "2026-01-01T00:00:00+00:00"), "validity.start", "pattern"},
		{"timestamp fraction", set("validity.end", "2027-01-01T00:00:00.000Z"), "validity.end", "pattern"},
		{"timestamp date only", set("validity.end", "2027-01-01"), "validity.end", "pattern"},
		{"decimal comma", set("metrics.0.objective.target", "99,99"), "metrics[0].objective.target", "pattern"},
		{"decimal negative", set("consequences.credit_tiers.0.worse_than", "-1"), "consequences.credit_tiers[0].worse_than", "pattern"},
		{"decimal exponent", set("metrics.0.objective.target", "1e2"), "metrics[0].objective.target", "pattern"},
		{"decimal trailing point", set("metrics.0.objective.target", "99."), "metrics[0].objective.target", "pattern"},
		{"decimal as number", set("metrics.0.objective.target", num("99")), "metrics[0].objective.target", "must be of type string, not integer"},
		{"empty msp id", set("parties.provider.msp_id", ""), "parties.provider.msp_id", "pattern"},
		{"empty common name", set("parties.client.common_name", ""), "parties.client.common_name", "greater than or equal to 1"},
		{"subject required", del("parties.provider.subject"), "parties.provider.subject", "is required"},
		{"issuer required", del("parties.logger.issuer"), "parties.logger.issuer", "is required"},
		{"control char in subject", set("parties.client.subject", "CN=a\nOU=b"), "parties.client.subject", "pattern"},
		// Semantic: identities.
		{"common name not the subject's CN", set("parties.client.common_name", "someone@clientorg.slasa.local"), "parties.client.common_name", `must be the common name (CN) of parties.client.subject, "client@clientorg.slasa.local"`},
		{"logger subject without CN", set("parties.logger.subject", "OU=client,C=US"), "parties.logger.common_name", `must be the common name (CN) of parties.logger.subject, ""`},
		{"control char in title", set("title", "a\nb"), "title", "pattern"},
		{"measurement name", set("metrics.0.rules.valid.0.measurement", "OK"), "metrics[0].rules.valid[0].measurement", "pattern"},
		{"metric id", set("metrics.0.id", "Availability"), "metrics[0].id", "pattern"},
		{"driver id", set("metrics.0.driver.id", "avail ability"), "metrics[0].driver.id", "pattern"},
		{"sla id", set("id", ""), "id", "pattern"},
		{"nonce required", del("nonce"), "nonce", "is required"},
		{"nonce upper case", set("nonce", "DD7EE1408B1D8B254729748C9078F46E"), "nonce", "does not match the pattern ^[0-9a-f]{32}$"},
		{"nonce short", set("nonce", "dd7ee1408b1d8b25"), "nonce", "does not match the pattern ^[0-9a-f]{32}$"},
		{"nonce long", set("nonce", "dd7ee1408b1d8b254729748c9078f46e00"), "nonce", "does not match the pattern ^[0-9a-f]{32}$"},
		{"nonce as number", set("nonce", num("1")), "nonce", "must be of type string, not integer"},
		// Schema: integers.
		{"negative amount", set("price.amount_minor", num("-1")), "price.amount_minor", "greater than or equal to 0"},
		{"huge amount", set("price.amount_minor", num("9007199254740992")), "price.amount_minor", "less than or equal to 9007199254740991"},
		{"amount as string", set("price.amount_minor", "100"), "price.amount_minor", "must be of type integer, not string"},
		{"fractional amount", set("price.amount_minor", num("100.5")), "price.amount_minor", "must be of type integer, not number"},
		{"integral float", set("price.amount_minor", num("100.0")), "price.amount_minor", "without fraction or exponent"},
		{"exponent integer", set("interval.sampling_period_ms", num("1e3")), "interval.sampling_period_ms", "without fraction or exponent"},
		{"bps above 10000", set("consequences.credit_tiers.0.credit_bps", num("10001")), "consequences.credit_tiers[0].credit_bps", "less than or equal to 10000"},
		{"max credit above 10000", set("consequences.max_credit_bps", num("10001")), "consequences.max_credit_bps", "less than or equal to 10000"},
		{"zone down bps zero", set("metrics.0.rules.zone_down_bps", num("0")), "metrics[0].rules.zone_down_bps", "greater than or equal to 1"},
		{"sampling period zero", set("interval.sampling_period_ms", num("0")), "interval.sampling_period_ms", "greater than or equal to 1"},
		{"sub-interval zero", set("interval.sub_interval_seconds", num("0")), "interval.sub_interval_seconds", "greater than or equal to 1"},
		{"percentile zero", set("metrics.0.parameters.percentile", num("0")), "metrics[0].parameters.percentile", "greater than or equal to 1"},
		{"percentile 101", set("metrics.0.parameters.percentile", num("101")), "metrics[0].parameters.percentile", "less than or equal to 100"},
		{"condition value huge", set("metrics.0.rules.failure.0.value", num("-9007199254740992")), "metrics[0].rules.failure[0].value", "greater than or equal to"},
		{"seconds with calendar unit", set("interval.billing_cycle.seconds", num("3600")), "interval.billing_cycle.seconds", `only allowed when unit is "seconds"`},
		{"seconds unit without seconds", set("interval.billing_cycle.unit", "seconds"), "interval.billing_cycle.seconds", "is required"},
		{"seconds zero", all(set("interval.billing_cycle.unit", "seconds"), set("interval.billing_cycle.seconds", num("0"))), "interval.billing_cycle.seconds", "greater than or equal to 1"},
		// Lexical.
		{"boolean condition value", set("metrics.0.rules.failure.0.value", false), "metrics[0].rules.failure[0].value", "must be of type integer, not boolean"},
		// Semantic: references and uniqueness.
		{"duplicate metric id", copyMetric, "metrics[1].id", `duplicate metric id "availability" (also metrics[0].id)`},
		{"duplicate zone id", set("monitoring.zones.2.id", "zone-a"), "monitoring.zones[2].id", `duplicate zone id "zone-a" (also monitoring.zones[0].id)`},
		{"tier unknown metric", set("consequences.credit_tiers.1.metric", "uptime"), "consequences.credit_tiers[1].metric", `unknown metric "uptime"`},
		{"penalty unknown metric", set("consequences.penalties", []any{map[string]any{"metric": "uptime", "amount_minor": 5}}), "consequences.penalties[0].metric", `unknown metric "uptime"`},
		{"duplicate penalty", set("consequences.penalties", []any{
			map[string]any{"metric": "availability", "amount_minor": 5},
			map[string]any{"metric": "availability", "amount_minor": 6},
		}), "consequences.penalties[1].metric", `already has a penalty (consequences.penalties[0])`},
		{"termination unknown metric", set("consequences.termination", map[string]any{"metric": "uptime", "worse_than": "90"}), "consequences.termination.metric", `unknown metric "uptime"`},
		// Semantic: thresholds.
		{"tier above >= target", set("consequences.credit_tiers.0.worse_than", "99.999"), "consequences.credit_tiers[0].worse_than", "above the objective target 99.99"},
		{"tier above > target", all(set("metrics.0.objective.operator", ">"), set("consequences.credit_tiers.0.worse_than", "100")), "consequences.credit_tiers[0].worse_than", "above the objective target"},
		{"tier below <= target", all(set("metrics.0.unit", "ms"), set("metrics.0.objective.operator", "<="), set("consequences.credit_tiers", []any{tier("availability", "99.99", 10000), tier("availability", "99.0", 3000)})), "consequences.credit_tiers[1].worse_than", "below the objective target 99.99"},
		{"termination above target", set("consequences.termination", map[string]any{"metric": "availability", "worse_than": "99.995"}), "consequences.termination.worse_than", "above the objective target"},
		{"duplicate threshold", set("consequences.credit_tiers.1.worse_than", "99.990"), "consequences.credit_tiers[1].worse_than", "already has a tier with this threshold (consequences.credit_tiers[0])"},
		{"credit decreases", set("consequences.credit_tiers.2.credit_bps", num("500")), "consequences.credit_tiers[2].credit_bps", "credits must not decrease"},
		{"credit decreases <=", all(set("metrics.0.unit", "ms"), set("metrics.0.objective.operator", "<="), set("metrics.0.objective.target", "300"), set("consequences.credit_tiers", []any{tier("availability", "1000", 500), tier("availability", "500", 1000)})), "consequences.credit_tiers[0].credit_bps", "credits must not decrease"},
		{"percent target above 100", set("metrics.0.objective.target", "100.5"), "metrics[0].objective.target", "more than 100 percent"},
		{"percent tier above 100", all(set("metrics.0.objective.operator", "<="), set("metrics.0.objective.target", "1.0"), set("consequences.credit_tiers", []any{tier("availability", "150", 500)})), "consequences.credit_tiers[0].worse_than", "more than 100 percent"},
		// Semantic: validity window and interval.
		{"impossible date", set("validity.start", "2026-02-30T00:00:00Z"), "validity.start", "not a valid date and time"},
		{"end before start", set("validity.end", "2025-12-01T00:00:00Z"), "validity.end", "must be after validity.start"},
		{"empty window", set("validity.end", "2026-01-01T00:00:00Z"), "validity.end", "must be after validity.start"},
		{"start mid-month", set("validity.start", "2026-01-02T00:00:00Z"), "validity.start", "first day of a month at 00:00:00Z"},
		{"end mid-day", all(set("interval.billing_cycle.unit", "day"), set("validity.end", "2026-06-01T12:00:00Z")), "validity.end", "day boundary"},
		{"start mid-hour", all(set("interval.billing_cycle.unit", "hour"), set("validity.start", "2026-01-01T00:30:00Z")), "validity.start", "whole hour"},
		{"window not whole periods", all(set("interval.billing_cycle.unit", "seconds"), set("interval.billing_cycle.seconds", num("604800"))), "validity.end", "not a whole number of billing periods of 604800 s"},
		{"sub-interval not dividing a day", set("interval.sub_interval_seconds", num("7")), "interval.sub_interval_seconds", "7 does not divide 86400"},
		{"sub-interval not dividing an hour", all(set("interval.billing_cycle.unit", "hour"), set("interval.sub_interval_seconds", num("7200"))), "interval.sub_interval_seconds", "7200 does not divide 3600"},
		{"sub-interval not dividing seconds", all(set("interval.billing_cycle.unit", "seconds"), set("interval.billing_cycle.seconds", num("90")), set("validity.end", "2026-01-01T00:30:00Z")), "interval.sub_interval_seconds", "60 does not divide 90"},
		{"sampling longer than sub-interval", set("interval.sampling_period_ms", num("60001")), "interval.sampling_period_ms", "longer than the sub-interval"},
		// Semantic: parties.
		{"same msp", set("parties.client.msp_id", "ProviderOrgMSP"), "parties.client.msp_id", "must differ from the provider's MSP ID"},
		{"same wallet", set("parties.client.wallet", "provider"), "parties.client.wallet", "must differ from the provider's wallet"},
		{"collateral is client wallet", set("consequences.collateral_wallet", "client"), "consequences.collateral_wallet", "must differ from the client's wallet"},
		{"collateral is provider wallet", set("consequences.collateral_wallet", "provider"), "consequences.collateral_wallet", "must differ from the provider's wallet"},
		{"collateral without wallet", set("consequences.collateral_minor", num("5000")), "consequences.collateral_minor", "needs consequences.collateral_wallet"},
		{"collateral without expiry", all(set("consequences.collateral_wallet", "collateral"), set("consequences.collateral_minor", num("5000"))), "consequences.collateral_minor", "needs consequences.escrow_expiry"},
		{"collateral negative", all(set("consequences.collateral_wallet", "collateral"), set("consequences.collateral_minor", num("-1"))), "consequences.collateral_minor", "greater than or equal to 0"},
		// Escrow expiry.
		{"expiry too short", set("consequences.escrow_expiry", map[string]any{"verdict_within_seconds": num("59"), "outcome": "refund_client"}), "consequences.escrow_expiry.verdict_within_seconds", "greater than or equal to 60"},
		{"expiry unknown outcome", set("consequences.escrow_expiry", map[string]any{"verdict_within_seconds": num("604800"), "outcome": "burn"}), "consequences.escrow_expiry.outcome", "must be one of"},
		{"expiry split without bps", set("consequences.escrow_expiry", map[string]any{"verdict_within_seconds": num("604800"), "outcome": "split"}), "consequences.escrow_expiry.client_bps", `must be 1..10000 with outcome "split"`},
		{"expiry bps without split", set("consequences.escrow_expiry", map[string]any{"verdict_within_seconds": num("604800"), "outcome": "refund_client", "client_bps": num("5000")}), "consequences.escrow_expiry.client_bps", `is only for outcome "split", not "refund_client"`},
		{"expiry bps above 10000", set("consequences.escrow_expiry", map[string]any{"verdict_within_seconds": num("604800"), "outcome": "split", "client_bps": num("10001")}), "consequences.escrow_expiry.client_bps", "less than or equal to 10000"},
		// Semantic: rules.
		{"min zones down above zones", set("metrics.0.rules.min_zones_down", num("4")), "metrics[0].rules.min_zones_down", "4 is more than the number of zones (3)"},
		{"value with present", set("metrics.0.rules.valid.0.value", num("1")), "metrics[0].rules.valid[0].value", `must be left out with op "present"`},
	}
	base := readFile(t, exampleFiles[0])
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := loadTree(t, base)
			tc.mutate(t, m)
			s, err := Parse(encodeTree(t, m))
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if s != nil {
				t.Error("non-nil SLA with an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			if !ve.Has(tc.path) {
				t.Fatalf("no problem at %s; got:\n%v", tc.path, err)
			}
			found := false
			for _, r := range ve.Reasons(tc.path) {
				found = found || strings.Contains(r, tc.reason)
			}
			if !found {
				t.Errorf("problem at %s does not mention %q; got:\n%v", tc.path, tc.reason, err)
			}
		})
	}
}

// TestAcceptedVariants checks mutations that must stay valid.
func TestAcceptedVariants(t *testing.T) {
	type tree = map[string]any
	cases := []struct {
		name   string
		mutate func(*testing.T, tree)
	}{
		{"no parameters", func(t *testing.T, m tree) { delPath(t, m, "metrics.0.parameters") }},
		{"no rules", func(t *testing.T, m tree) { delPath(t, m, "metrics.0.rules") }},
		{"no description", func(t *testing.T, m tree) { delPath(t, m, "service.description") }},
		{"zero condition value left out", func(t *testing.T, m tree) { delPath(t, m, "metrics.0.rules.failure.0.value") }},
		{"seconds cycle", func(t *testing.T, m tree) {
			setPath(t, m, "interval.billing_cycle", map[string]any{"unit": "seconds", "seconds": 3600})
			setPath(t, m, "validity.end", "2026-01-01T10:00:00Z")
		}},
		{"day cycle", func(t *testing.T, m tree) { setPath(t, m, "interval.billing_cycle.unit", "day") }},
		{"hour cycle", func(t *testing.T, m tree) { setPath(t, m, "interval.billing_cycle.unit", "hour") }},
		{"tier at the target of >", func(t *testing.T, m tree) { setPath(t, m, "metrics.0.objective.operator", ">") }},
		{"empty credit tiers", func(t *testing.T, m tree) { setPath(t, m, "consequences.credit_tiers", []any{}) }},
		{"equal credits", func(t *testing.T, m tree) { setPath(t, m, "consequences.credit_tiers.1.credit_bps", 1000) }},
		{"logger in client org", func(t *testing.T, m tree) { setPath(t, m, "parties.logger.msp_id", "ClientOrgMSP") }},
		{"termination at target", func(t *testing.T, m tree) {
			setPath(t, m, "consequences.termination", map[string]any{"metric": "availability", "worse_than": "99.99"})
		}},
		{"sampling equal to sub-interval", func(t *testing.T, m tree) { setPath(t, m, "interval.sampling_period_ms", 60000) }},
		{"unicode text", func(t *testing.T, m tree) { setPath(t, m, "title", "Région Zürich — 99,99 % <&>") }},
	}
	base := readFile(t, exampleFiles[0])
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := loadTree(t, base)
			tc.mutate(t, m)
			if _, err := Parse(encodeTree(t, m)); err != nil {
				t.Fatalf("rejected:\n%v", err)
			}
		})
	}
}

func TestMalformedDocuments(t *testing.T) {
	big := make([]byte, MaxDocumentBytes+1)
	for i := range big {
		big[i] = ' '
	}
	cases := []struct {
		name   string
		doc    string
		path   string
		reason string
	}{
		{"empty", "", RootPath, "invalid JSON at byte offset 0 (line 1, column 1)"},
		{"truncated", `{"id": "x",`, RootPath, "unexpected end of JSON input"},
		{"bad token", "{\n  \"id\": tru\n}", RootPath, "byte offset 13 (line 2, column 12)"},
		{"trailing data", `{} x`, RootPath, "byte offset 3 (line 1, column 4): invalid character 'x' after top-level value"},
		{"two values", `{}{}`, RootPath, "after top-level value"},
		{"invalid utf-8", "{\"title\": \"\xff\"}", RootPath, "not valid UTF-8 at byte offset 11"},
		{"too big", string(big), RootPath, "more than the limit"},
		{"array root", `[1, 2]`, RootPath, "must be of type object, not array"},
		{"null root", `null`, RootPath, "must be of type object, not null"},
		{"string root", `"sla"`, RootPath, "must be of type object, not string"},
		{"duplicate key", `{"id": "a", "id": "b"}`, "id", `duplicate key "id" in object`},
		{"duplicate nested key", `{"price": {"currency": "USD", "currency": "EUR", "amount_minor": 1}}`, "price.currency", `duplicate key "currency"`},
		{"empty object", `{}`, "schema_version", "is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v", err)
			}
			ok := false
			for _, r := range ve.Reasons(tc.path) {
				ok = ok || strings.Contains(r, tc.reason)
			}
			if !ok {
				t.Errorf("want %s: ...%s...; got:\n%v", tc.path, tc.reason, err)
			}
		})
	}
}

// TestBrokenExample checks that several problems are reported at once, in
// a deterministic order.
func TestBrokenExample(t *testing.T) {
	data := readFile(t, brokenExample)
	_, err := Parse(data)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	want := []string{
		"consequences.credit_tiers[1].metric",
		"consequences.max_credit_bps",
		"interval.billing_cycle.seconds",
		"interval.sub_interval_seconds",
		"interval.time_zone",
		"metrics[0].objective.operator",
		"metrics[0].objective.target",
		"metrics[0].rules.min_zones_down",
		"metrics[0].rules.missing_data",
		"metrics[1].id",
		"metrics[1].parameters.percentile",
		"nonce",
		"parties.client.msp_id",
		"parties.client.wallet",
		"price.amount_minor",
		"price.currency",
		"service.color",
		"validity.end",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths =\n%s\nwant\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(ve.Problems) {
		t.Fatalf("Error() has %d lines for %d problems", len(lines), len(ve.Problems))
	}
	for i, p := range ve.Problems {
		if lines[i] != p.Path+": "+p.Reason {
			t.Errorf("line %d = %q", i, lines[i])
		}
	}
	for i := 0; i < 5; i++ {
		if _, again := Parse(data); again.Error() != err.Error() {
			t.Fatalf("non-deterministic error:\n%v\n---\n%v", again, err)
		}
	}
}

func TestValidationErrorOrdering(t *testing.T) {
	err := newValidationError([]Problem{{"b", "y"}, {"a", "z"}, {"b", "x"}, {"a", "z"}, {RootPath, "r"}})
	want := "(root): r\na: z\nb: x\nb: y"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if newValidationError(nil) != nil {
		t.Error("no problems gave an error")
	}
	var ve *ValidationError
	if ve.Has("a") || ve.Reasons("a") != nil || ve.Error() == "" {
		t.Error("nil *ValidationError misbehaves")
	}
}

func TestValidateTyped(t *testing.T) {
	s := mustParse(t, readFile(t, exampleFiles[0]))
	s.Price.Currency = "usd"
	s.Metrics[0].Objective.Target = "100.01"
	err := Validate(s)
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has("price.currency") || !ve.Has("metrics[0].objective.target") {
		t.Errorf("Validate = %v", err)
	}
	if Validate(nil) == nil {
		t.Error("Validate(nil) accepted")
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // rational in lowest terms, "" for an error
	}{
		{"99.99", "9999/100"}, {"20", "20/1"}, {"1.0", "1/1"}, {"0", "0/1"}, {"007.50", "15/2"},
		{"", ""}, {"-1", ""}, {"1e2", ""}, {"1/3", ""}, {".5", ""}, {"5.", ""}, {" 1", ""}, {"0x10", ""},
		{strings.Repeat("9", MaxDecimalLen+1), ""},
	} {
		r, err := ParseDecimal(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDecimal(%q) = %v, want an error", tc.in, r)
		case tc.want != "" && (err != nil || r.String() != tc.want):
			t.Errorf("ParseDecimal(%q) = %v, %v, want %s", tc.in, r, err, tc.want)
		}
	}
}

// TestParseConcurrent runs Parse from several goroutines (run with -race).
func TestParseConcurrent(t *testing.T) {
	data := readFile(t, exampleFiles[1])
	broken := readFile(t, brokenExample)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for i := 0; i < 20 && err == nil; i++ {
				if _, err = Parse(data); err == nil {
					if _, e := Parse(broken); e == nil {
						err = errors.New("broken example accepted")
					}
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
