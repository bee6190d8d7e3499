package cli

// Rendering of tickets: slasa ticket show, list, history and watch.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/identity"
)

// durText formats milliseconds of a clock: 1200000 -> "20m", 3723500 ->
// "1h2m3.5s", 0 -> "0s"; negative values get a leading "-".
func durText(ms int64) string {
	if ms < 0 {
		return "-" + durText(-ms)
	}
	if ms == 0 {
		return "0s"
	}
	h, rest := ms/3_600_000, ms%3_600_000
	m, rest := rest/60_000, rest%60_000
	s, frac := rest/1000, rest%1000
	var b strings.Builder
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(m, 10) + "m")
	}
	if s > 0 || frac > 0 {
		b.WriteString(strconv.FormatInt(s, 10))
		if frac > 0 {
			b.WriteString("." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0"))
		}
		b.WriteString("s")
	}
	return b.String()
}

// timeText writes a chaincode timestamp in whole seconds (UTC); "" is "-".
func timeText(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

// shortID names an identity by MSP ID and common name.
func shortID(id identity.ID) string {
	if id.IsZero() {
		return "-"
	}
	cn := identity.CommonName(id.Subject)
	if cn == "" {
		cn = id.Subject
	}
	return id.MSPID + "/" + cn
}

// oneLine puts free text on one line of a table or a field.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ⏎ ", "\t", " ").Replace(s)
}

// outcomeText is a target's outcome with its margin: "met (margin 16m58s)",
// "breached (margin -5.3s)"; "-" while the target has none.
func outcomeText(o *ticketOutcome) string {
	if o == nil {
		return "-"
	}
	return fmt.Sprintf("%s (margin %s)", o.Result, durText(o.MarginMS))
}

// remainingText is the time left to the target name by the ticket's clock:
// "4m12s", "overdue 1m", "paused"; "-" when name is not the running target.
func remainingText(v *ticketView, name string) string {
	c := v.Clock
	if c == nil || c.Target != name {
		return "-"
	}
	if c.Paused {
		return "paused"
	}
	if c.RemainingMS < 0 {
		return "overdue " + durText(-c.RemainingMS)
	}
	return durText(c.RemainingMS)
}

// deadlineText is a target's deadline, "unknown (paused)" while a pause
// leaves it open.
func deadlineText(v *ticketView, t *ticketTarget) string {
	if t.Deadline == "" && t.Outcome == nil && v.Record.PausedFrom != "" {
		return "unknown (paused)"
	}
	return timeText(t.Deadline)
}

// targetText describes one target on one line (the transition commands):
// its outcome, or its deadline and the time left.
func targetText(v *ticketView, name string) string {
	t := v.Record.target(name)
	if o := t.Outcome; o != nil {
		s := fmt.Sprintf("%s in %s of %s (margin %s)", o.Result, durText(o.ElapsedMS), durText(t.TargetMS), durText(o.MarginMS))
		if o.PenaltyMinor != 0 {
			s += ", penalty " + money(o.PenaltyMinor, o.Currency)
		}
		return s
	}
	s := "due " + deadlineText(v, t)
	if r := remainingText(v, name); r != "-" {
		s += ", " + r
		if r != "paused" && !strings.HasPrefix(r, "overdue") {
			s += " left"
		}
	}
	return s
}

// ticketStatusText is the ticket's status, with the status a paused ticket
// returns to.
func ticketStatusText(r *ticketRecord) string {
	if r.PausedFrom != "" {
		return r.Status + " (paused from " + r.PausedFrom + ")"
	}
	return r.Status
}

// assigneeText names the assigned vendor.
func assigneeText(r *ticketRecord, short bool) string {
	if r.Vendor == nil {
		return "-"
	}
	if short {
		return shortID(*r.Vendor)
	}
	return idText(*r.Vendor, "")
}

// penaltyText is the penalty owed so far, "-" when none.
func penaltyText(v *ticketView) string {
	if v.PenaltyOwedMinor == 0 {
		return "-"
	}
	return money(v.PenaltyOwedMinor, v.Record.Terms.Currency)
}

// clockText describes GetTicket's clock of the running target.
func clockText(v *ticketView) string {
	c := v.Clock
	if c == nil {
		return "- (no target runs)"
	}
	state := durText(c.RemainingMS) + " left"
	if c.RemainingMS < 0 {
		state = "overdue by " + durText(-c.RemainingMS)
	}
	if c.Paused {
		state = "paused, " + state
	}
	return fmt.Sprintf("%s target: %s counted of %s (%s used), %s at %s", c.Target, durText(c.ElapsedMS),
		durText(v.Record.target(c.Target).TargetMS), bps(c.UsedBPS), state, timeText(c.At))
}

// writeTicket prints slasa ticket show: the ticket's fields, then a row per
// target (limit, calendar, deadline, time left, outcome, escalation level,
// penalty).
func writeTicket(w io.Writer, v *ticketView) error {
	r := &v.Record
	vendor := assigneeText(r, false)
	if r.VendorTicketID != "" {
		vendor += ", vendor ticket " + r.VendorTicketID
	}
	f := [][2]string{
		{"ticket", fmt.Sprintf("%s of SLA %s (seq %d)", v.Ticket.ID, v.Ticket.SLAID, v.Ticket.Seq)},
		{"status", ticketStatusText(r)},
		{"severity", r.Severity},
		{"type", r.Type},
		{"description", oneLine(r.Description)},
		{"customer", idText(r.Customer, "")},
		{"provider", idText(r.Provider, "")},
		{"assignee", vendor},
		{"created", timeText(r.CreatedAt) + " by the " + r.CreatedBy},
		{"clock", clockText(v)},
		{"breached", yesNo(v.Breached)},
		{"penalty owed", penaltyText(v)},
		{"organizations", strings.Join(v.Ticket.Orgs, ", ")},
	}
	if err := writeFields(w, f); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t := &table{header: []string{"TARGET", "LIMIT", "CALENDAR", "DEADLINE", "REMAINING", "OUTCOME", "ESCALATION", "PENALTY"}}
	for _, name := range []string{"acceptance", "closure"} {
		tt := r.target(name)
		cal := r.Terms.Acceptance.Calendar.ID
		if name == "closure" {
			cal = r.Terms.Closure.Calendar.ID
		}
		pen := "-"
		if o := tt.Outcome; o != nil && o.PenaltyMinor != 0 {
			pen = money(o.PenaltyMinor, o.Currency)
		}
		t.add(name, durText(tt.TargetMS), orDash(cal), deadlineText(v, tt), remainingText(v, name), outcomeText(tt.Outcome),
			fmt.Sprintf("%d/%d", tt.Level, len(r.Terms.Escalation)), pen)
	}
	return t.write(w)
}

// targetShort is a target in a list: its outcome and margin, or its
// deadline.
func targetShort(v *ticketView, name string) string {
	t := v.Record.target(name)
	if o := t.Outcome; o != nil {
		sign := "+"
		if o.MarginMS < 0 {
			sign = ""
		}
		return o.Result + " " + sign + durText(o.MarginMS)
	}
	return "due " + deadlineText(v, t)
}

// writeTicketList prints slasa ticket list.
func writeTicketList(w io.Writer, views []*ticketView) error {
	if len(views) == 0 {
		_, err := fmt.Fprintln(w, "no tickets")
		return err
	}
	t := &table{header: []string{"TICKET", "STATUS", "SEVERITY", "ASSIGNEE", "ACCEPTANCE", "CLOSURE", "REMAINING", "ESCALATION", "PENALTY"}}
	for _, v := range views {
		remaining := "-"
		if c := v.Clock; c != nil {
			remaining = c.Target + " " + remainingText(v, c.Target)
		}
		esc := "-"
		if n := len(v.Record.Escalations); n > 0 {
			e := v.Record.Escalations[n-1]
			esc = fmt.Sprintf("%s %d", e.Target, e.Level)
		}
		t.add(v.Ticket.ID, v.Record.Status, v.Record.Severity, assigneeText(&v.Record, true), targetShort(v, "acceptance"),
			targetShort(v, "closure"), remaining, esc, penaltyText(v))
	}
	return t.write(w)
}

// writeTicketHistory prints a ticket's timeline.
func writeTicketHistory(w io.Writer, timeline []ticketTransition) error {
	t := &table{header: []string{"SEQ", "AT", "ACTION", "BY", "ROLE", "FROM", "TO", "NOTE", "TX"}}
	for _, tr := range timeline {
		t.add(strconv.FormatInt(tr.Seq, 10), timeText(tr.At), tr.Action, shortID(tr.By), tr.Role, orDash(tr.From), tr.To,
			orDash(oneLine(tr.Note)), tr.TxID)
	}
	return t.write(w)
}

// ticketEvent is the payload of every ticket event (ticket.TicketEvent).
type ticketEvent struct {
	SLAID    string `json:"sla_id"`
	TicketID string `json:"ticket_id"`
	Seq      int64  `json:"seq"`
}

// watchLine is one event of slasa ticket watch with the caller's view of
// the ticket (v, nil when GetTicket failed with readErr).
func watchLine(ev *client.ChaincodeEvent, p ticketEvent, v *ticketView, readErr error) string {
	head := fmt.Sprintf("block %d  %s  %s/%s seq %d", ev.BlockNumber, ev.EventName, p.SLAID, p.TicketID, p.Seq)
	tail := "  tx " + short(ev.TransactionID)
	if v == nil {
		return head + "  (" + readErr.Error() + ")" + tail
	}
	parts := []string{"status " + v.Record.Status, "severity " + v.Record.Severity, "assignee " + assigneeText(&v.Record, true)}
	if c := v.Clock; c != nil {
		rem := remainingText(v, c.Target)
		if rem != "paused" && !strings.HasPrefix(rem, "overdue") {
			rem += " left"
		}
		parts = append(parts, c.Target+" "+rem)
	}
	for _, name := range []string{"acceptance", "closure"} {
		if o := v.Record.target(name).Outcome; o != nil {
			parts = append(parts, name+" "+o.Result)
		}
	}
	if n := len(v.Record.Escalations); n > 0 {
		e := v.Record.Escalations[n-1]
		parts = append(parts, fmt.Sprintf("escalation %s %d (notify %s)", e.Target, e.Level, strings.Join(e.Notify, ", ")))
	}
	if v.PenaltyOwedMinor != 0 {
		parts = append(parts, "penalty "+penaltyText(v))
	}
	if v.Ticket.Seq != p.Seq {
		parts = append(parts, fmt.Sprintf("(read at seq %d)", v.Ticket.Seq))
	}
	return head + "  " + strings.Join(parts, ", ") + tail
}

// watchJSON is one event of slasa ticket watch --json.
func watchJSON(ev *client.ChaincodeEvent, p ticketEvent, v *ticketView, readErr error) map[string]any {
	m := map[string]any{"block": ev.BlockNumber, "tx_id": ev.TransactionID, "event": ev.EventName,
		"sla_id": p.SLAID, "ticket_id": p.TicketID, "seq": p.Seq}
	if v != nil {
		m["ticket"] = json.RawMessage(v.raw)
	} else {
		m["error"] = readErr.Error()
	}
	return m
}
