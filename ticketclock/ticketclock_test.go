package ticketclock

import (
	"testing"
	"time"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/sla"
)

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		target  int64
		elapsed time.Duration
		penalty int64
		want    Judgement
	}{
		{1000, 999 * time.Millisecond, 50, Judgement{ElapsedMS: 999, MarginMS: 1}},
		{1000, time.Second, 50, Judgement{ElapsedMS: 1000}},
		{1000, time.Second + time.Nanosecond, 50, Judgement{Breached: true, ElapsedMS: 1000, PenaltyMinor: 50}},
		{1000, 2500 * time.Millisecond, 50, Judgement{Breached: true, ElapsedMS: 2500, MarginMS: -1500, PenaltyMinor: 50}},
	} {
		if got := Judge(tc.target, tc.elapsed, tc.penalty); got != tc.want {
			t.Errorf("Judge(%d, %s, %d) = %+v, want %+v", tc.target, tc.elapsed, tc.penalty, got, tc.want)
		}
	}
}

func TestElapsed(t *testing.T) {
	cal, err := Calendar(sla.SupportCalendar{ID: "office", Kind: sla.CalendarBusinessHours, TimeZone: "UTC",
		Hours: []sla.HoursRange{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "18:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	// Friday 17:00 to Monday 09:00: one hour on Friday, one on Monday.
	start, end := at("2026-03-06T17:00:00Z"), at("2026-03-09T09:00:00Z")
	if got := Elapsed(cal, start, end, 0, nil); got != 2*time.Hour {
		t.Errorf("Elapsed over a weekend = %s, want 2h", got)
	}
	pause := []calendar.Interval{{From: at("2026-03-09T08:00:00Z"), To: at("2026-03-09T08:30:00Z")}}
	if got := Elapsed(cal, start, end, 10*time.Minute, pause); got != 100*time.Minute {
		t.Errorf("Elapsed with a pause and 10m carried = %s, want 1h40m", got)
	}
	if got := Elapsed(cal, end, start, 7*time.Minute, nil); got != 7*time.Minute {
		t.Errorf("Elapsed before the start = %s, want the carried 7m", got)
	}
	if _, err := Calendar(sla.SupportCalendar{ID: "x", Kind: "weekly"}); err == nil || err.Error() != `calendar "x": kind "weekly" is not 24x7 or business_hours` {
		t.Errorf("Calendar of a bad kind: %v", err)
	}
}
