package harness

import (
	"fmt"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/slasa/slasa/internal/fabnet"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Gateway returns a fabric-gateway connection, through its own organization's peer, for the identity
// name ("<org>" and "<org>-admin" of every organization: "provider", "client", "vendor", "other",
// "org5", ...; "logger", "issuer", and on a SLASA_SECOND_CA=1 network "provider-ca2" and
// "provider-admin-role"; see Identity).
// Connections are cached and closed by Stop; callers must not close them.
func (n *Network) Gateway(name string) (*client.Gateway, error) {
	org, user, err := Identity(name)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if gw, ok := n.gateways[name]; ok {
		return gw, nil
	}
	if n.Info == nil {
		return nil, fmt.Errorf("the network is not running")
	}
	o, ok := n.Info.Orgs[org]
	if !ok {
		return nil, fmt.Errorf("identity %q: %w", name, fabnet.MissingOrgError(org))
	}
	u, ok := o.Users[user]
	if !ok {
		return nil, fmt.Errorf("identity %q: user %q of %s not in network.json", name, user, o.MSPID)
	}
	conn, ok := n.conns[org]
	if !ok {
		conn, err = DialPeer(o.Peer)
		if err != nil {
			return nil, err
		}
		n.conns[org] = conn
	}
	gw, err := ConnectGateway(conn, o.MSPID, u)
	if err != nil {
		return nil, fmt.Errorf("identity %q: %w", name, err)
	}
	n.gateways[name] = gw
	return gw, nil
}

// Contract is shorthand for the named chaincode's default contract on the network's channel, seen
// by the identity name.
func (n *Network) Contract(identityName, chaincode string) (*client.Contract, error) {
	gw, err := n.Gateway(identityName)
	if err != nil {
		return nil, err
	}
	return gw.GetNetwork(n.Info.Channel).GetContract(chaincode), nil
}

// DialPeer opens a TLS gRPC client connection to a peer (see fabnet.DialPeer).
func DialPeer(p Peer) (*grpc.ClientConn, error) { return fabnet.DialPeer(p) }

// ConnectGateway connects a fabric-gateway client for user over conn (see fabnet.ConnectGateway).
func ConnectGateway(conn *grpc.ClientConn, mspID string, u User) (*client.Gateway, error) {
	return fabnet.ConnectGateway(conn, mspID, u)
}

// LoadIdentity reads a user's certificate and key (see fabnet.LoadIdentity).
func LoadIdentity(mspID string, u User) (*identity.X509Identity, identity.Sign, error) {
	return fabnet.LoadIdentity(mspID, u)
}

// Height returns the block height of the channel on the peer of org (an organization with a peer:
// "provider", "client", "vendor", ...), read through the Gateway from the peer's query system
// chaincode (qscc GetChainInfo).
func (n *Network) Height(org string) (uint64, error) {
	gw, err := n.Gateway(org + "-admin")
	if err != nil {
		return 0, err
	}
	res, err := gw.GetNetwork(n.Info.Channel).GetContract("qscc").EvaluateTransaction("GetChainInfo", n.Info.Channel)
	if err != nil {
		return 0, fmt.Errorf("qscc GetChainInfo on %s's peer: %w", org, err)
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(res, &info); err != nil {
		return 0, fmt.Errorf("qscc GetChainInfo on %s's peer: %w", org, err)
	}
	return info.GetHeight(), nil
}

// WaitForBlock waits until the peers of every organization have committed block number block (their
// height exceeds it), at most timeout. A transaction committed on one peer (what Submit waits for)
// reaches the other peers a little later; wait before reading it through another organization.
func (n *Network) WaitForBlock(block uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, org := range n.PeerOrgs() {
		for {
			h, err := n.Height(org)
			if err == nil && h > block {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("waiting for block %d on %s's peer: %w", block, org, err)
				}
				return fmt.Errorf("waiting for block %d on %s's peer: height still %d after %s", block, org, h, timeout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// SubmitAndSync submits a transaction as the identity name, waits for it to commit successfully, then
// waits (up to a minute) until every organization's peer holds its block, so that any identity can read
// the result next. It returns the transaction's result.
func (n *Network) SubmitAndSync(identityName, chaincode, function string, args ...string) ([]byte, error) {
	return n.SubmitAndSyncOptions(identityName, chaincode, function, client.WithArguments(args...))
}

// SubmitAndSyncOptions is SubmitAndSync with the proposal's options (arguments, transient data, endorsing
// organizations).
func (n *Network) SubmitAndSyncOptions(identityName, chaincode, function string, opts ...client.ProposalOption) ([]byte, error) {
	c, err := n.Contract(identityName, chaincode)
	if err != nil {
		return nil, err
	}
	result, commit, err := c.SubmitAsync(function, opts...)
	if err != nil {
		return nil, err
	}
	status, err := commit.Status()
	if err != nil {
		return nil, err
	}
	if !status.Successful {
		return nil, fmt.Errorf("transaction %s (%s %s) committed with status %s", status.TransactionID, chaincode, function, status.Code)
	}
	if err := n.WaitForBlock(status.BlockNumber, time.Minute); err != nil {
		return nil, err
	}
	return result, nil
}

// PeerOrgs returns the keys of the organizations with a peer of their own, sorted ("client",
// "provider", "vendor", ...; fabnet.Info.PeerOrgs).
func (n *Network) PeerOrgs() []string {
	if n.Info == nil {
		return nil
	}
	return n.Info.PeerOrgs()
}

// PeerMSPIDs returns the MSP IDs of the organizations with a peer of their own, sorted.
func (n *Network) PeerMSPIDs() []string {
	if n.Info == nil {
		return nil
	}
	return n.Info.PeerMSPIDs()
}
