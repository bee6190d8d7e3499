package ccguard_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabricfake"
)

// pinger is a guarded contract with one function.
type pinger struct {
	contractapi.Contract
	g *ccguard.Guard
}

func (p *pinger) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (string, error) {
	r, err := p.g.Configure(ctx, configJSON)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(r)
	return string(raw), err
}

func (p *pinger) GetConfig(ctx contractapi.TransactionContextInterface) (string, error) {
	v, err := p.g.View(ctx)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(v)
	return string(raw), err
}

func (p *pinger) Ping(ctx contractapi.TransactionContextInterface) (string, error) {
	return "pong", ctx.GetStub().PutState("ping", []byte{1})
}

type fixture struct {
	w                               *fabricfake.World
	cfg                             *deploycfg.Config
	cfgJSON                         string
	clock                           time.Duration // peer clock minus world time
	pAdmin, pClient, cAdmin, oAdmin *fabricfake.Identity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pca, cca, oca := fabricfake.MustNewCA("ProviderOrgMSP"), fabricfake.MustNewCA("ClientOrgMSP"), fabricfake.MustNewCA("OtherOrgMSP")
	f := &fixture{w: fabricfake.NewWorld(), cfg: fabricfake.DeployConfig([]*fabricfake.CA{pca, cca}, oca),
		pAdmin: pca.MustIssue("Admin@providerorg.slasa.local", "admin"), pClient: pca.MustIssue("provider@providerorg.slasa.local", "client"),
		cAdmin: cca.MustIssue("Admin@clientorg.slasa.local", "admin"), oAdmin: oca.MustIssue("Admin@otherorg.slasa.local", "admin")}
	raw, err := json.Marshal(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.cfgJSON = string(raw)
	f.deploy(t, f.cfg)
	return f
}

// deploy (re)deploys the contract with this organization's configuration.
func (f *fixture) deploy(t *testing.T, cfg *deploycfg.Config) {
	t.Helper()
	g, err := ccguard.New(cfg, ccguard.WithClock(func() time.Time { return f.w.Now.Add(f.clock) }))
	if err != nil {
		t.Fatal(err)
	}
	p := &pinger{g: g}
	p.BeforeTransaction = g.Before
	cc, err := contractapi.NewChaincode(p)
	if err != nil {
		t.Fatal(err)
	}
	f.w.Deploy("cc", cc)
}

func (f *fixture) expect(t *testing.T, id *fabricfake.Identity, fn, want string, args ...string) {
	t.Helper()
	before := f.w.Snapshot()
	r := f.w.Submit(id, "cc", fn, args...)
	if want == "" {
		if !r.OK() {
			t.Fatalf("%s: %s", fn, r.Message)
		}
		return
	}
	if r.OK() {
		t.Fatalf("%s succeeded, want an error containing %q", fn, want)
	}
	if !strings.Contains(r.Message, want) {
		t.Fatalf("%s error:\n got %q\nwant it to contain %q", fn, r.Message, want)
	}
	if len(f.w.Snapshot()) != len(before) || f.w.State("cc", "ping") != nil && before["cc"]["ping"] == "" {
		t.Fatalf("%s failed but changed the state", fn)
	}
}

func TestNothingRunsBeforeConfigure(t *testing.T) {
	f := newFixture(t)
	d, _ := f.cfg.Digest()
	f.expect(t, f.pClient, "Ping", "the deploy configuration is not recorded on the channel yet: an admin of ClientOrgMSP or ProviderOrgMSP must call Configure with the deploy configuration (digest "+d+")")
	// GetConfig works and says so.
	r := f.w.Evaluate(f.pClient, "cc", "GetConfig")
	if !r.OK() || !strings.Contains(string(r.Payload), `"recorded":null`) || !strings.Contains(string(r.Payload), `"agrees":false`) {
		t.Fatalf("GetConfig before Configure: %s %s", r.Message, r.Payload)
	}
}

func TestConfigureCallers(t *testing.T) {
	f := newFixture(t)
	f.expect(t, f.pClient, "Configure", `is not an admin of ProviderOrgMSP (NodeOU role "client", admin required)`, f.cfgJSON)
	f.expect(t, f.oAdmin, "Configure", "is not a member of ClientOrgMSP or ProviderOrgMSP", f.cfgJSON)
	// An admin of an approving organization with another configuration.
	other := *f.cfg
	other.IssuerMSPID = "OtherOrgMSP"
	raw, _ := json.Marshal(other)
	f.expect(t, f.cAdmin, "Configure", "configJSON: its digest", string(raw))
	f.expect(t, f.cAdmin, "Configure", "configJSON: deploy configuration: unexpected EOF", "{")
	// The operator: accepted once.
	f.expect(t, f.pAdmin, "Configure", "", f.cfgJSON)
	f.expect(t, f.pClient, "Ping", "")
	f.expect(t, f.cAdmin, "Configure", "is already recorded", f.cfgJSON)
}

func TestMismatchedConfigurationRefusesEverything(t *testing.T) {
	f := newFixture(t)
	f.expect(t, f.pAdmin, "Configure", "", f.cfgJSON)
	// This organization's server now runs with another file.
	other := *f.cfg
	other.Enclave.Attestation = deploycfg.AttestationSGX
	f.deploy(t, &other)
	f.expect(t, f.pClient, "Ping", "is not the one recorded on the channel")
	// Every organization switched: recording the new file replaces the old.
	raw, _ := json.Marshal(other)
	f.expect(t, f.cAdmin, "Configure", "", string(raw))
	r := f.w.Evaluate(f.pClient, "cc", "GetConfig")
	old, _ := f.cfg.Digest()
	if !r.OK() || !strings.Contains(string(r.Payload), `"previous":"`+old+`"`) || !strings.Contains(string(r.Payload), `"agrees":true`) {
		t.Fatalf("GetConfig after the change: %s %s", r.Message, r.Payload)
	}
	f.expect(t, f.pClient, "Ping", "")
}

// The guard keeps the digest of the last recorded configuration it decoded;
// a record that changes on the ledger is still read and compared, by the
// same server, on the next transaction.
func TestRecordChangeSeenBySameServer(t *testing.T) {
	f := newFixture(t)
	f.expect(t, f.pAdmin, "Configure", "", f.cfgJSON)
	f.expect(t, f.pClient, "Ping", "")
	f.expect(t, f.pClient, "Ping", "")
	var rec map[string]any
	if err := json.Unmarshal(f.w.State("cc", ccguard.RecordKey), &rec); err != nil {
		t.Fatal(err)
	}
	rec["digest"] = strings.Repeat("ab", 32)
	raw, _ := json.Marshal(rec)
	f.w.Put("cc", ccguard.RecordKey, raw)
	d, _ := f.cfg.Digest()
	f.expect(t, f.pClient, "Ping", "this peer's deploy configuration (digest "+d+") is not the one recorded on the channel (digest "+strings.Repeat("ab", 32)+")")
	f.w.Put("cc", ccguard.RecordKey, []byte("{"))
	f.expect(t, f.pClient, "Ping", "decode the recorded deploy configuration: unexpected end of JSON input")
}

func TestClockSkew(t *testing.T) {
	f := newFixture(t)
	f.expect(t, f.pAdmin, "Configure", "", f.cfgJSON)
	for name, tc := range map[string]struct {
		clock time.Duration
		want  string
	}{
		"backdated beyond the skew": {6 * time.Minute, "behind this peer's clock"},
		"in the future beyond it":   {-6 * time.Minute, "ahead of this peer's clock"},
		"backdated within the skew": {4 * time.Minute, ""},
		"ahead within the skew":     {-4 * time.Minute, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f.clock = tc.clock
			f.expect(t, f.pClient, "Ping", tc.want)
			f.expect(t, f.pAdmin, "Configure", map[bool]string{true: "already recorded", false: tc.want}[tc.want == ""], f.cfgJSON)
		})
	}
}

func TestNewAndLoad(t *testing.T) {
	if _, err := ccguard.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if _, err := ccguard.New(&deploycfg.Config{}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("New(invalid): %v", err)
	}
	t.Setenv(deploycfg.EnvFile, "")
	if _, err := ccguard.Load("x", nil); err == nil || !strings.Contains(err.Error(), "no file given") {
		t.Fatalf("Load without a file: %v", err)
	}
	t.Setenv(ccguard.EnvMaxSkew, "soon")
	if _, err := ccguard.Load("x", nil); err == nil || !strings.Contains(err.Error(), `SLASA_MAX_CLOCK_SKEW: "soon" is not a duration`) {
		t.Fatalf("Load with a bad skew: %v", err)
	}
}
