package slaenclave_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/slaenclave"
)

// ticketSupport is a support section with one 24x7 severity: respond in
// 60 s (penalty 700), resolve in 120 s (penalty 900).
const ticketSupport = `,
  "support": {
    "calendars": [{"id": "always", "kind": "24x7"}],
    "severities": [{"id": "critical", "acceptance": {"target_ms": 60000, "calendar": "always"}, "closure": {"target_ms": 120000, "calendar": "always"}}],
    "severity_change": "keep_elapsed",
    "penalties": [{"severity": "critical", "target": "acceptance", "amount_minor": 700}, {"severity": "critical", "target": "closure", "amount_minor": 900}],
    "objectives": [{"id": "mttrespond", "measure": "acceptance", "operator": "<=", "target_ms": 60000},
                   {"id": "mttresolve", "measure": "closure", "operator": "<=", "target_ms": 120000}]
  }
}`

func ticketLine(at time.Time, ticket, typ, severity string) string {
	sev := ""
	if severity != "" {
		sev = fmt.Sprintf(`,"severity":%q`, severity)
	}
	return fmt.Sprintf(`{"time":%q,"source":{"probe":"tickets","zone":"zone-a","region":"region-1"},"event":{"incident":%q,"type":%q%s}}`,
		at.UTC().Format("2006-01-02T15:04:05.000Z"), ticket, typ, sev) + "\n"
}

// TestTicketsInTheVerdict: the tickets' events in the batches enter the
// period's signed verdict (penalty amount) and its report (per-ticket
// outcomes, MTTRespond / MTTResolve); a ticket open at a period's end is
// carried into the next period, whether the first period was evaluated
// before the next one's first batch (carried from the frozen period) or
// not (carried from its aggregate), and each target counts once.
func TestTicketsInTheVerdict(t *testing.T) {
	for _, evalFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("evaluated before the next period: %v", evalFirst), func(t *testing.T) {
			w, f := start(t)
			vs := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
			sec := func(n int) time.Time { return vs.Add(time.Duration(n) * time.Second) }
			const id = "sla-tickets"
			doc := strings.TrimSuffix(string(w.doc(id, vs, vs.Add(24*time.Hour), "Tickets")), "\n}") + ticketSupport
			f.must(t, w.provider, slaenclave.FnRegisterAgreement, string(signRecord(t, []byte(doc), w.provider, w.client)))

			// Period 0 [0, 300): T1 acknowledged after 90 s (breached, 700),
			// resolved after 110 s (met), closed; T2 opened at 250,
			// acknowledged after 30 s (met): both objectives are met, but the
			// breach makes the period violated (a verdict with a penalty
			// must be). Period 1: T2 resolved at 340 (90 s, met) and closed.
			b1 := f.batch(t, w.logger, header(id, 1, "", sec(0), sec(150)),
				ticketLine(sec(10), "T1", "opened", "critical")+ticketLine(sec(100), "T1", "acknowledged", "")+ticketLine(sec(120), "T1", "resolved", ""))
			f.must(t, w.logger, slaenclave.FnIngestBatch, id, "1", b1)
			b2 := f.batch(t, w.logger, header(id, 2, b1, sec(150), sec(300)),
				ticketLine(sec(160), "T1", "closed", "")+
					ticketLine(sec(250), "T2", "opened", "critical")+ticketLine(sec(280), "T2", "acknowledged", ""))
			f.must(t, w.logger, slaenclave.FnIngestBatch, id, "2", b2)
			b3 := f.batch(t, w.logger, header(id, 3, b2, sec(300), sec(450)),
				ticketLine(sec(340), "T2", "resolved", "")+ticketLine(sec(350), "T2", "closed", ""))
			b4 := f.batch(t, w.logger, header(id, 4, b3, sec(450), sec(600)), "")

			evaluate := func(period time.Time) (*driver.Outcome, int64) {
				ev, err := slaenclave.ParseEvaluation(f.must(t, w.client, slaenclave.FnEvaluate, id, period.Format(time.RFC3339)))
				if err != nil {
					t.Fatal(err)
				}
				sv, err := ev.Check()
				if err != nil {
					t.Fatal(err)
				}
				o, err := driver.ParseOutcome(ev.Report)
				if err != nil {
					t.Fatal(err)
				}
				return o, sv.Verdict.PenaltyAmount
			}
			var o0 *driver.Outcome
			var pen0 int64
			if evalFirst {
				o0, pen0 = evaluate(sec(0))
			}
			f.must(t, w.logger, slaenclave.FnIngestBatch, id, "3", b3)
			f.must(t, w.logger, slaenclave.FnIngestBatch, id, "4", b4)
			if !evalFirst {
				o0, pen0 = evaluate(sec(0))
			}
			o1, pen1 := evaluate(sec(300))

			at := func(n int) string { return sec(n).Format("2006-01-02T15:04:05.000Z") }
			want0 := &driver.SupportOutcome{
				Objectives: []driver.SupportObjectiveOutcome{
					{ID: "mttrespond", Measure: "acceptance", Objective: "<= 60000", Tickets: 2, ValueMS: "60000", Exact: "60000/1", Met: true},
					{ID: "mttresolve", Measure: "closure", Objective: "<= 120000", Tickets: 1, ValueMS: "110000", Exact: "110000/1", Met: true},
				},
				Tickets: []driver.TicketOutcome{
					{Ticket: "T1", Severity: "critical", Target: "acceptance", Result: "breached", At: at(100), ElapsedMS: 90000, MarginMS: -30000, TargetMS: 60000, PenaltyMinor: 700},
					{Ticket: "T1", Severity: "critical", Target: "closure", Result: "met", At: at(120), ElapsedMS: 110000, MarginMS: 10000, TargetMS: 120000},
					{Ticket: "T2", Severity: "critical", Target: "acceptance", Result: "met", At: at(280), ElapsedMS: 30000, MarginMS: 30000, TargetMS: 60000},
				},
				PenaltyAmount: 700, Open: 1,
			}
			if !reflect.DeepEqual(o0.Support, want0) {
				t.Errorf("period 0 report\n got %+v\nwant %+v", o0.Support, want0)
			}
			if pen0 != 700 || !o0.Violated {
				t.Errorf("period 0 verdict: penalty %d (want 700), violated %v (want true: T1's acceptance breached)", pen0, o0.Violated)
			}
			want1 := &driver.SupportOutcome{
				Objectives: []driver.SupportObjectiveOutcome{
					{ID: "mttrespond", Measure: "acceptance", Objective: "<= 60000", NoData: true, Met: true},
					{ID: "mttresolve", Measure: "closure", Objective: "<= 120000", Tickets: 1, ValueMS: "90000", Exact: "90000/1", Met: true},
				},
				Tickets: []driver.TicketOutcome{
					{Ticket: "T2", Severity: "critical", Target: "closure", Result: "met", At: at(340), ElapsedMS: 90000, MarginMS: 30000, TargetMS: 120000},
				},
			}
			if !reflect.DeepEqual(o1.Support, want1) {
				t.Errorf("period 1 report\n got %+v\nwant %+v", o1.Support, want1)
			}
			if pen1 != 0 || o1.Violated {
				t.Errorf("period 1 verdict: penalty %d, violated %v; want 0, false", pen1, o1.Violated)
			}
		})
	}
}
