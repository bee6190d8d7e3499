package logger

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/slasa/slasa/internal/opshttp"
)

// DefaultMaxClockOffset is how far the logger's clock may be from the
// probed services' clocks before the logger reports itself degraded.
const DefaultMaxClockOffset = 10 * time.Second

// clockWindow is how many of the latest responses the clock check's median
// covers, and clockMinResponses how many it needs before it judges.
const (
	clockWindow       = 15
	clockMinResponses = 3
)

// ClockCheck compares the logger host's clock with the clocks of the
// services it probes: every probe response carries a Date header (RFC 9110
// requires it from a server with a clock), whose time, to its one-second
// resolution, the service read between the request and the response. The
// samples carry the logger's clock's times and the anchors its transaction
// timestamps, which the peers only keep within the chaincodes' clock skew
// (minutes): a logger whose clock is off would measure the service at the
// wrong instants without anyone noticing. The check reports the offset
// (the median over the latest responses, so one wrong service clock does
// not decide it) as a metric and turns /healthz degraded beyond the limit.
type ClockCheck struct {
	max time.Duration

	mu      sync.Mutex
	offsets []time.Duration // ring of the latest clockWindow offsets
	next    int
}

// NewClockCheck returns a check that reports an offset beyond max (> 0).
func NewClockCheck(max time.Duration) *ClockCheck {
	return &ClockCheck{max: max}
}

// Observe records one response: sent and received are the logger's clock
// before the request and after the response headers, date the response's
// Date header. A missing or malformed Date is ignored.
func (c *ClockCheck) Observe(sent, received time.Time, date string) {
	if date == "" {
		return
	}
	d, err := http.ParseTime(date)
	if err != nil {
		return
	}
	// The service read its clock in [sent, received] and truncated it to the second.
	mid := sent.Add(received.Sub(sent) / 2)
	off := d.Add(500 * time.Millisecond).Sub(mid)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.offsets) < clockWindow {
		c.offsets = append(c.offsets, off)
	} else {
		c.offsets[c.next] = off
		c.next = (c.next + 1) % clockWindow
	}
}

// Offset returns the median of the latest offsets (the probed services'
// clocks minus the logger's: positive when the logger's clock is behind)
// and how many responses it covers.
func (c *ClockCheck) Offset() (time.Duration, int) {
	c.mu.Lock()
	s := append([]time.Duration(nil), c.offsets...)
	c.mu.Unlock()
	if len(s) == 0 {
		return 0, 0
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2], len(s)
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, len(s)
}

// Check is the health check "clock": an error when the median offset of at
// least clockMinResponses responses exceeds the limit.
func (c *ClockCheck) Check(context.Context, time.Time) error {
	off, n := c.Offset()
	if n < clockMinResponses {
		return nil
	}
	abs, dir := off, "behind"
	if off < 0 {
		abs, dir = -off, "ahead of"
	}
	if abs > c.max {
		return fmt.Errorf("the logger's clock is %s %s the probed services' clocks (median of the Date headers of the latest %d responses; limit %s): samples and anchors carry this clock's times",
			abs.Round(time.Second), dir, n, c.max)
	}
	return nil
}

// Register adds the check "clock" and the gauge logger_clock_offset_seconds
// to o.
func (c *ClockCheck) Register(o *opshttp.Ops) {
	o.Gauge("logger_clock_offset_seconds", "The probed services' clocks minus the logger's (median of the Date headers of the latest responses, whole seconds): positive when the logger's clock is behind.",
		func() int64 {
			off, _ := c.Offset()
			return int64(off.Round(time.Second) / time.Second)
		})
	o.Check("clock", c.Check)
}

// Transport returns base (http.DefaultTransport when nil) observing the
// Date header of every response.
func (c *ClockCheck) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return clockTransport{base: base, c: c}
}

type clockTransport struct {
	base http.RoundTripper
	c    *ClockCheck
}

func (t clockTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.c.Observe(sent, time.Now(), resp.Header.Get("Date"))
	}
	return resp, err
}
