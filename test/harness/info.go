package harness

import "github.com/slasa/slasa/internal/fabnet"

// The network description types live in internal/fabnet, shared with the CLI
// and the services; these aliases keep the harness API.
type (
	// Info is the content of network.json.
	Info = fabnet.Info
	// OrdererOrg describes OrdererOrg.
	OrdererOrg = fabnet.OrdererOrg
	// OrdererAdmin is the OrdererOrg admin identity.
	OrdererAdmin = fabnet.OrdererAdmin
	// Orderer is one orderer node.
	Orderer = fabnet.Orderer
	// Org is an application organization of the channel.
	Org = fabnet.Org
	// Peer is one peer node.
	Peer = fabnet.Peer
	// User is a client identity.
	User = fabnet.User
	// Deployment is one deployed chaincode.
	Deployment = fabnet.Deployment
)

// ReadInfo reads and checks a network.json file.
func ReadInfo(path string) (*Info, error) { return fabnet.ReadInfo(path) }

// Identity names the organization and user of an identity name accepted by Network.Gateway.
func Identity(name string) (org, user string, err error) { return fabnet.Identity(name) }

// IdentityNames lists the identity names Network.Gateway accepts, sorted.
func IdentityNames() []string { return fabnet.IdentityNames() }
