// Package setup is the post-deploy setup of an enclave chaincode on a slasa
// network: what `slasa enclave setup` and `make deploy` run after deploy.sh has
// deployed the enclave registry (ercc) and the enclave chaincode (slaenclave)
// and the organizations' admins have recorded the deploy configuration
// (Configure).
//
// Nothing here configures anything on the ledger: the attestation mode, the
// enclave host, the chaincode names and the CA roots the enclave trusts come
// from the deploy configuration each organization gave its own chaincode
// servers. Steps, each idempotent:
//
//  1. The enclave is asked for its credentials (__initEnclave, evaluated on
//     the host organization's peer, with the host's MSP ID and the chaincode
//     server's address); the host's enclave server attests its own deploy
//     configuration's digest.
//  2. The credentials are registered (RegisterEnclave, as an ADMIN of the
//     host organization: network.json's user "admin" of that organization),
//     unless the registry's current enclave is this one (same enclave id) for
//     the committed chaincode sequence. After a redeploy (newer sequence) the
//     enclave is registered again.
//
// After a registration it waits until every peer organization's peer sees
// it, since the enclave's transactions are endorsed by all of them.
package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/internal/fabnet"
)

// Defaults of Options.
const (
	DefaultChaincode = "slaenclave"
	DefaultRegistry  = "ercc"
	DefaultHostOrg   = "provider"
)

// Options configure Run.
type Options struct {
	// Chaincode is the enclave chaincode's name (default "slaenclave").
	Chaincode string
	// Registry is the enclave registry chaincode's name (default "ercc").
	Registry string
	// HostOrg is the network.json organization key of the organization hosting
	// the enclave (default "provider"): its MSP ID goes into the credentials
	// and its admin registers them.
	HostOrg string
	// Endpoint is the enclave's endpoint in the credentials; empty means the
	// chaincode server address recorded in network.json.
	Endpoint string
	// SyncTimeout bounds each wait for all peers to see a step (default 60 s).
	SyncTimeout time.Duration
	// Log receives one line per step; nil discards them.
	Log io.Writer
}

// Result is what Run did.
type Result struct {
	// Record is the registry's record of the enclave after setup.
	Record *credentials.Record `json:"record"`
	// Registered is true when this run registered the enclave.
	Registered bool `json:"registered"`
	// ConfigDigest is the deploy configuration digest the enclave attests.
	ConfigDigest string `json:"config_digest"`
	// Notes are remarks worth showing to the operator (e.g. a registration
	// the registry keeps for an older sequence).
	Notes []string `json:"notes,omitempty"`
}

// Backend is what Run needs from the network. Gateway is the real one; tests
// use a fake.
type Backend interface {
	// InitEnclave returns the enclave's credentials for the host parameters,
	// asking the host organization's peer.
	InitEnclave(ctx context.Context, peerMSPID, endpoint string) ([]byte, error)
	// RegisteredEnclave returns the registry's current record for the
	// chaincode as seen through the peer of org, nil when none is
	// registered.
	RegisteredEnclave(ctx context.Context, org string) (*credentials.Record, error)
	// RegisterEnclave registers credentials as an admin of the hosting
	// organization.
	RegisterEnclave(ctx context.Context, creds []byte) (*credentials.Record, error)
}

func (o *Options) defaults() {
	if o.Chaincode == "" {
		o.Chaincode = DefaultChaincode
	}
	if o.Registry == "" {
		o.Registry = DefaultRegistry
	}
	if o.HostOrg == "" {
		o.HostOrg = DefaultHostOrg
	}
	if o.SyncTimeout == 0 {
		o.SyncTimeout = time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Run performs the enclave setup on the network described by info through b.
func Run(ctx context.Context, info *fabnet.Info, b Backend, opts Options) (*Result, error) {
	opts.defaults()
	host, ok := info.Orgs[opts.HostOrg]
	if !ok {
		return nil, fmt.Errorf("host organization %q: not in the network description", opts.HostOrg)
	}
	if host.GatewayOf != "" {
		return nil, fmt.Errorf("host organization %q (%s): has no peer of its own, so it cannot host an enclave", opts.HostOrg, host.MSPID)
	}
	endpoint := opts.Endpoint
	if endpoint == "" {
		dep, ok := info.Chaincodes[opts.Chaincode]
		if !ok {
			return nil, fmt.Errorf("chaincode %q: not deployed on this network (network.json chaincodes); run network/deploy.sh slaenclave first", opts.Chaincode)
		}
		endpoint = dep.Address
	}
	if _, ok := info.Chaincodes[opts.Registry]; !ok {
		return nil, fmt.Errorf("registry %q: not deployed on this network (network.json chaincodes); run network/deploy.sh ercc first", opts.Registry)
	}
	peerOrgs := PeerOrgs(info)
	res := &Result{}
	logf := func(format string, args ...any) { fmt.Fprintf(opts.Log, "[enclave setup] "+format+"\n", args...) }

	// 1. Credentials.
	credsJSON, err := b.InitEnclave(ctx, host.MSPID, endpoint)
	if err != nil {
		return nil, err
	}
	creds, data, err := credentials.Parse(credsJSON)
	if err != nil {
		return nil, fmt.Errorf("credentials of %q: %w", opts.Chaincode, err)
	}
	vk, err := credentials.ParseECDSAPublicKey(data.EnclaveVK)
	if err != nil {
		return nil, err
	}
	id, err := credentials.EnclaveID(vk)
	if err != nil {
		return nil, err
	}
	res.ConfigDigest = data.ConfigDigest
	logf("enclave %s of %s: attestation %s, chaincode version %s sequence %d, host %s, endpoint %s, deploy configuration %s",
		id, data.Chaincode, AttestationLabel(creds.Attestation.Type), data.ChaincodeVersion, data.ChaincodeSequence, data.PeerMSPID, data.Endpoint, data.ConfigDigest)

	// 2. Registration.
	prev, err := b.RegisteredEnclave(ctx, opts.HostOrg)
	if err != nil {
		return nil, err
	}
	switch Decide(prev, id, data.ChaincodeSequence) {
	case ActionSkip:
		logf("enclave %s is already registered for sequence %d; registration unchanged", id, prev.ChaincodeSequence)
		res.Record = prev
	case ActionRegister:
		rec, err := b.RegisterEnclave(ctx, credsJSON)
		if err != nil {
			if prev != nil && prev.EnclaveID == id && strings.Contains(err.Error(), "is already registered") {
				// The registry refuses the same enclave again; the
				// registration it holds still names this enclave's keys.
				note := fmt.Sprintf("the registry keeps enclave %s registered for sequence %d and refused to re-register it for sequence %d: %v",
					id, prev.ChaincodeSequence, data.ChaincodeSequence, err)
				res.Notes = append(res.Notes, note)
				logf("note: %s", note)
				res.Record = prev
				break
			}
			return nil, err
		}
		res.Registered = true
		res.Record = rec
		if err := waitAll(ctx, opts.SyncTimeout, peerOrgs, func(org string) (bool, error) {
			r, err := b.RegisteredEnclave(ctx, org)
			return r != nil && r.EnclaveID == id && r.ChaincodeSequence == rec.ChaincodeSequence, err
		}); err != nil {
			return nil, fmt.Errorf("registration not visible on every peer: %w", err)
		}
		logf("enclave %s registered for %s sequence %d by %s", id, rec.Chaincode, rec.ChaincodeSequence, rec.RegisteredBy)
	}
	return res, nil
}

// Action is what to do about the registration.
type Action int

// Actions of Decide.
const (
	// ActionRegister registers the credentials.
	ActionRegister Action = iota
	// ActionSkip keeps the existing registration.
	ActionSkip
)

// Decide returns what to do given the registry's current record (nil when
// none), the enclave id of the fresh credentials and their chaincode
// sequence: skip when the same enclave is registered for that sequence (or a
// newer one), register otherwise.
func Decide(prev *credentials.Record, enclaveID string, sequence int64) Action {
	if prev != nil && prev.EnclaveID == enclaveID && prev.ChaincodeSequence >= sequence {
		return ActionSkip
	}
	return ActionRegister
}

// PeerOrgs returns the network.json keys of the organizations with a peer of
// their own, sorted.
func PeerOrgs(info *fabnet.Info) []string {
	var orgs []string
	for k, o := range info.Orgs {
		if o.GatewayOf == "" {
			orgs = append(orgs, k)
		}
	}
	sort.Strings(orgs)
	return orgs
}

// MSPCAs are one MSP's CA certificates, each one PEM certificate.
type MSPCAs struct {
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates,omitempty"`
}

// ChannelMSPs reads the CA certificates of every application organization of
// the network (network.json orgs, their MSP folders), by MSP ID.
func ChannelMSPs(info *fabnet.Info) (map[string]MSPCAs, error) {
	out := map[string]MSPCAs{}
	keys := make([]string, 0, len(info.Orgs))
	for k := range info.Orgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := info.Orgs[k]
		dir := o.MSPDir
		if dir == "" {
			return nil, fmt.Errorf("network.json orgs.%s.mspDir: missing (network made by an older network/gen-profiles.sh? restart it)", k)
		}
		cas, err := ReadMSPDir(dir)
		if err != nil {
			return nil, fmt.Errorf("network.json orgs.%s (%s): %w", k, o.MSPID, err)
		}
		out[o.MSPID] = *cas
	}
	return out, nil
}

// ReadMSPDir reads a Fabric MSP folder's root CA certificates (cacerts/) and
// intermediate CA certificates (intermediatecerts/, optional), each a PEM
// certificate, in file name order.
func ReadMSPDir(dir string) (*MSPCAs, error) {
	roots, err := readPEMDir(filepath.Join(dir, "cacerts"), true)
	if err != nil {
		return nil, err
	}
	inter, err := readPEMDir(filepath.Join(dir, "intermediatecerts"), false)
	if err != nil {
		return nil, err
	}
	return &MSPCAs{Roots: roots, Intermediates: inter}, nil
}

func readPEMDir(dir string, required bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("MSP folder: %w", err)
	}
	var out []string
	for _, e := range entries { // os.ReadDir sorts by name
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("MSP folder: %w", err)
		}
		if !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
			return nil, fmt.Errorf("MSP folder: %s is not a PEM certificate", filepath.Join(dir, e.Name()))
		}
		out = append(out, string(data))
	}
	if required && len(out) == 0 {
		return nil, fmt.Errorf("MSP folder: %s holds no certificate", dir)
	}
	return out, nil
}

// AttestationLabel names an attestation type, loudly when it is simulated.
func AttestationLabel(t string) string {
	if t == credentials.AttestationSimulated {
		return "SIMULATED (no SGX: development only)"
	}
	return t
}

// waitAll polls ok for every org until it holds, at most timeout.
func waitAll(ctx context.Context, timeout time.Duration, orgs []string, ok func(org string) (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for _, org := range orgs {
		for {
			done, err := ok(org)
			if done {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("through %s's peer after %s: %w", org, timeout, err)
				}
				return fmt.Errorf("through %s's peer: not yet after %s", org, timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
