package cli

// Deploy configuration commands (internal/deploycfg; design D1: no setting is
// chosen by whoever calls first):
//
//	slasa config generate --config-block FILE --orgs MSP,MSP --issuer MSP --enclave-host MSP --attestation MODE
//	slasa config digest FILE
//	slasa config show   [--peer ORG] [--chaincodes a,b,c]
//	slasa config record [--config FILE] [--chaincodes a,b,c]

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
)

// DeployConfigFile is the name of an organization's deploy configuration in
// its folder of the run folder (orgs/<org>/deploy-config.json), written by
// network/deploy-config.sh.
const DeployConfigFile = "deploy-config.json"

func addConfigCommands(root *cobra.Command) {
	c := subcommand(root, "config", "The deploy configuration every organization approves (generate, digest, show, record)")
	c.AddCommand(newConfigGenerateCommand(), newConfigDigestCommand(), newConfigShowCommand(), newConfigRecordCommand())
}

// ---- generate ----

// generateOptions are the operator's choices of a deploy configuration; the
// channel and its MSPs come from the channel configuration block.
type generateOptions struct {
	Orgs        []string
	Issuer      string
	EnclaveHost string
	Attestation string
	Chaincodes  deploycfg.Chaincodes
}

func newConfigGenerateCommand() *cobra.Command {
	var (
		blockPath, orgs, out string
		o                    generateOptions
	)
	cmd := &cobra.Command{
		Use:   "generate --config-block FILE --orgs MSP,MSP --issuer MSP --enclave-host MSP --attestation simulated|sgx [--out FILE]",
		Short: "Write a deploy configuration from a channel configuration block and the operator's choices",
		Long: "Reads a channel configuration block (the file `peer channel fetch config` writes) and writes the\n" +
			"deploy configuration that every organization gives its chaincode servers (agreement, refund, ercc,\n" +
			"slaenclave; SLASA_DEPLOY_CONFIG). The channel name and the MSPs with their root and intermediate CA\n" +
			"certificates come from the block (every application organization of the channel, as the channel's\n" +
			"governance approved them); the approving organizations, the issuer, the enclave host, the attestation\n" +
			"and the chaincode names are the operator's choices. The result is validated before it is written,\n" +
			"and its digest is printed on standard error. Organizations that generate it from the same block with\n" +
			"the same choices get the same digest.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if blockPath == "" {
				return usageError{errors.New("--config-block: required (fetch it with: peer channel fetch config FILE -c CHANNEL ...)")}
			}
			o.Orgs = splitList(orgs)
			for _, f := range []struct{ flag, v string }{{"--orgs", orgs}, {"--issuer", o.Issuer}, {"--enclave-host", o.EnclaveHost}, {"--attestation", o.Attestation}} {
				if strings.TrimSpace(f.v) == "" {
					return usageError{fmt.Errorf("%s: required", f.flag)}
				}
			}
			block, err := os.ReadFile(blockPath)
			if err != nil {
				return fmt.Errorf("--config-block: %w", err)
			}
			cfg, err := generateConfig(block, o)
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			digest, err := cfg.Digest()
			if err != nil {
				return err
			}
			if out == "" {
				if _, err := cmd.OutOrStdout().Write(data); err != nil {
					return err
				}
			} else if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "deploy configuration of channel %s (%d MSPs, orgs %s, issuer %s, enclave host %s, %s attestation): digest %s\n",
				cfg.Channel, len(cfg.MSPs), strings.Join(cfg.Orgs, ","), cfg.IssuerMSPID, cfg.Enclave.HostMSPID, cfg.Enclave.Attestation, digest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&blockPath, "config-block", "", "channel configuration block (protobuf, from `peer channel fetch config`)")
	f.StringVar(&orgs, "orgs", "", "MSP IDs of the organizations that run the chaincodes and approve the configuration, comma-separated")
	f.StringVar(&o.Issuer, "issuer", "", "MSP ID whose admins may mint")
	f.StringVar(&o.EnclaveHost, "enclave-host", "", "MSP ID that hosts the enclave and registers its key (one of --orgs)")
	f.StringVar(&o.Attestation, "attestation", "", "attestation the enclave registry accepts: simulated or sgx")
	f.StringVar(&o.Chaincodes.Agreement, "agreement", defaultAgreementCC, "agreement chaincode name")
	f.StringVar(&o.Chaincodes.Refund, "refund", defaultRefundCC, "refund chaincode name")
	f.StringVar(&o.Chaincodes.Registry, "registry", defaultRegistryCC, "enclave registry chaincode name")
	f.StringVar(&o.Chaincodes.Enclave, "enclave", defaultEnclaveCC, "enclave chaincode name")
	f.StringVar(&out, "out", "", "write the configuration to this file (default standard output)")
	return cmd
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// generateConfig builds and validates the deploy configuration of a channel
// configuration block.
func generateConfig(block []byte, o generateOptions) (*deploycfg.Config, error) {
	channel, msps, err := channelMSPs(block)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(msps))
	known := map[string]bool{}
	for i, m := range msps {
		ids[i] = m.MSPID
		known[m.MSPID] = true
	}
	have := fmt.Sprintf("the application organizations of channel %q are %s", channel, strings.Join(ids, ", "))
	for _, org := range o.Orgs {
		if !known[org] {
			return nil, usageError{fmt.Errorf("--orgs: %q is not an application organization of the channel (%s)", org, have)}
		}
	}
	if !known[o.Issuer] {
		return nil, usageError{fmt.Errorf("--issuer: %q is not an application organization of the channel (%s)", o.Issuer, have)}
	}
	if !slices.Contains(o.Orgs, o.EnclaveHost) {
		return nil, usageError{fmt.Errorf("--enclave-host: %q is not one of --orgs %s (the host runs a peer and approves the configuration)", o.EnclaveHost, strings.Join(o.Orgs, ","))}
	}
	if o.Attestation != deploycfg.AttestationSimulated && o.Attestation != deploycfg.AttestationSGX {
		return nil, usageError{fmt.Errorf("--attestation: %q is not %s or %s", o.Attestation, deploycfg.AttestationSimulated, deploycfg.AttestationSGX)}
	}
	cfg := &deploycfg.Config{
		Version:     deploycfg.Version,
		Channel:     channel,
		Orgs:        slices.Clone(o.Orgs),
		Chaincodes:  o.Chaincodes,
		IssuerMSPID: o.Issuer,
		Enclave:     deploycfg.Enclave{HostMSPID: o.EnclaveHost, Attestation: o.Attestation},
		MSPs:        msps,
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the generated deploy configuration is invalid: %w", err)
	}
	cfg.Normalize()
	return cfg, nil
}

// channelMSPs decodes a channel configuration block (Block -> Envelope ->
// Payload -> ConfigEnvelope -> Config) and returns the channel name and the
// CA certificates of every application organization's MSP, sorted by MSP ID.
func channelMSPs(data []byte) (string, []deploycfg.MSP, error) {
	const what = "channel configuration block"
	var block common.Block
	if err := proto.Unmarshal(data, &block); err != nil {
		return "", nil, fmt.Errorf("%s: not a Fabric block: %w", what, err)
	}
	envs := block.GetData().GetData()
	if len(envs) != 1 {
		return "", nil, fmt.Errorf("%s: block %d holds %d transactions; a configuration block holds exactly one", what, block.GetHeader().GetNumber(), len(envs))
	}
	var env common.Envelope
	if err := proto.Unmarshal(envs[0], &env); err != nil {
		return "", nil, fmt.Errorf("%s: transaction envelope: %w", what, err)
	}
	var payload common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &payload); err != nil {
		return "", nil, fmt.Errorf("%s: transaction payload: %w", what, err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(payload.GetHeader().GetChannelHeader(), &ch); err != nil {
		return "", nil, fmt.Errorf("%s: channel header: %w", what, err)
	}
	if ch.GetType() != int32(common.HeaderType_CONFIG) {
		return "", nil, fmt.Errorf("%s: block %d holds a transaction of type %s, not a channel configuration (fetch the block with: peer channel fetch config)",
			what, block.GetHeader().GetNumber(), common.HeaderType(ch.GetType()))
	}
	channel := ch.GetChannelId()
	var cenv common.ConfigEnvelope
	if err := proto.Unmarshal(payload.GetData(), &cenv); err != nil {
		return "", nil, fmt.Errorf("%s: configuration envelope: %w", what, err)
	}
	app := cenv.GetConfig().GetChannelGroup().GetGroups()["Application"]
	if app == nil {
		return "", nil, fmt.Errorf("%s: channel %q has no Application group (an orderer system channel?)", what, channel)
	}
	names := make([]string, 0, len(app.GetGroups()))
	for name := range app.GetGroups() {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", nil, fmt.Errorf("%s: channel %q has no application organization", what, channel)
	}
	var msps []deploycfg.MSP
	for _, name := range names {
		m, err := orgMSP(name, app.GetGroups()[name])
		if err != nil {
			return "", nil, fmt.Errorf("%s: channel %q: %w", what, channel, err)
		}
		msps = append(msps, m)
	}
	sort.Slice(msps, func(i, j int) bool { return msps[i].MSPID < msps[j].MSPID })
	return channel, msps, nil
}

// orgMSP reads the CA certificates of an application organization's MSP value.
func orgMSP(name string, g *common.ConfigGroup) (deploycfg.MSP, error) {
	where := fmt.Sprintf("application organization %q", name)
	v := g.GetValues()["MSP"]
	if v == nil {
		return deploycfg.MSP{}, fmt.Errorf("%s has no MSP value", where)
	}
	var mc msp.MSPConfig
	if err := proto.Unmarshal(v.GetValue(), &mc); err != nil {
		return deploycfg.MSP{}, fmt.Errorf("%s: MSP value: %w", where, err)
	}
	if mc.GetType() != 0 {
		return deploycfg.MSP{}, fmt.Errorf("%s: MSP type %d is not an X.509 (FABRIC) MSP; only X.509 MSPs are supported", where, mc.GetType())
	}
	var fc msp.FabricMSPConfig
	if err := proto.Unmarshal(mc.GetConfig(), &fc); err != nil {
		return deploycfg.MSP{}, fmt.Errorf("%s: FabricMSPConfig: %w", where, err)
	}
	if fc.GetName() == "" {
		return deploycfg.MSP{}, fmt.Errorf("%s: the MSP has no name (MSP ID)", where)
	}
	where = fmt.Sprintf("%s (MSP %s)", where, fc.GetName())
	roots, err := splitCerts(fc.GetRootCerts())
	if err != nil {
		return deploycfg.MSP{}, fmt.Errorf("%s: root_certs: %w", where, err)
	}
	if len(roots) == 0 {
		return deploycfg.MSP{}, fmt.Errorf("%s: the MSP has no root certificates", where)
	}
	inters, err := splitCerts(fc.GetIntermediateCerts())
	if err != nil {
		return deploycfg.MSP{}, fmt.Errorf("%s: intermediate_certs: %w", where, err)
	}
	return deploycfg.MSP{MSPID: fc.GetName(), Roots: roots, Intermediates: inters}, nil
}

// splitCerts returns every PEM certificate of the entries, one per string.
func splitCerts(entries [][]byte) ([]string, error) {
	out := []string{}
	for i, e := range entries {
		rest := e
		n := 0
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("entry %d: PEM block %q is not a CERTIFICATE", i, b.Type)
			}
			out = append(out, string(pem.EncodeToMemory(b)))
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("entry %d: no PEM certificate", i)
		}
	}
	return out, nil
}

// ---- digest ----

func newConfigDigestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "digest FILE",
		Short: "Validate a deploy configuration file and print its digest (what Configure records)",
		Args:  exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := deploycfg.Load(args[0])
			if err != nil {
				return err
			}
			d, err := cfg.Digest()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d)
			return nil
		},
	}
}

// ---- show and record: GetConfig and Configure of the contract chaincodes ----

// configView is the part of a contract chaincode's GetConfig answer
// (internal/ccguard.ConfigView) that the CLI shows.
type configView struct {
	Digest   string `json:"digest"`
	MaxSkew  string `json:"max_clock_skew"`
	Recorded *struct {
		Digest     string      `json:"digest"`
		RecordedBy identity.ID `json:"recorded_by"`
		TxID       string      `json:"tx_id"`
		RecordedAt string      `json:"recorded_at"`
	} `json:"recorded"`
	Agrees bool `json:"agrees"`
}

// peerTarget is a peer organization whose peer answers a GetConfig.
type peerTarget struct {
	Org   string // network.json key ("provider"); empty for an explicit identity
	MSPID string // empty: the gateway's own peer
}

func (p peerTarget) String() string {
	switch {
	case p.Org != "":
		return p.Org
	case p.MSPID != "":
		return p.MSPID
	}
	return "own peer"
}

// configBackend is what show and record need from the network; the gateway
// session is the real one, tests use a fake.
type configBackend interface {
	// GetConfig evaluates chaincode's GetConfig on a peer of mspID ("" for
	// the gateway's own peer).
	GetConfig(ctx context.Context, chaincode, mspID string) ([]byte, error)
	// Configure submits Configure(configJSON) to chaincode and waits for its
	// commit; it returns the transaction ID.
	Configure(ctx context.Context, chaincode string, configJSON []byte) (string, error)
}

// gatewayConfig is the configBackend of a gateway session.
type gatewayConfig struct{ s *session }

func (g gatewayConfig) GetConfig(ctx context.Context, chaincode, mspID string) ([]byte, error) {
	opts := clientArgs()
	if mspID != "" {
		opts = append(opts, client.WithEndorsingOrganizations(mspID))
	}
	return g.s.Network.GetContract(chaincode).EvaluateWithContext(ctx, "GetConfig", opts...)
}

func (g gatewayConfig) Configure(ctx context.Context, chaincode string, configJSON []byte) (string, error) {
	_, commit, err := g.s.Network.GetContract(chaincode).SubmitAsyncWithContext(ctx, "Configure", clientArgs(string(configJSON))...)
	if err != nil {
		return "", err
	}
	if err := waitCommit(ctx, commit); err != nil {
		return commit.TransactionID(), err
	}
	return commit.TransactionID(), nil
}

// configRow is what one peer says about one chaincode's configuration.
type configRow struct {
	Chaincode      string      `json:"chaincode"`
	Peer           string      `json:"peer"`
	PeerMSPID      string      `json:"peer_msp_id,omitempty"`
	Digest         string      `json:"digest,omitempty"`
	RecordedDigest string      `json:"recorded_digest,omitempty"`
	Agrees         bool        `json:"agrees"`
	MaxClockSkew   string      `json:"max_clock_skew,omitempty"`
	RecordedBy     identity.ID `json:"recorded_by"`
	RecordedTxID   string      `json:"recorded_tx_id,omitempty"`
	Error          string      `json:"error,omitempty"`
}

// readConfigView evaluates GetConfig and decodes it.
func readConfigView(ctx context.Context, b configBackend, chaincode string, p peerTarget) (*configView, error) {
	raw, err := b.GetConfig(ctx, chaincode, p.MSPID)
	if err != nil {
		return nil, explain(chaincode+".GetConfig on "+p.String()+"'s peer", err)
	}
	var v configView
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s.GetConfig on %s's peer: decode: %w", chaincode, p, err)
	}
	if v.Digest == "" {
		return nil, fmt.Errorf("%s.GetConfig on %s's peer: the answer names no deploy configuration digest (does this chaincode take a deploy configuration?)", chaincode, p)
	}
	return &v, nil
}

// showConfig asks every peer about every chaincode.
func showConfig(ctx context.Context, b configBackend, chaincodes []string, peers []peerTarget) []configRow {
	var rows []configRow
	for _, cc := range chaincodes {
		for _, p := range peers {
			row := configRow{Chaincode: cc, Peer: p.String(), PeerMSPID: p.MSPID}
			v, err := readConfigView(ctx, b, cc, p)
			if err != nil {
				row.Error = err.Error()
			} else {
				row.Digest, row.Agrees, row.MaxClockSkew = v.Digest, v.Agrees, v.MaxSkew
				if v.Recorded != nil {
					row.RecordedDigest, row.RecordedBy, row.RecordedTxID = v.Recorded.Digest, v.Recorded.RecordedBy, v.Recorded.TxID
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// recordResult is what record did for one chaincode.
type recordResult struct {
	Chaincode string   `json:"chaincode"`
	Recorded  bool     `json:"recorded"`
	TxID      string   `json:"tx_id,omitempty"`
	Note      string   `json:"note,omitempty"`
	SeenBy    []string `json:"seen_by"`
}

// alreadyRecorded reports whether a Configure error says that this
// configuration is recorded already (ccguard's message).
func alreadyRecorded(err error) bool {
	return strings.Contains(fabnet.ErrorText(err), "is already recorded")
}

// recordConfig submits Configure(configJSON) to every chaincode (an
// "already recorded" refusal counts as done) and waits until every peer
// answers GetConfig with the configuration recorded and agreeing.
func recordConfig(ctx context.Context, b configBackend, configJSON []byte, digest string, chaincodes []string, peers []peerTarget, poll time.Duration) ([]recordResult, error) {
	var results []recordResult
	for _, cc := range chaincodes {
		r := recordResult{Chaincode: cc, SeenBy: []string{}}
		txID, err := b.Configure(ctx, cc, configJSON)
		switch {
		case err == nil:
			r.Recorded, r.TxID = true, txID
		case alreadyRecorded(err):
			r.Note = "already recorded"
		default:
			return results, explain(cc+".Configure", err)
		}
		results = append(results, r)
	}
	for i, cc := range chaincodes {
		for _, p := range peers {
			for {
				v, err := readConfigView(ctx, b, cc, p)
				if err == nil && v.Digest != digest {
					return results, fmt.Errorf("%s on %s's peer runs with another deploy configuration (digest %s) than the one recorded (digest %s): every organization must give its servers the same file",
						cc, p, v.Digest, digest)
				}
				if err == nil && v.Recorded != nil && v.Recorded.Digest == digest && v.Agrees {
					break
				}
				if ctx.Err() != nil {
					if err == nil {
						err = errors.New("the configuration is not recorded there yet")
					}
					return results, fmt.Errorf("waiting for %s's peer to see the deploy configuration %s in %s: %w (raise --timeout?)", p, digest, cc, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(poll):
				}
			}
			results[i].SeenBy = append(results[i].SeenBy, p.String())
		}
	}
	return results, nil
}

// defaultContractChaincodes names the contract chaincodes that record the
// deploy configuration: those of the session organization's file in the run
// folder when there is one, else the default names.
func defaultContractChaincodes(s *session) []string {
	if s.Info != nil {
		org, _, _ := fabnet.Identity(s.Identity)
		if cfg, err := deploycfg.Load(filepath.Join(s.Info.RunDir, "orgs", org, DeployConfigFile)); err == nil {
			return []string{cfg.Chaincodes.Agreement, cfg.Chaincodes.Refund, cfg.Chaincodes.Registry}
		}
	}
	return []string{defaultAgreementCC, defaultRefundCC, defaultRegistryCC}
}

// configPeers returns the peers to ask: --peer (an organization key of the
// run folder or an MSP ID), else every organization with a peer of the run
// folder, else (explicit identity) the gateway's own peer.
func configPeers(s *session, peer string) ([]peerTarget, error) {
	if s.Info == nil {
		if peer != "" {
			return []peerTarget{{MSPID: peer}}, nil
		}
		return []peerTarget{{}}, nil
	}
	var out []peerTarget
	for _, k := range s.Info.PeerOrgs() {
		o := s.Info.Orgs[k]
		if peer == "" || peer == k || peer == o.MSPID {
			out = append(out, peerTarget{Org: k, MSPID: o.MSPID})
		}
	}
	if len(out) == 0 {
		return nil, usageError{fmt.Errorf("--peer: %q is not an organization with a peer (want one of %s or its MSP ID)", peer, strings.Join(s.Info.PeerOrgs(), ", "))}
	}
	return out, nil
}

func newConfigShowCommand() *cobra.Command {
	var peer, chaincodes string
	cmd := &cobra.Command{
		Use:   "show [--peer ORG] [--chaincodes agreement,refund,ercc]",
		Short: "Show each peer's deploy configuration digest, the recorded one, and whether they agree (GetConfig)",
		Long: "Evaluates GetConfig of each contract chaincode on the peer of each organization (--peer: only that\n" +
			"one; an organization of the run folder such as provider, or an MSP ID) and prints the digest of the\n" +
			"deploy configuration the organization's chaincode server runs with, the digest recorded on the ledger\n" +
			"(Configure) and whether they agree. A chaincode refuses every other function on a peer where they do\n" +
			"not. Exits with status 1 when any peer disagrees, has nothing recorded or does not answer.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			peers, err := configPeers(s, peer)
			if err != nil {
				return err
			}
			ccs := splitList(chaincodes)
			if len(ccs) == 0 {
				ccs = defaultContractChaincodes(s)
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			rows := showConfig(ctx, gatewayConfig{s}, ccs, peers)
			if jsonFlag(cmd) {
				if err := writeJSON(cmd.OutOrStdout(), rows); err != nil {
					return err
				}
			} else {
				t := &table{header: []string{"CHAINCODE", "PEER", "PEER DIGEST", "RECORDED DIGEST", "AGREES"}}
				for _, r := range rows {
					if r.Error != "" {
						t.add(r.Chaincode, r.Peer, "error: "+r.Error, "-", "no")
						continue
					}
					t.add(r.Chaincode, r.Peer, r.Digest, orDash(r.RecordedDigest), yesNo(r.Agrees))
				}
				if err := t.write(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			bad := 0
			for _, r := range rows {
				if !r.Agrees {
					bad++
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d answers do not show this peer's deploy configuration recorded (run: slasa config record)", bad, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&peer, "peer", "", "only this organization's peer (run folder key, e.g. client, or MSP ID)")
	cmd.Flags().StringVar(&chaincodes, "chaincodes", "", "contract chaincodes to ask, comma-separated (default: the agreement, refund and registry names of the --as organization's deploy configuration in the run folder, else "+defaultAgreementCC+","+defaultRefundCC+","+defaultRegistryCC+")")
	addJSONFlag(cmd)
	return cmd
}

func newConfigRecordCommand() *cobra.Command {
	var file, chaincodes string
	cmd := &cobra.Command{
		Use:   "record [--config FILE] [--chaincodes agreement,refund,ercc]",
		Short: "Record the deploy configuration on the ledger of the contract chaincodes (Configure; an admin)",
		Long: "Submits Configure(deploy configuration) to agreement, refund and ercc (the names the file gives,\n" +
			"or --chaincodes) as an admin of an approving organization (default --as provider-admin). Each\n" +
			"endorsing peer accepts only exactly its own organization's file. A configuration that is recorded\n" +
			"already counts as done. Then waits until the peer of every organization sees it recorded.\n" +
			"--config defaults to the deploy configuration of the --as identity's organization in the run folder\n" +
			"(orgs/<org>/deploy-config.json).",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := connect(cmd, "provider-admin")
			if err != nil {
				return err
			}
			defer s.Close()
			if file == "" {
				if s.Info == nil {
					return usageError{errors.New("--config: required with an explicit identity")}
				}
				org, _, _ := fabnet.Identity(s.Identity)
				file = filepath.Join(s.Info.RunDir, "orgs", org, DeployConfigFile)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("--config: %w (network/deploy-config.sh writes it)", err)
			}
			cfg, err := deploycfg.Parse(raw)
			if err != nil {
				return fmt.Errorf("--config %s: %w", file, err)
			}
			digest, err := cfg.Digest()
			if err != nil {
				return err
			}
			ccs := splitList(chaincodes)
			if len(ccs) == 0 {
				ccs = []string{cfg.Chaincodes.Agreement, cfg.Chaincodes.Refund, cfg.Chaincodes.Registry}
			}
			peers, err := configPeers(s, "")
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			results, err := recordConfig(ctx, gatewayConfig{s}, raw, digest, ccs, peers, 300*time.Millisecond)
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"digest": digest, "chaincodes": results})
			}
			t := &table{header: []string{"CHAINCODE", "RESULT", "SEEN BY"}}
			for _, r := range results {
				res := "recorded (tx " + r.TxID + ")"
				if !r.Recorded {
					res = r.Note
				}
				t.add(r.Chaincode, res, strings.Join(r.SeenBy, ", "))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deploy configuration %s (digest %s)\n", file, digest)
			return t.write(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "deploy configuration file (default: the run folder's file of the --as identity's organization)")
	cmd.Flags().StringVar(&chaincodes, "chaincodes", "", "contract chaincodes to configure, comma-separated (default: the file's agreement, refund and registry)")
	addJSONFlag(cmd)
	return cmd
}
