// Package enclave benchmarks the SLA enclave's ingest path outside Fabric:
// the work fpc/slaenclave's IngestBatch does on one log batch once it holds
// the bytes, and the same with the bytes fetched through the tunneling shim
// from a real kubo node.
//
// The package links only pure-Go packages (logbatch, ipfs/cidverify, driver,
// logs, sla, the shim's server and client); it imports neither Fabric shim,
// so it can sit next to the enclave (v1 shim) and the gateway (v2) code
// without mixing their protos. Run it with `make bench-enclave`.
package enclave
