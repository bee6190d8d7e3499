'use strict';

// Shared base of the slasa workload modules. Every argument of every
// transaction is precomputed by the Go generator (bench/caliper/gen prepare)
// into payloads.json, so canonical encoding and signing stay in one
// implementation; the modules only pick the right precomputed arguments.
//
// Payloads are split between workers by index: worker w owns the SLAs
// w, w + W, w + 2W, ... (W workers), so two workers never touch one SLA.

const fs = require('fs');
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

const cache = new Map();

// Endorsing organizations by proposal: Caliper 0.6.0's Peer Gateway connector
// passes arguments and transient data to fabric-gateway's
// Contract.newProposal, but no endorsing organizations (it refuses
// targetOrganizations). An SLA's transactions need them: ProposeSLA writes
// the transient document to two organizations' implicit collections, which
// the Gateway cannot plan by itself, and no third organization must endorse.
// So send() files the organizations under the arguments array it hands to
// the connector, which the connector passes on unchanged as
// proposalOptions.arguments, and the contracts' newProposal is wrapped to add
// them (see withEndorsingOrganizations). The wrapping is done in send(), just
// before each such request: the connector makes new Gateways and Contracts
// whenever it gets a context again (Caliper releases the context after a
// round's preparation and gets a new one to execute it), so contracts
// wrapped in initializeWorkloadModule are gone by the time the round runs.
const endorsers = new WeakMap();

/**
 * Checks that the connector is Caliper 0.6.0's Peer Gateway connector,
 * whose contracts withEndorsingOrganizations wraps.
 * @param {object} sutAdapter Caliper's Fabric connector
 * @returns {Map} the connector's contracts by identity
 */
function contractsByIdentity(sutAdapter) {
    const byIdentity = sutAdapter.contractInstancesByIdentity;
    if (!(byIdentity instanceof Map)) {
        throw new Error('the Caliper Fabric connector is not the Peer Gateway connector of Caliper 0.6.0: cannot name endorsing organizations');
    }
    return byIdentity;
}

/**
 * Wraps newProposal of every contract of the connector's current Gateways
 * (each contract once) so that a proposal whose arguments array was filed in
 * endorsers names those organizations.
 * @param {object} sutAdapter Caliper's Peer Gateway connector
 */
function withEndorsingOrganizations(sutAdapter) {
    const byIdentity = contractsByIdentity(sutAdapter);
    for (const contracts of byIdentity.values()) {
        for (const contract of contracts.values()) {
            if (contract.slasaWrapped) {
                continue;
            }
            const newProposal = contract.newProposal.bind(contract);
            contract.newProposal = (name, options = {}) => {
                const orgs = options.arguments && endorsers.get(options.arguments);
                return newProposal(name, orgs ? { ...options, endorsingOrganizations: orgs } : options);
            };
            contract.slasaWrapped = true;
        }
    }
}

/**
 * Reads (once per worker process) the payloads file.
 * @param {string} path absolute path of payloads.json
 * @returns {object} the parsed payloads
 */
function loadPayloads(path) {
    if (!cache.has(path)) {
        cache.set(path, JSON.parse(fs.readFileSync(path, 'utf8')));
    }
    return cache.get(path);
}

/**
 * Says that a round waits for payloads a generator running next to Caliper
 * makes (the marker file wantedPath: every earlier round has ended), then
 * waits (polling) until the payloads file exists and reads it; fails with
 * the generator's message when it wrote its error file instead. gen settle
 * writes settle.json once every SLA is accepted and its paid period has
 * ended (anchors and verdicts need both); gen tickets writes tickets.json
 * once every ticket of the create-ticket round is assigned and
 * acknowledged. The rounds that read them wait here, in their preparation,
 * outside the measured round.
 * @param {string} path absolute path of the payloads (settle.json, tickets.json)
 * @param {string} wantedPath absolute path of the marker file (settle.wanted, tickets.wanted)
 * @param {string} errorPath absolute path of the generator's error file
 * @param {number} timeoutMs give up after this long
 * @returns {Promise<object>} the parsed payloads
 */
async function waitForPayloads(path, wantedPath, errorPath, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    if (!fs.existsSync(wantedPath)) {
        fs.writeFileSync(wantedPath, `${new Date().toISOString()}\n`);
    }
    for (;;) {
        if (cache.has(path)) {
            return cache.get(path);
        }
        if (fs.existsSync(path)) {
            return loadPayloads(path);
        }
        if (fs.existsSync(errorPath)) {
            throw new Error(`the generator of ${path} failed: ${fs.readFileSync(errorPath, 'utf8').trim()}`);
        }
        if (Date.now() > deadline) {
            throw new Error(`${path} did not appear within ${timeoutMs / 1000} s (are gen settle and gen tickets running?)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}

/**
 * Base class: loads the payloads, counts this worker's transactions and
 * records the round's wall-clock window (worker 0) for the /proc samples.
 */
class SlasaWorkload extends WorkloadModuleBase {
    constructor() {
        super();
        this.txIndex = 0;
    }

    async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
        await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
        this.payloads = loadPayloads(roundArguments.payloads);
        if (this.payloads.workers !== totalWorkers) {
            throw new Error(`payloads.json was generated for ${this.payloads.workers} workers, the benchmark runs ${totalWorkers}`);
        }
        // The SLA indexes this worker owns.
        this.mine = [];
        for (let i = workerIndex; i < this.payloads.slas.length; i += totalWorkers) {
            this.mine.push(i);
        }
        contractsByIdentity(sutAdapter);
        if (roundArguments.settle) {
            this.settle = await waitForPayloads(roundArguments.settle, roundArguments.settleWanted, roundArguments.settleError, 5 * 60 * 1000);
        }
        if (roundArguments.tickets) {
            this.tickets = await waitForPayloads(roundArguments.tickets, roundArguments.ticketsWanted, roundArguments.ticketsError, 10 * 60 * 1000);
        }
        this.started = Date.now();
    }

    async cleanupWorkloadModule() {
        if (this.workerIndex === 0 && this.roundArguments.windows) {
            const line = JSON.stringify({ round: this.roundIndex, start_ms: this.started, end_ms: Date.now() });
            fs.appendFileSync(this.roundArguments.windows, line + '\n');
        }
    }

    /**
     * The SLA index of this worker's next transaction of a one-transaction-per-SLA round.
     * @returns {number} an SLA index
     */
    nextSLA() {
        const k = this.txIndex++;
        if (k >= this.mine.length) {
            throw new Error(`worker ${this.workerIndex}: transaction ${k} but only ${this.mine.length} SLAs were generated for it`);
        }
        return this.mine[k];
    }

    /**
     * Submits (or evaluates) one transaction.
     * @param {string} contractId chaincode name
     * @param {string} fn function
     * @param {string[]} args arguments
     * @param {string} identity invoker identity (a name in network.yaml)
     * @param {boolean} readOnly evaluate instead of submit
     * @param {object} [sla] the SLA payload of a transaction of an SLA: its organizations endorse it
     *        (or any object whose orgs name the endorsing organizations)
     * @param {boolean} [withDoc] pass the SLA's document as transient data (key "sla")
     * @param {object} [transient] more transient data: key to string (the ticket chaincode's "ticket" and "input")
     * @returns {Promise<object>} Caliper's TxStatus
     */
    send(contractId, fn, args, identity, readOnly = false, sla = undefined, withDoc = false, transient = undefined) {
        const invokerMspId = this.payloads.identities[identity];
        if (!invokerMspId) {
            throw new Error(`identity ${identity} is not in payloads.json`);
        }
        const request = { contractId, contractFunction: fn, contractArguments: [...args], invokerIdentity: identity, invokerMspId, readOnly };
        if (sla) {
            if (!Array.isArray(sla.orgs) || sla.orgs.length === 0) {
                throw new Error(`${fn}: the SLA payload names no endorsing organizations`);
            }
            withEndorsingOrganizations(this.sutAdapter);
            endorsers.set(request.contractArguments, sla.orgs);
            if (withDoc) {
                request.transientMap = { sla: sla.doc };
            }
        }
        if (transient) {
            request.transientMap = { ...(request.transientMap || {}), ...transient };
        }
        return this.sutAdapter.sendRequests(request);
    }
}

module.exports = { SlasaWorkload };
