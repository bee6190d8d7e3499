'use strict';

// The baseline chaincode (bench/chaincode/baseline): Put writes one distinct
// key per transaction, Get reads back a key the same worker wrote in the Put
// round, Noop does nothing (warm-up). Invoked as the provider, through the
// provider organization's peer, like ProposeSLA and AnchorLogBatch.

const { SlasaWorkload } = require('./base');

const VALUE = 'x'.repeat(100);

class BaselineWorkload extends SlasaWorkload {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.fn = roundArguments.function;
        if (!['Put', 'Get', 'Noop'].includes(this.fn)) {
            throw new Error(`baseline workload: function ${this.fn} is not Put, Get or Noop`);
        }
        this.keys = Math.floor(this.payloads.slas.length * this.payloads.batches / totalWorkers);
    }

    key(k) {
        return `${this.payloads.run_tag}-put-${this.workerIndex}-${k}`;
    }

    async submitTransaction() {
        const k = this.txIndex++;
        switch (this.fn) {
        case 'Put':
            return this.send('baseline', 'Put', [this.key(k), VALUE], 'provider');
        case 'Get':
            return this.send('baseline', 'Get', [this.key(k % this.keys)], 'provider', true);
        default:
            return this.send('baseline', 'Noop', [], 'provider');
        }
    }
}

function createWorkloadModule() {
    return new BaselineWorkload();
}

module.exports.createWorkloadModule = createWorkloadModule;
