package cli

// Connections of the network commands (sla propose|accept|..., wallet,
// verdict show, reputation, watch): an identity of the local network's run
// folder (--run-dir, --as) or an explicit identity and peer (--msp-id, --cert,
// --key, --peer, --tls-ca, --peer-host-override, --channel) for any other
// Fabric network.

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/spf13/cobra"
)

// Default chaincode names on the channel.
const (
	defaultAgreementCC = "agreement"
	defaultRefundCC    = "refund"
	defaultEnclaveCC   = "slaenclave"
	defaultRegistryCC  = "ercc"
)

// addConnectionFlags adds the explicit identity and peer flags and the
// timeout to root (persistent: every network command has them).
func addConnectionFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.String("msp-id", "", "MSP ID of the identity (explicit identity, instead of --as; needs --cert, --key, --peer, --tls-ca)")
	f.String("cert", "", "PEM certificate of the identity (explicit identity)")
	f.String("key", "", "PEM private key of the identity (explicit identity; also signs SLAs)")
	f.String("peer", "", "peer gateway address host:port (explicit identity)")
	f.String("tls-ca", "", "PEM file of the peer's TLS CA (explicit identity)")
	f.String("peer-host-override", "", "TLS server name of the peer (explicit identity; default the host of --peer)")
	f.String("channel", "", "channel name (default: the run folder's channel, else slasa)")
	f.Duration("timeout", 2*time.Minute, "deadline of the whole command's network work")
}

// session is an open gateway connection as one identity.
type session struct {
	Network  *client.Network
	Gateway  *client.Gateway
	MSPID    string
	CN       string
	CertPath string
	KeyPath  string
	// Identity is the --as name ("" for an explicit identity).
	Identity string
	// Info is the run folder's description (nil for an explicit identity).
	Info  *fabnet.Info
	close func() error
}

// Close releases the connection.
func (s *session) Close() {
	if s.close != nil {
		_ = s.close()
	}
}

// Key reads the identity's private key.
func (s *session) Key() (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(s.KeyPath)
	if err != nil {
		return nil, fmt.Errorf("private key of %s: %w", s.CN, err)
	}
	return signedsla.ParsePrivateKeyPEM(data)
}

// Certificate reads the identity's certificate.
func (s *session) Certificate() (*x509.Certificate, error) {
	data, err := os.ReadFile(s.CertPath)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s: %w", s.CN, err)
	}
	cert, err := signedsla.ParseCertificatePEM(data)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", s.CertPath, err)
	}
	return cert, nil
}

// checkParty checks that the session's identity is the SLA's party in role
// (MSP ID, certificate subject and issuer, as the chaincodes compare them)
// before anything is signed or submitted.
func checkParty(s *session, role string, p sla.Party) error {
	return signerIsParty(gatewayTickets{s}, role, p)
}

// partyMismatch explains why the certificate of mspID is not the SLA's party
// in role, or returns nil when it is.
func partyMismatch(role string, p sla.Party, mspID string, cert *x509.Certificate) error {
	mismatch := signedsla.CheckParty(role, p, mspID, cert)
	if mismatch == nil {
		return nil
	}
	want := agreementParty{MSPID: p.MSPID, CommonName: p.CommonName, Subject: p.Subject, Issuer: p.Issuer}
	return fmt.Errorf("you are %s, not the SLA's %s %s (%v)", idText(identity.FromCert(mspID, cert), ""), role, want, mismatch)
}

// explicitFlags are the flags of an explicit identity.
type explicitFlags struct {
	MSPID, Cert, Key, Peer, TLSCA, HostOverride, Channel string
}

func readExplicitFlags(cmd *cobra.Command) explicitFlags {
	get := func(n string) string { v, _ := cmd.Flags().GetString(n); return v }
	return explicitFlags{MSPID: get("msp-id"), Cert: get("cert"), Key: get("key"), Peer: get("peer"),
		TLSCA: get("tls-ca"), HostOverride: get("peer-host-override"), Channel: get("channel")}
}

// check reports whether the explicit identity is used (any of its flags
// given) and, if so, that it is complete and not mixed with --as.
func (e explicitFlags) check(as string) (bool, error) {
	if e.MSPID == "" && e.Cert == "" && e.Peer == "" && e.TLSCA == "" && e.HostOverride == "" {
		return false, nil
	}
	if as != "" {
		return true, usageError{errors.New("--as and the explicit identity flags (--msp-id, --cert, --peer, --tls-ca) exclude each other")}
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--msp-id", e.MSPID}, {"--cert", e.Cert}, {"--key", e.Key}, {"--peer", e.Peer}, {"--tls-ca", e.TLSCA}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return true, usageError{fmt.Errorf("explicit identity: %s required", strings.Join(missing, ", "))}
	}
	return true, nil
}

// hostOf returns the host part of host:port.
func hostOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i > 0 {
		return addr[:i]
	}
	return addr
}

// certCommonName reads the common name of a PEM certificate file.
func certCommonName(path string) (string, *x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("--cert: %w", err)
	}
	cert, err := signedsla.ParseCertificatePEM(data)
	if err != nil {
		return "", nil, fmt.Errorf("--cert %s: %w", path, err)
	}
	return cert.Subject.CommonName, cert, nil
}

// connect opens a session as --as (default def) of the run folder, or as the
// explicit identity.
func connect(cmd *cobra.Command, def string) (*session, error) {
	as, _ := cmd.Flags().GetString("as")
	ex := readExplicitFlags(cmd)
	explicit, err := ex.check(as)
	if err != nil {
		return nil, err
	}
	if !explicit {
		if as, err = identityFlag(cmd, def); err != nil {
			return nil, err
		}
	}
	runDir, _ := cmd.Flags().GetString("run-dir")
	return dialSession(runDir, as, ex, explicit)
}

// dialSession opens a session: as the explicit identity ex when explicit
// (checked by ex.check), else as the identity as of the run folder runDir
// ("" for DefaultRunDir), with ex.Channel and ex.Key overriding the run
// folder's channel and key when set. The CLI's commands (connect) and the
// console's signed-in users connect through it.
func dialSession(runDir, as string, ex explicitFlags, explicit bool) (*session, error) {
	if explicit {
		cn, _, err := certCommonName(ex.Cert)
		if err != nil {
			return nil, err
		}
		host := ex.HostOverride
		if host == "" {
			host = hostOf(ex.Peer)
		}
		conn, err := fabnet.DialPeer(fabnet.Peer{Name: ex.Peer, Address: ex.Peer, HostnameOverride: host, TLSCACert: ex.TLSCA})
		if err != nil {
			return nil, err
		}
		u := fabnet.User{CommonName: cn, CertPath: ex.Cert, KeyPath: ex.Key}
		gw, err := fabnet.ConnectGateway(conn, ex.MSPID, u)
		if err != nil {
			conn.Close()
			return nil, err
		}
		channel := ex.Channel
		if channel == "" {
			channel = "slasa"
		}
		return &session{Network: gw.GetNetwork(channel), Gateway: gw, MSPID: ex.MSPID, CN: cn, CertPath: ex.Cert, KeyPath: ex.Key,
			close: func() error { gw.Close(); return conn.Close() }}, nil
	}
	info, err := loadNetworkDir(runDir)
	if err != nil {
		return nil, err
	}
	if ex.Channel != "" {
		info.Channel = ex.Channel
	}
	c, err := info.Connect(as)
	if err != nil {
		return nil, err
	}
	keyPath := c.User.KeyPath
	if ex.Key != "" {
		keyPath = ex.Key
	}
	return &session{Network: c.Network, Gateway: c.Gateway, MSPID: c.MSPID, CN: c.User.CommonName, CertPath: c.User.CertPath,
		KeyPath: keyPath, Identity: as, Info: info, close: c.Close}, nil
}

// withTimeout returns the command's context bounded by --timeout.
func withTimeout(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	d, _ := cmd.Flags().GetDuration("timeout")
	if d <= 0 {
		d = 2 * time.Minute
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, d)
}
