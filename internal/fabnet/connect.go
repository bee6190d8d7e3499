package fabnet

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// InfoFile is the name of the network description in a run folder.
const InfoFile = "network.json"

// Load reads the network description of the run folder runDir.
func Load(runDir string) (*Info, error) {
	info, err := ReadInfo(filepath.Join(runDir, InfoFile))
	if err != nil {
		return nil, fmt.Errorf("%w (is the network up? make network-up)", err)
	}
	return info, nil
}

// Connection is a gateway connection as one identity; Close releases it.
type Connection struct {
	Gateway *client.Gateway
	Network *client.Network
	MSPID   string
	User    User
	conn    *grpc.ClientConn
}

// Close closes the gateway and its gRPC connection.
func (c *Connection) Close() error {
	c.Gateway.Close()
	return c.conn.Close()
}

// Connect opens a gateway connection, through the identity's own
// organization's peer, as the named identity (see Identity).
func (info *Info) Connect(identityName string) (*Connection, error) {
	orgName, userName, err := Identity(identityName)
	if err != nil {
		return nil, err
	}
	org, ok := info.Orgs[orgName]
	if !ok {
		return nil, fmt.Errorf("identity %q: %w", identityName, MissingOrgError(orgName))
	}
	u, ok := org.Users[userName]
	if !ok {
		return nil, fmt.Errorf("identity %q: user %q of %s not in the network description", identityName, userName, org.MSPID)
	}
	conn, err := DialPeer(org.Peer)
	if err != nil {
		return nil, err
	}
	gw, err := ConnectGateway(conn, org.MSPID, u)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("identity %q: %w", identityName, err)
	}
	return &Connection{Gateway: gw, Network: gw.GetNetwork(info.Channel), MSPID: org.MSPID, User: u, conn: conn}, nil
}

// DialPeer opens a TLS gRPC client connection to a peer, verifying its certificate against the
// peer's TLS CA and host name.
func DialPeer(p Peer) (*grpc.ClientConn, error) {
	pemData, err := os.ReadFile(p.TLSCACert)
	if err != nil {
		return nil, fmt.Errorf("peer %s: reading TLS CA: %w", p.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("peer %s: %s holds no PEM certificate", p.Name, p.TLSCACert)
	}
	creds := credentials.NewClientTLSFromCert(pool, p.HostnameOverride)
	conn, err := grpc.NewClient(p.Address, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("peer %s at %s: %w", p.Name, p.Address, err)
	}
	return conn, nil
}

// ConnectGateway connects a fabric-gateway client for user (of MSP mspID) over conn, with timeouts
// suited to a local network.
func ConnectGateway(conn *grpc.ClientConn, mspID string, u User) (*client.Gateway, error) {
	id, sign, err := LoadIdentity(mspID, u)
	if err != nil {
		return nil, err
	}
	return client.Connect(id,
		client.WithSign(sign),
		client.WithHash(hash.SHA256),
		client.WithClientConnection(conn),
		client.WithEvaluateTimeout(30*time.Second),
		client.WithEndorseTimeout(60*time.Second),
		client.WithSubmitTimeout(30*time.Second),
		client.WithCommitStatusTimeout(2*time.Minute),
	)
}

// LoadIdentity reads a user's certificate and private key into a fabric-gateway identity and signer.
func LoadIdentity(mspID string, u User) (*identity.X509Identity, identity.Sign, error) {
	certPEM, err := os.ReadFile(u.CertPath)
	if err != nil {
		return nil, nil, fmt.Errorf("reading certificate of %s: %w", u.CommonName, err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate of %s: %w", u.CommonName, err)
	}
	id, err := identity.NewX509Identity(mspID, cert)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(u.KeyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("reading private key of %s: %w", u.CommonName, err)
	}
	if block, _ := pem.Decode(keyPEM); block == nil {
		return nil, nil, fmt.Errorf("private key of %s: %s holds no PEM block", u.CommonName, u.KeyPath)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("private key of %s: %w", u.CommonName, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, nil, fmt.Errorf("signer of %s: %w", u.CommonName, err)
	}
	return id, sign, nil
}
