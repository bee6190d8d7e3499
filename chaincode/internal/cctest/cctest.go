// Package cctest is the test fixture shared by the chaincode unit tests: an
// in-memory channel (fabricfake.World) with the agreement, refund and
// ticket chaincodes guarded by one organization's deploy configuration
// (internal/ccguard), a fake enclave registry that keeps every registration,
// the identities of the native network (and impostors of them) and a test
// enclave key.
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
	"github.com/slasa/slasa/chaincode/ticket/ticket"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Names of the chaincodes on the fake channel (those of
// fabricfake.DeployConfig).
const (
	Agreement = "agreement"
	Refund    = "refund"
	Ticket    = "ticket"
	Registry  = "ercc"
	Enclave   = "slaenclave"
)

// Start is the world time at which New deploys and configures the
// chaincodes: a month before the example SLA's validity starts, so that an
// SLA accepted without setting the time pays January 2026.
const Start = "2025-12-01T00:00:00Z"

// Net is a fake channel with both chaincodes deployed and configured.
type Net struct {
	T     testing.TB
	World *fabricfake.World
	// Config is the deploy configuration of every organization (ConfigJSON
	// its JSON); Guard the guard the deployed contracts run with.
	Config     *deploycfg.Config
	ConfigJSON string
	Guard      *ccguard.Guard
	// Clock is the endorsing peers' clock minus the world time: a positive
	// Clock makes every transaction look backdated by that much, a negative
	// one look future-dated.
	Clock time.Duration
	// Parties of the example SLA (NodeOU role client).
	Provider, Logger, Client *fabricfake.Identity
	// Issuer is issuer@providerorg.slasa.local with NodeOU role admin: an
	// admin of the issuer MSP (ProviderOrgMSP).
	Issuer *fabricfake.Identity
	// IssuerClient has the issuer's common name and CA but NodeOU role
	// client.
	IssuerClient *fabricfake.Identity
	// Admins (NodeOU role admin) of the three organizations; OtherOrg does
	// not approve the deploy configuration.
	ProviderAdmin, ClientAdmin, OtherAdmin *fabricfake.Identity
	// Other is a ProviderOrg client that is none of the parties; Stranger a
	// client of the third organization.
	Other, Stranger *fabricfake.Identity
	// Vendor and VendorAdmin are a client and an admin of VendorOrgMSP, the
	// third organization with a peer of NewThreeOrgs (nil otherwise).
	Vendor, VendorAdmin *fabricfake.Identity
	VendorCA            *fabricfake.CA
	// Vendor2 is another client of VendorOrgMSP (NewTickets).
	Vendor2 *fabricfake.Identity
	// The organizations' CAs. ProviderCA2 and ClientCA2 are second CAs of
	// ProviderOrgMSP and ClientOrgMSP (another name, both trusted roots of
	// their MSP), which can issue certificates with a party's common name.
	ProviderCA, ClientCA, OtherCA *fabricfake.CA
	ProviderCA2, ClientCA2        *fabricfake.CA
	// EnclaveKey is the key of the enclave registered by New, EnclaveID its
	// id.
	EnclaveKey *ecdsa.PrivateKey
	EnclaveID  string
	// Registry is the state of the fake enclave registry.
	Registry *FakeRegistry

	anchors map[string][]signedsla.Anchor
}

// New deploys the chaincodes with the deploy configuration of
// fabricfake.DeployConfig (ProviderOrg and ClientOrg approve it, ProviderOrg
// issues and hosts the enclave; the CAs of all three organizations and the
// second CAs are trusted), registers a test enclave for Enclave and records
// the configuration in both chaincodes as ProviderOrg's admin, at Start.
func New(t testing.TB) *Net {
	t.Helper()
	n := NewUnconfigured(t)
	n.MustSubmit(n.ProviderAdmin, Agreement, "Configure", n.ConfigJSON)
	n.MustSubmit(n.ProviderAdmin, Refund, "Configure", n.ConfigJSON)
	return n
}

// NewThreeOrgs is New with a third organization with a peer, VendorOrgMSP
// (Vendor, VendorAdmin), in the deploy configuration: the design's default
// network (ProviderOrg, ClientOrg, VendorOrg with peers; OtherOrg without).
func NewThreeOrgs(t testing.TB) *Net {
	t.Helper()
	n := newNet(t, true)
	n.MustSubmit(n.ProviderAdmin, Agreement, "Configure", n.ConfigJSON)
	n.MustSubmit(n.ProviderAdmin, Refund, "Configure", n.ConfigJSON)
	return n
}

// NewUnconfigured is New without the Configure transactions.
func NewUnconfigured(t testing.TB) *Net {
	t.Helper()
	return newNet(t, false)
}

func newNet(t testing.TB, vendor bool) *Net {
	t.Helper()
	pca, cca, oca := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP"), fabricfake.MustNewCA("OtherOrgMSP")
	pca2 := fabricfake.MustNewNamedCA("ProviderOrgMSP", "ca2.providerorg.slasa.local", "providerorg.slasa.local")
	cca2 := fabricfake.MustNewNamedCA("ClientOrgMSP", "ca2.clientorg.slasa.local", "clientorg.slasa.local")
	n := &Net{
		T: t, World: fabricfake.NewWorld(),
		ProviderCA: pca, ClientCA: cca, OtherCA: oca, ProviderCA2: pca2, ClientCA2: cca2,
		Provider:      pca.MustIssue("provider@providerorg.slasa.local", "client"),
		Logger:        pca.MustIssue("logger@providerorg.slasa.local", "client"),
		Issuer:        pca.MustIssue("issuer@providerorg.slasa.local", "admin"),
		IssuerClient:  pca.MustIssue("issuer@providerorg.slasa.local", "client"),
		ProviderAdmin: pca.MustIssue("Admin@providerorg.slasa.local", "admin"),
		Other:         pca.MustIssue("other@providerorg.slasa.local", "client"),
		Client:        cca.MustIssue("client@clientorg.slasa.local", "client"),
		ClientAdmin:   cca.MustIssue("Admin@clientorg.slasa.local", "admin"),
		Stranger:      oca.MustIssue("stranger@otherorg.slasa.local", "client"),
		OtherAdmin:    oca.MustIssue("Admin@otherorg.slasa.local", "admin"),
		Registry:      &FakeRegistry{Records: map[string]map[string]credentials.Record{}, Current: map[string]string{}},
		anchors:       map[string][]signedsla.Anchor{},
	}
	n.At(Start)
	orgs := []*fabricfake.CA{pca, cca}
	if vendor {
		n.VendorCA = fabricfake.MustNewCA("VendorOrgMSP")
		n.Vendor = n.VendorCA.MustIssue("vendor@vendororg.slasa.local", "client")
		n.VendorAdmin = n.VendorCA.MustIssue("Admin@vendororg.slasa.local", "admin")
		orgs = append(orgs, n.VendorCA)
	}
	n.Config = fabricfake.DeployConfig(orgs, oca, pca2, cca2)
	raw, err := json.Marshal(n.Config)
	if err != nil {
		t.Fatal(err)
	}
	n.ConfigJSON = string(raw)
	n.Deploy(n.Config)
	n.World.Deploy(Registry, n.Registry)
	n.EnclaveKey, n.EnclaveID = n.NewEnclave()
	return n
}

// Deploy (re)deploys the chaincodes (agreement, refund, ticket) with a
// guard for cfg whose clock is the world time plus Clock. Only New's and
// NewThreeOrgs' Configure transactions run: the ticket chaincode is
// configured by NewTickets.
func (n *Net) Deploy(cfg *deploycfg.Config) {
	n.T.Helper()
	g, err := ccguard.New(cfg, ccguard.WithClock(func() time.Time { return n.World.Now.Add(n.Clock) }))
	if err != nil {
		n.T.Fatal(err)
	}
	n.Guard = g
	ag, err := contractapi.NewChaincode(agreement.New(g))
	if err != nil {
		n.T.Fatalf("agreement chaincode: %v", err)
	}
	rf, err := contractapi.NewChaincode(refund.New(g))
	if err != nil {
		n.T.Fatalf("refund chaincode: %v", err)
	}
	tk, err := contractapi.NewChaincode(ticket.New(g))
	if err != nil {
		n.T.Fatalf("ticket chaincode: %v", err)
	}
	n.World.Deploy(Agreement, ag)
	n.World.Deploy(Refund, rf)
	n.World.Deploy(Ticket, tk)
	// The design's chaincode-level policy: any two organizations of the
	// configuration (each runs a peer); the default endorsements are those
	// of every organization with a peer.
	policy, err := ccpolicy.OutOf(min(2, len(cfg.Orgs)), cfg.Orgs...)
	if err != nil {
		n.T.Fatal(err)
	}
	n.World.SetEndorsementPolicy(Agreement, policy)
	n.World.SetEndorsementPolicy(Refund, policy)
	n.World.SetEndorsementPolicy(Ticket, policy)
	n.World.PeerOrgs = cfg.Orgs
}

// AgreementContract and RefundContract return the contracts with the
// deployed guard, for calling their methods directly.
func (n *Net) AgreementContract() *agreement.Contract { return agreement.New(n.Guard) }

// RefundContract: see AgreementContract.
func (n *Net) RefundContract() *refund.Contract { return refund.New(n.Guard) }

// TicketContract: see AgreementContract.
func (n *Net) TicketContract() *ticket.Contract { return ticket.New(n.Guard) }

// NewEnclave generates an enclave key, registers it for Enclave (it becomes
// the registry's current enclave) and returns it with its id.
func (n *Net) NewEnclave() (*ecdsa.PrivateKey, string) {
	n.T.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		n.T.Fatal(err)
	}
	return key, n.Register(Enclave, &key.PublicKey)
}

// Register makes the fake registry hold pub as an enclave of chaincode,
// initialised with the deployed guard's configuration, and makes it the
// chaincode's current enclave. It returns the enclave id.
func (n *Net) Register(chaincode string, pub *ecdsa.PublicKey) string {
	n.T.Helper()
	vk, err := credentials.MarshalPublicKey(pub)
	if err != nil {
		n.T.Fatal(err)
	}
	id, err := verdict.EnclaveIDOf(pub)
	if err != nil {
		n.T.Fatal(err)
	}
	r := n.Registry
	if r.Records[chaincode] == nil {
		r.Records[chaincode] = map[string]credentials.Record{}
	}
	r.Records[chaincode][id] = credentials.Record{
		Chaincode: chaincode, EnclaveID: id, EnclaveVK: vk, ChaincodeEK: vk,
		PeerMSPID: "ProviderOrgMSP", Endpoint: "localhost:7051", AttestationType: "simulated",
		ChaincodeVersion: "1.0", ChaincodeSequence: int64(len(r.Records[chaincode])) + 1, Channel: "slasa",
		ConfigDigest: n.Guard.Digest(), RegisteredBy: identity.FromCert(n.ProviderAdmin.MSPID, n.ProviderAdmin.Cert).String(),
	}
	r.Current[chaincode] = id
	return id
}

// FakeRegistry is a fake enclave registry (ercc): every registration by
// chaincode and enclave id, and the current enclave of each chaincode. It
// serves QueryEnclave(chaincode) and QueryEnclaveByID(chaincode, enclaveID).
type FakeRegistry struct {
	Records map[string]map[string]credentials.Record
	Current map[string]string
}

// Init does nothing.
func (r *FakeRegistry) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

// Invoke serves the queries.
func (r *FakeRegistry) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	var rec credentials.Record
	switch {
	case fn == "QueryEnclave" && len(args) == 1:
		id, ok := r.Current[args[0]]
		if !ok {
			return &peer.Response{Status: 404, Message: fmt.Sprintf("no enclave is registered for chaincode %q", args[0])}
		}
		rec = r.Records[args[0]][id]
	case fn == "QueryEnclaveByID" && len(args) == 2:
		var ok bool
		rec, ok = r.Records[args[0]][args[1]]
		if !ok {
			return &peer.Response{Status: 404, Message: fmt.Sprintf("enclave %s of chaincode %q is not registered", args[1], args[0])}
		}
	default:
		return shim.Error(fmt.Sprintf("unknown function %s/%d", fn, len(args)))
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(data)
}

// SameCN issues an impostor of id: a certificate of ca (ca's MSP) with id's
// common name and the given NodeOU role.
func SameCN(ca *fabricfake.CA, id *fabricfake.Identity, role string) *fabricfake.Identity {
	return ca.MustIssue(id.Cert.Subject.CommonName, role)
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
	n.ExpectCallError(fabricfake.Call{ID: id, Chaincode: cc, Fn: fn, Args: args}, msg)
}

// ExpectCallError submits c, which must fail with exactly msg and must
// change no state, public or private.
func (n *Net) ExpectCallError(c fabricfake.Call, msg string) {
	n.T.Helper()
	before, beforePvt := n.World.Snapshot(), n.World.PrivateSnapshot()
	r := n.World.SubmitCall(c)
	if r.OK() {
		n.T.Fatalf("%s.%s succeeded, want error %q", c.Chaincode, c.Fn, msg)
	}
	if r.Message != msg {
		n.T.Fatalf("%s.%s error:\n got %q\nwant %q", c.Chaincode, c.Fn, r.Message, msg)
	}
	if !n.unchangedSince(before, beforePvt) {
		n.T.Fatalf("%s.%s failed but changed the state", c.Chaincode, c.Fn)
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

// ExpectCallErrorPrefix is ExpectCallError for errors whose tail comes from
// another package: the message must start with prefix.
func (n *Net) ExpectCallErrorPrefix(c fabricfake.Call, prefix string) {
	n.T.Helper()
	before, beforePvt := n.World.Snapshot(), n.World.PrivateSnapshot()
	r := n.World.SubmitCall(c)
	if r.OK() {
		n.T.Fatalf("%s.%s succeeded, want error starting %q", c.Chaincode, c.Fn, prefix)
	}
	if !strings.HasPrefix(r.Message, prefix) {
		n.T.Fatalf("%s.%s error:\n got %q\nwant prefix %q", c.Chaincode, c.Fn, r.Message, prefix)
	}
	if !n.unchangedSince(before, beforePvt) {
		n.T.Fatalf("%s.%s failed but changed the state", c.Chaincode, c.Fn)
	}
}

// unchangedSince reports whether the world's public and private state
// equal the snapshots before and beforePvt.
func (n *Net) unchangedSince(before, beforePvt map[string]map[string]string) bool {
	return sameState(before, n.World.Snapshot()) && sameState(beforePvt, n.World.PrivateSnapshot())
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
// calendar year 2026 (the fake world starts at 2026-01-01), the given id and
// a fresh nonce.
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
	if s.Nonce, err = sla.NewNonce(); err != nil {
		t.Fatal(err)
	}
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

// Activate proposes and accepts s (funding the client with fund first) at
// the world time and returns the digest.
func (n *Net) Activate(s *sla.SLA, fund int64) [32]byte {
	n.T.Helper()
	n.Fund(s, fund)
	d := n.MustPropose(s)
	n.MustAccept(s)
	return d
}

// ProposeCall is the ProposeSLA transaction of the document doc by id with
// the provider signature sig: the document in the transient map.
func ProposeCall(id *fabricfake.Identity, doc, sig string) fabricfake.Call {
	return fabricfake.Call{ID: id, Chaincode: Agreement, Fn: "ProposeSLA", Args: []string{sig},
		Transient: map[string][]byte{agreement.TransientSLA: []byte(doc)}}
}

// WithDocument is the call of fn(args) of the agreement chaincode by id with
// the document doc in the transient map (AcceptSLA, RenewSLA).
func WithDocument(id *fabricfake.Identity, doc, fn string, args ...string) fabricfake.Call {
	return fabricfake.Call{ID: id, Chaincode: Agreement, Fn: fn, Args: args,
		Transient: map[string][]byte{agreement.TransientSLA: []byte(doc)}}
}

// MustPropose proposes s as the provider, signed by the provider, and
// returns its digest.
func (n *Net) MustPropose(s *sla.SLA) [32]byte {
	n.T.Helper()
	doc, d := Doc(n.T, s)
	n.MustCall(ProposeCall(n.Provider, doc, Sign(n.T, n.Provider, d)))
	return d
}

// MustAccept accepts s as the client, signed by the client.
func (n *Net) MustAccept(s *sla.SLA) {
	n.T.Helper()
	doc, d := Doc(n.T, s)
	n.MustCall(WithDocument(n.Client, doc, "AcceptSLA", s.ID, Hex(d), Sign(n.T, n.Client, d)))
}

// Renew submits RenewSLA of s as the client.
func (n *Net) Renew(s *sla.SLA) fabricfake.Result {
	n.T.Helper()
	doc, _ := Doc(n.T, s)
	return n.World.SubmitCall(WithDocument(n.Client, doc, "RenewSLA", s.ID))
}

// MustRenew renews s as the client.
func (n *Net) MustRenew(s *sla.SLA) {
	n.T.Helper()
	if r := n.Renew(s); !r.OK() {
		n.T.Fatalf("RenewSLA(%s): %s", s.ID, r.Message)
	}
}

// MustCall submits c, which must succeed, and returns its payload.
func (n *Net) MustCall(c fabricfake.Call) string {
	n.T.Helper()
	r := n.World.SubmitCall(c)
	if !r.OK() {
		n.T.Fatalf("%s.%s(%s): %s", c.Chaincode, c.Fn, strings.Join(c.Args, ", "), r.Message)
	}
	return string(r.Payload)
}

// Balance returns a wallet's balance (read as the issuer's admin).
func (n *Net) Balance(wallet string) int64 {
	n.T.Helper()
	var a refund.Account
	if err := json.Unmarshal([]byte(n.MustEvaluate(n.Issuer, Refund, "BalanceOf", wallet)), &a); err != nil {
		n.T.Fatal(err)
	}
	return a.Balance
}

// Verdict returns a verdict of the pinned test enclave on (s, period) with
// the given credit and penalty, not yet signed. It names the batch that
// AnchorPeriod anchored ending at periodEnd, or batch 99 "bafynotanchored"
// when there is none.
func (n *Net) Verdict(s *sla.SLA, digest [32]byte, period, periodEnd string, creditBPS, credit, penalty int64) verdict.Verdict {
	v := verdict.Verdict{
		SLAID: s.ID, SLADigest: Hex(digest), Period: period, PeriodEnd: periodEnd,
		Violated: creditBPS > 0 || credit > 0 || penalty > 0, CreditBPS: creditBPS, CreditAmount: credit,
		PenaltyAmount: penalty, Currency: s.Price.Currency, ReportDigest: strings.Repeat("ab", 32),
		BatchSeq: 99, BatchCID: "bafynotanchored",
		Chaincode: Enclave, EnclaveID: n.EnclaveID,
	}
	for _, a := range n.anchors[s.ID] {
		if a.PeriodEnd == periodEnd {
			v.BatchSeq, v.BatchCID = a.Seq, a.CID
		}
	}
	return v
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

// AnchorPeriod anchors, as the logger, the next log batch of s covering
// [start, end) and returns its sequence number and CID. It submits at the
// world time, or at end when the world is earlier (a batch is anchored only
// once its window is over). Verdict names the batch that ends a period.
func (n *Net) AnchorPeriod(s *sla.SLA, start, end string) (int64, string) {
	n.T.Helper()
	endT, err := time.Parse(time.RFC3339, end)
	if err != nil {
		n.T.Fatal(err)
	}
	if n.World.Now.Before(endT) {
		n.World.Now = endT
	}
	prev := n.anchors[s.ID]
	a := signedsla.Anchor{SLAID: s.ID, Seq: int64(len(prev) + 1), CID: CID(s.ID, int64(len(prev)+1)), PeriodStart: start, PeriodEnd: end}
	if len(prev) > 0 {
		a.PrevCID = prev[len(prev)-1].CID
	}
	n.MustSubmit(n.Logger, Agreement, "AnchorLogBatch", s.ID, fmt.Sprint(a.Seq), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd, AnchorSig(n.T, n.Logger, a))
	n.anchors[s.ID] = append(prev, a)
	return a.Seq, a.CID
}

// CID returns a content identifier for batch seq of an SLA.
func CID(slaID string, seq int64) string {
	sum := sha256.Sum256([]byte(slaID))
	return fmt.Sprintf("bafy%x%d", sum[:6], seq)
}

// ID returns the identity (MSP ID, subject, issuer) of a test identity.
func ID(id *fabricfake.Identity) identity.ID { return identity.FromCert(id.MSPID, id.Cert) }

// DN returns the subject DN of a test identity.
func DN(id *fabricfake.Identity) string { return identity.DN(id.Cert.Subject) }

// IssuerDN returns the issuer DN of a test identity.
func IssuerDN(id *fabricfake.Identity) string { return identity.DN(id.Cert.Issuer) }

// SkewError returns the error the guard gives the next transaction when the
// peers' clock is off by clock (see Clock).
func (n *Net) SkewError(clock time.Duration) string {
	n.T.Helper()
	ts := n.World.Now
	peer := ts.Add(n.World.Step).Add(clock)
	g, err := ccguard.New(n.Config, ccguard.WithClock(func() time.Time { return peer }))
	if err != nil {
		n.T.Fatal(err)
	}
	if err := g.CheckSkew(ts); err != nil {
		return err.Error()
	}
	n.T.Fatalf("a clock off by %s is within the skew", clock)
	return ""
}

// NotConfiguredError is the guard's error for every function before
// Configure.
func (n *Net) NotConfiguredError() string {
	return fmt.Sprintf("the deploy configuration is not recorded on the channel yet: an admin of ClientOrgMSP or ProviderOrgMSP must call Configure with the deploy configuration (digest %s)", n.Guard.Digest())
}

// MismatchError is the guard's error for every function on a peer whose
// configuration (the deployed guard's) is not the recorded one (recorded).
func (n *Net) MismatchError(recorded string) string {
	return fmt.Sprintf("this peer's deploy configuration (digest %s) is not the one recorded on the channel (digest %s): the organizations must run their chaincode servers with the same file", n.Guard.Digest(), recorded)
}

// EditState rewrites the committed JSON record under key of chaincode cc
// with edit (test setup of states no transaction can reach).
func (n *Net) EditState(cc, key string, edit func(map[string]any)) {
	n.T.Helper()
	var m map[string]any
	if err := json.Unmarshal(n.World.State(cc, key), &m); err != nil {
		n.T.Fatalf("state %q of %s: %v", key, cc, err)
	}
	edit(m)
	data, err := json.Marshal(m)
	if err != nil {
		n.T.Fatal(err)
	}
	n.World.Put(cc, key, data)
}

// Forge commits a transaction of chaincode cc whose write set is whatever
// write makes it (as a peer running some other binary would endorse it),
// endorsed by the peers of orgs, submitted by id; it returns the
// validation code. An invalid forgery must change nothing: Forge fails the
// test when it did.
func (n *Net) Forge(id *fabricfake.Identity, cc string, orgs []string, write func(stub shim.ChaincodeStubInterface)) peer.TxValidationCode {
	n.T.Helper()
	before := n.World.Snapshot()
	tx := n.World.NewTx(id, cc, "Forged")
	write(tx.Stub)
	tx.EndorseBy(orgs...)
	code := tx.Commit()
	if code != peer.TxValidationCode_VALID && !sameState(before, n.World.Snapshot()) {
		n.T.Fatalf("an invalid forged transaction (%s) changed the state", code)
	}
	return code
}

// ExpectInvalid submits a transaction endorsed by the peers of orgs: the
// chaincode must accept it, and the commit must invalidate it with code
// and change nothing. It returns the result.
func (n *Net) ExpectInvalid(orgs []string, code peer.TxValidationCode, id *fabricfake.Identity, cc, fn string, args ...string) fabricfake.Result {
	n.T.Helper()
	return n.ExpectInvalidCall(orgs, code, fabricfake.Call{ID: id, Chaincode: cc, Fn: fn, Args: args})
}

// ExpectInvalidCall is ExpectInvalid of a Call (transient data): it must
// be invalidated with code and change neither the public nor the private
// state.
func (n *Net) ExpectInvalidCall(orgs []string, code peer.TxValidationCode, c fabricfake.Call) fabricfake.Result {
	n.T.Helper()
	before, beforePvt := n.World.Snapshot(), n.World.PrivateSnapshot()
	c.Endorsers = orgs
	r := n.World.SubmitCall(c)
	if r.Status != shim.OK {
		n.T.Fatalf("%s.%s endorsed by %v: the chaincode refused it: %s", c.Chaincode, c.Fn, orgs, r.Message)
	}
	if r.Code != code {
		n.T.Fatalf("%s.%s endorsed by %v: %s (%s), want %s", c.Chaincode, c.Fn, orgs, r.Code, r.Reason, code)
	}
	if !n.unchangedSince(before, beforePvt) {
		n.T.Fatalf("%s.%s endorsed by %v was invalid (%s) but changed the state", c.Chaincode, c.Fn, orgs, r.Code)
	}
	return r
}

// AccountKey returns the refund chaincode's state key of a wallet's base.
func AccountKey(wallet string) string {
	k, _ := shim.CreateCompositeKey("account", []string{wallet})
	return k
}

// SLAKey returns the agreement chaincode's state key of an SLA.
func SLAKey(id string) string {
	k, _ := shim.CreateCompositeKey("sla", []string{id})
	return k
}

// FuzzCall submits c for a fuzz target and checks what the project asks of
// every entry point given bad input: the chaincode does not panic (a panic
// fails the fuzz run), a refusal carries a message, and it changes no
// state, public or private. A call that succeeds may change the state; its
// result is returned for the target's own checks.
func (n *Net) FuzzCall(t *testing.T, c fabricfake.Call) fabricfake.Result {
	t.Helper()
	before, beforePvt := n.World.Snapshot(), n.World.PrivateSnapshot()
	r := n.World.SubmitCall(c)
	if r.OK() {
		return r
	}
	if strings.TrimSpace(r.Message) == "" {
		t.Fatalf("%s.%s failed without a message", c.Chaincode, c.Fn)
	}
	if strings.Contains(strings.ToLower(r.Message), "panic") {
		t.Fatalf("%s.%s: %s", c.Chaincode, c.Fn, r.Message)
	}
	if !n.unchangedSince(before, beforePvt) {
		t.Fatalf("%s.%s failed (%s) but changed the state", c.Chaincode, c.Fn, r.Message)
	}
	return r
}

// FuzzCalled runs call, a function of chaincode ns that accepts only calls
// made inside a transaction of another chaincode (refund's DepositEscrow and
// LockCollateral inside the agreement chaincode's ProposeSLA), in a
// transaction of top submitted by id, for a fuzz target: the function does
// not panic (a panic fails the fuzz run), and a refusal carries a message
// and leaves no pending write. The transaction is never committed, so the
// world state is the same for every input. It returns call's error.
func (n *Net) FuzzCalled(t *testing.T, id *fabricfake.Identity, top, ns string, call func(contractapi.TransactionContextInterface) error) error {
	t.Helper()
	tx := n.World.NewCalledTx(id, top, ns)
	err := call(tx.Context())
	if err == nil {
		return nil
	}
	if strings.TrimSpace(err.Error()) == "" {
		t.Fatalf("%s: failed without a message", ns)
	}
	if w := tx.PendingWrites(); w != 0 {
		t.Fatalf("%s failed (%v) but left %d pending writes", ns, err, w)
	}
	return err
}

// FuzzConfigure is the fuzz target of a chaincode's Configure: an admin of
// an approving organization submits any configuration JSON (seeded with the
// valid one, another channel's and two incomplete ones), with FuzzCall's
// checks.
func FuzzConfigure(f *testing.F, chaincode string) {
	n := New(f)
	f.Add(n.ConfigJSON)
	f.Add(strings.Replace(n.ConfigJSON, `"channel":"slasa"`, `"channel":"other"`, 1))
	f.Add(`{"version":1}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, config string) {
		n.T = t
		n.FuzzCall(t, fabricfake.Call{ID: n.ProviderAdmin, Chaincode: chaincode, Fn: "Configure", Args: []string{config}})
	})
}
