// Package ticketfeed turns a trouble ticket's timeline, as the ticket
// chaincode records it (GetTicket's record.timeline), into incident events
// of the log format (schemas/log-record.schema.json), which the SLA
// enclave's support evaluation reads (package driver): the incident is the
// ticket id, the time the transition's transaction time, and
//
//	CreateTicket      -> opened            (with the ticket's severity)
//	AcknowledgeTicket -> acknowledged
//	PauseTicket       -> paused
//	ResumeTicket      -> resumed
//	ResolveTicket     -> resolved
//	ReopenTicket      -> reopened
//	CloseTicket       -> closed
//	ChangeSeverity    -> severity_changed  (with the new severity)
//
// AssignVendor, UpdateTicket and Escalate do not move the clocks and
// write nothing. It is a pure package (the Cloud Logger uses it, and the
// ticket chaincode's tests cross-check the enclave's outcomes with it).
package ticketfeed

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/slasa/slasa/logs"
)

// Transition is the part of a timeline entry (the ticket chaincode's
// Transition) the feed reads.
type Transition struct {
	Seq      int64  `json:"seq"`
	At       string `json:"at"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
}

// Event is the incident event of one transition.
type Event struct {
	// Seq is the transition's sequence number in the ticket's timeline.
	Seq int64
	// Time is the transition's transaction time, truncated to the
	// millisecond (the log format's resolution).
	Time time.Time
	Type logs.EventType
	// Severity is set on opened and severity_changed.
	Severity string
}

var actions = map[string]logs.EventType{
	"CreateTicket":      logs.EventOpened,
	"AcknowledgeTicket": logs.EventAcknowledged,
	"PauseTicket":       logs.EventPaused,
	"ResumeTicket":      logs.EventResumed,
	"ResolveTicket":     logs.EventResolved,
	"ReopenTicket":      logs.EventReopened,
	"CloseTicket":       logs.EventClosed,
	"ChangeSeverity":    logs.EventSeverityChanged,
}

// silent are the actions that write no event.
var silent = map[string]bool{"AssignVendor": true, "UpdateTicket": true, "Escalate": true}

// Events returns the events of the transitions of timeline whose Seq is
// greater than after, in timeline order. The timeline must be numbered
// 1, 2, 3, ... in order, with valid times and known actions; an error names
// the entry and the reason.
func Events(timeline []Transition, after int64) ([]Event, error) {
	var out []Event
	for i, tr := range timeline {
		if tr.Seq != int64(i)+1 {
			return nil, fmt.Errorf("timeline[%d].seq: %d, want %d", i, tr.Seq, i+1)
		}
		if tr.Seq <= after {
			continue
		}
		if silent[tr.Action] {
			continue
		}
		typ, ok := actions[tr.Action]
		if !ok {
			return nil, fmt.Errorf("timeline[%d].action: %q is not a ticket transition", i, tr.Action)
		}
		at, err := time.Parse(time.RFC3339Nano, tr.At)
		if err != nil {
			return nil, fmt.Errorf("timeline[%d].at: %q is not an RFC 3339 time", i, tr.At)
		}
		ev := Event{Seq: tr.Seq, Time: at.UTC().Truncate(time.Millisecond), Type: typ}
		if typ == logs.EventOpened || typ == logs.EventSeverityChanged {
			if !logs.ValidSeverity(tr.Severity) {
				return nil, fmt.Errorf("timeline[%d].severity: %q is not a severity id", i, tr.Severity)
			}
			ev.Severity = tr.Severity
		}
		out = append(out, ev)
	}
	return out, nil
}

// Source is the log record source the feed writes as: its probe name and
// a zone of the SLA with that zone's region (events count in any zone).
type Source struct {
	Probe  string `json:"probe"`
	Zone   string `json:"zone"`
	Region string `json:"region"`
}

type record struct {
	Time   string `json:"time"`
	Source Source `json:"source"`
	Event  struct {
		Incident string `json:"incident"`
		Type     string `json:"type"`
		Severity string `json:"severity,omitempty"`
	} `json:"event"`
}

// Line returns the log record of ev of ticket as one line of JSON (without
// a line break), keys in schema order.
func Line(ticket string, ev Event, src Source) ([]byte, error) {
	var r record
	r.Time = ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	r.Source = src
	r.Event.Incident, r.Event.Type, r.Event.Severity = ticket, ev.Type.String(), ev.Severity
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("ticket %q: event %d: %w", ticket, ev.Seq, err)
	}
	return b, nil
}
