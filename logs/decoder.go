package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// Limits of the log format.
const (
	// MaxStringBytes is the longest probe, zone, region or incident id.
	MaxStringBytes = 256
	// DefaultMaxLineBytes is the longest line a Decoder accepts unless
	// Options.MaxLineBytes says otherwise.
	DefaultMaxLineBytes = 1 << 20
)

var measurementNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidMeasurementName reports whether name matches ^[a-z][a-z0-9_]{0,63}$.
func ValidMeasurementName(name string) bool { return validName([]byte(name)) }

// ValidSeverity reports whether s is a valid event.severity: a severity id
// of the SLA's support section, ^[a-z][a-z0-9_-]{0,63}$.
func ValidSeverity(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Options configure a Decoder.
type Options struct {
	// Measurements are the names whose values are extracted into
	// Sample.Values, at most MaxMeasurements, each a valid measurement
	// name. Other measurements are validated and skipped.
	Measurements []string
	// Interner receives the source and incident strings; nil means a new
	// one owned by the Decoder.
	Interner *Interner
	// MaxLineBytes bounds the length of one line; 0 means
	// DefaultMaxLineBytes.
	MaxLineBytes int
}

// LineError is a decoding error: the 1-based line number, the field (a
// dotted path such as "measurements.latency_ms", empty for the whole line)
// and the reason.
type LineError struct {
	Line   int
	Field  string
	Reason string
}

// Error implements error.
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// Decoder reads JSON Lines log records from a stream. Its memory does not
// grow with the number of lines: it keeps one read buffer (as large as the
// longest line) and the intern tables.
type Decoder struct {
	r       io.Reader
	buf     []byte
	start   int // first unread byte in buf
	end     int // end of valid data in buf
	rerr    error
	line    int
	maxLine int
	names   []string
	in      *Interner
	// FastLines and SlowLines count the records decoded by the scanner and
	// by the encoding/json fallback.
	FastLines, SlowLines int64
}

// NewDecoder returns a Decoder reading r. It fails when opts names too many
// or invalid measurements.
func NewDecoder(r io.Reader, opts Options) (*Decoder, error) {
	if len(opts.Measurements) > MaxMeasurements {
		return nil, fmt.Errorf("logs: %d measurements requested, at most %d supported", len(opts.Measurements), MaxMeasurements)
	}
	for i, n := range opts.Measurements {
		if !ValidMeasurementName(n) {
			return nil, fmt.Errorf("logs: measurement name %q does not match %s", n, measurementNameRE)
		}
		for _, m := range opts.Measurements[:i] {
			if m == n {
				return nil, fmt.Errorf("logs: measurement name %q requested twice", n)
			}
		}
	}
	in := opts.Interner
	if in == nil {
		in = NewInterner()
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	return &Decoder{
		r:       r,
		buf:     make([]byte, 64<<10),
		maxLine: maxLine,
		names:   append([]string(nil), opts.Measurements...),
		in:      in,
	}, nil
}

// Interner returns the Decoder's intern tables.
func (d *Decoder) Interner() *Interner { return d.in }

// Line returns the number of the last line read (1-based).
func (d *Decoder) Line() int { return d.line }

// Next decodes the next record into s, skipping blank lines. It returns
// io.EOF after the last record and a *LineError for a malformed line; the
// Decoder can go on after a *LineError with the following line.
func (d *Decoder) Next(s *Sample) error {
	for {
		line, err := d.readLine()
		if err != nil {
			return err
		}
		if isBlank(line) {
			continue
		}
		if parseCanonical(line, d.names, d.in, s) || parseFast(line, d.names, d.in, s) {
			d.FastLines++
			return nil
		}
		d.SlowLines++
		if le := parseStrict(line, d.names, d.in, s); le != nil {
			le.Line = d.line
			return le
		}
		return nil
	}
}

// Decode fills buf with the next records and returns how many it decoded.
// It returns io.EOF (with n == 0) at the end of the stream, and stops at
// the first malformed line, returning the records before it and the error.
func (d *Decoder) Decode(buf []Sample) (int, error) {
	for n := range buf {
		if err := d.Next(&buf[n]); err != nil {
			if err == io.EOF && n > 0 {
				return n, nil
			}
			return n, err
		}
	}
	return len(buf), nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// readLine returns the next line without its newline; the slice is valid
// until the next call.
func (d *Decoder) readLine() ([]byte, error) {
	for {
		if i := bytes.IndexByte(d.buf[d.start:d.end], '\n'); i >= 0 {
			line := d.buf[d.start : d.start+i]
			d.start += i + 1
			d.line++
			if len(line) > d.maxLine {
				return nil, &LineError{Line: d.line, Reason: fmt.Sprintf("line longer than %d bytes", d.maxLine)}
			}
			return line, nil
		}
		if d.rerr != nil {
			if d.start < d.end {
				line := d.buf[d.start:d.end]
				d.start = d.end
				d.line++
				if len(line) > d.maxLine {
					return nil, &LineError{Line: d.line, Reason: fmt.Sprintf("line longer than %d bytes", d.maxLine)}
				}
				return line, nil
			}
			if errors.Is(d.rerr, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("logs: reading line %d: %w", d.line+1, d.rerr)
		}
		// Make room: move the partial line to the front, grow if full.
		if d.start > 0 {
			d.end = copy(d.buf, d.buf[d.start:d.end])
			d.start = 0
		}
		if d.end == len(d.buf) {
			if len(d.buf) > d.maxLine+1 {
				// Skip the rest of an overlong line.
				d.line++
				le := &LineError{Line: d.line, Reason: fmt.Sprintf("line longer than %d bytes", d.maxLine)}
				if err := d.discardLine(); err != nil {
					d.rerr = err
				}
				return nil, le
			}
			nb := make([]byte, 2*len(d.buf))
			copy(nb, d.buf[:d.end])
			d.buf = nb
		}
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err != nil {
			d.rerr = err
		} else if n == 0 {
			// A reader returning 0, nil repeatedly is tolerated but counted.
			continue
		}
	}
}

// discardLine drops input up to and including the next newline.
func (d *Decoder) discardLine() error {
	d.start, d.end = 0, 0
	for {
		n, err := d.r.Read(d.buf)
		if i := bytes.IndexByte(d.buf[:n], '\n'); i >= 0 {
			d.start, d.end = i+1, n
			if err != nil {
				d.rerr = err
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
