package calendar

import (
	"math"
	"slices"
	"time"
)

// MaxSearchDays bounds the work of Elapsed and Deadline on a business-hours calendar: they look at the local
// days from start's date to MaxSearchDays (about 100 years) after it, and no later instant counts. A target that
// is not reached within them has no deadline (Deadline returns ok false). On a 24x7 calendar there is no bound.
const MaxSearchDays = 100 * 366

// farFuture stands for "never": the end of a Deadline search that no open pause stops, the end of a 24x7
// interval. Durations up to it saturate at the largest time.Duration.
var farFuture = time.Unix(1<<62, 0).UTC()

// span is a closed pause [from, to), to after from.
type span struct{ from, to time.Time }

// mergePauses returns the closed pauses merged into disjoint spans sorted by time, and the start of the open
// pause (a pause whose To is zero), if there is one. Everything at or after the open pause's start is paused, so
// the spans stop before it. Monotonic clock readings are dropped; empty pauses (To not after From) are ignored.
func mergePauses(pauses []Interval) (spans []span, openFrom time.Time, open bool) {
	ps := make([]span, 0, len(pauses))
	for _, p := range pauses {
		from := p.From.Round(0)
		if p.To.IsZero() {
			if !open || from.Before(openFrom) {
				openFrom, open = from, true
			}
			continue
		}
		if to := p.To.Round(0); to.After(from) {
			ps = append(ps, span{from, to})
		}
	}
	slices.SortFunc(ps, func(a, b span) int {
		if c := a.from.Compare(b.from); c != 0 {
			return c
		}
		return a.to.Compare(b.to)
	})
	for _, p := range ps {
		if open && !p.from.Before(openFrom) {
			break
		}
		if n := len(spans); n > 0 && !p.from.After(spans[n-1].to) {
			if p.to.After(spans[n-1].to) {
				spans[n-1].to = p.to
			}
			continue
		}
		spans = append(spans, p)
	}
	if n := len(spans); open && n > 0 && !spans[n-1].to.Before(openFrom) {
		// The last closed pause runs into the open one: the open pause starts where that one starts.
		openFrom = spans[n-1].from
		spans = spans[:n-1]
	}
	return spans, openFrom, open
}

// addSat adds two non-negative durations, saturating at the largest time.Duration.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// walk calls f, in time order, with the disjoint intervals [a, b) of [start, end) that count: business hours
// (every instant on a 24x7 calendar) minus the pauses in spans (as from mergePauses). It stops when f returns
// false, at end, or, on a business-hours calendar, after MaxSearchDays local days.
//
// When whole is not nil, a date whose business hours are all in [start, end), untouched by pauses and by a
// change of the zone's offset, is first offered whole: whole(total) returns true when it takes the date's
// counted time at once (then f is not called for it), false when it wants the date's intervals. Whole dates
// keep the walk to a few operations a date however many ranges a date has.
func (c *Calendar) walk(start, end time.Time, spans []span, f func(a, b time.Time) bool, whole func(total time.Duration) bool) {
	if !start.Before(end) {
		return
	}
	cursor := start // nothing before it counts any more: each instant counts at most once
	pi := 0         // first pause that may still overlap an interval
	// emit clips [a, b) to the cursor and end, takes the pauses out and hands the rest to f. It returns false
	// when the walk is over.
	emit := func(a, b time.Time) bool {
		a = maxTime(a, cursor)
		if b.After(end) {
			b = end
		}
		if !a.Before(b) {
			return cursor.Before(end)
		}
		cursor = b
		for pi < len(spans) && !spans[pi].to.After(a) {
			pi++
		}
		for pi < len(spans) && spans[pi].from.Before(b) {
			if spans[pi].from.After(a) && !f(a, spans[pi].from) {
				return false
			}
			if !spans[pi].to.Before(b) {
				return cursor.Before(end)
			}
			a = spans[pi].to
			pi++
		}
		return f(a, b) && cursor.Before(end)
	}

	if c.all {
		emit(start, farFuture)
		return
	}
	// Local dates are walked as civil dates (UTC midnights, exactly 24 h apart). Zone offsets are within ±16 h,
	// so the business hours of a date lie within a day of that date's UTC midnight: the walk starts two dates
	// early and stops two dates past end, and the cursor clips what is outside [start, end).
	y, m, d := start.UTC().Date()
	day := time.Date(y, m, d-2, 0, 0, 0, 0, time.UTC)
	stop := end.Add(48 * time.Hour)
	for n := 0; n < MaxSearchDays+3 && day.Before(stop); n, day = n+1, day.Add(24*time.Hour) {
		y, m, d := day.Date()
		if _, ok := c.holidays[date{y, m, d}]; ok {
			continue
		}
		wd := day.Weekday()
		rs := c.week[wd]
		if len(rs) == 0 {
			continue
		}
		if whole != nil {
			// time.Date normalises wall-clock times that a DST change skips or repeats (see the package doc).
			first := time.Date(y, m, d, 0, rs[0].From, 0, 0, c.loc)
			last := time.Date(y, m, d, 0, rs[len(rs)-1].To, 0, 0, c.loc)
			_, zoneEnd := first.ZoneBounds()
			plain := (zoneEnd.IsZero() || !zoneEnd.Before(last)) &&
				last.Sub(first) == time.Duration(rs[len(rs)-1].To-rs[0].From)*time.Minute
			if plain && !first.Before(cursor) && !last.After(end) {
				for pi < len(spans) && !spans[pi].to.After(first) {
					pi++
				}
				switch {
				case pi == len(spans) || !spans[pi].from.Before(last):
					// No pause: the date counts the wall-clock length of its ranges.
					if whole(c.daySum[wd]) {
						cursor = last
						if !cursor.Before(end) {
							return
						}
						continue
					}
				case !spans[pi].from.After(first) && !spans[pi].to.Before(last):
					// One pause covers the whole date: nothing counts.
					cursor = last
					if !cursor.Before(end) {
						return
					}
					continue
				}
			}
		}
		for _, r := range rs {
			a := time.Date(y, m, d, 0, r.From, 0, 0, c.loc)
			b := time.Date(y, m, d, 0, r.To, 0, 0, c.loc)
			if !emit(a, b) {
				return
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// Elapsed is the calendar time that counts between start and end (end >= start), pauses excluded
// (pauses may overlap each other and non-business time; each instant is excluded at most once).
// It is 0 when end is not after start. An open pause (To zero) excludes everything from its From on.
func (c *Calendar) Elapsed(start, end time.Time, pauses []Interval) time.Duration {
	return c.elapsed(start, end, pauses, true)
}

// elapsed is Elapsed, taking whole dates at once when fast is true.
func (c *Calendar) elapsed(start, end time.Time, pauses []Interval, fast bool) time.Duration {
	start, end = start.Round(0), end.Round(0)
	spans, openFrom, open := mergePauses(pauses)
	if open && openFrom.Before(end) {
		end = openFrom
	}
	var total time.Duration
	var whole func(time.Duration) bool
	if fast {
		whole = func(d time.Duration) bool {
			total = addSat(total, d)
			return true
		}
	}
	c.walk(start, end, spans, func(a, b time.Time) bool {
		total = addSat(total, b.Sub(a))
		return true
	}, whole)
	return total
}

// Deadline is the earliest instant t >= start with Elapsed(start, t, pauses) == target; ok is false when it
// cannot be known yet (an open pause starts before the target is reached), or when the target is not reached
// within MaxSearchDays. target 0 (or negative) → start. t is in start's location.
func (c *Calendar) Deadline(start time.Time, target time.Duration, pauses []Interval) (t time.Time, ok bool) {
	return c.deadline(start, target, pauses, true)
}

// deadline is Deadline, taking whole dates at once when fast is true.
func (c *Calendar) deadline(start time.Time, target time.Duration, pauses []Interval, fast bool) (t time.Time, ok bool) {
	start = start.Round(0)
	if target <= 0 {
		return start, true
	}
	spans, openFrom, open := mergePauses(pauses)
	end := farFuture
	if open {
		end = openFrom
	}
	remaining := target
	var whole func(time.Duration) bool
	if fast {
		whole = func(d time.Duration) bool {
			if d < remaining {
				remaining -= d
				return true
			}
			return false // the deadline is on this date: walk its intervals
		}
	}
	c.walk(start, end, spans, func(a, b time.Time) bool {
		if d := b.Sub(a); d < remaining {
			remaining -= d
			return true
		}
		t, ok = a.Add(remaining), true
		return false
	}, whole)
	if !ok {
		return time.Time{}, false
	}
	return t.In(start.Location()), true
}
