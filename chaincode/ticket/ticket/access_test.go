package ticket_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/internal/cctest"
	"github.com/slasa/slasa/internal/fabricfake"
)

// who are the callers of the access tests: the three participants, another
// client of each party's organization, an outsider, and impostors with a
// participant's common name (from the second CA of its MSP, or from the
// same CA with another NodeOU role).
type caller struct {
	name string
	id   *fabricfake.Identity
	// role is the participant the caller is ("" for none).
	role string
}

func callers(n *cctest.Net) []caller {
	return []caller{
		{"customer", n.Client, "customer"},
		{"provider", n.Provider, "provider"},
		{"vendor", n.Vendor, "vendor"},
		{"unassigned vendor", n.Vendor2, ""},
		{"provider's colleague", n.Other, ""},
		{"client's admin", n.ClientAdmin, ""},
		{"outsider", n.Stranger, ""},
		{"provider impostor (CA2)", cctest.SameCN(n.ProviderCA2, n.Provider, "client"), ""},
		{"customer impostor (CA2)", cctest.SameCN(n.ClientCA2, n.Client, "client"), ""},
		{"vendor impostor (admin)", cctest.SameCN(n.VendorCA, n.Vendor, "admin"), ""},
	}
}

// Who may call each transition: the allowed participants succeed (each on
// a ticket of its own), everybody else fails with the exact error and
// changes nothing. A ticket before its vendor's assignment refuses the
// vendor's organization as an outsider.
func TestWhoMayCallWhat(t *testing.T) {
	n, s := setup(t)
	for _, tc := range []struct {
		fn      string
		status  string
		allowed []string
	}{
		{"AssignVendor", "open", []string{"provider"}},
		{"AcknowledgeTicket", "assigned", []string{"vendor"}},
		{"UpdateTicket", "acknowledged", []string{"vendor"}},
		{"ResolveTicket", "in_progress", []string{"vendor"}},
		{"CloseTicket", "resolved", []string{"customer", "provider"}},
		{"ReopenTicket", "resolved", []string{"customer", "provider"}},
		{"PauseTicket", "in_progress", []string{"customer", "provider", "vendor"}},
		{"ResumeTicket", "waiting_on_customer", []string{"customer", "provider", "vendor"}},
		{"ChangeSeverity", "in_progress", []string{"customer", "provider"}},
		// Before the assignment there is no vendor to act.
		{"PauseTicket", "open", []string{"customer", "provider"}},
		{"ChangeSeverity", "open", []string{"customer", "provider"}},
	} {
		roles := map[string]string{"PauseTicket": "customer or provider or vendor", "ResumeTicket": "customer or provider or vendor"}[tc.fn]
		if roles == "" {
			roles = strings.Join(tc.allowed, " or ")
		}
		refused := fmt.Sprintf("w-%s-%s", tc.fn, tc.status)
		reach(t, n, s, refused, tc.status)
		orgs := "ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP"
		if len(path[tc.status]) == 0 {
			orgs = "ClientOrgMSP, ProviderOrgMSP"
		}
		for _, c := range callers(n) {
			call := transition(t, n, s, tc.fn, refused)
			call.ID = c.id
			if slices.Contains(tc.allowed, c.role) {
				id := fmt.Sprintf("ok-%s-%s-%s", tc.fn, tc.status, c.role)
				reach(t, n, s, id, tc.status)
				call := transition(t, n, s, tc.fn, id)
				call.ID = c.id
				n.MustCall(call)
				continue
			}
			var msg string
			if !strings.Contains(orgs, c.id.MSPID) {
				msg = fmt.Sprintf(`%s: ticket %q of SLA "sla-1" belongs to %s; the caller's organization %s has no part in it`, tc.fn, refused, orgs, c.id.MSPID)
			} else {
				msg = fmt.Sprintf(`%s: only the ticket's %s may call it on ticket %q of SLA "sla-1", not %s`, tc.fn, roles, refused, cctest.ID(c.id))
			}
			t.Run(tc.fn+"/"+tc.status+"/"+c.name, func(st *testing.T) {
				n.T = st
				defer func() { n.T = t }()
				n.ExpectCallError(call, msg)
			})
		}
	}
}

// CreateTicket: the SLA's client or provider (full identity); the
// agreement chaincode refuses outsiders of the parties' organizations.
func TestWhoMayCreate(t *testing.T) {
	n, s := setup(t)
	for i, c := range callers(n) {
		id := fmt.Sprintf("c%d", i)
		call := cctest.CreateTicketCall(t, c.id, s, id, "critical", "incident", "down")
		switch c.role {
		case "customer", "provider":
			n.MustCall(call)
			if v := n.GetTicket(n.Provider, "sla-1", id); v.Record.CreatedBy != c.role {
				t.Errorf("created by %s", v.Record.CreatedBy)
			}
			continue
		}
		var msg string
		switch c.id.MSPID {
		case "ProviderOrgMSP", "ClientOrgMSP":
			msg = fmt.Sprintf(`CreateTicket: only the SLA's client (the customer) or provider may open a ticket on SLA "sla-1", not %s`, cctest.ID(c.id))
		default:
			msg = fmt.Sprintf(`SLA "sla-1": agreement GetParties: SLA "sla-1" is readable by ProviderOrgMSP and ClientOrgMSP only, not by %s`, c.id.MSPID)
		}
		n.ExpectCallError(call, msg)
	}
}

// Escalate: any participant; the others are refused.
func TestWhoMayEscalate(t *testing.T) {
	n, s := setup(t)
	for i, c := range callers(n) {
		id := fmt.Sprintf("e%d", i)
		n.At("2026-03-10T13:00:00Z")
		reach(t, n, s, id, "assigned")
		n.At("2026-03-10T13:15:00Z")
		call := n.TicketCall(c.id, "Escalate", "sla-1", id, nil, "1")
		if c.role != "" {
			n.MustCall(call)
			continue
		}
		var msg string
		if c.id.MSPID == "OtherOrgMSP" {
			msg = fmt.Sprintf(`Escalate: ticket %q of SLA "sla-1" belongs to ClientOrgMSP, ProviderOrgMSP, VendorOrgMSP; the caller's organization OtherOrgMSP has no part in it`, id)
		} else {
			msg = fmt.Sprintf(`Escalate: only the ticket's customer or provider or vendor may call it on ticket %q of SLA "sla-1", not %s`, id, cctest.ID(c.id))
		}
		n.ExpectCallError(call, msg)
	}
}
