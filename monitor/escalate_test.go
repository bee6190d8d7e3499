package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/sla"
)

// withSupport gives a test SLA a support section: one 24x7 calendar, a
// critical severity and escalation at 50, 75 and 100 % of a target.
func withSupport(s *sla.SLA) {
	s.Support = &sla.Support{
		Calendars: []sla.SupportCalendar{{ID: "always", Kind: sla.CalendarTwentyFourSeven}},
		Severities: []sla.Severity{{ID: "critical",
			Acceptance: sla.Target{TargetMS: 100_000, Calendar: "always"}, Closure: sla.Target{TargetMS: 1_000_000, Calendar: "always"}}},
		PauseStatuses:  []string{"waiting_on_customer"},
		SeverityChange: sla.SeverityChangeKeepElapsed,
		Escalation:     levels,
	}
}

var levels = []sla.Escalation{
	{AtBPS: 5000, Notify: []string{sla.NotifyProvider}},
	{AtBPS: 7500, Notify: []string{sla.NotifyProvider, sla.NotifyVendor}},
	{AtBPS: 10000, Notify: []string{sla.NotifyProvider, sla.NotifyVendor, sla.NotifyCustomer}},
}

// fakeTicket is one ticket of the fake ticket chaincode. Its running
// target's clock counts base plus the time since since (while running).
type fakeTicket struct {
	id, sla  string
	orgs     []string
	seq      int64
	status   string
	target   string // running target; "" when none
	targetMS int64
	base     time.Duration
	since    time.Time // zero while paused or stopped
	level    map[string]int
}

// tickets is an in-memory ticket chaincode that checks Escalate as the
// real one does (current record, endorsing organizations, next level,
// threshold reached at the transaction's time) and injects failures.
type tickets struct {
	w        *world
	byID     map[string]*fakeTicket
	pageSize int
	calls    map[string]int
	fail     map[string]int
	// escalated lists "<ticket> <target> <level>" in order.
	escalated []string
	// rival runs in Escalate before the checks: another party's escalator.
	rival func(tk *fakeTicket)
	// commitThenFail makes the next Escalate commit but report an error.
	commitThenFail bool
}

func newTickets(w *world) *tickets {
	return &tickets{w: w, byID: map[string]*fakeTicket{}, pageSize: 2, calls: map[string]int{}, fail: map[string]int{}}
}

// open adds a ticket of SLA slaID whose acceptance clock started at start.
func (f *tickets) open(slaID, id string, start time.Time) *fakeTicket {
	tk := &fakeTicket{id: id, sla: slaID, orgs: []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}, seq: 2, status: "assigned",
		target: sla.TargetAcceptance, targetMS: 100_000, since: start, level: map[string]int{}}
	f.byID[slaID+"/"+id] = tk
	return tk
}

func (tk *fakeTicket) elapsed(now time.Time) time.Duration {
	if tk.since.IsZero() {
		return tk.base
	}
	return tk.base + now.Sub(tk.since)
}

func (tk *fakeTicket) pause(now time.Time) {
	tk.base, tk.since, tk.status = tk.elapsed(now), time.Time{}, "waiting_on_customer"
	tk.seq++
}

func (tk *fakeTicket) resume(now time.Time) {
	tk.since, tk.status = now, "assigned"
	tk.seq++
}

// acknowledge stops the acceptance clock and starts the closure clock,
// which counts from the creation: closureElapsed so far.
func (tk *fakeTicket) acknowledge(now time.Time, closureElapsed time.Duration) {
	tk.target, tk.targetMS, tk.base, tk.since, tk.status = sla.TargetClosure, 1_000_000, closureElapsed, now, "acknowledged"
	tk.seq++
}

func (tk *fakeTicket) record() []byte {
	r := map[string]any{"id": tk.id, "sla_id": tk.sla, "status": tk.status, "nonce": "n",
		"terms":      map[string]any{"severity": "critical", "escalation": levels},
		"acceptance": map[string]any{"target_ms": 100_000, "level": tk.level[sla.TargetAcceptance]},
		"closure":    map[string]any{"target_ms": 1_000_000, "level": tk.level[sla.TargetClosure]},
		"seq":        tk.seq}
	b, _ := json.Marshal(r)
	return b
}

func (tk *fakeTicket) view(now time.Time) TicketView {
	v := TicketView{Ticket: TicketPublic{ID: tk.id, SLAID: tk.sla, Seq: tk.seq, Orgs: tk.orgs}, Record: tk.record()}
	if tk.target != "" && tk.status != "closed" {
		el := tk.elapsed(now)
		used := min(el.Milliseconds(), tk.targetMS) * 10000 / tk.targetMS
		v.Clock = &TicketClock{Target: tk.target, At: now.Format(time.RFC3339Nano), ElapsedMS: el.Milliseconds(),
			RemainingMS: tk.targetMS - el.Milliseconds(), UsedBPS: used, Paused: tk.since.IsZero()}
	}
	return v
}

func (f *tickets) failing(fn string) error {
	f.calls[fn]++
	if f.fail[fn] > 0 {
		f.fail[fn]--
		return fmt.Errorf("%s: injected failure (peer down)", fn)
	}
	return nil
}

func (f *tickets) ListTickets(_ context.Context, slaID, bookmark string) (*TicketPage, error) {
	if err := f.failing("ListTickets"); err != nil {
		return nil, err
	}
	var ids []string
	for _, tk := range f.byID {
		if tk.sla == slaID && tk.id >= bookmark {
			ids = append(ids, tk.id)
		}
	}
	sort.Strings(ids)
	page := &TicketPage{Records: []TicketView{}}
	for i, id := range ids {
		if i == f.pageSize {
			page.Bookmark = id
			break
		}
		page.Records = append(page.Records, f.byID[slaID+"/"+id].view(f.w.now))
	}
	return page, nil
}

func (f *tickets) GetTicket(_ context.Context, slaID, ticketID string) (*TicketView, error) {
	if err := f.failing("GetTicket"); err != nil {
		return nil, err
	}
	tk, ok := f.byID[slaID+"/"+ticketID]
	if !ok {
		return nil, fmt.Errorf("ticket %q of SLA %q does not exist", ticketID, slaID)
	}
	v := tk.view(f.w.now)
	return &v, nil
}

func (f *tickets) Escalate(_ context.Context, slaID, ticketID string, level int, record []byte, orgs []string) error {
	if err := f.failing("Escalate"); err != nil {
		return err
	}
	tk, ok := f.byID[slaID+"/"+ticketID]
	if !ok {
		return fmt.Errorf("ticket %q of SLA %q does not exist", ticketID, slaID)
	}
	if f.rival != nil {
		f.rival(tk)
	}
	if string(record) != string(tk.record()) {
		return fmt.Errorf(`transient "ticket": it is not the current record of ticket %q of SLA %q (seq %d)`, ticketID, slaID, tk.seq)
	}
	if strings.Join(orgs, ",") != strings.Join(tk.orgs, ",") {
		return fmt.Errorf("endorsed by %v, not by the ticket's organizations %v", orgs, tk.orgs)
	}
	if tk.target == "" {
		return errors.New("no target runs")
	}
	if level != tk.level[tk.target]+1 {
		return fmt.Errorf("level: the next level is %d, not %d", tk.level[tk.target]+1, level)
	}
	el := tk.elapsed(f.w.now)
	if min(el.Milliseconds(), tk.targetMS)*10000 < levels[level-1].AtBPS*tk.targetMS {
		return fmt.Errorf("level: %d needs %d basis points", level, levels[level-1].AtBPS)
	}
	tk.level[tk.target] = level
	tk.seq++
	f.escalated = append(f.escalated, fmt.Sprintf("%s %s %d", ticketID, tk.target, level))
	if f.commitThenFail {
		f.commitThenFail = false
		return errors.New("commit status: timeout")
	}
	return nil
}

// escalator returns a monitor of w with the fake ticket chaincode f and
// backoff from min to max.
func escalator(t *testing.T, w *world, f *tickets, lo, hi time.Duration) *Monitor {
	t.Helper()
	var tc Tickets
	if f != nil {
		tc = f
	}
	m, err := New(Config{StateDir: t.TempDir(), Me: me(t), Agreements: w, Enclave: w, Refund: w, Tickets: tc,
		Now: func() time.Time { return w.now }, Log: quiet, BackoffMin: lo, BackoffMax: hi})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pass runs one reconcile and escalation pass of every SLA, with the fakes'
// clock at at.
func pass(m *Monitor, w *world, at time.Time) {
	w.now = at
	m.ReconcileAll(context.Background())
}

func wantEscalated(t *testing.T, f *tickets, want ...string) {
	t.Helper()
	if got := strings.Join(f.escalated, "; "); got != strings.Join(want, "; ") {
		t.Fatalf("escalated %q, want %q", got, strings.Join(want, "; "))
	}
}

func wantCounters(t *testing.T, m *Monitor, submitted, refused, errs int64) {
	t.Helper()
	if s, r, e := m.C.Escalations.Load(), m.C.EscalationsRefused.Load(), m.C.EscalationErrors.Load(); s != submitted || r != refused || e != errs {
		t.Fatalf("escalations submitted %d, refused %d, errors %d; want %d, %d, %d", s, r, e, submitted, refused, errs)
	}
}

// A level is escalated when the chaincode's clock reaches its share of the
// target exactly, not a millisecond before, with the record GetTicket
// returned, endorsed by the ticket's organizations.
func TestEscalateAtThresholdNotBefore(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	start := t0.Add(time.Hour)
	f.open("s1", "T1", start)
	m := escalator(t, w, f, time.Second, time.Minute)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))

	pass(m, w, start.Add(49_999*time.Millisecond)) // 4999 bps
	wantEscalated(t, f)
	if f.calls["Escalate"] != 0 || f.calls["ListTickets"] != 1 {
		t.Fatalf("calls %v: want one ListTickets and no Escalate before the threshold", f.calls)
	}
	pass(m, w, start.Add(50*time.Second)) // 5000 bps
	wantEscalated(t, f, "T1 acceptance 1")
	pass(m, w, start.Add(74_999*time.Millisecond)) // level 2 needs 7500
	wantEscalated(t, f, "T1 acceptance 1")
	pass(m, w, start.Add(75*time.Second))
	wantEscalated(t, f, "T1 acceptance 1", "T1 acceptance 2")
	wantCounters(t, m, 2, 0, 0)
	if f.calls["Escalate"] != 2 {
		t.Fatalf("Escalate called %d times, want 2 (never early)", f.calls["Escalate"])
	}
}

// A clock far past several levels moves one level per pass.
func TestEscalateOneLevelPerPass(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	f.open("s1", "T1", t0)
	m := escalator(t, w, f, time.Second, time.Minute)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	at := t0.Add(time.Hour) // 10000 bps
	pass(m, w, at)
	wantEscalated(t, f, "T1 acceptance 1")
	pass(m, w, at)
	wantEscalated(t, f, "T1 acceptance 1", "T1 acceptance 2")
	pass(m, w, at)
	pass(m, w, at)
	wantEscalated(t, f, "T1 acceptance 1", "T1 acceptance 2", "T1 acceptance 3")
	wantCounters(t, m, 3, 0, 0)
}

// A paused clock is not escalated, even past a level's share; once resumed
// it is.
func TestEscalateNotWhenPaused(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	tk := f.open("s1", "T1", t0)
	m := escalator(t, w, f, time.Second, time.Minute)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	tk.pause(t0.Add(60 * time.Second)) // 6000 bps, level 1 not recorded
	pass(m, w, t0.Add(time.Hour))
	wantEscalated(t, f)
	if f.calls["GetTicket"] != 0 {
		t.Fatalf("GetTicket called %d times for a paused ticket", f.calls["GetTicket"])
	}
	tk.resume(t0.Add(time.Hour))
	pass(m, w, t0.Add(time.Hour))
	wantEscalated(t, f, "T1 acceptance 1")
}

// Resolved and closed tickets are skipped; an acknowledged ticket escalates
// its closure target from that target's own levels.
func TestEscalateSkipsResolvedAndClosed(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	for _, st := range []string{"resolved", "closed"} {
		tk := f.open("s1", st, t0)
		tk.status, tk.target = st, "" // both targets have an outcome
	}
	ack := f.open("s1", "ack", t0)
	ack.level[sla.TargetAcceptance] = 2
	ack.acknowledge(t0.Add(80*time.Second), 80*time.Second)
	m := escalator(t, w, f, time.Second, time.Minute)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	pass(m, w, t0.Add(80*time.Second)) // closure at 800 bps
	wantEscalated(t, f)
	pass(m, w, t0.Add(500*time.Second)) // closure at 5000 bps
	wantEscalated(t, f, "ack closure 1")
	wantCounters(t, m, 1, 0, 0)
	if f.calls["GetTicket"] != 1 {
		t.Fatalf("GetTicket called %d times, want once (for the due ticket only)", f.calls["GetTicket"])
	}
}

// Every page of ListTickets is read.
func TestEscalateEveryPage(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	var want []string
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("T%d", i)
		f.open("s1", id, t0)
		want = append(want, id+" acceptance 1")
	}
	m := escalator(t, w, f, time.Second, time.Minute)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	pass(m, w, t0.Add(50*time.Second))
	wantEscalated(t, f, want...)
	if f.calls["ListTickets"] != 3 {
		t.Fatalf("ListTickets called %d times, want 3 pages of 2", f.calls["ListTickets"])
	}
}

// A level another party's escalator recorded first, or whose commit
// answer was lost, is not an error: counted as refused, no backoff.
func TestEscalateAlreadyRecorded(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	f.open("s1", "T1", t0)
	m := escalator(t, w, f, time.Hour, time.Hour)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	f.rival = func(tk *fakeTicket) { // the other party's escalator commits level 1 first
		tk.level[sla.TargetAcceptance] = 1
		tk.seq++
		f.rival = nil
	}
	pass(m, w, t0.Add(80*time.Second))
	wantEscalated(t, f)
	wantCounters(t, m, 0, 1, 0)
	// No backoff: the next pass escalates level 2 at once.
	pass(m, w, t0.Add(80*time.Second))
	wantEscalated(t, f, "T1 acceptance 2")
	wantCounters(t, m, 1, 1, 0)
	// The commit of level 3 succeeds but its answer is lost.
	f.commitThenFail = true
	pass(m, w, t0.Add(100*time.Second))
	wantEscalated(t, f, "T1 acceptance 2", "T1 acceptance 3")
	wantCounters(t, m, 1, 2, 0)
	// A ticket that changed between GetTicket and Escalate (a pause) is
	// looked at again next pass, without an error.
	tk := f.open("s1", "T2", t0)
	f.rival = func(tk *fakeTicket) { tk.pause(w.now); f.rival = nil }
	pass(m, w, t0.Add(100*time.Second))
	wantCounters(t, m, 1, 3, 0)
	tk.resume(t0.Add(100 * time.Second))
	pass(m, w, t0.Add(100*time.Second))
	wantEscalated(t, f, "T1 acceptance 2", "T1 acceptance 3", "T2 acceptance 1")
}

// Failures are counted and the SLA's escalation is retried with doubling
// backoff, apart from its reconciliation, which goes on.
func TestEscalateBacksOff(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("s1", 1, withSupport)
	f := newTickets(w)
	f.open("s1", "T1", t0)
	m := escalator(t, w, f, 10*time.Second, 15*time.Second)
	m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	f.fail["ListTickets"] = 2
	at := t0.Add(60 * time.Second)
	pass(m, w, at) // fails: retry in 10 s
	wantCounters(t, m, 0, 0, 1)
	rec := m.C.Reconciles.Load()
	pass(m, w, at.Add(9*time.Second)) // waiting
	if f.calls["ListTickets"] != 1 {
		t.Fatalf("ListTickets called %d times while backing off", f.calls["ListTickets"])
	}
	if m.C.Reconciles.Load() == rec {
		t.Fatal("the SLA's reconciliation waited for its escalation's backoff")
	}
	pass(m, w, at.Add(10*time.Second)) // fails again: retry in min(20, 15) s
	wantCounters(t, m, 0, 0, 2)
	pass(m, w, at.Add(24*time.Second))
	if f.calls["ListTickets"] != 2 {
		t.Fatalf("ListTickets called %d times, want 2 (backoff 15 s)", f.calls["ListTickets"])
	}
	pass(m, w, at.Add(25*time.Second))
	wantEscalated(t, f, "T1 acceptance 1")
	wantCounters(t, m, 1, 0, 2)

	// A refusal that the ledger does not explain is an error, retried
	// after the (reset) backoff; the other tickets are still escalated.
	f.open("s1", "T2", t0)
	f.fail["Escalate"] = 1
	at = at.Add(25 * time.Second) // T1 at 8500, T2 at 8500 bps
	pass(m, w, at)
	wantEscalated(t, f, "T1 acceptance 1", "T2 acceptance 1")
	wantCounters(t, m, 2, 0, 3)
	pass(m, w, at.Add(9*time.Second))
	wantEscalated(t, f, "T1 acceptance 1", "T2 acceptance 1")
	pass(m, w, at.Add(10*time.Second))
	wantEscalated(t, f, "T1 acceptance 1", "T2 acceptance 1", "T1 acceptance 2", "T2 acceptance 2")
	wantCounters(t, m, 4, 0, 3)
}

// The escalator lists tickets only of the SLAs the monitor's identity is a
// party of, that are active or terminated and have escalation levels; it
// is off without a ticket chaincode.
func TestEscalateOnlyWhereItMay(t *testing.T) {
	w := newWorld(t)
	w.addSLAOf("not-party", 1, func(s *sla.SLA) {
		withSupport(s)
		s.Parties.Client.Issuer = "CN=ca2.clientorg.slasa.local" // the client's name from another CA
	})
	w.addSLAOf("no-support", 1, nil)
	w.addSLAOf("no-levels", 1, func(s *sla.SLA) { withSupport(s); s.Support.Escalation = nil })
	w.addSLAOf("proposed", 1, withSupport)
	w.slas["proposed"].Status = StatusProposed
	w.addSLAOf("withdrawn", 1, withSupport)
	w.slas["withdrawn"].Status = StatusWithdrawn
	f := newTickets(w)
	for _, id := range []string{"not-party", "no-support", "no-levels", "proposed", "withdrawn"} {
		f.open(id, "T1", t0)
	}
	m := escalator(t, w, f, time.Second, time.Minute)
	for _, id := range []string{"not-party", "no-support", "no-levels", "proposed", "withdrawn"} {
		m.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": id}))
	}
	pass(m, w, t0.Add(time.Hour))
	pass(m, w, t0.Add(time.Hour))
	if f.calls["ListTickets"] != 0 || len(f.escalated) != 0 {
		t.Fatalf("calls %v, escalated %v: want none", f.calls, f.escalated)
	}

	// Off: no ticket chaincode, nothing asked, the SLA still reconciled.
	w2 := newWorld(t)
	w2.addSLAOf("s1", 1, withSupport)
	off := escalator(t, w2, nil, time.Second, time.Minute)
	off.HandleEvent(event(t, EventSLASigned, map[string]string{"sla_id": "s1"}))
	pass(off, w2, t0.Add(time.Hour))
	if off.C.Reconciles.Load() != 1 || !w2.registered["s1"] {
		t.Fatal("the SLA was not reconciled with escalation off")
	}
	if err := off.Escalate(context.Background(), "s1"); err != nil {
		t.Fatalf("Escalate with escalation off: %v", err)
	}
}

func TestDueEscalation(t *testing.T) {
	rec := func(status string, acc, clo int) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"id": "T1", "sla_id": "s1", "status": status,
			"terms": map[string]any{"escalation": levels}, "acceptance": map[string]int{"level": acc}, "closure": map[string]int{"level": clo}})
		return b
	}
	clock := func(target string, used int64, paused bool) *TicketClock {
		return &TicketClock{Target: target, UsedBPS: used, Paused: paused}
	}
	for _, tc := range []struct {
		name   string
		v      TicketView
		want   string // "target level" or ""
		errMsg string
	}{
		{"below the first level", TicketView{Record: rec("open", 0, 0), Clock: clock("acceptance", 4999, false)}, "", ""},
		{"at the first level", TicketView{Record: rec("open", 0, 0), Clock: clock("acceptance", 5000, false)}, "acceptance 1", ""},
		{"past two levels: the next one only", TicketView{Record: rec("assigned", 0, 0), Clock: clock("acceptance", 9000, false)}, "acceptance 1", ""},
		{"second level", TicketView{Record: rec("assigned", 1, 0), Clock: clock("acceptance", 7500, false)}, "acceptance 2", ""},
		{"every level recorded", TicketView{Record: rec("assigned", 3, 0), Clock: clock("acceptance", 10000, false)}, "", ""},
		{"paused", TicketView{Record: rec("waiting_on_customer", 0, 0), Clock: clock("acceptance", 9000, true)}, "", ""},
		{"closure counts its own levels", TicketView{Record: rec("in_progress", 3, 0), Clock: clock("closure", 5000, false)}, "closure 1", ""},
		{"resolved", TicketView{Record: rec("resolved", 3, 0)}, "", ""},
		{"closed with a clock", TicketView{Record: rec("closed", 0, 0), Clock: clock("closure", 10000, false)}, "", ""},
		{"resolved with a clock", TicketView{Record: rec("resolved", 0, 0), Clock: clock("closure", 10000, false)}, "", ""},
		{"no clock", TicketView{Record: rec("open", 0, 0)}, "", ""},
		{"unknown target", TicketView{Ticket: TicketPublic{ID: "T1", SLAID: "s1"}, Record: rec("open", 0, 0), Clock: clock("lunch", 10000, false)}, "",
			`ticket "T1" of SLA "s1": clock.target "lunch" is neither acceptance nor closure`},
		{"unreadable record", TicketView{Ticket: TicketPublic{ID: "T1", SLAID: "s1"}, Record: json.RawMessage(`[]`), Clock: clock("acceptance", 10000, false)}, "",
			`ticket "T1" of SLA "s1": record: json: cannot unmarshal array into Go value of type monitor.TicketRecord`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok, err := DueEscalation(&tc.v)
			if tc.errMsg != "" {
				if err == nil || err.Error() != tc.errMsg {
					t.Fatalf("error %v, want %q", err, tc.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if ok {
				got = fmt.Sprintf("%s %d", d.Target, d.Level)
				if lv := levels[d.Level-1]; d.AtBPS != lv.AtBPS || strings.Join(d.Notify, ",") != strings.Join(lv.Notify, ",") || d.UsedBPS != tc.v.Clock.UsedBPS {
					t.Fatalf("due %+v does not carry level %d's threshold and notify list", d, d.Level)
				}
			}
			if got != tc.want {
				t.Fatalf("due %q, want %q", got, tc.want)
			}
		})
	}
}
