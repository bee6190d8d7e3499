package calendar

import (
	"math/rand"
	"testing"
	"time"
)

// propertySpecs are the calendars of the property tests. None has an hour between 01:00 and 04:00, where the
// zones change their offsets, so refElapsed's "is this minute's wall clock in business hours" is exact.
var propertySpecs = []Spec{
	{TwentyFourSeven: true},
	officeSpec,
	{TimeZone: "America/New_York", Hours: append(weekdays(540, 720, monFri...), weekdays(780, 1020, monFri...)...),
		Holidays: []string{"2026-01-01", "2026-07-03", "2026-11-26", "2026-12-25"}},
	{TimeZone: "Asia/Tokyo", Hours: []Range{{time.Saturday, 600, 660}}, Holidays: []string{"2026-05-02"}},
	{TimeZone: "Australia/Sydney", Hours: append(weekdays(420, 1320, everyDay...), weekdays(240, 300, time.Sunday)...)},
	{TimeZone: "UTC", Hours: weekdays(1380, 1440, time.Wednesday, time.Friday)},
}

// refElapsed counts minute by minute the minutes of [start, end) (whole minutes) whose wall clock is in
// business hours on a working day and which no pause covers.
func refElapsed(s Spec, start, end time.Time, pauses []Interval) time.Duration {
	loc := time.UTC
	if s.TimeZone != "" {
		loc, _ = loadZone(s.TimeZone)
	}
	holiday := map[string]bool{}
	for _, h := range s.Holidays {
		holiday[h] = true
	}
	var n time.Duration
	for m := start; m.Before(end); m = m.Add(time.Minute) {
		paused := false
		for _, p := range pauses {
			if !m.Before(p.From) && (p.To.IsZero() || m.Before(p.To)) {
				paused = true
			}
		}
		if paused {
			continue
		}
		if s.TwentyFourSeven {
			n += time.Minute
			continue
		}
		l := m.In(loc)
		if holiday[l.Format(time.DateOnly)] {
			continue
		}
		min := l.Hour()*60 + l.Minute()
		for _, r := range s.Hours {
			if r.Day == l.Weekday() && r.From <= min && min < r.To {
				n += time.Minute
			}
		}
	}
	return n
}

// randomPauses returns up to three pauses around start, possibly overlapping, the last possibly open.
func randomPauses(rng *rand.Rand, start time.Time, unit time.Duration, span int64) []Interval {
	var ps []Interval
	for range rng.Intn(4) {
		from := start.Add(time.Duration(rng.Int63n(span)-span/10) * unit)
		ps = append(ps, Interval{From: from, To: from.Add(time.Duration(1+rng.Int63n(span/4)) * unit)})
	}
	if len(ps) > 0 && rng.Intn(5) == 0 {
		ps[len(ps)-1].To = time.Time{}
	}
	return ps
}

// TestElapsedReference compares Elapsed with a minute-by-minute count over random spans of up to a week.
func TestElapsedReference(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		s := propertySpecs[i%len(propertySpecs)]
		c := mustNew(t, s)
		start := base.Add(time.Duration(rng.Int63n(366*24*60)) * time.Minute)
		end := start.Add(time.Duration(rng.Int63n(7*24*60)) * time.Minute)
		pauses := randomPauses(rng, start, time.Minute, 10*24*60)
		got, want := c.Elapsed(start, end, pauses), refElapsed(s, start, end, pauses)
		if got != want {
			t.Fatalf("case %d, %+v: Elapsed(%v, %v, %v) = %v, reference %v", i, s, start, end, pauses, got, want)
		}
	}
}

// TestDeadlineInverse checks over random cases that Deadline is the earliest instant at which Elapsed reaches
// the target, to the nanosecond, and that it is false exactly when an open pause stops the clock first.
func TestDeadlineInverse(t *testing.T) {
	rng := rand.New(rand.NewSource(1616))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	oks := 0
	for i := range 3000 {
		c := mustNew(t, propertySpecs[i%len(propertySpecs)])
		start := base.Add(time.Duration(rng.Int63n(3 * 365 * 24 * int64(time.Hour))))
		target := time.Duration(rng.Int63n(21 * 24 * int64(time.Hour)))
		pauses := randomPauses(rng, start, time.Second, 30*24*3600)
		d, ok := c.Deadline(start, target, pauses)
		if !ok {
			// Only an open pause may stop the clock, and then for good.
			open := false
			for _, p := range pauses {
				open = open || p.To.IsZero()
			}
			if !open {
				t.Fatalf("case %d: Deadline(%v, %v, %v) not ok without an open pause", i, start, target, pauses)
			}
			if e := c.Elapsed(start, start.Add(5*366*24*time.Hour), pauses); e >= target {
				t.Fatalf("case %d: Deadline not ok but Elapsed reaches %v >= target %v", i, e, target)
			}
			continue
		}
		oks++
		if d.Before(start) {
			t.Fatalf("case %d: deadline %v before start %v", i, d, start)
		}
		if e := c.Elapsed(start, d, pauses); e != target {
			t.Fatalf("case %d: Elapsed(%v, Deadline = %v, %v) = %v, want target %v", i, start, d, pauses, e, target)
		}
		if target > 0 {
			if e := c.Elapsed(start, d.Add(-1), pauses); e >= target {
				t.Fatalf("case %d: Elapsed one nanosecond before the deadline %v is already %v", i, d, e)
			}
		}
	}
	if oks < 2000 {
		t.Fatalf("only %d of 3000 cases had a deadline", oks)
	}
}

// TestHorizon checks that a target beyond MaxSearchDays has no deadline and that the search stays bounded.
func TestHorizon(t *testing.T) {
	c := mustNew(t, Spec{TimeZone: "UTC", Hours: weekdays(0, 1, time.Monday)}) // one minute a week
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d, ok := c.Deadline(start, 60*time.Hour, nil); !ok || !d.Equal(time.Date(2094, 12, 27, 0, 1, 0, 0, time.UTC)) {
		t.Fatalf("Deadline(60 h) = %v, %v", d, ok)
	}
	if d, ok := c.Deadline(start, 1<<62, nil); ok {
		t.Fatalf("Deadline(1<<62) = %v, true beyond the horizon", d)
	}
	end := start.AddDate(0, 0, MaxSearchDays+10)
	if got, want := c.Elapsed(start, end, nil), c.Elapsed(start, start.AddDate(0, 0, MaxSearchDays+1), nil); got != want {
		t.Fatalf("Elapsed past the horizon %v, want %v (nothing past MaxSearchDays counts)", got, want)
	}
}

// TestWholeDates checks over random cases on every fuzz calendar, DST changes included, that taking dates whole
// changes no result: Elapsed and Deadline agree with the walk that goes interval by interval.
func TestWholeDates(t *testing.T) {
	rng := rand.New(rand.NewSource(160))
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		c := mustNew(t, fuzzSpecs[i%len(fuzzSpecs)])
		start := base.Add(time.Duration(rng.Int63n(20 * 365 * 24 * int64(time.Hour))))
		end := start.Add(time.Duration(rng.Int63n(60 * 24 * int64(time.Hour))))
		target := time.Duration(rng.Int63n(30 * 24 * int64(time.Hour)))
		pauses := randomPauses(rng, start, time.Second, 60*24*3600)
		if fast, slow := c.elapsed(start, end, pauses, true), c.elapsed(start, end, pauses, false); fast != slow {
			t.Fatalf("case %d: Elapsed(%v, %v, %v) = %v taking dates whole, %v interval by interval", i, start, end, pauses, fast, slow)
		}
		d, ok := c.deadline(start, target, pauses, true)
		if ds, oks := c.deadline(start, target, pauses, false); ok != oks || !d.Equal(ds) {
			t.Fatalf("case %d: Deadline(%v, %v, %v) = %v, %v taking dates whole, %v, %v interval by interval", i, start, target, pauses, d, ok, ds, oks)
		}
	}
}
