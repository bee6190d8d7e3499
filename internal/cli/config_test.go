package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabricfake"
	"google.golang.org/protobuf/proto"
)

// testOrg is an application organization of a test channel configuration.
type testOrg struct {
	group string // the organization's group name in the channel configuration
	fab   *msp.FabricMSPConfig
	typ   int32 // MSPConfig.Type (0 FABRIC)
	noMSP bool  // leave the MSP value out
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// configBlock builds the block `peer channel fetch config` writes: Block -> Envelope -> Payload (channel
// header of type CONFIG) -> ConfigEnvelope -> Config, with an Application group holding orgs (nil
// orgs: no Application group at all).
func configBlock(t *testing.T, channel string, headerType common.HeaderType, orgs []testOrg) []byte {
	t.Helper()
	groups := map[string]*common.ConfigGroup{"Orderer": {}}
	if orgs != nil {
		app := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{}}
		for _, o := range orgs {
			g := &common.ConfigGroup{Values: map[string]*common.ConfigValue{}}
			if !o.noMSP {
				mc := &msp.MSPConfig{Type: o.typ, Config: mustMarshal(t, o.fab)}
				g.Values["MSP"] = &common.ConfigValue{Value: mustMarshal(t, mc), ModPolicy: "Admins"}
			}
			app.Groups[o.group] = g
		}
		groups["Application"] = app
	}
	cenv := &common.ConfigEnvelope{Config: &common.Config{Sequence: 3, ChannelGroup: &common.ConfigGroup{Groups: groups}}}
	ch := &common.ChannelHeader{Type: int32(headerType), ChannelId: channel}
	payload := &common.Payload{Header: &common.Header{ChannelHeader: mustMarshal(t, ch)}, Data: mustMarshal(t, cenv)}
	env := &common.Envelope{Payload: mustMarshal(t, payload)}
	block := &common.Block{Header: &common.BlockHeader{Number: 5}, Data: &common.BlockData{Data: [][]byte{mustMarshal(t, env)}}}
	return mustMarshal(t, block)
}

// testChannel is the native network's channel: ProviderOrgMSP with two roots and an intermediate,
// ClientOrgMSP, OtherOrgMSP (no peer).
type testChannel struct {
	provider, provider2, providerInter, client, other *fabricfake.CA
}

func newTestChannel() *testChannel {
	return &testChannel{
		provider:      fabricfake.MustNewCA("ProviderOrgMSP"),
		provider2:     fabricfake.MustNewNamedCA("ProviderOrgMSP", "ca2.providerorg.slasa.local", "providerorg.slasa.local"),
		providerInter: fabricfake.MustNewNamedCA("ProviderOrgMSP", "ica.providerorg.slasa.local", "providerorg.slasa.local"),
		client:        fabricfake.MustNewCA("ClientOrgMSP"),
		other:         fabricfake.MustNewCA("OtherOrgMSP"),
	}
}

func (c *testChannel) orgs() []testOrg {
	fab := func(name string, roots []*fabricfake.CA, inters ...*fabricfake.CA) *msp.FabricMSPConfig {
		f := &msp.FabricMSPConfig{Name: name}
		for _, r := range roots {
			f.RootCerts = append(f.RootCerts, []byte(r.PEM()))
		}
		for _, i := range inters {
			f.IntermediateCerts = append(f.IntermediateCerts, []byte(i.PEM()))
		}
		return f
	}
	return []testOrg{
		{group: "ProviderOrgMSP", fab: fab("ProviderOrgMSP", []*fabricfake.CA{c.provider, c.provider2}, c.providerInter)},
		{group: "ClientOrgMSP", fab: fab("ClientOrgMSP", []*fabricfake.CA{c.client})},
		{group: "OtherOrgMSP", fab: fab("OtherOrgMSP", []*fabricfake.CA{c.other})},
	}
}

func defaultGenerateOptions() generateOptions {
	return generateOptions{
		Orgs: []string{"ProviderOrgMSP", "ClientOrgMSP"}, Issuer: "ProviderOrgMSP", EnclaveHost: "ProviderOrgMSP",
		Attestation: "simulated",
		Chaincodes:  deploycfg.Chaincodes{Agreement: "agreement", Refund: "refund", Registry: "ercc", Enclave: "slaenclave"},
	}
}

func TestGenerateConfig(t *testing.T) {
	ch := newTestChannel()
	block := configBlock(t, "slasa", common.HeaderType_CONFIG, ch.orgs())
	cfg, err := generateConfig(block, defaultGenerateOptions())
	if err != nil {
		t.Fatalf("generateConfig: %v", err)
	}
	if cfg.Version != deploycfg.Version || cfg.Channel != "slasa" || strings.Join(cfg.Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP" ||
		cfg.IssuerMSPID != "ProviderOrgMSP" || cfg.Enclave != (deploycfg.Enclave{HostMSPID: "ProviderOrgMSP", Attestation: "simulated"}) ||
		cfg.Chaincodes.Registry != "ercc" {
		t.Fatalf("config = %+v", cfg)
	}
	var ids []string
	for _, m := range cfg.MSPs {
		ids = append(ids, m.MSPID)
	}
	if strings.Join(ids, ",") != "ClientOrgMSP,OtherOrgMSP,ProviderOrgMSP" {
		t.Fatalf("msps = %v, want every application organization of the channel", ids)
	}
	p := cfg.MSPs[2]
	if len(p.Roots) != 2 || p.Roots[0] != ch.provider.PEM() || p.Roots[1] != ch.provider2.PEM() ||
		len(p.Intermediates) != 1 || p.Intermediates[0] != ch.providerInter.PEM() {
		t.Errorf("ProviderOrgMSP = %+v, want both roots and the intermediate", p)
	}
	if len(cfg.MSPs[0].Intermediates) != 0 || cfg.MSPs[0].Roots[0] != ch.client.PEM() {
		t.Errorf("ClientOrgMSP = %+v", cfg.MSPs[0])
	}
	// The file another organization writes from the same block parses to the same digest.
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := deploycfg.Parse(data)
	if err != nil {
		t.Fatalf("deploycfg.Parse of the written file: %v", err)
	}
	d1, _ := cfg.Digest()
	d2, _ := back.Digest()
	again, err := generateConfig(block, defaultGenerateOptions())
	if err != nil {
		t.Fatal(err)
	}
	d3, _ := again.Digest()
	if d1 != d2 || d1 != d3 {
		t.Errorf("digests differ: %s %s %s", d1, d2, d3)
	}
}

func TestGenerateConfigErrors(t *testing.T) {
	ch := newTestChannel()
	good := func() []testOrg { return ch.orgs() }
	block := func(mut func([]testOrg) []testOrg) []byte {
		return configBlock(t, "slasa", common.HeaderType_CONFIG, mut(good()))
	}
	same := func(o []testOrg) []testOrg { return o }
	twoTx := func() []byte {
		var b common.Block
		if err := proto.Unmarshal(block(same), &b); err != nil {
			t.Fatal(err)
		}
		b.Data.Data = append(b.Data.Data, b.Data.Data[0])
		return mustMarshal(t, &b)
	}()
	ccOpts := defaultGenerateOptions()
	ccOpts.Chaincodes.Refund = "agreement"
	tests := []struct {
		name  string
		block []byte
		opts  func(*generateOptions)
		want  string
	}{
		{"not a block", []byte("not a protobuf \xff\xff"), nil, "channel configuration block: not a Fabric block: "},
		{"two transactions", twoTx, nil, "channel configuration block: block 5 holds 2 transactions; a configuration block holds exactly one"},
		{"endorser transaction", configBlock(t, "slasa", common.HeaderType_ENDORSER_TRANSACTION, good()), nil,
			"channel configuration block: block 5 holds a transaction of type ENDORSER_TRANSACTION, not a channel configuration (fetch the block with: peer channel fetch config)"},
		{"no application group", configBlock(t, "slasa", common.HeaderType_CONFIG, nil), nil,
			`channel configuration block: channel "slasa" has no Application group (an orderer system channel?)`},
		{"no application organization", configBlock(t, "slasa", common.HeaderType_CONFIG, []testOrg{}), nil,
			`channel configuration block: channel "slasa" has no application organization`},
		{"organization without MSP", block(func(o []testOrg) []testOrg { o[1].noMSP = true; return o }), nil,
			`channel configuration block: channel "slasa": application organization "ClientOrgMSP" has no MSP value`},
		{"idemix MSP", block(func(o []testOrg) []testOrg { o[2].typ = 1; return o }), nil,
			`channel configuration block: channel "slasa": application organization "OtherOrgMSP": MSP type 1 is not an X.509 (FABRIC) MSP; only X.509 MSPs are supported`},
		{"MSP without name", block(func(o []testOrg) []testOrg { o[1].fab.Name = ""; return o }), nil,
			`channel configuration block: channel "slasa": application organization "ClientOrgMSP": the MSP has no name (MSP ID)`},
		{"organization without root certificates", block(func(o []testOrg) []testOrg { o[1].fab.RootCerts = nil; return o }), nil,
			`channel configuration block: channel "slasa": application organization "ClientOrgMSP" (MSP ClientOrgMSP): the MSP has no root certificates`},
		{"root that is not PEM", block(func(o []testOrg) []testOrg { o[1].fab.RootCerts = [][]byte{[]byte("garbage")}; return o }), nil,
			`channel configuration block: channel "slasa": application organization "ClientOrgMSP" (MSP ClientOrgMSP): root_certs: entry 0: no PEM certificate`},
		{"root that is a key", block(func(o []testOrg) []testOrg {
			o[1].fab.RootCerts = [][]byte{[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}
			return o
		}), nil, `channel configuration block: channel "slasa": application organization "ClientOrgMSP" (MSP ClientOrgMSP): root_certs: entry 0: PEM block "PRIVATE KEY" is not a CERTIFICATE`},
		{"intermediate that is not PEM", block(func(o []testOrg) []testOrg { o[0].fab.IntermediateCerts = [][]byte{[]byte("x")}; return o }), nil,
			`channel configuration block: channel "slasa": application organization "ProviderOrgMSP" (MSP ProviderOrgMSP): intermediate_certs: entry 0: no PEM certificate`},
		{"unknown issuer", block(same), func(o *generateOptions) { o.Issuer = "EvilOrgMSP" },
			`--issuer: "EvilOrgMSP" is not an application organization of the channel (the application organizations of channel "slasa" are ClientOrgMSP, OtherOrgMSP, ProviderOrgMSP)`},
		{"unknown approving org", block(same), func(o *generateOptions) { o.Orgs = []string{"ProviderOrgMSP", "NopeMSP"} },
			`--orgs: "NopeMSP" is not an application organization of the channel (the application organizations of channel "slasa" are ClientOrgMSP, OtherOrgMSP, ProviderOrgMSP)`},
		{"enclave host not approving", block(same), func(o *generateOptions) { o.EnclaveHost = "OtherOrgMSP" },
			`--enclave-host: "OtherOrgMSP" is not one of --orgs ProviderOrgMSP,ClientOrgMSP (the host runs a peer and approves the configuration)`},
		{"bad attestation", block(same), func(o *generateOptions) { o.Attestation = "none" },
			`--attestation: "none" is not simulated or sgx`},
		{"org listed twice", block(same), func(o *generateOptions) { o.Orgs = []string{"ProviderOrgMSP", "ProviderOrgMSP"} },
			`the generated deploy configuration is invalid: orgs[1]: "ProviderOrgMSP" is listed twice`},
		{"chaincode name used twice", block(same), func(o *generateOptions) { *o = ccOpts },
			`the generated deploy configuration is invalid: chaincodes: the name "agreement" is used twice`},
		{"duplicate MSP ID", block(func(o []testOrg) []testOrg { o[2].fab.Name = "ClientOrgMSP"; return o }), nil,
			`the generated deploy configuration is invalid: msps[1].msp_id: "ClientOrgMSP" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultGenerateOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			cfg, err := generateConfig(tt.block, o)
			if err == nil {
				t.Fatalf("generateConfig = %+v, want error %q", cfg, tt.want)
			}
			if strings.HasSuffix(tt.want, ": ") {
				if !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("err = %q, want prefix %q", err, tt.want)
				}
			} else if err.Error() != tt.want {
				t.Fatalf("err = %q\nwant  %q", err, tt.want)
			}
		})
	}
}

// runCLI runs the slasa command and returns its exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	blockPath := filepath.Join(dir, "config.block")
	if err := os.WriteFile(blockPath, configBlock(t, "slasa", common.HeaderType_CONFIG, newTestChannel().orgs()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "deploy-config.json")
	code, _, stderr := runCLI("config", "generate", "--config-block", blockPath, "--orgs", "ProviderOrgMSP,ClientOrgMSP",
		"--issuer", "ProviderOrgMSP", "--enclave-host", "ProviderOrgMSP", "--attestation", "simulated", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := deploycfg.Load(out)
	if err != nil {
		t.Fatalf("the written file: %v", err)
	}
	d, _ := cfg.Digest()
	if !strings.Contains(stderr, "digest "+d) {
		t.Errorf("stderr %q does not name the digest %s", stderr, d)
	}
	code, stdout, stderr := runCLI("config", "digest", out)
	if code != ExitOK || stdout != d+"\n" {
		t.Errorf("config digest: exit %d, %q, %q; want %s", code, stdout, stderr, d)
	}

	// Missing choices are usage errors and write nothing.
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--orgs", "ProviderOrgMSP", "--issuer", "ProviderOrgMSP", "--enclave-host", "ProviderOrgMSP", "--attestation", "sgx"}, "--config-block: required"},
		{[]string{"--config-block", blockPath, "--issuer", "ProviderOrgMSP", "--enclave-host", "ProviderOrgMSP", "--attestation", "sgx"}, "--orgs: required"},
		{[]string{"--config-block", blockPath, "--orgs", "ProviderOrgMSP", "--enclave-host", "ProviderOrgMSP", "--attestation", "sgx"}, "--issuer: required"},
		{[]string{"--config-block", blockPath, "--orgs", "ProviderOrgMSP", "--issuer", "ProviderOrgMSP", "--attestation", "sgx"}, "--enclave-host: required"},
		{[]string{"--config-block", blockPath, "--orgs", "ProviderOrgMSP", "--issuer", "ProviderOrgMSP", "--enclave-host", "ProviderOrgMSP"}, "--attestation: required"},
		{[]string{"--config-block", blockPath, "--orgs", "ProviderOrgMSP", "--issuer", "X", "--enclave-host", "ProviderOrgMSP", "--attestation", "sgx"}, `--issuer: "X" is not an application organization`},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(append([]string{"config", "generate", "--out", missing}, tt.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v: a refused generate wrote %s", tt.args, missing)
		}
	}
	if code, _, stderr := runCLI("config", "digest", filepath.Join(dir, "config.block")); code != ExitFailure || !strings.Contains(stderr, "deploy configuration") {
		t.Errorf("digest of a block: exit %d, %q", code, stderr)
	}
}

// fakeConfigPeer is one peer's view of one chaincode.
type fakeConfigPeer struct {
	digest   string // the peer's own configuration
	recorded string // what its ledger holds
	lag      int    // GetConfig calls until a recorded Configure becomes visible
	pending  string
}

// fakeConfigBackend is a network of contract chaincodes with ccguard's Configure rules.
type fakeConfigBackend struct {
	peers        map[string]map[string]*fakeConfigPeer // chaincode -> peer MSP -> view
	configureErr map[string]error
	configured   []string
}

func (f *fakeConfigBackend) GetConfig(_ context.Context, cc, mspID string) ([]byte, error) {
	p, ok := f.peers[cc][mspID]
	if !ok {
		return nil, fmt.Errorf("chaincode %s not found on %s", cc, mspID)
	}
	if p.pending != "" {
		if p.lag > 0 {
			p.lag--
		} else {
			p.recorded, p.pending = p.pending, ""
		}
	}
	v := map[string]any{"digest": p.digest, "max_clock_skew": "5m0s", "agrees": p.recorded == p.digest, "recorded": nil}
	if p.recorded != "" {
		v["recorded"] = map[string]any{"digest": p.recorded, "tx_id": "tx-" + cc,
			"recorded_by": map[string]string{"msp_id": "ProviderOrgMSP", "subject": "CN=Admin", "issuer": "CN=ca"}}
	}
	return json.Marshal(v)
}

func (f *fakeConfigBackend) Configure(_ context.Context, cc string, configJSON []byte) (string, error) {
	if err := f.configureErr[cc]; err != nil {
		return "", err
	}
	cfg, err := deploycfg.Parse(configJSON)
	if err != nil {
		return "", err
	}
	d, _ := cfg.Digest()
	for msp, p := range f.peers[cc] {
		if p.digest != d {
			return "", fmt.Errorf("%s: configJSON: its digest %s is not this peer's deploy configuration", msp, d)
		}
		if p.recorded == d {
			return "", fmt.Errorf("the deploy configuration %s is already recorded (tx tx-%s, by admin)", d, cc)
		}
	}
	for _, p := range f.peers[cc] {
		p.pending = d
	}
	f.configured = append(f.configured, cc)
	return "tx-" + cc, nil
}

func newFakeConfigBackend(digest string, ccs ...string) *fakeConfigBackend {
	f := &fakeConfigBackend{peers: map[string]map[string]*fakeConfigPeer{}, configureErr: map[string]error{}}
	for _, cc := range ccs {
		f.peers[cc] = map[string]*fakeConfigPeer{
			"ProviderOrgMSP": {digest: digest},
			"ClientOrgMSP":   {digest: digest, lag: 2},
		}
	}
	return f
}

var testPeers = []peerTarget{{Org: "provider", MSPID: "ProviderOrgMSP"}, {Org: "client", MSPID: "ClientOrgMSP"}}

func testDeployConfig(t *testing.T) ([]byte, string) {
	t.Helper()
	cfg := fabricfake.DeployConfig([]*fabricfake.CA{fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP")})
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return raw, d
}

func TestRecordConfig(t *testing.T) {
	raw, d := testDeployConfig(t)
	ccs := []string{"agreement", "refund", "ercc"}
	f := newFakeConfigBackend(d, ccs...)
	f.peers["refund"]["ProviderOrgMSP"].recorded = d // recorded before: counts as done
	f.peers["refund"]["ClientOrgMSP"].recorded = d
	res, err := recordConfig(context.Background(), f, raw, d, ccs, testPeers, time.Millisecond)
	if err != nil {
		t.Fatalf("recordConfig: %v", err)
	}
	if strings.Join(f.configured, ",") != "agreement,ercc" {
		t.Errorf("configured %v", f.configured)
	}
	want := []recordResult{
		{Chaincode: "agreement", Recorded: true, TxID: "tx-agreement", SeenBy: []string{"provider", "client"}},
		{Chaincode: "refund", Note: "already recorded", SeenBy: []string{"provider", "client"}},
		{Chaincode: "ercc", Recorded: true, TxID: "tx-ercc", SeenBy: []string{"provider", "client"}},
	}
	if got, _ := json.Marshal(res); string(got) != string(mustJSON(t, want)) {
		t.Errorf("results %s\nwant     %s", got, mustJSON(t, want))
	}
	// Every peer sees it now: show agrees everywhere.
	for _, r := range showConfig(context.Background(), f, ccs, testPeers) {
		if !r.Agrees || r.RecordedDigest != d || r.Digest != d || r.Error != "" {
			t.Errorf("show row %+v", r)
		}
	}
	// A second run changes nothing.
	f.configured = nil
	if _, err := recordConfig(context.Background(), f, raw, d, ccs, testPeers, time.Millisecond); err != nil || len(f.configured) != 0 {
		t.Errorf("second run: %v, configured %v", err, f.configured)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordConfigErrors(t *testing.T) {
	raw, d := testDeployConfig(t)
	other := strings.Repeat("b", 64)
	t.Run("Configure refused", func(t *testing.T) {
		f := newFakeConfigBackend(d, "agreement", "refund")
		f.configureErr["refund"] = errors.New("Configure: the caller ProviderOrgMSP/CN=provider is not an admin of ProviderOrgMSP (NodeOU role \"client\", admin required)")
		_, err := recordConfig(context.Background(), f, raw, d, []string{"agreement", "refund"}, testPeers, time.Millisecond)
		want := `refund.Configure: Configure: the caller ProviderOrgMSP/CN=provider is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant  %s", err, want)
		}
	})
	t.Run("peer with another configuration", func(t *testing.T) {
		f := newFakeConfigBackend(d, "agreement")
		f.peers["agreement"]["ClientOrgMSP"].recorded = other
		f.peers["agreement"]["ProviderOrgMSP"].recorded = d
		f.peers["agreement"]["ClientOrgMSP"].digest = other
		f.configureErr["agreement"] = errors.New("the deploy configuration is already recorded")
		_, err := recordConfig(context.Background(), f, raw, d, []string{"agreement"}, testPeers, time.Millisecond)
		want := fmt.Sprintf("agreement on client's peer runs with another deploy configuration (digest %s) than the one recorded (digest %s): every organization must give its servers the same file", other, d)
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant  %s", err, want)
		}
	})
	t.Run("never seen", func(t *testing.T) {
		f := newFakeConfigBackend(d, "agreement")
		f.peers["agreement"]["ClientOrgMSP"].lag = 1 << 30
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := recordConfig(ctx, f, raw, d, []string{"agreement"}, testPeers, time.Millisecond)
		want := fmt.Sprintf("waiting for client's peer to see the deploy configuration %s in agreement: the configuration is not recorded there yet (raise --timeout?)", d)
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant  %s", err, want)
		}
	})
	t.Run("chaincode without a deploy configuration", func(t *testing.T) {
		f := newFakeConfigBackend(d, "agreement")
		rows := showConfig(context.Background(), f, []string{"agreement", "smoke"}, testPeers[:1])
		if len(rows) != 2 || rows[0].Error != "" || rows[0].Agrees {
			t.Fatalf("rows %+v", rows)
		}
		if want := "smoke.GetConfig on provider's peer: chaincode smoke not found on ProviderOrgMSP"; rows[1].Error != want {
			t.Errorf("error %q, want %q", rows[1].Error, want)
		}
	})
}
