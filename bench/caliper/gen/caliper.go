package main

import (
	"path/filepath"

	"github.com/slasa/slasa/internal/fabnet"
)

// caliperOrgs are the organizations Caliper acts for: the provider's (provider,
// logger), the client's (client) and the vendor's (vendor, who updates the
// tickets). Other organizations of the network, if any, are left out.
var caliperOrgs = []struct {
	org   string
	users []string
}{
	{"provider", []string{"provider", "logger"}},
	{"client", []string{"client"}},
	{"vendor", []string{"vendor"}},
}

// caliperNetwork is Caliper's network configuration (format 2.0.0 of the
// Fabric connector), built from network.json. It is written as JSON, which
// Caliper's YAML loader reads.
func caliperNetwork(info *fabnet.Info) map[string]any {
	var orgs []any
	for _, o := range caliperOrgs {
		org := info.Orgs[o.org]
		var certs []any
		for _, name := range o.users {
			u := org.Users[name]
			certs = append(certs, map[string]any{
				"name":             name,
				"clientPrivateKey": map[string]any{"path": u.KeyPath},
				"clientSignedCert": map[string]any{"path": u.CertPath},
			})
		}
		orgs = append(orgs, map[string]any{
			"mspid":             org.MSPID,
			"identities":        map[string]any{"certificates": certs},
			"connectionProfile": map[string]any{"path": org.ConnectionProfile, "discover": true},
		})
	}
	var contracts []any
	for _, cc := range []string{ccAgreement, ccRefund, ccBaseline, ccTicket} {
		contracts = append(contracts, map[string]any{"id": cc})
	}
	return map[string]any{
		"name":    "slasa-bench",
		"version": "2.0.0",
		"caliper": map[string]any{"blockchain": "fabric", "sutOptions": map[string]any{"mutualTls": false}},
		"channels": []any{map[string]any{
			"channelName": info.Channel,
			"contracts":   contracts,
		}},
		"organizations": orgs,
	}
}

// Round labels; report.go computes the ratios from them.
const (
	roundWarmup      = "warmup-noop"
	roundBaselinePut = "baseline-put"
	roundBaselineGet = "baseline-get"
	roundPropose     = "propose-sla"
	roundAccept      = "accept-sla"
	roundAnchor      = "anchor-log-batch"
	roundSettle      = "settle-verdict"
	// roundSettleShared settles the shared SLAs: every SLA of one provider
	// wallet and one client wallet, concurrently.
	roundSettleShared = "settle-shared-provider"
	roundGetSLA       = "get-sla"
	// roundCreateTicket opens one ticket per SLA, all on the one ticket SLA
	// at once; roundUpdateTicket has the vendor update each of them (after
	// gen tickets assigned and acknowledged them), all at once.
	roundCreateTicket = "create-ticket"
	roundUpdateTicket = "update-ticket"
	// roundClaimExpired claims the expired escrow of every SLA of
	// payloads.json expiring (ClaimExpiredEscrow by the client, each SLA
	// with wallets of its own), once their verdict deadlines have passed.
	roundClaimExpired = "claim-expired"
)

// caliperBenchmark is Caliper's benchmark configuration: every round at the
// same concurrency (fixed-load, workers x load transactions in flight).
func caliperBenchmark(f prepareFlags, out string) map[string]any {
	payloads := filepath.Join(out, payloadsFile)
	settle := map[string]any{"settle": filepath.Join(out, settleFile), "settleWanted": filepath.Join(out, settleWantedFile),
		"settleError": filepath.Join(out, settleErrorFile)}
	windows := filepath.Join(out, "rounds.jsonl")
	n := f.slas
	rate := map[string]any{"type": "fixed-load", "opts": map[string]any{
		"transactionLoad": f.workers * f.load, "startTps": 50 * f.workers}}
	round := func(label, module string, tx int, args map[string]any) map[string]any {
		a := map[string]any{"payloads": payloads, "windows": windows}
		for k, v := range args {
			a[k] = v
		}
		return map[string]any{
			"label": label, "txNumber": tx, "rateControl": rate,
			"workload": map[string]any{"module": "workloads/" + module + ".js", "arguments": a},
		}
	}
	reads := n * f.batches
	tickets := map[string]any{"tickets": filepath.Join(out, ticketsFile), "ticketsWanted": filepath.Join(out, ticketsWantedFile),
		"ticketsError": filepath.Join(out, ticketsErrorFile)}
	return map[string]any{"test": map[string]any{
		"name":        "slasa",
		"description": "slasa chaincodes against the no-op/put baseline chaincode, same network, same concurrency",
		"workers":     map[string]any{"number": f.workers},
		"rounds": []any{
			round(roundWarmup, "baseline", 10*f.workers*f.load, map[string]any{"function": "Noop"}),
			round(roundBaselinePut, "baseline", n*f.batches, map[string]any{"function": "Put"}),
			round(roundBaselineGet, "baseline", reads, map[string]any{"function": "Get"}),
			round(roundPropose, "propose", n, nil),
			round(roundAccept, "accept", n, nil),
			round(roundAnchor, "anchor", n*f.batches, settle),
			round(roundSettle, "settle", n, settle),
			round(roundSettleShared, "settleshared", n, settle),
			round(roundGetSLA, "getsla", reads, nil),
			round(roundCreateTicket, "createticket", n, nil),
			round(roundUpdateTicket, "updateticket", n, tickets),
			// Last, so that the rounds before it run as they did before
			// issue 17; its SLAs' deadlines passed long before (gen prepare
			// accepted them first), and its preparation waits for the
			// latest one if not.
			round(roundClaimExpired, "claimexpired", n, nil),
		},
	}}
}
