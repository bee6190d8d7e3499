package logger

import (
	"errors"
	"fmt"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// ErrAfterValidity is returned by Windows when a time is at or after the end
// of the SLA's validity: there is no window to cut.
var ErrAfterValidity = errors.New("the SLA's validity window has ended")

// ErrBeforeValidity is returned by Windows when a time is before the start of
// the SLA's validity.
var ErrBeforeValidity = errors.New("the SLA's validity window has not begun")

// Window is one batch window [Start, End).
type Window struct {
	Start time.Time
	End   time.Time
}

// String formats the window as "start/end" in RFC 3339.
func (w Window) String() string {
	return w.Start.Format(time.RFC3339) + "/" + w.End.Format(time.RFC3339)
}

// Windows cuts an SLA's time into batch windows of a fixed width, aligned to
// its billing periods.
type Windows struct {
	sla           *sla.SLA
	width         time.Duration
	validityStart time.Time
	validityEnd   time.Time
}

// NewWindows returns the windows of width (a whole number of seconds, at
// least one) of s.
func NewWindows(s *sla.SLA, width time.Duration) (*Windows, error) {
	if width < time.Second || width%time.Second != 0 {
		return nil, fmt.Errorf("window width: %s must be a whole number of seconds, at least 1s", width)
	}
	vs, err := signedsla.ParseInstant(s.Validity.Start)
	if err != nil {
		return nil, fmt.Errorf("validity.start: %w", err)
	}
	ve, err := signedsla.ParseInstant(s.Validity.End)
	if err != nil {
		return nil, fmt.Errorf("validity.end: %w", err)
	}
	return &Windows{sla: s, width: width, validityStart: vs, validityEnd: ve}, nil
}

// Width is the windows' width.
func (w *Windows) Width() time.Duration { return w.width }

// ValidityEnd is the end of the SLA's validity: no window ends after it.
func (w *Windows) ValidityEnd() time.Time { return w.validityEnd }

// Period returns the billing period that contains t.
func (w *Windows) Period(t time.Time) (driver.Period, error) {
	t = t.UTC()
	if !t.Before(w.validityEnd) {
		return driver.Period{}, ErrAfterValidity
	}
	if t.Before(w.validityStart) {
		return driver.Period{}, ErrBeforeValidity
	}
	return driver.PeriodOf(w.sla, t)
}

// Containing returns the window that contains t: the windows of a period
// are [start + k*width, start + (k+1)*width), the last one cut at the
// period's end.
func (w *Windows) Containing(t time.Time) (Window, error) {
	p, err := w.Period(t)
	if err != nil {
		return Window{}, err
	}
	k := t.UTC().Sub(p.Start) / w.width
	start := p.Start.Add(k * w.width)
	end := start.Add(w.width)
	if end.After(p.End) {
		end = p.End
	}
	return Window{Start: start, End: end}, nil
}

// First returns the window the logger starts with when it starts at t: the
// first window of the billing period that contains t (or of the first
// period, when the validity has not begun).
func (w *Windows) First(t time.Time) (Window, error) {
	if t.Before(w.validityStart) {
		t = w.validityStart
	}
	p, err := w.Period(t)
	if err != nil {
		return Window{}, err
	}
	return w.Containing(p.Start)
}

// Next returns the window that follows the window ending at end.
func (w *Windows) Next(end time.Time) (Window, error) {
	return w.Containing(end)
}
