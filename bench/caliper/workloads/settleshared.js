'use strict';

// SettleVerdict on the shared SLAs: every SLA of one provider and one client
// wallet (gen prepare accepted them, gen settle anchored their batches), all
// settled concurrently. Each settlement credits both wallets with new credit
// keys and reads neither wallet's base, so no two of them conflict: the
// round shows the throughput of a provider with many SLAs settling at once
// (settle.json, see base.js).

const { SlasaWorkload } = require('./base');

class SettleSharedWorkload extends SlasaWorkload {
    async submitTransaction() {
        const v = this.settle.shared_verdicts[this.nextSLA()];
        if (!v) {
            throw new Error(`worker ${this.workerIndex}: no verdict of a shared SLA for transaction ${this.txIndex}`);
        }
        return this.send('refund', 'SettleVerdict', [v], 'provider');
    }
}

module.exports.createWorkloadModule = () => new SettleSharedWorkload();
