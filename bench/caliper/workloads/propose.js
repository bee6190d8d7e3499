'use strict';

// ProposeSLA: the provider proposes one new, distinct SLA per transaction
// (schema and semantic validation, provider signature check).

const { SlasaWorkload } = require('./base');

class ProposeWorkload extends SlasaWorkload {
    async submitTransaction() {
        const s = this.payloads.slas[this.nextSLA()];
        return this.send('agreement', 'ProposeSLA', [s.doc, s.provider_signature], 'provider');
    }
}

module.exports.createWorkloadModule = () => new ProposeWorkload();
