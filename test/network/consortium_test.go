//go:build integration

package network

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/test/harness"
)

// anyTwo is the smoke chaincode deployed with harness.AnyTwoPolicy (OutOf(2, every peer org)).
const anyTwo = "anytwo"

// TestConsortiumDefault checks the default network (SLASA_ORGS=3: ProviderOrg, ClientOrg, VendorOrg
// with a peer, OtherOrg without) like TestConsortium checks the larger ones.
func TestConsortiumDefault(t *testing.T) {
	checkConsortium(t, net, fabnet.DefaultOrgs)
}

// TestConsortium starts networks of SLASA_ORGS=4 (OtherOrg with a peer of its own) and 5 (Org5 too),
// one after the other, and checks each like the default one. SLASA_TEST_ORGS (e.g. "10" or "4,5,10")
// chooses other sizes; each size's network-up, deployment time and memory are logged.
func TestConsortium(t *testing.T) {
	sizes := []int{4, 5}
	if v := os.Getenv("SLASA_TEST_ORGS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < fabnet.MinOrgs || n > fabnet.MaxOrgs {
				t.Fatalf("SLASA_TEST_ORGS: %q is not a number of organizations %d..%d", f, fabnet.MinOrgs, fabnet.MaxOrgs)
			}
			sizes = append(sizes, n)
		}
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("orgs=%d", size), func(t *testing.T) {
			start := time.Now()
			n, err := harness.Start(harness.Options{Orgs: size, Env: []string{"SLASA_WITH_IPFS=0"}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := n.Stop(); err != nil {
					t.Error(err)
				}
			}()
			up := time.Since(start)
			start = time.Now()
			if err := n.Deploy(harness.Chaincode{Source: "smoke", Name: anyTwo, Policy: harness.AnyTwoPolicy}); err != nil {
				t.Fatal(err)
			}
			deployed := time.Since(start)
			rss, procs := n.ResidentMemory()
			t.Logf("%d organizations: network up in %s, smoke deployed (%d servers) in %s; %d processes, %d MB resident",
				size, up.Round(time.Second), size, deployed.Round(time.Second), procs, rss>>20)
			checkConsortium(t, n, size)
			if err := n.WriteDeployConfig(false); err != nil {
				t.Fatal(err)
			}
			var first []byte
			for _, org := range n.PeerOrgs() {
				cfg, err := n.DeployConfig(org)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(cfg.Orgs, n.PeerMSPIDs()) || len(cfg.MSPs) != len(n.Info.Orgs) {
					t.Errorf("%s's deploy configuration: orgs %v, %d MSPs; want %v and every one of the %d organizations", org, cfg.Orgs, len(cfg.MSPs), n.PeerMSPIDs(), len(n.Info.Orgs))
				}
				data, err := os.ReadFile(n.DeployConfigPath(org))
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = data
				} else if string(data) != string(first) {
					t.Errorf("%s's deploy configuration differs from the others'", org)
				}
			}
		})
	}
}

// checkConsortium checks a network of size organizations with a peer: the organization table, every
// peer up, joined, with its anchor peer and knowing every other peer through gossip, every identity a
// member, each organization's own chaincode server, and the any-two policy: two organizations'
// endorsements commit, one organization's is invalidated at commit.
func checkConsortium(t *testing.T, n *harness.Network, size int) {
	t.Helper()
	want, err := fabnet.NetworkOrgs(size)
	if err != nil {
		t.Fatal(err)
	}
	// The organization table: every application organization under its key, peers at their ports.
	var keys, peerKeys, msps []string
	for _, o := range want {
		keys = append(keys, o.Key)
		got, ok := n.Info.Orgs[o.Key]
		if !ok {
			t.Fatalf("network.json has no organization %q", o.Key)
		}
		if got.MSPID != o.MSPID || got.Domain != o.Domain {
			t.Errorf("%s: MSP %s, domain %s; want %s, %s", o.Key, got.MSPID, got.Domain, o.MSPID, o.Domain)
		}
		if !o.HasPeer {
			if got.GatewayOf != "client" || got.Peer.Name != "peer0.clientorg.slasa.local" {
				t.Errorf("%s: gatewayOf %q, peer %s; want ClientOrg's peer", o.Key, got.GatewayOf, got.Peer.Name)
			}
			continue
		}
		peerKeys = append(peerKeys, o.Key)
		msps = append(msps, o.MSPID)
		if addr := "127.0.0.1:" + strconv.Itoa(o.PeerPort(n.Info.PortBase)); got.GatewayOf != "" || got.Peer.Name != "peer0."+o.Domain || got.Peer.Address != addr {
			t.Errorf("%s: gatewayOf %q, peer %s at %s; want its own peer at %s", o.Key, got.GatewayOf, got.Peer.Name, got.Peer.Address, addr)
		}
	}
	if len(n.Info.Orgs) != len(keys) {
		t.Errorf("network.json organizations %d, want %v", len(n.Info.Orgs), keys)
	}
	slices.Sort(peerKeys)
	if !slices.Equal(n.PeerOrgs(), peerKeys) {
		t.Errorf("PeerOrgs = %v, want %v", n.PeerOrgs(), peerKeys)
	}

	// Every peer: healthy, joined (genesis plus one anchor peer update per organization), and knowing
	// every other peer of the channel through gossip.
	for _, org := range n.PeerOrgs() {
		o := n.Info.Orgs[org]
		if code := httpStatus(t, "http://"+o.Peer.OperationsAddress+"/healthz"); code != http.StatusOK {
			t.Errorf("%s: /healthz %d", org, code)
		}
		h, err := n.Height(org)
		if err != nil || h < uint64(1+len(peerKeys)) {
			t.Errorf("%s: height %d, %v; want >= %d", org, h, err, 1+len(peerKeys))
		}
		if k := peersKnown(t, o.Peer.OperationsAddress, n.Info.Channel); k != len(peerKeys)-1 {
			t.Errorf("%s: the peer knows %d other peers through gossip, want %d", org, k, len(peerKeys)-1)
		}
	}

	// Every identity of the network is a member of its organization, through its organization's Gateway.
	names := n.Info.IdentityNames()
	for _, o := range want {
		for _, id := range []string{o.Key, o.Key + "-admin"} {
			if !slices.Contains(names, id) {
				t.Errorf("identity %s missing from network.json (names %v)", id, names)
			}
		}
	}
	for _, id := range names {
		org, user, _ := fabnet.Identity(id)
		o := n.Info.Orgs[org]
		c := n.MustContract(t, id, anyTwo)
		cn, errCN := c.EvaluateTransaction("Whoami")
		msp, errMSP := c.EvaluateTransaction("MSPID")
		if errCN != nil || errMSP != nil || string(cn) != o.Users[user].CommonName || string(msp) != o.MSPID {
			t.Errorf("%s: Whoami %q (%s), MSPID %q (%s); want %s of %s", id, cn, fabnet.ErrorText(errCN), msp, fabnet.ErrorText(errMSP), o.Users[user].CommonName, o.MSPID)
		}
	}

	// The any-two chaincode: its policy names every organization with a peer; each organization runs
	// its own server, which knows its organization (CORE_PEER_LOCALMSPID).
	d := n.Info.Chaincodes[anyTwo]
	if wantPolicy := fabnet.AnyTwoPolicy(msps); d.Policy != wantPolicy || n.Info.AnyTwoPolicy() != wantPolicy {
		t.Errorf("%s policy %s, want %s", anyTwo, d.Policy, wantPolicy)
	}
	for _, org := range n.PeerOrgs() {
		s, err := d.Server(org)
		if err != nil {
			t.Fatal(err)
		}
		msp := n.Info.Orgs[org].MSPID
		got, err := n.MustContract(t, "provider", anyTwo).Evaluate("PeerMSPID", client.WithEndorsingOrganizations(msp))
		if err != nil || string(got) != msp || s.MSPID != msp {
			t.Errorf("%s: PeerMSPID on its peer = %q, %s; server %+v", org, got, fabnet.ErrorText(err), s)
		}
	}

	// Any two organizations commit, through either one's Gateway; one organization alone is invalidated
	// at commit and changes nothing.
	peers := n.Info.PeerOrgsInOrder()
	for i, org := range peers {
		next := peers[(i+1)%len(peers)]
		key := "pair-" + org
		a, b := n.Info.Orgs[org].MSPID, n.Info.Orgs[next].MSPID
		if code := submit(t, n, org, key, "two", a, b); code != peer.TxValidationCode_VALID {
			t.Errorf("Put endorsed by %s and %s: %s, want VALID", a, b, code)
		}
		if code := submit(t, n, org, key, "one", a); code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
			t.Errorf("Put endorsed by %s alone: %s, want ENDORSEMENT_POLICY_FAILURE", a, code)
		}
		// The Gateway plans a valid endorsement by itself.
		if _, err := n.SubmitAndSync(org, anyTwo, "Put", key+"-planned", "x"); err != nil {
			t.Errorf("Put through %s's Gateway, endorsers planned: %s", org, fabnet.ErrorText(err))
		}
		got, err := n.MustContract(t, next, anyTwo).EvaluateTransaction("Get", key)
		if err != nil || string(got) != "two" {
			t.Errorf("Get(%s) as %s = %q, %s; want two (the single-organization Put changed nothing)", key, next, got, fabnet.ErrorText(err))
		}
	}
}

// submit submits Put(key, value) as identity, endorsed by exactly the organizations msps, and returns
// the commit's validation code once every peer holds its block.
func submit(t *testing.T, n *harness.Network, identity, key, value string, msps ...string) peer.TxValidationCode {
	t.Helper()
	_, commit, err := n.MustContract(t, identity, anyTwo).SubmitAsync("Put",
		client.WithArguments(key, value), client.WithEndorsingOrganizations(msps...))
	if err != nil {
		t.Fatalf("Put endorsed by %v: %s", msps, fabnet.ErrorText(err))
	}
	status, err := commit.Status()
	if err != nil {
		t.Fatalf("commit status of Put endorsed by %v: %s", msps, fabnet.ErrorText(err))
	}
	if err := n.WaitForBlock(status.BlockNumber, time.Minute); err != nil {
		t.Fatal(err)
	}
	return status.Code
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// peersKnown reads the gauge gossip_membership_total_peers_known of the channel from a peer's
// Prometheus metrics: the number of other peers of the channel the peer knows.
func peersKnown(t *testing.T, opsAddress, channel string) int {
	t.Helper()
	resp, err := http.Get("http://" + opsAddress + "/metrics")
	if err != nil {
		t.Errorf("metrics of %s: %v", opsAddress, err)
		return -1
	}
	defer resp.Body.Close()
	prefix := `gossip_membership_total_peers_known{channel="` + channel + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Errorf("metrics of %s: %q: %v", opsAddress, sc.Text(), err)
				return -1
			}
			return int(f)
		}
	}
	t.Errorf("metrics of %s: no %s", opsAddress, strings.TrimSpace(prefix))
	return -1
}
