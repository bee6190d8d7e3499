package logger

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/slasa/slasa/logs"
)

// IngestStats counts the lines of an Ingest.
type IngestStats struct {
	Lines    int64 `json:"lines"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
}

// Ingest reads JSON Lines log records from r and passes each to sink
// (Spool.Append) until EOF or ctx ends. Blank lines are skipped; a line the
// sink refuses (malformed, late, outside the SLA's validity) is logged with
// its line number and counted, and ingestion goes on. Lines longer than
// logs.DefaultMaxLineBytes are refused.
func Ingest(ctx context.Context, r io.Reader, sink func(line []byte) error, log *slog.Logger) (IngestStats, error) {
	if log == nil {
		log = slog.Default()
	}
	var st IngestStats
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		line, err := readLine(br, logs.DefaultMaxLineBytes)
		if len(line) > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			st.Lines++
		}
		if errors.Is(err, errLineTooLong) {
			st.Rejected++
			log.Error("ingest: line refused", "line", st.Lines, "err", err)
			continue
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if serr := sink(line); serr != nil {
				st.Rejected++
				log.Error("ingest: line refused", "line", st.Lines, "err", serr)
			} else {
				st.Accepted++
			}
		}
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("ingest: %w", err)
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its line break; a line longer than
// max is consumed and errLineTooLong returned.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	tooLong := false
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(out)+len(frag) > max+2 {
				tooLong, out = true, nil
			} else {
				out = append(out, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			if err == nil {
				return nil, errLineTooLong
			}
			return nil, errors.Join(errLineTooLong, err)
		}
		return bytes.TrimRight(out, "\r\n"), err
	}
}
