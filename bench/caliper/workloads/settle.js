'use strict';

// SettleVerdict: the refund chaincode settles each accepted SLA's paid
// period, after its end, with a verdict signed by the test enclave pinned at
// acceptance and naming the period's last anchored batch (credit to the
// client's wallet, the rest to the provider's; settle.json, see base.js).

const { SlasaWorkload } = require('./base');

class SettleWorkload extends SlasaWorkload {
    async submitTransaction() {
        const i = this.nextSLA();
        // Endorsed by exactly the SLA's two organizations (base.js).
        return this.send('refund', 'SettleVerdict', [this.settle.verdicts[i]], 'provider', false, this.payloads.slas[i]);
    }
}

module.exports.createWorkloadModule = () => new SettleWorkload();
