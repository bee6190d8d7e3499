package driver

import (
	"fmt"
	"sort"

	"github.com/slasa/slasa/logs"
)

// Incident is an incident still open at the end of a billing period, as
// carried into the next period's Accumulator (see OpenIncidents and
// NewAccumulatorWithCarry).
type Incident struct {
	// ID is the incident id of its events (event.incident).
	ID string `json:"id"`
	// OpenedMS is the time of its earliest "opened" event, in Unix
	// milliseconds.
	OpenedMS int64 `json:"opened_ms"`
	// Acknowledged is true when an "acknowledged" event was seen before
	// the end of the period (mean-time-to-respond has then counted the
	// incident already); AcknowledgedMS is the earliest one's time.
	Acknowledged   bool  `json:"acknowledged"`
	AcknowledgedMS int64 `json:"acknowledged_ms,omitempty"`
}

// mttStates returns the plan's first mean-time-to-respond and
// mean-time-to-resolve states (nil when the plan has none).
func (a *Accumulator) mttStates() (respond, resolve *mttState) {
	for _, ma := range a.metrics {
		if st, ok := ma.st.(*mttState); ok {
			if st.c.end == logs.EventAcknowledged && respond == nil {
				respond = st
			} else if st.c.end == logs.EventResolved && resolve == nil {
				resolve = st
			}
		}
	}
	return respond, resolve
}

// OpenIncidents returns the incidents open at the end of the period, to
// carry into the next period with NewAccumulatorWithCarry: those with an
// "opened" event before the period's end and no closing event before it.
// The closing event is the resolution when the plan has a
// mean-time-to-resolve metric, else the acknowledgement (plans with only
// mean-time-to-respond). The list is sorted by opening time, then id; it is
// empty when the plan has no mean-time metric. Events after the period's
// end that the accumulator may have seen do not close an incident: they
// are counted in their own period.
func (a *Accumulator) OpenIncidents() []Incident {
	respond, resolve := a.mttStates()
	closing := resolve
	if closing == nil {
		closing = respond
	}
	if closing == nil {
		return nil
	}
	end := a.g.EndMS
	var out []Incident
	for id, in := range closing.incidents {
		if in.has&1 == 0 || in.opened >= end || in.has&2 != 0 && in.end < end {
			continue
		}
		inc := Incident{ID: a.in.Incidents.Name(uint32(id)), OpenedMS: in.opened}
		if respond != nil && id < len(respond.incidents) {
			if r := respond.incidents[id]; r.has&2 != 0 && r.end < end {
				inc.Acknowledged, inc.AcknowledgedMS = true, r.end
			}
		}
		out = append(out, inc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OpenedMS != out[j].OpenedMS {
			return out[i].OpenedMS < out[j].OpenedMS
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// NewAccumulatorWithCarry is NewAccumulator seeded with the incidents still
// open at the end of the previous period (its accumulator's
// OpenIncidents), so that an incident opened in one period and
// acknowledged or resolved in a later one counts, with its full duration,
// in the period where its acknowledgement or resolution falls, as the
// mean-time drivers define.
//
// The rule: each carried incident is added, before any record, as its
// "opened" event at OpenedMS and, when Acknowledged, its "acknowledged"
// event at AcknowledgedMS, exactly as if those events were in the period's
// log (the earliest event of each type wins, so a repeated acknowledgement
// in the new period does not count the incident twice). They are not
// records: SampleCounts does not count them. They are part of the
// accumulator's state, so MarshalBinary keeps them and an accumulator
// restored with UnmarshalBinary needs no carry again. Each incident must
// have a non-empty id, unique in carry, and its times must be before the
// period's start; otherwise the error names the entry and the reason.
func (p *Plan) NewAccumulatorWithCarry(period Period, carry []Incident) (*Accumulator, error) {
	a, err := p.NewAccumulator(period)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(carry))
	for i, inc := range carry {
		switch {
		case inc.ID == "":
			return nil, fmt.Errorf("carry[%d].id: must not be empty", i)
		case seen[inc.ID]:
			return nil, fmt.Errorf("carry[%d].id: incident %q is carried twice", i, inc.ID)
		case inc.OpenedMS >= a.g.StartMS:
			return nil, fmt.Errorf("carry[%d].opened_ms: %d is not before the period start %d", i, inc.OpenedMS, a.g.StartMS)
		case inc.Acknowledged && inc.AcknowledgedMS >= a.g.StartMS:
			return nil, fmt.Errorf("carry[%d].acknowledged_ms: %d is not before the period start %d", i, inc.AcknowledgedMS, a.g.StartMS)
		case !inc.Acknowledged && inc.AcknowledgedMS != 0:
			return nil, fmt.Errorf("carry[%d].acknowledged_ms: set but acknowledged is false", i)
		}
		seen[inc.ID] = true
		id, ok := a.in.Incidents.InternString(inc.ID)
		if !ok {
			return nil, fmt.Errorf("carry[%d].id: more than %d incidents", i, logs.MaxTableEntries)
		}
		ev := logs.Sample{Kind: logs.KindEvent, Event: logs.EventOpened, Incident: id, TimeMS: inc.OpenedMS}
		for j := range a.metrics {
			a.metrics[j].st.AddEvent(&ev)
		}
		if inc.Acknowledged {
			ev.Event, ev.TimeMS = logs.EventAcknowledged, inc.AcknowledgedMS
			for j := range a.metrics {
				a.metrics[j].st.AddEvent(&ev)
			}
		}
	}
	return a, nil
}
