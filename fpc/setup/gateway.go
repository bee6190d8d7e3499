package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
)

// Gateway is the Backend on a real network: fabric-gateway connections as
// the hosting organization's admin (registration), as a member of the
// hosting organization (credentials), and as the admin of each peer
// organization (to see what its peer sees).
type Gateway struct {
	info      *fabnet.Info
	chaincode string
	registry  string
	admin     string
	member    string
	conns     map[string]*fabnet.Connection
}

// NewGateway returns a Gateway for opts (see Options) on the network info.
// The admin identity, which registers, is "<HostOrg>-admin" (network.json's
// user "admin" of the host organization); the member identity, which asks the
// enclave for its credentials, is HostOrg ("provider" for ProviderOrg,
// "client" for ClientOrg), or member when not empty. Close releases the
// connections.
func NewGateway(info *fabnet.Info, opts Options, member string) *Gateway {
	opts.defaults()
	if member == "" {
		member = opts.HostOrg
	}
	return &Gateway{info: info, chaincode: opts.Chaincode, registry: opts.Registry,
		admin: opts.HostOrg + "-admin", member: member, conns: map[string]*fabnet.Connection{}}
}

// Close closes every connection the Gateway opened.
func (g *Gateway) Close() error {
	var errs []error
	for _, c := range g.conns {
		errs = append(errs, c.Close())
	}
	g.conns = map[string]*fabnet.Connection{}
	return errors.Join(errs...)
}

func (g *Gateway) conn(identity string) (*fabnet.Connection, error) {
	if c, ok := g.conns[identity]; ok {
		return c, nil
	}
	c, err := g.info.Connect(identity)
	if err != nil {
		return nil, err
	}
	g.conns[identity] = c
	return c, nil
}

func (g *Gateway) contract(identity, chaincode string) (*client.Contract, error) {
	c, err := g.conn(identity)
	if err != nil {
		return nil, err
	}
	return c.Network.GetContract(chaincode), nil
}

// fpc returns an FPC client acting as identity.
func (g *Gateway) fpc(identity string) (*fpcclient.Client, error) {
	c, err := g.conn(identity)
	if err != nil {
		return nil, err
	}
	return fpcclient.New(c.Network, g.chaincode, fpcclient.WithRegistry(g.registry)), nil
}

// InitEnclave implements Backend.
func (g *Gateway) InitEnclave(ctx context.Context, peerMSPID, endpoint string) ([]byte, error) {
	f, err := g.fpc(g.member)
	if err != nil {
		return nil, err
	}
	creds, err := f.InitEnclave(ctx, peerMSPID, endpoint)
	if err != nil {
		return nil, errors.New(ErrorText(err))
	}
	return creds, nil
}

// RegisteredEnclave implements Backend.
func (g *Gateway) RegisteredEnclave(ctx context.Context, org string) (*credentials.Record, error) {
	c, err := g.contract(org+"-admin", g.registry)
	if err != nil {
		return nil, err
	}
	raw, err := c.EvaluateWithContext(ctx, "QueryEnclave", client.WithArguments(g.chaincode))
	if err != nil {
		if strings.Contains(ErrorText(err), "no enclave is registered") {
			return nil, nil
		}
		return nil, fmt.Errorf("registry %s QueryEnclave: %s", g.registry, ErrorText(err))
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("registry %s QueryEnclave: %w", g.registry, err)
	}
	return &rec, nil
}

// RegisterEnclave implements Backend: it registers as the host
// organization's admin.
func (g *Gateway) RegisterEnclave(ctx context.Context, creds []byte) (*credentials.Record, error) {
	f, err := g.fpc(g.admin)
	if err != nil {
		return nil, err
	}
	rec, err := f.Register(ctx, creds)
	if err != nil {
		return nil, errors.New(ErrorText(err))
	}
	return rec, nil
}

// ShowEnclave returns the registry's record of the chaincode's enclave as
// seen through the peer of identity's organization (nil when none).
func ShowEnclave(ctx context.Context, info *fabnet.Info, identity, registry, chaincode string) (*credentials.Record, error) {
	conn, err := info.Connect(identity)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if registry == "" {
		registry = DefaultRegistry
	}
	raw, err := conn.Network.GetContract(registry).EvaluateWithContext(ctx, "QueryEnclave", client.WithArguments(chaincode))
	if err != nil {
		if strings.Contains(ErrorText(err), "no enclave is registered") {
			return nil, nil
		}
		return nil, fmt.Errorf("registry %s QueryEnclave: %s", registry, ErrorText(err))
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("registry %s QueryEnclave: %w", registry, err)
	}
	return &rec, nil
}

// ErrorText is an error's message together with the chaincode messages a
// Fabric Gateway error carries in its details (see fabnet.ErrorText).
func ErrorText(err error) string { return fabnet.ErrorText(err) }
