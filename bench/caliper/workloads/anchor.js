'use strict';

// AnchorLogBatch: the logger anchors consecutive log batches of many SLAs in
// parallel; the batches' windows cut each SLA's paid period, which has ended
// (settle.json, see base.js). Transaction k of a worker anchors batch
// floor(k / M) + 1 of the worker's SLA number k mod M (M SLAs per worker):
// round-robin over the SLAs, so consecutive batches of one SLA are M
// transactions apart; a batch is only sent once the previous batch of the
// same SLA has committed (batches are accepted in sequence only).

const { SlasaWorkload } = require('./base');

class AnchorWorkload extends SlasaWorkload {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.pending = new Map();
    }

    async submitTransaction() {
        const k = this.txIndex++;
        const m = this.mine.length;
        const i = this.mine[k % m];
        const seq = Math.floor(k / m);
        const batches = this.settle.anchors[i];
        if (seq >= batches.length) {
            throw new Error(`worker ${this.workerIndex}: transaction ${k} asks for batch ${seq + 1} of SLA ${i}, only ${batches.length} were generated`);
        }
        const previous = this.pending.get(i);
        const p = (async () => {
            if (previous) {
                await previous;
            }
            return this.send('agreement', 'AnchorLogBatch', batches[seq], 'logger', false, this.payloads.slas[i]);
        })();
        this.pending.set(i, p);
        return p;
    }
}

module.exports.createWorkloadModule = () => new AnchorWorkload();
