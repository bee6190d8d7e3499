'use strict';

// ClaimExpiredEscrow: the client claims the escrow of a paid period whose
// verdict never came, after its verdict deadline (the period's end plus the
// SLA's escrow_expiry.verdict_within_seconds, 60 s, fixed at the deposit). The
// SLAs are payloads.json expiring (outcome split: half of the fee to each
// party), proposed and accepted by gen prepare before the shared SLAs and
// every round, and never settled; expiring_periods names each one's paid
// period (read back from the ledger) and expiring_deadline the latest verdict
// deadline. Each SLA has a client and a provider wallet of its own and its
// escrow and reputation keys are its own, and the credits are new keys: many
// claims in one block never conflict. Endorsed by exactly the SLA's two
// organizations (the escrow's key-level policy; base.js).

const { SlasaWorkload } = require('./base');

// The claim's transaction time is this machine's clock, as the peers' is:
// wait this long past the deadline so a claim is never early.
const marginMs = 2000;
// A deadline further away than this means gen prepare went wrong.
const maxWaitMs = 10 * 60 * 1000;

/**
 * Checks the claim-expired payloads and returns how long to wait until
 * every escrow of the round may be claimed.
 * @param {object} payloads payloads.json
 * @param {number} nowMs the current time (ms since the epoch)
 * @returns {number} milliseconds to wait (0: the deadlines have passed)
 */
function claimWait(payloads, nowMs) {
    const { expiring, expiring_periods: periods, expiring_deadline: deadline } = payloads;
    if (!Array.isArray(expiring) || !Array.isArray(periods) || expiring.length !== payloads.slas.length || periods.length !== expiring.length) {
        throw new Error(`payloads.json: expiring (${expiring && expiring.length}) and expiring_periods (${periods && periods.length}) must list one SLA and period per SLA (${payloads.slas.length})`);
    }
    const at = Date.parse(deadline);
    if (Number.isNaN(at)) {
        throw new Error(`payloads.json: expiring_deadline ${JSON.stringify(deadline)} is not a timestamp`);
    }
    const wait = Math.max(0, at + marginMs - nowMs);
    if (wait > maxWaitMs) {
        throw new Error(`payloads.json: expiring_deadline ${deadline} is more than ${maxWaitMs / 60000} minutes away`);
    }
    return wait;
}

class ClaimExpiredWorkload extends SlasaWorkload {
    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        // In the round's preparation, outside the measured round.
        const wait = claimWait(this.payloads, Date.now());
        if (wait > 0) {
            await new Promise((resolve) => setTimeout(resolve, wait));
        }
        this.started = Date.now();
    }

    async submitTransaction() {
        const i = this.nextSLA();
        const s = this.payloads.expiring[i];
        return this.send('refund', 'ClaimExpiredEscrow', [s.id, this.payloads.expiring_periods[i]], 'client', false, s);
    }
}

module.exports.createWorkloadModule = () => new ClaimExpiredWorkload();
module.exports.claimWait = claimWait;
