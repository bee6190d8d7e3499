// Package cctest is the test fixture shared by the chaincode unit tests: an
// in-memory channel (fabricfake.World) with the agreement and refund
// chaincodes, a fake enclave registry, the identities of the native network
// and a test enclave key.
package cctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/chaincode/refund/refund"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Names of the chaincodes on the fake channel.
const (
	Agreement = "agreement"
	Refund    = "refund"
	Registry  = "ercc"
	Enclave   = "slasa-monitor"
)

// Net is a fake channel with both chaincodes deployed and configured.
type Net struct {
	T     testing.TB
	World *fabricfake.World
	// Identities of the native network.
	Provider, Logger, Issuer, Client *fabricfake.Identity
	// Other is a ProviderOrg identity that is none of the parties.
	Other *fabricfake.Identity
	// Stranger is an identity of a third organization.
	Stranger             *fabricfake.Identity
	ProviderCA, ClientCA *fabricfake.CA
	EnclaveKey           *ecdsa.PrivateKey
	EnclaveID            string
	Registrations        map[string]string // chaincode -> registration JSON served by the fake ercc
}

// New deploys the chaincodes, registers a test enclave for Enclave and
// configures the refund chaincode as the issuer.
func New(t testing.TB) *Net {
	t.Helper()
	pca, cca, oca := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP"), fabricfake.MustNewCA("OtherOrgMSP")
	n := &Net{
		T: t, World: fabricfake.NewWorld(), ProviderCA: pca, ClientCA: cca,
		Provider:      pca.MustIssue("provider@providerorg.slasa.local", "client"),
		Logger:        pca.MustIssue("logger@providerorg.slasa.local", "client"),
		Issuer:        pca.MustIssue("issuer@providerorg.slasa.local", "client"),
		Other:         pca.MustIssue("other@providerorg.slasa.local", "client"),
		Client:        cca.MustIssue("client@clientorg.slasa.local", "client"),
		Stranger:      oca.MustIssue("stranger@otherorg.slasa.local", "client"),
		Registrations: map[string]string{},
	}
	ag, err := contractapi.NewChaincode(&agreement.Contract{})
	if err != nil {
		t.Fatalf("agreement chaincode: %v", err)
	}
	rf, err := contractapi.NewChaincode(&refund.Contract{})
	if err != nil {
		t.Fatalf("refund chaincode: %v", err)
	}
	n.World.Deploy(Agreement, ag)
	n.World.Deploy(Refund, rf)
	n.World.Deploy(Registry, &fakeRegistry{n: n})
	n.EnclaveKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n.EnclaveID, err = verdict.EnclaveIDOf(&n.EnclaveKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	n.Register(Enclave, &n.EnclaveKey.PublicKey)
	n.MustSubmit(n.Issuer, Refund, "Configure", "ProviderOrgMSP", Enclave, Agreement)
	return n
}

// Register makes the fake registry serve pub as the enclave of chaincode.
func (n *Net) Register(chaincode string, pub *ecdsa.PublicKey) {
	vk, err := credentials.MarshalPublicKey(pub)
	if err != nil {
		n.T.Fatal(err)
	}
	id, _ := verdict.EnclaveIDOf(pub)
	reg := credentials.Record{
		Chaincode: chaincode, EnclaveID: id, EnclaveVK: vk, ChaincodeEK: vk,
		PeerMSPID: "ProviderOrgMSP", Endpoint: "localhost:7051", AttestationType: "simulated",
		ChaincodeVersion: "1.0", ChaincodeSequence: 1, Channel: "slasa",
	}
	data, _ := json.Marshal(reg)
	n.Registrations[chaincode] = string(data)
}

type fakeRegistry struct{ n *Net }

func (r *fakeRegistry) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (r *fakeRegistry) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	if fn != "QueryEnclave" || len(args) != 1 {
		return shim.Error("unknown function")
	}
	reg, ok := r.n.Registrations[args[0]]
	if !ok {
		return &peer.Response{Status: 404, Message: fmt.Sprintf("no enclave registered for %s", args[0])}
	}
	return shim.Success([]byte(reg))
}

// Submit runs a transaction.
func (n *Net) Submit(id *fabricfake.Identity, cc, fn string, args ...string) fabricfake.Result {
	return n.World.Submit(id, cc, fn, args...)
}

// MustSubmit runs a transaction that must succeed and returns its payload.
func (n *Net) MustSubmit(id *fabricfake.Identity, cc, fn string, args ...string) string {
	n.T.Helper()
	r := n.World.Submit(id, cc, fn, args...)
	if !r.OK() {
		n.T.Fatalf("%s.%s(%s): %s", cc, fn, strings.Join(args, ", "), r.Message)
	}
	return string(r.Payload)
}

// MustEvaluate runs a query that must succeed and returns its payload.
func (n *Net) MustEvaluate(id *fabricfake.Identity, cc, fn string, args ...string) string {
	n.T.Helper()
	r := n.World.Evaluate(id, cc, fn, args...)
	if !r.OK() {
		n.T.Fatalf("%s.%s(%s): %s", cc, fn, strings.Join(args, ", "), r.Message)
	}
	return string(r.Payload)
}

// ExpectError runs a transaction that must fail with exactly msg and must
// change no state.
func (n *Net) ExpectError(id *fabricfake.Identity, cc, fn string, msg string, args ...string) {
	n.T.Helper()
	before := n.World.Snapshot()
	r := n.World.Submit(id, cc, fn, args...)
	if r.OK() {
		n.T.Fatalf("%s.%s succeeded, want error %q", cc, fn, msg)
	}
	if r.Message != msg {
		n.T.Fatalf("%s.%s error:\n got %q\nwant %q", cc, fn, r.Message, msg)
	}
	if !sameState(before, n.World.Snapshot()) {
		n.T.Fatalf("%s.%s failed but changed the state", cc, fn)
	}
}

// ExpectErrorPrefix is ExpectError for errors whose tail comes from another
// package (the SLA validator): the message must start with prefix.
func (n *Net) ExpectErrorPrefix(id *fabricfake.Identity, cc, fn string, prefix string, args ...string) {
	n.T.Helper()
	before := n.World.Snapshot()
	r := n.World.Submit(id, cc, fn, args...)
	if r.OK() {
		n.T.Fatalf("%s.%s succeeded, want error starting %q", cc, fn, prefix)
	}
	if !strings.HasPrefix(r.Message, prefix) {
		n.T.Fatalf("%s.%s error:\n got %q\nwant prefix %q", cc, fn, r.Message, prefix)
	}
	if !sameState(before, n.World.Snapshot()) {
		n.T.Fatalf("%s.%s failed but changed the state", cc, fn)
	}
}

func sameState(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for ns, kv := range a {
		if len(kv) != len(b[ns]) {
			return false
		}
		for k, v := range kv {
			if b[ns][k] != v {
				return false
			}
		}
	}
	return true
}

// ExampleSLA returns the repository's example SLA with its validity set to
// calendar year 2026 (the fake world starts at 2026-01-01) and the given id.
func ExampleSLA(t testing.TB, id string) *sla.SLA {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s.ID = id
	s.Validity = sla.Validity{Start: "2026-01-01T00:00:00Z", End: "2027-01-01T00:00:00Z"}
	return s
}

// Doc encodes an SLA as a document and returns it with its digest.
func Doc(t testing.TB, s *sla.SLA) (string, [32]byte) {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(data)
	if err != nil {
		t.Fatalf("example SLA: %v", err)
	}
	return string(data), d
}

// Sign signs a digest with id's key and returns it base64 encoded.
func Sign(t testing.TB, id *fabricfake.Identity, digest [32]byte) string {
	t.Helper()
	sig, err := signedsla.Sign(digest, id.Key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// Hex returns the digest in hex.
func Hex(d [32]byte) string { return hex.EncodeToString(d[:]) }

// Fund opens the standard wallets (client, provider, collateral when the
// SLA has one) and mints amount into the client's.
func (n *Net) Fund(s *sla.SLA, amount int64) {
	n.T.Helper()
	n.openIfMissing(n.Client, s.Parties.Client.Wallet)
	n.openIfMissing(n.Provider, s.Parties.Provider.Wallet)
	if s.Consequences.CollateralWallet != "" {
		n.openIfMissing(n.Provider, s.Consequences.CollateralWallet)
	}
	if amount > 0 {
		n.MustSubmit(n.Issuer, Refund, "Mint", s.Parties.Client.Wallet, fmt.Sprint(amount))
	}
}

func (n *Net) openIfMissing(id *fabricfake.Identity, wallet string) {
	k, _ := shim.CreateCompositeKey("account", []string{wallet})
	if n.World.State(Refund, k) == nil {
		n.MustSubmit(id, Refund, "OpenAccount", wallet)
	}
}

// Activate proposes and accepts s (funding the client with fund first) and
// returns the digest.
func (n *Net) Activate(s *sla.SLA, fund int64) [32]byte {
	n.T.Helper()
	n.Fund(s, fund)
	doc, d := Doc(n.T, s)
	n.MustSubmit(n.Provider, Agreement, "ProposeSLA", doc, Sign(n.T, n.Provider, d))
	n.MustSubmit(n.Client, Agreement, "AcceptSLA", s.ID, Hex(d), Sign(n.T, n.Client, d))
	return d
}

// Balance returns a wallet's balance (read as the issuer).
func (n *Net) Balance(wallet string) int64 {
	n.T.Helper()
	var a refund.Account
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Issuer, Refund, "BalanceOf", wallet)), &a); err != nil {
		n.T.Fatal(err)
	}
	return a.Balance
}

// Verdict returns a verdict on (s, period) with the given credit and
// penalty, not yet signed.
func (n *Net) Verdict(s *sla.SLA, digest [32]byte, period, periodEnd string, creditBPS, credit, penalty int64) verdict.Verdict {
	return verdict.Verdict{
		SLAID: s.ID, SLADigest: Hex(digest), Period: period, PeriodEnd: periodEnd,
		Violated: creditBPS > 0 || credit > 0 || penalty > 0, CreditBPS: creditBPS, CreditAmount: credit,
		PenaltyAmount: penalty, Currency: s.Price.Currency, ReportDigest: strings.Repeat("ab", 32),
		Chaincode: Enclave, EnclaveID: n.EnclaveID,
	}
}

// SignVerdict signs v with key and returns the signed verdict's JSON.
func SignVerdict(t testing.TB, v verdict.Verdict, key *ecdsa.PrivateKey) string {
	t.Helper()
	s, err := verdict.Sign(v, key)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(s)
	return string(data)
}

// AnchorSig signs an anchor as id and returns it base64 encoded.
func AnchorSig(t testing.TB, id *fabricfake.Identity, a signedsla.Anchor) string {
	t.Helper()
	sum := sha256.Sum256(a.SigningBytes())
	sig, err := signedsla.Sign(sum, id.Key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// At sets the time of the next transaction.
func (n *Net) At(ts string) {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		n.T.Fatal(err)
	}
	n.World.Now = t
}
