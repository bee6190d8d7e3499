//go:build integration

// Package attack is the attack suite of issue 14 ("trust anchors"): each
// row of the table runs on a real native network (with a second CA
// in ProviderOrgMSP, SLASA_SECOND_CA=1), as the wrong identity, through the
// Fabric Gateway or a proposal the attacker crafted itself. Each subtest
// asserts the chaincode's own refusal, that both peers' block heights, every
// wallet, escrow, SLA record, the enclave registry, the recorded deploy
// configurations and the enclave's view of its SLAs are unchanged (read back
// before and after), and that money is conserved (wallets + escrow = minted).
//
// The phases follow the life of a network: the chaincodes deployed but not
// configured (the attacker comes before the operator), configured but no
// enclave registered yet, then money, SLAs, time, the pinned enclave and its
// handover, a redeploy with a new sequence, and the enclave's log intake.
package attack

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{
		Env: []string{"SLASA_SECOND_CA=1"},
		// Deployed, not configured: the suite plays the operator's steps
		// itself, after the attackers had their chance.
		Chaincodes: []harness.Chaincode{{Source: "agreement"}, {Source: "refund"}, {Source: "ercc"}, {Source: "slaenclave"}},
	}, &nw))
}

const (
	period = 30 // seconds per billing period of the suite's SLAs
	fee    = 100000
)

// Identities of the network (see network/README.md) and what they are.
const (
	provider      = "provider"            // ProviderOrg, client role: the SLAs' provider
	providerAdmin = "provider-admin"      // ProviderOrg admin: the operator
	issuer        = "issuer"              // ProviderOrg admin: the issuer
	logger        = "logger"              // ProviderOrg, client role: the SLAs' logger
	client        = "client"              // ClientOrg, client role: the SLAs' client
	clientAdmin   = "client-admin"        // ClientOrg admin
	other         = "other"               // OtherOrg, client role: a channel member outside every SLA
	otherAdmin    = "other-admin"         // OtherOrg admin
	providerCA2   = "provider-ca2"        // the provider's CN, issued by ProviderOrg's second CA
	providerAdmRl = "provider-admin-role" // the provider's CN with the admin role
)

func TestAttacks(t *testing.T) {
	cfg := deployConfig(t)
	forged := forgedConfig(t, cfg)

	// ---- 1. Before the operator: nothing is configured yet.
	t.Run("configure before the operator", func(t *testing.T) {
		for _, cc := range []string{"agreement", "refund", "ercc"} {
			configureAttacks(t, cc, cfg, forged)
		}
		creds := enclaveCredentials(t, newEnclaveKey(t), "ProviderOrgMSP")
		for _, who := range []string{provider, clientAdmin, otherAdmin} {
			t.Run("register the enclave as "+who, func(t *testing.T) {
				refused(t, func() error { return submit(who, "ercc", "RegisterEnclave", creds) },
					"the deploy configuration is not recorded on the channel yet")
			})
		}
		t.Run("mint as other", func(t *testing.T) {
			refused(t, func() error { return submit(other, "refund", "Mint", "other", "1000") },
				"the deploy configuration is not recorded on the channel yet")
		})
	})

	// The operator records the configuration (every organization's peer
	// endorses only its own file).
	if out, err := nw.RecordConfig(providerAdmin); err != nil {
		t.Fatalf("slasa config record: %v\n%s", err, out)
	}

	// ---- 2. Configured, no enclave registered yet (a fresh deploy).
	t.Run("configure after the operator", func(t *testing.T) {
		for _, cc := range []string{"agreement", "refund", "ercc"} {
			configureAttacks(t, cc, cfg, forged)
			t.Run(cc+" again as provider-admin", func(t *testing.T) {
				refused(t, func() error { return submit(providerAdmin, cc, "Configure", cfg) }, "is already recorded")
			})
		}
	})
	t.Run("register an enclave key on a fresh deploy", func(t *testing.T) {
		registerAttacks(t)
	})

	// The operator's enclave setup: the host's admin registers the enclave.
	if out, err := nw.CLI("enclave", "setup"); err != nil {
		t.Fatalf("slasa enclave setup: %v\n%s", err, out)
	}
	k1 := hostEnclaveKey(t)

	// ---- 3. Money: only the issuer's admins mint.
	// OtherOrg runs no peer of the deploy configuration: its members open
	// no wallet (nobody but the other organizations could endorse its
	// debits). The wallet "other" is a ClientOrg admin's.
	refused(t, func() error { return submit(other, "refund", "OpenAccount", "other") },
		"a wallet's owner must belong to an organization of the deploy configuration", "OtherOrgMSP does not")
	for _, acc := range [][2]string{{client, "client"}, {provider, "provider"}, {clientAdmin, "other"}} {
		must(t, acc[0], "refund", "OpenAccount", acc[1])
		w.wallets = append(w.wallets, acc[1])
	}
	must(t, issuer, "refund", "Mint", "client", "1000000")
	w.minted += 1000000
	t.Run("mint", func(t *testing.T) {
		for _, who := range []string{provider, logger, providerCA2, client, clientAdmin, other, otherAdmin} {
			t.Run("as "+who, func(t *testing.T) {
				tail := "is not a member of ProviderOrgMSP"
				if who == provider || who == logger || who == providerCA2 {
					tail = `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`
				}
				for _, to := range []string{"client", "other"} {
					refused(t, func() error { return submit(who, "refund", "Mint", to, "1000") },
						"only an admin of the issuer ProviderOrgMSP may mint: the caller "+idOf(t, who), tail)
				}
			})
		}
	})

	t.Run("an organization changes its own deploy configuration", func(t *testing.T) {
		forgedOrgConfig(t, forged)
	})

	// ---- 4. SLAs.
	now := time.Now().UTC().Truncate(time.Second)
	startA := now.Add(15 * time.Second)
	a := newSLA(t, "attack-a", startA)
	a.propose(t)
	a.accept(t)
	// C has A's periods: A's verdicts must not pay C.
	c := newSLA(t, "attack-c", startA)
	c.propose(t)
	c.accept(t)
	// The client renews A honestly, while its second period has not started.
	waitUntil(t, startA)
	mustSLA(t, client, a, true, "RenewSLA", a.id)
	w.escrows = append(w.escrows, [2]string{a.id, rfc(startA.Add(period * time.Second))})

	// ---- 5. Settlement: only after the period's end, once, for its SLA.
	t.Run("settle a valid verdict for a period that has not ended", func(t *testing.T) {
		v := a.verdict(t, k1, startA, 1, cidOf("a-1"))
		refused(t, func() error { return submit(provider, "refund", "SettleVerdict", v) },
			"a period is settled only once it is over")
	})

	// The terms are private to the parties: another organization's users
	// read nothing, through whichever Gateway they use.
	t.Run("read the terms as another organization", func(t *testing.T) {
		for _, who := range []string{other, otherAdmin} {
			refused(t, func() error { _, err := nw.GetSLA(who, a.id); return err },
				"readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP")
		}
	})

	// ---- 6. Who may act as the parties.
	t.Run("act as a party with a same-CN certificate", func(t *testing.T) {
		sameCNAttacks(t, a)
	})
	t.Run("relay a verdict from a third organization", func(t *testing.T) {
		v := a.verdict(t, k1, startA, 1, "bafkreiaaaa")
		refused(t, func() error { return submit(other, "refund", "SettleVerdict", v) },
			fmt.Sprintf(`verdicts of SLA %q are relayed by members of ProviderOrgMSP and ClientOrgMSP only`, a.id))
	})

	// ---- 7. Time: accept, pay and renew only before the period starts.
	timeAttacks(t, now)

	// ---- 8. Settlement once the period is over.
	endA1 := startA.Add(period * time.Second)
	waitUntil(t, endA1.Add(time.Second))
	a.anchor(t, 1, cidOf("a-1"), startA, endA1)
	valid := a.verdict(t, k1, startA, 1, cidOf("a-1"))
	t.Run("settle without the logger's batch covering the period end", func(t *testing.T) {
		v := a.verdict(t, k1, startA, 1, cidOf("a-1-other"))
		refused(t, func() error { return submit(provider, "refund", "SettleVerdict", v) }, "verdict.batch_cid")
		v = a.verdict(t, k1, startA, 2, cidOf("a-2"))
		refused(t, func() error { return submit(provider, "refund", "SettleVerdict", v) }, "verdict.batch_seq")
	})
	must(t, provider, "refund", "SettleVerdict", valid)
	t.Run("replay a settled verdict", func(t *testing.T) {
		for _, who := range []string{provider, client} {
			refused(t, func() error { return submit(who, "refund", "SettleVerdict", valid) },
				fmt.Sprintf("verdict.period: period %s of SLA %q is already settled", rfc(startA), a.id))
		}
	})
	t.Run("the same verdict for another SLA", func(t *testing.T) {
		var s map[string]any
		if err := json.Unmarshal([]byte(valid), &s); err != nil {
			t.Fatal(err)
		}
		v := s["verdict"].(map[string]any)
		v["sla_id"], v["sla_digest"] = c.id, hex.EncodeToString(c.digest[:])
		moved, _ := json.Marshal(s)
		refused(t, func() error { return submit(provider, "refund", "SettleVerdict", string(moved)) }, "verdict: verdict signature does not verify with the enclave key")
	})

	// ---- 9. The pinned enclave, and a handover.
	pinAttacks(t, a, k1)

	// ---- 10. A redeploy (sequence + 1): the registration race again.
	shim := newShimProxy(t)
	redeployEnclave(t, shim.URL())
	t.Run("register an enclave key after a redeploy", func(t *testing.T) {
		registerAttacks(t)
	})
	if out, err := nw.CLI("enclave", "setup"); err != nil {
		t.Fatalf("slasa enclave setup after the redeploy: %v\n%s", err, out)
	}

	// ---- 11. The enclave's log intake.
	enclaveAttacks(t, shim)
}

// configureAttacks: Configure by the wrong identities, or with values the
// organizations did not approve, is refused on chaincode cc.
func configureAttacks(t *testing.T, cc, cfg, forged string) {
	t.Run(cc, func(t *testing.T) {
		for _, who := range []string{other, otherAdmin} {
			refused(t, func() error { return submit(who, cc, "Configure", cfg) },
				"Configure: the caller "+idOf(t, who)+" is not a member of ClientOrgMSP or ProviderOrgMSP")
		}
		refused(t, func() error { return submit(provider, cc, "Configure", cfg) },
			"Configure: the caller "+idOf(t, provider)+` is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`)
		// The operator's own organization cannot choose values alone.
		refused(t, func() error { return submit(providerAdmin, cc, "Configure", forged) },
			"is not this peer's deploy configuration", "every organization must give its chaincode servers the same file")
	})
}

// registerAttacks: a key registered as the enclave by anyone but an admin of
// the enclave host is refused.
func registerAttacks(t *testing.T) {
	for _, tc := range []struct{ who, host, tail string }{
		{provider, "ProviderOrgMSP", `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`},
		{clientAdmin, "ClientOrgMSP", "is not a member of ProviderOrgMSP"},
		{otherAdmin, "OtherOrgMSP", "is not a member of ProviderOrgMSP"},
	} {
		t.Run("as "+tc.who, func(t *testing.T) {
			creds := enclaveCredentials(t, newEnclaveKey(t), tc.host)
			refused(t, func() error { return submit(tc.who, "ercc", "RegisterEnclave", creds) },
				"RegisterEnclave: only an admin of the enclave host ProviderOrgMSP may register an enclave: the caller "+idOf(t, tc.who), tc.tail)
		})
	}
}

// sameCNAttacks: certificates with the provider's common name, from
// ProviderOrg's second CA or with the admin role, do not act as the provider.
func sameCNAttacks(t *testing.T, a *testSLA) {
	for _, imp := range []string{providerCA2, providerAdmRl} {
		t.Run(imp, func(t *testing.T) {
			refused(t, func() error { return submit(imp, "agreement", "TerminateSLA", a.id, "impostor") },
				fmt.Sprintf("only the SLA's provider or client may terminate SLA %q (caller %s)", a.id, idOf(t, imp)))
			refused(t, func() error { return submit(imp, "agreement", "ApproveEnclaveHandover", a.id, hostEnclaveID(t)) },
				fmt.Sprintf("only the SLA's provider or client may approve an enclave handover of SLA %q", a.id))
			refused(t, func() error { return submit(imp, "refund", "Transfer", "provider", "other", "1") },
				fmt.Sprintf("wallet %q is owned by %s, not by the submitter %s", "provider", idOf(t, provider), idOf(t, imp)))
			c := newSLA(t, "attack-impostor-"+imp, a.start.Add(time.Hour))
			refused(t, func() error { return submitSLA(t, imp, c, true, "ProposeSLA", nw.SignB64(t, imp, c.digest[:])) },
				"only the SLA's provider may propose it: the SLA's provider: certificate")
		})
	}
}

// timeAttacks: a client that chooses its transaction timestamp cannot pay a
// period that already started.
func timeAttacks(t *testing.T, now time.Time) {
	// B's validity began two periods ago: its current period has started.
	startB := now.Add(-2 * period * time.Second)
	b := newSLA(t, "attack-time", startB)
	b.propose(t)
	args := []string{b.id, hex.EncodeToString(b.digest[:]), nw.SignB64(t, client, b.digest[:])}
	t.Run("accept with a backdated timestamp beyond the skew", func(t *testing.T) {
		refused(t, func() error {
			return submitSLAAs(t, client, time.Now().Add(-6*time.Minute), b, true, "AcceptSLA", args...)
		},
			"behind this peer's clock", "more than the allowed 5m0s")
	})
	t.Run("accept with a future timestamp beyond the skew", func(t *testing.T) {
		refused(t, func() error {
			return submitSLAAs(t, client, time.Now().Add(6*time.Minute), b, true, "AcceptSLA", args...)
		},
			"ahead of this peer's clock", "more than the allowed 5m0s")
	})
	// Honestly, the client pays the first period that has not started.
	acceptedAt := time.Now()
	mustSLA(t, client, b, true, "AcceptSLA", args...)
	w.slas = append(w.slas, b.id)
	var ag struct {
		LastPeriod string `json:"last_period"`
	}
	if err := json.Unmarshal([]byte(readSLA(provider, b.id)), &ag); err != nil {
		t.Fatal(err)
	}
	paid, err := time.Parse(time.RFC3339, ag.LastPeriod)
	if err != nil || paid.Before(acceptedAt.Truncate(time.Second)) {
		t.Fatalf("AcceptSLA paid period %q, which started before the acceptance at %s", ag.LastPeriod, acceptedAt.Format(time.RFC3339))
	}
	w.escrows = append(w.escrows, [2]string{b.id, ag.LastPeriod})

	t.Run("renew a period that already started", func(t *testing.T) {
		// Wait until B's paid period is over: its next one has started.
		next := paid.Add(period * time.Second)
		waitUntil(t, next.Add(time.Second))
		refused(t, func() error { return submitSLA(t, client, b, true, "RenewSLA", b.id) },
			"started before this transaction", "a period is paid only before it starts")
		refused(t, func() error { return submitSLAAs(t, client, next.Add(-6*time.Minute), b, true, "RenewSLA", b.id) },
			"behind this peer's clock")
	})
	t.Run("anchor a log window that is not over", func(t *testing.T) {
		end := time.Now().UTC().Truncate(time.Second).Add(20 * time.Second)
		start := end.Add(-10 * time.Second)
		refused(t, func() error { return b.anchorErr(t, 1, cidOf("b-future"), start, end) },
			"periodEnd: the window ends at "+rfc(end)+", after this transaction")
	})
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// waitUntil sleeps until at.
func waitUntil(t *testing.T, at time.Time) {
	t.Helper()
	if d := time.Until(at); d > 0 {
		t.Logf("waiting %s until %s", d.Round(time.Second), rfc(at))
		time.Sleep(d)
	}
}

// deployConfig is the organizations' deploy configuration, as the operator
// gives it to Configure.
func deployConfig(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(nw.DeployConfigPath("provider"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// forgedConfig is the deploy configuration with OtherOrgMSP as the issuer.
func forgedConfig(t *testing.T, cfg string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	m["issuer_msp_id"] = "OtherOrgMSP"
	out, _ := json.Marshal(m)
	return string(out)
}

// forgedOrgConfig: ClientOrg runs its refund server with a configuration that
// makes OtherOrgMSP the issuer. Its own peer then refuses everything (the file
// is not the recorded one), and ProviderOrg's peer refuses what its file does
// not allow: neither Configure with the forged file nor a mint by another
// organization's admin gets both endorsements.
func forgedOrgConfig(t *testing.T, forged string) {
	path := nw.DeployConfigPath("client")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	restart := func(content []byte) {
		t.Helper()
		if err := nw.StopServer("refund", "client"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := nw.StartServer("refund", "client"); err != nil {
			t.Fatal(err)
		}
	}
	restart([]byte(forged))
	defer restart(orig)
	// Each organization's peer alone: ProviderOrg's refuses what its file
	// does not allow, ClientOrg's refuses everything while its file is not the
	// recorded one.
	refused(t, func() error { return submitTo(otherAdmin, "ProviderOrgMSP", "refund", "Mint", "other", "1000") },
		"ProviderOrgMSP: chaincode response 500, only an admin of the issuer ProviderOrgMSP may mint", "is not a member of ProviderOrgMSP")
	refused(t, func() error { return submitTo(otherAdmin, "ClientOrgMSP", "refund", "Mint", "other", "1000") },
		"ClientOrgMSP: chaincode response 500, this peer's deploy configuration")
	refused(t, func() error { return submitTo(clientAdmin, "ProviderOrgMSP", "refund", "Configure", forged) },
		"ProviderOrgMSP: chaincode response 500, configJSON: its digest")
	// ClientOrg's peer endorses recording its own forged file, but the
	// endorsement policy needs ProviderOrg's peer too: the transaction is
	// invalidated at commit and changes nothing.
	refusedAtCommit(t, func() error { return submitTo(clientAdmin, "ClientOrgMSP", "refund", "Configure", forged) },
		"ENDORSEMENT_POLICY_FAILURE")
}
