// Package slaenclave is the SLA enclave chaincode: Enclaved Monitoring
// (RegisterAgreement, IngestBatch) and Enclaved Comparison (Evaluate) of
// signed Parametric SLAs, run inside an FPC-style enclave.
//
// It is a plain v1 shim.Chaincode. It uses only what Fabric Private
// Chaincode offers inside an enclave: GetState, PutState, DelState, composite
// keys, GetTxTimestamp, GetCreator, its arguments, and the enclave services
// (Services: the tunneling fetch, the enclave id and signing key, the
// chaincode decryption key, the deploy configuration) that the enclave's stub
// implements. It reads only keys it can name: no range, partial composite
// key, rich or history query (each SLA's state lists its periods, see State);
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
// are folded into the period's aggregate (driver.Accumulator, stored
// encrypted in its binary form); raw records are never stored. A logger that
// has nothing to report for a window publishes an empty batch (records 0) so
// that coverage stays contiguous. The result is IngestResult.
//
// Evaluate(slaID, period) may be called by the SLA's provider or client only
// (full identity, the certificate chaining to its MSP's CAs), for a complete
// period: its batches' windows cover [start, end) exactly. The enclave
// decides that a period is over from this coverage only, never from a clock:
// the last batch's window ends at the period's end and was signed by the
// logger. period is the period's RFC 3339 start or a shorthand accepted by
// driver.ParsePeriod. It computes the driver.Outcome, builds a
// verdict.Verdict (report_digest is the hex SHA-256 of the report bytes;
// batch_seq and batch_cid name the period's last batch, whose window ends at
// period_end, so that the refund chaincode can check it is the anchored one;
// chaincode and enclave_id name this enclave), signs it with the enclave key
// (ECDSA P-256 over SHA-256 of verdict.SigningBytes, what verdict.Verify
// checks) and freezes it: the first evaluation that is endorsed stores the
// signed verdict and the report and drops the period's aggregate; later
// evaluations return the stored ones unchanged. Evaluate is therefore a
// write transaction (submit it through __endorse). The result is Evaluation:
//
//	{"verdict": <verdict.Signed>, "report": <driver.Outcome JSON>}
//
// where the report member is the exact report bytes (compact JSON without
// HTML escaping) whose SHA-256 is verdict.report_digest; see
// Evaluation.CheckReport.
//
// GetAgreementStatus(slaID), for the SLA's provider or client only (as
// Evaluate), returns Status: the SLA digest, the batch chain head (last seq,
// CID and window end), the covered window of every period with batches and
// whether it is complete and evaluated. It holds no metric values.
//
// # State
//
// Every value is encrypted by the enclave runtime; keys are visible to the
// peers, so they hold only SLA ids and period starts:
//
//	\x00slaenclave.sla\x00<sla id>\x00                agreement: signed record, chain head, period index
//	\x00slaenclave.period\x00<sla id>\x00<start>\x00   coverage, last batch and aggregate of a period
//	\x00slaenclave.verdict\x00<sla id>\x00<start>\x00  frozen signed verdict and report
//
// The agreement's period index lists the starts of its periods with batches,
// so GetAgreementStatus reads each period's key by name.
//
// # Limitation
//
// Aggregates are kept per billing period. A mean-time metric (time to
// respond or resolve) counts an incident in the period of its end event and
// needs the opening event in the same period's batches: an incident opened
// in one period and closed in a later one is counted as unmatched.
package slaenclave
