'use strict';

// CreateTicket: the SLA's client (the customer) opens one ticket per
// transaction, all on the one ticket SLA (payloads.json ticket_sla, accepted
// by gen prepare) at once. Each ticket has a key of its own
// (ticket~<slaID>~<ticketID>, ids from payloads.json tickets, split between
// the workers like the SLAs), and the transaction only reads the SLA's
// public record (agreement GetParties, chaincode-to-chaincode), which no
// round writes meanwhile: many tickets of one SLA never conflict. The SLA
// document and the input (severity, type, description) travel in the
// transient map; the customer's and the provider's organizations endorse
// (the record goes to both implicit collections).

const { SlasaWorkload } = require('./base');

class CreateTicketWorkload extends SlasaWorkload {
    async submitTransaction() {
        const i = this.nextSLA();
        const id = this.payloads.tickets[i];
        const s = this.payloads.ticket_sla;
        if (!id || !s) {
            throw new Error(`worker ${this.workerIndex}: no ticket ${i} in payloads.json`);
        }
        const input = JSON.stringify({
            severity: 'critical',
            type: 'outage',
            description: `benchmark ticket ${id}: the service answers 502 to every request`,
        });
        return this.send('ticket', 'CreateTicket', [s.id, id], 'client', false, s, true, { input });
    }
}

module.exports.createWorkloadModule = () => new CreateTicketWorkload();
