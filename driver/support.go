package driver

import (
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/slasa/slasa/calendar"
	"github.com/slasa/slasa/logs"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/ticketclock"
)

// The support evaluation: the SLA's support section (trouble tickets)
// judged from the tickets' incident events in the period's logs.
//
// A ticket is an incident whose "opened" event names a severity of the
// SLA's support section (event.severity); its other events are
// acknowledged, paused, resumed, resolved, reopened, closed and
// severity_changed, as the ticket chaincode's transitions (the Cloud
// Logger's ticket feed writes them). Its events are replayed in time order
// exactly as the ticket chaincode computes its clocks (package ticketclock:
// both clocks start at the opening, pauses excluded, in the calendar of
// each target of the ticket's severity; a severity change restarts the
// running clocks with the new targets, the time counted so far kept or not
// as support.severity_change says; a reopening clears the closure outcome):
//
//   - the acceptance outcome (time to respond) counts in the period in
//     which the acknowledgement falls;
//   - the closure outcome (time to resolve, at the last resolution) counts
//     in the period in which the ticket is closed (a resolved ticket may
//     still be reopened, so its closure is final only then).
//
// Each counted target adds its time to the period's mean for the support
// objectives of its measure and, when breached, the penalty of its severity
// and target (support.penalties) to the period's penalty amount. A ticket
// not closed at the end of a period is carried into the next one with its
// events (OpenTickets, CarryTickets), so every target counts in exactly one
// period. Times are whole milliseconds (the log's resolution).

// MaxTicketEvents bounds the events kept per ticket; later ones are
// ignored (counted in SupportOutcome.IgnoredEvents).
const MaxTicketEvents = 512

// supportPlan is the compiled support section.
type supportPlan struct {
	s    *sla.Support
	sevs []sevTerms // in the order of s.Severities
}

// sevTerms are a severity's targets with their calendars and penalties.
type sevTerms struct {
	id       string
	acc, clo targetTerms
}

type targetTerms struct {
	ms      int64
	cal     *calendar.Calendar
	penalty int64
}

// compileSupport compiles the support section, reporting problems with
// add.
func compileSupport(s *sla.Support, add func(path, format string, args ...any)) *supportPlan {
	sp := &supportPlan{s: s}
	for i, sev := range s.Severities {
		st := sevTerms{id: sev.ID}
		for _, tg := range []struct {
			name string
			in   sla.Target
			out  *targetTerms
		}{{sla.TargetAcceptance, sev.Acceptance, &st.acc}, {sla.TargetClosure, sev.Closure, &st.clo}} {
			path := fmt.Sprintf("support.severities[%d].%s", i, tg.name)
			c, ok := s.LookupCalendar(tg.in.Calendar)
			if !ok {
				add(path+".calendar", "%q is not a calendar of support.calendars", tg.in.Calendar)
				continue
			}
			cal, err := ticketclock.Calendar(*c)
			if err != nil {
				add(path+".calendar", "%v", err)
				continue
			}
			if tg.in.TargetMS < 1 {
				add(path+".target_ms", "must be positive")
			}
			pen, _ := s.Penalty(sev.ID, tg.name)
			*tg.out = targetTerms{ms: tg.in.TargetMS, cal: cal, penalty: pen}
		}
		sp.sevs = append(sp.sevs, st)
	}
	for i, o := range s.Objectives {
		if o.Operator != sla.OpLE && o.Operator != sla.OpLT {
			add(fmt.Sprintf("support.objectives[%d].operator", i), "%q is not <= or <", o.Operator)
		}
		if o.Measure != sla.TargetAcceptance && o.Measure != sla.TargetClosure {
			add(fmt.Sprintf("support.objectives[%d].measure", i), "%q is not acceptance or closure", o.Measure)
		}
	}
	return sp
}

// severity returns the index of severity id, -1 when unknown.
func (sp *supportPlan) severity(id string) int {
	for i := range sp.sevs {
		if sp.sevs[i].id == id {
			return i
		}
	}
	return -1
}

// ticketEv is one event of a ticket.
type ticketEv struct {
	at  int64
	typ logs.EventType
	sev int32 // severity index for opened and severity_changed; -1 none, -2 unknown
}

// supportState holds the events of every ticket, by interned incident id.
type supportState struct {
	tickets [][]ticketEv
	ignored int64 // events beyond MaxTicketEvents
}

// add records a ticket event (repeated events, e.g. written again by a
// restarted feed, are kept once).
func (st *supportState) add(sp *supportPlan, in *logs.Interner, s *logs.Sample) {
	ev := ticketEv{at: s.TimeMS, typ: s.Event, sev: -1}
	if s.Severity > 0 {
		ev.sev = int32(sp.severity(in.Severities.Name(s.Severity - 1)))
		if ev.sev < 0 {
			ev.sev = -2
		}
	}
	st.addEv(int(s.Incident), ev)
}

func (st *supportState) addEv(id int, ev ticketEv) {
	for id >= len(st.tickets) {
		st.tickets = append(st.tickets, nil)
	}
	evs := st.tickets[id]
	for _, e := range evs {
		if e == ev {
			return
		}
	}
	if len(evs) >= MaxTicketEvents {
		st.ignored++
		return
	}
	st.tickets[id] = append(evs, ev)
}

// sorted returns a ticket's events in time order (stable: events of the
// same millisecond keep their log order).
func sorted(evs []ticketEv) []ticketEv {
	out := append([]ticketEv(nil), evs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// clockState is a target's clock during a replay.
type clockState struct {
	start   int64
	carried time.Duration
	outcome *stopped
}

type stopped struct {
	at  int64
	sev int
	j   ticketclock.Judgement
}

// replay is the result of replaying a ticket's events.
type replay struct {
	valid    bool // opened with a known severity, consistent
	sev      int
	acc, clo clockState
	closedAt int64 // -1 when not closed
	reason   string
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// replayTicket replays a ticket's events up to (excluding) endMS.
func (sp *supportPlan) replayTicket(evs []ticketEv, endMS int64) replay {
	r := replay{closedAt: -1, sev: -1}
	var pauses []calendar.Interval
	paused := false
	elapsed := func(name string, c *clockState, at int64) time.Duration {
		tt := &sp.sevs[r.sev].acc
		if name == sla.TargetClosure {
			tt = &sp.sevs[r.sev].clo
		}
		return ticketclock.Elapsed(tt.cal, msTime(c.start), msTime(at), c.carried, pauses)
	}
	stop := func(name string, c *clockState, at int64) {
		tt := sp.sevs[r.sev].acc
		if name == sla.TargetClosure {
			tt = sp.sevs[r.sev].clo
		}
		c.outcome = &stopped{at: at, sev: r.sev, j: ticketclock.Judge(tt.ms, elapsed(name, c, at), tt.penalty)}
	}
	for _, e := range evs {
		if e.at >= endMS {
			break
		}
		if r.sev < 0 && e.typ != logs.EventOpened {
			continue // before the opening: not (yet) a ticket
		}
		switch e.typ {
		case logs.EventOpened:
			if r.sev >= 0 {
				continue // opened again: the first opening counts
			}
			if e.sev < 0 {
				r.reason = "opened without a severity of the SLA"
				return r
			}
			r.valid, r.sev = true, int(e.sev)
			r.acc, r.clo = clockState{start: e.at}, clockState{start: e.at}
		case logs.EventPaused:
			if !paused {
				pauses, paused = append(pauses, calendar.Interval{From: msTime(e.at)}), true
			}
		case logs.EventResumed:
			if paused {
				pauses[len(pauses)-1].To, paused = msTime(e.at), false
			}
		case logs.EventAcknowledged:
			if r.acc.outcome == nil {
				stop(sla.TargetAcceptance, &r.acc, e.at)
			}
		case logs.EventResolved:
			if r.clo.outcome == nil {
				stop(sla.TargetClosure, &r.clo, e.at)
			}
		case logs.EventReopened:
			if r.closedAt < 0 {
				r.clo.outcome = nil
			}
		case logs.EventClosed:
			if r.clo.outcome == nil {
				r.valid, r.reason = false, "closed before it was resolved"
				return r
			}
			if r.closedAt < 0 {
				r.closedAt = e.at
			}
		case logs.EventSeverityChanged:
			if e.sev < 0 {
				r.valid, r.reason = false, "severity changed to a severity not of the SLA"
				return r
			}
			if int(e.sev) == r.sev {
				continue
			}
			restart := sp.s.SeverityChange == sla.SeverityChangeRestart
			for _, name := range []string{sla.TargetAcceptance, sla.TargetClosure} {
				c := &r.acc
				if name == sla.TargetClosure {
					c = &r.clo
				}
				if c.outcome != nil {
					continue
				}
				var carried time.Duration
				if !restart {
					carried = time.Duration(elapsed(name, c, e.at).Milliseconds()) * time.Millisecond
				}
				c.start, c.carried = e.at, carried
			}
			r.sev = int(e.sev)
		}
	}
	if r.sev < 0 {
		r.reason = "no opened event"
	}
	return r
}

// TicketOutcome is a target of a ticket counted in the period.
type TicketOutcome struct {
	// Ticket is the ticket id (the incident id of its events).
	Ticket string `json:"ticket"`
	// Severity is the ticket's severity when the clock stopped.
	Severity string `json:"severity"`
	// Target is "acceptance" or "closure".
	Target string `json:"target"`
	// Result is "met" or "breached".
	Result string `json:"result"`
	// At is when the clock stopped (acknowledgement, last resolution).
	At string `json:"at"`
	// ElapsedMS is the counted calendar time, MarginMS the target minus
	// it (negative when breached), TargetMS the target.
	ElapsedMS int64 `json:"elapsed_ms"`
	MarginMS  int64 `json:"margin_ms"`
	TargetMS  int64 `json:"target_ms"`
	// PenaltyMinor is owed for a breach (support.penalties), 0 when met.
	PenaltyMinor int64 `json:"penalty_minor"`
}

// SupportObjectiveOutcome is a support objective in the period.
type SupportObjectiveOutcome struct {
	ID      string `json:"id"`
	Measure string `json:"measure"`
	// Objective is "OPERATOR TARGET_MS", e.g. "<= 1200000".
	Objective string `json:"objective"`
	// Tickets is the number of targets of Measure counted in the period.
	Tickets int64 `json:"tickets"`
	// ValueMS is their mean elapsed time in ms truncated to ValueDecimals
	// places ("" without tickets); Exact the exact mean "num/den".
	ValueMS string `json:"value_ms"`
	Exact   string `json:"exact"`
	NoData  bool   `json:"no_data"`
	Met     bool   `json:"met"`
}

// SupportOutcome is the support section's result for a period.
type SupportOutcome struct {
	Objectives []SupportObjectiveOutcome `json:"objectives"`
	// Tickets are the targets counted in the period, by ticket id, then
	// acceptance before closure.
	Tickets []TicketOutcome `json:"tickets"`
	// PenaltyAmount sums the tickets' penalties.
	PenaltyAmount int64 `json:"penalty_amount"`
	// Open is the number of tickets not closed at the end of the period
	// (carried into the next one).
	Open int64 `json:"open"`
	// Ignored counts the incidents that are not valid tickets (no opened
	// event with a severity of the SLA, closed before resolved, ...);
	// IgnoredEvents the events beyond MaxTicketEvents of a ticket.
	Ignored       int64 `json:"ignored"`
	IgnoredEvents int64 `json:"ignored_events"`
}

// supportOutcome evaluates the support section over the period.
func (a *Accumulator) supportOutcome() *SupportOutcome {
	sp, st := a.plan.support, a.sup
	out := &SupportOutcome{Objectives: []SupportObjectiveOutcome{}, Tickets: []TicketOutcome{}, IgnoredEvents: st.ignored}
	type named struct {
		id  string
		evs []ticketEv
	}
	var ts []named
	for id, evs := range st.tickets {
		if len(evs) > 0 {
			ts = append(ts, named{a.in.Incidents.Name(uint32(id)), evs})
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	sums := map[string]*[2]int64{sla.TargetAcceptance: {}, sla.TargetClosure: {}} // n, sum of ms
	in := func(ms int64) bool { return ms >= a.g.StartMS && ms < a.g.EndMS }
	for _, t := range ts {
		r := sp.replayTicket(sorted(t.evs), a.g.EndMS)
		if !r.valid {
			if hasOpened(t.evs) {
				out.Ignored++
			}
			continue
		}
		if r.closedAt < 0 {
			out.Open++
		}
		for _, c := range []struct {
			name string
			o    *stopped
			when int64
		}{{sla.TargetAcceptance, r.acc.outcome, -1}, {sla.TargetClosure, r.clo.outcome, r.closedAt}} {
			if c.o == nil {
				continue
			}
			when := c.when
			if c.name == sla.TargetAcceptance {
				when = c.o.at
			}
			if when < 0 || !in(when) {
				continue
			}
			tt := sp.sevs[c.o.sev].acc
			if c.name == sla.TargetClosure {
				tt = sp.sevs[c.o.sev].clo
			}
			to := TicketOutcome{Ticket: t.id, Severity: sp.sevs[c.o.sev].id, Target: c.name, Result: "met",
				At: msTime(c.o.at).Format("2006-01-02T15:04:05.000Z07:00"), ElapsedMS: c.o.j.ElapsedMS, MarginMS: c.o.j.MarginMS,
				TargetMS: tt.ms, PenaltyMinor: c.o.j.PenaltyMinor}
			if c.o.j.Breached {
				to.Result = "breached"
			}
			out.Tickets = append(out.Tickets, to)
			out.PenaltyAmount += to.PenaltyMinor
			s := sums[c.name]
			s[0]++
			s[1] += to.ElapsedMS
		}
	}
	for _, o := range sp.s.Objectives {
		s := sums[o.Measure]
		oo := SupportObjectiveOutcome{ID: o.ID, Measure: o.Measure, Objective: fmt.Sprintf("%s %d", o.Operator, o.TargetMS), Met: true}
		if s == nil || s[0] == 0 {
			oo.NoData = true
		} else {
			oo.Tickets = s[0]
			v := new(big.Rat).SetFrac(big.NewInt(s[1]), big.NewInt(s[0]))
			oo.ValueMS, oo.Exact = FormatDecimal(v, ValueDecimals), v.String()
			oo.Met = meets(o.Operator, v, new(big.Rat).SetInt64(o.TargetMS))
		}
		out.Objectives = append(out.Objectives, oo)
	}
	return out
}

func hasOpened(evs []ticketEv) bool {
	for _, e := range evs {
		if e.typ == logs.EventOpened {
			return true
		}
	}
	return false
}

// Ticket is a ticket not closed at the end of a period, as carried into
// the next period (OpenTickets, CarryTickets): its id and its events so far.
type Ticket struct {
	ID     string        `json:"id"`
	Events []TicketEvent `json:"events"`
}

// TicketEvent is one event of a carried Ticket.
type TicketEvent struct {
	TimeMS int64  `json:"time_ms"`
	Type   string `json:"type"`
	// Severity is set on opened and severity_changed events.
	Severity string `json:"severity,omitempty"`
}

// OpenTickets returns the tickets not closed at the end of the period
// (valid tickets: opened with a severity of the SLA), with their events
// before the period's end in time order, sorted by id, to carry into the
// next period with CarryTickets. It is empty when the SLA has no support
// section.
func (a *Accumulator) OpenTickets() []Ticket {
	if a.sup == nil {
		return []Ticket{}
	}
	out := []Ticket{}
	for id, evs := range a.sup.tickets {
		if len(evs) == 0 {
			continue
		}
		evs = sorted(evs)
		r := a.plan.support.replayTicket(evs, a.g.EndMS)
		if !r.valid || r.closedAt >= 0 {
			continue
		}
		t := Ticket{ID: a.in.Incidents.Name(uint32(id)), Events: []TicketEvent{}}
		for _, e := range evs {
			if e.at >= a.g.EndMS {
				break
			}
			if (e.typ == logs.EventOpened || e.typ == logs.EventSeverityChanged) && e.sev < 0 {
				continue // a later opening without a known severity: the replay ignores it
			}
			te := TicketEvent{TimeMS: e.at, Type: e.typ.String()}
			if e.sev >= 0 {
				te.Severity = a.plan.support.sevs[e.sev].id
			}
			t.Events = append(t.Events, te)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CarryTickets adds the tickets carried from the previous period (its
// accumulator's OpenTickets) to an accumulator that has no ticket events
// yet: their events count as if they were in the period's log (they are
// not records: SampleCounts does not count them). Each ticket must have a
// non-empty id unique in carry and 1..MaxTicketEvents events before the
// period's start with a known type and, on opened and severity_changed,
// a severity of the SLA; otherwise the error names the entry and the
// reason and nothing is added.
func (a *Accumulator) CarryTickets(carry []Ticket) error {
	if len(carry) == 0 {
		return nil
	}
	if a.sup == nil {
		return fmt.Errorf("carry: the SLA has no support section")
	}
	for _, evs := range a.sup.tickets {
		if len(evs) > 0 {
			return fmt.Errorf("carry: the accumulator has ticket events already")
		}
	}
	seen := make(map[string]bool, len(carry))
	type item struct {
		id  string
		evs []ticketEv
	}
	var items []item
	for i, t := range carry {
		switch {
		case t.ID == "":
			return fmt.Errorf("carry[%d].id: must not be empty", i)
		case seen[t.ID]:
			return fmt.Errorf("carry[%d].id: ticket %q is carried twice", i, t.ID)
		case len(t.Events) == 0 || len(t.Events) > MaxTicketEvents:
			return fmt.Errorf("carry[%d].events: %d events, want 1..%d", i, len(t.Events), MaxTicketEvents)
		}
		seen[t.ID] = true
		it := item{id: t.ID}
		for j, e := range t.Events {
			path := fmt.Sprintf("carry[%d].events[%d]", i, j)
			typ, ok := logs.ParseEventType(e.Type)
			if !ok {
				return fmt.Errorf("%s.type: %q is not an event type", path, e.Type)
			}
			if e.TimeMS >= a.g.StartMS {
				return fmt.Errorf("%s.time_ms: %d is not before the period start %d", path, e.TimeMS, a.g.StartMS)
			}
			ev := ticketEv{at: e.TimeMS, typ: typ, sev: -1}
			hasSev := typ == logs.EventOpened || typ == logs.EventSeverityChanged
			switch {
			case hasSev:
				ev.sev = int32(a.plan.support.severity(e.Severity))
				if ev.sev < 0 {
					return fmt.Errorf("%s.severity: %q is not a severity of the SLA", path, e.Severity)
				}
			case e.Severity != "":
				return fmt.Errorf("%s.severity: set on a %s event", path, e.Type)
			}
			it.evs = append(it.evs, ev)
		}
		items = append(items, it)
	}
	for i, it := range items {
		id, ok := a.in.Incidents.InternString(it.id)
		if !ok {
			return fmt.Errorf("carry[%d].id: more than %d incidents", i, logs.MaxTableEntries)
		}
		for _, ev := range it.evs {
			a.sup.addEv(int(id), ev)
		}
	}
	return nil
}

// marshal writes the ticket events (after the metric states, only
// for SLAs with a support section).
func (st *supportState) marshal(e *enc) {
	n := 0
	for _, evs := range st.tickets {
		if len(evs) > 0 {
			n++
		}
	}
	e.i(st.ignored)
	e.u(uint64(n))
	for id, evs := range st.tickets {
		if len(evs) == 0 {
			continue
		}
		e.u(uint64(id))
		e.u(uint64(len(evs)))
		for _, ev := range evs {
			e.i(ev.at)
			e.u(uint64(ev.typ))
			e.i(int64(ev.sev))
		}
	}
}

// unmarshalSupport reads what marshal wrote, for incident ids below
// nIncidents and nSev severities.
func unmarshalSupport(d *dec, nIncidents, nSev int) (*supportState, error) {
	st := &supportState{ignored: d.i()}
	n := d.count(nIncidents)
	prev := -1
	for i := 0; i < n && d.err == nil; i++ {
		id := d.count(nIncidents - 1)
		if d.err == nil && id <= prev {
			return nil, fmt.Errorf("ticket state: ids out of order: corrupt data")
		}
		prev = id
		k := d.count(MaxTicketEvents)
		if d.err == nil && k == 0 {
			return nil, fmt.Errorf("ticket state: empty ticket: corrupt data")
		}
		evs := make([]ticketEv, 0, k)
		for j := 0; j < k && d.err == nil; j++ {
			ev := ticketEv{at: d.i(), typ: logs.EventType(d.u()), sev: int32(d.i())}
			named := ev.typ == logs.EventOpened || ev.typ == logs.EventSeverityChanged
			if ev.typ < logs.EventOpened || ev.typ > logs.EventSeverityChanged || ev.sev < -2 || int(ev.sev) >= nSev || !named && ev.sev != -1 {
				return nil, fmt.Errorf("ticket state: bad event: corrupt data")
			}
			evs = append(evs, ev)
		}
		for id >= len(st.tickets) {
			st.tickets = append(st.tickets, nil)
		}
		st.tickets[id] = evs
	}
	return st, d.err
}
