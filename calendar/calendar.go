package calendar

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Spec is a calendar as the SLA names it.
type Spec struct {
	// TwentyFourSeven: every instant counts; the other fields must be empty.
	TwentyFourSeven bool
	// TimeZone is an IANA name (e.g. "Europe/Rome"); the hours and holidays are wall-clock in it.
	TimeZone string
	// Hours are the business hours: for each listed weekday, [From, To) in minutes after local midnight
	// (0 <= From < To <= 1440). Ranges of one weekday must not overlap.
	Hours []Range
	// Holidays are whole local dates (YYYY-MM-DD) on which no hour counts. Sorted, unique.
	Holidays []string
}

// Range is one business-hours range: on weekday Day, the wall-clock minutes [From, To) after local midnight.
type Range struct {
	Day      time.Weekday
	From, To int // minutes after local midnight
}

// Interval is a pause [From, To); To.IsZero() means still paused.
type Interval struct{ From, To time.Time }

// Calendar is a validated calendar ready for Elapsed and Deadline. It is immutable and safe for concurrent use.
type Calendar struct {
	all      bool
	loc      *time.Location
	week     [7][]Range        // per weekday, sorted by From, non-overlapping
	daySum   [7]time.Duration  // per weekday, the wall-clock length of its ranges
	holidays map[date]struct{} // local dates on which nothing counts
}

// date is a local calendar date.
type date struct {
	y int
	m time.Month
	d int
}

const minutesPerDay = 24 * 60

// New validates s and returns its Calendar. The error names every field that is wrong ("time_zone: ...",
// "hours[2]: ...", "holidays[0]: ..."), one problem per line. A business-hours calendar needs a time zone and at
// least one range, so that time always eventually counts.
func New(s Spec) (*Calendar, error) {
	if s.TwentyFourSeven {
		var errs []error
		if s.TimeZone != "" {
			errs = append(errs, fmt.Errorf("time_zone: must be empty for a 24x7 calendar, got %q", s.TimeZone))
		}
		if len(s.Hours) > 0 {
			errs = append(errs, errors.New("hours: must be empty for a 24x7 calendar"))
		}
		if len(s.Holidays) > 0 {
			errs = append(errs, errors.New("holidays: must be empty for a 24x7 calendar"))
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return &Calendar{all: true}, nil
	}

	c := &Calendar{holidays: make(map[date]struct{}, len(s.Holidays))}
	var errs []error
	if s.TimeZone == "" {
		errs = append(errs, errors.New("time_zone: required for a business-hours calendar"))
	} else if loc, err := loadZone(s.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	} else {
		c.loc = loc
	}

	if len(s.Hours) == 0 {
		errs = append(errs, errors.New("hours: at least one range is required (a calendar without business hours never counts time)"))
	}
	index := make(map[Range]int, len(s.Hours)) // position of each accepted range in s.Hours
	for i, r := range s.Hours {
		switch {
		case r.Day < time.Sunday || r.Day > time.Saturday:
			errs = append(errs, fmt.Errorf("hours[%d]: day %d is not a weekday (0 Sunday .. 6 Saturday)", i, int(r.Day)))
			continue
		case r.From < 0 || r.To > minutesPerDay || r.From >= r.To:
			errs = append(errs, fmt.Errorf("hours[%d]: [%d, %d) is not a range of minutes after midnight (0 <= from < to <= 1440)", i, r.From, r.To))
			continue
		}
		overlap := false
		for _, o := range c.week[r.Day] {
			if r.From < o.To && o.From < r.To {
				errs = append(errs, fmt.Errorf("hours[%d]: %s [%d, %d) overlaps hours[%d] [%d, %d)", i, r.Day, r.From, r.To, index[o], o.From, o.To))
				overlap = true
				break
			}
		}
		if overlap {
			continue
		}
		index[r] = i
		c.week[r.Day] = append(c.week[r.Day], r)
	}
	for d := range c.week {
		slices.SortFunc(c.week[d], func(a, b Range) int { return a.From - b.From })
		for _, r := range c.week[d] {
			c.daySum[d] += time.Duration(r.To-r.From) * time.Minute
		}
	}

	var prev time.Time
	prevOK := false // holidays[i-1] is a valid date, prev
	for i, h := range s.Holidays {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil || t.Format(time.DateOnly) != h {
			errs = append(errs, fmt.Errorf("holidays[%d]: %q is not a date YYYY-MM-DD", i, h))
			prevOK = false
			continue
		}
		if prevOK && !t.After(prev) {
			errs = append(errs, fmt.Errorf("holidays[%d]: %q is not after holidays[%d] %q (holidays are sorted and unique)", i, h, i-1, s.Holidays[i-1]))
		}
		prev, prevOK = t, true
		y, m, d := t.Date()
		c.holidays[date{y, m, d}] = struct{}{}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}
