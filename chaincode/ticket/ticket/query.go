package ticket

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
)

// TicketView is GetTicket's answer: the public record, the private record
// of the caller's organization's collection (pass it back unchanged, as
// JSON, in the transient map under "ticket" to make a transition), the
// penalty owed so far and the running target's clock at the query's time.
type TicketView struct {
	Ticket           TicketPublic `json:"ticket"`
	Record           TicketRecord `json:"record"`
	PenaltyOwedMinor int64        `json:"penalty_owed_minor"`
	Breached         bool         `json:"breached"`
	Clock            *ClockView   `json:"clock,omitempty"`
}

// ClockView is the running target's clock at a time: the counted time, the
// time left to its target (negative past it) and the share used, in basis
// points (capped at 10000), all counted in its calendar with the pauses
// excluded.
type ClockView struct {
	Target      string `json:"target"`
	At          string `json:"at"`
	ElapsedMS   int64  `json:"elapsed_ms"`
	RemainingMS int64  `json:"remaining_ms"`
	UsedBPS     int64  `json:"used_bps"`
	Paused      bool   `json:"paused"`
}

// Page is a page of ListTickets' results.
type Page struct {
	Records []TicketView `json:"records"`
	// Bookmark is the ticket id to pass to get the next page; "" when
	// there is none.
	Bookmark string `json:"bookmark"`
}

// view builds a ticket's view at now.
func view(p *TicketPublic, r *TicketRecord, now time.Time) (TicketView, error) {
	v := TicketView{Ticket: *p, Record: *r, PenaltyOwedMinor: r.PenaltyOwedMinor(), Breached: r.breached(now)}
	if target := r.running(); target != "" && r.Status != StatusClosed {
		el, err := r.elapsed(target, now)
		if err != nil {
			return TicketView{}, fmt.Errorf("ticket %q of SLA %q: %w", p.ID, p.SLAID, err)
		}
		c := r.clock(target)
		v.Clock = &ClockView{
			Target: target, At: format(now), ElapsedMS: el.Milliseconds(),
			RemainingMS: c.TargetMS - el.Milliseconds(), UsedBPS: bps(el, c.TargetMS), Paused: r.PausedFrom != "",
		}
	}
	return v, nil
}

// ownRecord checks that the caller belongs to one of the ticket's
// organizations and evaluates on a peer of its own, and returns the
// record of that organization's collection.
func (c *Contract) ownRecord(ctx contractapi.TransactionContextInterface, fn, slaID, ticketID string) (*TicketPublic, *TicketRecord, error) {
	p, key, err := loadPublic(ctx, slaID, ticketID)
	if err != nil {
		return nil, nil, err
	}
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return nil, nil, err
	}
	// mutate:check read-org
	if !slices.Contains(p.Orgs, caller.ID.MSPID) {
		return nil, nil, fmt.Errorf("ticket %q of SLA %q is readable by %s only, not by %s", ticketID, slaID, strings.Join(p.Orgs, ", "), caller.ID.MSPID)
	}
	local, err := localMSP()
	if err != nil {
		return nil, nil, err
	}
	// mutate:check read-own-peer
	if local != caller.ID.MSPID {
		return nil, nil, fmt.Errorf("ticket %q of SLA %q: evaluate %s on a peer of your organization %s: this peer belongs to %s, and the record is read from the caller's organization's implicit collection",
			ticketID, slaID, fn, caller.ID.MSPID, local)
	}
	r, err := readRecord(ctx, p, key, local)
	if err != nil {
		return nil, nil, err
	}
	return p, r, nil
}

// GetTicket returns a ticket's TicketView as JSON. Readable by members of
// the ticket's organizations (customer's, provider's, vendor's), each on a
// peer of its own organization: the record comes from the implicit
// collection of this peer's organization (CORE_PEER_LOCALMSPID), which
// must be the caller's, and is checked against the public hash. The clock
// is computed at the query's timestamp. A query: evaluate it on a peer of
// your organization.
func (c *Contract) GetTicket(ctx contractapi.TransactionContextInterface, slaID, ticketID string) (string, error) {
	p, r, err := c.ownRecord(ctx, "GetTicket", slaID, ticketID)
	if err != nil {
		return "", err
	}
	now, err := c.txTime(ctx)
	if err != nil {
		return "", err
	}
	v, err := view(p, r, now)
	if err != nil {
		return "", err
	}
	return toJSON(v)
}

// GetTicketHistory returns a ticket's timeline (every transition, oldest
// first) as a JSON list of Transition. Readable like GetTicket.
func (c *Contract) GetTicketHistory(ctx contractapi.TransactionContextInterface, slaID, ticketID string) (string, error) {
	_, r, err := c.ownRecord(ctx, "GetTicketHistory", slaID, ticketID)
	if err != nil {
		return "", err
	}
	return toJSON(r.Timeline)
}

var statusFilter = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ListTickets returns a page of the tickets of SLA slaID that the caller's
// organization holds in its implicit collection, in ticket id order, as
// JSON Page. status selects one status ("" any); breached is "true" (a
// target breached, or past its deadline at the query's time), "false" or
// "" (any); pageSize is 1..100; bookmark is "" for the first page, else
// the bookmark of the previous page. Anyone may list, on a peer of their
// own organization: only that organization's tickets are read. A query:
// evaluate it on a peer of your organization.
func (c *Contract) ListTickets(ctx contractapi.TransactionContextInterface, slaID, status, breached, pageSize, bookmark string) (string, error) {
	caller, err := ccguard.GetCaller(ctx)
	if err != nil {
		return "", err
	}
	local, err := localMSP()
	if err != nil {
		return "", err
	}
	// mutate:check list-own-peer
	if local != caller.ID.MSPID {
		return "", fmt.Errorf("evaluate ListTickets on a peer of your organization %s: this peer belongs to %s, and the tickets are read from the caller's organization's implicit collection",
			caller.ID.MSPID, local)
	}
	if slaID == "" {
		return "", fmt.Errorf("slaID: must not be empty")
	}
	if status != "" && !statusFilter.MatchString(status) {
		return "", fmt.Errorf("status: %q is not a ticket status", clip(status))
	}
	if breached != "" && breached != "true" && breached != "false" {
		return "", fmt.Errorf("breached: %q is not true, false or empty", clip(breached))
	}
	size, err := parsePageSize(pageSize)
	if err != nil {
		return "", err
	}
	start := ""
	if bookmark != "" {
		if !idPattern.MatchString(bookmark) {
			return "", fmt.Errorf("bookmark: %q is not a ticket id", clip(bookmark))
		}
		if start, err = ticketKey(ctx, slaID, bookmark); err != nil {
			return "", err
		}
	}
	now, err := c.txTime(ctx)
	if err != nil {
		return "", err
	}
	coll := Collection(local)
	it, err := ctx.GetStub().GetPrivateDataByPartialCompositeKey(coll, keyTicket, []string{slaID})
	if err != nil {
		return "", fmt.Errorf("list tickets of SLA %q: %w", slaID, err)
	}
	defer it.Close()
	page := Page{Records: []TicketView{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("list tickets of SLA %q: %w", slaID, err)
		}
		if kv.Key < start {
			continue
		}
		_, parts, err := ctx.GetStub().SplitCompositeKey(kv.Key)
		if err != nil || len(parts) != 2 {
			return "", fmt.Errorf("list tickets of SLA %q: malformed key %q", slaID, kv.Key)
		}
		if int32(len(page.Records)) == size {
			page.Bookmark = parts[1]
			break
		}
		p, _, err := loadPublic(ctx, slaID, parts[1])
		if err != nil {
			return "", err
		}
		r, err := checkedRecord(p, kv.Value, coll)
		if err != nil {
			return "", err
		}
		v, err := view(p, r, now)
		if err != nil {
			return "", err
		}
		if (status != "" && r.Status != status) || (breached != "" && v.Breached != (breached == "true")) {
			continue
		}
		page.Records = append(page.Records, v)
	}
	return toJSON(page)
}
