package logger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// ProbeSource is one named probe: it probes URL on behalf of zone Zone (of
// region Region) of an SLA.
type ProbeSource struct {
	Name   string `json:"name"`
	Zone   string `json:"zone"`
	Region string `json:"region,omitempty"`
	URL    string `json:"url"`
}

// ParseProbe parses the flag form "NAME,ZONE,URL" of a probe.
func ParseProbe(text string) (ProbeSource, error) {
	parts := strings.SplitN(text, ",", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ProbeSource{}, fmt.Errorf("probe %q: want NAME,ZONE,URL", text)
	}
	return ProbeSource{Name: parts[0], Zone: parts[1], URL: parts[2]}, nil
}

// ResolveProbes checks probes against an SLA's monitoring zones and fills
// in each probe's region from the zone. Probe names must be unique and URLs
// absolute http or https URLs.
func ResolveProbes(s *sla.SLA, probes []ProbeSource) ([]ProbeSource, error) {
	regions := map[string]string{}
	for _, z := range s.Monitoring.Zones {
		regions[z.ID] = z.Region
	}
	seen := map[string]bool{}
	out := make([]ProbeSource, 0, len(probes))
	for _, p := range probes {
		if p.Name == "" {
			return nil, errors.New("probe: name: must not be empty")
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("probe %q: name given twice", p.Name)
		}
		seen[p.Name] = true
		region, ok := regions[p.Zone]
		if !ok {
			return nil, fmt.Errorf("probe %q: zone %q is not a monitoring zone of SLA %q", p.Name, p.Zone, s.ID)
		}
		if p.Region != "" && p.Region != region {
			return nil, fmt.Errorf("probe %q: region %q is not zone %q's region %q", p.Name, p.Region, p.Zone, region)
		}
		p.Region = region
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("probe %q: url %q: must be an absolute http or https URL", p.Name, p.URL)
		}
		out = append(out, p)
	}
	return out, nil
}

// ProberConfig configures RunProbers.
type ProberConfig struct {
	// SLA gives the sampling period and the slot alignment (validity.start).
	SLA *sla.SLA
	// Probes are the probe sources (ResolveProbes).
	Probes []ProbeSource
	// Timeout bounds one probe request; zero means the sampling period.
	// Keep it below the publisher's cut delay.
	Timeout time.Duration
	// Client makes the requests; nil means a client with Timeout (whose
	// responses Clock observes, when set).
	Client *http.Client
	// Clock, when set, compares the logger's clock with the Date header of
	// every response of the default client.
	Clock *ClockCheck
	// OK decides whether a response status counts as ok; nil means 2xx.
	OK func(status int) bool
	// Sink receives each record line (Spool.Append).
	Sink func(line []byte) error
	// Log receives errors; nil means slog.Default().
	Log *slog.Logger
}

// SampleSlots returns the sampling slot grid of an SLA: slots are the
// instants validity.start + k * sampling period.
func SampleSlots(s *sla.SLA) (origin time.Time, period time.Duration, err error) {
	if s.Interval.SamplingPeriodMS <= 0 {
		return time.Time{}, 0, fmt.Errorf("interval.sampling_period_ms: %d must be positive", s.Interval.SamplingPeriodMS)
	}
	origin, err = signedsla.ParseInstant(s.Validity.Start)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("validity.start: %w", err)
	}
	return origin, time.Duration(s.Interval.SamplingPeriodMS) * time.Millisecond, nil
}

// NextSlot returns the first slot of the grid (origin, period) at or after t.
func NextSlot(origin time.Time, period time.Duration, t time.Time) time.Time {
	d := t.Sub(origin)
	k := d / period
	if d%period != 0 && d > 0 {
		k++
	}
	return origin.Add(k * period)
}

// RunProbers runs one goroutine per probe until ctx ends: at every sampling
// slot it requests the probe's URL and passes a record to cfg.Sink with the
// slot time and the measurements ok (bool), latency_ms and, when a response
// arrived, status.
func RunProbers(ctx context.Context, cfg ProberConfig) error {
	origin, period, err := SampleSlots(cfg.SLA)
	if err != nil {
		return err
	}
	if cfg.Timeout <= 0 || cfg.Timeout > period {
		cfg.Timeout = period
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if cfg.Clock != nil {
			cfg.Client.Transport = cfg.Clock.Transport(nil)
		}
	}
	if cfg.OK == nil {
		cfg.OK = func(status int) bool { return status >= 200 && status < 300 }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	var wg sync.WaitGroup
	for _, p := range cfg.Probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runProbe(ctx, cfg, p, origin, period)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func runProbe(ctx context.Context, cfg ProberConfig, p ProbeSource, origin time.Time, period time.Duration) {
	log := cfg.Log.With("sla", cfg.SLA.ID, "probe", p.Name, "zone", p.Zone)
	next := NextSlot(origin, period, time.Now())
	for {
		if ctxtime.Sleep(ctx, time.Until(next)) != nil {
			return
		}
		slot := next
		next = NextSlot(origin, period, time.Now().Add(time.Millisecond))
		if !next.After(slot) {
			next = slot.Add(period)
		}
		if slot.Before(origin) {
			continue // the SLA's validity has not begun
		}
		line, err := Probe(ctx, cfg.Client, cfg.Timeout, cfg.OK, p, slot)
		if err != nil {
			log.Error("probe", "err", err)
			continue
		}
		if err := cfg.Sink(line); err != nil {
			log.Error("spooling sample", "err", err)
		}
	}
}

// SampleTimeHeader is the request header in which a probe tells the probed
// service the time of the sample it is taking (the slot time, as in the
// record), so that a service can correlate its own logs with the samples.
const SampleTimeHeader = "X-Slasa-Sample-Time"

// Probe requests p.URL once and returns the record of the sample taken at
// slot.
func Probe(ctx context.Context, c *http.Client, timeout time.Duration, ok func(int) bool, p ProbeSource, slot time.Time) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "slasa-cloud-logger")
	req.Header.Set(SampleTimeHeader, slot.UTC().Format(timeLayout))
	start := time.Now()
	resp, err := c.Do(req)
	status := 0
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		status = resp.StatusCode
	}
	latency := time.Since(start).Milliseconds()
	meas := []Measurement{{Name: "ok", Value: b2i(err == nil && ok(status)), Bool: true}, {Name: "latency_ms", Value: latency}}
	if err == nil {
		meas = append(meas, Measurement{Name: "status", Value: int64(status)})
	}
	return FormatRecord(Sample{Time: slot, Probe: p.Name, Zone: p.Zone, Region: p.Region, Measurements: meas})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
