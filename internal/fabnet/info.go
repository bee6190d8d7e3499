// Package fabnet describes a running slasa Fabric network (the network.json
// that network/up.sh and network/deploy.sh write into the run folder) and
// connects Fabric Gateway clients to it as one of its named identities. The
// CLI, the services and the integration-test harness share it.
package fabnet

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Info is the content of network.json, the machine-readable description of a running network that
// network/up.sh and network/deploy.sh write into the run folder. Paths are absolute.
type Info struct {
	// FabricVersion is the Fabric release of the binaries ("2.5.9").
	FabricVersion string `json:"fabricVersion"`
	// Channel is the application channel name.
	Channel string `json:"channel"`
	// PortBase is the first port of the network's port block.
	PortBase int `json:"portBase"`
	// RunDir is the run folder.
	RunDir string `json:"runDir"`
	// BinDir holds the Fabric binaries.
	BinDir string `json:"binDir"`
	// FabricCfgPath is the FABRIC_CFG_PATH for the peer CLI (holds core.yaml).
	FabricCfgPath string `json:"fabricCfgPath"`
	// OrdererOrg describes the ordering organization.
	OrdererOrg OrdererOrg `json:"ordererOrg"`
	// Orderers lists the orderer nodes (1 or 3).
	Orderers []Orderer `json:"orderers"`
	// Orgs maps the keys of the organization table (see OrgSpec: "provider", "client", "vendor",
	// "other", "org5", ...) to the application organizations of the channel. Every one has a peer,
	// except OtherOrg on a network with SLASA_ORGS=3 (GatewayOf "client").
	Orgs map[string]Org `json:"orgs"`
	// Chaincodes maps deployed chaincode names to their deployments.
	Chaincodes map[string]Deployment `json:"chaincodes"`
}

// OrdererOrg describes OrdererOrg (MSP ID OrdererMSP).
type OrdererOrg struct {
	// MSPID is the organization's MSP ID.
	MSPID string `json:"mspId"`
	// TLSCACert is the PEM file of the orderers' TLS CA.
	TLSCACert string `json:"tlsCACert"`
	// Admin holds the orderer admin's files (osnadmin uses its TLS client certificate).
	Admin OrdererAdmin `json:"admin"`
}

// OrdererAdmin is the OrdererOrg admin identity.
type OrdererAdmin struct {
	// MSPDir is the admin's MSP folder.
	MSPDir string `json:"mspDir"`
	// TLSClientCert is the admin's TLS client certificate (PEM file).
	TLSClientCert string `json:"tlsClientCert"`
	// TLSClientKey is the admin's TLS client key (PEM file).
	TLSClientKey string `json:"tlsClientKey"`
}

// Orderer is one orderer node.
type Orderer struct {
	// Name is the node's host name in its certificates.
	Name string `json:"name"`
	// Address is the host:port of the broadcast/deliver (and Raft cluster) endpoint.
	Address string `json:"address"`
	// HostnameOverride is the TLS server name to verify.
	HostnameOverride string `json:"hostnameOverride"`
	// AdminAddress is the channel participation (osnadmin) endpoint.
	AdminAddress string `json:"adminAddress"`
	// OperationsAddress serves /healthz and /metrics over plain HTTP.
	OperationsAddress string `json:"operationsAddress"`
	// TLSCACert is the PEM file of the CA that signed the node's TLS certificate.
	TLSCACert string `json:"tlsCACert"`
}

// Org is an application organization of the channel.
type Org struct {
	// MSPID is the organization's MSP ID (ProviderOrgMSP, ClientOrgMSP, VendorOrgMSP, OtherOrgMSP,
	// Org5MSP, ...).
	MSPID string `json:"mspId"`
	// Domain is the organization's domain (providerorg.slasa.local, ..., org5.slasa.local, ...).
	Domain string `json:"domain"`
	// MSPDir is the organization's channel MSP folder (cacerts, intermediatecerts, tlscacerts,
	// config.yaml), the one the channel configuration was made from.
	MSPDir string `json:"mspDir,omitempty"`
	// TLSCACert is the PEM file of the organization's TLS CA.
	TLSCACert string `json:"tlsCACert"`
	// ConnectionProfile is the generated connection profile (JSON) of the organization whose peer
	// Peer is.
	ConnectionProfile string `json:"connectionProfile"`
	// Peer is the organization's peer; for an organization without a peer (GatewayOf set), the
	// peer of that other organization, whose Gateway its clients use.
	Peer Peer `json:"peer"`
	// GatewayOf names the organization ("client") whose peer Peer is, when the organization has no
	// peer of its own; empty otherwise.
	GatewayOf string `json:"gatewayOf,omitempty"`
	// Users maps user names ("admin", "provider", "logger", "issuer", "client", "vendor", "other",
	// "user1") to identities.
	Users map[string]User `json:"users"`
}

// Peer is one peer node.
type Peer struct {
	// Name is the node's host name in its certificates.
	Name string `json:"name"`
	// Address is the host:port of the peer's gRPC endpoint (endorser, gateway, deliver).
	Address string `json:"address"`
	// HostnameOverride is the TLS server name to verify.
	HostnameOverride string `json:"hostnameOverride"`
	// TLSCACert is the PEM file of the CA that signed the peer's TLS certificate.
	TLSCACert string `json:"tlsCACert"`
	// ChaincodeAddress is the peer's chaincode listener.
	ChaincodeAddress string `json:"chaincodeAddress"`
	// OperationsAddress serves /healthz and /metrics over plain HTTP.
	OperationsAddress string `json:"operationsAddress"`
}

// User is a client identity issued by an organization's CA.
type User struct {
	// CommonName is the certificate's common name, e.g. provider@providerorg.slasa.local.
	CommonName string `json:"commonName"`
	// MSPDir is the user's MSP folder (for the peer CLI's CORE_PEER_MSPCONFIGPATH).
	MSPDir string `json:"mspDir"`
	// CertPath is the user's signing certificate (PEM file).
	CertPath string `json:"certPath"`
	// KeyPath is the user's private key (PKCS#8 PEM file).
	KeyPath string `json:"keyPath"`
}

// Deployment is one deployed chaincode. Every organization with a peer runs its own server of it
// (Servers); Address, PackageID and Log are those of the enclave host organization's server (HostOrg),
// the one an enclave's endpoint names.
type Deployment struct {
	// Name is the chaincode name on the channel.
	Name string `json:"name"`
	// Source is the deploy.sh table name the code came from (e.g. "smoke").
	Source string `json:"source"`
	// Dir is the source directory, relative to the repository root.
	Dir string `json:"dir"`
	// Sequence is the committed definition's sequence.
	Sequence int `json:"sequence"`
	// PackageID is the CCaaS package ID the host organization installed and approved.
	PackageID string `json:"packageId"`
	// Address is where the host organization's chaincode server listens.
	Address string `json:"address"`
	// Policy is the endorsement signature policy.
	Policy string `json:"policy"`
	// Log is the host organization's chaincode server's log file.
	Log string `json:"log"`
	// HostOrg is the organization key ("provider") of the enclave host, whose server Address names.
	HostOrg string `json:"hostOrg,omitempty"`
	// Servers maps each organization key with a peer ("provider", "client", "vendor", ...) to its own
	// server.
	Servers map[string]Server `json:"servers,omitempty"`
}

// Server is one organization's chaincode server process of a deployment.
type Server struct {
	// MSPID is the organization's MSP ID.
	MSPID string `json:"mspId"`
	// Address is where the server listens (its package's connection.json names it).
	Address string `json:"address"`
	// PackageID is the CCaaS package the organization installed on its peer and approved.
	PackageID string `json:"packageId"`
	// Log is the server's log file.
	Log string `json:"log"`
	// Node is the server's node name for network/node.sh stop|start|restart
	// ("chaincode-<name>-<org>"); its PID file is pids/<node>.pid.
	Node string `json:"node"`
}

// ReadInfo reads and checks a network.json file.
func ReadInfo(path string) (*Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading network description: %w", err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if info.Channel == "" {
		return nil, fmt.Errorf("%s: field channel: must not be empty", path)
	}
	if len(info.Orderers) == 0 {
		return nil, fmt.Errorf("%s: field orderers: must not be empty", path)
	}
	for _, org := range []string{"provider", "client"} {
		if _, ok := info.Orgs[org]; !ok {
			return nil, fmt.Errorf("%s: field orgs: organization %q missing", path, org)
		}
	}
	return &info, nil
}

// Server returns the server of organization org (a key of Orgs) of the deployment.
func (d Deployment) Server(org string) (Server, error) {
	s, ok := d.Servers[org]
	if !ok {
		orgs := make([]string, 0, len(d.Servers))
		for o := range d.Servers {
			orgs = append(orgs, o)
		}
		sort.Strings(orgs)
		return Server{}, fmt.Errorf("chaincode %q: organization %q runs no server of it (servers: %v)", d.Name, org, orgs)
	}
	return s, nil
}

// PeerOrgs returns the keys of the organizations with a peer of their own (not GatewayOf another),
// sorted.
func (info *Info) PeerOrgs() []string {
	var out []string
	for k, o := range info.Orgs {
		if o.GatewayOf == "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
