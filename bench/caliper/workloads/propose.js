'use strict';

// ProposeSLA: the provider proposes one new, distinct SLA per transaction
// (schema and semantic validation, provider signature check, the document
// as transient data written to both parties' private collections, endorsed
// by exactly the provider's and the client's organizations).

const { SlasaWorkload } = require('./base');

class ProposeWorkload extends SlasaWorkload {
    async submitTransaction() {
        const s = this.payloads.slas[this.nextSLA()];
        return this.send('agreement', 'ProposeSLA', [s.provider_signature], 'provider', false, s, true);
    }
}

module.exports.createWorkloadModule = () => new ProposeWorkload();
