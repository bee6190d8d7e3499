package cli

// The console's live updates: each chaincode event of the event stream
// carries, besides its line, the SLA and ticket it names, the period, the
// wallets whose balance it changed (when its payload names them) and, for
// an event that changes what an SLA's page shows, a notice in words. The
// SLA page and the wallet page (console.js) then fetch themselves again and
// replace their changed sections, without a navigation, and show the
// notice; the ticket pages show theirs.

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-gateway/pkg/client"
)

// consoleEvent is one chaincode event sent to the browser.
type consoleEvent struct {
	Chaincode string `json:"chaincode"`
	Event     string `json:"event"`
	Block     uint64 `json:"block"`
	TxID      string `json:"tx_id"`
	Line      string `json:"line"`
	SLAID     string `json:"sla_id,omitempty"`
	TicketID  string `json:"ticket_id,omitempty"`
	Period    string `json:"period,omitempty"`
	// Notice says in words what changed on the SLA's page; "" for an
	// event that changes nothing it shows (a log batch anchored, a
	// ticket event).
	Notice string `json:"notice,omitempty"`
	// Wallets are the wallets the event's payload names as the parties'
	// (a settlement, an expired escrow, a released collateral hold),
	// sorted; none when it names none.
	Wallets []string `json:"wallets,omitempty"`
}

// liveParty is the part of a party in an event's payload that names a
// wallet (the refund chaincode's sla.Party; the agreement chaincode's
// PartyRef has none).
type liveParty struct {
	Wallet     string `json:"wallet"`
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
}

// livePayload is what the console reads of the payloads of the agreement
// chaincode's SLA events (SLAEvent, HandoverEvent) and the refund
// chaincode's events (Settlement, Expiry, Hold).
type livePayload struct {
	SLAID    string `json:"sla_id"`
	TicketID string `json:"ticket_id"`
	Period   string `json:"period"`
	Currency string `json:"currency"`
	// A settlement.
	Violated    bool  `json:"violated"`
	CreditBPS   int64 `json:"credit_bps"`
	Credit      int64 `json:"credit"`
	Released    int64 `json:"released"`
	PenaltyPaid int64 `json:"penalty_paid"`
	Refund      int64 `json:"refund"`
	// An expired escrow.
	Outcome    string `json:"outcome"`
	ToClient   int64  `json:"to_client"`
	ToProvider int64  `json:"to_provider"`
	// A collateral hold (Released above is what it released).
	Wallet string `json:"wallet"`
	// The parties; By and Reason of a termination; Enclave of a handover.
	Provider liveParty  `json:"provider"`
	Client   liveParty  `json:"client"`
	By       *liveParty `json:"by"`
	Reason   string     `json:"reason"`
	Enclave  *struct {
		EnclaveID string `json:"enclave_id"`
	} `json:"enclave"`
}

// consoleEventOf describes ev for the browser.
func (s *consoleServer) consoleEventOf(ev *client.ChaincodeEvent) consoleEvent {
	e := consoleEvent{Chaincode: ev.ChaincodeName, Event: ev.EventName, Block: ev.BlockNumber, TxID: ev.TransactionID, Line: eventLine(ev)}
	var p ticketEvent
	if json.Unmarshal(ev.Payload, &p) == nil {
		e.SLAID, e.TicketID = p.SLAID, p.TicketID
	}
	var lp livePayload
	if json.Unmarshal(ev.Payload, &lp) != nil || lp.SLAID == "" {
		return e
	}
	e.Period = lp.Period
	switch ev.ChaincodeName {
	case s.agreementCC:
		e.Notice = agreementNotice(ev.EventName, &lp)
	case s.refundCC:
		e.Notice = refundNotice(ev.EventName, &lp)
		for _, w := range []string{lp.Provider.Wallet, lp.Client.Wallet, lp.Wallet} {
			if w != "" && !slices.Contains(e.Wallets, w) {
				e.Wallets = append(e.Wallets, w)
			}
		}
		slices.Sort(e.Wallets)
	}
	return e
}

// agreementNotice is the notice of an agreement chaincode event that
// changes an SLA's page; "" for the others.
func agreementNotice(name string, p *livePayload) string {
	switch name {
	case "SLASigned":
		return fmt.Sprintf("SLA %s signed by the client: period %s paid into escrow.", p.SLAID, p.Period)
	case "SLARenewed":
		return fmt.Sprintf("SLA %s renewed: period %s paid into escrow.", p.SLAID, p.Period)
	case "SLATerminated":
		by := "a party"
		if p.By != nil {
			by = p.By.MSPID + "/" + p.By.CommonName
		}
		return fmt.Sprintf("SLA %s terminated by %s: %s", p.SLAID, by, p.Reason)
	case "EnclaveHandover":
		id := "-"
		if p.Enclave != nil {
			id = short(p.Enclave.EnclaveID)
		}
		return fmt.Sprintf("SLA %s: both parties approved the enclave handover; enclave %s now signs its verdicts.", p.SLAID, id)
	}
	return ""
}

// refundNotice is the notice of a refund chaincode event; "" for the
// others.
func refundNotice(name string, p *livePayload) string {
	m := func(v int64) string { return money(v, p.Currency) }
	switch name {
	case "PeriodSettled", "RefundIssued":
		if !p.Violated {
			return fmt.Sprintf("Period %s settled: met, no credit; %s released to the provider.", p.Period, m(p.Released))
		}
		penalty := ""
		if p.PenaltyPaid > 0 {
			penalty = " and penalty " + m(p.PenaltyPaid)
		}
		return fmt.Sprintf("Period %s settled: violated, credit %s = %s%s, refund %s to the client; %s released to the provider.",
			p.Period, bps(p.CreditBPS), m(p.Credit), penalty, m(p.Refund), m(p.Released))
	case "EscrowExpired":
		return fmt.Sprintf("Period %s: no verdict before the deadline, its escrow expired (%s): %s to the client, %s to the provider.",
			p.Period, p.Outcome, m(p.ToClient), m(p.ToProvider))
	case "CollateralReleased":
		return fmt.Sprintf("SLA %s: collateral released, %s back to the provider's wallet %s.", p.SLAID, m(p.Released), p.Wallet)
	}
	return ""
}
