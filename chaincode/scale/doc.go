// Package scale measures the agreement and refund chaincodes with many SLAs
// on the in-memory channel of the chaincode tests (internal/fabricfake
// through chaincode/internal/cctest, whose blocks are validated as a peer
// validates them): GetSLA and ListSLAs latency, the throughput of
// activating and settling SLAs, the committed state and the bytes the
// transactions put in the blocks, for SLASA_SCALE_FAKE_SLAS SLAs (a
// comma-separated list; 100 when unset).
//
// `make bench-scale` runs it for 100, 1,000 and 10,000 SLAs, next to the
// real network's run (bench/scale); the figures are in bench/RESULTS.md.
package scale
