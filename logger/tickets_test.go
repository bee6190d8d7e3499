package logger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/logger/ticketfeed"
)

// fakeTickets is a TicketReader over fixed timelines.
type fakeTickets struct {
	timelines map[string][]ticketfeed.Transition // by sla/ticket
	reads     int
	err       error
}

func (f *fakeTickets) Timeline(_ context.Context, slaID, ticketID string) ([]ticketfeed.Transition, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	tl, ok := f.timelines[slaID+"/"+ticketID]
	if !ok {
		return nil, fmt.Errorf("ticket %q of SLA %q does not exist", ticketID, slaID)
	}
	return tl, nil
}

// fakeSpool records the appended lines; fail makes the next appends fail.
type fakeSpool struct {
	lines []string
	fail  error
}

func (s *fakeSpool) Append(line []byte) error {
	if s.fail != nil {
		return s.fail
	}
	s.lines = append(s.lines, string(line))
	return nil
}

func tr(seq int64, at, action, severity string) ticketfeed.Transition {
	return ticketfeed.Transition{Seq: seq, At: at, Action: action, Severity: severity}
}

func payload(sla, ticket string, seq int) []byte {
	return fmt.Appendf(nil, `{"sla_id":%q,"ticket_id":%q,"seq":%d}`, sla, ticket, seq)
}

func TestTicketFeed(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "tickets.json")
	reader := &fakeTickets{timelines: map[string][]ticketfeed.Transition{}}
	spool := &fakeSpool{}
	src := ticketfeed.Source{Probe: "tickets", Zone: "site-1", Region: "metro-1"}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newFeed := func() *TicketFeed {
		f, err := NewTicketFeed(TicketFeedConfig{Reader: reader, Sinks: map[string]TicketSink{"sla-1": {Append: spool.Append, Source: src}},
			StatePath: state, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	line := func(at, typ, sev string) string {
		if sev != "" {
			sev = fmt.Sprintf(`,"severity":%q`, sev)
		}
		return fmt.Sprintf(`{"time":%q,"source":{"probe":"tickets","zone":"site-1","region":"metro-1"},"event":{"incident":"T-1","type":%q%s}}`, at, typ, sev)
	}
	tl := []ticketfeed.Transition{
		tr(1, "2026-03-02T10:00:00.5Z", "CreateTicket", "critical"),
		tr(2, "2026-03-02T10:01:00Z", "AssignVendor", "critical"),
		tr(3, "2026-03-02T10:25:00Z", "AcknowledgeTicket", "critical"),
		tr(4, "2026-03-02T10:30:00Z", "PauseTicket", "critical"),
	}

	f := newFeed()
	// Created, then assigned: one opened event; the assignment writes
	// nothing but is handled.
	reader.timelines["sla-1/T-1"] = tl[:2]
	for _, p := range [][]byte{payload("sla-1", "T-1", 1), payload("sla-1", "T-1", 2)} {
		if err := f.Handle(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{line("2026-03-02T10:00:00.500Z", "opened", "critical")}
	if strings.Join(spool.lines, "\n") != strings.Join(want, "\n") || f.Written("sla-1", "T-1") != 2 {
		t.Fatalf("lines %q written %d", spool.lines, f.Written("sla-1", "T-1"))
	}
	// The event of transition 2 again (a redelivery): no read, no line.
	reads := reader.reads
	if err := f.Handle(ctx, payload("sla-1", "T-1", 2)); err != nil || reader.reads != reads || len(spool.lines) != 1 {
		t.Fatalf("a repeated event: %v, %d reads, %d lines", err, reader.reads-reads, len(spool.lines))
	}
	// The peer has not committed transition 3 yet: an error, nothing written.
	if err := f.Handle(ctx, payload("sla-1", "T-1", 3)); err == nil || err.Error() != `ticket "T-1" of SLA "sla-1": the peer's record has 2 transitions, the event is of transition 3: the peer is behind, retry` {
		t.Fatalf("peer behind: %v", err)
	}
	// The spool fails: an error; the transition is written on the retry.
	reader.timelines["sla-1/T-1"] = tl[:3]
	spool.fail = errors.New("disk full")
	if err := f.Handle(ctx, payload("sla-1", "T-1", 3)); err == nil || err.Error() != `ticket "T-1" of SLA "sla-1": transition 3: disk full` || f.Written("sla-1", "T-1") != 2 {
		t.Fatalf("spool failure: %v, written %d", err, f.Written("sla-1", "T-1"))
	}
	spool.fail = nil

	// A restart: the state file brings the progress back; the retry writes
	// transition 3 once, and events 3 and 4 arriving together write 4 once.
	f = newFeed()
	if f.Written("sla-1", "T-1") != 2 {
		t.Fatalf("restored progress %d, want 2", f.Written("sla-1", "T-1"))
	}
	if err := f.Handle(ctx, payload("sla-1", "T-1", 3)); err != nil {
		t.Fatal(err)
	}
	reader.timelines["sla-1/T-1"] = tl
	for _, p := range [][]byte{payload("sla-1", "T-1", 3), payload("sla-1", "T-1", 4), payload("sla-1", "T-1", 4)} {
		if err := f.Handle(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, line("2026-03-02T10:25:00.000Z", "acknowledged", ""), line("2026-03-02T10:30:00.000Z", "paused", ""))
	if strings.Join(spool.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines\n%s\nwant\n%s", strings.Join(spool.lines, "\n"), strings.Join(want, "\n"))
	}
	if st := f.Stats(); st.Written != 2 || st.Late != 0 {
		t.Errorf("stats %+v", st)
	}

	// A late transition is counted and skipped, not retried forever.
	reader.timelines["sla-1/T-1"] = append(tl, ticketfeed.Transition{Seq: 5, At: "2026-03-02T10:40:00Z", Action: "ResumeTicket", Severity: "critical"})
	spool.fail = fmt.Errorf("%w (record time ...)", ErrLate)
	if err := f.Handle(ctx, payload("sla-1", "T-1", 5)); err != nil || f.Stats().Late != 1 || f.Written("sla-1", "T-1") != 5 {
		t.Fatalf("late: %v %+v written %d", err, f.Stats(), f.Written("sla-1", "T-1"))
	}
	spool.fail = nil

	// Other SLAs are not logged here; a payload that is no ticket event
	// is refused as such; a timeline that is no timeline writes nothing.
	if err := f.Handle(ctx, payload("sla-2", "T-9", 1)); err != nil || len(spool.lines) != 3 {
		t.Fatalf("other SLA: %v", err)
	}
	for _, p := range []string{`{}`, `{"sla_id":"sla-1","ticket_id":"T-1"}`, `{"sla_id":"sla-1","ticket_id":"T-1","seq":1,"x":1}`, `[`} {
		if err := f.Handle(ctx, []byte(p)); !errors.Is(err, ErrBadTicketEvent) {
			t.Errorf("payload %s: %v", p, err)
		}
	}
	reader.timelines["sla-1/T-2"] = []ticketfeed.Transition{tr(1, "2026-03-02T11:00:00Z", "CreateTicket", "")}
	if err := f.Handle(ctx, payload("sla-1", "T-2", 1)); !errors.Is(err, ErrBadTicketEvent) ||
		err.Error() != `ticket event skipped: ticket "T-2" of SLA "sla-1": timeline[0].severity: "" is not a severity id; its transitions are not logged` || len(spool.lines) != 3 {
		t.Fatalf("bad timeline: %v", err)
	}
	// Skipped for good: the same event again reads nothing.
	reads = reader.reads
	if err := f.Handle(ctx, payload("sla-1", "T-2", 1)); err != nil || reader.reads != reads {
		t.Fatalf("the skipped ticket again: %v, %d reads", err, reader.reads-reads)
	}

	data, _ := os.ReadFile(state)
	if string(data) != "{\n \"tickets\": [\n  {\n   \"sla_id\": \"sla-1\",\n   \"ticket_id\": \"T-1\",\n   \"seq\": 5\n  },\n  {\n   \"sla_id\": \"sla-1\",\n   \"ticket_id\": \"T-2\",\n   \"seq\": 1\n  }\n ]\n}" {
		t.Errorf("state file %s", data)
	}
	if err := os.WriteFile(state, []byte(`{"tickets":[{"sla_id":"sla-1","ticket_id":"","seq":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTicketFeed(TicketFeedConfig{Reader: reader, StatePath: state}); err == nil || !strings.Contains(err.Error(), "tickets[0]: needs sla_id, ticket_id and a positive seq") {
		t.Errorf("bad state file: %v", err)
	}
}
