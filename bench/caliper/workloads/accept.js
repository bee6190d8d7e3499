'use strict';

// AcceptSLA: the client signs each SLA proposed in the previous round, pins
// the registered enclave (a chaincode-to-chaincode QueryEnclave call to ercc)
// and pays the first period that has not started into escrow (a
// chaincode-to-chaincode DepositEscrow call to the refund chaincode, from a
// wallet of its own per SLA).

const { SlasaWorkload } = require('./base');

class AcceptWorkload extends SlasaWorkload {
    async submitTransaction() {
        const s = this.payloads.slas[this.nextSLA()];
        return this.send('agreement', 'AcceptSLA', [s.id, s.digest, s.client_signature], 'client', false, s, true);
    }
}

module.exports.createWorkloadModule = () => new AcceptWorkload();
