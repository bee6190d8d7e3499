package calendar

import (
	"testing"
	"time"
)

func TestNewRejects(t *testing.T) {
	office := func(edit func(*Spec)) Spec {
		s := officeSpec
		s.Hours = append([]Range(nil), officeSpec.Hours...)
		s.Holidays = append([]string(nil), officeSpec.Holidays...)
		edit(&s)
		return s
	}
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"24x7 with a time zone", Spec{TwentyFourSeven: true, TimeZone: "UTC"},
			`time_zone: must be empty for a 24x7 calendar, got "UTC"`},
		{"24x7 with hours", Spec{TwentyFourSeven: true, Hours: weekdays(0, 1440, time.Monday)},
			"hours: must be empty for a 24x7 calendar"},
		{"24x7 with holidays", Spec{TwentyFourSeven: true, Holidays: []string{"2026-12-25"}},
			"holidays: must be empty for a 24x7 calendar"},
		{"no time zone", office(func(s *Spec) { s.TimeZone = "" }),
			"time_zone: required for a business-hours calendar"},
		{"unknown time zone", office(func(s *Spec) { s.TimeZone = "Europe/Atlantis" }),
			`time_zone: "Europe/Atlantis" is not an IANA time zone`},
		{"machine's local zone", office(func(s *Spec) { s.TimeZone = "Local" }),
			`time_zone: "Local" is not an IANA time zone`},
		{"no hours", office(func(s *Spec) { s.Hours = nil }),
			"hours: at least one range is required (a calendar without business hours never counts time)"},
		{"empty spec", Spec{},
			"time_zone: required for a business-hours calendar\n" +
				"hours: at least one range is required (a calendar without business hours never counts time)"},
		{"bad weekday", office(func(s *Spec) { s.Hours[2].Day = 7 }),
			"hours[2]: day 7 is not a weekday (0 Sunday .. 6 Saturday)"},
		{"negative weekday", office(func(s *Spec) { s.Hours[0].Day = -1 }),
			"hours[0]: day -1 is not a weekday (0 Sunday .. 6 Saturday)"},
		{"from after to", office(func(s *Spec) { s.Hours[1] = Range{time.Tuesday, 1080, 480} }),
			"hours[1]: [1080, 480) is not a range of minutes after midnight (0 <= from < to <= 1440)"},
		{"empty range", office(func(s *Spec) { s.Hours[1] = Range{time.Tuesday, 480, 480} }),
			"hours[1]: [480, 480) is not a range of minutes after midnight (0 <= from < to <= 1440)"},
		{"negative from", office(func(s *Spec) { s.Hours[1] = Range{time.Tuesday, -1, 480} }),
			"hours[1]: [-1, 480) is not a range of minutes after midnight (0 <= from < to <= 1440)"},
		{"past midnight", office(func(s *Spec) { s.Hours[1] = Range{time.Tuesday, 480, 1441} }),
			"hours[1]: [480, 1441) is not a range of minutes after midnight (0 <= from < to <= 1440)"},
		{"overlapping ranges", office(func(s *Spec) { s.Hours = append(s.Hours, Range{time.Wednesday, 1020, 1200}) }),
			"hours[5]: Wednesday [1020, 1200) overlaps hours[2] [480, 1080)"},
		{"same range twice", office(func(s *Spec) { s.Hours = append(s.Hours, s.Hours[0]) }),
			"hours[5]: Monday [480, 1080) overlaps hours[0] [480, 1080)"},
		{"holiday not a date", office(func(s *Spec) { s.Holidays[0] = "2026-13-01" }),
			`holidays[0]: "2026-13-01" is not a date YYYY-MM-DD`},
		{"holiday 30 February", office(func(s *Spec) { s.Holidays[0] = "2026-02-30" }),
			`holidays[0]: "2026-02-30" is not a date YYYY-MM-DD`},
		{"holiday with a time", office(func(s *Spec) { s.Holidays[3] = "2027-01-01T00:00:00Z" }),
			`holidays[3]: "2027-01-01T00:00:00Z" is not a date YYYY-MM-DD`},
		{"holiday not zero-padded", office(func(s *Spec) { s.Holidays[1] = "2026-12-5" }),
			`holidays[1]: "2026-12-5" is not a date YYYY-MM-DD`},
		{"holidays out of order", office(func(s *Spec) { s.Holidays[1], s.Holidays[2] = s.Holidays[2], s.Holidays[1] }),
			`holidays[2]: "2026-12-25" is not after holidays[1] "2026-12-26" (holidays are sorted and unique)`},
		{"holiday twice", office(func(s *Spec) { s.Holidays[2] = s.Holidays[1] }),
			`holidays[2]: "2026-12-25" is not after holidays[1] "2026-12-25" (holidays are sorted and unique)`},
		{"every problem at once", Spec{TimeZone: "Mars/Olympus", Hours: []Range{{time.Monday, 600, 60}},
			Holidays: []string{"tomorrow"}},
			`time_zone: "Mars/Olympus" is not an IANA time zone` + "\n" +
				"hours[0]: [600, 60) is not a range of minutes after midnight (0 <= from < to <= 1440)\n" +
				`holidays[0]: "tomorrow" is not a date YYYY-MM-DD`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.spec)
			if err == nil {
				t.Fatalf("New accepted %+v", tc.spec)
			}
			if c != nil {
				t.Errorf("New returned a calendar with its error")
			}
			if err.Error() != tc.want {
				t.Fatalf("New error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	for _, s := range []Spec{
		{TwentyFourSeven: true},
		officeSpec,
		{TimeZone: "UTC", Hours: weekdays(0, 1440, time.Saturday)},
		// Adjacent ranges of one day and a whole-day range; unsorted input.
		{TimeZone: "Asia/Tokyo", Hours: []Range{{time.Monday, 780, 1080}, {time.Monday, 540, 780}, {time.Sunday, 0, 1440}},
			Holidays: []string{"2026-01-01", "2026-01-02"}},
	} {
		mustNew(t, s)
	}
}

// TestEmbeddedZones checks that zones come from the embedded database: a zone the system might have under
// another name is not found, and Rome has the rules the tests expect.
func TestEmbeddedZones(t *testing.T) {
	if _, err := loadZone("posixrules"); err == nil {
		t.Error(`loadZone("posixrules") found a zone; only the embedded database's zones exist`)
	}
	if _, err := loadZone("../zoneinfo.zip"); err == nil {
		t.Error("loadZone accepted a path")
	}
	loc := mustZone(t, "Europe/Rome")
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != 2*3600 {
		t.Errorf("Europe/Rome offset in July %d, want 7200", off)
	}
	if mustZone(t, "Europe/Rome") != loc {
		t.Error("loadZone does not cache locations")
	}
}
