package calendar

import (
	"testing"
	"time"
)

// BenchmarkDeadline computes a 4-hour target on the office calendar (Europe/Rome, Monday to Friday
// 08:00–18:00, holidays) from Christmas Eve afternoon: the clock runs over the holidays and the weekend, with
// one pause.
func BenchmarkDeadline(b *testing.B) {
	c := mustNew(b, officeSpec)
	rome := mustZone(b, "Europe/Rome")
	start := time.Date(2026, 12, 24, 16, 0, 0, 0, rome)
	pauses := []Interval{{time.Date(2026, 12, 24, 17, 0, 0, 0, rome), time.Date(2026, 12, 28, 9, 0, 0, 0, rome)}}
	want := time.Date(2026, 12, 28, 12, 0, 0, 0, rome)
	for b.Loop() {
		if d, ok := c.Deadline(start, 4*time.Hour, pauses); !ok || !d.Equal(want) {
			b.Fatalf("Deadline = %v, %v; want %v", d, ok, want)
		}
	}
}

// BenchmarkDeadlineSixWeeks computes a 300-hour target (six weeks of office hours).
func BenchmarkDeadlineSixWeeks(b *testing.B) {
	c := mustNew(b, officeSpec)
	rome := mustZone(b, "Europe/Rome")
	start := time.Date(2026, 3, 30, 8, 0, 0, 0, rome)
	want := time.Date(2026, 5, 11, 18, 0, 0, 0, rome)
	for b.Loop() {
		if d, ok := c.Deadline(start, 300*time.Hour, nil); !ok || !d.Equal(want) {
			b.Fatalf("Deadline = %v, %v; want %v", d, ok, want)
		}
	}
}

// BenchmarkDeadlineHorizon is the worst case: a target never reached within MaxSearchDays on a calendar of 720
// one-minute ranges a day in a zone with DST (only the dates of the DST changes are walked range by range).
func BenchmarkDeadlineHorizon(b *testing.B) {
	var hours []Range
	for _, d := range everyDay {
		for m := 0; m < minutesPerDay; m += 2 {
			hours = append(hours, Range{d, m, m + 1})
		}
	}
	c := mustNew(b, Spec{TimeZone: "Europe/Rome", Hours: hours})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		if d, ok := c.Deadline(start, 1<<62, nil); ok {
			b.Fatalf("Deadline = %v, true beyond the horizon", d)
		}
	}
}
