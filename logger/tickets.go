package logger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/logger/ticketfeed"
)

// The ticket feed: the Cloud Logger follows the ticket chaincode's events
// and writes every transition of the tickets of the SLAs it logs as an
// incident event of the log format into the SLA's spool (so into its
// batches, in the window and period of the transition's transaction time),
// where the SLA enclave's support evaluation reads them (package driver).

// ErrBadTicketEvent marks a chaincode event whose payload is not a ticket
// event, or whose ticket's timeline the feed cannot read; it is skipped.
var ErrBadTicketEvent = errors.New("ticket event skipped")

// TicketReader reads a ticket's timeline as a party: GetTicket on a peer
// of the logger's organization (one of the ticket's organizations).
type TicketReader interface {
	Timeline(ctx context.Context, slaID, ticketID string) ([]ticketfeed.Transition, error)
}

// TicketSink is where the feed writes an SLA's ticket events: its spool's
// Append, and the record source (probe, one of the SLA's zones, its
// region).
type TicketSink struct {
	Append func(line []byte) error
	Source ticketfeed.Source
}

// TicketFeedStats counts the feed's work.
type TicketFeedStats struct {
	// Events are the ticket chaincode events of the logged SLAs handled.
	Events int64 `json:"events"`
	// Written are the incident events appended to a spool.
	Written int64 `json:"written"`
	// Late are transitions whose window was already cut when they arrived
	// (lost for the enclave: raise -cut-delay).
	Late int64 `json:"late"`
	// Errors are failed handlings (retried from the event checkpoint).
	Errors int64 `json:"errors"`
}

// TicketFeedConfig configures a TicketFeed.
type TicketFeedConfig struct {
	Reader TicketReader
	// Sinks are the logged SLAs' sinks, by SLA id; events of other SLAs
	// are ignored.
	Sinks map[string]TicketSink
	// StatePath is the file of the feed's progress: per ticket, the last
	// transition handled.
	StatePath string
	Log       *slog.Logger
}

// TicketFeed writes ticket transitions into the SLAs' spools exactly once:
// its state file records, per ticket, the sequence number of the last
// transition handled, saved (atomically) after each appended line; a
// chaincode event at or below it is a repeat and writes nothing. A crash
// between an append (fsynced) and the state's save writes that line again
// on restart: the enclave counts identical ticket events once (same
// ticket, type, severity and millisecond), so every transition counts
// exactly once. It is safe for concurrent use.
type TicketFeed struct {
	cfg     TicketFeedConfig
	mu      sync.Mutex
	written map[ticketKey]int64
	stats   TicketFeedStats
}

type ticketKey struct{ sla, ticket string }

// ticketState is the state file.
type ticketState struct {
	Tickets []ticketProgress `json:"tickets"`
}

type ticketProgress struct {
	SLAID    string `json:"sla_id"`
	TicketID string `json:"ticket_id"`
	Seq      int64  `json:"seq"`
}

// NewTicketFeed returns a feed, restoring its state from cfg.StatePath
// when the file exists.
func NewTicketFeed(cfg TicketFeedConfig) (*TicketFeed, error) {
	if cfg.Reader == nil || cfg.StatePath == "" {
		return nil, fmt.Errorf("ticket feed: a reader and a state path are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	f := &TicketFeed{cfg: cfg, written: map[ticketKey]int64{}}
	data, err := os.ReadFile(cfg.StatePath)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ticket feed state: %w", err)
	}
	var st ticketState
	if err := strictjson.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("ticket feed state %s: %w", cfg.StatePath, err)
	}
	for i, p := range st.Tickets {
		if p.SLAID == "" || p.TicketID == "" || p.Seq < 1 {
			return nil, fmt.Errorf("ticket feed state %s: tickets[%d]: needs sla_id, ticket_id and a positive seq", cfg.StatePath, i)
		}
		f.written[ticketKey{p.SLAID, p.TicketID}] = p.Seq
	}
	return f, nil
}

// Stats returns the counters.
func (f *TicketFeed) Stats() TicketFeedStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Written returns the sequence number of the last transition of a ticket
// handled (0: none).
func (f *TicketFeed) Written(slaID, ticketID string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written[ticketKey{slaID, ticketID}]
}

// save writes the state file atomically (temporary file, fsync, rename).
// The caller holds f.mu.
func (f *TicketFeed) save() error {
	st := ticketState{Tickets: make([]ticketProgress, 0, len(f.written))}
	for k, seq := range f.written {
		st.Tickets = append(st.Tickets, ticketProgress{SLAID: k.sla, TicketID: k.ticket, Seq: seq})
	}
	sort.Slice(st.Tickets, func(i, j int) bool {
		a, b := st.Tickets[i], st.Tickets[j]
		return a.SLAID < b.SLAID || a.SLAID == b.SLAID && a.TicketID < b.TicketID
	})
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.cfg.StatePath), ".tickets-*")
	if err != nil {
		return fmt.Errorf("ticket feed state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.cfg.StatePath)
	}
	if err != nil {
		return fmt.Errorf("ticket feed state: %w", err)
	}
	return nil
}

// Handle handles one ticket chaincode event payload ({"sla_id",
// "ticket_id", "seq"}): for a logged SLA, unless the transition is handled
// already, it reads the ticket's timeline and appends the incident events
// of the transitions not handled yet, in order. A payload that is not a
// ticket event, or whose ticket's timeline cannot be turned into events,
// returns an error wrapping ErrBadTicketEvent (skipped for good); any other
// error (the ticket unreadable, the peer behind the event, a spool failure)
// leaves the rest for a retry.
func (f *TicketFeed) Handle(ctx context.Context, payload []byte) error {
	var ev struct {
		SLAID    string `json:"sla_id"`
		TicketID string `json:"ticket_id"`
		Seq      int64  `json:"seq"`
	}
	if err := strictjson.Unmarshal(payload, &ev); err != nil || ev.SLAID == "" || ev.TicketID == "" || ev.Seq < 1 {
		return fmt.Errorf("%w: not a ticket event: payload %.200q", ErrBadTicketEvent, payload)
	}
	sink, ok := f.cfg.Sinks[ev.SLAID]
	if !ok {
		return nil
	}
	key := ticketKey{ev.SLAID, ev.TicketID}
	f.mu.Lock()
	done := f.written[key]
	f.mu.Unlock()
	if ev.Seq <= done {
		return nil
	}
	err := f.write(ctx, key, sink, ev.Seq, done)
	f.mu.Lock()
	f.stats.Events++
	if err != nil {
		f.stats.Errors++
	}
	f.mu.Unlock()
	return err
}

func (f *TicketFeed) write(ctx context.Context, key ticketKey, sink TicketSink, seq, done int64) error {
	timeline, err := f.cfg.Reader.Timeline(ctx, key.sla, key.ticket)
	if err != nil {
		return fmt.Errorf("ticket %q of SLA %q: %w", key.ticket, key.sla, err)
	}
	if int64(len(timeline)) < seq {
		return fmt.Errorf("ticket %q of SLA %q: the peer's record has %d transitions, the event is of transition %d: the peer is behind, retry",
			key.ticket, key.sla, len(timeline), seq)
	}
	evs, err := ticketfeed.Events(timeline, done)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		// A record the feed cannot read (e.g. written by an older chaincode
		// without severities in its timeline) will not change: skipped,
		// never retried.
		f.written[key] = int64(len(timeline))
		if serr := f.save(); serr != nil {
			return serr
		}
		return fmt.Errorf("%w: ticket %q of SLA %q: %v; its transitions are not logged", ErrBadTicketEvent, key.ticket, key.sla, err)
	}
	for _, e := range evs {
		line, err := ticketfeed.Line(key.ticket, e, sink.Source)
		if err != nil {
			return err
		}
		if err := sink.Append(line); errors.Is(err, ErrLate) {
			f.stats.Late++
			f.cfg.Log.Error("ticket transition late: its window is cut already, the enclave will not see it (raise -cut-delay)",
				"sla", key.sla, "ticket", key.ticket, "seq", e.Seq, "event", e.Type.String(), "at", e.Time, "err", err)
		} else if err != nil {
			return fmt.Errorf("ticket %q of SLA %q: transition %d: %w", key.ticket, key.sla, e.Seq, err)
		} else {
			f.stats.Written++
			f.cfg.Log.Info("ticket event logged", "sla", key.sla, "ticket", key.ticket, "seq", e.Seq, "event", e.Type.String(), "at", e.Time)
		}
		f.written[key] = e.Seq
		if err := f.save(); err != nil {
			return err
		}
	}
	if last := int64(len(timeline)); last > f.written[key] {
		f.written[key] = last
		return f.save()
	}
	return nil
}

// TicketClient reads ticket timelines with GetTicket on a peer of MSPID,
// the logger's organization (the chaincode reads the record from the
// implicit collection of the peer's organization, which must be the
// caller's).
type TicketClient struct {
	Contract *client.Contract
	MSPID    string
}

// Timeline implements TicketReader.
func (c *TicketClient) Timeline(ctx context.Context, slaID, ticketID string) ([]ticketfeed.Transition, error) {
	out, err := c.Contract.EvaluateWithContext(ctx, "GetTicket", client.WithArguments(slaID, ticketID), client.WithEndorsingOrganizations(c.MSPID))
	if err != nil {
		return nil, gatewayErr("GetTicket", err)
	}
	var v struct {
		Record struct {
			Timeline []ticketfeed.Transition `json:"timeline"`
		} `json:"record"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("GetTicket: %w", err)
	}
	return v.Record.Timeline, nil
}

// FollowTickets delivers the ticket chaincode's events to feed, from the
// checkpoint cp (or from startBlock when it is empty), checkpointing each
// event once the feed has handled it; on a failure it reconnects from the
// checkpoint with backoff, so the event is handled again. It returns when
// ctx ends.
func FollowTickets(ctx context.Context, network *client.Network, chaincode string, cp TicketCheckpointer, startBlock uint64, feed *TicketFeed, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	wait := time.Second
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events, err := network.ChaincodeEvents(sctx, chaincode, client.WithStartBlock(startBlock), client.WithCheckpoint(cp))
		if err == nil {
			log.Info("following ticket events", "chaincode", chaincode, "from_block", max(cp.BlockNumber(), startBlock), "after_tx", cp.TransactionID())
			for ev := range events {
				wait = time.Second
				herr := feed.Handle(sctx, ev.Payload)
				if errors.Is(herr, ErrBadTicketEvent) {
					log.Error("skipping ticket event", "event", ev.EventName, "tx", ev.TransactionID, "err", herr)
				} else if herr != nil {
					err = herr
					break
				}
				if err = cp.CheckpointChaincodeEvent(ev); err != nil {
					break
				}
			}
		}
		cancel()
		if ctx.Err() != nil {
			break
		}
		log.Warn("ticket events: reconnecting", "err", errString(err), "retry_in", wait)
		if ctxtime.Sleep(ctx, wait) != nil {
			break
		}
		wait = min(2*wait, 30*time.Second)
	}
	return ctx.Err()
}

// TicketCheckpointer persists the ticket event position
// (client.FileCheckpointer).
type TicketCheckpointer interface {
	client.Checkpoint
	CheckpointChaincodeEvent(*client.ChaincodeEvent) error
}

func errString(err error) string {
	if err == nil {
		return "stream ended"
	}
	return GatewayError(err)
}
