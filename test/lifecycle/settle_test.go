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
	"strconv"
	"strings"
	"testing"

	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
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
		if got := decode[refund.Score](t, evaluate(t, who, "refund", fn, args...)); got != want {
			t.Fatalf("%s as %s\n got %+v\nwant %+v", fn, who, got, want)
		}
	}
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

// simulatedCredentials makes the credentials a test enclave with key registers for chaincode.
func simulatedCredentials(t *testing.T, key *ecdsa.PrivateKey, chaincode, version string, sequence int64, peerMSP string) string {
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

// testSettle registers a test enclave in ercc and settles hand-made verdicts
// for the two paid periods of SLA id (digest hexd), accepted and anchored by
// TestLifecycle.
func testSettle(t *testing.T, id, hexd string) {
	const provider = "ProviderOrgMSP"
	// The enclave registry: configured once, by an organization admin only.
	mustFail(t, "provider", "ercc", "Configure",
		`caller "provider@providerorg.slasa.local" of ProviderOrgMSP is not an organization admin (certificate OU admin required)`, "simulated")
	submit(t, "provider-admin", "ercc", "Configure", "simulated")

	// The test enclave: a key bound to the committed definition of testenclave (deploy.sh uses the
	// sequence as the version), registered by the hosting organization.
	dep, ok := net.Info.Chaincodes[testEnclave]
	if !ok {
		t.Fatalf("%s is not in network.json's chaincodes", testEnclave)
	}
	seq, version := int64(dep.Sequence), strconv.Itoa(dep.Sequence)
	key := newKey(t)
	creds := simulatedCredentials(t, key, testEnclave, version, seq, provider)
	mustFail(t, "client-admin", "ercc", "RegisterEnclave",
		`attested_data.peer_msp_id: "ProviderOrgMSP", but the submitter belongs to "ClientOrgMSP"; an enclave is registered by its hosting organization`, creds)
	mustFail(t, "provider", "ercc", "RegisterEnclave",
		fmt.Sprintf(`attested_data.chaincode_version: "%d", but the committed definition of "testenclave" has version %q`, seq+1, version),
		simulatedCredentials(t, key, testEnclave, strconv.FormatInt(seq+1, 10), seq, provider))
	mustFail(t, "provider", "ercc", "RegisterEnclave",
		fmt.Sprintf(`attested_data.chaincode: no chaincode definition "nosuchenclave" on channel %q`, net.Info.Channel),
		simulatedCredentials(t, key, "nosuchenclave", version, seq, provider))
	submit(t, "provider", "ercc", "RegisterEnclave", creds)
	var rec credentials.Record
	if err := json.Unmarshal([]byte(evaluate(t, "client", "ercc", "QueryEnclave", testEnclave)), &rec); err != nil {
		t.Fatal(err)
	}
	eid := enclaveID(t, key)
	if rec.EnclaveID != eid || rec.AttestationType != credentials.AttestationSimulated || rec.ChaincodeSequence != seq {
		t.Fatalf("registered enclave %+v, want id %s", rec, eid)
	}

	// Two paid periods: the first (paid by AcceptSLA) and the next one (RenewSLA).
	type agreement struct {
		Status      string `json:"status"`
		LastPeriod  string `json:"last_period"`
		PaidThrough string `json:"paid_through"`
		PaidPeriods int64  `json:"paid_periods"`
	}
	var a agreement
	readSLA := func() { a = decode[agreement](t, evaluate(t, "client", "agreement", "GetSLA", id)) }
	readSLA()
	p1, p1End := a.LastPeriod, a.PaidThrough
	mustFail(t, "provider", "agreement", "RenewSLA", "only the SLA's client may renew it", id)
	submit(t, "client", "agreement", "RenewSLA", id)
	readSLA()
	p2, p2End := a.LastPeriod, a.PaidThrough
	if a.Status != "ACTIVE" || a.PaidPeriods != 2 || p2 != p1End {
		t.Fatalf("after RenewSLA: %+v (first period %s..%s)", a, p1, p1End)
	}
	before := money{Client: 800000, Provider: 0, Held1: 100000, Held2: 100000, Status1: refund.EscrowHeld, Status2: refund.EscrowHeld}
	expectMoney(t, id, p1, p2, before)

	report := sha256.Sum256([]byte("detailed report of " + id))
	violated := verdict.Verdict{
		SLAID: id, SLADigest: hexd, Period: p1, PeriodEnd: p1End, Violated: true, CreditBPS: 3000, CreditAmount: 30000,
		Currency: "USD", ReportDigest: hex.EncodeToString(report[:]), Chaincode: testEnclave, EnclaveID: eid,
	}

	// Rejected verdicts change nothing.
	forger := newKey(t)
	ownID := violated
	ownID.EnclaveID = enclaveID(t, forger)
	otherCC := violated
	otherCC.Chaincode = "slasa-monitor"
	wrongDigest := violated
	wrongDigest.SLADigest = hex.EncodeToString(report[:])
	wrongOrg := fmt.Sprintf("verdicts of SLA %q are relayed by members of ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP/other@otherorg.slasa.local", id)
	for _, tc := range []struct {
		name, verdict, want string
		who                 string // default client
	}{
		{"wrong org: a valid verdict relayed by OtherOrg", signVerdict(t, violated, key), wrongOrg, "other"},
		{"forged: signed by an unregistered key", signVerdict(t, violated, forger),
			"verdict: verdict signature does not verify with the enclave key", ""},
		{"forged: the forger's own enclave id", signVerdict(t, ownID, forger),
			fmt.Sprintf("verdict: verdict.enclave_id: %s is not the id of the registered enclave key (%s)", ownID.EnclaveID, eid), ""},
		{"another enclave chaincode", signVerdict(t, otherCC, key),
			`verdict.chaincode: "slasa-monitor" is not the trusted enclave chaincode "testenclave"`, ""},
		{"another SLA digest", signVerdict(t, wrongDigest, key),
			fmt.Sprintf(`verdict.sla_digest: %s is not the digest of SLA %q (%s)`, wrongDigest.SLADigest, id, hexd), ""},
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
	if s.Credit != 30000 || s.Released != 70000 || s.Refund != 30000 || !s.Violated || s.Fee != 100000 || s.EnclaveID != eid || s.ProductID != "compute-region" {
		t.Fatalf("settlement %+v", s)
	}
	afterFirst := money{Client: 830000, Provider: 70000, Held1: 0, Held2: 100000, Status1: refund.EscrowSettled, Status2: refund.EscrowHeld}
	expectMoney(t, id, p1, p2, afterFirst)
	expectScore(t, "GetReputation", refund.Score{Provider: provider, Periods: 1, Violated: 1, Credits: 30000}, provider)
	expectScore(t, "GetProductScore", refund.Score{Provider: provider, ProductID: "compute-region", Periods: 1, Violated: 1, Credits: 30000}, provider, "compute-region")

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

	// The next period without violation: no credit, the whole fee to the provider.
	met := verdict.Verdict{
		SLAID: id, SLADigest: hexd, Period: p2, PeriodEnd: p2End, Currency: "USD",
		ReportDigest: hex.EncodeToString(report[:]), Chaincode: testEnclave, EnclaveID: eid,
	}
	s2 := decode[refund.Settlement](t, submit(t, "provider", "refund", "SettleVerdict", signVerdict(t, met, key)))
	if s2.Credit != 0 || s2.Released != 100000 || s2.Refund != 0 || s2.Violated {
		t.Fatalf("settlement %+v", s2)
	}
	expectMoney(t, id, p1, p2, money{Client: 830000, Provider: 170000, Held1: 0, Held2: 0, Status1: refund.EscrowSettled, Status2: refund.EscrowSettled})
	expectScore(t, "GetReputation", refund.Score{Provider: provider, Periods: 2, Violated: 1, Credits: 30000, ComplianceBPS: 5000}, provider)
	expectScore(t, "GetProductScore", refund.Score{Provider: provider, ProductID: "compute-region", Periods: 2, Violated: 1, Credits: 30000, ComplianceBPS: 5000}, provider, "compute-region")
}
