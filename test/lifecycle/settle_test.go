//go:build integration

package lifecycle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/verdict"
)

// evaluate evaluates a query as who on who's own organization's peer.
func evaluate(t *testing.T, who, cc, fn string, args ...string) string {
	t.Helper()
	return string(net.MustEvaluate(t, who, cc, fn, args...))
}

func decode[T any](t *testing.T, doc string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, doc, err)
	}
	return v
}

// money is the state a settlement may change: both wallets and the escrow of both periods.
type money struct {
	Client, Provider int64
	Held1, Held2     int64
	Status1, Status2 string
}

func readMoney(t *testing.T, slaID, p1, p2 string) money {
	t.Helper()
	e1 := decode[refund.Escrow](t, evaluate(t, "client", "refund", "GetEscrow", slaID, p1))
	e2 := decode[refund.Escrow](t, evaluate(t, "provider", "refund", "GetEscrow", slaID, p2))
	return money{
		Client:   decode[refund.Account](t, evaluate(t, "client", "refund", "BalanceOf", "client")).Balance,
		Provider: decode[refund.Account](t, evaluate(t, "provider", "refund", "BalanceOf", "provider")).Balance,
		Held1:    e1.Held, Held2: e2.Held, Status1: e1.Status, Status2: e2.Status,
	}
}

func expectMoney(t *testing.T, slaID, p1, p2 string, want money) {
	t.Helper()
	if got := readMoney(t, slaID, p1, p2); got != want {
		t.Fatalf("money\n got %+v\nwant %+v", got, want)
	}
}

func expectScore(t *testing.T, fn string, want refund.Score, args ...string) {
	t.Helper()
	// The reputation is readable by every member: read it through both organizations.
	for _, who := range []string{"client", "provider"} {
		if got := decode[refund.Score](t, evaluate(t, who, "refund", fn, args...)); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s as %s\n got %+v\nwant %+v", fn, who, got, want)
		}
	}
}

// months is a score's months from one entry per settled period (Month,
// Periods 1, Violated 0 or 1, Credits), in month order, the periods of one
// month added up.
func months(periods ...refund.MonthScore) []refund.MonthScore {
	var out []refund.MonthScore
	for _, p := range periods {
		if n := len(out); n > 0 && out[n-1].Month == p.Month {
			out[n-1].Periods += p.Periods
			out[n-1].Violated += p.Violated
			out[n-1].Credits += p.Credits
		} else {
			out = append(out, p)
		}
		last := &out[len(out)-1]
		last.ComplianceBPS = (last.Periods - last.Violated) * 10000 / last.Periods
	}
	return out
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signVerdict(t *testing.T, v verdict.Verdict, key *ecdsa.PrivateKey) string {
	t.Helper()
	s, err := verdict.Sign(v, key)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

func enclaveID(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	id, err := verdict.EnclaveIDOf(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// simulatedCredentials makes the credentials a test enclave with key registers for chaincode, attesting
// the deploy configuration digest.
func simulatedCredentials(t *testing.T, key *ecdsa.PrivateKey, chaincode, version string, sequence int64, peerMSP, digest string) string {
	t.Helper()
	vk, err := credentials.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, credentials.MinRSABits)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := credentials.MarshalPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := credentials.NewSimulated(credentials.AttestedData{
		Channel: net.Info.Channel, Chaincode: chaincode, ChaincodeVersion: version, ChaincodeSequence: sequence,
		PeerMSPID: peerMSP, Endpoint: net.Info.Orgs["provider"].Peer.Address, EnclaveVK: vk, ChaincodeEK: ek,
		ConfigDigest: digest,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// testEnclaveKey is the registered test enclave.
type testEnclaveKey struct {
	key    *ecdsa.PrivateKey
	id     string
	digest string // the deploy configuration digest it attests
}

// registerEnclave registers a fresh test enclave key for testenclave in ercc, as an admin of the
// enclave host (ProviderOrg), after the registry refused the wrong callers and credentials.
func registerEnclave(t *testing.T) testEnclaveKey {
	t.Helper()
	const provider = "ProviderOrgMSP"
	cfg, err := net.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Chaincodes.Enclave != testEnclave || cfg.Enclave.HostMSPID != provider {
		t.Fatalf("deploy configuration: enclave chaincode %q host %q, want %q hosted by %s", cfg.Chaincodes.Enclave, cfg.Enclave.HostMSPID, testEnclave, provider)
	}
	// The test enclave: a key bound to the committed definition of testenclave (deploy.sh uses the
	// sequence as the version), registered by an admin of the hosting organization.
	dep, ok := net.Info.Chaincodes[testEnclave]
	if !ok {
		t.Fatalf("%s is not in network.json's chaincodes", testEnclave)
	}
	seq, version := int64(dep.Sequence), strconv.Itoa(dep.Sequence)
	key := newKey(t)
	creds := simulatedCredentials(t, key, testEnclave, version, seq, provider, digest)
	notHost := "RegisterEnclave: only an admin of the enclave host ProviderOrgMSP may register an enclave: "
	mustFail(t, "client-admin", "ercc", "RegisterEnclave",
		notHost+fmt.Sprintf("the caller %s is not a member of ProviderOrgMSP", net.ID(t, "client-admin")), creds)
	mustFail(t, "provider", "ercc", "RegisterEnclave",
		notHost+fmt.Sprintf(`the caller %s is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, net.ID(t, "provider")), creds)
	mustFail(t, "provider-admin", "ercc", "RegisterEnclave",
		`attested_data.peer_msp_id: "ClientOrgMSP" is not the enclave host "ProviderOrgMSP" of the deploy configuration`,
		simulatedCredentials(t, key, testEnclave, version, seq, "ClientOrgMSP", digest))
	mustFail(t, "provider-admin", "ercc", "RegisterEnclave",
		fmt.Sprintf(`attested_data.chaincode_version: "%d", but the committed definition of "testenclave" has version %q`, seq+1, version),
		simulatedCredentials(t, key, testEnclave, strconv.FormatInt(seq+1, 10), seq, provider, digest))
	mustFail(t, "provider-admin", "ercc", "RegisterEnclave",
		`attested_data.chaincode: "nosuchenclave" is not the enclave chaincode "testenclave" of the deploy configuration`,
		simulatedCredentials(t, key, "nosuchenclave", version, seq, provider, digest))
	otherDigest := strings.Repeat("0", 64)
	mustFail(t, "provider-admin", "ercc", "RegisterEnclave",
		fmt.Sprintf("attested_data.config_digest: the enclave was initialised with deploy configuration %s, not this peer's %s", otherDigest, digest),
		simulatedCredentials(t, key, testEnclave, version, seq, provider, otherDigest))
	submit(t, "provider-admin", "ercc", "RegisterEnclave", creds)
	var rec credentials.Record
	if err := json.Unmarshal([]byte(evaluate(t, "client", "ercc", "QueryEnclave", testEnclave)), &rec); err != nil {
		t.Fatal(err)
	}
	eid := enclaveID(t, key)
	if rec.EnclaveID != eid || rec.AttestationType != credentials.AttestationSimulated || rec.ChaincodeSequence != seq ||
		rec.ConfigDigest != digest || rec.RegisteredBy != net.ID(t, "provider-admin").String() {
		t.Fatalf("registered enclave %+v, want id %s registered by %s", rec, eid, net.ID(t, "provider-admin"))
	}
	mustFail(t, "provider-admin", "ercc", "RegisterEnclave", fmt.Sprintf("enclave %s is already registered for chaincode %q", eid, testEnclave), creds)
	return testEnclaveKey{key: key, id: eid, digest: digest}
}

// settleCase is the SLA TestLifecycle accepted, renewed and anchored: periods p1 (ended, anchored by a1
// and a2) and p2 (ends at p2End; a3 anchors it).
type settleCase struct {
	id, hexd   string
	p1, p1End  time.Time
	p2, p2End  time.Time
	a1, a2, a3 signedsla.Anchor
	// doc is the SLA document.
	doc []byte
}

// testSettle settles hand-made verdicts of the test enclave for the two paid periods of the SLA.
func testSettle(t *testing.T, enc testEnclaveKey, c settleCase) {
	const provider = "ProviderOrgMSP"
	id, hexd, key, eid := c.id, c.hexd, enc.key, enc.id
	p1, p2 := c.p1.Format(time.RFC3339), c.p2.Format(time.RFC3339)
	before := money{Client: 800000, Provider: 0, Held1: 100000, Held2: 100000, Status1: refund.EscrowHeld, Status2: refund.EscrowHeld}
	expectMoney(t, id, p1, p2, before)

	report := sha256.Sum256([]byte("detailed report of " + id))
	violated := verdict.Verdict{
		SLAID: id, SLADigest: hexd, Period: p1, PeriodEnd: c.p1End.Format(time.RFC3339), Violated: true, CreditBPS: 3000, CreditAmount: 30000,
		Currency: "USD", ReportDigest: hex.EncodeToString(report[:]), BatchSeq: c.a2.Seq, BatchCID: c.a2.CID,
		Chaincode: testEnclave, EnclaveID: eid,
	}
	met := verdict.Verdict{
		SLAID: id, SLADigest: hexd, Period: p2, PeriodEnd: c.p2End.Format(time.RFC3339), Currency: "USD",
		ReportDigest: hex.EncodeToString(report[:]), BatchSeq: c.a3.Seq, BatchCID: c.a3.CID, Chaincode: testEnclave, EnclaveID: eid,
	}

	// Rejected verdicts change nothing.
	forger := newKey(t)
	ownID := violated
	ownID.EnclaveID = enclaveID(t, forger)
	otherCC := violated
	otherCC.Chaincode = "slasa-monitor"
	wrongDigest := violated
	wrongDigest.SLADigest = hex.EncodeToString(report[:])
	midBatch := violated
	midBatch.BatchSeq, midBatch.BatchCID = c.a1.Seq, c.a1.CID
	wrongCID := violated
	wrongCID.BatchCID = "bafyotherbatch"
	unanchored := violated
	unanchored.BatchSeq, unanchored.BatchCID = 9, "bafybatchnine"
	wrongOrg := fmt.Sprintf("verdicts of SLA %q are relayed by members of ProviderOrgMSP and ClientOrgMSP only, not by %s", id, net.ID(t, "other"))
	for _, tc := range []struct {
		name, verdict, want string
		who                 string // default client
	}{
		// First: it must run before the second period ends.
		{"a period that has not ended", signVerdict(t, met, key),
			fmt.Sprintf("verdict.period_end: period %s of SLA %q ends at %s, after this transaction", p2, id, met.PeriodEnd), ""},
		{"wrong org: a valid verdict relayed by OtherOrg", signVerdict(t, violated, key), wrongOrg, "other"},
		{"forged: signed by an unregistered key", signVerdict(t, violated, forger),
			"verdict: verdict signature does not verify with the enclave key", ""},
		{"forged: the forger's own enclave id", signVerdict(t, ownID, forger),
			fmt.Sprintf("verdict.enclave_id: %s is not the enclave %s pinned by SLA %q", ownID.EnclaveID, eid, id), ""},
		{"another enclave chaincode", signVerdict(t, otherCC, key),
			fmt.Sprintf(`verdict.chaincode: "slasa-monitor" is not the chaincode "testenclave" of the enclave pinned by SLA %q`, id), ""},
		{"another SLA digest", signVerdict(t, wrongDigest, key),
			fmt.Sprintf(`verdict.sla_digest: %s is not the digest of SLA %q (%s)`, wrongDigest.SLADigest, id, hexd), ""},
		{"a batch that does not end the period", signVerdict(t, midBatch, key),
			fmt.Sprintf("verdict.batch_seq: log batch 1 of SLA %q ends at %s, not at the period end %s", id, c.a1.PeriodEnd, violated.PeriodEnd), ""},
		{"another batch CID", signVerdict(t, wrongCID, key),
			fmt.Sprintf("verdict.batch_cid: bafyotherbatch is not the CID %s of log batch 2 of SLA %q", c.a2.CID, id), ""},
		{"a batch that is not anchored", signVerdict(t, unanchored, key),
			fmt.Sprintf("verdict.batch_seq: log batch 9 of SLA %q is not anchored", id), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := tc.who
			if who == "" {
				who = "client"
			} else if _, ok := net.Info.Orgs[who]; !ok {
				t.Skipf("the network has no %q organization (network.json orgs)", who)
			}
			mustFail(t, who, "refund", "SettleVerdict", tc.want, tc.verdict)
			expectMoney(t, id, p1, p2, before)
		})
	}

	if _, ok := net.Info.Orgs["other"]; ok {
		_, err := contract(t, "other", "refund").EvaluateTransaction("GetEscrow", id, p1)
		if want := fmt.Sprintf("escrow of SLA %q is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP", id); !strings.Contains(fabnet.ErrorText(err), want) {
			t.Fatalf("GetEscrow as other: %s, want %q", fabnet.ErrorText(err), want)
		}
	}

	// The accepted period, violated: 30% of the fee back to the client, the rest to the provider.
	good := signVerdict(t, violated, key)
	s := decode[refund.Settlement](t, submit(t, "client", "refund", "SettleVerdict", good))
	if s.Credit != 30000 || s.Released != 70000 || s.Refund != 30000 || !s.Violated || s.Fee != 100000 || s.EnclaveID != eid ||
		s.ProductID != "compute-region" || s.BatchSeq != c.a2.Seq || s.BatchCID != c.a2.CID || s.Chaincode != testEnclave {
		t.Fatalf("settlement %+v", s)
	}
	afterFirst := money{Client: 830000, Provider: 70000, Held1: 0, Held2: 100000, Status1: refund.EscrowSettled, Status2: refund.EscrowHeld}
	expectMoney(t, id, p1, p2, afterFirst)
	first := refund.MonthScore{Month: c.p1.UTC().Format("2006-01"), Tally: refund.Tally{Periods: 1, Violated: 1, Credits: 30000}}
	expectScore(t, "GetReputation", refund.Score{Provider: provider, Months: months(first), Tally: refund.Tally{Periods: 1, Violated: 1, Credits: 30000}}, provider, "", "")
	expectScore(t, "GetProductScore", refund.Score{Provider: provider, ProductID: "compute-region", Months: months(first), Tally: refund.Tally{Periods: 1, Violated: 1, Credits: 30000}}, provider, "compute-region", "", "")

	// Replays: the same verdict, and the same content signed again (another ECDSA signature), by either org.
	replayed := fmt.Sprintf("verdict.period: period %s of SLA %q is already settled (tx %s)", p1, id, s.TxID)
	for _, tc := range []struct{ name, who, verdict string }{
		{"replayed verdict", "client", good},
		{"re-signed verdict", "provider", signVerdict(t, violated, key)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustFail(t, tc.who, "refund", "SettleVerdict", replayed, tc.verdict)
			expectMoney(t, id, p1, p2, afterFirst)
		})
	}

	// The next period without violation, once it has ended and its last batch is anchored: no credit,
	// the whole fee to the provider.
	sleepUntil(t, "the second period has ended", c.p2End)
	submitSLA(t, "logger", c.doc, false, "AnchorLogBatch", anchorArgs(t, c.a3, "logger")...)
	s2 := decode[refund.Settlement](t, submit(t, "provider", "refund", "SettleVerdict", signVerdict(t, met, key)))
	if s2.Credit != 0 || s2.Released != 100000 || s2.Refund != 0 || s2.Violated || s2.BatchSeq != c.a3.Seq {
		t.Fatalf("settlement %+v", s2)
	}
	expectMoney(t, id, p1, p2, money{Client: 830000, Provider: 170000, Held1: 0, Held2: 0, Status1: refund.EscrowSettled, Status2: refund.EscrowSettled})
	both := months(first, refund.MonthScore{Month: c.p2.UTC().Format("2006-01"), Tally: refund.Tally{Periods: 1}})
	expectScore(t, "GetReputation", refund.Score{Provider: provider, Months: both, Tally: refund.Tally{Periods: 2, Violated: 1, Credits: 30000, ComplianceBPS: 5000}}, provider, "", "")
	expectScore(t, "GetProductScore", refund.Score{Provider: provider, ProductID: "compute-region", Months: both, Tally: refund.Tally{Periods: 2, Violated: 1, Credits: 30000, ComplianceBPS: 5000}}, provider, "compute-region", "", "")
}
