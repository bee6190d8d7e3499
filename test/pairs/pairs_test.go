//go:build integration

// Package pairs tests that SLAs between any two organizations of the
// consortium work end to end, in parallel, without a third organization's
// endorsement, on a real network of four organizations with a peer each
// (SLASA_ORGS=4: ProviderOrg, ClientOrg, VendorOrg, OtherOrg) running the
// whole application (agreement, refund, ercc, slaenclave, kubo and the
// tunneling shim) with real Cloud Loggers and monitors.
//
// Three SLAs, of three different pairs, only one of them involving
// ProviderOrg (which hosts the enclave and is the issuer):
//
//	pc: ProviderOrg (provider) -> ClientOrg (client), logged by ProviderOrg's logger
//	cv: ClientOrg (client)     -> VendorOrg (vendor), logged by a logger of ClientOrg
//	vo: VendorOrg (vendor)     -> OtherOrg (other),   logged by a logger of VendorOrg
//
// Each provider organization runs its own Cloud Logger and each client its
// own monitor (the SLA's client party's identity). The issuer mints into
// every party's wallet; the three SLAs are proposed and accepted (the first
// period's fee deposited) concurrently, then logged, anchored, ingested by
// the enclave, evaluated and settled concurrently; an injected outage gives
// each SLA its own exact credit. Afterwards every wallet holds exactly what
// it should, the money on the ledger equals the supply, and every committed
// transaction that touches an SLA was endorsed by exactly the peers of the
// SLA's two parties' organizations.
package pairs

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

var nw *harness.Network

// TestMain deploys the application on four organizations with a peer, as an
// operator does (network/deploy-all.sh).
func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Orgs: 4, DeployAll: true}, &nw))
}

// pair is one SLA of the test and what is expected of it.
type pair struct {
	key              string // short name, the SLA id's prefix and the probed path
	provider, client string // identity names of the parties
	loggerOrg        string // organization key of the logger (the provider's)
	fee              int64  // price of a period
	down             []int  // seconds of the first period down in zones a and b
	tierBPS          int64  // credit of the "worse than 95.0" tier
	wantBPS          int64  // expected credit tier of the first period

	id                    string
	doc                   []byte
	s                     *sla.SLA
	provWallet, cliWallet string
}

func (p *pair) credit() int64 { return p.fee * p.wantBPS / 10000 }
func (p *pair) orgs() []string {
	o, _ := fabnet.SLAOrgs(p.s.Parties.Provider.MSPID, p.s.Parties.Client.MSPID)
	return o
}

const (
	// mintClient and mintProvider are what the issuer mints into each
	// client's and each provider's wallet.
	mintClient   = 500000
	mintProvider = 7000
	period       = time.Minute
)

func pairs() []*pair {
	return []*pair{
		// No outage: the whole fee is released to the provider.
		{key: "pc", provider: "provider", client: "client", loggerOrg: "provider", fee: 100000, tierBPS: 10000, wantBPS: 0},
		// One second of 60 down: 98.33 % < 99.0 -> 3000 bps.
		{key: "cv", provider: "client", client: "vendor", loggerOrg: "client", fee: 80000, down: []int{20}, tierBPS: 10000, wantBPS: 3000},
		// Four seconds of 60 down: 93.33 % < 95.0 -> this SLA's own tier, 6000 bps.
		{key: "vo", provider: "vendor", client: "other", loggerOrg: "vendor", fee: 60000, down: []int{30, 31, 32, 33}, tierBPS: 6000, wantBPS: 6000},
	}
}

func TestPairs(t *testing.T) {
	start := time.Now()
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor")
	work := t.TempDir()
	ps := pairs()
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)

	// The enclave host is ProviderOrg (deploy-all.sh): two of the three SLAs
	// do not involve it, so its endorsement would be a third organization's.
	cfg, err := nw.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Enclave.HostMSPID != "ProviderOrgMSP" || len(cfg.Orgs) != 4 {
		t.Fatalf("deploy configuration: enclave host %s, organizations %v; the test expects ProviderOrgMSP and four organizations", cfg.Enclave.HostMSPID, cfg.Orgs)
	}
	startHeight, err := nw.Height("provider")
	if err != nil {
		t.Fatal(err)
	}

	// ---- Loggers: ProviderOrg's network user, and one issued by each other provider organization's CA.
	loggers := map[string]*loggerID{}
	for _, p := range ps {
		if loggers[p.loggerOrg] == nil {
			loggers[p.loggerOrg] = newLogger(t, p.loggerOrg)
		}
	}

	// ---- Wallets: each party opens its wallet for the SLA; the issuer funds every one.
	var mu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	check := func(step string) {
		t.Helper()
		if len(errs) > 0 {
			t.Fatalf("%s:\n%s", step, strings.Join(errs, "\n"))
		}
	}
	minted := int64(0)
	parallel(ps, func(p *pair) {
		p.id = "pairs-" + p.key + "-" + tag
		p.provWallet, p.cliWallet = p.key+"-provider-"+tag, p.key+"-client-"+tag
		for _, w := range [][2]string{{p.provider, p.provWallet}, {p.client, p.cliWallet}} {
			if _, err := nw.SubmitAndSync(w[0], "refund", "OpenAccount", w[1]); err != nil {
				fail("%s OpenAccount %s: %s", w[0], w[1], fabnet.ErrorText(err))
				return
			}
		}
	})
	check("opening the wallets")
	// Mints one at a time: each updates the issuer's supply key.
	for _, p := range ps {
		nw.MustSubmit(t, "issuer", "refund", "Mint", p.cliWallet, strconv.Itoa(mintClient))
		nw.MustSubmit(t, "issuer", "refund", "Mint", p.provWallet, strconv.Itoa(mintProvider))
		minted += mintClient + mintProvider
	}

	// ---- The SLAs: 60-second periods from M, the next minute at least 35 s away, so
	// that all three are accepted before P0 starts (AcceptSLA pays the first period not
	// started); 1-second sub-intervals and samples; a second is down when zones a and b fail.
	M := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	if time.Until(M) < 35*time.Second {
		M = M.Add(time.Minute)
	}
	type signed struct{ digest, provSig, cliSig string }
	sigs := map[string]signed{}
	for _, p := range ps {
		p.s, p.doc = slaDoc(t, p, loggers[p.loggerOrg].party, M)
		d, _, err := sla.DigestOf(p.doc)
		if err != nil {
			t.Fatal(err)
		}
		sigs[p.key] = signed{hex.EncodeToString(d[:]), nw.SignB64(t, p.provider, d[:]), nw.SignB64(t, p.client, d[:])}
	}
	parallel(ps, func(p *pair) {
		sg := sigs[p.key]
		if _, err := nw.SubmitSLA(p.provider, "ProposeSLA", p.doc, true, sg.provSig); err != nil {
			fail("%s ProposeSLA %s: %s", p.provider, p.id, fabnet.ErrorText(err))
			return
		}
		if _, err := nw.SubmitSLA(p.client, "AcceptSLA", p.doc, true, p.id, sg.digest, sg.cliSig); err != nil {
			fail("%s AcceptSLA %s: %s", p.client, p.id, fabnet.ErrorText(err))
		}
	})
	check("proposing and accepting the SLAs")
	if time.Now().After(M) {
		t.Fatalf("the SLAs were accepted after their first period began (%s): the machine is too slow for this test", M.Format(time.RFC3339))
	}
	t.Logf("SLAs %s, %s, %s accepted; P0 = [%s, %s)", ps[0].id, ps[1].id, ps[2].id, M.Format(time.RFC3339), M.Add(period).Format(time.RFC3339))

	// ---- The probed service, its outages, and the loggers and monitors.
	svc := newService(t)
	for _, p := range ps {
		for _, sec := range p.down {
			svc.outage(p.key, M.Add(time.Duration(sec)*time.Second), "zone-a", "zone-b")
		}
	}
	var procs []*proc
	t.Cleanup(func() {
		for _, pr := range procs {
			pr.kill()
		}
		if t.Failed() {
			for _, pr := range procs {
				b, _ := os.ReadFile(pr.log)
				lines := strings.Split(string(b), "\n")
				if len(lines) > 60 {
					lines = lines[len(lines)-60:]
				}
				t.Logf("---- tail of %s\n%s", pr.log, strings.Join(lines, "\n"))
			}
		}
	})
	for _, p := range ps {
		lg := loggers[p.loggerOrg]
		args := append(lg.connect(), "-sla", p.id, "-state-dir", filepath.Join(work, "logger-"+p.key),
			"-window", "10s", "-cut-delay", "3s", "-probe-timeout", "2s", "-ipfs-api-file", filepath.Join(run, "ipfs", "api"),
			"-backoff-min", "300ms", "-backoff-max", "3s")
		for _, z := range []string{"a", "b", "c"} {
			args = append(args, "-probe", fmt.Sprintf("probe-%s,zone-%s,%s/%s/zone-%s", z, z, svc.url, p.key, z))
		}
		procs = append(procs,
			&proc{name: "cloud-logger " + p.key, bin: filepath.Join(bins, "cloud-logger"), log: filepath.Join(work, "logger-"+p.key+".log"), args: args},
			&proc{name: "slasa-monitor " + p.key, bin: filepath.Join(bins, "slasa-monitor"), log: filepath.Join(work, "monitor-"+p.key+".log"), args: []string{
				"-network-dir", run, "-identity", p.client, "-sla", p.id, "-state-dir", filepath.Join(work, "monitor-"+p.key),
				"-poll", "2s", "-backoff-min", "500ms", "-backoff-max", "4s", "-listen", ""}})
	}
	for _, pr := range procs {
		if err := pr.start(); err != nil {
			t.Fatal(err)
		}
	}

	// ---- Each SLA's first period settles, concurrently.
	type result struct {
		esc  escrowT
		took time.Duration
	}
	results := map[string]result{}
	parallel(ps, func(p *pair) {
		e, err := waitSettled(p, M.Format(time.RFC3339), M.Add(period+3*time.Minute))
		if err != nil {
			fail("%v", err)
			return
		}
		mu.Lock()
		results[p.key] = result{esc: e, took: time.Since(M.Add(period))}
		mu.Unlock()
	})
	check("settling the first periods")
	for _, pr := range procs {
		pr.kill()
	}

	// ---- Exact credits and balances.
	for _, p := range ps {
		r := results[p.key]
		s := r.esc.Settlement
		t.Logf("%s (%s -> %s): settled %s after the period end: violated %v, %d bps, credit %d, released %d, batch %d",
			p.id, p.s.Parties.Provider.MSPID, p.s.Parties.Client.MSPID, r.took.Round(time.Second), s.Violated, s.CreditBPS, s.Credit, s.Released, s.BatchSeq)
		if s.CreditBPS != p.wantBPS || s.Credit != p.credit() || s.Released != p.fee-p.credit() || s.Violated != (p.wantBPS > 0) {
			t.Errorf("%s: settlement %+v, want %d bps: credit %d, released %d", p.id, *s, p.wantBPS, p.credit(), p.fee-p.credit())
		}
		if c, want := balance(t, p.cliWallet), int64(mintClient)-p.fee+p.credit(); c != want {
			t.Errorf("%s: client wallet %s holds %d, want %d (minted %d - fee %d + credit %d)", p.id, p.cliWallet, c, want, mintClient, p.fee, p.credit())
		}
		if b, want := balance(t, p.provWallet), int64(mintProvider)+p.fee-p.credit(); b != want {
			t.Errorf("%s: provider wallet %s holds %d, want %d (minted %d + released %d)", p.id, p.provWallet, b, want, mintProvider, p.fee-p.credit())
		}
	}
	// Money is conserved: every wallet plus the held escrow is the supply, which is what was minted.
	wallets, held, supply := audit(t)
	if wallets+held != supply || supply != minted || held != 0 {
		t.Errorf("audit: wallets %d + held escrow %d = %d; supply %d; minted %d (want all equal, nothing held)", wallets, held, wallets+held, supply, minted)
	}
	t.Logf("audit: wallets %d + held escrow %d = supply %d = minted %d", wallets, held, supply, minted)

	// ---- No third organization endorsed anything of an SLA.
	end, err := nw.Height("provider")
	if err != nil {
		t.Fatal(err)
	}
	checkEndorsers(t, ps, startHeight, end)
	t.Logf("TestPairs took %s", time.Since(start).Round(time.Second))
}

// slaDoc is the example SLA with the pair's parties, wallets, logger, price
// and credit tier, 60-second periods from M and 1-second sub-intervals.
func slaDoc(t *testing.T, p *pair, logger sla.Party, M time.Time) (*sla.SLA, []byte) {
	t.Helper()
	s := harness.ExampleSLA(t, "aws-ec2-region", p.id)
	s.Parties.Provider = partyOf(t, p.provider, p.provWallet)
	s.Parties.Client = partyOf(t, p.client, p.cliWallet)
	s.Parties.Logger = logger
	s.Price.AmountMinor = p.fee
	for i := range s.Consequences.CreditTiers {
		if s.Consequences.CreditTiers[i].WorseThan == "95.0" {
			s.Consequences.CreditTiers[i].CreditBPS = p.tierBPS
		}
	}
	s.Validity = sla.Validity{Start: M.Format(time.RFC3339), End: M.Add(time.Hour).Format(time.RFC3339)}
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: int64(period / time.Second)}
	s.Interval.SubIntervalSeconds = 1
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = sla.Parse(doc); err != nil {
		t.Fatalf("SLA %s: %v", p.id, err)
	}
	return s, doc
}

// partyOf is the SLA party of a network identity, paying from or into wallet.
func partyOf(t *testing.T, identityName, wallet string) sla.Party {
	t.Helper()
	certPEM, _ := nw.UserKey(t, identityName)
	return partyOfCert(t, nw.ID(t, identityName).MSPID, []byte(certPEM), wallet)
}

func partyOfCert(t *testing.T, mspID string, certPEM []byte, wallet string) sla.Party {
	t.Helper()
	cert, err := signedsla.ParseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	id := identity.FromCert(mspID, cert)
	return sla.Party{MSPID: id.MSPID, CommonName: cert.Subject.CommonName, Subject: id.Subject, Issuer: id.Issuer, Wallet: wallet}
}

// parallel runs f for every pair in its own goroutine and waits for all.
func parallel(ps []*pair, f func(*pair)) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(p)
		}()
	}
	wg.Wait()
}

// ---- loggers

// loggerID is the identity a Cloud Logger runs as: a user of network.json
// (ProviderOrg's logger) or one issued by its organization's CA.
type loggerID struct {
	org      string
	identity string // network.json identity name, or ""
	mspDir   string // else the MSP folder of the issued user
	party    sla.Party
}

// newLogger returns ProviderOrg's logger, or for another organization a
// user logger@<domain> issued by the organization's CA with network/up.sh's
// tool (slasa-mkuser): each provider organization runs the logger of its
// SLAs. The logger must belong to one of the SLA's parties' organizations:
// it reads the SLA (GetSLA) and its anchors, which only they may read.
func newLogger(t *testing.T, org string) *loggerID {
	t.Helper()
	if org == "provider" {
		certPEM, _ := nw.UserKey(t, "logger")
		return &loggerID{org: org, identity: "logger", party: partyOfCert(t, "ProviderOrgMSP", []byte(certPEM), "")}
	}
	o, ok := nw.Info.Orgs[org]
	if !ok {
		t.Fatalf("organization %s not in network.json", org)
	}
	root, _ := harness.RepoRoot()
	orgDir := filepath.Join(nw.RunDir(), "crypto", "peerOrganizations", o.Domain)
	cmd := exec.Command("bash", "-c", `source network/lib.sh && exec "$(mkuser_bin)" -org-dir "$1" -name logger`, "mkuser", orgDir)
	cmd.Dir = root
	cmd.Env = nw.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("issuing logger@%s: %v\n%s", o.Domain, err, out)
	}
	mspDir := filepath.Join(orgDir, "users", "logger@"+o.Domain, "msp")
	certs, err := filepath.Glob(filepath.Join(mspDir, "signcerts", "*"))
	if err != nil || len(certs) != 1 {
		t.Fatalf("logger@%s: signcerts %v %v", o.Domain, certs, err)
	}
	certPEM, err := os.ReadFile(certs[0])
	if err != nil {
		t.Fatal(err)
	}
	return &loggerID{org: org, mspDir: mspDir, party: partyOfCert(t, o.MSPID, certPEM, "")}
}

// connect returns the logger's connection flags: through its own
// organization's peer.
func (l *loggerID) connect() []string {
	if l.identity != "" {
		return []string{"-network-dir", nw.RunDir(), "-identity", l.identity}
	}
	o := nw.Info.Orgs[l.org]
	return []string{"-peer", o.Peer.Address, "-peer-tls-ca", o.Peer.TLSCACert, "-peer-host-override", o.Peer.HostnameOverride,
		"-msp-id", o.MSPID, "-msp-dir", l.mspDir, "-channel", nw.Info.Channel}
}

// ---- the probed service

// service serves /<pair>/zone-a, -b and -c; a request of a pair, zone and
// sample time in fail answers 503 (the probes send the sample time in the
// X-Slasa-Sample-Time header, logger.SampleTimeHeader).
type service struct {
	mu   sync.Mutex
	fail map[string]bool // "<pair>/<zone> <sample time>"
	url  string
}

func newService(t *testing.T) *service {
	t.Helper()
	s := &service{fail: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at, err := time.Parse("2006-01-02T15:04:05.000Z", r.Header.Get("X-Slasa-Sample-Time"))
	s.mu.Lock()
	fail := err == nil && s.fail[strings.TrimPrefix(r.URL.Path, "/")+" "+at.Format(time.RFC3339)]
	s.mu.Unlock()
	if fail {
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// outage makes the samples of the pair's zones taken at second at fail.
func (s *service) outage(pair string, at time.Time, zones ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range zones {
		s.fail[pair+"/"+z+" "+at.Format(time.RFC3339)] = true
	}
}

// ---- processes

type proc struct {
	name, bin, log string
	args           []string
	mu             sync.Mutex
	cmd            *exec.Cmd
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	return nil
}

func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// ---- ledger reads

type escrowT struct {
	Status     string `json:"status"`
	Settlement *struct {
		Violated  bool   `json:"violated"`
		CreditBPS int64  `json:"credit_bps"`
		Credit    int64  `json:"credit"`
		Released  int64  `json:"released"`
		BatchSeq  int64  `json:"batch_seq"`
		TxID      string `json:"tx_id"`
	} `json:"settlement"`
}

// waitSettled polls the escrow of the pair's period (as its client) until
// it is settled, at most until deadline.
func waitSettled(p *pair, period string, deadline time.Time) (escrowT, error) {
	c, err := nw.Contract(p.client, "refund")
	if err != nil {
		return escrowT{}, err
	}
	var e escrowT
	for {
		out, err := c.EvaluateTransaction("GetEscrow", p.id, period)
		if err != nil {
			return e, fmt.Errorf("%s GetEscrow %s: %s", p.id, period, fabnet.ErrorText(err))
		}
		if err := json.Unmarshal(out, &e); err != nil {
			return e, err
		}
		if e.Status == "SETTLED" && e.Settlement != nil {
			return e, nil
		}
		if time.Now().After(deadline) {
			return e, fmt.Errorf("%s: period %s is %s at %s", p.id, period, e.Status, deadline.Format(time.RFC3339))
		}
		time.Sleep(2 * time.Second)
	}
}

// balance is a wallet's balance (base + pending credits), as the issuer sees it.
func balance(t *testing.T, wallet string) int64 {
	t.Helper()
	var a struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal(nw.MustEvaluate(t, "issuer", "refund", "BalanceOf", wallet), &a); err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// audit sums, as the issuer (an admin of ProviderOrg), every wallet's
// balance and every escrow's held amount (AuditWallets, AuditEscrows, all
// pages), and reads the supply the issuer MSP minted (GetSupply).
func audit(t *testing.T) (wallets, held, supply int64) {
	t.Helper()
	for bm := ""; ; {
		var page struct {
			Wallets  []struct{ Balance int64 } `json:"wallets"`
			Bookmark string                    `json:"bookmark"`
		}
		if err := json.Unmarshal(nw.MustEvaluate(t, "issuer", "refund", "AuditWallets", "100", bm), &page); err != nil {
			t.Fatal(err)
		}
		for _, w := range page.Wallets {
			wallets += w.Balance
		}
		if bm = page.Bookmark; bm == "" || len(page.Wallets) == 0 {
			break
		}
	}
	for bm := ""; ; {
		var page struct {
			Escrows []struct {
				Held int64 `json:"held"`
			} `json:"escrows"`
			Bookmark string `json:"bookmark"`
		}
		if err := json.Unmarshal(nw.MustEvaluate(t, "issuer", "refund", "AuditEscrows", "100", bm), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Escrows {
			held += e.Held
		}
		if bm = page.Bookmark; bm == "" || len(page.Escrows) == 0 {
			break
		}
	}
	var sup []struct {
		IssuerMSPID string `json:"issuer_msp_id"`
		Minted      int64  `json:"minted"`
	}
	if err := json.Unmarshal(nw.MustEvaluate(t, "issuer", "refund", "GetSupply"), &sup); err != nil {
		t.Fatal(err)
	}
	for _, s := range sup {
		supply += s.Minted
	}
	return wallets, held, supply
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
