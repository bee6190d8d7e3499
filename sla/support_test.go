package sla

import (
	"archive/zip"
	"encoding/hex"
	"encoding/json"
	"errors"
	"go/build"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// telecomFile is the example with a support section.
const telecomFile = "../examples/telecom/sla.json"

// Known-answer digests of examples/telecom/sla.json: with its support
// section, and without it (the digest the example had before the section
// existed; removing the section must give it back).
const (
	telecomDigest          = "889fb2bb93d8d5189764e9b89e73d909d35b2ad55fb38097d672b94ef7ccc8c6"
	telecomNoSupportDigest = "c4f4e3a16661abcd49e6ab1cf2b1f899bc97b98627f91f0b2de9beb0a59fc021"
)

type mutation = func(*testing.T, map[string]any)

func setAt(path string, v any) mutation {
	return func(t *testing.T, m map[string]any) { setPath(t, m, path, v) }
}

func delAt(path string) mutation {
	return func(t *testing.T, m map[string]any) { delPath(t, m, path) }
}

func both(fs ...mutation) mutation {
	return func(t *testing.T, m map[string]any) {
		for _, f := range fs {
			f(t, m)
		}
	}
}

func list(vs ...any) []any { return append([]any{}, vs...) }

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// TestSupportProblems mutates the support section of the telecom example
// and checks that each problem is reported at its exact path with its
// exact reason.
func TestSupportProblems(t *testing.T) {
	num := func(s string) json.Number { return json.Number(s) }
	level := func(bps int, who ...any) map[string]any { return obj("at_bps", bps, "notify", list(who...)) }
	cases := []struct {
		name   string
		mutate mutation
		path   string
		reason string
	}{
		// Schema: structure and types.
		{"support not an object", setAt("support", list()), "support", "must be of type object, not array"},
		{"unknown support field", setAt("support.sla_clock", "on"), "support.sla_clock", "is not an allowed property (unknown field)"},
		{"unknown severity field", setAt("support.severities.0.priority", num("1")), "support.severities[0].priority", "is not an allowed property (unknown field)"},
		{"calendars required", delAt("support.calendars"), "support.calendars", "is required"},
		{"severities required", delAt("support.severities"), "support.severities", "is required"},
		{"severity change required", delAt("support.severity_change"), "support.severity_change", "is required"},
		{"no calendars", setAt("support.calendars", list()), "support.calendars", "array must have at least 1 items"},
		{"no severities", setAt("support.severities", list()), "support.severities", "array must have at least 1 items"},
		{"closure required", delAt("support.severities.2.closure"), "support.severities[2].closure", "is required"},
		{"calendar of a target required", delAt("support.severities.0.acceptance.calendar"), "support.severities[0].acceptance.calendar", "is required"},
		// Schema: calendars.
		{"calendar kind", setAt("support.calendars.0.kind", "weekly"), "support.calendars[0].kind", `must be one of "24x7", "business_hours"`},
		{"calendar id", setAt("support.calendars.0.id", "Always"), "support.calendars[0].id", "does not match the pattern ^[a-z][a-z0-9_-]{0,63}$"},
		{"24x7 with a time zone", setAt("support.calendars.0.time_zone", "UTC"), "support.calendars[0].time_zone", `is only allowed when kind is "business_hours"`},
		{"24x7 with hours", setAt("support.calendars.0.hours", list(obj("days", list("mon"), "from", "08:00", "to", "18:00"))), "support.calendars[0].hours", `is only allowed when kind is "business_hours"`},
		{"24x7 with empty holidays", setAt("support.calendars.0.holidays", list()), "support.calendars[0].holidays", `is only allowed when kind is "business_hours"`},
		{"business hours without time zone", delAt("support.calendars.1.time_zone"), "support.calendars[1].time_zone", "is required"},
		{"business hours without hours", delAt("support.calendars.1.hours"), "support.calendars[1].hours", "is required"},
		{"business hours with empty hours", setAt("support.calendars.1.hours", list()), "support.calendars[1].hours", "array must have at least 1 items"},
		{"time zone lower case", setAt("support.calendars.1.time_zone", "posixrules"), "support.calendars[1].time_zone", "does not match the pattern ^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*){0,2}$"},
		{"time zone of the host", setAt("support.calendars.1.time_zone", "right/Europe/Rome"), "support.calendars[1].time_zone", "does not match the pattern ^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*){0,2}$"},
		{"time zone offset", setAt("support.calendars.1.time_zone", "+01:00"), "support.calendars[1].time_zone", "does not match the pattern ^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*){0,2}$"},
		{"day name", setAt("support.calendars.1.hours.0.days.0", "monday"), "support.calendars[1].hours[0].days[0]", `must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun"`},
		{"no days", setAt("support.calendars.1.hours.0.days", list()), "support.calendars[1].hours[0].days", "array must have at least 1 items"},
		{"from 24:00", setAt("support.calendars.1.hours.0.from", "24:00"), "support.calendars[1].hours[0].from", "does not match the pattern ^([01][0-9]|2[0-3]):[0-5][0-9]$"},
		{"from one digit hour", setAt("support.calendars.1.hours.0.from", "8:00"), "support.calendars[1].hours[0].from", "does not match the pattern ^([01][0-9]|2[0-3]):[0-5][0-9]$"},
		{"to 24:30", setAt("support.calendars.1.hours.0.to", "24:30"), "support.calendars[1].hours[0].to", "does not match the pattern ^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"},
		{"to with seconds", setAt("support.calendars.1.hours.0.to", "18:00:00"), "support.calendars[1].hours[0].to", "does not match the pattern ^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"},
		{"from as minutes", setAt("support.calendars.1.hours.0.from", num("480")), "support.calendars[1].hours[0].from", "must be of type string, not integer"},
		{"holiday format", setAt("support.calendars.1.holidays.0", "2026-1-1"), "support.calendars[1].holidays[0]", "does not match the pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
		// Schema: targets, statuses, escalation, penalties, objectives.
		{"target zero", setAt("support.severities.0.acceptance.target_ms", num("0")), "support.severities[0].acceptance.target_ms", "must be greater than or equal to 1"},
		{"target above 366 days", setAt("support.severities.3.closure.target_ms", num("31622400001")), "support.severities[3].closure.target_ms", "must be less than or equal to 31622400000"},
		{"target as string", setAt("support.severities.0.acceptance.target_ms", "1200000"), "support.severities[0].acceptance.target_ms", "must be of type integer, not string"},
		{"target with exponent", setAt("support.severities.0.acceptance.target_ms", num("1.2e6")), "support.severities[0].acceptance.target_ms", "must be an integer written without fraction or exponent, not 1.2e6"},
		{"target with fraction", setAt("support.severities.0.closure.target_ms", num("14400000.5")), "support.severities[0].closure.target_ms", "must be of type integer, not number"},
		{"severity id", setAt("support.severities.0.id", "P1 critical"), "support.severities[0].id", "does not match the pattern ^[a-z][a-z0-9_-]{0,63}$"},
		{"severity change", setAt("support.severity_change", "reset"), "support.severity_change", `must be one of "keep_elapsed", "restart"`},
		{"pause status syntax", setAt("support.pause_statuses.0", "Waiting on customer"), "support.pause_statuses[0]", "does not match the pattern ^[a-z][a-z0-9_]{0,63}$"},
		{"six escalation levels", setAt("support.escalation", list(level(1000, "provider"), level(2000, "provider"), level(3000, "provider"), level(4000, "provider"), level(5000, "provider"), level(6000, "provider"))), "support.escalation", "array must have at most 5 items"},
		{"escalation at 0", setAt("support.escalation.0.at_bps", num("0")), "support.escalation[0].at_bps", "must be greater than or equal to 1"},
		{"escalation above 10000", setAt("support.escalation.2.at_bps", num("10001")), "support.escalation[2].at_bps", "must be less than or equal to 10000"},
		{"escalation without parties", setAt("support.escalation.0.notify", list()), "support.escalation[0].notify", "array must have at least 1 items"},
		{"escalation to the client", setAt("support.escalation.0.notify.0", "client"), "support.escalation[0].notify[0]", `must be one of "provider", "vendor", "customer"`},
		{"penalty target", setAt("support.penalties.0.target", "response"), "support.penalties[0].target", `must be one of "acceptance", "closure"`},
		{"negative penalty", setAt("support.penalties.0.amount_minor", num("-1")), "support.penalties[0].amount_minor", "must be greater than or equal to 0"},
		{"penalty without amount", delAt("support.penalties.1.amount_minor"), "support.penalties[1].amount_minor", "is required"},
		{"objective operator", setAt("support.objectives.0.operator", ">="), "support.objectives[0].operator", `must be one of "<=", "<"`},
		{"objective measure", setAt("support.objectives.1.measure", "both"), "support.objectives[1].measure", `must be one of "acceptance", "closure"`},
		{"objective target zero", setAt("support.objectives.1.target_ms", num("0")), "support.objectives[1].target_ms", "must be greater than or equal to 1"},
		{"duplicate key in support", nil, "support.severity_change", `duplicate key "severity_change" in object`},
		// Semantic: calendars.
		{"duplicate calendar id", setAt("support.calendars.1.id", "always"), "support.calendars[1].id", `duplicate calendar id "always" (also support.calendars[0].id)`},
		{"unknown time zone", setAt("support.calendars.1.time_zone", "Mars/Olympus_Mons"), "support.calendars[1].time_zone", `"Mars/Olympus_Mons" is not a time zone of the IANA time zone database`},
		{"local time zone", setAt("support.calendars.1.time_zone", "Local"), "support.calendars[1].time_zone", `"Local" is not an IANA time zone name like Europe/Rome`},
		{"from after to", both(setAt("support.calendars.1.hours.0.from", "18:00"), setAt("support.calendars.1.hours.0.to", "08:00")), "support.calendars[1].hours[0].to", `"08:00" is not after from "18:00": a range is [from, to) within one day`},
		{"empty range", setAt("support.calendars.1.hours.0.to", "08:00"), "support.calendars[1].hours[0].to", `"08:00" is not after from "08:00": a range is [from, to) within one day`},
		{"overlapping ranges", setAt("support.calendars.1.hours", list(
			obj("days", list("mon", "tue", "wed", "thu", "fri"), "from", "08:00", "to", "18:00"),
			obj("days", list("thu", "fri", "sat"), "from", "17:59", "to", "24:00"))),
			"support.calendars[1].hours[1]", "overlaps support.calendars[1].hours[0] on thu: 17:59-24:00 and 08:00-18:00"},
		{"overlapping range inside another", setAt("support.calendars.1.hours", list(
			obj("days", list("sat"), "from", "00:00", "to", "24:00"),
			obj("days", list("fri"), "from", "08:00", "to", "18:00"),
			obj("days", list("sat"), "from", "10:00", "to", "11:00"))),
			"support.calendars[1].hours[2]", "overlaps support.calendars[1].hours[0] on sat: 10:00-11:00 and 00:00-24:00"},
		{"duplicate day", setAt("support.calendars.1.hours.0.days", list("mon", "tue", "mon")), "support.calendars[1].hours[0].days[2]", `duplicate day "mon" (also days[0])`},
		{"impossible holiday", setAt("support.calendars.1.holidays.1", "2026-02-30"), "support.calendars[1].holidays[1]", `"2026-02-30" is not a valid date`},
		{"unsorted holidays", setAt("support.calendars.1.holidays.1", "2025-12-31"), "support.calendars[1].holidays[1]", `"2025-12-31" is not after holidays[0] "2026-01-01": holidays must be sorted and unique`},
		{"unsorted after an invalid holiday", setAt("support.calendars.1.holidays", list("2026-12-25", "2026-02-30", "2026-01-01")), "support.calendars[1].holidays[2]", `"2026-01-01" is not after holidays[0] "2026-12-25": holidays must be sorted and unique`},
		{"duplicate holiday", setAt("support.calendars.1.holidays.1", "2026-01-01"), "support.calendars[1].holidays[1]", `"2026-01-01" is not after holidays[0] "2026-01-01": holidays must be sorted and unique`},
		// Semantic: severities and targets.
		{"duplicate severity id", setAt("support.severities.3.id", "high"), "support.severities[3].id", `duplicate severity id "high" (also support.severities[1].id)`},
		{"unknown closure calendar", setAt("support.severities.1.closure.calendar", "x"), "support.severities[1].closure.calendar", `"x" is not a calendar id of support.calendars`},
		{"unknown acceptance calendar", setAt("support.severities.0.acceptance.calendar", "weekdays"), "support.severities[0].acceptance.calendar", `"weekdays" is not a calendar id of support.calendars`},
		// Semantic: pause statuses.
		{"pause on a contract status", setAt("support.pause_statuses.1", "resolved"), "support.pause_statuses[1]", `"resolved" is a status the ticket chaincode drives (open, assigned, acknowledged, in_progress, resolved, closed); a pause status must be another one`},
		{"duplicate pause status", setAt("support.pause_statuses.1", "waiting_on_customer"), "support.pause_statuses[1]", `duplicate pause status "waiting_on_customer" (also support.pause_statuses[0])`},
		// Semantic: escalation.
		{"escalation not increasing", setAt("support.escalation.1.at_bps", num("5000")), "support.escalation[1].at_bps", "5000 is not above support.escalation[0].at_bps (5000): levels must be in strictly increasing order of at_bps"},
		{"escalation decreasing", setAt("support.escalation.2.at_bps", num("7000")), "support.escalation[2].at_bps", "7000 is not above support.escalation[1].at_bps (7500): levels must be in strictly increasing order of at_bps"},
		{"party notified twice", setAt("support.escalation.1.notify", list("vendor", "provider", "vendor")), "support.escalation[1].notify[2]", `duplicate party "vendor" (also notify[0])`},
		// Semantic: penalties and objectives.
		{"penalty of an unknown severity", setAt("support.penalties.2.severity", "urgent"), "support.penalties[2].severity", `"urgent" is not a severity id of support.severities`},
		{"two penalties for one target", setAt("support.penalties.3.target", "acceptance"), "support.penalties[3].target", `severity "high" already has a acceptance penalty (support.penalties[2])`},
		{"duplicate objective id", setAt("support.objectives.1.id", "ticket-mttrespond"), "support.objectives[1].id", `duplicate objective id "ticket-mttrespond" (also support.objectives[0].id)`},
		{"objective id of a metric", setAt("support.objectives.0.id", "mttrespond"), "support.objectives[0].id", `"mttrespond" is also a metric id: objectives and metrics are settled side by side, so their ids must differ`},
	}
	base := readFile(t, telecomFile)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc []byte
			if tc.mutate == nil {
				// A duplicate key cannot be written through a map.
				doc = []byte(strings.Replace(string(base), `"severity_change": "keep_elapsed",`, `"severity_change": "keep_elapsed", "severity_change": "restart",`, 1))
			} else {
				m := loadTree(t, base)
				tc.mutate(t, m)
				doc = encodeTree(t, m)
			}
			s, err := Parse(doc)
			if err == nil || s != nil {
				t.Fatalf("accepted: %v, %v", s, err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			if got := ve.Reasons(tc.path); !reflect.DeepEqual(got, []string{tc.reason}) {
				t.Errorf("problems at %s = %q, want %q; all problems:\n%v", tc.path, got, tc.reason, err)
			}
		})
	}
}

// TestSupportProblemsAtOnce checks that every problem of the support
// section is reported in one error, together with the other sections'.
func TestSupportProblemsAtOnce(t *testing.T) {
	m := loadTree(t, readFile(t, telecomFile))
	setPath(t, m, "price.currency", "eur")
	setPath(t, m, "support.calendars.1.time_zone", "Europe/Atlantis")
	cals := m["support"].(map[string]any)["calendars"].([]any)
	m["support"].(map[string]any)["calendars"] = append(cals, obj("id", "always", "kind", "24x7"))
	setPath(t, m, "support.severities.1.closure.calendar", "x")
	setPath(t, m, "support.pause_statuses.0", "closed")
	setPath(t, m, "support.escalation.1.at_bps", json.Number("4000"))
	setPath(t, m, "support.penalties.0.severity", "urgent")
	setPath(t, m, "support.objectives.1.operator", ">")
	_, err := Parse(encodeTree(t, m))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	want := []string{
		"price.currency",
		"support.calendars[1].time_zone",
		"support.calendars[2].id",
		"support.escalation[1].at_bps",
		"support.objectives[1].operator",
		"support.pause_statuses[0]",
		"support.penalties[0].severity",
		"support.severities[1].closure.calendar",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths =\n%s\nwant\n%s\nerror:\n%v", strings.Join(paths, "\n"), strings.Join(want, "\n"), err)
	}
}

// TestSupportAcceptedVariants checks support sections that must be valid.
func TestSupportAcceptedVariants(t *testing.T) {
	cases := []struct {
		name   string
		mutate mutation
	}{
		{"minimal section", setAt("support", obj(
			"calendars", list(obj("id", "always", "kind", "24x7")),
			"severities", list(obj("id", "critical",
				"acceptance", obj("target_ms", 1, "calendar", "always"),
				"closure", obj("target_ms", 31622400000, "calendar", "always"))),
			"severity_change", "restart"))},
		{"empty optional lists", both(setAt("support.pause_statuses", list()), setAt("support.escalation", list()),
			setAt("support.penalties", list()), setAt("support.objectives", list()), setAt("support.calendars.1.holidays", list()))},
		{"range to the end of the day", setAt("support.calendars.1.hours.0.to", "24:00")},
		{"adjacent ranges", setAt("support.calendars.1.hours", list(
			obj("days", list("mon", "tue", "wed", "thu", "fri"), "from", "08:00", "to", "12:00"),
			obj("days", list("fri", "mon", "thu", "tue", "wed"), "from", "12:00", "to", "18:00"),
			obj("days", list("sat"), "from", "00:00", "to", "00:01")))},
		{"same hours on other days", setAt("support.calendars.1.hours", list(
			obj("days", list("mon"), "from", "08:00", "to", "18:00"),
			obj("days", list("tue"), "from", "08:00", "to", "18:00")))},
		{"time zone UTC", setAt("support.calendars.1.time_zone", "UTC")},
		{"time zone of three segments", setAt("support.calendars.1.time_zone", "America/Argentina/Buenos_Aires")},
		{"time zone with sign", setAt("support.calendars.1.time_zone", "Etc/GMT-14")},
		{"only business-hours calendars", both(setAt("support.calendars.0.kind", "business_hours"),
			setAt("support.calendars.0.time_zone", "America/New_York"),
			setAt("support.calendars.0.hours", list(obj("days", list("sun", "sat", "mon", "tue", "wed", "thu", "fri"), "from", "00:00", "to", "24:00"))))},
		{"leap day holiday", setAt("support.calendars.1.holidays", list("2028-02-29"))},
		{"one escalation level at the breach", setAt("support.escalation", list(obj("at_bps", 10000, "notify", list("customer", "vendor", "provider"))))},
		{"zero penalty", setAt("support.penalties.0.amount_minor", 0)},
		{"objectives on one measure", setAt("support.objectives.1.measure", "acceptance")},
		{"strict objective", setAt("support.objectives.0.operator", "<")},
		{"custom pause status", setAt("support.pause_statuses", list("waiting_on_third_party", "customer_caused", "planned_maintenance"))},
	}
	base := readFile(t, telecomFile)
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

func TestSupportModel(t *testing.T) {
	s := mustParse(t, readFile(t, telecomFile))
	sup := s.Support
	if sup == nil {
		t.Fatal("telecom example has no support section")
	}
	want := SupportCalendar{
		ID: "office", Kind: CalendarBusinessHours, TimeZone: "Europe/Rome",
		Hours:    []HoursRange{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00"}},
		Holidays: []string{"2026-01-01", "2026-01-06", "2026-04-06", "2026-05-01", "2026-06-02", "2026-12-08", "2026-12-25"},
	}
	if c, ok := sup.LookupCalendar("office"); !ok || !reflect.DeepEqual(*c, want) {
		t.Errorf("calendar office = %+v", c)
	}
	if c, ok := sup.LookupCalendar("always"); !ok || !reflect.DeepEqual(*c, SupportCalendar{ID: "always", Kind: CalendarTwentyFourSeven}) {
		t.Errorf("calendar always = %+v", c)
	}
	crit, ok := sup.Severity("critical")
	if !ok || crit.Acceptance != (Target{1200000, "always"}) || crit.Closure != (Target{14400000, "always"}) {
		t.Errorf("critical = %+v", crit)
	}
	if crit.Acceptance.Duration() != 20*time.Minute || crit.Closure.Duration() != 4*time.Hour {
		t.Errorf("critical targets %v, %v; want the whitepaper's 20m and 4h", crit.Acceptance.Duration(), crit.Closure.Duration())
	}
	var ids []string
	for _, sev := range sup.Severities {
		ids = append(ids, sev.ID)
		if sev.ID != "critical" && (sev.Acceptance.Calendar != "office" || sev.Closure.Calendar != "office") {
			t.Errorf("severity %s is not counted in business hours: %+v", sev.ID, sev)
		}
	}
	if !reflect.DeepEqual(ids, []string{"critical", "high", "medium", "low"}) {
		t.Errorf("severities %v", ids)
	}
	if !reflect.DeepEqual(sup.PauseStatuses, []string{"waiting_on_customer", "customer_caused"}) || sup.SeverityChange != SeverityChangeKeepElapsed {
		t.Errorf("pauses %v, severity change %q", sup.PauseStatuses, sup.SeverityChange)
	}
	var at []int64
	for _, e := range sup.Escalation {
		at = append(at, e.AtBPS)
	}
	if !reflect.DeepEqual(at, []int64{5000, 7500, 10000}) || !reflect.DeepEqual(sup.Escalation[2].Notify, []string{NotifyProvider, NotifyVendor, NotifyCustomer}) {
		t.Errorf("escalation %+v", sup.Escalation)
	}
	for _, p := range []struct {
		sev, target string
		amount      int64
		ok          bool
	}{
		{"critical", TargetAcceptance, 5000, true}, {"critical", TargetClosure, 20000, true},
		{"high", TargetAcceptance, 2500, true}, {"high", TargetClosure, 10000, true},
		{"medium", TargetAcceptance, 0, false}, {"low", TargetClosure, 0, false}, {"critical", "other", 0, false},
	} {
		if amount, ok := sup.Penalty(p.sev, p.target); amount != p.amount || ok != p.ok {
			t.Errorf("Penalty(%s, %s) = %d, %v", p.sev, p.target, amount, ok)
		}
	}
	if !reflect.DeepEqual(sup.Objectives, []SupportObjective{
		{"ticket-mttrespond", TargetAcceptance, OpLE, 1200000},
		{"ticket-mttresolve", TargetClosure, OpLE, 14400000},
	}) {
		t.Errorf("objectives %+v", sup.Objectives)
	}
	if _, ok := sup.Severity("urgent"); ok {
		t.Error("Severity(urgent) found")
	}
	if _, ok := sup.LookupCalendar("never"); ok {
		t.Error("LookupCalendar(never) found")
	}
	var none *Support
	if _, ok := none.Severity("critical"); ok {
		t.Error("nil Support has a severity")
	}
	if _, ok := none.LookupCalendar("always"); ok {
		t.Error("nil Support has a calendar")
	}
	if _, ok := none.Penalty("critical", TargetClosure); ok {
		t.Error("nil Support has a penalty")
	}
}

func TestParseClockDayDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // -1 for an error
	}{
		{"00:00", 0}, {"08:30", 510}, {"23:59", 1439}, {"24:00", 1440}, {"12:00", 720},
		{"24:01", -1}, {"25:00", -1}, {"8:00", -1}, {"08:60", -1}, {"08:00:00", -1}, {"", -1}, {"0800", -1}, {"-1:00", -1},
	} {
		got, err := ParseClock(tc.in)
		if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	days := map[string]time.Weekday{"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday}
	for name, want := range days {
		if d, ok := ParseDay(name); !ok || d != want {
			t.Errorf("ParseDay(%q) = %v, %v", name, d, ok)
		}
	}
	for _, bad := range []string{"Mon", "monday", "", "mo"} {
		if _, ok := ParseDay(bad); ok {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
	if d, err := ParseDate("2026-12-25"); err != nil || !d.Equal(time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2026-02-29", "2026-13-01", "2026-1-1", "26-01-01", "2026-01-01T00:00:00Z", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}

func TestLoadTimeZone(t *testing.T) {
	for _, name := range []string{"Europe/Rome", "UTC", "America/New_York", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata"} {
		loc, err := LoadTimeZone(name)
		if err != nil || loc.String() != name {
			t.Errorf("LoadTimeZone(%q) = %v, %v", name, loc, err)
		}
	}
	rome, _ := LoadTimeZone("Europe/Rome")
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, rome).Zone(); off != 2*3600 {
		t.Errorf("Europe/Rome in July is UTC%+d s, want +7200", off)
	}
	for _, bad := range []string{"Local", "", "localtime", "posixrules", "posix/Europe/Rome", "right/UTC", "Europe/Atlantis", "Europe/../etc/passwd", "/etc/localtime", "Europe//Rome", "europe/rome", "A/B/C/D", strings.Repeat("A", 65)} {
		if loc, err := LoadTimeZone(bad); err == nil {
			t.Errorf("LoadTimeZone(%q) = %v, want an error", bad, loc)
		}
	}
}

// TestSupportDigest pins the canonical digest of the telecom example with
// its support section, and checks that the section leaves the digest of a
// document without it unchanged.
func TestSupportDigest(t *testing.T) {
	data := readFile(t, telecomFile)
	d, s, err := DigestOf(data)
	if err != nil {
		t.Fatal(err)
	}
	if h := hex.EncodeToString(d[:]); h != telecomDigest || mustDigestHex(t, s) != h {
		t.Errorf("telecom digest = %s (DigestHex %s), want %s", h, mustDigestHex(t, s), telecomDigest)
	}
	c, err := Canonical(s)
	if err != nil {
		t.Fatal(err)
	}
	const tail = `"support":{"calendars":[{"id":"always","kind":"24x7"},{"holidays":["2026-01-01",`
	if !strings.Contains(string(c), tail) {
		t.Errorf("canonical form does not contain %s:\n%s", tail, c)
	}
	// The canonical form is a fixed point and parses to the same model.
	s2 := mustParse(t, c)
	if !reflect.DeepEqual(s, s2) || mustDigestHex(t, s2) != telecomDigest {
		t.Error("the canonical form does not give the same SLA back")
	}
	// Removing the section, in the model or in the document, gives the
	// digest the example had before it.
	s.Support = nil
	if h := mustDigestHex(t, s); h != telecomNoSupportDigest {
		t.Errorf("digest without support = %s, want %s", h, telecomNoSupportDigest)
	}
	m := loadTree(t, data)
	delPath(t, m, "support")
	if h := mustDigestHex(t, mustParse(t, encodeTree(t, m))); h != telecomNoSupportDigest {
		t.Errorf("digest of the document without support = %s, want %s", h, telecomNoSupportDigest)
	}
	// Empty optional lists spelled out give the same digest.
	m = loadTree(t, data)
	setPath(t, m, "support.calendars.1.holidays", list())
	setPath(t, m, "support.pause_statuses", list())
	setPath(t, m, "support.escalation", list())
	setPath(t, m, "support.penalties", list())
	setPath(t, m, "support.objectives", list())
	empty := mustParse(t, encodeTree(t, m))
	m = loadTree(t, data)
	delPath(t, m, "support.calendars.1.holidays")
	delPath(t, m, "support.pause_statuses")
	delPath(t, m, "support.escalation")
	delPath(t, m, "support.penalties")
	delPath(t, m, "support.objectives")
	left := mustParse(t, encodeTree(t, m))
	if a, b := mustDigestHex(t, empty), mustDigestHex(t, left); a != b || a == telecomDigest {
		t.Errorf("empty lists give %s, left out %s", a, b)
	}
}

// TestCanonicalSupportNilLists checks that the support section's required
// lists are written as [] when nil, without changing the argument.
func TestCanonicalSupportNilLists(t *testing.T) {
	a := &SLA{Support: &Support{
		Calendars:  []SupportCalendar{{ID: "office", Hours: []HoursRange{{From: "08:00"}}}},
		Escalation: []Escalation{{AtBPS: 5000}},
	}}
	b := &SLA{Support: &Support{
		Calendars:  []SupportCalendar{{ID: "office", Hours: []HoursRange{{Days: []string{}, From: "08:00"}}}},
		Severities: []Severity{},
		Escalation: []Escalation{{AtBPS: 5000, Notify: []string{}}},
	}}
	ca, err := Canonical(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Canonical(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ca) != string(cb) || strings.Contains(string(ca), "null") {
		t.Errorf("nil and empty lists differ:\n%s\n%s", ca, cb)
	}
	if a.Support.Severities != nil || a.Support.Calendars[0].Hours[0].Days != nil || a.Support.Escalation[0].Notify != nil {
		t.Error("Canonical modified its argument")
	}
	if !strings.Contains(string(ca), `"support":{"calendars":[{"hours":[{"days":[],"from":"08:00","to":""}],"id":"office","kind":""}],"escalation":[{"at_bps":5000,"notify":[]}],"severities":[],"severity_change":""}`) {
		t.Errorf("canonical support section: %s", ca)
	}
}

// TestTimeZoneNames checks the generated list of time zone names: sorted,
// unique, every name matching the schema's pattern and loading; and, when
// the Go installation's zoneinfo.zip (the data time/tzdata embeds) can be
// read, equal to its names, so that a Go upgrade that changes the database
// is noticed (run go generate ./sla).
func TestTimeZoneNames(t *testing.T) {
	names := strings.Split(timeZoneNames, "\n")
	if len(names) < 400 || !sort.StringsAreSorted(names) {
		t.Fatalf("%d names, sorted %v", len(names), sort.StringsAreSorted(names))
	}
	for i, name := range names {
		if i > 0 && names[i-1] == name {
			t.Errorf("%q twice", name)
		}
		if !IsTimeZone(name) {
			t.Errorf("IsTimeZone(%q) = false", name)
		}
		if _, err := LoadTimeZone(name); err != nil {
			t.Errorf("LoadTimeZone(%q): %v", name, err)
		}
	}
	zr, err := zip.OpenReader(filepath.Join(build.Default.GOROOT, "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("cannot compare with the Go installation's time zone database: %v", err)
	}
	defer zr.Close()
	var inZip []string
	for _, f := range zr.File {
		inZip = append(inZip, f.Name)
	}
	sort.Strings(inZip)
	if !reflect.DeepEqual(inZip, names) {
		t.Errorf("timezones.go (%d names) is not the time zone database of this Go installation (%d names): run go generate ./sla", len(names), len(inZip))
	}
}

// TestSupportDocExample checks that the support section shown in
// schemas/README.md is the telecom example's.
func TestSupportDocExample(t *testing.T) {
	doc := string(readFile(t, "../schemas/README.md"))
	_, section, ok := strings.Cut(doc, "\n## Support (trouble tickets)\n")
	if !ok {
		t.Fatal(`schemas/README.md has no section "Support (trouble tickets)"`)
	}
	_, block, ok := strings.Cut(section, "\n```json\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```\n")
	}
	if !ok {
		t.Fatal("the section has no json block")
	}
	var shown, example map[string]any
	if err := json.Unmarshal([]byte("{"+block+"}"), &shown); err != nil {
		t.Fatalf("the json block does not decode: %v", err)
	}
	if err := json.Unmarshal(readFile(t, telecomFile), &example); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shown["support"], example["support"]) {
		t.Errorf("schemas/README.md shows another support section than %s", telecomFile)
	}
}
