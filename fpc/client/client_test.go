package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
)

// fakeGateway is a Gateway service that answers ercc's QueryEnclave and the
// enclave's __invoke and __initEnclave like the host organization's peer,
// recording the organizations each evaluation targeted.
type fakeGateway struct {
	gateway.UnimplementedGatewayServer
	record  credentials.Record
	sign    *ecdsa.PrivateKey // the key that signs responses
	decrypt *rsa.PrivateKey

	mu      sync.Mutex
	targets map[string][]string // function -> target organizations
	// endorsers are the endorsing organizations each Endorse named, in order.
	endorsers [][]string
}

// Endorse records the endorsing organizations the client named and
// returns a prepared transaction without endorsements.
func (g *fakeGateway) Endorse(_ context.Context, req *gateway.EndorseRequest) (*gateway.EndorseResponse, error) {
	g.mu.Lock()
	g.endorsers = append(g.endorsers, req.GetEndorsingOrganizations())
	g.mu.Unlock()
	ch, err := proto.Marshal(&common.ChannelHeader{ChannelId: req.GetChannelId(), TxId: req.GetTransactionId()})
	if err != nil {
		return nil, err
	}
	tx, err := proto.Marshal(&peer.Transaction{Actions: []*peer.TransactionAction{{}}})
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: tx})
	if err != nil {
		return nil, err
	}
	return &gateway.EndorseResponse{PreparedTransaction: &common.Envelope{Payload: payload}}, nil
}

// Submit accepts every transaction.
func (g *fakeGateway) Submit(context.Context, *gateway.SubmitRequest) (*gateway.SubmitResponse, error) {
	return &gateway.SubmitResponse{}, nil
}

// CommitStatus reports every transaction valid.
func (g *fakeGateway) CommitStatus(context.Context, *gateway.SignedCommitStatusRequest) (*gateway.CommitStatusResponse, error) {
	return &gateway.CommitStatusResponse{Result: peer.TxValidationCode_VALID, BlockNumber: 7}, nil
}

func (g *fakeGateway) Evaluate(_ context.Context, req *gateway.EvaluateRequest) (*gateway.EvaluateResponse, error) {
	sp := req.GetProposedTransaction()
	var prop peer.Proposal
	var payload peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if err := errors.Join(proto.Unmarshal(sp.GetProposalBytes(), &prop), proto.Unmarshal(prop.GetPayload(), &payload),
		proto.Unmarshal(payload.GetInput(), &cis)); err != nil {
		return nil, err
	}
	args := cis.GetChaincodeSpec().GetInput().GetArgs()
	fn := string(args[0])
	g.mu.Lock()
	g.targets[fn] = req.GetTargetOrganizations()
	g.mu.Unlock()
	ok := func(b []byte) (*gateway.EvaluateResponse, error) {
		return &gateway.EvaluateResponse{Result: &peer.Response{Status: 200, Payload: b}}, nil
	}
	switch fn {
	case "QueryEnclave":
		raw, _ := json.Marshal(g.record)
		return ok(raw)
	case protocol.FnInitEnclave:
		return ok([]byte("{}"))
	case protocol.FnInvoke:
		var msg protocol.RequestMessage
		if err := json.Unmarshal(args[1], &msg); err != nil {
			return nil, err
		}
		session, err := protocol.OpenRequest(&msg, g.decrypt)
		if err != nil {
			return nil, err
		}
		enc, err := session.SealResult(protocol.Result{Status: 200, Payload: []byte("answer to " + session.Request.Function)})
		if err != nil {
			return nil, err
		}
		signed, err := protocol.SignResponse(&protocol.Response{EncryptedResult: enc, RWSet: protocol.RWSet{Reads: []protocol.Read{}, Writes: []protocol.Write{}},
			Proposal: sp.GetProposalBytes(), RequestHash: session.RequestHash, EnclaveID: g.record.EnclaveID}, g.sign)
		if err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(signed)
		return ok(raw)
	}
	return nil, errors.New("unexpected function " + fn)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// connect serves g in memory and returns a Gateway client connected as a
// ClientOrg user (whose own peer is not the enclave host's).
func connect(t *testing.T, g *fakeGateway) *client.Network {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	gateway.RegisterGatewayServer(srv, g)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client@clientorg"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	id, err := identity.NewX509Identity("ClientOrgMSP", cert)
	if err != nil {
		t.Fatal(err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := client.Connect(id, client.WithSign(sign), client.WithClientConnection(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw.GetNetwork("slasa")
}

func newFake(t *testing.T) *fakeGateway {
	t.Helper()
	sign := newKey(t)
	dec, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := credentials.MarshalPublicKey(&sign.PublicKey)
	ek, _ := credentials.MarshalPublicKey(&dec.PublicKey)
	id, _ := credentials.EnclaveID(&sign.PublicKey)
	return &fakeGateway{sign: sign, decrypt: dec, targets: map[string][]string{},
		record: credentials.Record{Chaincode: "slaenclave", EnclaveID: id, EnclaveVK: vk, ChaincodeEK: ek, PeerMSPID: "ProviderOrgMSP"}}
}

// __invoke and __initEnclave go to the enclave host's peers only, whichever
// organization the client belongs to.
func TestInvokeOnTheHostOrganization(t *testing.T) {
	g := newFake(t)
	c := New(connect(t, g), "slaenclave")
	out, err := c.Query(context.Background(), "GetAgreementStatus", "sla-1")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "answer to GetAgreementStatus" {
		t.Fatalf("payload %q", out)
	}
	if _, err := c.InitEnclave(context.Background(), "ProviderOrgMSP", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "__initEnclave returned invalid credentials") {
		t.Fatalf("InitEnclave: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for fn, want := range map[string]string{protocol.FnInvoke: "ProviderOrgMSP", protocol.FnInitEnclave: "ProviderOrgMSP", "QueryEnclave": ""} {
		if got := strings.Join(g.targets[fn], ","); got != want {
			t.Errorf("%s targeted %q, want %q", fn, got, want)
		}
	}
}

// A response signed by any key but the registered enclave's is rejected.
func TestResponseOfAnotherKey(t *testing.T) {
	g := newFake(t)
	g.sign = newKey(t)
	c := New(connect(t, g), "slaenclave")
	_, err := c.Query(context.Background(), "GetAgreementStatus", "sla-1")
	var ve *VerificationError
	if !errors.As(err, &ve) || !errors.Is(err, protocol.ErrBadSignature) {
		t.Fatalf("error %v, want a VerificationError with %v", err, protocol.ErrBadSignature)
	}
}

// SubmitEndorsedBy names exactly the given organizations as the endorsers
// of __endorse (an SLA's two parties, not the enclave host's organization
// that answered __invoke); Submit names none and lets the Gateway plan.
func TestSubmitEndorsedBy(t *testing.T) {
	g := newFake(t)
	c := New(connect(t, g), "slaenclave")
	out, _, err := c.SubmitEndorsedBy(context.Background(), []string{"OtherOrgMSP", "VendorOrgMSP"}, "RegisterAgreement", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "answer to RegisterAgreement" {
		t.Fatalf("payload %q", out)
	}
	if _, _, err := c.Submit(context.Background(), "IngestBatch", "sla-1", "1", "cid"); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.endorsers) != 2 {
		t.Fatalf("%d endorsements, want 2", len(g.endorsers))
	}
	if got := strings.Join(g.endorsers[0], ","); got != "OtherOrgMSP,VendorOrgMSP" {
		t.Errorf("SubmitEndorsedBy: __endorse endorsed by %q, want OtherOrgMSP,VendorOrgMSP", got)
	}
	if got := strings.Join(g.endorsers[1], ","); got != "" {
		t.Errorf("Submit: __endorse endorsed by %q, want the Gateway's choice (none named)", got)
	}
	if got := strings.Join(g.targets[protocol.FnInvoke], ","); got != "ProviderOrgMSP" {
		t.Errorf("__invoke targeted %q, want the enclave host ProviderOrgMSP", got)
	}
}
