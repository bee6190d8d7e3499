package sla

import (
	"fmt"
	"time"
)

// Metric returns the metric with the given id.
func (s *SLA) Metric(id string) (*Metric, bool) {
	if s == nil {
		return nil, false
	}
	for i := range s.Metrics {
		if s.Metrics[i].ID == id {
			return &s.Metrics[i], true
		}
	}
	return nil, false
}

// ValidityWindow returns the validity window [start, end) in UTC. It fails
// when a timestamp is not an RFC 3339 UTC instant in whole seconds or when
// start is not before end.
func (s *SLA) ValidityWindow() (start, end time.Time, err error) {
	if s == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("sla: nil SLA")
	}
	start, err = parseInstant(s.Validity.Start)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.start: %w", err)
	}
	end, err = parseInstant(s.Validity.End)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.end: %w", err)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, fmt.Errorf("validity.end: must be after validity.start (%s)", s.Validity.Start)
	}
	return start, end, nil
}
