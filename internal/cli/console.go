package cli

// slasa console: a web console that an organization runs against its own
// peer. Browser users sign in with a name and a password; the operator's
// configuration file maps each of them to one of the organization's Fabric
// identities and a role (provider, client or vendor). Every page reads the
// ledger as the signed-in user's identity through the Fabric Gateway with
// the same helpers as the CLI's commands, and every action is a transaction
// signed on the server by that identity: private keys never reach the
// browser.
//
// Security model (docs/console.md):
//   - passwords are stored as bcrypt hashes in the configuration file;
//   - a session is a random 256-bit id in a cookie (HttpOnly,
//     SameSite=Strict, Secure and __Host- prefixed when served over TLS),
//     kept in memory only, with an idle and an absolute lifetime;
//   - every form carries the session's CSRF token (the sign-in form a
//     token bound to a short-lived cookie); a POST without the right token
//     is refused with 403 before anything is read or submitted;
//   - no secret goes into a URL (bookmarks and ids only);
//   - each page and action checks the signed-in role;
//   - plain HTTP only on a loopback address, TLS otherwise.

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/internal/opshttp"
	"github.com/slasa/slasa/internal/strictjson"
)

// Console roles: which party of the SLAs and tickets a user acts as.
const (
	roleProvider = "provider"
	roleClient   = "client"
	roleVendor   = "vendor"
)

// consoleUserPattern is what a console user name may be.
var consoleUserPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// consoleUser maps a browser user to one of the organization's Fabric
// identities: As names an identity of the local network's run folder, or
// MSPID, Cert, Key, Peer and TLSCA give an explicit one (as the CLI's
// --as and --msp-id ... flags).
type consoleUser struct {
	Name           string `json:"name"`
	PasswordBcrypt string `json:"password_bcrypt"`
	Role           string `json:"role"`
	As             string `json:"as,omitempty"`
	MSPID          string `json:"msp_id,omitempty"`
	Cert           string `json:"cert,omitempty"`
	Key            string `json:"key,omitempty"`
	Peer           string `json:"peer,omitempty"`
	TLSCA          string `json:"tls_ca,omitempty"`
	HostOverride   string `json:"peer_host_override,omitempty"`
	Channel        string `json:"channel,omitempty"`
	// Wallet is the wallet the Wallet page shows; "" for the one wallet
	// the user's SLAs name for its role.
	Wallet string `json:"wallet,omitempty"`
}

// explicit returns the user's explicit identity and whether it has one.
func (u consoleUser) explicit() (explicitFlags, bool) {
	ex := explicitFlags{MSPID: u.MSPID, Cert: u.Cert, Key: u.Key, Peer: u.Peer, TLSCA: u.TLSCA, HostOverride: u.HostOverride, Channel: u.Channel}
	return ex, u.MSPID != "" || u.Cert != "" || u.Key != "" || u.Peer != "" || u.TLSCA != "" || u.HostOverride != ""
}

// consoleConfig is the console's configuration file.
type consoleConfig struct {
	// Organization is the MSP ID of the organization that runs the
	// console: every user's identity must belong to it.
	Organization string        `json:"organization"`
	Users        []consoleUser `json:"users"`
}

// parseConsoleConfig reads and checks a configuration file's content.
func parseConsoleConfig(data []byte) (*consoleConfig, error) {
	var c consoleConfig
	if err := strictjson.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c.Organization == "" {
		return nil, errors.New("organization: the MSP ID of the organization that runs the console is required")
	}
	if len(c.Users) == 0 {
		return nil, errors.New("users: at least one user is required")
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		at := fmt.Sprintf("users[%d]", i)
		if !consoleUserPattern.MatchString(u.Name) {
			return nil, fmt.Errorf("%s.name: %q is not 1..64 lower-case letters, digits, '.', '_', '@' or '-'", at, u.Name)
		}
		at = fmt.Sprintf("users[%d] (%s)", i, u.Name)
		if seen[u.Name] {
			return nil, fmt.Errorf("%s.name: the name appears twice", at)
		}
		seen[u.Name] = true
		if _, err := bcrypt.Cost([]byte(u.PasswordBcrypt)); err != nil {
			return nil, fmt.Errorf("%s.password_bcrypt: not a bcrypt hash (%v); make one with slasa console hash-password", at, err)
		}
		if u.Role != roleProvider && u.Role != roleClient && u.Role != roleVendor {
			return nil, fmt.Errorf("%s.role: %q is not provider, client or vendor", at, u.Role)
		}
		ex, explicit := u.explicit()
		switch {
		case explicit && u.As != "":
			return nil, fmt.Errorf("%s: as and the explicit identity (msp_id, cert, key, peer, tls_ca) exclude each other", at)
		case !explicit && u.As == "":
			return nil, fmt.Errorf("%s: the Fabric identity is missing: give as (an identity of the local network) or msp_id, cert, key, peer and tls_ca", at)
		case explicit:
			var missing []string
			for _, f := range []struct{ name, v string }{{"msp_id", ex.MSPID}, {"cert", ex.Cert}, {"key", ex.Key}, {"peer", ex.Peer}, {"tls_ca", ex.TLSCA}} {
				if f.v == "" {
					missing = append(missing, f.name)
				}
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("%s: explicit identity: %s required", at, strings.Join(missing, ", "))
			}
			if ex.MSPID != c.Organization {
				return nil, fmt.Errorf("%s.msp_id: %s is not the console's organization %s", at, ex.MSPID, c.Organization)
			}
		}
	}
	return &c, nil
}

// consoleLedger is what the console needs of a signed-in user's Fabric
// identity: the ticket commands' ledger and the identity itself.
type consoleLedger interface {
	ticketLedger
	// Caller is the identity (MSP ID, subject, issuer).
	Caller() identity.ID
	// Channel is the channel's name (qscc reads name it).
	Channel() string
	// Certificate and Key sign SLA proposals and acceptances on the
	// server (slaSigner).
	Certificate() (*x509.Certificate, error)
	Key() (*ecdsa.PrivateKey, error)
	// Report asks the SLA enclave for a period's verdict and report,
	// decrypted for a party and verified as slasa verdict show does.
	Report(ctx context.Context, cc verdictChaincodes, slaID, period string) (*verdictReport, error)
}

// gatewayConsole is the consoleLedger of a gateway session.
type gatewayConsole struct {
	gatewayTickets
	id identity.ID
}

func (g gatewayConsole) Caller() identity.ID { return g.id }
func (g gatewayConsole) Channel() string     { return g.s.Network.Name() }

func (g gatewayConsole) Report(ctx context.Context, cc verdictChaincodes, slaID, period string) (*verdictReport, error) {
	fc := fpcclient.New(g.s.Network, cc.enclave, fpcclient.WithRegistry(cc.registry))
	return fetchVerdict(ctx, g.s, fc, cc, slaID, period)
}

// dialConsoleUser opens the gateway session of a configured user, on
// channel when the user names none ("" for the run folder's, else slasa).
func dialConsoleUser(runDir, channel string, u consoleUser) (consoleLedger, error) {
	ex, explicit := u.explicit()
	if ex.Channel == "" {
		ex.Channel = channel
	}
	if !explicit {
		if _, _, err := fabnet.Identity(u.As); err != nil {
			return nil, fmt.Errorf("as: %w", err)
		}
	}
	s, err := dialSession(runDir, u.As, ex, explicit)
	if err != nil {
		return nil, err
	}
	cert, err := s.Certificate()
	if err != nil {
		s.Close()
		return nil, err
	}
	return gatewayConsole{gatewayTickets{s}, identity.FromCert(s.MSPID, cert)}, nil
}

// Lifetimes of a console session and of the sign-in form's token, and the
// sign-in throttle.
const (
	consoleIdle        = 30 * time.Minute
	loginTokenLifetime = 10 * time.Minute
	maxLoginFailures   = 5
	loginLockout       = 15 * time.Minute
)

// consoleSession is a signed-in browser.
type consoleSession struct {
	user     *consoleUser
	csrf     string
	created  time.Time
	lastSeen time.Time
}

// loginFailures counts a user name's recent failed sign-ins.
type loginFailures struct {
	n     int
	first time.Time
}

// consoleServer serves the console.
type consoleServer struct {
	cfg   *consoleConfig
	users map[string]*consoleUser
	// ledgers holds each user's open connection.
	ledgers map[string]consoleLedger
	// cc names the chaincodes.
	agreementCC, refundCC, ticketCC string
	// enclaveCC and registryCC name the SLA enclave and its registry
	// (the metric chart's reports).
	enclaveCC, registryCC string
	// tls says whether the console is served over TLS (Secure cookies).
	tls bool
	// maxAge is a session's absolute lifetime.
	maxAge time.Duration
	// now is the clock (tests set it).
	now func() time.Time
	// dummyHash is compared against when the user name is unknown, so
	// that a wrong name costs as long as a wrong password.
	dummyHash []byte

	mu       sync.Mutex
	sessions map[string]*consoleSession
	failures map[string]*loginFailures
	wallets  map[string]string

	mux       *http.ServeMux
	templates map[string]*template.Template
}

// newConsoleServer builds the console of cfg over the users' open
// connections.
func newConsoleServer(cfg *consoleConfig, ledgers map[string]consoleLedger, tlsOn bool) (*consoleServer, error) {
	cost := bcrypt.DefaultCost
	if len(cfg.Users) > 0 {
		if c, err := bcrypt.Cost([]byte(cfg.Users[0].PasswordBcrypt)); err == nil {
			cost = c
		}
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(randomToken()), cost)
	if err != nil {
		return nil, err
	}
	s := &consoleServer{cfg: cfg, users: map[string]*consoleUser{}, ledgers: ledgers,
		agreementCC: defaultAgreementCC, refundCC: defaultRefundCC, ticketCC: defaultTicketCC,
		enclaveCC: defaultEnclaveCC, registryCC: fpcclient.DefaultRegistry,
		tls: tlsOn, maxAge: 12 * time.Hour, now: time.Now, dummyHash: dummy,
		sessions: map[string]*consoleSession{}, failures: map[string]*loginFailures{}, wallets: map[string]string{}}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		l, ok := ledgers[u.Name]
		if !ok {
			return nil, fmt.Errorf("user %s: no connection", u.Name)
		}
		if l.MSPID() != cfg.Organization {
			return nil, fmt.Errorf("user %s: the identity belongs to %s, not to the console's organization %s", u.Name, l.MSPID(), cfg.Organization)
		}
		s.users[u.Name] = u
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// randomToken returns 256 random bits, base64url.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sameToken compares two tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookieName is the name of a cookie: __Host- prefixed over TLS (the
// browser then insists on Secure, Path=/ and no Domain).
func (s *consoleServer) cookieName(name string) string {
	if s.tls {
		return "__Host-" + name
	}
	return name
}

// setCookie sets an HttpOnly, SameSite=Strict cookie (Secure over TLS);
// maxAge < 0 deletes it.
func (s *consoleServer) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.tls})
}

// cookie returns the value of a cookie ("" when missing).
func (s *consoleServer) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// session returns the request's live session (nil when none), and
// refreshes its idle time.
func (s *consoleServer) session(r *http.Request) *consoleSession {
	id := s.cookie(r, "slasa_session")
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.sessions[id]
	if !ok {
		return nil
	}
	now := s.now()
	if now.Sub(cs.lastSeen) > consoleIdle || now.Sub(cs.created) > s.maxAge {
		delete(s.sessions, id)
		return nil
	}
	cs.lastSeen = now
	return cs
}

// checkPassword checks a user's password, throttling repeated failures of
// one user name; it returns the user or the reason shown.
func (s *consoleServer) checkPassword(name, password string) (*consoleUser, error) {
	wrong := errors.New("wrong user name or password")
	now := s.now()
	s.mu.Lock()
	f := s.failures[name]
	if f != nil && now.Sub(f.first) > loginLockout {
		delete(s.failures, name)
		f = nil
	}
	locked := f != nil && f.n >= maxLoginFailures
	s.mu.Unlock()
	if locked {
		return nil, fmt.Errorf("too many failed sign-ins for this user name: try again after %s", f.first.Add(loginLockout).UTC().Format(time.RFC3339))
	}
	u := s.users[name]
	hash := s.dummyHash
	if u != nil {
		hash = []byte(u.PasswordBcrypt)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		s.mu.Lock()
		if f := s.failures[name]; f != nil {
			f.n++
		} else if len(s.failures) < 10000 {
			s.failures[name] = &loginFailures{n: 1, first: now}
		}
		s.mu.Unlock()
		return nil, wrong
	}
	s.mu.Lock()
	delete(s.failures, name)
	s.mu.Unlock()
	return u, nil
}

// startSession signs u in: a new session id (never one the browser
// brought) with its own CSRF token.
func (s *consoleServer) startSession(w http.ResponseWriter, u *consoleUser) {
	id := randomToken()
	now := s.now()
	s.mu.Lock()
	s.sessions[id] = &consoleSession{user: u, csrf: randomToken(), created: now, lastSeen: now}
	s.mu.Unlock()
	s.setCookie(w, "slasa_session", id, int(s.maxAge/time.Second))
}

// endSession signs the request's session out.
func (s *consoleServer) endSession(w http.ResponseWriter, r *http.Request) {
	if id := s.cookie(r, "slasa_session"); id != "" {
		s.mu.Lock()
		delete(s.sessions, id)
		s.mu.Unlock()
	}
	s.setCookie(w, "slasa_session", "", -1)
}

// isLoopback reports whether a listen address is on a loopback interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func addConsoleCommand(root *cobra.Command) {
	c := &cobra.Command{
		Use:   "console --config FILE [--listen ADDR] [--tls-cert FILE --tls-key FILE]",
		Short: "Serve the web console: SLAs, tickets, wallet and live events for the organization's users",
		Long: "Serves HTML pages over HTTP(S) for the users of the configuration file (--config), each mapped to one\n" +
			"of the organization's Fabric identities (as: an identity of the local network, or msp_id, cert, key,\n" +
			"peer, tls_ca) and a role (provider, client or vendor). The pages read the ledger as the signed-in\n" +
			"user's identity through the Fabric Gateway, and the ticket actions are transactions that identity\n" +
			"signs on the server (private keys never reach the browser). Passwords are bcrypt hashes (slasa\n" +
			"console hash-password); sessions are HttpOnly, SameSite=Strict cookies, Secure over TLS; every form\n" +
			"carries a CSRF token. Without --tls-cert the console listens on a loopback address only.\n" +
			"See docs/console.md.",
		Args: exactArgs(0, "none"),
		RunE: runConsole,
	}
	c.Flags().String("config", "", "the console's configuration file: organization and users (required)")
	c.Flags().String("listen", "127.0.0.1:8088", "address to listen on (a loopback address without TLS)")
	c.Flags().String("tls-cert", "", "PEM certificate of the console's HTTPS server")
	c.Flags().String("tls-key", "", "PEM private key of the console's HTTPS server")
	c.Flags().String("ops-listen", "", "address of the operations endpoint (GET /healthz, GET /metrics); none when empty")
	c.Flags().Duration("session-lifetime", 12*time.Hour, "absolute lifetime of a signed-in session (idle sessions end after 30m)")
	agreementCCFlag(c)
	refundCCFlag(c)
	ticketCCFlag(c)
	c.Flags().String("enclave-cc", defaultEnclaveCC, "SLA enclave chaincode name (the metric chart's reports)")
	c.Flags().String("registry-cc", fpcclient.DefaultRegistry, "enclave registry chaincode name")
	c.AddCommand(&cobra.Command{
		Use:   "hash-password",
		Short: "Read a password from standard input and print its bcrypt hash for the console's configuration",
		Args:  exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1024))
			if err != nil {
				return err
			}
			pw := strings.TrimRight(string(data), "\r\n")
			if len(pw) < 12 {
				return fmt.Errorf("password: %d characters, fewer than 12", len(pw))
			}
			if len(pw) > 72 {
				return fmt.Errorf("password: %d bytes, more than bcrypt's 72", len(pw))
			}
			h, err := bcrypt.GenerateFromPassword([]byte(pw), 12)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(h))
			return err
		},
	})
	root.AddCommand(c)
}

// runConsole is slasa console.
func runConsole(cmd *cobra.Command, _ []string) error {
	get := func(n string) string { v, _ := cmd.Flags().GetString(n); return v }
	path, listen, certFile, keyFile := get("config"), get("listen"), get("tls-cert"), get("tls-key")
	if path == "" {
		return usageError{errors.New("--config is required (the users and their identities; see docs/console.md)")}
	}
	if (certFile == "") != (keyFile == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	tlsOn := certFile != ""
	if !tlsOn && !isLoopback(listen) {
		return usageError{fmt.Errorf("--listen %s: without --tls-cert the console serves plain HTTP on a loopback address only", listen)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	cfg, err := parseConsoleConfig(data)
	if err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	runDir := get("run-dir")
	ledgers := map[string]consoleLedger{}
	defer func() {
		for _, l := range ledgers {
			l.Close()
		}
	}()
	for _, u := range cfg.Users {
		l, err := dialConsoleUser(runDir, get("channel"), u)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
		ledgers[u.Name] = l
	}
	ops := &consoleOps{}
	ops.countLedgers(ledgers)
	s, err := newConsoleServer(cfg, ledgers, tlsOn)
	if err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	s.agreementCC, s.refundCC, s.ticketCC = get("agreement-cc"), get("refund-cc"), get("ticket-cc")
	s.enclaveCC, s.registryCC = get("enclave-cc"), get("registry-cc")
	s.maxAge, _ = cmd.Flags().GetDuration("session-lifetime")
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ops.handler(s), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	if addr := get("ops-listen"); addr != "" {
		oln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--ops-listen: %w", err)
		}
		osrv := &http.Server{Handler: s.opsHandler(ops, opshttp.New(nil)), ReadHeaderTimeout: 5 * time.Second}
		defer osrv.Close()
		go func() { _ = osrv.Serve(oln) }()
		fmt.Fprintf(cmd.OutOrStdout(), "operations endpoint: http://%s/healthz and /metrics\n", oln.Addr())
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "slasa console for %s: %s://%s/ (%d users)\n", cfg.Organization, scheme, ln.Addr(), len(cfg.Users))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errs := make(chan error, 1)
	go func() {
		if tlsOn {
			errs <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errs <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// allowed reports whether role is one of roles.
func allowed(role string, roles []string) bool { return slices.Contains(roles, role) }
