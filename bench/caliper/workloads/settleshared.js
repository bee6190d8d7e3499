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
        const i = this.nextSLA();
        const v = this.settle.shared_verdicts[i];
        const s = this.payloads.shared[i];
        if (!v || !s) {
            throw new Error(`worker ${this.workerIndex}: no verdict of shared SLA ${i} for transaction ${this.txIndex}`);
        }
        // Endorsed by exactly the SLA's two organizations (base.js).
        return this.send('refund', 'SettleVerdict', [v], 'provider', false, s);
    }
}

module.exports.createWorkloadModule = () => new SettleSharedWorkload();
