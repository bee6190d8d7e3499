'use strict';

// SettleVerdict: the refund chaincode settles each accepted SLA's first
// period with a verdict signed by the test enclave registered in ercc
// (credit to the client's wallet, the rest to the provider's).

const { SlasaWorkload } = require('./base');

class SettleWorkload extends SlasaWorkload {
    async submitTransaction() {
        const v = this.payloads.verdicts[this.nextSLA()];
        return this.send('refund', 'SettleVerdict', [v], 'provider');
    }
}

module.exports.createWorkloadModule = () => new SettleWorkload();
