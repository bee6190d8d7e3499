// Package scale measures, on a real native Fabric network of SLASA_SCALE_ORGS organizations (default
// 10), how the application behaves with many SLAs (SLASA_SCALE_SLAS, default 1,000) between pairs of
// organizations: the network's start time and memory, GetSLA and ListSLAs latency, the throughput of
// proposing, accepting, anchoring and settling every SLA, the ledger height and each peer's disk use.
// The same measures at the chaincode level, with the fakes, for 100, 1,000 and 10,000 SLAs are in
// chaincode/scale.
//
// Run both with `make bench-scale`; the figures are in bench/RESULTS.md ("Scale").
package scale
