'use strict';

// UpdateTicket: VendorOrg's vendor records its progress (reason and its own
// ticket id) on every ticket of the create-ticket round at once, all of the
// one ticket SLA. gen tickets has assigned each ticket to the vendor and
// had it acknowledged, and wrote each ticket's current record
// (tickets.json, see base.js), which goes back in the transient map under
// "ticket" with the input under "input". Each transaction writes only its
// own ticket's key and the three organizations' implicit collections, so
// no two conflict; the customer's, the provider's and the vendor's
// organizations endorse (payloads.json ticket_orgs: the ticket's key-level
// policy and the three collections need all of them).

const { SlasaWorkload } = require('./base');

class UpdateTicketWorkload extends SlasaWorkload {
    async submitTransaction() {
        const i = this.nextSLA();
        const id = this.payloads.tickets[i];
        const record = this.tickets.records[i];
        if (!id || !record) {
            throw new Error(`worker ${this.workerIndex}: no record of ticket ${i} in tickets.json`);
        }
        const input = JSON.stringify({ reason: 'load balancer pool drained, restoring', vendor_ticket_id: `VND-${i}` });
        const orgs = { orgs: this.payloads.ticket_orgs };
        return this.send('ticket', 'UpdateTicket', [this.payloads.ticket_sla.id, id], 'vendor', false, orgs, false, { ticket: record, input });
    }
}

module.exports.createWorkloadModule = () => new UpdateTicketWorkload();
