// Package logs reads monitoring logs: JSON Lines files with one record per
// line, either a sample of named integer measurements taken by a probe, or an
// incident event (opened, acknowledged, resolved; for trouble tickets also
// paused, resumed, reopened, closed and severity_changed, with the ticket's
// severity) raised by a ticketing system.
//
// A line looks like
//
//	{"time":"2026-03-01T00:00:00.000Z","source":{"probe":"probe-a1","zone":"zone-a","region":"region-1"},"measurements":{"ok":true,"latency_ms":87,"status":200}}
//	{"time":"2026-03-01T00:05:00Z","source":{"probe":"noc","zone":"zone-a","region":"region-1"},"event":{"incident":"INC-42","type":"opened"}}
//
// The schema is schemas/log-record.schema.json. The Decoder turns lines into
// compact, pointer-free Samples: the time in Unix milliseconds, the source
// interned into small integers, the values of the measurements the caller
// asked for and a presence bitmask. Each line goes through up to three
// decoders, the first that accepts it wins: a matcher of the logger's
// canonical compact shape (keys in schema order, no whitespace), a general
// single-pass scanner (any key order, any JSON whitespace), and a strict
// encoding/json based decoder for everything else (escapes, non-ASCII,
// errors). The fast paths accept only lines the strict decoder accepts
// with the same result (checked by FuzzDecode), so the result never depends
// on which path ran. In steady state the fast paths allocate nothing.
package logs

// MaxMeasurements is the largest number of distinct measurement names a
// Decoder extracts into a Sample.
const MaxMeasurements = 8

// Kind tells what a Sample carries.
type Kind uint8

// Kinds of log records.
const (
	KindMeasurement Kind = 1 // the record has "measurements"
	KindEvent       Kind = 2 // the record has an incident "event"
)

// EventType is the type of an incident event.
type EventType uint8

// Incident event types, in lifecycle order. The first three are those of
// any ticketing system (the mean-time drivers read them); the others are
// the further transitions of a trouble ticket of the ticket chaincode, which
// the SLA's support section evaluates (see package driver).
const (
	EventOpened          EventType = 1
	EventAcknowledged    EventType = 2
	EventResolved        EventType = 3
	EventPaused          EventType = 4 // the ticket's clocks stop
	EventResumed         EventType = 5 // they run again
	EventReopened        EventType = 6 // a resolved ticket is back in progress
	EventClosed          EventType = 7 // the resolution is accepted: final
	EventSeverityChanged EventType = 8 // event.severity is the new severity
)

// eventTypes are the JSON spellings, indexed by EventType.
var eventTypes = [...]string{"none", "opened", "acknowledged", "resolved", "paused", "resumed", "reopened", "closed", "severity_changed"}

// ParseEventType returns the event type of its JSON spelling.
func ParseEventType(s string) (EventType, bool) {
	for i := 1; i < len(eventTypes); i++ {
		if eventTypes[i] == s {
			return EventType(i), true
		}
	}
	return 0, false
}

// String returns the JSON spelling of the event type.
func (t EventType) String() string {
	if int(t) < len(eventTypes) {
		return eventTypes[t]
	}
	return "none"
}

// Sample is one decoded log record. It holds no pointers: strings are
// interned by the Decoder's Interner and measurement values are stored by
// the index of their name in Options.Measurements.
type Sample struct {
	// TimeMS is the record time in milliseconds since the Unix epoch (UTC),
	// sub-millisecond digits truncated.
	TimeMS int64
	// Values holds measurement i in Values[i] when bit i of Present is set
	// (booleans are 1 and 0).
	Values [MaxMeasurements]int64
	// Probe, Zone and Region are the interned source fields.
	Probe, Zone, Region uint32
	// Incident is the interned incident id of an event record.
	Incident uint32
	// Severity is the interned event.severity of an event record
	// (Interner.Severities) plus one; 0 when the event has none.
	Severity uint32
	// Present has bit i set when the record carries measurement i.
	Present uint8
	// Kind is KindMeasurement or KindEvent.
	Kind Kind
	// Event is the event type of an event record, 0 otherwise.
	Event EventType
}

// Has reports whether the sample carries measurement i.
func (s *Sample) Has(i int) bool { return s.Present&(1<<uint(i)) != 0 }
