package sla

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	// The time zone database is embedded so that every peer resolves a
	// calendar's time zone alike, whatever its operating system ships.
	_ "time/tzdata"
)

// Calendar kinds of a support calendar.
const (
	CalendarTwentyFourSeven = "24x7"           // every instant counts
	CalendarBusinessHours   = "business_hours" // weekly hours in a time zone, minus holidays
)

// Severity-change policies: what happens to a ticket's clocks when its
// severity changes.
const (
	SeverityChangeKeepElapsed = "keep_elapsed" // the time already counted stays counted against the new targets
	SeverityChangeRestart     = "restart"      // the clocks start again from the change
)

// Targets of a ticket: what a per-ticket penalty or an objective measures.
const (
	TargetAcceptance = "acceptance" // from opening to acknowledgement (time to respond)
	TargetClosure    = "closure"    // from opening to resolution (time to resolve)
)

// Parties an escalation level notifies.
const (
	NotifyProvider = "provider"
	NotifyVendor   = "vendor"
	NotifyCustomer = "customer"
)

// MaxEscalationLevels is the largest number of escalation levels.
const MaxEscalationLevels = 5

// contractStatuses are the ticket statuses the ticket chaincode drives
// itself; a pause status must be none of them.
var contractStatuses = []string{"open", "assigned", "acknowledged", "in_progress", "resolved", "closed"}

// Support is the trouble-ticket part of the SLA: how fast the provider (and
// the vendor it assigns) must acknowledge and resolve the client's tickets,
// counted in calendars, and what a late ticket costs.
type Support struct {
	// Calendars are the named calendars the targets are counted in.
	Calendars []SupportCalendar `json:"calendars"`
	// Severities are the ticket severities with their targets.
	Severities []Severity `json:"severities"`
	// PauseStatuses are the ticket statuses (besides the ones the ticket
	// chaincode drives) in which the clocks stop, e.g. waiting_on_customer.
	PauseStatuses []string `json:"pause_statuses,omitempty"`
	// SeverityChange is SeverityChangeKeepElapsed or SeverityChangeRestart.
	SeverityChange string `json:"severity_change"`
	// Escalation lists up to MaxEscalationLevels levels in increasing order
	// of AtBPS; level n is Escalation[n-1].
	Escalation []Escalation `json:"escalation,omitempty"`
	// Penalties are owed per ticket for each breached target.
	Penalties []TicketPenalty `json:"penalties,omitempty"`
	// Objectives are promises over the tickets of a billing period,
	// settled with the period like the metrics.
	Objectives []SupportObjective `json:"objectives,omitempty"`
}

// SupportCalendar is a named calendar. A Kind CalendarTwentyFourSeven
// calendar counts every instant and has no other field; a Kind
// CalendarBusinessHours calendar counts the Hours of each week, wall-clock
// in TimeZone, except on Holidays.
type SupportCalendar struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// TimeZone is an IANA time zone name ("Europe/Rome").
	TimeZone string `json:"time_zone,omitempty"`
	// Hours are the business hours of the week.
	Hours []HoursRange `json:"hours,omitempty"`
	// Holidays are local dates (YYYY-MM-DD, sorted, unique) on which no
	// hour counts.
	Holidays []string `json:"holidays,omitempty"`
}

// HoursRange is the local time range [From, To) on each of Days. From is
// "HH:MM" from "00:00" to "23:59", To is "HH:MM" up to "24:00" (the end of
// the day); see ParseClock.
type HoursRange struct {
	// Days are week days "mon", "tue", "wed", "thu", "fri", "sat", "sun";
	// see ParseDay.
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// Severity is a ticket severity and its two targets.
type Severity struct {
	ID string `json:"id"`
	// Acceptance is the time allowed from opening to acknowledgement.
	Acceptance Target `json:"acceptance"`
	// Closure is the time allowed from opening to resolution.
	Closure Target `json:"closure"`
}

// Target is an amount of calendar time: TargetMS milliseconds counted in
// the calendar named Calendar, pauses excluded.
type Target struct {
	TargetMS int64  `json:"target_ms"`
	Calendar string `json:"calendar"`
}

// Duration returns the target as a time.Duration.
func (t Target) Duration() time.Duration { return time.Duration(t.TargetMS) * time.Millisecond }

// Escalation is one escalation level: when a ticket has used AtBPS basis
// points of a target (10000 = the whole target), the parties in Notify are
// notified.
type Escalation struct {
	AtBPS  int64    `json:"at_bps"`
	Notify []string `json:"notify"`
}

// TicketPenalty is the amount, in minor units of price.currency, owed for
// each ticket of Severity whose Target (TargetAcceptance or TargetClosure)
// is breached.
type TicketPenalty struct {
	Severity    string `json:"severity"`
	Target      string `json:"target"`
	AmountMinor int64  `json:"amount_minor"`
}

// SupportObjective is met in a billing period when the mean time of
// Measure (TargetAcceptance: time to respond; TargetClosure: time to
// resolve) over the period's tickets, in calendar time, satisfies
// `mean Operator TargetMS` (Operator OpLE or OpLT).
type SupportObjective struct {
	ID       string `json:"id"`
	Measure  string `json:"measure"`
	Operator string `json:"operator"`
	TargetMS int64  `json:"target_ms"`
}

// Severity returns the severity with the given id.
func (s *Support) Severity(id string) (*Severity, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.Severities {
		if s.Severities[i].ID == id {
			return &s.Severities[i], true
		}
	}
	return nil, false
}

// LookupCalendar returns the calendar with the given id.
func (s *Support) LookupCalendar(id string) (*SupportCalendar, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.Calendars {
		if s.Calendars[i].ID == id {
			return &s.Calendars[i], true
		}
	}
	return nil, false
}

// Penalty returns the per-ticket penalty for a breach of target
// (TargetAcceptance or TargetClosure) by a ticket of severity; ok is false
// when the SLA sets none.
func (s *Support) Penalty(severity, target string) (amountMinor int64, ok bool) {
	if s == nil {
		return 0, false
	}
	for _, p := range s.Penalties {
		if p.Severity == severity && p.Target == target {
			return p.AmountMinor, true
		}
	}
	return 0, false
}

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)

// ParseClock parses a local time of day "HH:MM" (00:00 to 23:59, or 24:00
// for the end of the day) into minutes after midnight (0 to 1440).
func ParseClock(s string) (int, error) {
	if !clockPattern.MatchString(s) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM from 00:00 to 24:00", clip(s))
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m, nil
}

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

// ParseDay parses a week day name of HoursRange.Days ("mon" .. "sun").
func ParseDay(s string) (time.Weekday, bool) {
	d, ok := dayNames[s]
	return d, ok
}

var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// ParseDate parses a holiday date "YYYY-MM-DD" into midnight UTC of that
// date (the calendar interprets it in its own time zone).
func ParseDate(s string) (time.Time, error) {
	if !datePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not a date YYYY-MM-DD", clip(s))
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date", s)
	}
	return t, nil
}

// timeZonePattern admits IANA zone names ("Europe/Rome", "UTC",
// "America/Argentina/Buenos_Aires", "Etc/GMT+1"): one to three segments,
// each starting with an upper-case letter. It leaves out the names some
// operating systems add to their database ("posixrules", "localtime",
// "posix/...", "right/..."), so that the same names are accepted on every
// host.
var timeZonePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*){0,2}$`)

//go:generate go run gen_timezones.go

// checkTimeZone is LoadTimeZone without loading: validation decides from
// the embedded list of names alone, never from the host's files.
func checkTimeZone(name string) error {
	if len(name) > 64 || !timeZonePattern.MatchString(name) || name == "Local" {
		return fmt.Errorf("%q is not an IANA time zone name like Europe/Rome", clip(name))
	}
	if !IsTimeZone(name) {
		return fmt.Errorf("%q is not a time zone of the IANA time zone database", name)
	}
	return nil
}

// timeZoneSet holds the names of timeZoneNames.
var timeZoneSet = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, name := range strings.Split(timeZoneNames, "\n") {
		set[name] = true
	}
	return set
})

// IsTimeZone reports whether name is a zone of the IANA time zone database
// that slasa embeds (time/tzdata of the Go release that generated
// timezones.go). The answer depends on nothing else: not on the host's
// database (which time.LoadLocation reads first, and which may hold more or
// fewer names), so every peer accepts the same calendars.
func IsTimeZone(name string) bool {
	return len(name) <= 64 && timeZonePattern.MatchString(name) && timeZoneSet()[name]
}

// LoadTimeZone loads the IANA time zone of a business-hours calendar. The
// name must be one of the embedded database (see IsTimeZone); "Local" (the
// host's zone) is refused. The database is embedded in the binary
// (time/tzdata), so the zone loads even on a host without one. Note that
// time.LoadLocation prefers the host's database (ZONEINFO, then the system
// directory) when it has the zone, so the rules (offsets, daylight saving
// dates) come from the host's copy there; whether a name is accepted does
// not.
func LoadTimeZone(name string) (*time.Location, error) {
	if err := checkTimeZone(name); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q does not load: %v", name, err)
	}
	return loc, nil
}
