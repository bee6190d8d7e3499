package logger

import (
	"context"
	"net/http"
	"time"

	"github.com/slasa/slasa/internal/opshttp"
)

// Handler registers the Cloud Logger's metrics and health checks on o (call
// it once per Ops) and returns the mux serving GET /healthz and GET /metrics
// (docs/logger-monitor.md lists the metrics). pubs are the SLAs' publishers
// in the order to report them; feed may be nil (no -tickets); now is the
// clock of logger_windows_behind (time.Now when nil).
//
// /healthz is 503 "degraded" when a publisher that has not finished has had
// no successful step for its StaleAfter (IPFS or the ledger failing), with
// the last error; its body also has slas (each publisher's Stats) and, with
// a feed, tickets (its TicketFeedStats).
func Handler(o *opshttp.Ops, pubs []*Publisher, feed *TicketFeed, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	for _, p := range pubs {
		l := map[string]string{"sla": p.cfg.SLA.ID}
		stat := func(f func(Stats) int64) func() int64 { return func() int64 { return f(p.Stats()) } }
		o.CounterWith("logger_samples_spooled_total", "Samples appended to the spool.", l, stat(func(s Stats) int64 { return s.Appended }))
		o.CounterWith("logger_samples_late_total", "Samples refused because their window was already cut.", l, stat(func(s Stats) int64 { return s.Late }))
		o.CounterWith("logger_batches_published_total", "Batches published: anchored and committed (kept in the state folder across restarts).", l,
			stat(func(s Stats) int64 { return s.Published }))
		o.CounterWith("logger_records_published_total", "Records in the published batches (kept across restarts).", l, stat(func(s Stats) int64 { return s.PublishedRecords }))
		o.GaugeWith("logger_next_seq", "Sequence number of the next batch to cut.", l, stat(func(s Stats) int64 { return s.NextSeq }))
		o.CounterWith("logger_step_errors_total", "Publishing steps that failed; each is retried after a backoff.", l, stat(func(s Stats) int64 { return s.Errors }))
		o.CounterWith("logger_batches_added_total", "Batches this process added (pinned) to IPFS.", l, stat(func(s Stats) int64 { return s.Added }))
		o.CounterWith("logger_batches_anchored_total", "Batches this process anchored (AnchorLogBatch submitted and committed).", l, stat(func(s Stats) int64 { return s.Anchored }))
		o.GaugeWith("logger_pending_batch", "1 while a cut batch waits to be added or anchored, else 0.", l, stat(func(s Stats) int64 {
			if s.Pending {
				return 1
			}
			return 0
		}))
		o.GaugeWith("logger_spool_segments", "Spool depth: window segment files not yet published (-1 when the spool folder cannot be read).", l, func() int64 {
			n, err := p.Spool().Pending()
			if err != nil {
				return -1
			}
			return int64(n)
		})
		o.GaugeWith("logger_windows_behind", "Windows ended and not yet anchored (0 or 1 while publishing keeps up).", l, func() int64 { return p.WindowsBehind(now()) })
		o.Check("sla "+p.cfg.SLA.ID, p.Check)
	}
	if feed != nil {
		ts := func(f func(TicketFeedStats) int64) func() int64 { return func() int64 { return f(feed.Stats()) } }
		o.Counter("logger_ticket_events_total", "Ticket chaincode events of the logged SLAs handled.", ts(func(s TicketFeedStats) int64 { return s.Events }))
		o.Counter("logger_ticket_lines_total", "Ticket incident events appended to a spool.", ts(func(s TicketFeedStats) int64 { return s.Written }))
		o.Counter("logger_ticket_late_total", "Ticket transitions whose window was already cut (lost for the enclave: raise -cut-delay).", ts(func(s TicketFeedStats) int64 { return s.Late }))
		o.Counter("logger_ticket_errors_total", "Failed handlings of a ticket event (retried from the event checkpoint).", ts(func(s TicketFeedStats) int64 { return s.Errors }))
	}
	return o.Mux(func(context.Context) map[string]any {
		stats := make([]Stats, 0, len(pubs))
		for _, p := range pubs {
			stats = append(stats, p.Stats())
		}
		res := map[string]any{"slas": stats}
		if feed != nil {
			res["tickets"] = feed.Stats()
		}
		return res
	})
}
