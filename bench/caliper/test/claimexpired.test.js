'use strict';

// The claim-expired workload against a fake of Caliper 0.6.0's Peer Gateway
// connector (node --test; run.sh runs it before it starts a network). The
// fake does what the connector's _submitOrEvaluateTransaction does up to
// fabric-gateway: it finds the contract of the invoker identity and calls
// newProposal(function, { arguments, transientData }). The test checks what
// reaches newProposal: function, arguments, the endorsing organizations
// that base.js adds, and the wait for the verdict deadline.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const workloads = path.join(__dirname, '..', 'workloads');
const { createWorkloadModule, claimWait } = require(path.join(workloads, 'claimexpired.js'));

const channel = 'slasa';
const tmpDirs = [];
test.after(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fake Peer Gateway connector recording each proposal. */
class FakeConnector {
    constructor(identities, contracts) {
        this.proposals = [];
        this.contractInstancesByIdentity = new Map();
        for (const id of identities) {
            const byId = new Map();
            for (const cc of contracts) {
                const proposals = this.proposals;
                byId.set(`${channel}_${cc}`, {
                    newProposal(fn, options) {
                        proposals.push({ identity: id, contract: cc, fn, options });
                        return { getTransactionId: () => `tx${proposals.length}` };
                    },
                });
            }
            this.contractInstancesByIdentity.set(id, byId);
        }
    }

    async sendRequests(request) {
        const contract = this.contractInstancesByIdentity.get(request.invokerIdentity).get(`${channel}_${request.contractId}`);
        const options = { arguments: request.contractArguments };
        if (request.transientMap) {
            options.transientData = Object.fromEntries(Object.entries(request.transientMap).map(([k, v]) => [k, Buffer.from(v)]));
        }
        contract.newProposal(request.contractFunction, options);
        return { request };
    }
}

/**
 * Writes a payloads.json of n SLAs for 2 workers whose claim-expired SLAs'
 * latest deadline is deadlineMs.
 */
function payloadsFile(n, deadlineMs, edit = (p) => p) {
    const orgs = ['ClientOrgMSP', 'ProviderOrgMSP'];
    const p = {
        run_tag: 'b1', workers: 2, batches: 3,
        identities: { provider: 'ProviderOrgMSP', logger: 'ProviderOrgMSP', client: 'ClientOrgMSP', vendor: 'VendorOrgMSP' },
        slas: [], expiring: [], expiring_periods: [],
        expiring_deadline: new Date(deadlineMs).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    for (let i = 0; i < n; i++) {
        p.slas.push({ id: `b1-sla-${i}`, orgs });
        p.expiring.push({ id: `b1-expiring-${i}`, doc: '{}', orgs });
        p.expiring_periods.push(`2026-12-06T10:00:${String(i).padStart(2, '0')}Z`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'claimexpired-'));
    tmpDirs.push(dir);
    const file = path.join(dir, 'payloads.json');
    fs.writeFileSync(file, JSON.stringify(edit(p)));
    return { file, dir };
}

async function runWorker(file, dir, worker, txs) {
    const sut = new FakeConnector(['provider', 'logger', 'client', 'vendor'], ['agreement', 'refund', 'baseline', 'ticket']);
    const w = createWorkloadModule();
    const started = Date.now();
    await w.initializeWorkloadModule(worker, 2, 11, { payloads: file, windows: path.join(dir, 'rounds.jsonl') }, sut, {});
    const waited = Date.now() - started;
    for (let k = 0; k < txs; k++) {
        await w.submitTransaction();
    }
    await w.cleanupWorkloadModule();
    return { proposals: sut.proposals, waited, w };
}

test('each worker claims its own SLAs, as the client, endorsed by the SLA organizations', async () => {
    const { file, dir } = payloadsFile(4, Date.now() - 60000);
    for (const worker of [0, 1]) {
        const { proposals, waited } = await runWorker(file, dir, worker, 2);
        assert.ok(waited < 1000, `waited ${waited} ms for a deadline a minute ago`);
        assert.deepEqual(proposals.map((p) => [p.identity, p.contract, p.fn, p.options.arguments, p.options.endorsingOrganizations, p.options.transientData]), [
            ['client', 'refund', 'ClaimExpiredEscrow', [`b1-expiring-${worker}`, `2026-12-06T10:00:0${worker}Z`], ['ClientOrgMSP', 'ProviderOrgMSP'], undefined],
            ['client', 'refund', 'ClaimExpiredEscrow', [`b1-expiring-${worker + 2}`, `2026-12-06T10:00:0${worker + 2}Z`], ['ClientOrgMSP', 'ProviderOrgMSP'], undefined],
        ]);
    }
    // Worker 0 recorded the round's window, which starts after the wait.
    const lines = fs.readFileSync(path.join(dir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].round, 11);
});

test('the preparation waits until the latest verdict deadline has passed, by the margin', async () => {
    // Deadlines are whole seconds: a deadline 1 s ahead, rounded down.
    const deadline = Math.floor((Date.now() + 1000) / 1000) * 1000;
    const { file, dir } = payloadsFile(2, deadline);
    const { proposals, w } = await runWorker(file, dir, 0, 1);
    assert.ok(w.started >= deadline + 1990, `round started at ${w.started}, the deadline is ${deadline}`);
    assert.equal(proposals.length, 1);
});

test('a worker has no claim beyond its SLAs', async () => {
    const { file, dir } = payloadsFile(2, Date.now() - 1000);
    await assert.rejects(runWorker(file, dir, 1, 2), /worker 1: transaction 1 but only 1 SLAs were generated for it/);
});

test('claimWait refuses payloads without the round', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    const ok = { slas: [{}, {}], expiring: [{}, {}], expiring_periods: ['a', 'b'], expiring_deadline: '2026-12-06T10:01:00Z' };
    assert.equal(claimWait(ok, now), 62000);
    assert.equal(claimWait({ ...ok, expiring_deadline: '2026-12-06T09:00:00Z' }, now), 0);
    assert.throws(() => claimWait({ ...ok, expiring: undefined }, now), /payloads.json: expiring \(undefined\) and expiring_periods \(2\) must list one SLA and period per SLA \(2\)/);
    assert.throws(() => claimWait({ ...ok, expiring_periods: ['a'] }, now), /expiring_periods \(1\)/);
    assert.throws(() => claimWait({ ...ok, expiring_deadline: 'soon' }, now), /payloads.json: expiring_deadline "soon" is not a timestamp/);
    assert.throws(() => claimWait({ ...ok, expiring_deadline: '2026-12-06T10:11:00Z' }, now), /is more than 10 minutes away/);
});
