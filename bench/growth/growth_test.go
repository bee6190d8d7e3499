package growth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	//lint:ignore SA1019 fabric-protos-go (v1 shim side) is generated for the APIv1 protobuf package
	"github.com/golang/protobuf/proto"
	"github.com/golang/protobuf/ptypes/timestamp"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	//lint:ignore SA1019 shimtest is the v1 shim's stub double, as in fpc/runtime's tests
	"github.com/hyperledger/fabric-chaincode-go/shimtest"
	"github.com/hyperledger/fabric-protos-go/common"
	"github.com/hyperledger/fabric-protos-go/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/fpc/runtime"
	"github.com/slasa/slasa/fpc/runtime/fpctest"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

const (
	channel = "slasa"
	ccName  = "slaenclave"
)

// ---------------------------------------------------------------- PKI shaped like cryptogen's

type ca struct {
	mspID, domain string
	key           *ecdsa.PrivateKey
	cert          *x509.Certificate
	pem           string
}

type user struct {
	mspID   string
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	certPEM string
	creator []byte
}

var serial int64

// The simulated month lies in 2026; certificates are valid around it.
var (
	notBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
)

func certify(tb testing.TB, tmpl *x509.Certificate, pub *ecdsa.PublicKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, string) {
	tb.Helper()
	serial++
	tmpl.SerialNumber = new(big.Int).Lsh(big.NewInt(serial), 120) // 16-byte serials, as Fabric CAs write
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func place(cn string, org ...string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: org, Locality: []string{"San Francisco"}, Province: []string{"California"}, Country: []string{"US"}}
}

func newCA(tb testing.TB, mspID, domain string) *ca {
	tb.Helper()
	k := newKey(tb)
	tmpl := &x509.Certificate{Subject: place("ca."+domain, domain), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign}
	c, p := certify(tb, tmpl, &k.PublicKey, nil, k)
	return &ca{mspID: mspID, domain: domain, key: k, cert: c, pem: p}
}

func (c *ca) issue(tb testing.TB, cn, ou string) *user {
	tb.Helper()
	k := newKey(tb)
	name := place(cn)
	name.OrganizationalUnit = []string{ou}
	tmpl := &x509.Certificate{Subject: name, KeyUsage: x509.KeyUsageDigitalSignature, SubjectKeyId: make([]byte, 32)}
	cert, p := certify(tb, tmpl, &k.PublicKey, c.cert, c.key)
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: c.mspID, IdBytes: []byte(p)})
	if err != nil {
		tb.Fatal(err)
	}
	return &user{mspID: c.mspID, key: k, cert: cert, certPEM: p, creator: creator}
}

func (u *user) party(wallet string) map[string]string {
	p := map[string]string{"msp_id": u.mspID, "common_name": u.cert.Subject.CommonName,
		"subject": identity.DN(u.cert.Subject), "issuer": identity.DN(u.cert.Issuer)}
	if wallet != "" {
		p["wallet"] = wallet
	}
	return p
}

func (u *user) sign(tb testing.TB, msg []byte) []byte {
	tb.Helper()
	sum := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, u.key, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// ---------------------------------------------------------------- the simulated channel

// sim runs the enclave chaincode on a committed-ledger double and measures
// the __endorse transactions it commits.
type sim struct {
	tb       testing.TB
	ledger   *fpctest.Ledger
	registry *fpctest.RegistryDouble
	batches  map[string][]byte
	record   credentials.Record
	clock    time.Time
	// peers endorse every __endorse transaction; orderer signs blocks.
	peers   []*user
	orderer *user
	tx      int
	block   uint64
	totals  map[string]*sizes
}

// sizes sums what the transactions of one kind put on the ledger.
type sizes struct {
	Txs int64
	// Block is the bytes of the blocks holding the transactions, one
	// transaction per block (header, data, metadata).
	Block int64
	// Args is the __endorse arguments (the signed response JSON).
	Args int64
	// WriteValues is the bytes of the values written (encrypted state),
	// Writes their number; Reads the read set entries; Metadata the
	// validation parameter bytes.
	WriteValues, Writes, Reads, Metadata int64
}

func newSim(tb testing.TB, cfg *deploycfg.Config, peers []*user, orderer *user) *sim {
	tb.Helper()
	s := &sim{tb: tb, registry: &fpctest.RegistryDouble{Chaincode: ccName}, batches: map[string][]byte{}, peers: peers, orderer: orderer,
		totals: map[string]*sizes{}}
	enclave := runtime.NewSimulated(slaenclave.Chaincode{})
	pcc, err := runtime.NewPrivateChaincode(enclave, runtime.WithConfig(cfg), runtime.WithClock(func() time.Time { return s.clock }),
		runtime.WithFetcher(func(id string) ([]byte, error) {
			b, ok := s.batches[id]
			if !ok {
				return nil, fmt.Errorf("shim: %s not found", id)
			}
			return b, nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	s.ledger = fpctest.NewLedger(ccName, channel, pcc, fpctest.AnyOf(2, cfg.Orgs...))
	s.ledger.Stub.MockPeerChaincode("ercc", shimtest.NewMockStub("ercc", s.registry), channel)
	s.ledger.Stub.MockPeerChaincode("_lifecycle", shimtest.NewMockStub("_lifecycle", fpctest.LifecycleDouble{Chaincode: ccName, Version: "sim-1", Sequence: 1}), channel)
	return s
}

func (s *sim) simulate(c *user, args ...[]byte) (*fpctest.Tx, time.Time) {
	s.tb.Helper()
	s.tx++
	txID := fmt.Sprintf("%064x", sha256.Sum256([]byte(strconv.Itoa(s.tx))))
	sp, err := fpctest.SignedProposal(c.key, c.creator, channel, ccName, txID, s.clock, args...)
	if err != nil {
		s.tb.Fatal(err)
	}
	return s.ledger.Simulate(txID, c.creator, sp, args), s.clock
}

func (s *sim) initEnclave(admin *user) {
	s.tb.Helper()
	tx, _ := s.simulate(admin, []byte(protocol.FnInitEnclave), []byte(`{"peer_msp_id":"ProviderOrgMSP","endpoint":"peer0.providerorg.slasa.local:7051"}`))
	if tx.Response.Status != shim.OK {
		s.tb.Fatalf("__initEnclave: %s", tx.Response.Message)
	}
	creds, data, err := credentials.Parse(tx.Response.Payload)
	if err != nil {
		s.tb.Fatal(err)
	}
	if err := credentials.VerifySimulated(creds, data); err != nil {
		s.tb.Fatal(err)
	}
	vk, err := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	if err != nil {
		s.tb.Fatal(err)
	}
	id, err := credentials.EnclaveID(vk)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.record = credentials.Record{Chaincode: ccName, EnclaveID: id, EnclaveVK: data.EnclaveVK, ChaincodeEK: data.ChaincodeEK,
		PeerMSPID: data.PeerMSPID, AttestationType: credentials.AttestationSimulated, ChaincodeVersion: "sim-1", ChaincodeSequence: 1,
		Channel: channel, ConfigDigest: data.ConfigDigest}
	s.registry.Record, _ = json.Marshal(s.record)
}

// submit runs fn(args) as c through __invoke and __endorse (the FPC
// client's flow), commits the __endorse transaction endorsed by every
// peer, adds its sizes to kind and returns the chaincode's result.
func (s *sim) submit(kind string, c *user, fn string, args ...string) []byte {
	s.tb.Helper()
	ek, err := s.record.EncryptionKey()
	if err != nil {
		s.tb.Fatal(err)
	}
	msg, session, err := protocol.SealRequest(protocol.Request{Function: fn, Args: args}, ek)
	if err != nil {
		s.tb.Fatal(err)
	}
	raw, _ := json.Marshal(msg)
	inv, _ := s.simulate(c, []byte(protocol.FnInvoke), raw)
	if inv.Response.Status != shim.OK {
		s.tb.Fatalf("__invoke %s: %s", fn, inv.Response.Message)
	}
	var sr protocol.SignedResponse
	if err := json.Unmarshal(inv.Response.Payload, &sr); err != nil {
		s.tb.Fatal(err)
	}
	vk, _ := s.record.VerifyingKey()
	r, err := protocol.VerifyResponse(&sr, vk)
	if err != nil {
		s.tb.Fatal(err)
	}
	res, err := session.OpenResult(r)
	if err != nil {
		s.tb.Fatal(err)
	}
	if res.Status != shim.OK {
		s.tb.Fatalf("%s: %s", fn, res.Message)
	}
	end, ts := s.simulate(c, []byte(protocol.FnEndorse), inv.Response.Payload)
	if end.Response.Status != shim.OK {
		s.tb.Fatalf("__endorse %s: %s", fn, end.Response.Message)
	}
	endorsers := make([]string, len(s.peers))
	for i, p := range s.peers {
		endorsers[i] = p.mspID
	}
	code, err := s.ledger.Commit(end, endorsers)
	if err != nil || code != fpctest.Valid {
		s.tb.Fatalf("commit %s: %s %v", fn, code, err)
	}
	s.account(kind, c, end, ts)
	return res.Payload
}

// account builds the block that would carry tx and adds its sizes.
func (s *sim) account(kind string, creator *user, tx *fpctest.Tx, ts time.Time) {
	s.tb.Helper()
	t := s.totals[kind]
	if t == nil {
		t = &sizes{}
		s.totals[kind] = t
	}
	blk := s.blockOf(creator, tx, ts)
	t.Txs++
	t.Block += int64(proto.Size(blk))
	t.Args += int64(len(tx.Args[1]))
	for _, w := range tx.Writes {
		t.WriteValues += int64(len(w.Value))
	}
	t.Writes += int64(len(tx.Writes))
	t.Reads += int64(len(tx.Reads))
	for _, m := range tx.Metadata {
		t.Metadata += int64(len(m.Policy))
	}
}

// The __endorse transaction's read set also holds reads the peer makes
// outside the chaincode's own namespace; they are modelled with the keys
// they have (ercc's current pointer, registration and recorded
// configuration; _lifecycle's sequence of each chaincode the
// transaction runs) and versions of realistic size.
var modelledReads = []struct{ ns, key string }{
	{"ercc", "\x00ercc.current\x00slaenclave\x00"},
	{"ercc", "\x00ercc.registration\x00slaenclave\x00" + strings.Repeat("A", 64) + "\x00"},
	{"ercc", "\x00ccguard.config\x00"},
	{"_lifecycle", "namespaces/fields/slaenclave/Sequence"},
	{"_lifecycle", "namespaces/fields/ercc/Sequence"},
}

// blockOf returns the block a peer would commit with tx alone in it: the
// endorser transaction envelope (channel and signature headers, the
// __endorse invocation spec without transient data, the proposal response
// payload with the read/write set and the result, one endorsement per
// peer, the creator's signature) and the block's header and metadata (the
// orderer's signature, the transaction filter, the commit hash).
func (s *sim) blockOf(creator *user, tx *fpctest.Tx, ts time.Time) *common.Block {
	s.tb.Helper()
	must := func(b []byte, err error) []byte {
		if err != nil {
			s.tb.Fatal(err)
		}
		return b
	}
	s.block++
	ver := &kvrwset.Version{BlockNum: 10_000 + s.block, TxNum: 0}
	kv := &kvrwset.KVRWSet{}
	for _, r := range tx.Reads {
		kr := &kvrwset.KVRead{Key: r.Key}
		if r.Version != nil {
			kr.Version = ver
		}
		kv.Reads = append(kv.Reads, kr)
	}
	for _, w := range tx.Writes {
		kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: w.Key, IsDelete: w.Delete, Value: w.Value})
	}
	for _, m := range tx.Metadata {
		kv.MetadataWrites = append(kv.MetadataWrites, &kvrwset.KVMetadataWrite{Key: m.Key,
			Entries: []*kvrwset.KVMetadataEntry{{Name: "VALIDATION_PARAMETER", Value: m.Policy}}})
	}
	nss := []*rwset.NsReadWriteSet{{Namespace: ccName, Rwset: must(proto.Marshal(kv))}}
	other := map[string]*kvrwset.KVRWSet{}
	for _, r := range modelledReads {
		if other[r.ns] == nil {
			other[r.ns] = &kvrwset.KVRWSet{}
		}
		other[r.ns].Reads = append(other[r.ns].Reads, &kvrwset.KVRead{Key: r.key, Version: ver})
	}
	for _, ns := range []string{"_lifecycle", "ercc"} {
		nss = append(nss, &rwset.NsReadWriteSet{Namespace: ns, Rwset: must(proto.Marshal(other[ns]))})
	}
	results := must(proto.Marshal(&rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV, NsRwset: nss}))
	ccID := &pb.ChaincodeID{Name: ccName, Version: "1.0"}
	action := must(proto.Marshal(&pb.ChaincodeAction{Results: results, ChaincodeId: ccID,
		Response: &pb.Response{Status: tx.Response.Status, Payload: tx.Response.Payload}}))
	propHash := sha256.Sum256(tx.Args[1])
	prp := must(proto.Marshal(&pb.ProposalResponsePayload{ProposalHash: propHash[:], Extension: action}))
	var endorsements []*pb.Endorsement
	for _, p := range s.peers {
		endorsements = append(endorsements, &pb.Endorsement{Endorser: p.creator, Signature: p.sign(s.tb, prp)})
	}
	cis := must(proto.Marshal(&pb.ChaincodeInvocationSpec{ChaincodeSpec: &pb.ChaincodeSpec{Type: pb.ChaincodeSpec_GOLANG,
		ChaincodeId: &pb.ChaincodeID{Name: ccName}, Input: &pb.ChaincodeInput{Args: tx.Args}}}))
	cap := must(proto.Marshal(&pb.ChaincodeActionPayload{ChaincodeProposalPayload: must(proto.Marshal(&pb.ChaincodeProposalPayload{Input: cis})),
		Action: &pb.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: endorsements}}))
	nonce := make([]byte, 24)
	sigHdr := must(proto.Marshal(&common.SignatureHeader{Creator: creator.creator, Nonce: nonce}))
	txBytes := must(proto.Marshal(&pb.Transaction{Actions: []*pb.TransactionAction{{Header: sigHdr, Payload: cap}}}))
	ext := must(proto.Marshal(&pb.ChaincodeHeaderExtension{ChaincodeId: &pb.ChaincodeID{Name: ccName}}))
	chHdr := must(proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: channel, TxId: tx.ID,
		Timestamp: &timestamp.Timestamp{Seconds: ts.Unix(), Nanos: int32(ts.Nanosecond())}, Extension: ext}))
	payload := must(proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: chHdr, SignatureHeader: sigHdr}, Data: txBytes}))
	env := must(proto.Marshal(&common.Envelope{Payload: payload, Signature: creator.sign(s.tb, payload)}))
	ordSig := must(proto.Marshal(&common.SignatureHeader{Creator: s.orderer.creator, Nonce: nonce}))
	sigMeta := must(proto.Marshal(&common.Metadata{Value: must(proto.Marshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: 0}})),
		Signatures: []*common.MetadataSignature{{SignatureHeader: ordSig, Signature: s.orderer.sign(s.tb, payload)}}}))
	dataHash := sha256.Sum256(env)
	commitHash := must(proto.Marshal(&common.Metadata{Value: dataHash[:]}))
	return &common.Block{
		Header:   &common.BlockHeader{Number: 10_000 + s.block, PreviousHash: dataHash[:], DataHash: dataHash[:]},
		Data:     &common.BlockData{Data: [][]byte{env}},
		Metadata: &common.BlockMetadata{Metadata: [][]byte{sigMeta, {}, {0}, {}, commitHash}},
	}
}

// ---------------------------------------------------------------- the month

// parties of the measured SLA and the channel.
type parties struct {
	provider, client, logger, admin *user
	peers                           []*user
	orderer                         *user
	cfg                             *deploycfg.Config
}

func newParties(tb testing.TB) *parties {
	tb.Helper()
	pca := newCA(tb, "ProviderOrgMSP", "providerorg.slasa.local")
	cca := newCA(tb, "ClientOrgMSP", "clientorg.slasa.local")
	vca := newCA(tb, "VendorOrgMSP", "vendororg.slasa.local")
	oca := newCA(tb, "OrdererMSP", "slasa.local")
	p := &parties{
		provider: pca.issue(tb, "provider@providerorg.slasa.local", "client"),
		logger:   pca.issue(tb, "logger@providerorg.slasa.local", "client"),
		admin:    pca.issue(tb, "Admin@providerorg.slasa.local", "admin"),
		client:   cca.issue(tb, "client@clientorg.slasa.local", "client"),
		peers:    []*user{pca.issue(tb, "peer0.providerorg.slasa.local", "peer"), cca.issue(tb, "peer0.clientorg.slasa.local", "peer")},
		orderer:  oca.issue(tb, "orderer.slasa.local", "orderer"),
	}
	p.cfg = fpctest.DeployConfig([]string{"ProviderOrgMSP", "ClientOrgMSP", "VendorOrgMSP"},
		deploycfg.MSP{MSPID: "ProviderOrgMSP", Roots: []string{pca.pem}}, deploycfg.MSP{MSPID: "ClientOrgMSP", Roots: []string{cca.pem}},
		deploycfg.MSP{MSPID: "VendorOrgMSP", Roots: []string{vca.pem}})
	return p
}

// slaDoc is examples/aws-ec2-region's SLA (calendar months, 1 s sampling,
// 60 s sub-intervals, three zones, availability) between the test parties.
func slaDoc(tb testing.TB, p *parties) []byte {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	doc["parties"] = map[string]any{"provider": p.provider.party("provider"), "client": p.client.party("client"), "logger": p.logger.party("")}
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func signRecord(tb testing.TB, doc []byte, provider, client *user) []byte {
	tb.Helper()
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		tb.Fatal(err)
	}
	rec := signedsla.Record{Version: signedsla.Version, Document: doc, Digest: fmt.Sprintf("%x", d[:]),
		Provider: signedsla.Signature{MSPID: provider.mspID, Certificate: provider.certPEM},
		Client:   signedsla.Signature{MSPID: client.mspID, Certificate: client.certPEM}}
	if rec.Provider.Signature, err = signedsla.Sign(d, provider.key); err != nil {
		tb.Fatal(err)
	}
	if rec.Client.Signature, err = signedsla.Sign(d, client.key); err != nil {
		tb.Fatal(err)
	}
	raw, err := rec.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// result of one simulated month.
type result struct {
	batch          time.Duration
	span           time.Duration
	batches        int64
	records        int64
	sealed         int64 // sealed batch bytes (what the logger stores in IPFS)
	plain          int64 // JSON Lines bytes of the records
	register       sizes
	ingest         sizes
	evaluate       sizes
	maxIngestBlock int64
	lastIngest     sizes
}

// runMonth registers the SLA, ingests batches of length batch covering
// span from the start of April 2026 (three probes, one sample per second
// each, every 97th failing) and, when span is the whole month, evaluates
// it.
func runMonth(tb testing.TB, p *parties, batch, span time.Duration) *result {
	tb.Helper()
	s := newSim(tb, p.cfg, p.peers, p.orderer)
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	monthEnd := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	s.clock = start.Add(-time.Hour)
	s.initEnclave(p.admin)
	doc := slaDoc(tb, p)
	var id struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(doc, &id)
	s.submit("register", p.provider, slaenclave.FnRegisterAgreement, string(signRecord(tb, doc, p.provider, p.client)))

	ek, err := s.record.EncryptionKey()
	if err != nil {
		tb.Fatal(err)
	}
	res := &result{batch: batch, span: span}
	zones := []string{"a", "b", "c"}
	var buf bytes.Buffer
	prev, n := "", 0
	end := start.Add(span)
	for ws, seq := start, int64(1); ws.Before(end); ws, seq = ws.Add(batch), seq+1 {
		we := ws.Add(batch)
		buf.Reset()
		var count int64
		for at := ws; at.Before(we); at = at.Add(time.Second) {
			for zi, z := range zones {
				fmt.Fprintf(&buf, `{"time":"%s","source":{"probe":"probe-%s1","zone":"zone-%s","region":"region-1"},"measurements":{"ok":%t}}`+"\n",
					at.Add(time.Duration(zi)*250*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), z, z, n%97 != 0)
				n++
				count++
			}
		}
		h := logbatch.Header{SLAID: id.ID, Seq: seq, PrevCID: prev, WindowStart: ws.Format(time.RFC3339), WindowEnd: we.Format(time.RFC3339)}
		data, err := logbatch.Seal(h, buf.Bytes(), count, ek, p.logger.certPEM, p.logger.key)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := cidverify.Sum(data)
		if err != nil {
			tb.Fatal(err)
		}
		s.batches = map[string][]byte{c.String(): data}
		s.clock = we.Add(2 * time.Second)
		before := *s.total("ingest")
		s.submit("ingest", p.logger, slaenclave.FnIngestBatch, id.ID, strconv.FormatInt(seq, 10), c.String())
		after := *s.total("ingest")
		if d := after.Block - before.Block; d > res.maxIngestBlock {
			res.maxIngestBlock = d
		}
		res.lastIngest = sizes{Txs: 1, Block: after.Block - before.Block, Args: after.Args - before.Args, WriteValues: after.WriteValues - before.WriteValues,
			Writes: after.Writes - before.Writes, Reads: after.Reads - before.Reads, Metadata: after.Metadata - before.Metadata}
		res.batches++
		res.records += count
		res.sealed += int64(len(data))
		res.plain += int64(buf.Len())
		prev = c.String()
	}
	if end.Equal(monthEnd) {
		s.clock = monthEnd.Add(time.Minute)
		s.submit("evaluate", p.client, slaenclave.FnEvaluate, id.ID, start.Format(time.RFC3339))
	}
	res.register, res.ingest = *s.total("register"), *s.total("ingest")
	if e := s.totals["evaluate"]; e != nil {
		res.evaluate = *e
	}
	return res
}

func (s *sim) total(kind string) *sizes {
	if s.totals[kind] == nil {
		s.totals[kind] = &sizes{}
	}
	return s.totals[kind]
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1e3) }

func (r *result) report(tb testing.TB) string {
	total := r.register.Block + r.ingest.Block + r.evaluate.Block
	perBatch := func(n int64) string { return kb(n / max(r.batches, 1)) }
	var b strings.Builder
	fmt.Fprintf(&b, "batches of %s over %s: %d batches, %d records, sealed %s (%s of JSON Lines)\n", r.batch, r.span, r.batches, r.records, mb(r.sealed), mb(r.plain))
	fmt.Fprintf(&b, "  blocks: %s in all = %.2f x sealed; ingest %s (%s per batch, largest %s, last %s), register %s, evaluate %s\n",
		mb(total), float64(total)/float64(r.sealed), mb(r.ingest.Block), perBatch(r.ingest.Block), kb(r.maxIngestBlock), kb(r.lastIngest.Block),
		kb(r.register.Block), kb(r.evaluate.Block))
	fmt.Fprintf(&b, "  ingest: args %s (%s per batch), state values written %s (%s per batch, %.1f writes), reads %.1f per batch, validation parameters %s\n",
		mb(r.ingest.Args), perBatch(r.ingest.Args), mb(r.ingest.WriteValues), perBatch(r.ingest.WriteValues),
		float64(r.ingest.Writes)/float64(max(r.batches, 1)), float64(r.ingest.Reads)/float64(max(r.batches, 1)), kb(r.ingest.Metadata))
	fmt.Fprintf(&b, "  per batch: block - 2 x sealed = %s\n", kb((total-2*r.sealed)/max(r.batches, 1)))
	return b.String()
}

// days returns the simulated span: SLASA_GROWTH_DAYS days (30: the whole
// month with its evaluation), else two hours.
func days(tb testing.TB) time.Duration {
	v := os.Getenv("SLASA_GROWTH_DAYS")
	if v == "" {
		return 2 * time.Hour
	}
	d, err := strconv.Atoi(v)
	if err != nil || d < 1 || d > 30 {
		tb.Fatalf("SLASA_GROWTH_DAYS=%q: want 1..30", v)
	}
	return time.Duration(d) * 24 * time.Hour
}

// TestLedgerGrowth measures the bytes an SLA's enclave transactions add to
// the blocks for 1-second samples of three probes in 1-minute and 1-hour
// batches (SLASA_GROWTH_BATCH=1m or 1h picks one).
//
// Measured: every byte of the __endorse transactions' arguments, read and
// write sets and validation parameters, as the real enclave and runtime
// produce them, and the envelope around them built with Fabric's protos.
// Modelled: the reads outside the enclave's namespace (modelledReads), the
// certificates (cryptogen-shaped, 16-byte serials), one transaction per
// block (a block's header and metadata are counted for every
// transaction); the __invoke step is evaluated, not submitted, and puts
// nothing on the ledger.
func TestLedgerGrowth(t *testing.T) {
	p := newParties(t)
	span := days(t)
	for _, batch := range []time.Duration{time.Minute, time.Hour} {
		if want := os.Getenv("SLASA_GROWTH_BATCH"); want != "" && want != strings.TrimSuffix(strings.TrimSuffix(batch.String(), "0s"), "0m") {
			continue
		}
		t.Run(batch.String(), func(t *testing.T) {
			r := runMonth(t, p, batch, span)
			t.Log("\n" + r.report(t))
			if r.batches != int64(span/batch) {
				t.Fatalf("%d batches, want %d", r.batches, span/batch)
			}
		})
	}
}
