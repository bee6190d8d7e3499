// Package ccguard is what every slasa contract-API chaincode (agreement,
// refund, ercc) checks before it acts, in one place:
//
//   - the deploy configuration (internal/deploycfg) that this organization
//     gave its chaincode server, and its digest recorded on the ledger by
//     Configure: a transaction runs only when the two agree, so an
//     organization whose file differs refuses to endorse anything, with one
//     clear error;
//   - the transaction timestamp, which the client chooses and Fabric does not
//     check: a peer refuses to endorse a transaction whose timestamp is more
//     than the allowed skew (default 5 minutes) away from its own clock. The
//     clock only refuses; it never changes what is written. With endorsement
//     policies that need both parties' peers, each side guards against the
//     other's backdating;
//   - the caller: MSP ID, full subject and issuer (internal/identity) and
//     NodeOU role, for functions that need an admin.
//
// A contract wires Guard.Before as its BeforeTransaction function, so no
// function can forget the configuration and clock checks.
package ccguard

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/skew"
)

// DefaultMaxSkew is the largest difference between a transaction's
// timestamp and the endorsing peer's clock accepted by default.
const DefaultMaxSkew = skew.Default

// EnvMaxSkew names the environment variable that sets the allowed skew (a Go
// duration, "5m"); the server's -max-clock-skew flag overrides it.
const EnvMaxSkew = skew.EnvVar

// RecordKey is the state key of the recorded configuration.
const RecordKey = "deploy-config"

// Functions that run without a recorded configuration (they record or show
// it). Every other function refuses to run until Configure has run.
var unguarded = map[string]bool{"Configure": true, "GetConfig": true}

// Guard holds an organization's deploy configuration and clock policy.
type Guard struct {
	cfg     *deploycfg.Config
	digest  string
	maxSkew time.Duration
	now     func() time.Time

	// The recorded configuration is read on every transaction; decoding it
	// (it carries the CA certificates) costs more than reading it. The
	// digest decoded from the last bytes read is kept: the same bytes have
	// the same digest.
	mu         sync.Mutex
	lastRaw    []byte
	lastDigest string
}

// Option configures a Guard.
type Option func(*Guard)

// WithMaxSkew sets the allowed difference between a transaction's timestamp
// and the peer's clock.
func WithMaxSkew(d time.Duration) Option { return func(g *Guard) { g.maxSkew = d } }

// WithClock replaces the peer's clock (tests).
func WithClock(now func() time.Time) Option { return func(g *Guard) { g.now = now } }

// New returns a guard for cfg, which must be valid.
func New(cfg *deploycfg.Config, opts ...Option) (*Guard, error) {
	if cfg == nil {
		return nil, errors.New("deploy configuration: none given")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	d, err := cfg.Digest()
	if err != nil {
		return nil, err
	}
	c := *cfg
	c.Normalize()
	g := &Guard{cfg: &c, digest: d, maxSkew: DefaultMaxSkew, now: time.Now}
	for _, o := range opts {
		o(g)
	}
	if err := skew.Validate(g.maxSkew); err != nil {
		return nil, err
	}
	return g, nil
}

// Load builds a guard from a chaincode server's command line and
// environment: -config FILE (default $SLASA_DEPLOY_CONFIG) and
// -max-clock-skew DURATION (default $SLASA_MAX_CLOCK_SKEW, else 5m).
func Load(name string, args []string) (*Guard, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	path := fs.String("config", os.Getenv(deploycfg.EnvFile), "deploy configuration file (default $"+deploycfg.EnvFile+")")
	skewDefault, err := skew.FromEnv()
	if err != nil {
		return nil, err
	}
	maxSkew := fs.Duration("max-clock-skew", skewDefault, "refuse transactions whose timestamp is further than this from the peer's clock (default $"+EnvMaxSkew+", else 5m)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg, err := deploycfg.Load(*path)
	if err != nil {
		return nil, err
	}
	return New(cfg, WithMaxSkew(*maxSkew))
}

// Config returns the organization's deploy configuration (normalized).
func (g *Guard) Config() *deploycfg.Config { return g.cfg }

// Digest returns the configuration's digest.
func (g *Guard) Digest() string { return g.digest }

// MaxSkew returns the allowed clock skew.
func (g *Guard) MaxSkew() time.Duration { return g.maxSkew }

// ---- time ----

// TxTime returns the transaction timestamp (UTC) after checking that it is
// within the allowed skew of this peer's clock.
func (g *Guard) TxTime(ctx contractapi.TransactionContextInterface) (time.Time, error) {
	ts, err := ctx.GetStub().GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	if ts == nil {
		return time.Time{}, errors.New("read transaction timestamp: none")
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	t := ts.AsTime().UTC()
	// mutate:check guard-skew tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if err := g.CheckSkew(t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// CheckSkew refuses a timestamp more than the allowed skew away from this
// peer's clock.
func (g *Guard) CheckSkew(t time.Time) error { return skew.Check(t, g.now(), g.maxSkew) }

// ---- the recorded configuration ----

// Record is the configuration recorded on the ledger by Configure.
type Record struct {
	Digest string           `json:"digest"`
	Config deploycfg.Config `json:"config"`
	// RecordedBy is the admin who recorded it; TxID and RecordedAt its
	// transaction. Previous is the digest it replaced, if any.
	RecordedBy identity.ID `json:"recorded_by"`
	TxID       string      `json:"tx_id"`
	RecordedAt string      `json:"recorded_at"`
	Previous   string      `json:"previous,omitempty"`
}

// Recorded reads the recorded configuration; nil when there is none.
func (g *Guard) Recorded(ctx contractapi.TransactionContextInterface) (*Record, error) {
	raw, err := ctx.GetStub().GetState(RecordKey)
	if err != nil {
		return nil, fmt.Errorf("read the recorded deploy configuration: %w", err)
	}
	if raw == nil {
		return nil, nil
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode the recorded deploy configuration: %w", err)
	}
	return &r, nil
}

// CheckRecorded fails unless the recorded configuration is this
// organization's.
func (g *Guard) CheckRecorded(ctx contractapi.TransactionContextInterface) error {
	raw, err := ctx.GetStub().GetState(RecordKey)
	if err != nil {
		return fmt.Errorf("read the recorded deploy configuration: %w", err)
	}
	// mutate:check guard-recorded tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if raw == nil {
		return fmt.Errorf("the deploy configuration is not recorded on the channel yet: an admin of %s must call Configure with the deploy configuration (digest %s)",
			strings.Join(g.cfg.Orgs, " or "), g.digest)
	}
	recorded, err := g.recordedDigest(raw)
	if err != nil {
		return err
	}
	// mutate:check guard-recorded-digest tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if recorded != g.digest {
		return fmt.Errorf("this peer's deploy configuration (digest %s) is not the one recorded on the channel (digest %s): the organizations must run their chaincode servers with the same file",
			g.digest, recorded)
	}
	return nil
}

// recordedDigest returns the digest of the recorded configuration raw,
// decoding it only when it differs from the bytes decoded last.
func (g *Guard) recordedDigest(raw []byte) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lastRaw != nil && bytes.Equal(raw, g.lastRaw) {
		return g.lastDigest, nil
	}
	var r struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", fmt.Errorf("decode the recorded deploy configuration: %w", err)
	}
	g.lastRaw, g.lastDigest = bytes.Clone(raw), r.Digest
	return r.Digest, nil
}

// Before is the BeforeTransaction function of a guarded contract: the
// timestamp check for every function, and the recorded-configuration check
// for every function but Configure and GetConfig.
func (g *Guard) Before(ctx contractapi.TransactionContextInterface) error {
	if _, err := g.TxTime(ctx); err != nil {
		return err
	}
	fn, _ := ctx.GetStub().GetFunctionAndParameters()
	if i := strings.LastIndexByte(fn, ':'); i >= 0 {
		fn = fn[i+1:]
	}
	if unguarded[fn] {
		return nil
	}
	return g.CheckRecorded(ctx)
}

// Configure records this organization's deploy configuration on the ledger.
// configJSON must be exactly the configuration of every endorsing peer (by
// digest; the endorsement policy then needs every organization's approval),
// and the caller an admin of one of the configuration's organizations.
// Recording the same digest again is refused; a new digest (every
// organization gave its servers a new file) replaces the old one, which the
// record keeps as Previous.
func (g *Guard) Configure(ctx contractapi.TransactionContextInterface, configJSON string) (*Record, error) {
	caller, err := GetCaller(ctx)
	if err != nil {
		return nil, err
	}
	// mutate:check guard-configure-admin tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if err := caller.RequireAdmin(g.cfg.Orgs...); err != nil {
		return nil, fmt.Errorf("Configure: %w", err)
	}
	cfg, err := deploycfg.Parse([]byte(configJSON))
	if err != nil {
		return nil, fmt.Errorf("configJSON: %w", err)
	}
	d, err := cfg.Digest()
	if err != nil {
		return nil, err
	}
	// mutate:check guard-configure-digest tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if d != g.digest {
		return nil, fmt.Errorf("configJSON: its digest %s is not this peer's deploy configuration (digest %s); every organization must give its chaincode servers the same file", d, g.digest)
	}
	prev, err := g.Recorded(ctx)
	if err != nil {
		return nil, err
	}
	// mutate:check guard-configure-again tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if prev != nil && prev.Digest == d {
		return nil, fmt.Errorf("the deploy configuration %s is already recorded (tx %s, by %s)", d, prev.TxID, prev.RecordedBy)
	}
	now, err := g.TxTime(ctx)
	if err != nil {
		return nil, err
	}
	r := Record{Digest: d, Config: *cfg, RecordedBy: caller.ID, TxID: ctx.GetStub().GetTxID(), RecordedAt: now.Format(time.RFC3339Nano)}
	if prev != nil {
		r.Previous = prev.Digest
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode the deploy configuration record: %w", err)
	}
	if err := ctx.GetStub().PutState(RecordKey, raw); err != nil {
		return nil, fmt.Errorf("write the deploy configuration record: %w", err)
	}
	return &r, nil
}

// ConfigView is what GetConfig returns: this peer's configuration and
// digest, and the recorded one (nil before Configure).
type ConfigView struct {
	Digest   string           `json:"digest"`
	Config   deploycfg.Config `json:"config"`
	MaxSkew  string           `json:"max_clock_skew"`
	Recorded *Record          `json:"recorded"`
	// Agrees is true when the recorded digest is this peer's.
	Agrees bool `json:"agrees"`
}

// View returns the GetConfig answer.
func (g *Guard) View(ctx contractapi.TransactionContextInterface) (*ConfigView, error) {
	r, err := g.Recorded(ctx)
	if err != nil {
		return nil, err
	}
	return &ConfigView{Digest: g.digest, Config: *g.cfg, MaxSkew: g.maxSkew.String(), Recorded: r, Agrees: r != nil && r.Digest == g.digest}, nil
}

// ---- the caller ----

// Caller is the submitter of a transaction.
type Caller struct {
	ID   identity.ID
	Cert *x509.Certificate
	// Role is the NodeOU role (identity.RoleAdmin, ...), "" when none.
	Role string
}

// GetCaller reads the submitter's identity.
func GetCaller(ctx contractapi.TransactionContextInterface) (*Caller, error) {
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return nil, errors.New("submitter: no client identity")
	}
	msp, err := ci.GetMSPID()
	if err != nil {
		return nil, fmt.Errorf("submitter: read MSP ID: %w", err)
	}
	cert, err := ci.GetX509Certificate()
	if err != nil {
		return nil, fmt.Errorf("submitter: read certificate: %w", err)
	}
	if cert == nil {
		return nil, fmt.Errorf("submitter: %w", identity.ErrNoCertificate)
	}
	return &Caller{ID: identity.FromCert(msp, cert), Cert: cert, Role: identity.Role(cert)}, nil
}

// RequireAdmin fails unless the caller is an admin (NodeOU role admin) of
// one of the MSPs.
func (c *Caller) RequireAdmin(mspIDs ...string) error {
	member := false
	for _, m := range mspIDs {
		if c.ID.MSPID == m {
			member = true
			break
		}
	}
	// mutate:check guard-admin-member tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if !member {
		return fmt.Errorf("the caller %s is not a member of %s", c.ID, strings.Join(mspIDs, " or "))
	}
	// mutate:check guard-admin-role tested-by=./internal/ccguard,./chaincode/agreement/agreement,./chaincode/refund/refund,./fpc/ercc/registry
	if c.Role != identity.RoleAdmin {
		role := c.Role
		if role == "" {
			role = "none"
		}
		return fmt.Errorf("the caller %s is not an admin of %s (NodeOU role %q, admin required)", c.ID, c.ID.MSPID, role)
	}
	return nil
}
