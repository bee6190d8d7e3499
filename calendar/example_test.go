package calendar_test

import (
	"fmt"
	"time"

	"github.com/slasa/slasa/calendar"
)

// A ticket opened on Christmas Eve afternoon with a 4-hour target on office hours: one hour counts on the 24th,
// nothing over the holidays and the weekend, and a pause while waiting on the customer takes the first hour of
// Monday.
func Example() {
	office, err := calendar.New(calendar.Spec{
		TimeZone: "Europe/Rome",
		Hours: []calendar.Range{
			{Day: time.Monday, From: 8 * 60, To: 18 * 60},
			{Day: time.Tuesday, From: 8 * 60, To: 18 * 60},
			{Day: time.Wednesday, From: 8 * 60, To: 18 * 60},
			{Day: time.Thursday, From: 8 * 60, To: 18 * 60},
			{Day: time.Friday, From: 8 * 60, To: 18 * 60},
		},
		Holidays: []string{"2026-12-25", "2026-12-26"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	opened := time.Date(2026, 12, 24, 16, 0, 0, 0, time.UTC) // 17:00 in Rome
	pauses := []calendar.Interval{{
		From: time.Date(2026, 12, 28, 7, 0, 0, 0, time.UTC), // 08:00 to 09:00 in Rome
		To:   time.Date(2026, 12, 28, 8, 0, 0, 0, time.UTC),
	}}
	deadline, ok := office.Deadline(opened, 4*time.Hour, pauses)
	fmt.Println(deadline, ok)
	fmt.Println(office.Elapsed(opened, deadline, pauses))

	// Still waiting on the customer: the deadline is not known until the pause ends.
	_, ok = office.Deadline(opened, 4*time.Hour, []calendar.Interval{{From: time.Date(2026, 12, 28, 7, 0, 0, 0, time.UTC)}})
	fmt.Println(ok)
	// Output:
	// 2026-12-28 11:00:00 +0000 UTC true
	// 4h0m0s
	// false
}
