// Package calendar does the time arithmetic of support targets: how much of the time between two instants
// counts on a calendar, and when a target is reached.
//
// # What counts
//
// A calendar is either 24x7, where every instant counts, or business hours in an IANA time zone: for each
// weekday, ranges [From, To) of wall-clock minutes after local midnight (08:00–18:00 is From 480, To 1080; To
// 1440 is the next midnight). Nothing counts on a holiday, a whole local date in the calendar's zone. Start an
// SLA clock outside business hours and it starts at the next opening; reach the end of a day's hours and it
// stops until the next one.
//
// # Pauses
//
// Pauses are intervals [From, To) during which nothing counts (a ticket waiting on the customer). They may
// overlap each other, business hours, closed hours and holidays: each instant is excluded at most once, so a
// pause over a weekend takes nothing away, and two overlapping pauses take away their union. A pause whose To
// is zero is still open: nothing from its From on counts, so a deadline that the open pause interrupts cannot
// be known yet (Deadline returns ok false) until the pause is closed. Empty pauses (To not after From) are
// ignored.
//
// # Daylight saving time
//
// Business hours are wall-clock hours in the zone: each range of a date is the real interval between
// time.Date(date, From) and time.Date(date, To) in the zone, so a range that does not touch a change of the
// zone's offset counts its wall-clock length (08:00–18:00 counts 10 h on the days DST starts and ends in Europe
// and in the United States, where the clocks change at night). A range across the change counts the real time
// between its ends: 00:00–24:00 counts 23 h on the day the clocks go forward and 25 h on the day they go back,
// and 01:00–03:00 counts 1 h on 2026-03-29 in Europe/Rome (02:00–03:00 does not exist) and 3 h on 2026-11-01 in
// America/New_York (01:00–02:00 happens twice). time.Date normalises a wall-clock time that does not exist by
// moving it forward by the length of the gap (02:30 on 2026-03-29 in Europe/Rome is 03:30 CEST), and picks one
// occurrence of a repeated one, the zone's offset before the change west of Greenwich and after it east of it
// (01:30 on 2026-11-01 in America/New_York is 01:30 EDT, the first; 02:30 on 2026-10-25 in Europe/Rome is
// 02:30 CET, the second). An end that normalises before its start makes an empty range, and an instant that two
// ranges both cover counts once. The package's tests pin these results.
//
// # Determinism
//
// The arithmetic uses integers and time types only, and the package embeds its own copy of the IANA time zone
// database (version TZDataVersion), which it reads instead of the operating system's: every machine computes
// the same instants. Holidays are finite and every business-hours calendar has some hours, so time always
// counts again within a few days; the search is bounded by MaxSearchDays all the same.
package calendar
