package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/status"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// Chaincode names on the benchmark network.
const (
	ccAgreement = "agreement"
	ccRefund    = "refund"
	ccRegistry  = "ercc"
	ccBaseline  = "baseline"
	ccEnclave   = "benchenclave"
)

// Payloads is what the workload modules read (payloads.json).
type Payloads struct {
	// RunTag makes every key, SLA id and wallet of this run unique.
	RunTag string `json:"run_tag"`
	// Workers is the number of Caliper workers the payloads are split for.
	Workers int `json:"workers"`
	// Identities maps the invoker identity names of network.yaml to their
	// MSP IDs (Caliper needs the MSP ID for identities of all but its
	// first organization).
	Identities map[string]string `json:"identities"`
	// SLAs are the signed SLA documents, in index order.
	SLAs []SLAPayload `json:"slas"`
	// Anchors[i][k] are the AnchorLogBatch arguments of batch k+1 of SLA i.
	Anchors [][][]string `json:"anchors"`
	// Verdicts[i] is the signed verdict (JSON) settling SLA i's first period.
	Verdicts []string `json:"verdicts"`
}

// SLAPayload is one SLA with both parties' signatures.
type SLAPayload struct {
	ID                string `json:"id"`
	Doc               string `json:"doc"`
	Digest            string `json:"digest"`
	ProviderSignature string `json:"provider_signature"`
	ClientSignature   string `json:"client_signature"`
}

type prepareFlags struct {
	runDir, out, example string
	slas, batches        int
	workers, load        int
	setupConcurrency     int
}

func runPrepare(args []string) error {
	var f prepareFlags
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	fs.StringVar(&f.runDir, "run-dir", "", "run folder of the running network (holds network.json)")
	fs.StringVar(&f.out, "out", "", "output folder for payloads.json, network.yaml and benchmark.yaml")
	fs.StringVar(&f.example, "sla", filepath.Join("examples", "aws-ec2-region", "sla.json"), "SLA document used as the template")
	fs.IntVar(&f.slas, "slas", 400, "number of distinct SLAs (a multiple of -workers)")
	fs.IntVar(&f.batches, "batches", 3, "consecutive log batches anchored per SLA")
	fs.IntVar(&f.workers, "workers", 2, "Caliper workers")
	fs.IntVar(&f.load, "load", 32, "transactions in flight per worker (Caliper fixed-load)")
	fs.IntVar(&f.setupConcurrency, "setup-concurrency", 32, "concurrent setup transactions (wallets, mint)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case f.runDir == "":
		return errors.New("-run-dir: required")
	case f.out == "":
		return errors.New("-out: required")
	case f.workers < 1 || f.load < 1:
		return errors.New("-workers, -load: must be positive")
	case f.slas < f.workers || f.slas%f.workers != 0:
		return fmt.Errorf("-slas: %d is not a positive multiple of -workers %d", f.slas, f.workers)
	case f.batches < 1:
		return errors.New("-batches: must be positive")
	}
	info, err := fabnet.Load(f.runDir)
	if err != nil {
		return err
	}
	for _, cc := range []string{ccAgreement, ccRefund, ccRegistry, ccBaseline, ccEnclave} {
		if _, ok := info.Chaincodes[cc]; !ok {
			return fmt.Errorf("chaincode %q is not deployed on the network of %s", cc, f.runDir)
		}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	p := &preparer{f: f, info: info, conns: map[string]*fabnet.Connection{}}
	defer p.close()
	started := time.Now()
	if err := p.configure(); err != nil {
		return err
	}
	logf("configured ercc (simulated), refund and the test enclave %q in %s", ccEnclave, time.Since(started).Round(time.Millisecond))
	pl, err := p.payloads()
	if err != nil {
		return err
	}
	t := time.Now()
	if err := p.wallets(pl); err != nil {
		return err
	}
	logf("opened and funded %d wallets in %s", 2*len(pl.SLAs), time.Since(t).Round(time.Millisecond))
	if err := writeJSON(filepath.Join(f.out, "payloads.json"), pl); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(f.out, "network.yaml"), caliperNetwork(info)); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(f.out, "benchmark.yaml"), caliperBenchmark(f, f.out)); err != nil {
		return err
	}
	logf("wrote payloads.json, network.yaml and benchmark.yaml into %s (%s in all)", f.out, time.Since(started).Round(time.Millisecond))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

type preparer struct {
	f     prepareFlags
	info  *fabnet.Info
	mu    sync.Mutex
	conns map[string]*fabnet.Connection
	// enclaveKey signs the test enclave's verdicts.
	enclaveKey *ecdsa.PrivateKey
}

func (p *preparer) close() {
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *preparer) conn(who string) (*fabnet.Connection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[who]; ok {
		return c, nil
	}
	c, err := p.info.Connect(who)
	if err != nil {
		return nil, err
	}
	p.conns[who] = c
	return c, nil
}

// submit submits a transaction as who and waits for its commit; it retries
// a few times on errors that a lagging peer explains (the other
// organization's peer has not seen the block the transaction depends on).
func (p *preparer) submit(who, cc, fn string, args ...string) (string, error) {
	c, err := p.conn(who)
	if err != nil {
		return "", err
	}
	var last error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 500 * time.Millisecond)
		}
		out, err := c.Network.GetContract(cc).SubmitTransaction(fn, args...)
		if err == nil {
			return string(out), nil
		}
		last = fmt.Errorf("%s %s.%s: %s", who, cc, fn, gatewayError(err))
	}
	return "", last
}

// gatewayError returns the chaincode's messages inside a Gateway error.
func gatewayError(err error) string {
	msgs := []string{err.Error()}
	for _, d := range status.Convert(err).Details() {
		if e, ok := d.(*gateway.ErrorDetail); ok {
			msgs = append(msgs, e.GetMessage())
		}
	}
	var ce *client.CommitError
	if errors.As(err, &ce) {
		msgs = append(msgs, ce.Code.String())
	}
	return strings.Join(msgs, " | ")
}

// signer returns the signing function of a named identity (ECDSA over a digest).
func (p *preparer) signer(who string) (identity.Sign, error) {
	org, user, err := fabnet.Identity(who)
	if err != nil {
		return nil, err
	}
	o := p.info.Orgs[org]
	_, sign, err := fabnet.LoadIdentity(o.MSPID, o.Users[user])
	return sign, err
}

// configure sets ercc to simulated attestation, registers simulated
// credentials of a fresh test enclave key for ccEnclave, and configures
// refund to trust ccEnclave's verdicts and agreement's deposits.
func (p *preparer) configure() error {
	if _, err := p.submit("provider-admin", ccRegistry, "Configure", "simulated"); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ek, err := rsa.GenerateKey(rand.Reader, credentials.MinRSABits)
	if err != nil {
		return err
	}
	vkPEM, err := credentials.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	ekPEM, err := credentials.MarshalPublicKey(&ek.PublicKey)
	if err != nil {
		return err
	}
	dep := p.info.Chaincodes[ccEnclave]
	creds, err := credentials.NewSimulated(credentials.AttestedData{
		Channel: p.info.Channel, Chaincode: ccEnclave, ChaincodeVersion: strconv.Itoa(dep.Sequence),
		ChaincodeSequence: int64(dep.Sequence), PeerMSPID: p.info.Orgs["provider"].MSPID, Endpoint: dep.Address,
		EnclaveVK: vkPEM, ChaincodeEK: ekPEM,
	}, key)
	if err != nil {
		return err
	}
	cj, err := json.Marshal(creds)
	if err != nil {
		return err
	}
	if _, err := p.submit("provider", ccRegistry, "RegisterEnclave", string(cj)); err != nil {
		return err
	}
	if _, err := p.submit("issuer", ccRefund, "Configure", p.info.Orgs["provider"].MSPID, ccEnclave, ccAgreement); err != nil {
		return err
	}
	p.enclaveKey = key
	return nil
}

// payloads signs the SLAs, anchors and verdicts.
func (p *preparer) payloads() (*Payloads, error) {
	tmpl, err := os.ReadFile(p.f.example)
	if err != nil {
		return nil, err
	}
	base, err := sla.Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.f.example, err)
	}
	signProvider, err := p.signer("provider")
	if err != nil {
		return nil, err
	}
	signClient, err := p.signer("client")
	if err != nil {
		return nil, err
	}
	signLogger, err := p.signer("logger")
	if err != nil {
		return nil, err
	}
	enclaveID, err := verdict.EnclaveIDOf(&p.enclaveKey.PublicKey)
	if err != nil {
		return nil, err
	}
	pu, cu, lu := p.info.Orgs["provider"].Users["provider"], p.info.Orgs["client"].Users["client"], p.info.Orgs["provider"].Users["logger"]
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	tag := fmt.Sprintf("b%x", now.UnixNano()/int64(time.Millisecond))
	pl := &Payloads{RunTag: tag, Workers: p.f.workers, Identities: map[string]string{}}
	for _, o := range caliperOrgs {
		for _, u := range o.users {
			pl.Identities[u] = p.info.Orgs[o.org].MSPID
		}
	}
	for i := 0; i < p.f.slas; i++ {
		s := *base
		s.ID = fmt.Sprintf("%s-sla-%05d", tag, i)
		s.Parties.Provider = sla.Party{MSPID: p.info.Orgs["provider"].MSPID, CommonName: pu.CommonName, Wallet: fmt.Sprintf("%s-p-%05d", tag, i)}
		s.Parties.Client = sla.Party{MSPID: p.info.Orgs["client"].MSPID, CommonName: cu.CommonName, Wallet: fmt.Sprintf("%s-c-%05d", tag, i)}
		s.Parties.Logger = sla.Party{MSPID: p.info.Orgs["provider"].MSPID, CommonName: lu.CommonName}
		s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: start.AddDate(1, 0, 0).Format(time.RFC3339)}
		doc, err := json.Marshal(&s)
		if err != nil {
			return nil, err
		}
		d, parsed, err := sla.DigestOf(doc)
		if err != nil {
			return nil, fmt.Errorf("SLA %d: %w", i, err)
		}
		ps, err := signProvider(d[:])
		if err != nil {
			return nil, err
		}
		cs, err := signClient(d[:])
		if err != nil {
			return nil, err
		}
		digest := hex.EncodeToString(d[:])
		pl.SLAs = append(pl.SLAs, SLAPayload{ID: s.ID, Doc: string(doc), Digest: digest,
			ProviderSignature: base64.StdEncoding.EncodeToString(ps), ClientSignature: base64.StdEncoding.EncodeToString(cs)})

		// Consecutive one-minute windows from the validity start, chained by CID.
		var anchors [][]string
		prev := ""
		for k := 1; k <= p.f.batches; k++ {
			c, err := cidverify.Sum([]byte(fmt.Sprintf("%s batch %d", s.ID, k)))
			if err != nil {
				return nil, err
			}
			a := signedsla.Anchor{SLAID: s.ID, Seq: int64(k), CID: c.String(), PrevCID: prev,
				PeriodStart: start.Add(time.Duration(k-1) * time.Minute).Format(time.RFC3339),
				PeriodEnd:   start.Add(time.Duration(k) * time.Minute).Format(time.RFC3339)}
			sum := sha256.Sum256(a.SigningBytes())
			sig, err := signLogger(sum[:])
			if err != nil {
				return nil, err
			}
			anchors = append(anchors, []string{a.SLAID, strconv.FormatInt(a.Seq, 10), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd,
				base64.StdEncoding.EncodeToString(sig)})
			prev = a.CID
		}
		pl.Anchors = append(pl.Anchors, anchors)

		// The verdict of the period AcceptSLA pays: the one containing now
		// (a run that crosses a month boundary between here and AcceptSLA
		// would fail its settlements).
		per, err := driver.PeriodOf(parsed, now)
		if err != nil {
			return nil, err
		}
		report := sha256.Sum256([]byte(s.ID + " report"))
		creditBPS := int64(1000 * (i % 2)) // every other SLA gets a 10% credit
		v := verdict.Verdict{SLAID: s.ID, SLADigest: digest, Period: per.Start.Format(time.RFC3339), PeriodEnd: per.End.Format(time.RFC3339),
			Violated: creditBPS > 0, CreditBPS: creditBPS, CreditAmount: s.Price.AmountMinor * creditBPS / 10000,
			Currency: s.Price.Currency, ReportDigest: hex.EncodeToString(report[:]), Chaincode: ccEnclave, EnclaveID: enclaveID}
		signed, err := verdict.Sign(v, p.enclaveKey)
		if err != nil {
			return nil, fmt.Errorf("SLA %d verdict: %w", i, err)
		}
		vj, err := json.Marshal(signed)
		if err != nil {
			return nil, err
		}
		pl.Verdicts = append(pl.Verdicts, string(vj))
	}
	return pl, nil
}

// wallets opens one client wallet (funded with one period's fee) and one
// provider wallet per SLA, so that no two SLAs share a wallet key.
func (p *preparer) wallets(pl *Payloads) error {
	var fee int64
	var s sla.SLA
	if err := json.Unmarshal([]byte(pl.SLAs[0].Doc), &s); err != nil {
		return err
	}
	fee = s.Price.AmountMinor
	type job struct {
		who, fn string
		args    []string
	}
	run := func(jobs []job) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := make(chan job)
		errs := make(chan error, len(jobs))
		var wg sync.WaitGroup
		for w := 0; w < p.f.setupConcurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range ch {
					if _, err := p.submit(j.who, ccRefund, j.fn, j.args...); err != nil {
						errs <- err
						cancel()
					}
				}
			}()
		}
	feed:
		for _, j := range jobs {
			select {
			case ch <- j:
			case <-ctx.Done():
				break feed
			}
		}
		close(ch)
		wg.Wait()
		close(errs)
		return <-errs
	}
	var open, mint []job
	for i := range pl.SLAs {
		c := fmt.Sprintf("%s-c-%05d", pl.RunTag, i)
		open = append(open, job{"client", "OpenAccount", []string{c}}, job{"provider", "OpenAccount", []string{fmt.Sprintf("%s-p-%05d", pl.RunTag, i)}})
		mint = append(mint, job{"issuer", "Mint", []string{c, strconv.FormatInt(fee, 10)}})
	}
	if err := run(open); err != nil {
		return err
	}
	// Wallets opened through the client's peer must reach the provider's
	// peer before the issuer mints through it (submit retries otherwise).
	time.Sleep(time.Second)
	return run(mint)
}
