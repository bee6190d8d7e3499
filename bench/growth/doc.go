// Package growth measures how many bytes the SLA enclave adds to the ledger
// per SLA-month: it runs the real enclave code (fpc/runtime with the
// SIMULATED enclave around fpc/slaenclave, the fpctest doubles of the
// registry, _lifecycle and the committed ledger) over a simulated month of
// log batches and sums, for every __endorse transaction, the size of the
// Fabric transaction envelope the block would carry: its arguments (the
// enclave's signed response: the encrypted write values, the proposal the
// enclave ran under, the request hash and the encrypted result), the read
// and write set the peers produce when they apply the response (values,
// read versions, validation parameters), the endorsements and the
// creator's signature, and the block wrapper around it when the transaction
// is alone in its block.
//
// The envelope is built with Fabric's own protos (fabric-protos-go) from
// the real arguments and read/write sets, with certificates shaped like
// cryptogen's; what is modelled, not measured, is said in the test
// (TestLedgerGrowth) and in bench/RESULTS.md.
//
// It links the v1 shim (the enclave side), never the Fabric Gateway.
// Run the whole month with `make bench-growth` (SLASA_GROWTH_DAYS=30); plain
// `go test` runs two hours of it.
package growth
