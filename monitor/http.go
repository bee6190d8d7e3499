package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
)

// Health is the monitor's /healthz answer.
type Health struct {
	Status string `json:"status"`
	// Events is true while the event stream is connected.
	Events bool `json:"events_connected"`
	SLAs   int  `json:"slas"`
}

// Handler serves GET /healthz (200 while the event stream is connected,
// else 503) and GET /metrics (one "name value" line per counter, fixed
// order).
func (m *Monitor) Handler(connected *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := Health{Status: "ok", Events: connected.Load(), SLAs: len(m.Snapshot().SLAs)}
		w.Header().Set("Content-Type", "application/json")
		if !h.Events {
			h.Status = "degraded"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(h)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, c := range []struct {
			name string
			v    *atomic.Int64
		}{
			{"monitor_events_total", &m.C.Events},
			{"monitor_reconciles_total", &m.C.Reconciles},
			{"monitor_registered_total", &m.C.Registered},
			{"monitor_batches_ingested_total", &m.C.Ingested},
			{"monitor_evaluations_total", &m.C.Evaluations},
			{"monitor_settlements_total", &m.C.Settlements},
			{"monitor_credits_minor_total", &m.C.Credits},
			{"monitor_errors_total", &m.C.Errors},
			{"monitor_escalations_total", &m.C.Escalations},
			{"monitor_escalations_refused_total", &m.C.EscalationsRefused},
			{"monitor_escalation_errors_total", &m.C.EscalationErrors},
		} {
			fmt.Fprintf(w, "%s %d\n", c.name, c.v.Load())
		}
	})
	return mux
}
