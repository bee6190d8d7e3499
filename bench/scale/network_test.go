//go:build integration

package scale

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/chaincode/agreement/agreement"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

const (
	// scaleEnclave is the enclave chaincode of the deploy configuration (SLASA_CC_ENCLAVE): the smoke
	// chaincode deployed under that name, so that a chaincode definition exists for the test enclave
	// key the test registers in ercc (as bench/caliper and test/lifecycle do). Verdicts are signed with
	// that key; the enclave itself plays no part in the measured transactions.
	scaleEnclave = "scaleenclave"
	// The SLAs' billing period and log window (sub-interval): one anchor per SLA covers its paid period.
	periodSeconds = 30
	windowSeconds = 10
	// listPageSize is the page size of the ListSLAs reads.
	listPageSize = 20
	// attempts bounds the submissions of one transaction.
	attempts = 5
)

// org is an organization with a peer and the client identity ("<org>") that acts for it.
type org struct {
	name  string // identity name (the organization key)
	msp   string
	party sla.Party // without wallet
	key   *ecdsa.PrivateKey
	// pay is the wallet it pays SLAs from as a client, recv the one it is paid into as a provider:
	// debits (AcceptSLA) rewrite a wallet's base, so the accepts of one client organization run one
	// at a time, and no wallet is both debited and read as a provider's.
	pay, recv string
	slas      int // SLAs in which it is the client
}

type scaleSLA struct {
	id               string
	doc              []byte
	digest           string
	provider, client *org
	orgs             []string
	start, end       time.Time // the paid period
	cid              string
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s: %q is not a positive number", name, v)
	}
	return n
}

// TestScaleNetwork runs SLASA_SCALE_SLAS SLAs (default 1,000) between pairs of the SLASA_SCALE_ORGS
// organizations (default 10) of a real network, SLASA_SCALE_WORKERS transactions in flight (default
// 16), and logs the figures of bench/RESULTS.md's "Scale" section.
func TestScaleNetwork(t *testing.T) {
	orgCount := envInt(t, "SLASA_SCALE_ORGS", 10)
	total := envInt(t, "SLASA_SCALE_SLAS", 1000)
	workers := envInt(t, "SLASA_SCALE_WORKERS", 16)
	var report []string
	row := func(measure, value string) {
		t.Logf("%s: %s", measure, value)
		report = append(report, fmt.Sprintf("| %s | %s |", measure, value))
	}

	// The network and the application.
	t0 := time.Now()
	n, err := harness.Start(harness.Options{Orgs: orgCount, Env: []string{"SLASA_WITH_IPFS=0", "SLASA_CC_ENCLAVE=" + scaleEnclave}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	}()
	up := time.Since(t0)
	upRSS, upProcs := n.ResidentMemory()
	t0 = time.Now()
	for _, cc := range []harness.Chaincode{{Source: "agreement"}, {Source: "refund"}, {Source: "ercc"}, {Source: "smoke", Name: scaleEnclave}} {
		if err := n.Deploy(cc); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := n.RecordConfig("provider-admin"); err != nil {
		t.Fatalf("slasa config record: %v\n%s", err, out)
	}
	deployed := time.Since(t0)
	rss, procs := n.ResidentMemory()
	row("organizations (one peer each), orderers", fmt.Sprintf("%d, 1", len(n.PeerOrgs())))
	row("network up (up.sh: crypto, channel, every peer joined)", up.Round(time.Second).String())
	row("resident memory after up", fmt.Sprintf("%d MB (%d processes)", upRSS>>20, upProcs))
	row("agreement, refund, ercc, enclave stand-in deployed, configuration recorded", deployed.Round(time.Second).String())
	row("resident memory after deploy", fmt.Sprintf("%d MB (%d processes)", rss>>20, procs))

	key, enclaveID := registerEnclave(t, n)
	diskBefore := peerDisk(t, n)
	heightBefore := height(t, n)

	// Organizations, wallets and SLAs.
	tag := fmt.Sprintf("s%x", time.Now().UnixMilli())
	var orgs []*org
	for _, name := range n.PeerOrgs() {
		_, k := n.UserKey(t, name)
		id := n.ID(t, name)
		orgs = append(orgs, &org{name: name, msp: id.MSPID, key: k,
			party: sla.Party{MSPID: id.MSPID, CommonName: identity.CommonName(id.Subject), Subject: id.Subject, Issuer: id.Issuer},
			pay:   tag + "-pay-" + name, recv: tag + "-recv-" + name})
	}
	slas := makeSLAs(t, orgs, total, tag)
	fee := mustParse(t, slas[0].doc).Price.AmountMinor

	var retries atomic.Int64
	sub := &submitter{n: n, retries: &retries}
	t.Cleanup(func() {
		if r := sub.report(); r != "" {
			t.Logf("failed attempts: %s", r)
		}
	})
	var open []lane
	for _, o := range orgs {
		for _, w := range []string{o.pay, o.recv} {
			open = append(open, lane{sub.job(o.name, "refund", "OpenAccount", client.WithArguments(w))})
		}
	}
	d, last := runLanes(t, n, open, workers)
	t.Logf("opened %d wallets in %s", len(open), d.Round(time.Millisecond))
	var mints lane // every Mint rewrites the issuer's supply key: one at a time
	for _, o := range orgs {
		if o.slas == 0 {
			continue
		}
		mints = append(mints, sub.job("issuer", "refund", "Mint", client.WithArguments(o.pay, strconv.FormatInt(fee*int64(o.slas), 10))))
	}
	d, _ = runLanes(t, n, []lane{mints}, 1)
	t.Logf("minted into %d wallets in %s (after block %d)", len(mints), d.Round(time.Millisecond), last)

	// ProposeSLA: every SLA at once (bounded); AcceptSLA: one client organization's one at a time.
	var propose []lane
	accept := map[string]lane{}
	for _, s := range slas {
		d, _, err := sla.DigestOf(s.doc)
		if err != nil {
			t.Fatal(err)
		}
		propose = append(propose, lane{sub.slaJob(s.provider.name, "ProposeSLA", s.doc, true, sign(t, s.provider.key, d))})
		accept[s.client.name] = append(accept[s.client.name], sub.slaJob(s.client.name, "AcceptSLA", s.doc, true, s.id, s.digest, sign(t, s.client.key, d)))
	}
	d, _ = runLanes(t, n, propose, workers)
	row(fmt.Sprintf("ProposeSLA of %d SLAs (%d in flight)", total, workers), rate(total, d))
	var lanes []lane
	for _, o := range orgs {
		lanes = append(lanes, accept[o.name])
	}
	d, _ = runLanes(t, n, lanes, workers)
	row(fmt.Sprintf("AcceptSLA of %d SLAs (each client organization's in sequence, %d organizations in parallel)", total, len(lanes)), rate(total, d))

	// GetSLA of every SLA as its client, on the client's peer, one at a time.
	var lat []time.Duration
	var lastEnd time.Time
	for _, s := range slas {
		t1 := time.Now()
		raw, err := n.GetSLA(s.client.name, s.id)
		lat = append(lat, time.Since(t1))
		if err != nil {
			t.Fatalf("GetSLA %s as %s: %s", s.id, s.client.name, fabnet.ErrorText(err))
		}
		var v agreement.SLAView
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if v.Status != agreement.StatusActive || v.PaidPeriods != 1 || len(v.Signed.Document) == 0 {
			t.Fatalf("SLA %s: status %s, %d periods paid, %d-byte document; want ACTIVE, one paid period and the document", s.id, v.Status, v.PaidPeriods, len(v.Signed.Document))
		}
		if s.start, err = signedsla.ParseInstant(v.LastPeriod); err != nil {
			t.Fatal(err)
		}
		if s.end, err = signedsla.ParseInstant(v.PaidThrough); err != nil {
			t.Fatal(err)
		}
		if s.end.After(lastEnd) {
			lastEnd = s.end
		}
	}
	row(fmt.Sprintf("GetSLA latency, %d reads one at a time (client's own peer): p50 / p95 / max", len(lat)), percentiles(lat))

	// ListSLAs: every client organization pages through its SLAs.
	var first, later []time.Duration
	for _, o := range orgs {
		c, err := n.Contract(o.name, "agreement")
		if err != nil {
			t.Fatal(err)
		}
		bookmark, got := "", 0
		for page := 0; ; page++ {
			t1 := time.Now()
			raw, err := c.Evaluate("ListSLAs", client.WithArguments("client", o.msp, "", strconv.Itoa(listPageSize), bookmark))
			if page == 0 {
				first = append(first, time.Since(t1))
			} else {
				later = append(later, time.Since(t1))
			}
			if err != nil {
				t.Fatalf("ListSLAs as %s: %s", o.name, fabnet.ErrorText(err))
			}
			var p agreement.Page[agreement.Agreement]
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Records) > listPageSize {
				t.Fatalf("ListSLAs as %s: %d records in a page of %d", o.name, len(p.Records), listPageSize)
			}
			got += len(p.Records)
			if bookmark = p.Bookmark; bookmark == "" || len(p.Records) == 0 {
				break
			}
		}
		if got != o.slas {
			t.Fatalf("ListSLAs as %s: %d SLAs over the pages, want %d", o.name, got, o.slas)
		}
	}
	row(fmt.Sprintf("ListSLAs first page (%d records) latency, %d organizations: p50 / p95 / max", listPageSize, len(first)), percentiles(first))
	row(fmt.Sprintf("ListSLAs later pages (bookmark) latency, %d pages: p50 / p95 / max", len(later)), percentiles(later))

	// Anchors of the paid periods, once they are over, then the settlements.
	if w := time.Until(lastEnd.Add(time.Second)); w > 0 {
		t.Logf("waiting %s until every paid period has ended (%s)", w.Round(time.Second), lastEnd.Format(time.RFC3339))
		time.Sleep(w)
	}
	var anchors, settles []lane
	for i, s := range slas {
		c, err := cidverify.Sum([]byte(s.id + " batch 1"))
		if err != nil {
			t.Fatal(err)
		}
		s.cid = c.String()
		a := signedsla.Anchor{SLAID: s.id, Seq: 1, CID: s.cid, PeriodStart: s.start.Format(time.RFC3339), PeriodEnd: s.end.Format(time.RFC3339)}
		anchors = append(anchors, lane{sub.slaJob(s.provider.name, "AnchorLogBatch", s.doc, false,
			s.id, "1", a.CID, "", a.PeriodStart, a.PeriodEnd, sign(t, s.provider.key, sha256.Sum256(a.SigningBytes())))})
		report := sha256.Sum256([]byte(s.id + " report"))
		bps := int64(1000 * (i % 2)) // every other SLA: a 10 % credit
		v := verdict.Verdict{SLAID: s.id, SLADigest: s.digest, Period: a.PeriodStart, PeriodEnd: a.PeriodEnd,
			Violated: bps > 0, CreditBPS: bps, CreditAmount: fee * bps / 10000, Currency: "USD",
			ReportDigest: hex.EncodeToString(report[:]), BatchSeq: 1, BatchCID: s.cid, Chaincode: scaleEnclave, EnclaveID: enclaveID}
		signed, err := verdict.Sign(v, key)
		if err != nil {
			t.Fatal(err)
		}
		vj, err := json.Marshal(signed)
		if err != nil {
			t.Fatal(err)
		}
		settles = append(settles, lane{sub.job(s.provider.name, "refund", "SettleVerdict",
			client.WithArguments(string(vj)), client.WithEndorsingOrganizations(s.orgs...))})
	}
	d, _ = runLanes(t, n, anchors, workers)
	row(fmt.Sprintf("AnchorLogBatch, one per SLA (%d in flight)", workers), rate(total, d))
	d, _ = runLanes(t, n, settles, workers)
	row(fmt.Sprintf("SettleVerdict of every SLA's paid period (%d in flight, half with a 10 %% credit)", workers), rate(total, d))
	row("failed attempts submitted again (endorsement or commit)", strconv.FormatInt(retries.Load(), 10))

	// The ledger.
	h := height(t, n)
	diskAfter := peerDisk(t, n)
	row("ledger height before the SLAs / after", fmt.Sprintf("%d / %d blocks", heightBefore, h))
	var before, after []int64
	for _, o := range n.PeerOrgs() {
		before, after = append(before, diskBefore[o]), append(after, diskAfter[o])
	}
	row("peer ledger folder (du), min / max over the peers, before the SLAs", fmt.Sprintf("%s / %s", mb(slices.Min(before)), mb(slices.Max(before))))
	row("peer ledger folder (du), min / max over the peers, after", fmt.Sprintf("%s / %s", mb(slices.Min(after)), mb(slices.Max(after))))
	var sum int64
	for i := range after {
		sum += after[i] - before[i]
	}
	row("growth per SLA (mean over the peers)", fmt.Sprintf("%.1f KB", float64(sum)/float64(len(after))/float64(total)/1024))
	rss, procs = n.ResidentMemory()
	row("resident memory at the end", fmt.Sprintf("%d MB (%d processes)", rss>>20, procs))
	t.Logf("scale on the network: %d organizations, %d SLAs\n\n| measure | value |\n|---|---|\n%s\n", len(orgs), total, strings.Join(report, "\n"))
}

// makeSLAs signs total SLAs between pairs of organizations: SLA i's provider is organization i mod k,
// its client the one 1 + (i / k) mod (k-1) after it, so that every ordered pair occurs about equally.
// Billing periods of periodSeconds from a validity start an hour ago: AcceptSLA pays the first
// period that has not started.
func makeSLAs(t *testing.T, orgs []*org, total int, tag string) []*scaleSLA {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	base := mustParse(t, tmpl)
	start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	end := start.Add(48 * time.Hour)
	k := len(orgs)
	var out []*scaleSLA
	for i := 0; i < total; i++ {
		p := orgs[i%k]
		c := orgs[(i%k+1+(i/k)%(k-1))%k]
		c.slas++
		s := *base
		s.ID = fmt.Sprintf("%s-%05d", tag, i)
		if s.Nonce, err = sla.NewNonce(); err != nil {
			t.Fatal(err)
		}
		s.Parties.Provider, s.Parties.Client, s.Parties.Logger = p.party, c.party, p.party
		s.Parties.Provider.Wallet, s.Parties.Client.Wallet = p.recv, c.pay
		s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)}
		s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: periodSeconds}
		s.Interval.SubIntervalSeconds = windowSeconds
		doc, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := sla.DigestOf(doc)
		if err != nil {
			t.Fatalf("SLA %d: %v", i, err)
		}
		orgsOf, err := fabnet.SLAOrgs(p.msp, c.msp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &scaleSLA{id: s.ID, doc: doc, digest: hex.EncodeToString(d[:]), provider: p, client: c, orgs: orgsOf})
	}
	return out
}

func mustParse(t *testing.T, doc []byte) *sla.SLA {
	t.Helper()
	s, err := sla.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sign(t *testing.T, key *ecdsa.PrivateKey, digest [32]byte) string {
	t.Helper()
	sig, err := signedsla.Sign(digest, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// job is one transaction: it returns the number of the block that committed it.
type job func() (uint64, error)

// lane is a sequence of transactions that must commit one after the other.
type lane []job

type submitter struct {
	n       *harness.Network
	retries *atomic.Int64

	mu sync.Mutex
	// failures counts the failed attempts by function and reason (the
	// commit's validation code, or "endorsement").
	failures map[string]int
	// examples holds the first error of each function and reason.
	examples map[string]string
}

func (s *submitter) failed(fn, reason string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fn + " " + reason
	if s.failures == nil {
		s.failures, s.examples = map[string]int{}, map[string]string{}
	}
	s.failures[k]++
	if _, ok := s.examples[k]; !ok {
		s.examples[k] = err.Error()
	}
}

// report returns the failed attempts by function and reason, with an example of each.
func (s *submitter) report() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, c := range s.failures {
		out = append(out, fmt.Sprintf("%s: %d (e.g. %s)", k, c, s.examples[k]))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// job submits fn of chaincode cc as who and waits for its commit (not for the other peers); a
// transaction that fails (refused at endorsement, or committed invalid) is submitted again, at most
// attempts-1 times, one second later each time, and counted by reason (see report).
func (s *submitter) job(who, cc, fn string, opts ...client.ProposalOption) job {
	return func() (uint64, error) {
		c, err := s.n.Contract(who, cc)
		if err != nil {
			return 0, err
		}
		var last error
		for try := 0; try < attempts; try++ {
			if try > 0 {
				s.retries.Add(1)
				time.Sleep(time.Duration(try) * time.Second)
			}
			_, commit, err := c.SubmitAsync(fn, opts...)
			if err != nil {
				last = fmt.Errorf("%s %s.%s: %s", who, cc, fn, fabnet.ErrorText(err))
				s.failed(fn, "endorsement", last)
				continue
			}
			st, err := commit.Status()
			if err != nil {
				last = fmt.Errorf("%s %s.%s: commit status: %s", who, cc, fn, fabnet.ErrorText(err))
				s.failed(fn, "commit status", last)
				continue
			}
			if !st.Successful {
				last = fmt.Errorf("%s %s.%s: transaction %s committed with status %s", who, cc, fn, st.TransactionID, st.Code)
				s.failed(fn, st.Code.String(), last)
				continue
			}
			return st.BlockNumber, nil
		}
		return 0, last
	}
}

// slaJob is job of an agreement transaction of the SLA doc (harness.SLAOptions: its two parties'
// organizations endorse; the document as transient data when withDoc).
func (s *submitter) slaJob(who, fn string, doc []byte, withDoc bool, args ...string) job {
	opts, err := harness.SLAOptions(doc, withDoc, args...)
	if err != nil {
		return func() (uint64, error) { return 0, err }
	}
	return s.job(who, "agreement", fn, opts...)
}

// runLanes runs the lanes, at most workers at a time, and returns how long they took and the last
// block that committed one of them, once every peer has committed that block. The first failure
// fails the test.
func runLanes(t *testing.T, n *harness.Network, lanes []lane, workers int) (time.Duration, uint64) {
	t.Helper()
	start := time.Now()
	var mu sync.Mutex
	var last uint64
	var firstErr error
	ch := make(chan lane)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(lanes)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range ch {
				for _, j := range l {
					b, err := j()
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					last = max(last, b)
					mu.Unlock()
					if err != nil {
						break
					}
				}
			}
		}()
	}
	for _, l := range lanes {
		ch <- l
	}
	close(ch)
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if err := n.WaitForBlock(last, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return elapsed, last
}

// registerEnclave registers, as an admin of the enclave host, simulated credentials of a fresh test
// enclave key for scaleEnclave attesting the recorded deploy configuration's digest, and returns the
// key and its enclave id.
func registerEnclave(t *testing.T, n *harness.Network) (*ecdsa.PrivateKey, string) {
	t.Helper()
	cfg, err := n.DeployConfig("provider")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := cfg.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Chaincodes.Enclave != scaleEnclave {
		t.Fatalf("deploy configuration: enclave chaincode %q, want %q", cfg.Chaincodes.Enclave, scaleEnclave)
	}
	host := ""
	for k, o := range n.Info.Orgs {
		if o.MSPID == cfg.Enclave.HostMSPID {
			host = k
		}
	}
	if host == "" {
		t.Fatalf("deploy configuration: the enclave host %s is no organization of the network", cfg.Enclave.HostMSPID)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := rsa.GenerateKey(rand.Reader, credentials.MinRSABits)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := credentials.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ekPEM, err := credentials.MarshalPublicKey(&ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dep := n.Info.Chaincodes[scaleEnclave]
	creds, err := credentials.NewSimulated(credentials.AttestedData{
		Channel: n.Info.Channel, Chaincode: scaleEnclave, ChaincodeVersion: strconv.Itoa(dep.Sequence),
		ChaincodeSequence: int64(dep.Sequence), PeerMSPID: cfg.Enclave.HostMSPID, Endpoint: dep.Address,
		EnclaveVK: vk, ChaincodeEK: ekPEM, ConfigDigest: digest,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	cj, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	n.MustSubmit(t, host+"-admin", "ercc", "RegisterEnclave", string(cj))
	id, err := verdict.EnclaveIDOf(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, id
}

func peerDisk(t *testing.T, n *harness.Network) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, o := range n.PeerOrgs() {
		b, err := harness.DiskUsage(n.PeerLedgerDir(o))
		if err != nil {
			t.Fatal(err)
		}
		out[o] = b
	}
	return out
}

func height(t *testing.T, n *harness.Network) uint64 {
	t.Helper()
	h, err := n.Height("provider")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func rate(count int, d time.Duration) string {
	return fmt.Sprintf("%.1f TPS (%d in %s)", float64(count)/d.Seconds(), count, d.Round(100*time.Millisecond))
}

func percentiles(lat []time.Duration) string {
	if len(lat) == 0 {
		return "none"
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("%s / %s / %s ms", ms(at(0.5)), ms(at(0.95)), ms(s[len(s)-1]))
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
