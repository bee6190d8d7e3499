package cli

// Enclave commands on a running network:
//
//	slasa enclave setup [--chaincode slaenclave]   configure ercc, register the enclave, give it the MSP roots
//	slasa enclave show  [--chaincode slaenclave]   print the registry's record of the enclave
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
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/spf13/cobra"
)

// addNetworkFlags adds the global network flags --run-dir and --as to root.
func addNetworkFlags(root *cobra.Command) {
	root.PersistentFlags().String("run-dir", "",
		"run folder of the network (holds network.json); default $SLASA_RUN_DIR, else <repo>/.run")
	root.PersistentFlags().String("as", "",
		"identity to act as: "+strings.Join(fabnet.IdentityNames(), ", ")+" (each command has a default)")
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
		Short: "Register a deployed enclave chaincode: configure ercc, register the enclave, give it the MSP roots",
		Long: "Runs the post-deploy setup of an enclave chaincode (idempotent):\n" +
			"  1. configures the registry (ercc) for SIMULATED attestation, as the hosting organization's admin,\n" +
			"     if it is not configured;\n" +
			"  2. asks the enclave for its credentials (__initEnclave: hosting MSP and chaincode server address);\n" +
			"  3. registers them (RegisterEnclave, as a member of the hosting MSP) unless this enclave is already\n" +
			"     registered for the committed sequence;\n" +
			"  4. gives the enclave the channel MSPs' CA certificates (InitMSPs), read from the network's MSP\n" +
			"     folders: trust on first use, later runs leave them unchanged.\n" +
			"The hosting organization is ProviderOrg; --as names the member identity that registers\n" +
			"(default provider).",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := loadNetwork(cmd)
			if err != nil {
				return err
			}
			member, err := identityFlag(cmd, "provider")
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

func newEnclaveShowCommand() *cobra.Command {
	var chaincode, registry string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--chaincode slaenclave]",
		Short: "Print the enclave registry's record of an enclave chaincode",
		Args:  exactArgs(0, "none"),
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
			rec, err := setup.ShowEnclave(ctx, info, who, registry, chaincode)
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the registry record as JSON")
	return cmd
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
