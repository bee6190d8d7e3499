//go:build integration

// Package consortium tests issue 15's privacy and forgery guarantees on a
// real native network of four organizations with a peer each (SLASA_ORGS=4:
// ProviderOrg, ClientOrg, VendorOrg and OtherOrg), the whole application
// deployed (network/deploy-all.sh), its kubo node and tunneling shim:
//
//   - TestOutsiderLearnsNoTerms: an SLA between ProviderOrg and ClientOrg,
//     with planted markers in its terms and in the logger's log lines, goes
//     through the real pipeline (logger, IPFS, monitor, enclave, settlement)
//     until a period is settled; then OtherOrg fetches every block of the
//     channel from its own peer and reads its own peer's state and disk, and
//     finds no term, no metric value of the verdict's report and no log line.
//   - TestThirdOrganizationCannotForge: VendorOrg, alone or with one party,
//     submits transactions whose write sets it forged (endorsements signed
//     with the peers' own keys) against an SLA, wallets, an escrow and the
//     supply it does not own: each is invalidated at commit with
//     ENDORSEMENT_POLICY_FAILURE and nothing changes; the same machinery
//     creating a new credit key the two signers may create commits.
package consortium

import (
	"os"
	"testing"

	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

// TestMain starts the four-organization network and deploys the application as an operator does
// (the four chaincodes with each organization's own servers, the deploy configuration recorded, the
// enclave set up), with IPFS and the shim.
func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Orgs: 4, DeployAll: true}, &nw))
}
