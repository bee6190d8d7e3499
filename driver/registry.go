package driver

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"sync"

	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
)

// Driver is a versioned algorithmic driver: it checks a metric of an SLA
// (unit, parameters, rules) and computes its value from samples. Drivers are
// registered by id and version; an SLA naming an unregistered pair is
// rejected by Compile.
type Driver interface {
	// ID is the driver id an SLA names in metrics[].driver.id.
	ID() string
	// Version is the driver version an SLA names in metrics[].driver.version.
	Version() string
	// Compile checks the metric and returns its Calculator. Problems are
	// reported through c.Problem; Compile returns nil when there are any.
	Compile(m *sla.Metric, c *CompileContext) Calculator
}

// Calculator computes one compiled metric.
type Calculator interface {
	// Requires returns the measurement indices (from
	// CompileContext.Measurement) a valid sample must carry to be counted
	// by this metric; samples without them are rejected as missing a
	// measurement.
	Requires() []int
	// NewState returns an empty aggregate for one period.
	NewState(g Geometry) State
}

// EventsOnly is implemented by Calculators that read only incident events;
// measurement samples are then neither checked nor counted for the metric
// (its MetricSamples stay zero).
type EventsOnly interface {
	EventsOnly() bool
}

// Geometry describes the period a State aggregates.
type Geometry struct {
	Period Period
	// StartMS and EndMS are the period bounds in Unix milliseconds.
	StartMS, EndMS int64
	// SubIntervalMS is the sub-interval length; SubIntervals the number of
	// sub-intervals in the period.
	SubIntervalMS int64
	SubIntervals  int
	// Zones is the number of zones of the SLA (zone i is
	// monitoring.zones[i]).
	Zones int
}

// State is the aggregate of one metric over one period. It never keeps raw
// samples, and its binary form is deterministic.
type State interface {
	// AddSample counts a valid sample of the metric, in zone and
	// sub-interval sub of the period, failed when one of the metric's
	// failure conditions holds.
	AddSample(s *logs.Sample, zone, sub int, failed bool)
	// AddEvent counts an incident event (any time, any zone).
	AddEvent(s *logs.Sample)
	// Result returns the metric value in its unit (nil when there is no
	// data to compute it from) and details to report, in a fixed order.
	Result() (*big.Rat, Details)
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// CompileContext gives a Driver's Compile access to the SLA being compiled,
// the measurement table and problem reporting.
type CompileContext struct {
	// SLA is the document being compiled.
	SLA *sla.SLA
	// Path is the JSON path of the metric, e.g. "metrics[1]".
	Path     string
	problems *[]sla.Problem
	names    *[]string
}

// Problem records a problem at Path + "." + field.
func (c *CompileContext) Problem(field, format string, args ...any) {
	*c.problems = append(*c.problems, sla.Problem{Path: c.Path + "." + field, Reason: fmt.Sprintf(format, args...)})
}

// Measurement returns the index of the named measurement in the plan's
// measurement table, adding it when new. It returns -1 (after recording a
// problem at field) when the name is invalid or the table is full.
func (c *CompileContext) Measurement(field, name string) int {
	if !logs.ValidMeasurementName(name) {
		c.Problem(field, "%q is not a measurement name (^[a-z][a-z0-9_]{0,63}$)", name)
		return -1
	}
	for i, n := range *c.names {
		if n == name {
			return i
		}
	}
	if len(*c.names) >= logs.MaxMeasurements {
		c.Problem(field, "the SLA references more than %d distinct measurements", logs.MaxMeasurements)
		return -1
	}
	*c.names = append(*c.names, name)
	return len(*c.names) - 1
}

var (
	regMu    sync.RWMutex
	registry = map[string]Driver{}
)

func regKey(id, version string) string { return id + "\x00" + version }

// Register adds a driver to the registry. It fails when the id/version pair
// is already registered or empty.
func Register(d Driver) error {
	if d == nil || d.ID() == "" || d.Version() == "" {
		return fmt.Errorf("driver: Register needs a driver with an id and a version")
	}
	regMu.Lock()
	defer regMu.Unlock()
	k := regKey(d.ID(), d.Version())
	if _, dup := registry[k]; dup {
		return fmt.Errorf("driver: %s version %s is already registered", d.ID(), d.Version())
	}
	registry[k] = d
	return nil
}

// Lookup returns the driver registered under id and version.
func Lookup(id, version string) (Driver, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	d, ok := registry[regKey(id, version)]
	return d, ok
}

// versionsOf lists the registered versions of id, sorted.
func versionsOf(id string) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var vs []string
	for _, d := range registry {
		if d.ID() == id {
			vs = append(vs, d.Version())
		}
	}
	sort.Strings(vs)
	return vs
}

// Registered lists the registered drivers as "id@version", sorted.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for _, d := range registry {
		out = append(out, d.ID()+"@"+d.Version())
	}
	sort.Strings(out)
	return out
}

func init() {
	for _, d := range []Driver{
		availabilityDriver{},
		errorRateDriver{},
		latencyDriver{},
		mttDriver{id: "mean-time-to-respond", end: logs.EventAcknowledged},
		mttDriver{id: "mean-time-to-resolve", end: logs.EventResolved},
		throughputDriver{},
	} {
		if err := Register(d); err != nil {
			panic(err)
		}
	}
}

// Detail is one named integer reported with a metric's value.
type Detail struct {
	Name  string
	Value int64
}

// Details are reported as a JSON object whose keys keep their order.
type Details []Detail

// MarshalJSON writes {"name":value,...} in order. Names are the drivers'
// fixed ASCII identifiers.
func (d Details) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, x := range d {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%q:%d", x.Name, x.Value)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes: a JSON object of integers,
// keeping the order of its keys, so that decoding and encoding again gives
// the same bytes. A value that is not an integer in the int64 range, a
// repeated name or anything but an object (or null, which gives nil) is an
// error naming the detail.
func (d *Details) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("details: %v", err)
	}
	if tok == nil {
		*d = nil
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("details: want a JSON object of integers, got %v", tok)
	}
	out := Details{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("details: %v", err)
		}
		name, _ := tok.(string) // object keys are strings
		if tok, err = dec.Token(); err != nil {
			return fmt.Errorf("details.%s: %v", name, err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return fmt.Errorf("details.%s: want an integer, got %v", name, tok)
		}
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return fmt.Errorf("details.%s: %s is not an integer in the int64 range", name, num)
		}
		for _, x := range out {
			if x.Name == name {
				return fmt.Errorf("details.%s: repeated", name)
			}
		}
		out = append(out, Detail{Name: name, Value: v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("details: %v", err)
	}
	*d = out
	return nil
}
