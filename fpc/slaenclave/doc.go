// Package slaenclave is the SLA enclave chaincode: Enclaved Monitoring
// (RegisterAgreement, IngestBatch) and Enclaved Comparison (Evaluate) of
// signed Parametric SLAs, run inside an FPC-style enclave.
//
// It is a plain v1 shim.Chaincode. It uses only what Fabric Private
// Chaincode offers inside an enclave: GetState, PutState, DelState,
// SetStateValidationParameter (with a key's write), composite keys,
// GetTxTimestamp, GetCreator, its arguments, and the enclave services
// (Services: the tunneling fetch, the enclave id and signing key, the
// chaincode decryption key, the deploy configuration, keys derived from the
// sealed state key) that the enclave's stub implements. It reads only keys
// it can name: no range, partial composite key, rich or history query (each
// SLA's state lists its periods and each period its pages, see State);
// it makes no chaincode-to-chaincode calls and sets no events. It uses no
// floating point and no clock other than the transaction timestamp (the
// signed proposal's, which every endorsing peer's __endorse checks against
// its own clock within the allowed skew), so its results depend only on its
// inputs. Outside an enclave (a stub without Services) every function fails.
//
// Clients never call it directly: requests reach it encrypted through the
// FPC entry points (__invoke on the enclave host's peer, then __endorse on
// every endorsing peer for writes), see fpc/runtime and fpc/client. Every
// result below is therefore returned encrypted to the requester only.
//
// # Trusted certificate authorities
//
// The enclave trusts the CA certificates (roots and intermediates per MSP)
// of the deploy configuration it was initialised with (internal/deploycfg,
// given by the enclave host's runtime at __initEnclave). The enclave's
// credentials attest the configuration's digest, the registry registers the
// enclave only when it is the digest of the registry peer's own file, and
// every endorsing organization's __endorse refuses the responses of an
// enclave registered with another digest: no caller chooses the roots.
//
// An identity is compared as MSP ID, certificate subject DN and issuer DN
// (internal/identity), never by common name alone, and its certificate must
// chain to that MSP's CAs at the transaction time.
//
// # Functions
//
// RegisterAgreement(signed record JSON) verifies a signedsla.Record: the
// document's canonical digest, both parties' signatures over it, that each
// certificate is the SLA's party (MSP ID, subject and issuer) and chains to
// its MSP's CAs at the transaction time, that the SLA validates and compiles
// with the algorithmic drivers, and that validity.end is after the
// transaction time. It adds the SLA to the portfolio with an empty batch
// chain. Registering the same document again is idempotent (no write);
// another document under a registered id is rejected. Any channel member may
// register: the record authenticates itself. The result is Status.
//
// IngestBatch(slaID, seq, cid) fetches the batch through the tunneling shim
// and trusts nothing it did not check: seq must be exactly the last ingested
// seq + 1 (checked before fetching); the bytes must be at most
// logbatch.MaxBatchBytes and the content of the CID (ipfs/cidverify), open
// with the chaincode decryption key and carry a valid signature
// (logbatch.Open); header.sla_id and header.seq must equal the arguments; the
// signing certificate must chain to the CAs of the logger's MSP and be the
// SLA's logger (MSP ID, subject and issuer); prev_cid must be the last
// ingested CID; the window [window_start, window_end) must lie inside one
// billing period, not end after the transaction time, and start exactly where
// the previous batch's window ended (the first batch of an SLA starts at a
// period start); the period must not be evaluated yet; every record must lie
// inside the window and their number must equal the record count the
// logger signed in the batch's encrypted body (logbatch v2). The records
// are folded into the period's aggregate (driver.Accumulator); raw records
// are never stored. The aggregate is stored as a small header and pages
// under their own keys (driver.Accumulator.MarshalPaged): a batch reads the
// header and, by name, the pages its window can touch, and writes back only
// the pages it changed, the header and the chain head, so the bytes a batch
// adds to the ledger grow with the batch, not with the part of the period
// covered so far. A logger that has nothing to report for a window
// publishes an empty batch (records 0) so that coverage stays contiguous.
// The result is IngestResult.
//
// Evaluate(slaID, period) may be called by the SLA's provider or client only
// (full identity, the certificate chaining to its MSP's CAs), for a complete
// period: its batches' windows cover [start, end) exactly. The enclave
// decides that a period is over from this coverage only, never from a clock:
// the last batch's window ends at the period's end and was signed by the
// logger. period is the period's RFC 3339 start or a shorthand accepted by
// driver.ParsePeriod. It loads every page of the period's aggregate,
// computes the driver.Outcome, builds a verdict.Verdict (report_digest is
// the hex HMAC-SHA256 of the report bytes under the SLA's report key, which
// the enclave derives from its sealed state key with HKDF-SHA256, label
// verdict.ReportKeyLabel and the SLA id as context: an outsider cannot
// test guesses of the report against it; batch_seq and batch_cid name the
// period's last batch, whose window ends at period_end, so that the refund
// chaincode can check it is the anchored one; chaincode and enclave_id name
// this enclave), signs it with the enclave key (ECDSA P-256 over SHA-256
// of verdict.SigningBytes, what verdict.Verify checks) and freezes it: the
// first evaluation that is endorsed stores the signed verdict and the
// report, drops the aggregate's header and deletes its pages (never read
// again: a frozen period's verdict is read first and its batches are
// refused); later evaluations return the stored ones unchanged. Evaluate is
// therefore a write transaction (submit it through __endorse). The result
// is Evaluation (enclaveapi.Evaluation, format "slasa.evaluation/v2"):
//
//	{"format": "slasa.evaluation/v2", "verdict": <verdict.Signed>,
//	 "report": <driver.Outcome JSON>, "report_key": <64 hex digits>}
//
// where the report member is the exact report bytes (compact JSON without
// HTML escaping) whose HMAC-SHA256 under report_key is
// verdict.report_digest; see Evaluation.Check. Only the requesting party
// receives it (the result is encrypted to it).
//
// GetAgreementStatus(slaID), for the SLA's provider or client only (as
// Evaluate), returns Status: the SLA digest, the batch chain head (last seq,
// CID and window end), the covered window of every period with batches and
// whether it is complete and evaluated. It holds no metric values.
//
// # State
//
// Every value is encrypted by the enclave runtime; keys are visible to the
// peers, so they hold only SLA ids, period starts and page names:
//
//	\x00slaenclave.sla\x00<sla id>\x00                       agreement: signed record (written once)
//	\x00slaenclave.head\x00<sla id>\x00                      chain head and period index (every batch)
//	\x00slaenclave.period\x00<sla id>\x00<start>\x00          coverage, last batch, aggregate header
//	\x00slaenclave.page\x00<sla id>\x00<start>\x00<page>\x00   one page of the period's aggregate
//	\x00slaenclave.verdict\x00<sla id>\x00<start>\x00         frozen signed verdict and report
//
// The chain head's period index lists the starts of the SLA's periods with
// batches, and a period's aggregate header lists its pages, so the chaincode
// reads every key by name. Each value carries the state format (2); state
// of another format is refused.
//
// # Key-level endorsement policies
//
// Every key the chaincode writes belongs to one SLA, and it names, with
// each write, the key-level policy the key must carry: a peer of the
// provider's organization and a peer of the client's
// (SetStateValidationParameter; the runtime's __endorse sets it when the
// write creates the key, never again). Once created, an SLA's keys change
// only with both parties' peers' endorsements; a third organization, alone
// or with one party, cannot change them. (The key's creation is validated by
// the chaincode-level policy, as Fabric does for every new key.) The
// chaincode deletes only the pages of an evaluated period, whose policy no
// longer matters.
//
// # Limitation
//
// Aggregates are kept per billing period. A mean-time metric (time to
// respond or resolve) counts an incident in the period of its end event and
// needs the opening event in the same period's batches: an incident opened
// in one period and closed in a later one is counted as unmatched.
package slaenclave
