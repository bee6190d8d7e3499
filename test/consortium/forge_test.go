//go:build integration

package consortium

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

const (
	providerMSP = "ProviderOrgMSP"
	clientMSP   = "ClientOrgMSP"
	vendorMSP   = "VendorOrgMSP"
	// validationParameter is the metadata entry of a key-level endorsement policy.
	validationParameter = "VALIDATION_PARAMETER"
)

// peerSigner is an organization's peer's signing identity, read from the run folder's crypto
// material: what an organization that runs its own peer controls.
type peerSigner struct {
	mspID string
	cert  []byte
	sign  identity.Sign
}

func loadPeerSigner(t *testing.T, org string) peerSigner {
	t.Helper()
	o, ok := nw.Info.Orgs[org]
	if !ok || o.GatewayOf != "" {
		t.Fatalf("organization %q has no peer of its own", org)
	}
	dir := filepath.Join(nw.RunDir(), "crypto", "peerOrganizations", o.Domain, "peers", o.Peer.Name, "msp")
	read := func(pattern string) []byte {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil || len(files) != 1 {
			t.Fatalf("%s's peer: %s: %d files, %v", org, filepath.Join(dir, pattern), len(files), err)
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cert := read("signcerts/*.pem")
	key, err := identity.PrivateKeyFromPEM(read("keystore/*"))
	if err != nil {
		t.Fatalf("%s's peer key: %v", org, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		t.Fatal(err)
	}
	return peerSigner{mspID: o.MSPID, cert: cert, sign: sign}
}

// endorse signs a proposal response payload as the peer: an endorsement the validator accepts from
// this peer.
func (p peerSigner) endorse(prp []byte) (*peer.Endorsement, error) {
	endorser, err := proto.Marshal(&msp.SerializedIdentity{Mspid: p.mspID, IdBytes: p.cert})
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(append(append([]byte(nil), prp...), endorser...))
	sig, err := p.sign(digest[:])
	if err != nil {
		return nil, err
	}
	return &peer.Endorsement{Endorser: endorser, Signature: sig}, nil
}

// writeSet is the forger's write set of one namespace.
type writeSet struct {
	writes   []*kvrwset.KVWrite
	metadata []*kvrwset.KVMetadataWrite
}

// forge submits, as VendorOrg's client "vendor" through VendorOrg's Gateway, a transaction of
// chaincode cc whose write set the forger chose: it takes a real endorsed response of a harmless
// read-only transaction of cc (GetConfig, endorsed by VendorOrg's peer: the chaincode's name,
// version and the rest of the read-write set are right), replaces the write set of cc's namespace
// with build's (given the transaction's id and timestamp), signs the changed response payload again
// with the keys of the peers of orgs (organization keys) and submits it, the envelope signed by the
// vendor client. It returns the commit status once every peer holds the block.
func forge(t *testing.T, cc string, orgs []string, build func(txID string, at time.Time) writeSet) *client.Status {
	t.Helper()
	gw, err := nw.Gateway("vendor")
	if err != nil {
		t.Fatal(err)
	}
	proposal, err := gw.GetNetwork(nw.Info.Channel).GetContract(cc).NewProposal("GetConfig", client.WithEndorsingOrganizations(vendorMSP))
	if err != nil {
		t.Fatal(err)
	}
	real, err := proposal.Endorse()
	if err != nil {
		t.Fatalf("%s.GetConfig endorsed by VendorOrg's peer: %s", cc, fabnet.ErrorText(err))
	}
	raw, err := real.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	forgedTx, err := rewrite(raw, cc, build, orgs)
	if err != nil {
		t.Fatalf("forge a transaction of %s: %v", cc, err)
	}
	tx, err := gw.NewTransaction(forgedTx)
	if err != nil {
		t.Fatal(err)
	}
	commit, err := tx.Submit()
	if err != nil {
		t.Fatalf("submit the forged transaction: %s", fabnet.ErrorText(err))
	}
	status, err := commit.Status()
	if err != nil {
		t.Fatalf("commit status of the forged transaction: %s", fabnet.ErrorText(err))
	}
	if err := nw.WaitForBlock(status.BlockNumber, time.Minute); err != nil {
		t.Fatal(err)
	}
	return status
}

// rewrite replaces the write set of namespace cc in a prepared transaction (gateway.PreparedTransaction)
// and its endorsements by those of the peers of orgs; the envelope's signature is left to the
// submitter.
func rewrite(prepared []byte, cc string, build func(txID string, at time.Time) writeSet, orgs []string) ([]byte, error) {
	var pt gateway.PreparedTransaction
	var payload common.Payload
	var ch common.ChannelHeader
	var tr peer.Transaction
	var cap peer.ChaincodeActionPayload
	var prp peer.ProposalResponsePayload
	var ca peer.ChaincodeAction
	var rws rwset.TxReadWriteSet
	if err := unmarshal(prepared, &pt, "prepared transaction"); err != nil {
		return nil, err
	}
	if err := unmarshal(pt.GetEnvelope().GetPayload(), &payload, "payload"); err != nil {
		return nil, err
	}
	if err := unmarshal(payload.GetHeader().GetChannelHeader(), &ch, "channel header"); err != nil {
		return nil, err
	}
	if err := unmarshal(payload.GetData(), &tr, "transaction"); err != nil {
		return nil, err
	}
	if len(tr.GetActions()) != 1 {
		return nil, fmt.Errorf("%d actions, want 1", len(tr.GetActions()))
	}
	if err := unmarshal(tr.Actions[0].GetPayload(), &cap, "chaincode action payload"); err != nil {
		return nil, err
	}
	if err := unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp, "proposal response payload"); err != nil {
		return nil, err
	}
	if err := unmarshal(prp.GetExtension(), &ca, "chaincode action"); err != nil {
		return nil, err
	}
	if ca.GetChaincodeId().GetName() != cc {
		return nil, fmt.Errorf("the response is of chaincode %q, want %q", ca.GetChaincodeId().GetName(), cc)
	}
	if err := unmarshal(ca.GetResults(), &rws, "read-write set"); err != nil {
		return nil, err
	}
	ws := build(ch.GetTxId(), ch.GetTimestamp().AsTime())
	var ns *rwset.NsReadWriteSet
	for _, n := range rws.GetNsRwset() {
		if n.GetNamespace() == cc {
			ns = n
		}
	}
	if ns == nil {
		ns = &rwset.NsReadWriteSet{Namespace: cc}
		rws.NsRwset = append(rws.NsRwset, ns)
	}
	var kv kvrwset.KVRWSet
	if err := unmarshal(ns.GetRwset(), &kv, "namespace "+cc); err != nil {
		return nil, err
	}
	kv.Writes, kv.MetadataWrites = ws.writes, ws.metadata
	var err error
	if ns.Rwset, err = proto.Marshal(&kv); err != nil {
		return nil, err
	}
	if ca.Results, err = proto.Marshal(&rws); err != nil {
		return nil, err
	}
	if prp.Extension, err = proto.Marshal(&ca); err != nil {
		return nil, err
	}
	prpBytes, err := proto.Marshal(&prp)
	if err != nil {
		return nil, err
	}
	cap.Action.ProposalResponsePayload = prpBytes
	cap.Action.Endorsements = nil
	for _, org := range orgs {
		e, err := signers[org].endorse(prpBytes)
		if err != nil {
			return nil, err
		}
		cap.Action.Endorsements = append(cap.Action.Endorsements, e)
	}
	if tr.Actions[0].Payload, err = proto.Marshal(&cap); err != nil {
		return nil, err
	}
	if payload.Data, err = proto.Marshal(&tr); err != nil {
		return nil, err
	}
	if pt.Envelope.Payload, err = proto.Marshal(&payload); err != nil {
		return nil, err
	}
	pt.Envelope.Signature = nil
	return proto.Marshal(&pt)
}

// signers are the peers' signing identities by organization key (loaded by the forgery test).
var signers = map[string]peerSigner{}

// forgeView is what a forged transaction could change, read back through the chaincodes: every
// peer's block height, the SLA record (with the provider's copy of the terms), the wallets'
// accounts, the escrow, the supply and the issuer's audit of the money.
type forgeView struct {
	Heights  map[string]uint64
	SLA      string
	Wallets  map[string]string
	Escrow   string
	Supply   string
	Audit    string
	AuditErr string
}

type forgeWorld struct {
	slaID, period string
	wallets       []string
}

func (w *forgeWorld) view(t *testing.T) forgeView {
	t.Helper()
	v := forgeView{Heights: map[string]uint64{}, Wallets: map[string]string{}}
	for _, org := range nw.PeerOrgs() {
		h, err := nw.Height(org)
		if err != nil {
			t.Fatal(err)
		}
		v.Heights[org] = h
	}
	v.SLA = string(nw.MustGetSLA(t, "provider", w.slaID))
	for _, id := range w.wallets {
		v.Wallets[id] = string(nw.MustEvaluate(t, "issuer", "refund", "BalanceOf", id))
	}
	v.Escrow = string(nw.MustEvaluate(t, "provider", "refund", "GetEscrow", w.slaID, w.period))
	v.Supply = string(nw.MustEvaluate(t, "vendor", "refund", "GetSupply"))
	out, err := nw.CLI("audit", "--json", "--as", "issuer")
	v.Audit = out
	if err != nil {
		v.AuditErr = err.Error()
	}
	return v
}

// audit is the part of `slasa audit --json` the test reads.
type audit struct {
	Consistent bool  `json:"consistent"`
	Difference int64 `json:"difference"`
}

func (v forgeView) audit(t *testing.T) audit {
	t.Helper()
	var a audit
	if err := json.Unmarshal([]byte(v.Audit), &a); err != nil {
		t.Fatalf("slasa audit --json: %v\n%s%s", err, v.Audit, v.AuditErr)
	}
	return a
}

// TestThirdOrganizationCannotForge: VendorOrg controls its own peer and signs, with its key, write
// sets it chose itself (taken from a real endorsed response of the same chaincode); with
// ProviderOrg it also has ProviderOrg's peer's key. Alone, or with one party, it rewrites another
// organization's wallet (a huge balance, or its key-level policy taken over), an SLA's status, an
// escrow (released, deleted) and the issuer's supply, and credits a wallet of its own: every such
// transaction is ordered and committed as invalid, ENDORSEMENT_POLICY_FAILURE, one block more on
// every peer and nothing else changed (the SLA record, the wallets, the escrow, the supply, the
// audit). The positive control: the same machinery, endorsed by VendorOrg's and ProviderOrg's peers,
// creates a new credit key of VendorOrg's wallet (a new key only needs the chaincode policy, any two
// organizations) and commits VALID: the residual of design D2/D3 (two colluding organizations
// create money from nothing), which the issuer's audit shows.
func TestThirdOrganizationCannotForge(t *testing.T) {
	for _, org := range []string{"vendor", "provider", "client"} {
		signers[org] = loadPeerSigner(t, org)
	}
	V, P, C := "vendor", "provider", "client"
	sfx := strconv.FormatInt(time.Now().UnixNano(), 36)
	fc, fp, fv := "fc-"+sfx, "fp-"+sfx, "fv-"+sfx
	nw.MustSubmit(t, "client", "refund", "OpenAccount", fc)
	nw.MustSubmit(t, "provider", "refund", "OpenAccount", fp)
	nw.MustSubmit(t, "vendor", "refund", "OpenAccount", fv)
	nw.MustSubmit(t, "issuer", "refund", "Mint", fc, "500000")

	// An SLA between the provider and the client, accepted: its first period's fee is in escrow.
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Truncate(time.Minute).Add(time.Hour)
	s.ID = "forge-" + sfx
	if s.Nonce, err = sla.NewNonce(); err != nil {
		t.Fatal(err)
	}
	s.Parties.Provider.Wallet, s.Parties.Client.Wallet = fp, fc
	s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: start.Add(time.Hour).Format(time.RFC3339)}
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: 60}
	s.Interval.SubIntervalSeconds = 1
	doc, _ := json.Marshal(s)
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	nw.MustProposeSLA(t, "provider", doc, nw.SignB64(t, "provider", d[:]))
	nw.MustAcceptSLA(t, "client", doc, s.ID, fmt.Sprintf("%x", d[:]), nw.SignB64(t, "client", d[:]))
	w := &forgeWorld{slaID: s.ID, period: start.Format(time.RFC3339), wallets: []string{fc, fp, fv}}

	// What the forger reads in the blocks its own peer holds: the keys and their committed values.
	txs := decodeTxs(t, fetchBlocks(t, "vendor"))
	committed := func(ns, key string) []byte {
		t.Helper()
		v, ok := committedValue(txs, ns, key)
		if !ok {
			t.Fatalf("no committed value of %s key %q in the blocks", ns, key)
		}
		return v
	}
	slaKey, walletKey := compositeKey("sla", s.ID), compositeKey("account", fc)
	escrowKey, supplyKey := compositeKey("escrow", s.ID, w.period), compositeKey("supply", providerMSP)
	slaRec, wallet, escrow, supply := committed("agreement", slaKey), committed("refund", walletKey), committed("refund", escrowKey), committed("refund", supplyKey)

	put := func(key string, value []byte) func(string, time.Time) writeSet {
		return func(string, time.Time) writeSet {
			return writeSet{writes: []*kvrwset.KVWrite{{Key: key, Value: value}}}
		}
	}
	del := func(key string) func(string, time.Time) writeSet {
		return func(string, time.Time) writeSet {
			return writeSet{writes: []*kvrwset.KVWrite{{Key: key, IsDelete: true}}}
		}
	}
	onlyVendor, err := ccpolicy.AllOf(vendorMSP)
	if err != nil {
		t.Fatal(err)
	}
	takeOver := func(key string) func(string, time.Time) writeSet {
		return func(string, time.Time) writeSet {
			return writeSet{metadata: []*kvrwset.KVMetadataWrite{{Key: key, Entries: []*kvrwset.KVMetadataEntry{{Name: validationParameter, Value: onlyVendor}}}}}
		}
	}
	const planted = 1 << 40
	// A credit of VendorOrg's wallet as the refund chaincode writes one (key, value, the wallet's
	// key-level policy), so that it counts in the balance when it commits.
	creditVendor := func(txID string, at time.Time) writeSet {
		cfg, err := nw.DeployConfig("vendor")
		if err != nil {
			t.Fatal(err)
		}
		policy, err := ccpolicy.OwnerAndOneOf(vendorMSP, cfg.Orgs)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("delta/%s/%020d/%s/%03d", fv, at.UnixNano(), txID, 0)
		value, _ := json.Marshal(map[string]any{"wallet": fv, "amount": planted, "kind": "service_credit", "tx_id": txID,
			"timestamp": at.UTC().Format(time.RFC3339Nano)})
		return writeSet{writes: []*kvrwset.KVWrite{{Key: key, Value: value}},
			metadata: []*kvrwset.KVMetadataWrite{{Key: key, Entries: []*kvrwset.KVMetadataEntry{{Name: validationParameter, Value: policy}}}}}
	}

	for _, tc := range []struct {
		name  string
		cc    string
		write func(string, time.Time) writeSet
		by    [][]string
	}{
		{"rewrite the client's wallet to a huge balance", "refund", put(walletKey, setJSON(t, wallet, "base", planted)), [][]string{{V}, {V, P}}},
		{"take over the client's wallet", "refund", takeOver(walletKey), [][]string{{V}, {V, P}}},
		{"terminate the SLA", "agreement", put(slaKey, setJSON(t, slaRec, "status", "TERMINATED")), [][]string{{V}, {V, P}, {V, C}}},
		{"take over the SLA record", "agreement", takeOver(slaKey), [][]string{{V, P}, {V, C}}},
		{"release the escrow", "refund", put(escrowKey, setJSON(t, setJSON(t, escrow, "status", "SETTLED"), "held", 0)), [][]string{{V}, {V, P}, {V, C}}},
		{"raise the escrow's amount", "refund", put(escrowKey, setJSON(t, escrow, "amount", planted)), [][]string{{V, P}, {V, C}}},
		{"delete the escrow", "refund", del(escrowKey), [][]string{{V, P}, {V, C}}},
		{"inflate the issuer's supply", "refund", put(supplyKey, setJSON(t, supply, "minted", planted)), [][]string{{V}, {V, C}}},
		{"credit its own wallet alone", "refund", creditVendor, [][]string{{V}}},
	} {
		for _, by := range tc.by {
			t.Run(tc.name+" endorsed by "+strings.Join(by, "+"), func(t *testing.T) {
				before := w.view(t)
				if a := before.audit(t); !a.Consistent {
					t.Fatalf("the money does not add up before the attack:\n%s", before.Audit)
				}
				status := forge(t, tc.cc, by, tc.write)
				if status.Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
					t.Fatalf("forged transaction %s committed as %s, want ENDORSEMENT_POLICY_FAILURE", status.TransactionID, status.Code)
				}
				after := w.view(t)
				for org, h := range before.Heights {
					if after.Heights[org] != h+1 {
						t.Errorf("%s's peer went from height %d to %d; want one (invalid) block more", org, h, after.Heights[org])
					}
				}
				after.Heights = before.Heights
				if !reflect.DeepEqual(before, after) {
					t.Fatalf("an invalid forged transaction changed the world:\nbefore %+v\nafter  %+v", before, after)
				}
				t.Logf("block %d: %s", status.BlockNumber, status.Code)
			})
		}
	}

	// The positive control: the two signers satisfy the chaincode policy of a new key.
	before := w.view(t)
	status := forge(t, "refund", []string{V, P}, creditVendor)
	if status.Code != peer.TxValidationCode_VALID {
		t.Fatalf("control: a new credit key endorsed by VendorOrg's and ProviderOrg's peers committed as %s, want VALID: the forgery machinery is broken", status.Code)
	}
	after := w.view(t)
	var acc struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal([]byte(after.Wallets[fv]), &acc); err != nil || acc.Balance != planted {
		t.Fatalf("control: VendorOrg's wallet after its planted credit: %s, want balance %d", after.Wallets[fv], planted)
	}
	if a := after.audit(t); a.Consistent || a.Difference != planted {
		t.Fatalf("control: the audit after a planted credit of %d: %s", planted, after.Audit)
	}
	if after.SLA != before.SLA || after.Escrow != before.Escrow || after.Supply != before.Supply ||
		after.Wallets[fc] != before.Wallets[fc] || after.Wallets[fp] != before.Wallets[fp] {
		t.Fatalf("control: the planted credit changed more than VendorOrg's wallet:\nbefore %+v\nafter  %+v", before, after)
	}
	t.Logf("control: VendorOrg+ProviderOrg created a credit of %d in block %d (VALID); the audit shows a difference of %d", planted, status.BlockNumber, after.audit(t).Difference)
}

// setJSON returns the JSON object raw with field set to value; the field must exist.
func setJSON(t *testing.T, raw []byte, field string, value any) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	if _, ok := m[field]; !ok {
		t.Fatalf("no field %q in %s", field, raw)
	}
	v, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	m[field] = v
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out, raw) {
		t.Fatalf("setting %s to %v changes nothing in %s", field, value, raw)
	}
	return out
}
