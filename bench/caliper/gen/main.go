// Command gen prepares, observes and summarises the Caliper benchmark of
// slasa (make bench-caliper). It keeps every cryptographic and canonical
// encoding step in the project's Go packages, so the JavaScript workload
// modules only replay precomputed arguments.
//
//	gen prepare -run-dir RUN -out DIR [-slas N] [-batches B] [-workers W] [-load L]
//	    on a network whose deploy configuration is recorded (run.sh: slasa
//	    config record), registers a simulated test enclave key as an admin of
//	    the enclave host, opens one client and one provider wallet per SLA
//	    and has the issuer's admin fund the client's, signs N SLA documents
//	    (billing periods of B 10-second log windows), and writes
//	    payloads.json, the test enclave's key, network.yaml and benchmark.yaml
//	    (Caliper's configuration) into DIR; it also proposes and accepts the
//	    shared SLAs and the ticket SLA (the template with the support terms
//	    of examples/telecom) of the ticket rounds; before the shared SLAs,
//	    it proposes and accepts N more SLAs with an escrow_expiry (60 s,
//	    split), each with wallets of its own, whose paid periods are never
//	    settled, and writes their periods and latest verdict deadline (read
//	    back from the ledger) for the claim-expired round, which waits for
//	    it.
//	gen settle -run-dir RUN -out DIR
//	    runs next to Caliper: once the accept round has ended and every
//	    SLA's paid period is over, signs B anchors covering each paid period
//	    and its verdict, naming the last batch, into DIR/settle.json, which
//	    the anchor and settle rounds wait for.
//	gen tickets -run-dir RUN -out DIR
//	    runs next to Caliper: once the create-ticket round has ended, has the
//	    provider assign every ticket of the ticket SLA to VendorOrg's vendor
//	    and the vendor acknowledge it, and writes each ticket's current record
//	    into DIR/tickets.json, which the update-ticket round waits for.
//	gen monitor -run-dir RUN -out FILE
//	    samples CPU time and resident memory of the network's peers, orderers
//	    and chaincode servers from /proc once a second until SIGINT/SIGTERM.
//	gen report -dir DIR -results FILE
//	    reads Caliper's report (DIR/report.html), the round windows and the
//	    /proc samples, writes the summary table with the ratios against the
//	    baseline chaincode, and exits 1 when any transaction failed.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "prepare":
		err = runPrepare(os.Args[2:])
	case "settle":
		err = runSettle(os.Args[2:])
	case "tickets":
		err = runTickets(os.Args[2:])
	case "monitor":
		err = runMonitor(os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gen prepare|settle|tickets|monitor|report [flags] (gen SUBCOMMAND -h for the flags)")
	os.Exit(2)
}
