package calendar

import (
	"testing"
	"time"
)

// weekdays returns the range [from, to) on each of days.
func weekdays(from, to int, days ...time.Weekday) []Range {
	rs := make([]Range, 0, len(days))
	for _, d := range days {
		rs = append(rs, Range{Day: d, From: from, To: to})
	}
	return rs
}

var (
	monFri   = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

	// officeSpec: Europe/Rome, Monday to Friday 08:00–18:00, Christmas, St Stephen's day and New Year off.
	officeSpec = Spec{TimeZone: "Europe/Rome", Hours: weekdays(480, 1080, monFri...),
		Holidays: []string{"2026-04-06", "2026-12-25", "2026-12-26", "2027-01-01"}}
)

func mustNew(t testing.TB, s Spec) *Calendar {
	t.Helper()
	c, err := New(s)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return c
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := loadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" (or with seconds) as wall-clock time in loc; a trailing zone abbreviation
// ("01:30 EST") picks the occurrence of a repeated wall-clock time.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02 15:04 MST", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if tm, err := time.ParseInLocation(layout, s, loc); err == nil {
			return tm
		}
	}
	t.Fatalf("bad time %q", s)
	return time.Time{}
}

func TestDeadline(t *testing.T) {
	rome := mustZone(t, "Europe/Rome")
	ny := mustZone(t, "America/New_York")
	r := func(s string) time.Time { return at(t, rome, s) }
	n := func(s string) time.Time { return at(t, ny, s) }
	cals := map[string]Spec{
		"24x7":   {TwentyFourSeven: true},
		"office": officeSpec,
		// Every day 08:00–18:00, 00:00–24:00 and 01:00–03:00 around the DST changes.
		"rome7":   {TimeZone: "Europe/Rome", Hours: weekdays(480, 1080, everyDay...)},
		"rome24":  {TimeZone: "Europe/Rome", Hours: weekdays(0, 1440, everyDay...)},
		"romeGap": {TimeZone: "Europe/Rome", Hours: weekdays(150, 240, everyDay...)},
		"ny7":     {TimeZone: "America/New_York", Hours: weekdays(480, 1080, everyDay...)},
		"ny24":    {TimeZone: "America/New_York", Hours: weekdays(0, 1440, everyDay...)},
		"nyRep":   {TimeZone: "America/New_York", Hours: weekdays(90, 120, everyDay...)},
	}
	tests := []struct {
		name   string
		cal    string
		start  time.Time
		target time.Duration
		pauses []Interval
		want   time.Time
		wantOK bool
	}{
		{"24x7", "24x7", r("2026-03-07 22:00"), 4 * time.Hour, nil, r("2026-03-08 02:00"), true},
		{"24x7 with pauses", "24x7", r("2026-03-07 22:00"), 4 * time.Hour,
			[]Interval{{r("2026-03-07 23:00"), r("2026-03-08 00:30")}, {r("2026-03-08 00:00"), r("2026-03-08 01:00")}},
			r("2026-03-08 04:00"), true},
		{"24x7 open pause", "24x7", r("2026-03-07 22:00"), 4 * time.Hour,
			[]Interval{{From: r("2026-03-08 01:00")}}, time.Time{}, false},
		{"target zero on a weekend", "office", r("2026-03-07 11:00"), 0, nil, r("2026-03-07 11:00"), true},
		{"within one day", "office", r("2026-03-02 09:00"), 4 * time.Hour, nil, r("2026-03-02 13:00"), true},
		{"to the second", "office", r("2026-03-02 09:00:10"), 4*time.Hour + 7*time.Second + 3, nil,
			r("2026-03-02 13:00:17").Add(3), true},
		{"exactly to closing", "office", r("2026-03-02 08:00"), 10 * time.Hour, nil, r("2026-03-02 18:00"), true},
		{"before opening", "office", r("2026-03-02 06:30"), 2 * time.Hour, nil, r("2026-03-02 10:00"), true},
		{"after closing", "office", r("2026-03-02 19:00"), 2 * time.Hour, nil, r("2026-03-03 10:00"), true},
		{"on a weekend", "office", r("2026-03-07 11:00"), 2 * time.Hour, nil, r("2026-03-09 10:00"), true},
		{"across a weekend", "office", r("2026-03-06 16:00"), 4 * time.Hour, nil, r("2026-03-09 10:00"), true},
		{"two weeks", "office", r("2026-03-02 08:00"), 100 * time.Hour, nil, r("2026-03-13 18:00"), true},
		{"six weeks with Easter Monday", "office", r("2026-03-30 08:00"), 300 * time.Hour, nil, r("2026-05-11 18:00"), true},
		{"across a holiday and the weekend", "office", r("2026-12-24 17:00"), 3 * time.Hour, nil, r("2026-12-28 10:00"), true},
		{"across New Year", "office", r("2026-12-31 17:00"), 2 * time.Hour, nil, r("2027-01-04 09:00"), true},
		{"pause across a holiday", "office", r("2026-12-24 17:00"), 3 * time.Hour,
			[]Interval{{r("2026-12-24 17:30"), r("2026-12-28 09:00")}}, r("2026-12-28 11:30"), true},
		{"pause over closed hours", "office", r("2026-03-02 16:00"), 4 * time.Hour,
			[]Interval{{r("2026-03-02 17:00"), r("2026-03-03 09:00")}}, r("2026-03-03 12:00"), true},
		{"pause only in closed hours", "office", r("2026-03-06 16:00"), 4 * time.Hour,
			[]Interval{{r("2026-03-06 18:00"), r("2026-03-09 08:00")}}, r("2026-03-09 10:00"), true},
		{"overlapping pauses", "office", r("2026-03-02 09:00"), 4 * time.Hour,
			[]Interval{{r("2026-03-02 10:30"), r("2026-03-02 12:00")}, {r("2026-03-02 10:00"), r("2026-03-02 11:00")},
				{r("2026-03-02 11:00"), r("2026-03-02 11:30")}}, r("2026-03-02 15:00"), true},
		{"pause begun before start", "office", r("2026-03-02 09:00"), time.Hour,
			[]Interval{{r("2026-03-02 08:00"), r("2026-03-02 10:00")}}, r("2026-03-02 11:00"), true},
		{"empty pauses ignored", "office", r("2026-03-02 09:00"), time.Hour,
			[]Interval{{r("2026-03-02 09:30"), r("2026-03-02 09:30")}, {r("2026-03-02 09:30"), r("2026-03-02 09:00")}},
			r("2026-03-02 10:00"), true},
		{"open pause before the target", "office", r("2026-03-02 09:00"), 4 * time.Hour,
			[]Interval{{From: r("2026-03-02 11:00")}}, time.Time{}, false},
		{"open pause before start", "office", r("2026-03-02 09:00"), time.Nanosecond,
			[]Interval{{From: r("2026-03-01 11:00")}}, time.Time{}, false},
		{"open pause at the deadline", "office", r("2026-03-02 09:00"), 4 * time.Hour,
			[]Interval{{From: r("2026-03-02 13:00")}}, r("2026-03-02 13:00"), true},
		{"open pause after the deadline", "office", r("2026-03-02 09:00"), 4 * time.Hour,
			[]Interval{{From: r("2026-03-02 13:01")}}, r("2026-03-02 13:00"), true},
		{"open pause in closed hours after the deadline", "office", r("2026-03-02 16:00"), 2 * time.Hour,
			[]Interval{{From: r("2026-03-02 18:00")}}, r("2026-03-02 18:00"), true},
		{"closed pause running into an open one", "office", r("2026-03-02 09:00"), 4 * time.Hour,
			[]Interval{{From: r("2026-03-02 12:00")}, {r("2026-03-02 11:00"), r("2026-03-02 14:00")}}, time.Time{}, false},

		// Europe/Rome: 2026-03-29 02:00 CET → 03:00 CEST, 2026-10-25 03:00 CEST → 02:00 CET.
		{"Rome spring forward, business hours", "rome7", r("2026-03-28 17:00"), 2 * time.Hour, nil,
			time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC), true},
		{"Rome spring forward, whole day", "rome24", r("2026-03-29 00:00"), 3 * time.Hour, nil,
			time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC), true},
		{"Rome spring forward, through the gap", "rome24", r("2026-03-29 01:30"), time.Hour, nil,
			r("2026-03-29 03:30"), true},
		{"Rome spring forward, range in the gap", "romeGap", r("2026-03-29 00:00"), 20 * time.Minute, nil,
			r("2026-03-29 03:50"), true},
		{"Rome fall back, business hours", "rome7", r("2026-10-24 17:00"), 2 * time.Hour, nil,
			time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC), true},
		{"Rome fall back, whole day", "rome24", r("2026-10-25 00:00"), 4 * time.Hour, nil,
			time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC), true},
		// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT, 2026-11-01 02:00 EDT → 01:00 EST.
		{"New York spring forward, business hours", "ny7", n("2026-03-07 17:00"), 2 * time.Hour, nil,
			time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC), true},
		{"New York spring forward, whole day", "ny24", n("2026-03-08 00:00"), 3 * time.Hour, nil,
			n("2026-03-08 04:00"), true},
		{"New York fall back, business hours", "ny7", n("2026-10-31 17:00"), 2 * time.Hour, nil,
			time.Date(2026, 11, 1, 14, 0, 0, 0, time.UTC), true},
		{"New York fall back, whole day", "ny24", n("2026-11-01 00:00"), 2 * time.Hour, nil,
			n("2026-11-01 01:00 EST"), true},
		{"New York fall back, repeated range", "nyRep", n("2026-11-01 00:00"), time.Hour, nil,
			n("2026-11-01 01:30 EST"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, cals[tc.cal])
			got, ok := c.Deadline(tc.start, tc.target, tc.pauses)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Fatalf("Deadline = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
			if ok {
				if got.Location() != tc.start.Location() {
					t.Errorf("Deadline location %v, want start's %v", got.Location(), tc.start.Location())
				}
				if e := c.Elapsed(tc.start, got, tc.pauses); e != tc.target {
					t.Errorf("Elapsed(start, deadline) = %v, want %v", e, tc.target)
				}
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	rome := mustZone(t, "Europe/Rome")
	ny := mustZone(t, "America/New_York")
	r := func(s string) time.Time { return at(t, rome, s) }
	n := func(s string) time.Time { return at(t, ny, s) }
	tests := []struct {
		name       string
		spec       Spec
		start, end time.Time
		pauses     []Interval
		want       time.Duration
	}{
		{"24x7", Spec{TwentyFourSeven: true}, r("2026-03-02 09:00"), r("2026-03-03 09:30"), nil, 24*time.Hour + 30*time.Minute},
		{"end before start", officeSpec, r("2026-03-03 09:00"), r("2026-03-02 09:00"), nil, 0},
		{"one week", officeSpec, r("2026-03-02 00:00"), r("2026-03-09 00:00"), nil, 50 * time.Hour},
		{"week with Easter Monday", officeSpec, r("2026-04-06 00:00"), r("2026-04-13 00:00"), nil, 40 * time.Hour},
		{"weekend", officeSpec, r("2026-03-06 18:00"), r("2026-03-09 08:00"), nil, 0},
		{"open pause", officeSpec, r("2026-03-02 09:00"), r("2026-03-03 12:00"),
			[]Interval{{From: r("2026-03-02 11:00")}}, 2 * time.Hour},
		{"pauses overlapping each other and the night", officeSpec, r("2026-03-02 09:00"), r("2026-03-03 12:00"),
			[]Interval{{r("2026-03-02 17:00"), r("2026-03-03 09:00")}, {r("2026-03-02 16:00"), r("2026-03-02 20:00")},
				{r("2026-03-03 10:00"), r("2026-03-03 10:15")}}, 7*time.Hour + 2*time.Hour + 45*time.Minute},
		{"Rome spring forward 08-18", Spec{TimeZone: "Europe/Rome", Hours: weekdays(480, 1080, time.Sunday)},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, 10 * time.Hour},
		{"Rome spring forward 00-24", Spec{TimeZone: "Europe/Rome", Hours: weekdays(0, 1440, time.Sunday)},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, 23 * time.Hour},
		{"Rome spring forward 01-03", Spec{TimeZone: "Europe/Rome", Hours: weekdays(60, 180, time.Sunday)},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, time.Hour},
		{"Rome spring forward 02:30-04:00", Spec{TimeZone: "Europe/Rome", Hours: weekdays(150, 240, time.Sunday)},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, 30 * time.Minute},
		{"Rome spring forward 02:30-03:00 is empty", Spec{TimeZone: "Europe/Rome", Hours: weekdays(150, 180, time.Sunday)},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, 0},
		{"Rome spring forward, overlapping normalised ranges count once",
			Spec{TimeZone: "Europe/Rome", Hours: []Range{{time.Sunday, 60, 179}, {time.Sunday, 180, 240}}},
			r("2026-03-29 00:00"), r("2026-03-30 00:00"), nil, 2 * time.Hour},
		{"Rome fall back 08-18", Spec{TimeZone: "Europe/Rome", Hours: weekdays(480, 1080, time.Sunday)},
			r("2026-10-25 00:00"), r("2026-10-26 00:00"), nil, 10 * time.Hour},
		{"Rome fall back 00-24", Spec{TimeZone: "Europe/Rome", Hours: weekdays(0, 1440, time.Sunday)},
			r("2026-10-25 00:00"), r("2026-10-26 00:00"), nil, 25 * time.Hour},
		{"Rome fall back 01-03", Spec{TimeZone: "Europe/Rome", Hours: weekdays(60, 180, time.Sunday)},
			r("2026-10-25 00:00"), r("2026-10-26 00:00"), nil, 3 * time.Hour},
		{"Rome fall back 02:30-04:00 from the second 02:30", Spec{TimeZone: "Europe/Rome", Hours: weekdays(150, 240, time.Sunday)},
			r("2026-10-25 00:00"), r("2026-10-26 00:00"), nil, 90 * time.Minute},
		{"New York spring forward 08-18", Spec{TimeZone: "America/New_York", Hours: weekdays(480, 1080, time.Sunday)},
			n("2026-03-08 00:00"), n("2026-03-09 00:00"), nil, 10 * time.Hour},
		{"New York spring forward 00-24", Spec{TimeZone: "America/New_York", Hours: weekdays(0, 1440, time.Sunday)},
			n("2026-03-08 00:00"), n("2026-03-09 00:00"), nil, 23 * time.Hour},
		{"New York spring forward 01-03", Spec{TimeZone: "America/New_York", Hours: weekdays(60, 180, time.Sunday)},
			n("2026-03-08 00:00"), n("2026-03-09 00:00"), nil, time.Hour},
		{"New York fall back 08-18", Spec{TimeZone: "America/New_York", Hours: weekdays(480, 1080, time.Sunday)},
			n("2026-11-01 00:00"), n("2026-11-02 00:00"), nil, 10 * time.Hour},
		{"New York fall back 00-24", Spec{TimeZone: "America/New_York", Hours: weekdays(0, 1440, time.Sunday)},
			n("2026-11-01 00:00"), n("2026-11-02 00:00"), nil, 25 * time.Hour},
		{"New York fall back 01-03", Spec{TimeZone: "America/New_York", Hours: weekdays(60, 180, time.Sunday)},
			n("2026-11-01 00:00"), n("2026-11-02 00:00"), nil, 3 * time.Hour},
		{"New York fall back 01:30-02:00 from the first 01:30", Spec{TimeZone: "America/New_York", Hours: weekdays(90, 120, time.Sunday)},
			n("2026-11-01 00:00"), n("2026-11-02 00:00"), nil, 90 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.spec)
			if got := c.Elapsed(tc.start, tc.end, tc.pauses); got != tc.want {
				t.Fatalf("Elapsed = %v, want %v", got, tc.want)
			}
		})
	}
}
