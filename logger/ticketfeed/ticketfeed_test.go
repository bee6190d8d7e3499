package ticketfeed

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/logs"
)

func TestEvents(t *testing.T) {
	tl := []Transition{
		{1, "2026-03-02T10:00:00.123456789Z", "CreateTicket", "critical"},
		{2, "2026-03-02T10:01:00Z", "AssignVendor", "critical"},
		{3, "2026-03-02T10:25:00Z", "AcknowledgeTicket", "critical"},
		{4, "2026-03-02T10:30:00Z", "PauseTicket", "critical"},
		{5, "2026-03-02T10:40:00Z", "ResumeTicket", "critical"},
		{6, "2026-03-02T10:45:00Z", "ChangeSeverity", "high"},
		{7, "2026-03-02T10:46:00Z", "Escalate", "high"},
		{8, "2026-03-02T11:00:00Z", "ResolveTicket", "high"},
		{9, "2026-03-02T11:10:00Z", "ReopenTicket", "high"},
		{10, "2026-03-02T11:20:00Z", "UpdateTicket", "high"},
		{11, "2026-03-02T11:30:00Z", "ResolveTicket", "high"},
		{12, "2026-03-02T11:40:00Z", "CloseTicket", "high"},
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	want := []Event{
		{1, at("2026-03-02T10:00:00.123Z"), logs.EventOpened, "critical"},
		{3, at("2026-03-02T10:25:00Z"), logs.EventAcknowledged, ""},
		{4, at("2026-03-02T10:30:00Z"), logs.EventPaused, ""},
		{5, at("2026-03-02T10:40:00Z"), logs.EventResumed, ""},
		{6, at("2026-03-02T10:45:00Z"), logs.EventSeverityChanged, "high"},
		{8, at("2026-03-02T11:00:00Z"), logs.EventResolved, ""},
		{9, at("2026-03-02T11:10:00Z"), logs.EventReopened, ""},
		{11, at("2026-03-02T11:30:00Z"), logs.EventResolved, ""},
		{12, at("2026-03-02T11:40:00Z"), logs.EventClosed, ""},
	}
	got, err := Events(tl, 0)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Events = %+v, %v\nwant %+v", got, err, want)
	}
	if got, _ := Events(tl, 8); !reflect.DeepEqual(got, want[6:]) {
		t.Errorf("Events after 8 = %+v, want %+v", got, want[6:])
	}
	src := Source{Probe: "tickets", Zone: "site-1", Region: "metro-1"}
	var lines []string
	for _, ev := range want[:2] {
		b, err := Line("T-1", ev, src)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	wantLines := []string{
		`{"time":"2026-03-02T10:00:00.123Z","source":{"probe":"tickets","zone":"site-1","region":"metro-1"},"event":{"incident":"T-1","type":"opened","severity":"critical"}}`,
		`{"time":"2026-03-02T10:25:00.000Z","source":{"probe":"tickets","zone":"site-1","region":"metro-1"},"event":{"incident":"T-1","type":"acknowledged"}}`,
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
	// Each line is a valid log record.
	d, err := logs.NewDecoder(strings.NewReader(strings.Join(lines, "\n")), logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range lines {
		var s logs.Sample
		if err := d.Next(&s); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
}

func TestEventsErrors(t *testing.T) {
	for _, tc := range []struct {
		tl   []Transition
		want string
	}{
		{[]Transition{{2, "2026-03-02T10:00:00Z", "CreateTicket", "critical"}}, "timeline[0].seq: 2, want 1"},
		{[]Transition{{1, "yesterday", "CreateTicket", "critical"}}, `timeline[0].at: "yesterday" is not an RFC 3339 time`},
		{[]Transition{{1, "2026-03-02T10:00:00Z", "DeleteTicket", "critical"}}, `timeline[0].action: "DeleteTicket" is not a ticket transition`},
		{[]Transition{{1, "2026-03-02T10:00:00Z", "CreateTicket", ""}}, `timeline[0].severity: "" is not a severity id`},
	} {
		if _, err := Events(tc.tl, 0); err == nil || err.Error() != tc.want {
			t.Errorf("Events(%+v) = %v, want %q", tc.tl, err, tc.want)
		}
	}
}
