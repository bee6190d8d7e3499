package logger

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxFutureSkew is how far ahead of the logger's clock a record's time may
// be; later records are refused.
const MaxFutureSkew = time.Minute

// ErrLate is returned (wrapped) by Spool.Append for a record whose window
// has already been cut.
var ErrLate = errors.New("late record: its batch window is already cut")

// segmentSuffix ends the name of a spool segment file.
const segmentSuffix = ".jsonl"

// Spool is the write-ahead spool of one SLA: one append-only segment file
// per batch window, named by the window start in Unix milliseconds. Append
// writes a record line and fsyncs the segment before returning. Safe for
// concurrent use.
type Spool struct {
	dir     string
	windows *Windows
	now     func() time.Time

	mu     sync.Mutex
	closed time.Time // records before this instant are late
	open   map[int64]*os.File
	// Appended and Late count the records accepted and refused as late.
	appended, late int64
}

// OpenSpool opens (creating it if needed) the spool in dir. Records before
// closedBefore are refused as late: it is the end of the last window cut.
func OpenSpool(dir string, windows *Windows, closedBefore time.Time, now func() time.Time) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Spool{dir: dir, windows: windows, now: now, closed: closedBefore, open: map[int64]*os.File{}}, nil
}

// Dir is the spool's folder.
func (s *Spool) Dir() string { return s.dir }

// Counts returns the number of records appended and refused as late since
// the spool was opened.
func (s *Spool) Counts() (appended, late int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appended, s.late
}

func (s *Spool) segment(start time.Time) string {
	return filepath.Join(s.dir, strconv.FormatInt(start.UnixMilli(), 10)+segmentSuffix)
}

// Append validates a record line (CheckRecord), assigns it to the window of
// its time and appends it, fsynced, to that window's segment.
func (s *Spool) Append(line []byte) error {
	line = bytes.TrimRight(line, "\r\n")
	ms, err := CheckRecord(line)
	if err != nil {
		return err
	}
	t := time.UnixMilli(ms).UTC()
	if t.After(s.now().Add(MaxFutureSkew)) {
		return fmt.Errorf("record time %s is more than %s ahead of the clock", t.Format(time.RFC3339Nano), MaxFutureSkew)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Before(s.closed) {
		s.late++
		return fmt.Errorf("%w (record time %s, windows cut up to %s)", ErrLate, t.Format(time.RFC3339Nano), s.closed.Format(time.RFC3339))
	}
	w, err := s.windows.Containing(t)
	if err != nil {
		return fmt.Errorf("record time %s: %w", t.Format(time.RFC3339Nano), err)
	}
	key := w.Start.UnixMilli()
	f := s.open[key]
	if f == nil {
		if f, err = openSegment(s.segment(w.Start)); err != nil {
			return err
		}
		s.open[key] = f
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("spool: append: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool: fsync: %w", err)
	}
	s.appended++
	return nil
}

// openSegment opens a segment for appending, first cutting off a torn last
// line (a write that crashed before its fsync: it was never acknowledged).
func openSegment(path string) (*os.File, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	keep := int64(bytes.LastIndexByte(data, '\n') + 1)
	if keep != int64(len(data)) {
		if err := f.Truncate(keep); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool: truncating a torn record: %w", err)
		}
	}
	if _, err := f.Seek(keep, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}

// Cut closes window w (later records of it are refused as late) and returns
// its records, one line each ending in "\n", sorted by time (records of the
// same millisecond keep their append order). A torn last line is ignored.
func (s *Spool) Cut(w Window) ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.End.After(s.closed) {
		s.closed = w.End
	}
	key := w.Start.UnixMilli()
	if f := s.open[key]; f != nil {
		f.Close()
		delete(s.open, key)
	}
	data, err := os.ReadFile(s.segment(w.Start))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	type rec struct {
		ms   int64
		line []byte
	}
	var recs []rec
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		if len(line) == 0 {
			continue
		}
		ms, err := RecordTime(line)
		if err != nil {
			return nil, 0, fmt.Errorf("spool segment %s: %w", s.segment(w.Start), err)
		}
		t := time.UnixMilli(ms)
		if t.Before(w.Start) || !t.Before(w.End) {
			return nil, 0, fmt.Errorf("spool segment %s: record time %s outside window %s", s.segment(w.Start), t.UTC().Format(time.RFC3339Nano), w)
		}
		recs = append(recs, rec{ms, line})
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ms < recs[j].ms })
	var out bytes.Buffer
	for _, r := range recs {
		out.Write(r.line)
		out.WriteByte('\n')
	}
	return out.Bytes(), int64(len(recs)), nil
}

// Remove deletes the segment of window w (after its batch is anchored).
func (s *Spool) Remove(w Window) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.segment(w.Start))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Pending returns the number of segment files in the spool.
func (s *Spool) Pending() (int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), segmentSuffix) {
			n++
		}
	}
	return n, nil
}

// Close closes the open segment files.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for k, f := range s.open {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.open, k)
	}
	return first
}
