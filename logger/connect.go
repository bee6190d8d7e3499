package logger

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
)

// ConnectOptions say how a service reaches the Fabric Gateway and as whom:
// either a slasa run folder (network.json) and an identity name, or a peer
// and an MSP folder.
type ConnectOptions struct {
	// NetworkDir is a run folder holding network.json; Identity an identity
	// name of it (fabnet.Identity).
	NetworkDir string
	Identity   string
	// Peer is the peer's gateway address (host:port), PeerTLSCA its TLS CA
	// certificate file and PeerHostOverride the TLS server name (default:
	// the host of Peer).
	Peer             string
	PeerTLSCA        string
	PeerHostOverride string
	// MSPID and MSPDir are the client identity (signcerts/ and keystore/).
	MSPID  string
	MSPDir string
	// Channel is the channel name (default "slasa").
	Channel string
}

// Register adds the connection flags to fs; defIdentity is the default
// identity name.
func (o *ConnectOptions) Register(fs *flag.FlagSet, defIdentity string) {
	def := os.Getenv("SLASA_RUN_DIR")
	fs.StringVar(&o.NetworkDir, "network-dir", def, "slasa run folder holding network.json (default $SLASA_RUN_DIR); with -identity, replaces the -peer/-msp flags")
	fs.StringVar(&o.Identity, "identity", defIdentity, "identity name in network.json: <org> or <org>-admin of any organization (provider, client, vendor, other, org5, ...), logger, issuer")
	fs.StringVar(&o.Peer, "peer", "", "peer gateway address host:port (instead of -network-dir)")
	fs.StringVar(&o.PeerTLSCA, "peer-tls-ca", "", "PEM file of the peer's TLS CA (with -peer)")
	fs.StringVar(&o.PeerHostOverride, "peer-host-override", "", "TLS server name of the peer (with -peer; default: the host of -peer)")
	fs.StringVar(&o.MSPID, "msp-id", "", "MSP ID of the identity (with -peer)")
	fs.StringVar(&o.MSPDir, "msp-dir", "", "MSP folder of the identity: signcerts/ and keystore/ (with -peer)")
	fs.StringVar(&o.Channel, "channel", "", "channel name (default: network.json's, else slasa)")
}

// Conn is an open gateway connection as one identity.
type Conn struct {
	Gateway *client.Gateway
	Network *client.Network
	MSPID   string
	// User names the identity's certificate and key files.
	User  fabnet.User
	close func() error
}

// Close closes the connection.
func (c *Conn) Close() error { return c.close() }

// Connect opens the gateway connection as the identity.
func (o *ConnectOptions) Connect() (*Conn, error) {
	conn, _, err := o.connect()
	return conn, err
}

func (o *ConnectOptions) connect() (*Conn, fabnet.User, error) {
	if o.Peer == "" {
		if o.NetworkDir == "" {
			return nil, fabnet.User{}, errors.New("either -network-dir (or $SLASA_RUN_DIR) or -peer with -msp-id and -msp-dir is required")
		}
		info, err := fabnet.Load(o.NetworkDir)
		if err != nil {
			return nil, fabnet.User{}, err
		}
		if o.Channel != "" {
			info.Channel = o.Channel
		}
		conn, err := info.Connect(o.Identity)
		if err != nil {
			return nil, fabnet.User{}, err
		}
		return &Conn{Gateway: conn.Gateway, Network: conn.Network, MSPID: conn.MSPID, User: conn.User, close: conn.Close}, conn.User, nil
	}
	if o.PeerTLSCA == "" || o.MSPID == "" || o.MSPDir == "" {
		return nil, fabnet.User{}, errors.New("-peer needs -peer-tls-ca, -msp-id and -msp-dir")
	}
	cert, err := firstFile(filepath.Join(o.MSPDir, "signcerts"))
	if err != nil {
		return nil, fabnet.User{}, err
	}
	key, err := firstFile(filepath.Join(o.MSPDir, "keystore"))
	if err != nil {
		return nil, fabnet.User{}, err
	}
	certPEM, err := os.ReadFile(cert)
	if err != nil {
		return nil, fabnet.User{}, err
	}
	c, err := signedsla.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fabnet.User{}, fmt.Errorf("%s: %w", cert, err)
	}
	u := fabnet.User{CommonName: c.Subject.CommonName, MSPDir: o.MSPDir, CertPath: cert, KeyPath: key}
	host := o.PeerHostOverride
	if host == "" {
		host = o.Peer
		if i := lastColon(host); i >= 0 {
			host = host[:i]
		}
	}
	grpcConn, err := fabnet.DialPeer(fabnet.Peer{Name: o.Peer, Address: o.Peer, HostnameOverride: host, TLSCACert: o.PeerTLSCA})
	if err != nil {
		return nil, fabnet.User{}, err
	}
	gw, err := fabnet.ConnectGateway(grpcConn, o.MSPID, u)
	if err != nil {
		grpcConn.Close()
		return nil, fabnet.User{}, err
	}
	channel := o.Channel
	if channel == "" {
		channel = "slasa"
	}
	return &Conn{Gateway: gw, Network: gw.GetNetwork(channel), MSPID: o.MSPID, User: u, close: func() error {
		gw.Close()
		return grpcConn.Close()
	}}, u, nil
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}
