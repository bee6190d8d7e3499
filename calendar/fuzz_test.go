package calendar

import (
	"testing"
	"time"
)

// fuzzSpecs are the property tests' calendars and calendars whose hours cross DST changes, including zones that
// change at midnight (America/Santiago), by 30 minutes (Australia/Lord_Howe) or skipped a whole date
// (Pacific/Apia, 2011-12-30).
var fuzzSpecs = append(append([]Spec(nil), propertySpecs...),
	Spec{TimeZone: "Europe/Rome", Hours: weekdays(0, 1440, everyDay...)},
	Spec{TimeZone: "Europe/Rome", Hours: []Range{{time.Sunday, 60, 179}, {time.Sunday, 180, 240}, {time.Saturday, 1380, 1440}}},
	Spec{TimeZone: "America/New_York", Hours: weekdays(60, 180, everyDay...), Holidays: []string{"2026-11-01"}},
	Spec{TimeZone: "America/Santiago", Hours: append(weekdays(0, 30, everyDay...), weekdays(1410, 1440, everyDay...)...)},
	Spec{TimeZone: "Australia/Lord_Howe", Hours: weekdays(90, 150, time.Sunday)},
	Spec{TimeZone: "Pacific/Apia", Hours: weekdays(600, 900, time.Friday, time.Saturday), Holidays: []string{"2011-12-31"}},
)

// FuzzDeadline checks Deadline and Elapsed on arbitrary starts, targets and pauses: they never panic, a deadline
// is never before start, Elapsed(start, deadline) is the target, and adding a pause never makes a deadline
// earlier (nor makes one known that was not).
func FuzzDeadline(f *testing.F) {
	rome := time.Date(2026, 3, 28, 17, 0, 0, 0, time.UTC).Unix()
	f.Add(uint8(1), rome, int64(4*time.Hour), int64(3600), int64(7200), false, int64(-600), int64(86400), false)
	f.Add(uint8(6), rome, int64(3*time.Hour), int64(0), int64(0), true, int64(10), int64(10), false)
	f.Add(uint8(8), time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC).Unix(), int64(90*time.Minute), int64(60), int64(1800), false, int64(0), int64(3600), true)
	f.Add(uint8(11), time.Date(2011, 12, 29, 0, 0, 0, 0, time.UTC).Unix(), int64(10*time.Hour+1), int64(-86400), int64(86400*2), false, int64(3600), int64(60), false)
	f.Fuzz(func(t *testing.T, cal uint8, startSec, target, p1From, p1Len int64, p1Open bool, p2From, p2Len int64, p2Open bool) {
		c, err := New(fuzzSpecs[int(cal)%len(fuzzSpecs)])
		if err != nil {
			t.Fatal(err)
		}
		const (
			lo    = -2208988800 // 1900-01-01
			span  = 400 * 365 * 86400
			month = 30 * 86400
		)
		start := time.Unix(lo+mod(startSec-lo, span), mod(startSec, 1e9)).UTC()
		target = mod(target, 60*24*int64(time.Hour))
		pause := func(from, length int64, open bool) Interval {
			p := Interval{From: start.Add(time.Duration(mod(from, 4*month)-2*month) * time.Second)}
			if !open {
				p.To = p.From.Add(time.Duration(mod(length, month)) * time.Second)
			}
			return p
		}
		p1 := []Interval{pause(p1From, p1Len, p1Open)}
		p2 := []Interval{p1[0], pause(p2From, p2Len, p2Open)}

		d1, ok1 := check(t, c, start, time.Duration(target), p1)
		d2, ok2 := check(t, c, start, time.Duration(target), p2)
		if ok2 && !ok1 {
			t.Fatalf("adding pause %+v made the deadline known: %v", p2[1], d2)
		}
		if ok1 && ok2 && d2.Before(d1) {
			t.Fatalf("adding pause %+v made the deadline earlier: %v before %v", p2[1], d2, d1)
		}
	})
}

// check returns Deadline(start, target, pauses) after checking it against Elapsed and against the walk that
// takes no date whole.
func check(t *testing.T, c *Calendar, start time.Time, target time.Duration, pauses []Interval) (time.Time, bool) {
	d, ok := c.Deadline(start, target, pauses)
	if ds, oks := c.deadline(start, target, pauses, false); oks != ok || !ds.Equal(d) {
		t.Fatalf("Deadline(%v, %v, %v) = %v, %v; date by date interval by interval %v, %v", start, target, pauses, d, ok, ds, oks)
	}
	if !ok {
		return d, false
	}
	if d.Before(start) {
		t.Fatalf("Deadline(%v, %v, %v) = %v, before start", start, target, pauses, d)
	}
	if e := c.Elapsed(start, d, pauses); e != target {
		t.Fatalf("Elapsed(%v, Deadline = %v, %v) = %v, want %v", start, d, pauses, e, target)
	}
	if e := c.elapsed(start, d, pauses, false); e != target {
		t.Fatalf("Elapsed(%v, Deadline = %v, %v) interval by interval = %v, want %v", start, d, pauses, e, target)
	}
	if target > 0 {
		if e := c.Elapsed(start, d.Add(-1), pauses); e >= target {
			t.Fatalf("Elapsed one nanosecond before Deadline(%v, %v, %v) = %v is already %v", start, target, pauses, d, e)
		}
	}
	return d, true
}

// mod is x mod m in [0, m).
func mod(x, m int64) int64 {
	r := x % m
	if r < 0 {
		r += m
	}
	return r
}
