// Package logger is the Cloud Logger: it collects monitoring samples for
// Parametric SLAs, keeps them in a local write-ahead spool, cuts them into
// time-window batches, seals each batch to the SLA enclave's chaincode
// encryption key (logbatch.Seal), signs it as the logger identity, adds it
// to IPFS and anchors its CID on the agreement chaincode (AnchorLogBatch).
//
// # Samples
//
// Samples come from HTTP(S) probes (Prober: one named probe per zone and
// endpoint, one sample per sampling slot of the SLA, measurements ok, status
// and latency_ms) and from JSON Lines streams of log records (Ingest). Both
// append to the Spool of the SLA: one segment file per batch window, every
// record appended and fsynced before Append returns. A record whose window
// has already been cut is refused as late (ErrLate); a record more than
// MaxFutureSkew ahead of the clock is refused too.
//
// # Windows
//
// Windows have a fixed width (a whole number of seconds) and are aligned to
// the SLA's billing periods: the windows of a period start at the period's
// start, and the last window of a period is cut short at the period's end, so
// no window spans a period boundary (Windows). The enclave requires the batch
// windows of an SLA to be contiguous from the first batch on and the first
// batch to start at a period start, so the logger starts at the start of the
// billing period that contains the moment it starts: the part of the period
// before it started is published as empty batches (no samples: missing data,
// treated as the SLA's rules.missing_data says), and a window with no samples
// yields an empty batch.
//
// # Publishing, exactly once
//
// A Publisher drives one SLA through a persisted state machine (State):
//
//	cut:     window closed (now >= end + cut delay) -> records sorted by time,
//	         sealed, CID computed locally (cidverify.Sum), sealed bytes written
//	         and fsynced, state saved with the pending batch
//	add:     the sealed bytes are added to IPFS (CIDv1, raw leaves, pinned);
//	         the CID IPFS returns must be the one computed
//	anchor:  GetLogBatch(sla, seq): the same CID means done, another CID is a
//	         hard error (ErrConflict); absent: AnchorLogBatch with the logger's
//	         anchor signature
//	commit:  next seq, prev CID and next window saved; spool segment and
//	         sealed file removed
//
// The sealed bytes are persisted before anything is published, because
// sealing is randomised: sealing the same records again would give another
// CID. A crash at any point resumes from the saved state; IPFS and Fabric
// outages are retried with exponential backoff.
package logger
