// Package flagvalue holds flag.Value types shared by the slasa services'
// command lines.
package flagvalue

import "strings"

// List is a repeatable flag whose values may also be space-separated:
// -sla "a b" -sla c gives [a b c]. Empty words are dropped.
type List []string

// String joins the values with spaces.
func (l *List) String() string { return strings.Join(*l, " ") }

// Set adds the space-separated words of v.
func (l *List) Set(v string) error {
	for _, s := range strings.Split(v, " ") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// Multi is a repeatable flag that keeps each value whole.
type Multi []string

// String joins the values with spaces.
func (m *Multi) String() string { return strings.Join(*m, " ") }

// Set adds v as one value.
func (m *Multi) Set(v string) error { *m = append(*m, v); return nil }
