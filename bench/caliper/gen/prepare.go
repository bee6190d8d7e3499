package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/status"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/cli"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabnet"
	sid "github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// Chaincode names on the benchmark network: run.sh deploys them under these
// names and the deploy configuration names the same (SLASA_CC_ENCLAVE).
const (
	ccAgreement = "agreement"
	ccRefund    = "refund"
	ccRegistry  = "ercc"
	ccBaseline  = "baseline"
	ccEnclave   = "benchenclave"
	ccTicket    = "ticket"
)

// windowSeconds is the width of one log batch window; a billing period of
// the benchmark's SLAs is -batches windows long.
const windowSeconds = 10

// Files of the output folder shared by prepare, settle and the workloads.
const (
	payloadsFile     = "payloads.json"
	settleFile       = "settle.json"
	settleWantedFile = "settle.wanted"
	settleErrorFile  = "settle.error"
	enclaveKeyFile   = "enclave-key.pem"
	// gen tickets writes ticketsFile (or ticketsErrorFile) once the
	// update-ticket round asks for it (ticketsWantedFile).
	ticketsFile       = "tickets.json"
	ticketsWantedFile = "tickets.wanted"
	ticketsErrorFile  = "tickets.error"
)

// Payloads is what the workload modules read (payloads.json).
type Payloads struct {
	// RunTag makes every key, SLA id and wallet of this run unique.
	RunTag string `json:"run_tag"`
	// Workers is the number of Caliper workers the payloads are split for.
	Workers int `json:"workers"`
	// Batches is the number of log batches anchored per SLA (the windows of
	// its paid period).
	Batches int `json:"batches"`
	// Identities maps the invoker identity names of network.yaml to their
	// MSP IDs (Caliper needs the MSP ID for identities of all but its
	// first organization).
	Identities map[string]string `json:"identities"`
	// SLAs are the signed SLA documents, in index order: each has a
	// client and a provider wallet of its own.
	SLAs []SLAPayload `json:"slas"`
	// Shared are as many SLAs of the same provider and client that all
	// use one provider wallet and one client wallet (SharedProviderWallet,
	// SharedClientWallet): gen prepare proposes and accepts them (the
	// deposits debit the one client wallet, so they are accepted one at a
	// time), gen settle anchors their batches, and the round
	// settle-shared-provider settles them all concurrently.
	Shared               []SLAPayload `json:"shared"`
	SharedProviderWallet string       `json:"shared_provider_wallet"`
	SharedClientWallet   string       `json:"shared_client_wallet"`
	// TicketSLA is the one SLA of the ticket rounds: the template with the
	// support terms of -ticket-terms, between the shared wallets, proposed
	// and accepted by gen prepare. Tickets are the ids of its tickets, one
	// per SLA of SLAs (split between the workers like the SLAs): the
	// create-ticket round opens them all at once, each under a key of its
	// own; gen tickets assigns them to VendorOrg's vendor, who
	// acknowledges them; the update-ticket round has the vendor update them
	// all at once, endorsed by TicketOrgs (the customer's, the provider's
	// and the vendor's organizations).
	TicketSLA  SLAPayload `json:"ticket_sla"`
	Tickets    []string   `json:"tickets"`
	TicketOrgs []string   `json:"ticket_orgs"`
	// Expiring are the SLAs of the claim-expired round, as many as SLAs
	// (split between the workers like them), each with a client and a
	// provider wallet of its own and consequences.escrow_expiry
	// (expiryVerdictWithin seconds, outcome split): gen prepare proposes
	// and accepts them once the wallets are funded, before the shared SLAs,
	// and their paid periods are never settled. ExpiringPeriods[i] is the paid period (its start, as the
	// escrow key names it) of Expiring[i], read back from the ledger, and
	// ExpiringDeadline the latest of their verdict deadlines (RFC 3339, from
	// the escrows): the claim-expired round waits until then.
	Expiring         []SLAPayload `json:"expiring"`
	ExpiringPeriods  []string     `json:"expiring_periods"`
	ExpiringDeadline string       `json:"expiring_deadline"`
}

// The escrow_expiry of the claim-expired round's SLAs: the schema's
// shortest verdict deadline after a period's end, and half of the fee to
// each party on a claim (two credits, as a settlement with a credit makes).
const (
	expiryVerdictWithin = 60
	expiryClientBPS     = 5000
)

// TicketsPayloads is what the update-ticket round reads (tickets.json),
// written by gen tickets once every ticket is acknowledged: Records[i] is
// ticket i's current record as GetTicket returned it to the vendor, passed
// back in the transient map under "ticket".
type TicketsPayloads struct {
	Records []string `json:"records"`
}

// SettlePayloads is what the anchor and settle rounds read (settle.json),
// written by gen settle once every SLA is accepted and its paid period has
// ended.
type SettlePayloads struct {
	// Anchors[i][k] are the AnchorLogBatch arguments of batch k+1 of SLA i.
	Anchors [][][]string `json:"anchors"`
	// Verdicts[i] is the signed verdict (JSON) settling SLA i's paid period.
	Verdicts []string `json:"verdicts"`
	// SharedVerdicts[i] settles shared SLA i (its batches are anchored by
	// gen settle before it writes this file).
	SharedVerdicts []string `json:"shared_verdicts"`
}

// SLAPayload is one SLA with both parties' signatures and the
// organizations that endorse its transactions (the provider's and the
// client's: the workloads pass the document as transient data and name
// them, see workloads/base.js).
type SLAPayload struct {
	ID                string   `json:"id"`
	Doc               string   `json:"doc"`
	Digest            string   `json:"digest"`
	ProviderSignature string   `json:"provider_signature"`
	ClientSignature   string   `json:"client_signature"`
	Orgs              []string `json:"orgs"`
}

type prepareFlags struct {
	runDir, out, example string
	ticketTerms          string
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
	fs.StringVar(&f.ticketTerms, "ticket-terms", filepath.Join("examples", "telecom", "sla.json"), "SLA document whose support section the ticket SLA takes")
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
	for _, cc := range []string{ccAgreement, ccRefund, ccRegistry, ccBaseline, ccEnclave, ccTicket} {
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
	logf("registered a simulated test enclave key for %q as provider-admin (deploy configuration %s) in %s", ccEnclave, p.digest, time.Since(started).Round(time.Millisecond))
	pl, err := p.payloads()
	if err != nil {
		return err
	}
	t := time.Now()
	if err := p.wallets(pl); err != nil {
		return err
	}
	logf("opened and funded %d wallets in %s", 2*len(pl.SLAs)+2*len(pl.Expiring)+2, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := p.expiring(pl); err != nil {
		return err
	}
	logf("proposed and accepted the %d SLAs of the claim-expired round; their verdict deadlines pass by %s (%s)", len(pl.Expiring), pl.ExpiringDeadline, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := p.shared(pl); err != nil {
		return err
	}
	logf("proposed and accepted %d SLAs sharing the wallets %s and %s, and the ticket SLA %s, in %s", len(pl.Shared), pl.SharedProviderWallet, pl.SharedClientWallet, pl.TicketSLA.ID, time.Since(t).Round(time.Millisecond))
	if err := writeJSON(filepath.Join(f.out, payloadsFile), pl); err != nil {
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
	// digest is the deploy configuration's digest, which the test enclave's
	// credentials attest.
	digest string
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

// submit submits fn(args) as who, the Gateway planning the endorsements
// (submitOptions).
func (p *preparer) submit(who, cc, fn string, args ...string) (string, error) {
	return p.submitOptions(who, cc, fn, client.WithArguments(args...))
}

// submitSLA submits fn(args) of the agreement chaincode as who for the SLA
// s, as the workloads do (workloads/base.js): endorsed by exactly the SLA's
// two organizations (s.Orgs), with the document as transient data "sla"
// when withDoc (ProposeSLA and AcceptSLA read it there, never from the
// arguments).
func (p *preparer) submitSLA(who, fn string, s SLAPayload, withDoc bool, args ...string) (string, error) {
	if len(s.Orgs) == 0 {
		return "", fmt.Errorf("SLA %s: no endorsing organizations", s.ID)
	}
	opts := []client.ProposalOption{client.WithArguments(args...), client.WithEndorsingOrganizations(s.Orgs...)}
	if withDoc {
		opts = append(opts, client.WithTransient(map[string][]byte{transientSLA: []byte(s.Doc)}))
	}
	return p.submitOptions(who, ccAgreement, fn, opts...)
}

// transientSLA is the transient key of the SLA document of ProposeSLA and
// AcceptSLA (agreement.TransientSLA).
const transientSLA = "sla"

// submitOptions submits fn with the proposal options opts as who and
// waits for its commit; it retries a few times on errors that a lagging
// peer explains (the other organization's peer has not seen the block the
// transaction depends on).
func (p *preparer) submitOptions(who, cc, fn string, opts ...client.ProposalOption) (string, error) {
	c, err := p.conn(who)
	if err != nil {
		return "", err
	}
	var last error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 500 * time.Millisecond)
		}
		out, err := c.Network.GetContract(cc).Submit(fn, opts...)
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

// configure checks that the deploy configuration (recorded by run.sh with
// slasa config record) names the benchmark's chaincodes, and registers, as
// an admin of the enclave host, simulated credentials of a fresh test
// enclave key for ccEnclave attesting the configuration's digest. The key
// is written to the output folder for gen settle, which signs the verdicts.
func (p *preparer) configure() error {
	cfg, err := deploycfg.Load(filepath.Join(p.f.runDir, "orgs", "provider", cli.DeployConfigFile))
	if err != nil {
		return err
	}
	want := deploycfg.Chaincodes{Agreement: ccAgreement, Refund: ccRefund, Registry: ccRegistry, Enclave: ccEnclave}
	if cfg.Chaincodes != want {
		return fmt.Errorf("deploy configuration: chaincodes %+v, want %+v (run.sh exports SLASA_CC_ENCLAVE=%s)", cfg.Chaincodes, want, ccEnclave)
	}
	if p.digest, err = cfg.Digest(); err != nil {
		return err
	}
	host, ok := p.orgOfMSP(cfg.Enclave.HostMSPID)
	if !ok {
		return fmt.Errorf("deploy configuration: enclave host %s is not an organization of the network", cfg.Enclave.HostMSPID)
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
		ChaincodeSequence: int64(dep.Sequence), PeerMSPID: cfg.Enclave.HostMSPID, Endpoint: dep.Address,
		EnclaveVK: vkPEM, ChaincodeEK: ekPEM, ConfigDigest: p.digest,
	}, key)
	if err != nil {
		return err
	}
	cj, err := json.Marshal(creds)
	if err != nil {
		return err
	}
	if _, err := p.submit(host+"-admin", ccRegistry, "RegisterEnclave", string(cj)); err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.f.out, enclaveKeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

// orgOfMSP returns the network.json key of the organization of an MSP ID.
func (p *preparer) orgOfMSP(msp string) (string, bool) {
	for k, o := range p.info.Orgs {
		if o.MSPID == msp {
			return k, true
		}
	}
	return "", false
}

// party is the SLA party of an identity name: its MSP ID, certificate
// subject and issuer, common name and wallet.
func (p *preparer) party(who, wallet string) (sla.Party, error) {
	org, user, err := fabnet.Identity(who)
	if err != nil {
		return sla.Party{}, err
	}
	o := p.info.Orgs[org]
	u := o.Users[user]
	data, err := os.ReadFile(u.CertPath)
	if err != nil {
		return sla.Party{}, err
	}
	cert, err := signedsla.ParseCertificatePEM(data)
	if err != nil {
		return sla.Party{}, fmt.Errorf("identity %q: %w", who, err)
	}
	id := sid.FromCert(o.MSPID, cert)
	return sla.Party{MSPID: id.MSPID, CommonName: u.CommonName, Subject: id.Subject, Issuer: id.Issuer, Wallet: wallet}, nil
}

// payloads signs the SLAs. Each SLA has billing periods of -batches log
// windows (windowSeconds each) from a validity start in the past: AcceptSLA
// pays the first period that has not started at its transaction time, which
// gen settle reads back from the ledger.
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
	now := time.Now().UTC()
	period := int64(p.f.batches * windowSeconds)
	start := now.Truncate(time.Minute).Add(-time.Hour)
	periods := (48*3600 + period - 1) / period
	end := start.Add(time.Duration(periods*period) * time.Second)
	tag := fmt.Sprintf("b%x", now.UnixNano()/int64(time.Millisecond))
	pl := &Payloads{RunTag: tag, Workers: p.f.workers, Batches: p.f.batches, Identities: map[string]string{}}
	for _, o := range caliperOrgs {
		for _, u := range o.users {
			pl.Identities[u] = p.info.Orgs[o.org].MSPID
		}
	}
	logger, err := p.party("logger", "")
	if err != nil {
		return nil, err
	}
	pl.SharedProviderWallet, pl.SharedClientWallet = tag+"-shared-p", tag+"-shared-c"
	for i := 0; i < 3*p.f.slas; i++ {
		s := *base
		id, pw, cw := fmt.Sprintf("%s-sla-%05d", tag, i), fmt.Sprintf("%s-p-%05d", tag, i), fmt.Sprintf("%s-c-%05d", tag, i)
		switch j := i % p.f.slas; i / p.f.slas {
		case 1:
			id, pw, cw = fmt.Sprintf("%s-shared-%05d", tag, j), pl.SharedProviderWallet, pl.SharedClientWallet
		case 2:
			id, pw, cw = expiringIDs(tag, j)
			s.Consequences.EscrowExpiry = expiringTerms()
		}
		s.ID = id
		if s.Nonce, err = sla.NewNonce(); err != nil {
			return nil, err
		}
		if s.Parties.Provider, err = p.party("provider", pw); err != nil {
			return nil, err
		}
		if s.Parties.Client, err = p.party("client", cw); err != nil {
			return nil, err
		}
		s.Parties.Logger = logger
		s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)}
		s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: period}
		s.Interval.SubIntervalSeconds = windowSeconds
		doc, err := json.Marshal(&s)
		if err != nil {
			return nil, err
		}
		d, _, err := sla.DigestOf(doc)
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
		orgs, err := fabnet.SLAOrgs(s.Parties.Provider.MSPID, s.Parties.Client.MSPID)
		if err != nil {
			return nil, fmt.Errorf("SLA %d: %w", i, err)
		}
		sp := SLAPayload{ID: s.ID, Doc: string(doc), Digest: fmt.Sprintf("%x", d[:]),
			ProviderSignature: base64.StdEncoding.EncodeToString(ps), ClientSignature: base64.StdEncoding.EncodeToString(cs), Orgs: orgs}
		switch i / p.f.slas {
		case 0:
			pl.SLAs = append(pl.SLAs, sp)
		case 1:
			pl.Shared = append(pl.Shared, sp)
		default:
			pl.Expiring = append(pl.Expiring, sp)
		}
	}
	if err := p.ticketPayloads(pl, base, start, end, signProvider, signClient); err != nil {
		return nil, err
	}
	return pl, nil
}

// expiringIDs returns the id, the provider's wallet and the client's wallet
// of SLA i of the claim-expired round: wallets of its own, so that two
// claims never write one key.
func expiringIDs(tag string, i int) (id, providerWallet, clientWallet string) {
	return fmt.Sprintf("%s-expiring-%05d", tag, i), fmt.Sprintf("%s-xp-%05d", tag, i), fmt.Sprintf("%s-xc-%05d", tag, i)
}

// expiringTerms is the escrow_expiry of the claim-expired round's SLAs.
func expiringTerms() *sla.EscrowExpiry {
	return &sla.EscrowExpiry{VerdictWithinSeconds: expiryVerdictWithin, Outcome: sla.ExpirySplit, ClientBPS: expiryClientBPS}
}

// ticketPayloads makes the ticket SLA (the template with the support terms
// of -ticket-terms, the shared wallets, the same validity and periods as
// the other SLAs) with both signatures, its ticket ids and the
// organizations that endorse a ticket once it has a vendor.
func (p *preparer) ticketPayloads(pl *Payloads, base *sla.SLA, start, end time.Time, signProvider, signClient identity.Sign) error {
	raw, err := os.ReadFile(p.f.ticketTerms)
	if err != nil {
		return err
	}
	terms, err := sla.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", p.f.ticketTerms, err)
	}
	if terms.Support == nil {
		return fmt.Errorf("%s: no support section", p.f.ticketTerms)
	}
	s := *base
	s.ID = pl.RunTag + "-tickets"
	if s.Nonce, err = sla.NewNonce(); err != nil {
		return err
	}
	if s.Parties.Provider, err = p.party("provider", pl.SharedProviderWallet); err != nil {
		return err
	}
	if s.Parties.Client, err = p.party("client", pl.SharedClientWallet); err != nil {
		return err
	}
	if s.Parties.Logger, err = p.party("logger", ""); err != nil {
		return err
	}
	period := int64(p.f.batches * windowSeconds)
	s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)}
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: period}
	s.Interval.SubIntervalSeconds = windowSeconds
	s.Support = terms.Support
	doc, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		return fmt.Errorf("ticket SLA: %w", err)
	}
	ps, err := signProvider(d[:])
	if err != nil {
		return err
	}
	cs, err := signClient(d[:])
	if err != nil {
		return err
	}
	orgs, err := fabnet.SLAOrgs(s.Parties.Provider.MSPID, s.Parties.Client.MSPID)
	if err != nil {
		return fmt.Errorf("ticket SLA: %w", err)
	}
	pl.TicketSLA = SLAPayload{ID: s.ID, Doc: string(doc), Digest: fmt.Sprintf("%x", d[:]),
		ProviderSignature: base64.StdEncoding.EncodeToString(ps), ClientSignature: base64.StdEncoding.EncodeToString(cs), Orgs: orgs}
	for i := 0; i < p.f.slas; i++ {
		pl.Tickets = append(pl.Tickets, fmt.Sprintf("%s-t-%05d", pl.RunTag, i))
	}
	vendor, err := p.party("vendor", "")
	if err != nil {
		return err
	}
	pl.TicketOrgs = append(append([]string(nil), orgs...), vendor.MSPID)
	slices.Sort(pl.TicketOrgs)
	pl.TicketOrgs = slices.Compact(pl.TicketOrgs)
	return nil
}

// wallets opens one client wallet (funded with one period's fee) and one
// provider wallet per SLA and per SLA of the claim-expired round, so that
// no two SLAs share a wallet key, and the two shared wallets (the client's
// funded with a period's fee per shared SLA). Every Mint adds to the issuer's supply key, so the mints run one at
// a time (concurrent ones would meet MVCC conflicts on it); the wallets are
// opened concurrently.
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
	run := func(jobs []job, concurrency int) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := make(chan job)
		errs := make(chan error, len(jobs))
		var wg sync.WaitGroup
		for w := 0; w < concurrency; w++ {
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
	open := []job{{"client", "OpenAccount", []string{pl.SharedClientWallet}}, {"provider", "OpenAccount", []string{pl.SharedProviderWallet}}}
	// A period's fee per SLA of the claim-expired round (gen prepare
	// accepts those right after the wallets, before the shared SLAs), per
	// shared SLA and for the ticket SLA, and per SLA.
	var mint []job
	for i := range pl.Expiring {
		_, pw, cw := expiringIDs(pl.RunTag, i)
		open = append(open, job{"client", "OpenAccount", []string{cw}}, job{"provider", "OpenAccount", []string{pw}})
		mint = append(mint, job{"issuer", "Mint", []string{cw, strconv.FormatInt(fee, 10)}})
	}
	mint = append(mint, job{"issuer", "Mint", []string{pl.SharedClientWallet, strconv.FormatInt(fee*int64(len(pl.Shared)+1), 10)}})
	for i := range pl.SLAs {
		c := fmt.Sprintf("%s-c-%05d", pl.RunTag, i)
		open = append(open, job{"client", "OpenAccount", []string{c}}, job{"provider", "OpenAccount", []string{fmt.Sprintf("%s-p-%05d", pl.RunTag, i)}})
		mint = append(mint, job{"issuer", "Mint", []string{c, strconv.FormatInt(fee, 10)}})
	}
	if err := run(open, p.f.setupConcurrency); err != nil {
		return err
	}
	// Wallets opened through the client's peer must reach the provider's
	// peer before the issuer mints through it (submit retries otherwise).
	time.Sleep(time.Second)
	return run(mint, 1)
}

// shared proposes the shared SLAs and the ticket SLA (concurrently: each
// writes keys of its own) and accepts them one at a time: each
// acceptance's deposit debits the one shared client wallet, and debits of
// one wallet are serialised by its base key.
func (p *preparer) shared(pl *Payloads) error {
	all := append(append([]SLAPayload(nil), pl.Shared...), pl.TicketSLA)
	sem := make(chan struct{}, p.f.setupConcurrency)
	errs := make(chan error, len(all))
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		sem <- struct{}{}
		go func(s SLAPayload) {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := p.submitSLA("provider", "ProposeSLA", s, true, s.ProviderSignature); err != nil {
				errs <- err
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	time.Sleep(time.Second) // the proposals reach the client's peer
	for _, s := range all {
		if _, err := p.submitSLA("client", "AcceptSLA", s, true, s.ID, s.Digest, s.ClientSignature); err != nil {
			return err
		}
	}
	return nil
}

// expiring proposes and accepts the SLAs of the claim-expired round
// (concurrently: each has wallets of its own, like the propose and accept
// rounds' SLAs), then reads back from the client's peer each one's paid
// period (agreement GetSLA: one period paid, the first one that had not
// started at the acceptance) and its escrow (refund GetEscrow: HELD, with
// the SLA's escrow_expiry and the verdict deadline fixed at the deposit).
// No verdict is ever made for these periods; pl.ExpiringDeadline is the
// latest deadline, after which every escrow of the round may be claimed.
func (p *preparer) expiring(pl *Payloads) error {
	each := func(fn func(i int, s SLAPayload) error) error {
		sem := make(chan struct{}, p.f.setupConcurrency)
		errs := make(chan error, len(pl.Expiring))
		var wg sync.WaitGroup
		for i, s := range pl.Expiring {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int, s SLAPayload) {
				defer wg.Done()
				defer func() { <-sem }()
				if err := fn(i, s); err != nil {
					errs <- err
				}
			}(i, s)
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	if err := each(func(_ int, s SLAPayload) error {
		_, err := p.submitSLA("provider", "ProposeSLA", s, true, s.ProviderSignature)
		return err
	}); err != nil {
		return err
	}
	time.Sleep(time.Second) // the proposals reach the client's peer
	if err := each(func(_ int, s SLAPayload) error {
		_, err := p.submitSLA("client", "AcceptSLA", s, true, s.ID, s.Digest, s.ClientSignature)
		return err
	}); err != nil {
		return err
	}
	c, err := p.conn("client")
	if err != nil {
		return err
	}
	periods := make([]string, len(pl.Expiring))
	deadlines := make([]time.Time, len(pl.Expiring))
	period := time.Duration(pl.Batches*windowSeconds) * time.Second
	if err := each(func(i int, s SLAPayload) error {
		raw, err := c.Network.GetContract(ccAgreement).Evaluate("GetSLA", client.WithArguments(s.ID), client.WithEndorsingOrganizations(c.MSPID))
		if err != nil {
			return fmt.Errorf("GetSLA %s: %s", s.ID, gatewayError(err))
		}
		start, err := paidPeriod(raw, period)
		if err != nil {
			return fmt.Errorf("SLA %s: %w", s.ID, err)
		}
		raw, err = c.Network.GetContract(ccRefund).Evaluate("GetEscrow", client.WithArguments(s.ID, start), client.WithEndorsingOrganizations(c.MSPID))
		if err != nil {
			return fmt.Errorf("GetEscrow %s %s: %s", s.ID, start, gatewayError(err))
		}
		deadline, err := verdictDeadline(raw)
		if err != nil {
			return fmt.Errorf("SLA %s: %w", s.ID, err)
		}
		periods[i], deadlines[i] = start, deadline
		return nil
	}); err != nil {
		return err
	}
	pl.ExpiringPeriods = periods
	last := slices.MaxFunc(deadlines, func(a, b time.Time) int { return a.Compare(b) })
	pl.ExpiringDeadline = last.UTC().Format(time.RFC3339)
	return nil
}

// paidPeriod returns the start of the one paid period (RFC 3339, as the
// escrow key names it) of an SLA of the claim-expired round from its
// agreement record (GetSLA): ACTIVE, one period of the given length paid.
func paidPeriod(raw []byte, period time.Duration) (string, error) {
	var a struct {
		Status      string `json:"status"`
		LastPeriod  string `json:"last_period"`
		PaidThrough string `json:"paid_through"`
		PaidPeriods int64  `json:"paid_periods"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", fmt.Errorf("GetSLA: %w", err)
	}
	if a.Status != "ACTIVE" || a.PaidPeriods != 1 {
		return "", fmt.Errorf("status %s with %d periods paid; want ACTIVE with one", a.Status, a.PaidPeriods)
	}
	from, err := signedsla.ParseInstant(a.LastPeriod)
	if err != nil {
		return "", fmt.Errorf("last_period: %w", err)
	}
	to, err := signedsla.ParseInstant(a.PaidThrough)
	if err != nil {
		return "", fmt.Errorf("paid_through: %w", err)
	}
	if to.Sub(from) != period {
		return "", fmt.Errorf("paid period %s..%s is not %s long", a.LastPeriod, a.PaidThrough, period)
	}
	return a.LastPeriod, nil
}

// verdictDeadline returns the verdict deadline of an escrow of the
// claim-expired round (GetEscrow): HELD, with the round's escrow_expiry,
// the deadline verdict_within_seconds after the period's end.
func verdictDeadline(raw []byte) (time.Time, error) {
	var e struct {
		Status          string            `json:"status"`
		PeriodEnd       string            `json:"period_end"`
		Expiry          *sla.EscrowExpiry `json:"expiry"`
		VerdictDeadline string            `json:"verdict_deadline"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return time.Time{}, fmt.Errorf("GetEscrow: %w", err)
	}
	if e.Status != "HELD" {
		return time.Time{}, fmt.Errorf("escrow status %q, want HELD", e.Status)
	}
	if want := expiringTerms(); e.Expiry == nil || *e.Expiry != *want {
		return time.Time{}, fmt.Errorf("escrow expiry %+v, want %+v", e.Expiry, *want)
	}
	end, err := signedsla.ParseInstant(e.PeriodEnd)
	if err != nil {
		return time.Time{}, fmt.Errorf("escrow period_end: %w", err)
	}
	deadline, err := signedsla.ParseInstant(e.VerdictDeadline)
	if err != nil {
		return time.Time{}, fmt.Errorf("escrow verdict_deadline: %w", err)
	}
	if deadline.Sub(end) != expiryVerdictWithin*time.Second {
		return time.Time{}, fmt.Errorf("escrow verdict_deadline %s is not %d s after the period's end %s", e.VerdictDeadline, expiryVerdictWithin, e.PeriodEnd)
	}
	return deadline, nil
}
