package cli

// Enclave commands on a running network:
//
//	slasa enclave setup [--chaincode slaenclave]   register the host organization's enclave in ercc
//	slasa enclave show  [--chaincode slaenclave] [--id ENCLAVE_ID]   print a registry record
//
// Both use the network flags --run-dir and --as (see addNetworkFlags).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/setup"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/spf13/cobra"
)

// addNetworkFlags adds the global network flags --run-dir and --as to root.
func addNetworkFlags(root *cobra.Command) {
	root.PersistentFlags().String("run-dir", "",
		"run folder of the network (holds network.json); default $SLASA_RUN_DIR, else <repo>/.run")
	root.PersistentFlags().String("as", "",
		"identity to act as: "+strings.Join(fabnet.IdentityNames(), ", ")+
			fmt.Sprintf(", and orgK, orgK-admin for K = 5..N on a network with SLASA_ORGS=N (N <= %d; provider-ca2 and provider-admin-role need SLASA_SECOND_CA=1; each command has a default)", fabnet.MaxOrgs))
}

// DefaultRunDir returns the run folder used when --run-dir is not given:
// $SLASA_RUN_DIR if set, else .run in the repository root (the first folder
// holding go.mod, walking up from the working directory), else .run in the
// working directory.
func DefaultRunDir() (string, error) {
	if d := os.Getenv("SLASA_RUN_DIR"); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".run"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join(wd, ".run"), nil
		}
		dir = parent
	}
}

// loadNetwork reads the network description named by the --run-dir flag.
func loadNetwork(cmd *cobra.Command) (*fabnet.Info, error) {
	dir, _ := cmd.Flags().GetString("run-dir")
	return loadNetworkDir(dir)
}

// loadNetworkDir reads the network description of the run folder dir (""
// for DefaultRunDir).
func loadNetworkDir(dir string) (*fabnet.Info, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultRunDir(); err != nil {
			return nil, err
		}
	}
	return fabnet.Load(dir)
}

// identityFlag returns --as, or def when it is not given, checked.
func identityFlag(cmd *cobra.Command, def string) (string, error) {
	id, _ := cmd.Flags().GetString("as")
	if id == "" {
		id = def
	}
	if _, _, err := fabnet.Identity(id); err != nil {
		return "", usageError{fmt.Errorf("--as: %w", err)}
	}
	return id, nil
}

// addEnclaveCommands adds setup and show under the enclave command (creating
// it when another file did not).
func addEnclaveCommands(root *cobra.Command) {
	enc, _, err := root.Find([]string{"enclave"})
	if err != nil || enc == root {
		enc = &cobra.Command{Use: "enclave", Short: "Enclave registrations in the enclave registry (ercc)"}
		root.AddCommand(enc)
	}
	enc.AddCommand(newEnclaveSetupCommand(), newEnclaveShowCommand())
}

func newEnclaveSetupCommand() *cobra.Command {
	var chaincode, registry string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "setup [--chaincode slaenclave]",
		Short: "Register the host organization's enclave in the enclave registry (ercc; run by make deploy)",
		Long: "Registers a deployed enclave chaincode (idempotent; network/deploy-all.sh runs it after `slasa\n" +
			"config record`):\n" +
			"  1. asks the host organization's enclave for its credentials (__initEnclave on the host's peer):\n" +
			"     the enclave attests its chaincode definition, its host MSP and the digest of the host's deploy\n" +
			"     configuration;\n" +
			"  2. registers them (RegisterEnclave) as an ADMIN of the host organization (<org>-admin), unless the\n" +
			"     registry's current enclave is this one for the committed chaincode sequence (after a redeploy it\n" +
			"     registers again); then waits until every organization's peer sees the registration.\n" +
			"Nothing is configured here: the attestation mode, the host organization, the chaincode names and\n" +
			"the CA roots the enclave trusts come from the deploy configuration every organization gave its\n" +
			"chaincode servers (slasa config), and the registry refuses credentials that disagree with it.\n" +
			"SLAs accepted earlier stay pinned to the enclave they recorded (slasa sla handover moves a pin).\n" +
			"--as names a member of the host organization that asks for the credentials (default: the member\n" +
			"of the deploy configuration's enclave host in the run folder, e.g. provider for ProviderOrgMSP).",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := loadNetwork(cmd)
			if err != nil {
				return err
			}
			as, _ := cmd.Flags().GetString("as")
			member, err := enclaveHostMember(info, as)
			if err != nil {
				return err
			}
			org, _, _ := fabnet.Identity(member)
			opts := setup.Options{Chaincode: chaincode, Registry: registry, HostOrg: org, Log: cmd.ErrOrStderr()}
			gw := setup.NewGateway(info, opts, member)
			defer gw.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			res, err := setup.Run(ctx, info, gw, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeEnclaveJSON(cmd.OutOrStdout(), res)
			}
			return printRecord(cmd.OutOrStdout(), res.Record)
		},
	}
	cmd.Flags().StringVar(&chaincode, "chaincode", setup.DefaultChaincode, "enclave chaincode name")
	cmd.Flags().StringVar(&registry, "registry", setup.DefaultRegistry, "enclave registry chaincode name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the setup result as JSON")
	return cmd
}

// enclaveHostMember returns the identity that asks the enclave for its
// credentials: --as (as), which must be a member of the enclave host MSP of
// the run folder's deploy configuration, or by default the member named
// like the host organization's key ("provider", "client"). Without a deploy
// configuration in the run folder the default is provider.
func enclaveHostMember(info *fabnet.Info, as string) (string, error) {
	host := ""
	for _, org := range info.PeerOrgs() {
		cfg, err := deploycfg.Load(filepath.Join(info.RunDir, "orgs", org, DeployConfigFile))
		if err == nil {
			host = cfg.Enclave.HostMSPID
			break
		}
	}
	member := as
	if member == "" {
		member = setup.DefaultHostOrg
		for _, org := range info.PeerOrgs() {
			if host != "" && info.Orgs[org].MSPID == host {
				member = org
			}
		}
	}
	org, _, err := fabnet.Identity(member)
	if err != nil {
		return "", usageError{fmt.Errorf("--as: %w", err)}
	}
	if msp := info.Orgs[org].MSPID; host != "" && msp != host {
		return "", usageError{fmt.Errorf("--as %s: a member of %s, but the deploy configuration's enclave host is %s (its admin registers the enclave)", member, msp, host)}
	}
	return member, nil
}

func newEnclaveShowCommand() *cobra.Command {
	var chaincode, registry, enclaveID string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--chaincode slaenclave] [--id ENCLAVE_ID]",
		Short: "Print the enclave registry's record of an enclave chaincode (current, or one enclave by id)",
		Long: "Prints the registry's (ercc) record of the enclave currently registered for the chaincode\n" +
			"(QueryEnclave), or with --id of one enclave the registry keeps for it (QueryEnclaveByID: every\n" +
			"registration is kept, so SLAs pinned to an older enclave can still be verified): enclave id,\n" +
			"attestation, chaincode version and sequence, host MSP, deploy configuration digest, and who\n" +
			"registered it when.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := loadNetwork(cmd)
			if err != nil {
				return err
			}
			who, err := identityFlag(cmd, "provider")
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			var rec *credentials.Record
			if enclaveID != "" {
				rec, err = enclaveByID(ctx, info, who, registry, chaincode, enclaveID)
			} else {
				rec, err = setup.ShowEnclave(ctx, info, who, registry, chaincode)
			}
			if err != nil {
				return err
			}
			if rec == nil {
				return fmt.Errorf("no enclave is registered for chaincode %q in %s (run: slasa enclave setup --chaincode %s)", chaincode, registry, chaincode)
			}
			if asJSON {
				return writeEnclaveJSON(cmd.OutOrStdout(), rec)
			}
			return printRecord(cmd.OutOrStdout(), rec)
		},
	}
	cmd.Flags().StringVar(&chaincode, "chaincode", setup.DefaultChaincode, "enclave chaincode name")
	cmd.Flags().StringVar(&registry, "registry", setup.DefaultRegistry, "enclave registry chaincode name")
	cmd.Flags().StringVar(&enclaveID, "id", "", "one enclave's record (QueryEnclaveByID) instead of the current one")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the registry record as JSON")
	return cmd
}

// enclaveByID reads the registry's record of one enclave of a chaincode.
func enclaveByID(ctx context.Context, info *fabnet.Info, who, registry, chaincode, enclaveID string) (*credentials.Record, error) {
	conn, err := info.Connect(who)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	raw, err := conn.Network.GetContract(registry).EvaluateWithContext(ctx, "QueryEnclaveByID", clientArgs(chaincode, enclaveID)...)
	if err != nil {
		return nil, explain(registry+".QueryEnclaveByID", err)
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("%s.QueryEnclaveByID: decode: %w", registry, err)
	}
	return &rec, nil
}

// printRecord prints a registry record, saying SIMULATED loudly when it is.
func printRecord(w io.Writer, rec *credentials.Record) error {
	if rec == nil {
		return errors.New("no registry record")
	}
	if rec.AttestationType == credentials.AttestationSimulated {
		fmt.Fprintln(w, "*** SIMULATED ENCLAVE: no SGX, no attestation; the host operator can read everything it processes ***")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"chaincode", rec.Chaincode},
		{"channel", rec.Channel},
		{"enclave id", rec.EnclaveID},
		{"attestation", setup.AttestationLabel(rec.AttestationType)},
		{"chaincode version", rec.ChaincodeVersion},
		{"chaincode sequence", fmt.Sprint(rec.ChaincodeSequence)},
		{"hosting MSP", rec.PeerMSPID},
		{"endpoint", rec.Endpoint},
		{"deploy configuration", orDash(rec.ConfigDigest)},
		{"registered by", orDash(identityText(rec.RegisteredBy))},
		{"registered at", orDash(rec.RegisteredAt) + " (tx " + orDash(rec.RegisteredTxID) + ")"},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func writeEnclaveJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
