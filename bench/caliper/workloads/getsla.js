'use strict';

// GetSLA: the client reads its agreements (a query, evaluated on the client
// organization's peer), cycling over the worker's SLAs.

const { SlasaWorkload } = require('./base');

class GetSLAWorkload extends SlasaWorkload {
    async submitTransaction() {
        const k = this.txIndex++;
        const s = this.payloads.slas[this.mine[k % this.mine.length]];
        // On a peer of the client's organization: GetSLA answers there only,
        // with that organization's copy of the document.
        return this.send('agreement', 'GetSLA', [s.id], 'client', true, { orgs: [this.payloads.identities.client] });
    }
}

module.exports.createWorkloadModule = () => new GetSLAWorkload();
