//go:build integration

// Package network checks the network tooling of the trust anchors (issue 14) on a real network started
// with a second root CA of ProviderOrg (SLASA_SECOND_CA=1): every named identity, including the two
// impostors of provider (same common name from ca2, same common name with the admin role), is a valid
// member through the Gateway; every organization runs its own chaincode servers and endorses only
// through them; each organization's deploy configuration is written from the real channel
// configuration block and is the same for all; `slasa config record` and `slasa config show` drive a
// contract wired to internal/ccguard (test/chaincode/guarded) like agreement, refund and ercc.
//
// The consortium tests (issue 15) check the organization table on the default network (three
// organizations with a peer) and on networks of SLASA_ORGS=4 and 5 they start themselves: every peer
// up, joined and gossiping, every identity a member, and the any-two endorsement policy.
package network

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/test/harness"
)

var net *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{
		Env: []string{"SLASA_SECOND_CA=1", "SLASA_WITH_IPFS=0", "SLASA_MAX_CLOCK_SKEW=3m"},
		Chaincodes: []harness.Chaincode{{Source: "smoke"}, {Source: "baseline"}, {Source: "guarded"},
			{Source: "smoke", Name: anyTwo, Policy: harness.AnyTwoPolicy}},
	}, &net))
}

const (
	caDN  = "CN=ca.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US"
	ca2DN = "CN=ca2.providerorg.slasa.local,O=providerorg.slasa.local,L=San Francisco,ST=California,C=US"
)

func TestIdentities(t *testing.T) {
	tests := []struct {
		identity, cn, msp, role, issuer string
	}{
		{"provider", "provider@providerorg.slasa.local", "ProviderOrgMSP", "client", caDN},
		{"logger", "logger@providerorg.slasa.local", "ProviderOrgMSP", "client", caDN},
		{"issuer", "issuer@providerorg.slasa.local", "ProviderOrgMSP", "admin", caDN},
		{"provider-admin", "Admin@providerorg.slasa.local", "ProviderOrgMSP", "admin", caDN},
		{"provider-ca2", "provider@providerorg.slasa.local", "ProviderOrgMSP", "client", ca2DN},
		{"provider-admin-role", "provider@providerorg.slasa.local", "ProviderOrgMSP", "admin", caDN},
		{"client", "client@clientorg.slasa.local", "ClientOrgMSP", "client", ""},
		{"client-admin", "Admin@clientorg.slasa.local", "ClientOrgMSP", "admin", ""},
		{"vendor", "vendor@vendororg.slasa.local", "VendorOrgMSP", "client", ""},
		{"vendor-admin", "Admin@vendororg.slasa.local", "VendorOrgMSP", "admin", ""},
		{"other", "other@otherorg.slasa.local", "OtherOrgMSP", "client", ""},
		{"other-admin", "Admin@otherorg.slasa.local", "OtherOrgMSP", "admin", ""},
	}
	if len(tests) != len(fabnet.IdentityNames()) || len(tests) != len(net.Info.IdentityNames()) {
		t.Fatalf("the table covers %d identities, fabnet knows %v, the network %v", len(tests), fabnet.IdentityNames(), net.Info.IdentityNames())
	}
	for _, tt := range tests {
		t.Run(tt.identity, func(t *testing.T) {
			// The peer accepts the identity as a member of its MSP (through the Gateway).
			c, err := net.Contract(tt.identity, "smoke")
			if err != nil {
				t.Fatal(err)
			}
			cn, err := c.EvaluateTransaction("Whoami")
			if err != nil {
				t.Fatalf("Whoami: %s", fabnet.ErrorText(err))
			}
			msp, err := c.EvaluateTransaction("MSPID")
			if err != nil {
				t.Fatalf("MSPID: %s", fabnet.ErrorText(err))
			}
			if string(cn) != tt.cn || string(msp) != tt.msp {
				t.Errorf("Whoami, MSPID = %q, %q; want %q, %q", cn, msp, tt.cn, tt.msp)
			}
			// slasa identity names it as the chaincodes compare it.
			out, err := net.CLI("--as", tt.identity, "identity", "--json")
			if err != nil {
				t.Fatal(err)
			}
			var id struct {
				Party struct {
					Subject string `json:"subject"`
					Issuer  string `json:"issuer"`
				} `json:"party"`
				Role string `json:"role"`
			}
			if err := json.Unmarshal([]byte(out), &id); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if id.Role != tt.role || !strings.HasPrefix(id.Party.Subject, "CN="+tt.cn+",OU="+tt.role+",") {
				t.Errorf("slasa identity: role %q subject %q; want role %q", id.Role, id.Party.Subject, tt.role)
			}
			if tt.issuer != "" && id.Party.Issuer != tt.issuer {
				t.Errorf("slasa identity: issuer %q, want %q", id.Party.Issuer, tt.issuer)
			}
		})
	}
	// A transaction of the ca2 identity is endorsed by the two organizations' peers and commits.
	if _, err := net.SubmitAndSync("provider-ca2", "smoke", "Put", "from-ca2", "v"); err != nil {
		t.Fatalf("Put as provider-ca2: %s", fabnet.ErrorText(err))
	}
	got, err := net.MustContract(t, "client", "smoke").EvaluateTransaction("Get", "from-ca2")
	if err != nil || string(got) != "v" {
		t.Fatalf("Get(from-ca2) as client = %q, %v", got, err)
	}
}

func TestServersPerOrganization(t *testing.T) {
	for _, cc := range []string{"smoke", "baseline"} {
		d := net.Info.Chaincodes[cc]
		if len(d.Servers) != 3 {
			t.Errorf("%s servers %v, want one per organization with a peer", cc, d.Servers)
		}
		p, errP := d.Server("provider")
		c, errC := d.Server("client")
		v, errV := d.Server("vendor")
		if errP != nil || errC != nil || errV != nil {
			t.Fatalf("%s servers: %v, %v, %v", cc, errP, errC, errV)
		}
		if p.Address == c.Address || p.PackageID == c.PackageID || p.Node != "chaincode-"+cc+"-provider" || c.MSPID != "ClientOrgMSP" ||
			v.Address == p.Address || v.Address == c.Address || v.MSPID != "VendorOrgMSP" || v.Node != "chaincode-"+cc+"-vendor" {
			t.Errorf("%s servers: provider %+v, client %+v, vendor %+v; want their own address, package and node", cc, p, c, v)
		}
		if d.Policy != "AND('ProviderOrgMSP.peer','ClientOrgMSP.peer')" {
			t.Errorf("%s policy %s, want the test chaincodes' default AND of ProviderOrg and ClientOrg", cc, d.Policy)
		}
		if d.Address != p.Address || d.PackageID != p.PackageID || d.HostOrg != "provider" {
			t.Errorf("%s: address %s, packageId %s, hostOrg %q; want the host (provider) server's", cc, d.Address, d.PackageID, d.HostOrg)
		}
	}
	// Without its own server ClientOrg's peer cannot run the chaincode; ProviderOrg's still can.
	if err := net.StopServer("smoke", "client"); err != nil {
		t.Fatal(err)
	}
	// (The Gateway's Evaluate falls back to another organization's peer unless told which one.)
	on := func(msp string) client.ProposalOption { return client.WithEndorsingOrganizations(msp) }
	_, err := net.MustContract(t, "client", "smoke").Evaluate("Whoami", on("ClientOrgMSP"))
	if err == nil || !strings.Contains(fabnet.ErrorText(err), "connection refused") {
		t.Errorf("Whoami on the client peer without its server: %v, want connection refused", fabnet.ErrorText(err))
	}
	if _, err := net.MustContract(t, "client", "smoke").Evaluate("Whoami", on("ProviderOrgMSP")); err != nil {
		t.Errorf("Whoami on the provider peer: %s", fabnet.ErrorText(err))
	}
	if _, err := net.MustContract(t, "provider", "smoke").SubmitTransaction("Put", "no-client-server", "x"); err == nil {
		t.Error("Put committed without ClientOrg's server, whose peer must endorse")
	}
	if err := net.StartServer("smoke", "client"); err != nil {
		t.Fatal(err)
	}
	if _, err := net.SubmitAndSync("client", "smoke", "Put", "client-server-back", "y"); err != nil {
		t.Fatalf("Put after restarting the client's server: %s", fabnet.ErrorText(err))
	}
	// Redeploying gives each organization a new package of the next sequence and restarts its server.
	before := net.Info.Chaincodes["baseline"]
	if err := net.Deploy(harness.Chaincode{Source: "baseline"}); err != nil {
		t.Fatal(err)
	}
	after := net.Info.Chaincodes["baseline"]
	for _, org := range []string{"provider", "client", "vendor"} {
		b, a := before.Servers[org], after.Servers[org]
		if after.Sequence != before.Sequence+1 || a.Address != b.Address || a.PackageID == b.PackageID || !strings.HasPrefix(a.PackageID, "baseline_2_"+org+":") {
			t.Errorf("redeploy %s: sequence %d -> %d, %+v -> %+v", org, before.Sequence, after.Sequence, b, a)
		}
	}
}

func TestDeployConfig(t *testing.T) {
	if err := net.WriteDeployConfig(false); err != nil {
		t.Fatal(err)
	}
	p, err := os.ReadFile(net.DeployConfigPath("provider"))
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"client", "vendor"} {
		c, err := os.ReadFile(net.DeployConfigPath(org))
		if err != nil {
			t.Fatal(err)
		}
		if string(p) != string(c) {
			t.Fatalf("the deploy configurations of provider and %s differ", org)
		}
	}
	cfg, err := net.DeployConfig("client")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Channel != net.Info.Channel || !slices.Equal(cfg.Orgs, []string{"ClientOrgMSP", "ProviderOrgMSP", "VendorOrgMSP"}) ||
		cfg.IssuerMSPID != "ProviderOrgMSP" || cfg.Enclave != (deploycfg.Enclave{HostMSPID: "ProviderOrgMSP", Attestation: "simulated"}) ||
		cfg.Chaincodes != (deploycfg.Chaincodes{Agreement: "agreement", Refund: "refund", Registry: "ercc", Enclave: "slaenclave"}) {
		t.Errorf("config %+v", cfg)
	}
	// The roots are the channel's: every application organization, both roots of ProviderOrg.
	var ids []string
	for _, m := range cfg.MSPs {
		ids = append(ids, m.MSPID)
		org := map[string]string{"ProviderOrgMSP": "provider", "ClientOrgMSP": "client", "VendorOrgMSP": "vendor", "OtherOrgMSP": "other"}[m.MSPID]
		entries, err := os.ReadDir(net.Info.Orgs[org].MSPDir + "/cacerts")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Roots) != len(entries) {
			t.Errorf("%s: %d roots, its MSP folder has %d CA certificates", m.MSPID, len(m.Roots), len(entries))
		}
		for _, e := range entries {
			pem, err := os.ReadFile(net.Info.Orgs[org].MSPDir + "/cacerts/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(m.Roots, strings.TrimSpace(string(pem))+"\n") {
				t.Errorf("%s: root %s missing from the deploy configuration", m.MSPID, e.Name())
			}
		}
	}
	if strings.Join(ids, ",") != "ClientOrgMSP,OtherOrgMSP,ProviderOrgMSP,VendorOrgMSP" {
		t.Errorf("msps %v", ids)
	}
	want, _ := cfg.Digest()
	out, err := net.CLI("config", "digest", net.DeployConfigPath("provider"))
	if err != nil || strings.TrimSpace(out) != want {
		t.Errorf("slasa config digest = %q, %v; want %s", out, err, want)
	}
}

// configRow is a row of `slasa config show --json`.
type configRow struct {
	Chaincode      string `json:"chaincode"`
	Peer           string `json:"peer"`
	Digest         string `json:"digest"`
	RecordedDigest string `json:"recorded_digest"`
	Agrees         bool   `json:"agrees"`
	MaxClockSkew   string `json:"max_clock_skew"`
	Error          string `json:"error"`
}

func showGuarded(t *testing.T) ([]configRow, error) {
	t.Helper()
	out, err := net.CLI("config", "show", "--chaincodes", "guarded", "--json")
	var rows []configRow
	if jerr := json.Unmarshal([]byte(out), &rows); jerr != nil {
		t.Fatalf("config show --json: %v (%v): %s", jerr, err, out)
	}
	if len(rows) != 3 || rows[0].Peer != "client" || rows[1].Peer != "provider" || rows[2].Peer != "vendor" {
		t.Fatalf("config show rows %+v, want the client, provider and vendor peers", rows)
	}
	return rows, err
}

func TestConfigRecordAndShow(t *testing.T) {
	cfg, err := net.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	d, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	guarded := func(id string) *client.Contract { return net.MustContract(t, id, "guarded") }

	// Before Configure: nothing runs, and show says nothing is recorded (exit status 1).
	if _, err := guarded("provider").SubmitTransaction("Ping"); err == nil ||
		!strings.Contains(fabnet.ErrorText(err), "the deploy configuration is not recorded on the channel yet: an admin of ClientOrgMSP or ProviderOrgMSP or VendorOrgMSP must call Configure") {
		t.Fatalf("Ping before Configure: %v", fabnet.ErrorText(err))
	}
	rows, err := showGuarded(t)
	if err == nil || !strings.Contains(err.Error(), "3 of 3 answers do not show this peer's deploy configuration recorded") {
		t.Errorf("config show before record: %v", err)
	}
	for _, r := range rows {
		if r.Digest != d || r.RecordedDigest != "" || r.Agrees || r.MaxClockSkew != "3m0s" || r.Error != "" {
			t.Errorf("before record: %+v, want digest %s, nothing recorded, skew 3m0s", r, d)
		}
	}

	// Only an admin of an approving organization may record it.
	_, err = net.CLI("--as", "provider", "config", "record", "--chaincodes", "guarded")
	if err == nil || !strings.Contains(err.Error(), `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`) {
		t.Errorf("record as provider: %v", err)
	}
	_, err = net.CLI("--as", "other-admin", "config", "record", "--chaincodes", "guarded", "--config", net.DeployConfigPath("provider"))
	if err == nil || !strings.Contains(err.Error(), "is not a member of ClientOrgMSP or ProviderOrgMSP or VendorOrgMSP") {
		t.Errorf("record as other-admin: %v", err)
	}

	// ClientOrg's admin records its organization's file; every peer sees it.
	out, err := net.CLI("--as", "client-admin", "config", "record", "--chaincodes", "guarded", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Digest     string `json:"digest"`
		Chaincodes []struct {
			Chaincode string   `json:"chaincode"`
			Recorded  bool     `json:"recorded"`
			TxID      string   `json:"tx_id"`
			Note      string   `json:"note"`
			SeenBy    []string `json:"seen_by"`
		} `json:"chaincodes"`
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Digest != d || len(rec.Chaincodes) != 1 || !rec.Chaincodes[0].Recorded || rec.Chaincodes[0].TxID == "" ||
		strings.Join(rec.Chaincodes[0].SeenBy, ",") != "client,provider,vendor" {
		t.Fatalf("record: %s", out)
	}
	// Again, by the other organization's admin: already recorded, nothing changes.
	out, err = net.CLI("--as", "provider-admin", "config", "record", "--chaincodes", "guarded", "--json")
	if err != nil || !strings.Contains(out, `"note": "already recorded"`) {
		t.Fatalf("second record: %v: %s", err, out)
	}
	rows, err = showGuarded(t)
	if err != nil {
		t.Fatalf("config show after record: %v", err)
	}
	for _, r := range rows {
		if r.Digest != d || r.RecordedDigest != d || !r.Agrees {
			t.Errorf("after record: %+v", r)
		}
	}
	if res, err := guarded("provider").SubmitTransaction("Ping"); err != nil || string(res) != "pong" {
		t.Fatalf("Ping after Configure: %q, %s", res, fabnet.ErrorText(err))
	}

	// ClientOrg runs its server with another file: its peer refuses, so nothing the policy needs it for runs.
	orig, err := os.ReadFile(net.DeployConfigPath("client"))
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := os.WriteFile(net.DeployConfigPath("client"), orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := net.Node("restart", "chaincode-guarded-client"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := net.CLI("config", "generate", "--config-block", net.RunDir()+"/orgs/client/config-block.pb",
		"--orgs", "ProviderOrgMSP,ClientOrgMSP,VendorOrgMSP", "--issuer", "ClientOrgMSP", "--enclave-host", "ProviderOrgMSP",
		"--attestation", "simulated", "--out", net.DeployConfigPath("client")); err != nil {
		t.Fatal(err)
	}
	defer restore()
	if err := net.Node("restart", "chaincode-guarded-client"); err != nil {
		t.Fatal(err)
	}
	rows, err = showGuarded(t)
	if err == nil || rows[0].Digest == d || rows[0].RecordedDigest != d || rows[0].Agrees || !rows[1].Agrees || !rows[2].Agrees {
		t.Errorf("show with ClientOrg's other file: %v, %+v", err, rows)
	}
	if _, err := guarded("provider").SubmitTransaction("Ping"); err == nil ||
		!strings.Contains(fabnet.ErrorText(err), "is not the one recorded on the channel (digest "+d+")") {
		t.Errorf("Ping with ClientOrg's other file: %v", fabnet.ErrorText(err))
	}
	restore()
	if _, err := guarded("client").SubmitTransaction("Ping"); err != nil {
		t.Errorf("Ping after ClientOrg restored its file: %s", fabnet.ErrorText(err))
	}
}
