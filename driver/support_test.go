package driver

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// ticketLog writes ticket events (as the Cloud Logger's ticket feed does).
type ticketLog struct{ strings.Builder }

func (b *ticketLog) ev(t *testing.T, at, ticket, typ, severity string) {
	t.Helper()
	sev := ""
	if severity != "" {
		sev = fmt.Sprintf(`,"severity":%q`, severity)
	}
	fmt.Fprintf(&b.Builder, `{"time":%q,"source":{"probe":"tickets","zone":"site-1","region":"metro-1"},"event":{"incident":%q,"type":%q%s}}`+"\n",
		ts(mustTime(t, at)), ticket, typ, sev)
}

// The whitepaper-like tickets of the telecom example's support section
// (critical: 20 min / 4 h in 24x7; high: 1 h / 8 h in office hours
// 08:00-18:00 Europe/Rome, UTC+1 in early March; penalties critical 5000 /
// 20000, high 2500 / 10000; objectives mean acceptance <= 1200000 ms,
// mean closure <= 14400000 ms):
//
//   - T-A critical, acknowledged after 25 min: acceptance breached by 5 min
//     (5000); resolved after 2 h: met.
//   - T-B critical, acknowledged after 10 min; paused 4 h waiting on the
//     customer; resolved 5 h after opening, 1 h counted: met (without the
//     pause it would be breached).
//   - T-C high, opened Wed 17:00 Rome, acknowledged 17:30 (30 min met);
//     resolved Thu 09:00 (2 h counted), reopened 10:00, resolved again
//     16:00: 1 h Wed + 8 h Thu = 9 h > 8 h: breached by 1 h (10000).
//   - T-D critical opened 2026-03-31T23:50Z, everything else in April:
//     carried; acknowledged after 15 min (met), resolved after 5 h 10 min:
//     breached by 1 h 10 min (20000), in April.
//   - T-E critical opened 23:00Z on March 31, acknowledged 23:30 (breached
//     by 10 min, 5000, counted in March), resolved after 2 h and closed in
//     April (met, counted in April only).
func telecomTickets(t *testing.T) (march, april string) {
	var m, a ticketLog
	m.ev(t, "2026-03-02T10:00:00Z", "T-A", "opened", "critical")
	m.ev(t, "2026-03-02T10:25:00Z", "T-A", "acknowledged", "")
	m.ev(t, "2026-03-02T12:00:00Z", "T-A", "resolved", "")
	m.ev(t, "2026-03-02T12:30:00Z", "T-A", "closed", "")
	m.ev(t, "2026-03-03T09:00:00Z", "T-B", "opened", "critical")
	m.ev(t, "2026-03-03T09:10:00Z", "T-B", "acknowledged", "")
	m.ev(t, "2026-03-03T09:30:00Z", "T-B", "paused", "")
	m.ev(t, "2026-03-03T13:30:00Z", "T-B", "resumed", "")
	m.ev(t, "2026-03-03T14:00:00Z", "T-B", "resolved", "")
	m.ev(t, "2026-03-03T14:05:00Z", "T-B", "closed", "")
	m.ev(t, "2026-03-04T16:00:00Z", "T-C", "opened", "high")
	m.ev(t, "2026-03-04T16:30:00Z", "T-C", "acknowledged", "")
	m.ev(t, "2026-03-05T08:00:00Z", "T-C", "resolved", "")
	m.ev(t, "2026-03-05T09:00:00Z", "T-C", "reopened", "")
	m.ev(t, "2026-03-05T15:00:00Z", "T-C", "resolved", "")
	m.ev(t, "2026-03-05T15:30:00Z", "T-C", "closed", "")
	m.ev(t, "2026-03-31T23:00:00Z", "T-E", "opened", "critical")
	m.ev(t, "2026-03-31T23:30:00Z", "T-E", "acknowledged", "")
	m.ev(t, "2026-03-31T23:50:00Z", "T-D", "opened", "critical")
	a.ev(t, "2026-04-01T00:05:00Z", "T-D", "acknowledged", "")
	a.ev(t, "2026-04-01T01:00:00Z", "T-E", "resolved", "")
	a.ev(t, "2026-04-01T01:30:00Z", "T-E", "closed", "")
	a.ev(t, "2026-04-01T05:00:00Z", "T-D", "resolved", "")
	a.ev(t, "2026-04-01T05:10:00Z", "T-D", "closed", "")
	return m.String(), a.String()
}

func TestSupportTelecomTickets(t *testing.T) {
	s, _ := loadExample(t, "telecom")
	p := mustPlan(t, s)
	march, april := telecomTickets(t)

	am, err := p.NewAccumulator(mustPeriod(t, s, "2026-03"))
	if err != nil {
		t.Fatal(err)
	}
	if err := am.AddFrom(strings.NewReader(march)); err != nil {
		t.Fatal(err)
	}
	om, err := am.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	wantMarch := &SupportOutcome{
		Objectives: []SupportObjectiveOutcome{
			{ID: "ticket-mttrespond", Measure: "acceptance", Objective: "<= 1200000", Tickets: 4, ValueMS: "1425000", Exact: "1425000/1", Met: false},
			{ID: "ticket-mttresolve", Measure: "closure", Objective: "<= 14400000", Tickets: 3, ValueMS: "14400000", Exact: "14400000/1", Met: true},
		},
		Tickets: []TicketOutcome{
			{"T-A", "critical", "acceptance", "breached", "2026-03-02T10:25:00.000Z", 1500000, -300000, 1200000, 5000},
			{"T-A", "critical", "closure", "met", "2026-03-02T12:00:00.000Z", 7200000, 7200000, 14400000, 0},
			{"T-B", "critical", "acceptance", "met", "2026-03-03T09:10:00.000Z", 600000, 600000, 1200000, 0},
			{"T-B", "critical", "closure", "met", "2026-03-03T14:00:00.000Z", 3600000, 10800000, 14400000, 0},
			{"T-C", "high", "acceptance", "met", "2026-03-04T16:30:00.000Z", 1800000, 1800000, 3600000, 0},
			{"T-C", "high", "closure", "breached", "2026-03-05T15:00:00.000Z", 32400000, -3600000, 28800000, 10000},
			{"T-E", "critical", "acceptance", "breached", "2026-03-31T23:30:00.000Z", 1800000, -600000, 1200000, 5000},
		},
		PenaltyAmount: 20000, Open: 2,
	}
	if !reflect.DeepEqual(om.Support, wantMarch) {
		t.Errorf("March support outcome\n got %+v\nwant %+v", om.Support, wantMarch)
	}
	if !om.Violated {
		t.Error("March: the missed ticket-mttrespond objective does not make the period violated")
	}
	var metricPenalties int64
	for _, m := range om.Metrics {
		metricPenalties += m.PenaltyAmount
	}
	if om.PenaltyAmount != metricPenalties+20000 {
		t.Errorf("March penalty amount %d, want the metrics' %d + the tickets' 20000", om.PenaltyAmount, metricPenalties)
	}

	carry := am.OpenTickets()
	wantCarry := []Ticket{
		{ID: "T-D", Events: []TicketEvent{{TimeMS: mustTime(t, "2026-03-31T23:50:00Z").UnixMilli(), Type: "opened", Severity: "critical"}}},
		{ID: "T-E", Events: []TicketEvent{{TimeMS: mustTime(t, "2026-03-31T23:00:00Z").UnixMilli(), Type: "opened", Severity: "critical"},
			{TimeMS: mustTime(t, "2026-03-31T23:30:00Z").UnixMilli(), Type: "acknowledged"}}},
	}
	if !reflect.DeepEqual(carry, wantCarry) {
		t.Fatalf("OpenTickets = %+v, want %+v", carry, wantCarry)
	}

	aa, err := p.NewAccumulator(mustPeriod(t, s, "2026-04"))
	if err != nil {
		t.Fatal(err)
	}
	if err := aa.CarryTickets(carry); err != nil {
		t.Fatal(err)
	}
	// The April state goes through the paged form, as in the enclave.
	header, pages, err := aa.MarshalPaged()
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 0 {
		t.Fatalf("ticket state in pages: %v", pages)
	}
	aa2, _ := p.NewAccumulator(mustPeriod(t, s, "2026-04"))
	if err := aa2.UnmarshalHeader(header); err != nil {
		t.Fatal(err)
	}
	if err := aa2.AddFrom(strings.NewReader(april)); err != nil {
		t.Fatal(err)
	}
	// Written twice (a feed restarted before its checkpoint): counted once.
	if err := aa2.AddFrom(strings.NewReader(april)); err != nil {
		t.Fatal(err)
	}
	oa, err := aa2.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	wantApril := &SupportOutcome{
		Objectives: []SupportObjectiveOutcome{
			{ID: "ticket-mttrespond", Measure: "acceptance", Objective: "<= 1200000", Tickets: 1, ValueMS: "900000", Exact: "900000/1", Met: true},
			{ID: "ticket-mttresolve", Measure: "closure", Objective: "<= 14400000", Tickets: 2, ValueMS: "12900000", Exact: "12900000/1", Met: true},
		},
		Tickets: []TicketOutcome{
			{"T-D", "critical", "acceptance", "met", "2026-04-01T00:05:00.000Z", 900000, 300000, 1200000, 0},
			{"T-D", "critical", "closure", "breached", "2026-04-01T05:00:00.000Z", 18600000, -4200000, 14400000, 20000},
			{"T-E", "critical", "closure", "met", "2026-04-01T01:00:00.000Z", 7200000, 7200000, 14400000, 0},
		},
		PenaltyAmount: 20000,
	}
	if !reflect.DeepEqual(oa.Support, wantApril) {
		t.Errorf("April support outcome\n got %+v\nwant %+v", oa.Support, wantApril)
	}
	// Both objectives met, but T-D's closure was breached: the period is
	// violated (a verdict with a penalty must be).
	if !oa.Violated {
		t.Error("April: a breached ticket target does not make the period violated")
	}
	if len(aa2.OpenTickets()) != 0 {
		t.Errorf("April leaves open tickets: %+v", aa2.OpenTickets())
	}

	// The whole story in one accumulator's binary form: same April result.
	ab, _ := p.NewAccumulator(mustPeriod(t, s, "2026-04"))
	if err := ab.CarryTickets(carry); err != nil {
		t.Fatal(err)
	}
	bin, err := ab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	ab2, _ := p.NewAccumulator(mustPeriod(t, s, "2026-04"))
	if err := ab2.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	if err := ab2.AddFrom(strings.NewReader(april)); err != nil {
		t.Fatal(err)
	}
	if ob, _ := ab2.Outcome(); !reflect.DeepEqual(ob.Support, wantApril) {
		t.Errorf("April through MarshalBinary\n got %+v\nwant %+v", ob.Support, wantApril)
	}

	// Without the carry, April does not know T-D and T-E were opened:
	// nothing of them counts (the enclave always carries).
	an, _ := p.NewAccumulator(mustPeriod(t, s, "2026-04"))
	if err := an.AddFrom(strings.NewReader(april)); err != nil {
		t.Fatal(err)
	}
	if on, _ := an.Outcome(); len(on.Support.Tickets) != 0 || on.Support.PenaltyAmount != 0 {
		t.Errorf("April without carry counted %+v", on.Support)
	}
}

func TestSupportSeverityChange(t *testing.T) {
	s, _ := loadExample(t, "telecom")
	p := mustPlan(t, s)
	// critical opened 10:00Z; after 10 min it becomes high (office hours,
	// Mon 2026-03-02 11:10 Rome): keep_elapsed carries 10 min; acknowledged
	// 11:00Z: 10 + 50 = 60 min <= 1 h: met with margin 0.
	var b ticketLog
	b.ev(t, "2026-03-02T10:00:00Z", "T-S", "opened", "critical")
	b.ev(t, "2026-03-02T10:10:00Z", "T-S", "severity_changed", "high")
	b.ev(t, "2026-03-02T11:00:00Z", "T-S", "acknowledged", "")
	o, err := Evaluate(p, mustPeriod(t, s, "2026-03"), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := []TicketOutcome{{"T-S", "high", "acceptance", "met", "2026-03-02T11:00:00.000Z", 3600000, 0, 3600000, 0}}
	if !reflect.DeepEqual(o.Support.Tickets, want) {
		t.Errorf("tickets %+v, want %+v", o.Support.Tickets, want)
	}
	if o.Support.Open != 1 {
		t.Errorf("open %d, want 1", o.Support.Open)
	}
}

func TestSupportIgnored(t *testing.T) {
	s, _ := loadExample(t, "telecom")
	p := mustPlan(t, s)
	var b ticketLog
	b.ev(t, "2026-03-02T10:00:00Z", "INC-1", "opened", "")      // not a ticket: no severity
	b.ev(t, "2026-03-02T10:00:00Z", "T-X", "opened", "blocker") // not a severity of the SLA
	b.ev(t, "2026-03-02T10:00:00Z", "T-Y", "opened", "critical")
	b.ev(t, "2026-03-02T10:05:00Z", "T-Y", "closed", "") // closed before resolved
	b.ev(t, "2026-03-02T10:05:00Z", "T-Z", "acknowledged", "")
	o, err := Evaluate(p, mustPeriod(t, s, "2026-03"), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if o.Support.Ignored != 3 || len(o.Support.Tickets) != 0 || o.Support.Open != 0 {
		t.Errorf("support %+v, want 3 ignored, nothing counted or open", o.Support)
	}
	for _, ob := range o.Support.Objectives {
		if !ob.NoData || !ob.Met {
			t.Errorf("objective %+v: want no data, met", ob)
		}
	}
}

func TestCarryTicketsErrors(t *testing.T) {
	s, _ := loadExample(t, "telecom")
	p := mustPlan(t, s)
	start := mustTime(t, "2026-03-01T00:00:00Z").UnixMilli()
	ok := TicketEvent{TimeMS: start - 1, Type: "opened", Severity: "critical"}
	for _, tc := range []struct {
		carry []Ticket
		want  string
	}{
		{[]Ticket{{ID: "", Events: []TicketEvent{ok}}}, "carry[0].id: must not be empty"},
		{[]Ticket{{ID: "a", Events: []TicketEvent{ok}}, {ID: "a", Events: []TicketEvent{ok}}}, `carry[1].id: ticket "a" is carried twice`},
		{[]Ticket{{ID: "a"}}, "carry[0].events: 0 events, want 1..512"},
		{[]Ticket{{ID: "a", Events: []TicketEvent{{TimeMS: start, Type: "opened", Severity: "critical"}}}}, "carry[0].events[0].time_ms: 1772323200000 is not before the period start 1772323200000"},
		{[]Ticket{{ID: "a", Events: []TicketEvent{{TimeMS: start - 1, Type: "escalated"}}}}, `carry[0].events[0].type: "escalated" is not an event type`},
		{[]Ticket{{ID: "a", Events: []TicketEvent{{TimeMS: start - 1, Type: "opened", Severity: "blocker"}}}}, `carry[0].events[0].severity: "blocker" is not a severity of the SLA`},
		{[]Ticket{{ID: "a", Events: []TicketEvent{ok, {TimeMS: start - 1, Type: "closed", Severity: "low"}}}}, "carry[0].events[1].severity: set on a closed event"},
	} {
		a, _ := p.NewAccumulator(mustPeriod(t, s, "2026-03"))
		err := a.CarryTickets(tc.carry)
		if err == nil || err.Error() != tc.want {
			t.Errorf("CarryTickets(%+v) = %v, want %q", tc.carry, err, tc.want)
		}
		if len(a.OpenTickets()) != 0 {
			t.Errorf("CarryTickets(%+v) failed but added tickets", tc.carry)
		}
	}
	noSupport := mustPlan(t, testSLA("calendar_month", 0))
	a, _ := noSupport.NewAccumulator(mustPeriod(t, testSLA("calendar_month", 0), "2026-03"))
	if err := a.CarryTickets([]Ticket{{ID: "a", Events: []TicketEvent{ok}}}); err == nil || err.Error() != "carry: the SLA has no support section" {
		t.Errorf("carry without a support section: %v", err)
	}
}
