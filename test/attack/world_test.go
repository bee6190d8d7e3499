//go:build integration

package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gwclient "github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/test/harness"
)

// world is what the suite knows exists on the ledger: the wallets it
// opened, the escrows the SLAs paid and the money minted. Every attack is
// run between two snapshots of it, which must be equal.
type world struct {
	minted  int64
	wallets []string
	escrows [][2]string // (SLA id, period start)
	slas    []string
	// enclaveSLAs are read through the enclave (GetAgreementStatus).
	enclaveSLAs []string
}

var w = &world{}

// snapshot is everything an attack could change, as read back from the
// peers: the block heights of both peers (a refused endorsement commits no
// block), every wallet, escrow and SLA record, the enclave registry's current
// enclave, the recorded deploy configurations and the enclave's view of its
// SLAs.
type snapshot struct {
	Heights  map[string]uint64
	Wallets  map[string]string
	Escrows  map[string]string
	SLAs     map[string]string
	Registry string
	Configs  map[string]string
	Enclave  map[string]string
}

// read returns a query's answer, or its error text: both are compared.
func read(who, cc, fn string, args ...string) string {
	c, err := nw.Contract(who, cc)
	if err != nil {
		return "contract: " + err.Error()
	}
	out, err := c.EvaluateWithContext(context.Background(), fn, gwclient.WithArguments(args...))
	if err != nil {
		return "error: " + fabnet.ErrorText(err)
	}
	return string(out)
}

func (w *world) snapshot(t *testing.T) snapshot {
	t.Helper()
	s := snapshot{Heights: map[string]uint64{}, Wallets: map[string]string{}, Escrows: map[string]string{},
		SLAs: map[string]string{}, Configs: map[string]string{}, Enclave: map[string]string{}}
	for _, org := range []string{"provider", "client"} {
		h, err := nw.Height(org)
		if err != nil {
			t.Fatalf("height of %s's peer: %v", org, err)
		}
		s.Heights[org] = h
	}
	for _, a := range w.wallets {
		s.Wallets[a] = read("issuer", "refund", "BalanceOf", a)
	}
	for _, e := range w.escrows {
		s.Escrows[e[0]+"/"+e[1]] = read("provider", "refund", "GetEscrow", e[0], e[1])
	}
	for _, id := range w.slas {
		s.SLAs[id] = readSLA("provider", id)
	}
	s.Registry = read("provider", "ercc", "QueryEnclave", "slaenclave")
	for _, cc := range []string{"agreement", "refund", "ercc"} {
		var v struct {
			Recorded *struct {
				Digest string `json:"digest"`
			} `json:"recorded"`
		}
		raw := read("provider", cc, "GetConfig")
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			s.Configs[cc] = raw
		} else if v.Recorded != nil {
			s.Configs[cc] = v.Recorded.Digest
		}
	}
	for _, id := range w.enclaveSLAs {
		out, err := enclaveClient(t, "provider").Query(context.Background(), "GetAgreementStatus", id)
		if err != nil {
			s.Enclave[id] = "error: " + fabnet.ErrorText(err)
		} else {
			s.Enclave[id] = string(out)
		}
	}
	return s
}

// conserved checks that the money in wallets and escrow is the money minted.
func (w *world) conserved(t *testing.T) {
	t.Helper()
	var total int64
	for _, a := range w.wallets {
		var acc struct {
			Balance int64 `json:"balance"`
		}
		raw := read("issuer", "refund", "BalanceOf", a)
		if err := json.Unmarshal([]byte(raw), &acc); err != nil {
			t.Fatalf("balance of %s: %s", a, raw)
		}
		total += acc.Balance
	}
	for _, e := range w.escrows {
		var esc struct {
			Held int64 `json:"held"`
		}
		raw := read("provider", "refund", "GetEscrow", e[0], e[1])
		if err := json.Unmarshal([]byte(raw), &esc); err != nil {
			t.Fatalf("escrow %s/%s: %s", e[0], e[1], raw)
		}
		total += esc.Held
	}
	if total != w.minted {
		t.Fatalf("money is not conserved: wallets + escrow = %d, minted %d", total, w.minted)
	}
}

// refused runs attack, which must fail with an error containing every part
// of want (the chaincode's own message), and checks that nothing changed and
// money is conserved.
func refused(t *testing.T, attack func() error, want ...string) {
	t.Helper()
	before := w.snapshot(t)
	err := attack()
	if err == nil {
		t.Fatalf("the attack succeeded; want a refusal containing %q", want)
	}
	msg := fabnet.ErrorText(err)
	for _, p := range want {
		if !strings.Contains(msg, p) {
			t.Fatalf("refusal:\n%s\nwant it to contain %q", msg, p)
		}
	}
	t.Logf("refused: %s", msg)
	// A transaction that reached the orderer would commit within the batch
	// timeout (250 ms): wait a little before reading back.
	time.Sleep(500 * time.Millisecond)
	after := w.snapshot(t)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused attack changed the ledger:\nbefore %+v\nafter  %+v", before, after)
	}
	w.conserved(t)
}

// submit is a transaction as the named identity, waiting for its commit.
func submit(who, cc, fn string, args ...string) error {
	c, err := nw.Contract(who, cc)
	if err != nil {
		return err
	}
	_, err = c.SubmitWithContext(context.Background(), fn, gwclient.WithArguments(args...))
	return err
}

// The SLA transactions of the agreement chaincode: endorsed by the SLA's
// provider's and client's organizations only, with the document as
// transient data when withDoc (harness.SLAOptions).

func slaOptions(t *testing.T, s *testSLA, withDoc bool, args ...string) []gwclient.ProposalOption {
	t.Helper()
	opts, err := harness.SLAOptions([]byte(s.doc), withDoc, args...)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// submitSLA is submit for a transaction of the SLA s.
func submitSLA(t *testing.T, who string, s *testSLA, withDoc bool, fn string, args ...string) error {
	t.Helper()
	c, err := nw.Contract(who, "agreement")
	if err != nil {
		return err
	}
	_, err = c.SubmitWithContext(context.Background(), fn, slaOptions(t, s, withDoc, args...)...)
	return err
}

// submitSLAAs is submitSLA with the transaction timestamp the client chose
// (forged, see forgeTimestamp).
func submitSLAAs(t *testing.T, who string, at time.Time, s *testSLA, withDoc bool, fn string, args ...string) error {
	t.Helper()
	gw, err := nw.Gateway(who)
	if err != nil {
		t.Fatal(err)
	}
	_, key := nw.UserKey(t, who)
	return submitAt(context.Background(), gw, key, nw.Info.Channel, "agreement", at, fn, slaOptions(t, s, withDoc, args...)...)
}

// mustSLA is must for a transaction of the SLA s.
func mustSLA(t *testing.T, who string, s *testSLA, withDoc bool, fn string, args ...string) []byte {
	t.Helper()
	out, err := nw.SubmitSLA(who, fn, []byte(s.doc), withDoc, args...)
	if err != nil {
		t.Fatalf("agreement.%s as %s: %s", fn, who, fabnet.ErrorText(err))
	}
	return out
}

// readSLA is read of GetSLA, evaluated on a peer of who's organization.
func readSLA(who, id string) string {
	out, err := nw.GetSLA(who, id)
	if err != nil {
		return "error: " + fabnet.ErrorText(err)
	}
	return string(out)
}

// must runs a transaction that has to succeed and waits until both peers
// have committed it.
func must(t *testing.T, who, cc, fn string, args ...string) []byte {
	t.Helper()
	out, err := nw.SubmitAndSync(who, cc, fn, args...)
	if err != nil {
		t.Fatalf("%s.%s as %s: %s", cc, fn, who, fabnet.ErrorText(err))
	}
	return out
}

// idOf is the identity string the chaincodes print for a network identity.
func idOf(t *testing.T, who string) string {
	t.Helper()
	out, err := nw.CLI("identity", "--as", who, "--json")
	if err != nil {
		t.Fatalf("slasa identity --as %s: %v", who, err)
	}
	var v struct {
		Party struct {
			MSPID   string `json:"msp_id"`
			Subject string `json:"subject"`
			Issuer  string `json:"issuer"`
		} `json:"party"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("slasa identity --as %s: %s", who, out)
	}
	return fmt.Sprintf("%s/%s (issuer %s)", v.Party.MSPID, v.Party.Subject, v.Party.Issuer)
}

// refusedAtCommit is refused for an attack whose transaction is endorsed by
// some peers but invalidated at commit (an endorsement policy the attacker
// could not satisfy): exactly one block is added, and nothing else changes.
func refusedAtCommit(t *testing.T, attack func() error, want ...string) {
	t.Helper()
	before := w.snapshot(t)
	err := attack()
	if err == nil {
		t.Fatalf("the attack succeeded; want it invalidated at commit (%q)", want)
	}
	msg := fabnet.ErrorText(err)
	for _, p := range want {
		if !strings.Contains(msg, p) {
			t.Fatalf("refusal:\n%s\nwant it to contain %q", msg, p)
		}
	}
	t.Logf("invalidated at commit: %s", msg)
	if err := nw.WaitForBlock(before.Heights["provider"], time.Minute); err != nil {
		t.Fatal(err)
	}
	after := w.snapshot(t)
	for org, h := range before.Heights {
		if after.Heights[org] != h+1 {
			t.Fatalf("%s's peer went from block height %d to %d; want one (invalid) block more", org, h, after.Heights[org])
		}
	}
	after.Heights = before.Heights
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("an invalidated transaction changed the ledger:\nbefore %+v\nafter  %+v", before, after)
	}
	w.conserved(t)
}

// submitTo is submit endorsed only by the peers of the given organization.
func submitTo(who, org, cc, fn string, args ...string) error {
	c, err := nw.Contract(who, cc)
	if err != nil {
		return err
	}
	ctx := context.Background()
	p, err := c.NewProposal(fn, gwclient.WithArguments(args...), gwclient.WithEndorsingOrganizations(org))
	if err != nil {
		return err
	}
	return endorseAndCommit(ctx, p)
}
