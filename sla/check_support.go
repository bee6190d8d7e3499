package sla

import (
	"fmt"
	"slices"
	"strings"
)

// support checks the support section (see the "Checked by slasa" notes of
// the schema's support definitions). Like the other checks it skips what
// the schema already rejects.
func (c *checker) support(s *SLA) {
	sup := s.Support
	if sup == nil {
		return
	}
	calendars := map[string]int{}
	for i, cal := range sup.Calendars {
		base := fmt.Sprintf("support.calendars[%d]", i)
		if j, dup := calendars[cal.ID]; dup {
			c.add(base+".id", "duplicate calendar id %q (also support.calendars[%d].id)", cal.ID, j)
		} else {
			calendars[cal.ID] = i
		}
		if cal.Kind == CalendarBusinessHours {
			c.businessHours(base, cal)
		}
	}

	severities := map[string]int{}
	for i, sev := range sup.Severities {
		base := fmt.Sprintf("support.severities[%d]", i)
		if j, dup := severities[sev.ID]; dup {
			c.add(base+".id", "duplicate severity id %q (also support.severities[%d].id)", sev.ID, j)
		} else {
			severities[sev.ID] = i
		}
		for _, t := range []struct {
			name   string
			target Target
		}{{TargetAcceptance, sev.Acceptance}, {TargetClosure, sev.Closure}} {
			if _, ok := calendars[t.target.Calendar]; !ok {
				c.add(base+"."+t.name+".calendar", "%q is not a calendar id of support.calendars", t.target.Calendar)
			}
		}
	}

	statuses := map[string]int{}
	for i, st := range sup.PauseStatuses {
		path := fmt.Sprintf("support.pause_statuses[%d]", i)
		if slices.Contains(contractStatuses, st) {
			c.add(path, "%q is a status the ticket chaincode drives (%s); a pause status must be another one", st, strings.Join(contractStatuses, ", "))
			continue
		}
		if j, dup := statuses[st]; dup {
			c.add(path, "duplicate pause status %q (also support.pause_statuses[%d])", st, j)
			continue
		}
		statuses[st] = i
	}

	for i, e := range sup.Escalation {
		base := fmt.Sprintf("support.escalation[%d]", i)
		if i > 0 {
			if prev := sup.Escalation[i-1].AtBPS; e.AtBPS <= prev {
				c.add(base+".at_bps", "%d is not above support.escalation[%d].at_bps (%d): levels must be in strictly increasing order of at_bps", e.AtBPS, i-1, prev)
			}
		}
		seen := map[string]int{}
		for k, who := range e.Notify {
			if j, dup := seen[who]; dup {
				c.add(fmt.Sprintf("%s.notify[%d]", base, k), "duplicate party %q (also notify[%d])", who, j)
				continue
			}
			seen[who] = k
		}
	}

	penalties := map[[2]string]int{}
	for i, p := range sup.Penalties {
		base := fmt.Sprintf("support.penalties[%d]", i)
		if _, ok := severities[p.Severity]; !ok {
			c.add(base+".severity", "%q is not a severity id of support.severities", p.Severity)
			continue
		}
		key := [2]string{p.Severity, p.Target}
		if j, dup := penalties[key]; dup {
			c.add(base+".target", "severity %q already has a %s penalty (support.penalties[%d])", p.Severity, p.Target, j)
			continue
		}
		penalties[key] = i
	}

	objectives := map[string]int{}
	for i, o := range sup.Objectives {
		path := fmt.Sprintf("support.objectives[%d].id", i)
		if j, dup := objectives[o.ID]; dup {
			c.add(path, "duplicate objective id %q (also support.objectives[%d].id)", o.ID, j)
			continue
		}
		objectives[o.ID] = i
		if _, ok := s.Metric(o.ID); ok {
			c.add(path, "%q is also a metric id: objectives and metrics are settled side by side, so their ids must differ", o.ID)
		}
	}
}

// businessHours checks a calendar of kind business_hours.
func (c *checker) businessHours(base string, cal SupportCalendar) {
	if cal.TimeZone != "" {
		if err := checkTimeZone(cal.TimeZone); err != nil {
			c.add(base+".time_zone", "%v", err)
		}
	}

	// byDay[d] holds the ranges already seen on week day d.
	type span struct {
		index    int
		from, to int
	}
	var byDay [7][]span
	overlapping := map[[2]int]bool{} // pairs of hours indices already reported
	for k, h := range cal.Hours {
		hbase := fmt.Sprintf("%s.hours[%d]", base, k)
		from, errFrom := ParseClock(h.From)
		to, errTo := ParseClock(h.To)
		if errFrom == nil && from == 24*60 {
			c.add(hbase+".from", `"24:00" is the end of a day; a range starts at 23:59 at the latest`)
			errFrom = fmt.Errorf("end of day")
		}
		valid := errFrom == nil && errTo == nil
		if valid && from >= to {
			c.add(hbase+".to", "%q is not after from %q: a range is [from, to) within one day", h.To, h.From)
			valid = false
		}
		seen := map[string]int{}
		for j, day := range h.Days {
			d, ok := ParseDay(day)
			if !ok {
				continue // the schema reports it
			}
			if i, dup := seen[day]; dup {
				c.add(fmt.Sprintf("%s.days[%d]", hbase, j), "duplicate day %q (also days[%d])", day, i)
				continue
			}
			seen[day] = j
			if !valid {
				continue
			}
			for _, o := range byDay[d] {
				if from < o.to && o.from < to && !overlapping[[2]int{o.index, k}] {
					overlapping[[2]int{o.index, k}] = true
					c.add(hbase, "overlaps %s.hours[%d] on %s: %s-%s and %s-%s", base, o.index, day, h.From, h.To, clockString(o.from), clockString(o.to))
				}
			}
			byDay[d] = append(byDay[d], span{k, from, to})
		}
	}

	prev := -1 // index of the last valid holiday
	for k, day := range cal.Holidays {
		path := fmt.Sprintf("%s.holidays[%d]", base, k)
		if _, err := ParseDate(day); err != nil {
			c.add(path, "%v", err)
			continue
		}
		// Valid dates compare as strings.
		if prev >= 0 && day <= cal.Holidays[prev] {
			c.add(path, "%q is not after holidays[%d] %q: holidays must be sorted and unique", day, prev, cal.Holidays[prev])
		}
		prev = k
	}
}

// clockString writes minutes after midnight as "HH:MM".
func clockString(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
