package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
)

// Transient keys of the ticket chaincode (ticket.TransientTicket,
// ticket.TransientInput).
const (
	transientTicket = "ticket"
	transientInput  = "input"
)

// runTickets is gen tickets: it runs next to Caliper and writes
// tickets.json, the current records of the update-ticket round, which can
// only be read once the create-ticket round has opened the tickets and
// each has been assigned and acknowledged:
//
//  1. wait until the update-ticket round waits for it (the marker
//     tickets.wanted, written by that round's preparation, after the
//     create-ticket round has ended);
//  2. per ticket (many tickets at once, each ticket's steps in order):
//     the provider assigns VendorOrg's vendor (AssignVendor) and the vendor
//     acknowledges (AcknowledgeTicket), each with the current record read
//     with GetTicket on the submitter's own peer and endorsed by the
//     ticket's organizations (payloads.json ticket_orgs);
//  3. read each record back as the vendor (GetTicket on VendorOrg's peer)
//     into tickets.json.
//
// The update-ticket round's workload waits for tickets.json (or
// tickets.error, which this writes when it fails), outside every measured
// round.
func runTickets(args []string) (err error) {
	fs := flag.NewFlagSet("tickets", flag.ContinueOnError)
	runDir := fs.String("run-dir", "", "run folder of the running network (holds network.json)")
	out := fs.String("out", "", "the folder of gen prepare (payloads.json); tickets.json is written there")
	timeout := fs.Duration("timeout", 20*time.Minute, "give up after this long")
	concurrency := fs.Int("concurrency", 32, "tickets prepared at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runDir == "" || *out == "" {
		return errors.New("-run-dir and -out: required")
	}
	if *concurrency < 1 {
		return errors.New("-concurrency: must be positive")
	}
	defer func() {
		if err != nil {
			_ = os.WriteFile(filepath.Join(*out, ticketsErrorFile), []byte(err.Error()+"\n"), 0o644)
		}
	}()
	deadline := time.Now().Add(*timeout)
	info, err := fabnet.Load(*runDir)
	if err != nil {
		return err
	}
	var pl Payloads
	if err := readJSONFile(filepath.Join(*out, payloadsFile), &pl); err != nil {
		return err
	}
	if len(pl.Tickets) == 0 || len(pl.TicketOrgs) == 0 {
		return fmt.Errorf("%s: no tickets or no ticket organizations", payloadsFile)
	}

	// 1. The create-ticket round has ended.
	for {
		if _, err := os.Stat(filepath.Join(*out, ticketsWantedFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no round asked for %s within %s", ticketsFile, *timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
	started := time.Now()
	p := &preparer{info: info, conns: map[string]*fabnet.Connection{}}
	defer p.close()
	vendor, err := p.party("vendor", "")
	if err != nil {
		return err
	}
	assign, err := json.Marshal(map[string]any{"vendor": map[string]string{"msp_id": vendor.MSPID, "subject": vendor.Subject, "issuer": vendor.Issuer}})
	if err != nil {
		return err
	}

	// 2. and 3., many tickets at once.
	records := make([]string, len(pl.Tickets))
	sem := make(chan struct{}, *concurrency)
	errs := make(chan error, len(pl.Tickets))
	var wg sync.WaitGroup
	for i, id := range pl.Tickets {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, id string) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, step := range []struct {
				who, fn string
				input   []byte
			}{{"provider", "AssignVendor", assign}, {"vendor", "AcknowledgeTicket", nil}} {
				if err := p.ticketTransition(step.who, step.fn, pl.TicketSLA.ID, id, step.input, pl.TicketOrgs); err != nil {
					errs <- err
					return
				}
			}
			rec, err := p.ticketRecord("vendor", pl.TicketSLA.ID, id)
			if err != nil {
				errs <- err
				return
			}
			records[i] = string(rec)
		}(i, id)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(*out, ticketsFile), TicketsPayloads{Records: records}); err != nil {
		return err
	}
	logf("assigned and acknowledged %d tickets of SLA %s in %s", len(records), pl.TicketSLA.ID, time.Since(started).Round(time.Millisecond))
	return nil
}

// ticketRecord returns the current record of a ticket as GetTicket returns
// it to who, on a peer of who's organization.
func (p *preparer) ticketRecord(who, slaID, id string) (json.RawMessage, error) {
	c, err := p.conn(who)
	if err != nil {
		return nil, err
	}
	out, err := c.Network.GetContract(ccTicket).Evaluate("GetTicket", client.WithArguments(slaID, id))
	if err != nil {
		return nil, fmt.Errorf("%s %s.GetTicket(%s): %s", who, ccTicket, id, gatewayError(err))
	}
	var v struct {
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("GetTicket(%s): %w", id, err)
	}
	if len(v.Record) == 0 {
		return nil, fmt.Errorf("GetTicket(%s): no record", id)
	}
	return v.Record, nil
}

// ticketTransition submits fn of ticket id as who: the current record
// (read again before each try, so a peer that lagged behind the last
// transition is only waited for) and input (nil: none) in the transient
// map, endorsed by orgs.
func (p *preparer) ticketTransition(who, fn, slaID, id string, input []byte, orgs []string) error {
	c, err := p.conn(who)
	if err != nil {
		return err
	}
	var last error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 500 * time.Millisecond)
		}
		rec, err := p.ticketRecord(who, slaID, id)
		if err != nil {
			last = err
			continue
		}
		tm := map[string][]byte{transientTicket: rec}
		if input != nil {
			tm[transientInput] = input
		}
		_, err = c.Network.GetContract(ccTicket).Submit(fn, client.WithArguments(slaID, id), client.WithTransient(tm), client.WithEndorsingOrganizations(orgs...))
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%s %s.%s(%s): %s", who, ccTicket, fn, id, gatewayError(err))
	}
	return last
}
