package sla

import (
	"sort"
	"strings"
)

// RootPath is the Path of a Problem that concerns the document as a whole.
const RootPath = "(root)"

// Problem is one reason why a document is not a valid Parametric SLA.
type Problem struct {
	// Path locates the offending value as a JSON path from the document
	// root, e.g. "metrics[0].objective.target"; RootPath for the whole
	// document. A missing or unknown property is located at the
	// property's own path ("price.currency").
	Path string
	// Reason says what is wrong, in plain words.
	Reason string
}

// String returns "Path: Reason".
func (p Problem) String() string { return p.Path + ": " + p.Reason }

// ValidationError reports every problem found in a document at once.
type ValidationError struct {
	// Problems are sorted by Path, then Reason, without duplicates.
	Problems []Problem
}

// Error lists the problems, one "path: reason" per line, in Problems order.
func (e *ValidationError) Error() string {
	if e == nil || len(e.Problems) == 0 {
		return "invalid SLA"
	}
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Has reports whether some problem is located exactly at path.
func (e *ValidationError) Has(path string) bool {
	if e == nil {
		return false
	}
	for _, p := range e.Problems {
		if p.Path == path {
			return true
		}
	}
	return false
}

// Reasons returns the reasons of the problems located exactly at path.
func (e *ValidationError) Reasons(path string) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, p := range e.Problems {
		if p.Path == path {
			out = append(out, p.Reason)
		}
	}
	return out
}

// newValidationError sorts and de-duplicates problems; it returns nil (as
// an error interface) when there are none.
func newValidationError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	ps := append([]Problem(nil), problems...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Path != ps[j].Path {
			return ps[i].Path < ps[j].Path
		}
		return ps[i].Reason < ps[j].Reason
	})
	out := make([]Problem, 0, len(ps))
	for _, p := range ps {
		if len(out) > 0 && p == out[len(out)-1] {
			continue
		}
		out = append(out, p)
	}
	return &ValidationError{Problems: out}
}
