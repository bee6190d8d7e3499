package ticket

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/sla"
)

// The outcome arithmetic: integers only, met at exactly the target, the
// margin and the counted time in whole milliseconds truncated towards
// zero, the penalty owed only for a breach.
func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		target  int64
		elapsed time.Duration
		penalty int64
		want    string
	}{
		{1_200_000, 20 * time.Minute, 5000, "met 1200000 0 0"},
		{1_200_000, 20*time.Minute + time.Nanosecond, 5000, "breached 1200000 0 5000"},
		{1_200_000, 20*time.Minute + time.Millisecond, 5000, "breached 1200001 -1 5000"},
		{1_200_000, 30 * time.Minute, 5000, "breached 1800000 -600000 5000"},
		{1_200_000, 0, 5000, "met 0 1200000 0"},
		{1_200_000, 1999999 * time.Microsecond, 0, "met 1999 1198000 0"},
		{1_200_000, 10*time.Minute + 999*time.Microsecond, 7, "met 600000 599999 0"},
		{MaxTargetMS, time.Duration(MaxTargetMS) * time.Millisecond * 2, math.MaxInt64, fmt.Sprintf("breached %d %d %d", 2*int64(MaxTargetMS), -int64(MaxTargetMS), int64(math.MaxInt64))},
	} {
		o := outcome(tc.target, tc.elapsed, tc.penalty)
		if got := fmt.Sprintf("%s %d %d %d", o.Result, o.ElapsedMS, o.MarginMS, o.PenaltyMinor); got != tc.want {
			t.Errorf("outcome(%d, %s, %d) = %s, want %s", tc.target, tc.elapsed, tc.penalty, got, tc.want)
		}
	}
}

// The escalation threshold: elapsed_ms * 10000 >= at_bps * target_ms, no
// overflow at the largest target, and the share used capped at 10000.
func TestReachedAndBPS(t *testing.T) {
	for _, tc := range []struct {
		elapsed time.Duration
		target  int64
		at      int64
		reached bool
		bps     int64
	}{
		{10 * time.Minute, 1_200_000, 5000, true, 5000},
		{10*time.Minute - time.Millisecond, 1_200_000, 5000, false, 4999},
		{10*time.Minute - time.Microsecond, 1_200_000, 5000, false, 4999},
		{0, 1_200_000, 1, false, 0},
		{time.Millisecond, 10_000, 1, true, 1},
		{time.Hour, 1_200_000, 10000, true, 10000},
		{time.Duration(math.MaxInt64), MaxTargetMS, 10000, true, 10000},
		{time.Duration(MaxTargetMS-1) * time.Millisecond, MaxTargetMS, 10000, false, 9999},
		{3, 7, 1, false, 0},
		{time.Millisecond, 3, 3334, false, 3333},
		{time.Millisecond, 3, 3333, true, 3333},
	} {
		if got := reached(tc.elapsed, tc.target, tc.at); got != tc.reached {
			t.Errorf("reached(%s, %d, %d) = %v", tc.elapsed, tc.target, tc.at, got)
		}
		if got := bps(tc.elapsed, tc.target); got != tc.bps {
			t.Errorf("bps(%s, %d) = %d, want %d", tc.elapsed, tc.target, got, tc.bps)
		}
	}
}

// The penalty owed is the sum of the breached targets' penalties.
func TestPenaltyOwed(t *testing.T) {
	r := &TicketRecord{}
	if r.PenaltyOwedMinor() != 0 {
		t.Fatal("nothing decided, something owed")
	}
	met, breached := outcome(10, 5*time.Millisecond, 5000), outcome(10, 11*time.Millisecond, 20000)
	r.Acceptance.Outcome, r.Closure.Outcome = &met, &breached
	if r.PenaltyOwedMinor() != 20000 {
		t.Fatalf("owed %d", r.PenaltyOwedMinor())
	}
	acc := outcome(10, 11*time.Millisecond, 5000)
	r.Acceptance.Outcome = &acc
	if r.PenaltyOwedMinor() != 25000 {
		t.Fatalf("owed %d", r.PenaltyOwedMinor())
	}
}

func support() *sla.Support {
	return &sla.Support{
		Calendars: []sla.SupportCalendar{
			{ID: "always", Kind: sla.CalendarTwentyFourSeven},
			{ID: "office", Kind: sla.CalendarBusinessHours, TimeZone: "Europe/Rome", Holidays: []string{"2026-12-25"},
				Hours: []sla.HoursRange{{Days: []string{"mon", "fri"}, From: "08:00", To: "18:00"}, {Days: []string{"sat"}, From: "09:00", To: "24:00"}}},
		},
		Severities: []sla.Severity{
			{ID: "critical", Acceptance: sla.Target{TargetMS: 1_200_000, Calendar: "always"}, Closure: sla.Target{TargetMS: 14_400_000, Calendar: "office"}},
			{ID: "low", Acceptance: sla.Target{TargetMS: 1, Calendar: "always"}, Closure: sla.Target{TargetMS: 2, Calendar: "always"}},
		},
		PauseStatuses:  []string{"waiting_on_customer"},
		SeverityChange: sla.SeverityChangeRestart,
		Escalation:     []sla.Escalation{{AtBPS: 5000, Notify: []string{"provider"}}},
		Penalties:      []sla.TicketPenalty{{Severity: "critical", Target: "closure", AmountMinor: 700}},
	}
}

// NewTerms takes one severity's terms from a support section.
func TestNewTerms(t *testing.T) {
	tt, err := NewTerms(support(), "EUR", "critical")
	if err != nil {
		t.Fatal(err)
	}
	if tt.Severity != "critical" || tt.Currency != "EUR" || tt.Acceptance.TargetMS != 1_200_000 || tt.Acceptance.Calendar.ID != "always" ||
		tt.Closure.Calendar.ID != "office" || tt.AcceptancePenaltyMinor != 0 || tt.ClosurePenaltyMinor != 700 || tt.SeverityChange != sla.SeverityChangeRestart ||
		fmt.Sprint(tt.PauseStatuses) != "[waiting_on_customer]" || len(tt.Escalation) != 1 || !tt.pauses("waiting_on_customer") || tt.pauses("open") {
		t.Fatalf("terms %+v", tt)
	}
	low, err := NewTerms(&sla.Support{Calendars: support().Calendars, Severities: support().Severities}, "EUR", "low")
	if err != nil || low.PauseStatuses == nil || low.Escalation == nil || low.ClosurePenaltyMinor != 0 {
		t.Fatalf("low %+v %v", low, err)
	}
	for _, tc := range []struct {
		edit     func(*sla.Support)
		severity string
		want     string
	}{
		{func(*sla.Support) {}, "major", `input.severity: "major" is not a severity of the SLA (critical, low)`},
		{func(s *sla.Support) { s.Severities[0].Acceptance.TargetMS = 0 }, "critical", `severity "critical": acceptance target_ms 0 is not in 1..316224000000`},
		{func(s *sla.Support) { s.Severities[0].Closure.TargetMS = MaxTargetMS + 1 }, "critical", `severity "critical": closure target_ms 316224000001 is not in 1..316224000000`},
		{func(s *sla.Support) { s.Severities[0].Closure.Calendar = "nights" }, "critical", `severity "critical": closure calendar "nights" is not a calendar of the SLA`},
		{func(s *sla.Support) { s.Calendars[1].Hours[0].From = "8h" }, "critical", `severity "critical": closure: calendar "office": hours[0].from: "8h" is not a time of day HH:MM from 00:00 to 24:00`},
		{func(s *sla.Support) { s.Calendars[1].Hours[1].To = "25:00" }, "critical", `severity "critical": closure: calendar "office": hours[1].to: "25:00" is not a time of day HH:MM from 00:00 to 24:00`},
		{func(s *sla.Support) { s.Calendars[1].Hours[1].Days = []string{"sun", "Sat"} }, "critical", `severity "critical": closure: calendar "office": hours[1].days[1]: "Sat" is not a week day mon..sun`},
		{func(s *sla.Support) { s.Calendars[1].Kind = "nightly" }, "critical", `severity "critical": closure: calendar "office": kind "nightly" is not 24x7 or business_hours`},
		{func(s *sla.Support) { s.Calendars[0].TimeZone = "UTC" }, "critical", `severity "critical": acceptance: calendar "always": time_zone: must be empty for a 24x7 calendar, got "UTC"`},
	} {
		s := support()
		tc.edit(s)
		if _, err := NewTerms(s, "EUR", tc.severity); err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
	if _, err := NewTerms(nil, "EUR", "critical"); err == nil || err.Error() != "the SLA has no support section: it takes no tickets" {
		t.Errorf("no support: %v", err)
	}
}

// CalendarSpec converts the SLA's calendars for package calendar.
func TestCalendarSpec(t *testing.T) {
	spec, err := CalendarSpec(support().Calendars[1])
	if err != nil {
		t.Fatal(err)
	}
	want := calendar.Spec{TimeZone: "Europe/Rome", Holidays: []string{"2026-12-25"}, Hours: []calendar.Range{
		{Day: time.Monday, From: 480, To: 1080}, {Day: time.Friday, From: 480, To: 1080}, {Day: time.Saturday, From: 540, To: 1440}}}
	if fmt.Sprint(spec) != fmt.Sprint(want) {
		t.Fatalf("spec %+v", spec)
	}
	if spec, err := CalendarSpec(support().Calendars[0]); err != nil || !spec.TwentyFourSeven {
		t.Fatalf("24x7 %+v %v", spec, err)
	}
}
