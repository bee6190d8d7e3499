package ticket_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/sla"
)

// marker is planted in every private text of a ticket and in the SLA's
// severity and pause status names.
const marker = "q7zmarker"

// markedSLA is SupportSLA with the marker in the critical severity's id
// and the pause statuses.
func markedSLA(t *testing.T, id string) *sla.SLA {
	s := cctest.SupportSLA(t, id)
	sev := "sev_" + marker
	s.Support.Severities[0].ID = sev
	for i := range s.Support.Penalties {
		if s.Support.Penalties[i].Severity == "critical" {
			s.Support.Penalties[i].Severity = sev
		}
	}
	s.Support.PauseStatuses = []string{"hold_" + marker}
	if err := sla.Validate(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutsiderLearnsNothingPrivate runs a marked ticket's whole life and
// searches what every channel member reads (each block's arguments,
// responses, events and public writes, the world state) for the marker
// and for the private record's fields.
func TestOutsiderLearnsNothingPrivate(t *testing.T) {
	n := cctest.NewTickets(t)
	s := markedSLA(t, "sla-1")
	doc, _ := cctest.Doc(t, s)
	n.At("2026-03-10T12:00:00Z")
	n.Activate(s, 1_000_000)
	blocks := len(n.World.Blocks)
	n.At("2026-03-10T13:00:00Z")
	n.MustCall(cctest.CreateTicketCall(t, n.Client, s, "t1", "sev_"+marker, "type_"+marker, "description "+marker))
	n.MustCall(cctest.CreateTicketCall(t, n.Provider, s, "t2", "medium", "type_"+marker, "description "+marker))
	steps := []struct {
		who   *fabricfake.Identity
		fn    string
		input any
		args  []string
	}{
		{n.Provider, "AssignVendor", map[string]any{"vendor": cctest.ID(n.Vendor), "note": "note " + marker}, nil},
		{n.Provider, "Escalate", nil, []string{"1"}},
		{n.Vendor, "AcknowledgeTicket", map[string]string{"note": "ack " + marker}, nil},
		{n.Vendor, "UpdateTicket", map[string]string{"reason": "reason " + marker, "vendor_ticket_id": "VT" + marker}, nil},
		{n.Vendor, "PauseTicket", map[string]string{"status": "hold_" + marker, "reason": "pause " + marker}, nil},
		{n.Client, "ResumeTicket", map[string]string{"note": "resume " + marker}, nil},
		{n.Client, "ChangeSeverity", map[string]string{"severity": "medium", "reason": "severity " + marker}, nil},
		{n.Vendor, "ResolveTicket", map[string]string{"note": "resolved " + marker}, nil},
		{n.Client, "ReopenTicket", map[string]string{"reason": "reopen " + marker}, nil},
		{n.Vendor, "ResolveTicket", nil, nil},
		{n.Provider, "CloseTicket", map[string]string{"note": "closed " + marker}, nil},
	}
	for i, st := range steps {
		n.At(fmt.Sprintf("2026-03-10T13:%02d:00Z", 15+i))
		c := n.TicketCall(st.who, st.fn, "sla-1", "t1", st.input, st.args...)
		if st.fn == "ChangeSeverity" {
			c.Transient[ticket.TransientSLA] = []byte(doc)
		}
		n.MustCall(c)
	}
	// The parties hold the marked record.
	for _, msp := range []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"} {
		rec := n.TicketRecord(msp, "sla-1", "t1")
		for _, want := range []string{"description " + marker, "VT" + marker, "reopen " + marker, "hold_" + marker, "sev_" + marker} {
			if !bytes.Contains(rec, []byte(want)) {
				t.Fatalf("%s's record lacks %q", msp, want)
			}
		}
	}
	// What the blocks of the ticket transactions show.
	private := []string{marker, `"description"`, `"severity"`, `"status"`, `"type"`, `"timeline"`, `"vendor"`, `"customer"`, `"nonce"`}
	find := func(where string, data []byte) {
		t.Helper()
		for _, p := range private {
			if strings.Contains(strings.ToLower(string(data)), strings.ToLower(p)) {
				t.Errorf("%s holds %s: %s", where, p, data)
			}
		}
	}
	txs := 0
	for _, b := range n.World.Blocks[blocks:] {
		txs++
		if b.Chaincode != cctest.Ticket {
			t.Fatalf("block of %s", b.Chaincode)
		}
		if len(b.Args) < 3 || len(b.Args) > 4 || b.Args[1] != "sla-1" || (b.Args[2] != "t1" && b.Args[2] != "t2") {
			t.Errorf("tx %s arguments %q", b.TxID, b.Args)
		}
		for i, a := range b.Args {
			find(fmt.Sprintf("tx %s argument %d", b.TxID, i), []byte(a))
		}
		find("tx "+b.TxID+" response", b.Response)
		if b.Event == nil {
			t.Errorf("tx %s has no event", b.TxID)
		} else {
			find("tx "+b.TxID+" event "+b.Event.Name, b.Event.Payload)
		}
		for _, w := range b.Writes {
			find(fmt.Sprintf("tx %s write %s %q", b.TxID, w.Namespace, w.Key), append([]byte(w.Key), w.Value...))
			if w.Namespace == cctest.Ticket {
				var m map[string]any
				if err := json.Unmarshal(w.Value, &m); err != nil {
					t.Fatal(err)
				}
				var keys []string
				for k := range m {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if strings.Join(keys, ",") != "hash,id,orgs,seq,sla_id" {
					t.Errorf("tx %s: the public record has fields %v", b.TxID, keys)
				}
			}
		}
		// Each private write is the hash of the record the public record
		// commits to.
		for _, pw := range b.PrivateWrites {
			var pub ticket.TicketPublic
			key := cctest.TicketKey("sla-1", b.Args[2])
			if err := json.Unmarshal(n.World.State(cctest.Ticket, key), &pub); err != nil {
				t.Fatal(err)
			}
			kh := sha256.Sum256([]byte(key))
			if !bytes.Equal(pw.KeyHash, kh[:]) || !strings.HasPrefix(pw.Collection, "_implicit_org_") {
				t.Errorf("tx %s private write %+v", b.TxID, pw)
			}
		}
	}
	if txs != 2+len(steps) {
		t.Fatalf("%d ticket transactions", txs)
	}
	for _, ev := range n.World.Events {
		if ev.Chaincode == cctest.Ticket {
			find("event "+ev.Name, ev.Payload)
		} else if bytes.Contains(ev.Payload, []byte(marker)) {
			t.Errorf("event %s holds the marker", ev.Name)
		}
	}
	for k, v := range n.World.Snapshot()[cctest.Ticket] {
		find(fmt.Sprintf("state %q", k), []byte(k+v))
	}
	// The public hash is the SHA-256 of every holder's copy.
	var pub ticket.TicketPublic
	if err := json.Unmarshal(n.World.State(cctest.Ticket, cctest.TicketKey("sla-1", "t1")), &pub); err != nil {
		t.Fatal(err)
	}
	for _, msp := range pub.Orgs {
		sum := sha256.Sum256(n.TicketRecord(msp, "sla-1", "t1"))
		if hex.EncodeToString(sum[:]) != pub.Hash {
			t.Errorf("%s's copy is not the committed record", msp)
		}
	}
	// The vendor's organization holds only the ticket assigned to it; the
	// record's nonce is the ticket's own.
	if n.TicketRecord("VendorOrgMSP", "sla-1", "t2") != nil || n.TicketRecord("OtherOrgMSP", "sla-1", "t1") != nil {
		t.Error("a ticket went to an organization that has no part in it")
	}
	r1, r2 := n.GetTicket(n.Provider, "sla-1", "t1").Record, n.GetTicket(n.Provider, "sla-1", "t2").Record
	if len(r1.Nonce) != 64 || r1.Nonce == r2.Nonce || strings.Contains(r1.Nonce, s.Nonce) {
		t.Errorf("nonces %q %q", r1.Nonce, r2.Nonce)
	}
}

// The queries: an outsider reads nothing, on any peer, and no private data
// is read for it; a participant's organization reads its own copy on its
// own peer only.
func TestReadsOfTheRecord(t *testing.T) {
	n, s := setup(t)
	create(t, n, s, "t1", "critical", "2026-03-10T13:00:00Z")
	create(t, n, s, "t2", "critical", "2026-03-10T13:01:00Z")
	step(t, n, n.Provider, "AssignVendor", "t1", "2026-03-10T13:05:00Z", vendorInput(n.Vendor))
	eval := func(id *fabricfake.Identity, peer, fn string, args ...string) fabricfake.Result {
		return n.World.EvaluateCall(fabricfake.Call{ID: id, Chaincode: cctest.Ticket, Fn: fn, Args: args, Peer: peer})
	}
	reads := len(n.World.PrivateReads)
	for _, peer := range []string{"ProviderOrgMSP", "ClientOrgMSP", "VendorOrgMSP", "OtherOrgMSP"} {
		for _, fn := range []string{"GetTicket", "GetTicketHistory"} {
			for _, tc := range []struct {
				who    *fabricfake.Identity
				ticket string
				orgs   string
			}{{n.Stranger, "t1", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"}, {n.OtherAdmin, "t1", "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"}, {n.Vendor, "t2", "ClientOrgMSP, ProviderOrgMSP"}, {n.Vendor2, "t2", "ClientOrgMSP, ProviderOrgMSP"}} {
				r := eval(tc.who, peer, fn, "sla-1", tc.ticket)
				want := fmt.Sprintf(`ticket %q of SLA "sla-1" is readable by %s only, not by %s`, tc.ticket, tc.orgs, tc.who.MSPID)
				if r.OK() || r.Message != want || len(r.Payload) != 0 {
					t.Errorf("%s by %s on %s: %q", fn, tc.who.MSPID, peer, r.Message)
				}
			}
		}
	}
	// ListTickets on its own peer: the outsider's organization holds none.
	if r := eval(n.Stranger, "", "ListTickets", "sla-1", "", "", "10", ""); !r.OK() || string(r.Payload) != `{"records":[],"bookmark":""}` {
		t.Errorf("ListTickets by the outsider: %q %q", r.Payload, r.Message)
	}
	// Only that range query ran, on the outsider's own peer, with nothing
	// in it.
	if got := n.World.PrivateReads[reads:]; len(got) != 1 || got[0].Peer != "OtherOrgMSP" || got[0].Collection != "_implicit_org_OtherOrgMSP" {
		t.Fatalf("private reads for an outsider: %+v", got)
	}
	r := eval(n.Stranger, "ProviderOrgMSP", "ListTickets", "sla-1", "", "", "10", "")
	if r.Message != "evaluate ListTickets on a peer of your organization OtherOrgMSP: this peer belongs to ProviderOrgMSP, and the tickets are read from the caller's organization's implicit collection" {
		t.Errorf("ListTickets on another peer: %q", r.Message)
	}
	// A participant on another organization's peer.
	for _, tc := range []struct {
		who  *fabricfake.Identity
		peer string
	}{{n.Provider, "ClientOrgMSP"}, {n.Client, "VendorOrgMSP"}, {n.Vendor, "ProviderOrgMSP"}} {
		r := eval(tc.who, tc.peer, "GetTicket", "sla-1", "t1")
		want := fmt.Sprintf(`ticket "t1" of SLA "sla-1": evaluate GetTicket on a peer of your organization %s: this peer belongs to %s, and the record is read from the caller's organization's implicit collection`, tc.who.MSPID, tc.peer)
		if r.Message != want {
			t.Errorf("%s on %s: %q", tc.who.MSPID, tc.peer, r.Message)
		}
	}
	if len(n.World.PrivateReads) != reads+1 {
		t.Fatalf("private data read for a refused caller: %+v", n.World.PrivateReads[reads+1:])
	}
	// Every member of a participant's organization reads its copy on its
	// own peer (the organization holds it).
	for _, who := range []*fabricfake.Identity{n.Client, n.ClientAdmin, n.Provider, n.Other, n.Vendor, n.Vendor2} {
		v := n.GetTicket(who, "sla-1", "t1")
		last := n.World.PrivateReads[len(n.World.PrivateReads)-1]
		if v.Record.ID != "t1" || last.Peer != who.MSPID || last.Collection != ticket.Collection(who.MSPID) {
			t.Errorf("%s read %+v", who.MSPID, last)
		}
	}
}
