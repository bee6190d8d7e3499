package cli

// Signing commands for driving the chaincodes with the peer CLI (docs/peer-cli.md):
//
//	slasa sla sign --key KEY.pem FILE                 the party's signature over the SLA digest
//	slasa anchor sign --key KEY.pem --sla ID ...      the logger's signature over a log batch anchor
//	slasa verdict sign --key KEY.pem FILE             a verdict signed with an enclave key (tests, demos)
//	slasa enclave simulated-credentials ...           simulated credentials of a test enclave key
//
// Keys are PEM private keys as Fabric's cryptogen writes them (PKCS #8, the
// keystore/priv_sk of an MSP folder) or SEC 1.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
	"github.com/spf13/cobra"
)

// addSignCommands adds `sla sign` under the sla command and the anchor,
// verdict and enclave commands to root (each found, or created when no other
// file made it).
func addSignCommands(root *cobra.Command) {
	subcommand(root, "sla", "Work with Parametric SLA documents").AddCommand(newSLASignCommand())
	subcommand(root, "anchor", "Log batch anchors of the agreement chaincode").AddCommand(newAnchorSignCommand())
	subcommand(root, "verdict", "Enclave verdicts settled by the refund chaincode").AddCommand(newVerdictSignCommand())
	subcommand(root, "enclave", "Enclave registrations in the enclave registry (ercc)").AddCommand(newSimulatedCredentialsCommand())
}

// subcommand returns root's command name, adding it when missing.
func subcommand(root *cobra.Command, name, short string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	c := &cobra.Command{Use: name, Short: short}
	root.AddCommand(c)
	return c
}

// readKey reads an ECDSA private key from a PEM file.
func readKey(path string) (*ecdsa.PrivateKey, error) {
	if path == "" {
		return nil, usageError{errors.New("--key is required")}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	key, err := signedsla.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	return key, nil
}

// readInput reads a file, or standard input for "-".
func readInput(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	return os.ReadFile(path)
}

func newSLASignCommand() *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem FILE",
		Short: "Sign the SLA's canonical digest: prints the base64 ASN.1 ECDSA signature",
		Long: "Validates the SLA document FILE (- for standard input), computes the SHA-256 digest of its\n" +
			"canonical form (what `slasa sla digest` prints) and signs it with KEY, a PEM private key as\n" +
			"cryptogen writes it (e.g. msp/keystore/priv_sk). Prints the signature in standard base64: the\n" +
			"providerSignature of ProposeSLA or the signature of AcceptSLA.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := readKey(keyPath)
			if err != nil {
				return err
			}
			data, err := readInput(cmd, args[0])
			if err != nil {
				return fmt.Errorf("read SLA: %w", err)
			}
			digest, _, err := sla.DigestOf(data)
			if err != nil {
				return describeInvalid(args[0], err)
			}
			sig, err := signedsla.Sign(digest, key)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(sig))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "PEM private key of the signer")
	return cmd
}

func newAnchorSignCommand() *cobra.Command {
	var keyPath string
	var a signedsla.Anchor
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem --sla ID --seq N --cid CID [--prev CID] --start T --end T",
		Short: "Sign a log batch anchor: prints the logger's base64 signature for AnchorLogBatch",
		Long: "Signs SHA-256 of the anchor's canonical string (SLA id, sequence number, CID, previous CID,\n" +
			"window start and end; see signedsla.Anchor) with KEY, the logger's PEM private key. --prev is\n" +
			"empty for --seq 1; --start and --end are RFC 3339 UTC instants such as 2026-01-01T00:00:00Z.",
		Args: exactArgs(0, "none (use flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ name, value string }{{"--sla", a.SLAID}, {"--cid", a.CID}, {"--start", a.PeriodStart}, {"--end", a.PeriodEnd}} {
				if f.value == "" {
					return usageError{fmt.Errorf("anchor sign: %s is required", f.name)}
				}
			}
			if !cmd.Flags().Changed("seq") {
				return usageError{errors.New("anchor sign: --seq is required")}
			}
			key, err := readKey(keyPath)
			if err != nil {
				return err
			}
			sig, err := signedsla.SignAnchor(a, key)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(sig))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "PEM private key of the logger")
	f.StringVar(&a.SLAID, "sla", "", "SLA id")
	f.Int64Var(&a.Seq, "seq", 0, "batch sequence number (1, 2, ...)")
	f.StringVar(&a.CID, "cid", "", "content identifier of the batch")
	f.StringVar(&a.PrevCID, "prev", "", "CID of batch seq-1 (empty for seq 1)")
	f.StringVar(&a.PeriodStart, "start", "", "start of the window the batch covers (RFC 3339 UTC)")
	f.StringVar(&a.PeriodEnd, "end", "", "end of the window (exclusive)")
	return cmd
}

func newVerdictSignCommand() *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem FILE",
		Short: "Sign a verdict with an enclave key: prints the signed verdict JSON for SettleVerdict",
		Long: "Reads a verdict (verdict.Verdict JSON; FILE - for standard input), fills enclave_id from the\n" +
			"key when it is empty, and signs it with KEY, an enclave's PEM private key. For tests and demos\n" +
			"with a test enclave key registered in ercc (see `slasa enclave simulated-credentials`): in\n" +
			"production only the enclave signs verdicts.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := readKey(keyPath)
			if err != nil {
				return err
			}
			data, err := readInput(cmd, args[0])
			if err != nil {
				return fmt.Errorf("read verdict: %w", err)
			}
			var v verdict.Verdict
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("%s: decode verdict: %w", args[0], err)
			}
			if dec.More() {
				return fmt.Errorf("%s: decode verdict: trailing data after the JSON object", args[0])
			}
			id, err := verdict.EnclaveIDOf(&key.PublicKey)
			if err != nil {
				return err
			}
			switch v.EnclaveID {
			case "":
				v.EnclaveID = id
			case id:
			default:
				return fmt.Errorf("%s: verdict.enclave_id: %s is not the id %s of the key", args[0], v.EnclaveID, id)
			}
			signed, err := verdict.Sign(v, key)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			out, err := json.Marshal(signed)
			if err != nil {
				return fmt.Errorf("encode signed verdict: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "PEM private key of the enclave")
	return cmd
}

func newSimulatedCredentialsCommand() *cobra.Command {
	var keyPath, newKeyPath string
	var d credentials.AttestedData
	cmd := &cobra.Command{
		Use: "simulated-credentials (--key KEY.pem | --new-key KEY.pem) --channel C --chaincode NAME " +
			"--version V --sequence N --peer-msp MSP --config-digest HEX [--endpoint E]",
		Short: "Print SIMULATED enclave credentials for RegisterEnclave of the enclave registry (tests, demos)",
		Long: "Makes credentials with simulated evidence (the key signs its own attested data) binding an\n" +
			"enclave verifying key to a committed chaincode definition (channel, name, version, sequence),\n" +
			"the hosting MSP and a deploy configuration (its digest: `slasa config digest FILE`), and prints\n" +
			"them as JSON for ercc's RegisterEnclave. --new-key generates a P-256 key and writes it\n" +
			"(PKCS #8 PEM, mode 0600; an existing file is not overwritten); --key\n" +
			"uses an existing one. The chaincode encryption key is a fresh RSA-2048 key whose private part\n" +
			"is discarded: such a test enclave can sign verdicts but nobody can encrypt to it usefully.\n" +
			"The registry accepts them only when its deploy configuration says attestation \"simulated\", from\n" +
			"an admin of the configured enclave host (--peer-msp), for the configured enclave chaincode and\n" +
			"with the registry peer's own --config-digest. They prove key possession only, not that an\n" +
			"enclave runs: never deploy with simulated attestation in production.",
		Args: exactArgs(0, "none (use flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (keyPath == "") == (newKeyPath == "") {
				return usageError{errors.New("enclave simulated-credentials: give exactly one of --key and --new-key")}
			}
			if !cmd.Flags().Changed("sequence") {
				return usageError{errors.New("enclave simulated-credentials: --sequence is required")}
			}
			var key *ecdsa.PrivateKey
			var err error
			if keyPath != "" {
				if key, err = readKey(keyPath); err != nil {
					return err
				}
			} else {
				if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
					return fmt.Errorf("generate enclave key: %w", err)
				}
			}
			if d.EnclaveVK, err = credentials.MarshalPublicKey(&key.PublicKey); err != nil {
				return err
			}
			ek, err := rsa.GenerateKey(rand.Reader, credentials.MinRSABits)
			if err != nil {
				return fmt.Errorf("generate chaincode encryption key: %w", err)
			}
			if d.ChaincodeEK, err = credentials.MarshalPublicKey(&ek.PublicKey); err != nil {
				return err
			}
			creds, err := credentials.NewSimulated(d, key)
			if err != nil {
				return err
			}
			out, err := json.Marshal(creds)
			if err != nil {
				return fmt.Errorf("encode credentials: %w", err)
			}
			if newKeyPath != "" {
				if err := writeNewKey(newKeyPath, key); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "existing PEM private key of the test enclave")
	f.StringVar(&newKeyPath, "new-key", "", "generate the test enclave key and write it to this file")
	f.StringVar(&d.Channel, "channel", "", "channel name")
	f.StringVar(&d.Chaincode, "chaincode", "", "enclave chaincode name (its definition must be committed)")
	f.StringVar(&d.ChaincodeVersion, "version", "", "committed chaincode version")
	f.Int64Var(&d.ChaincodeSequence, "sequence", 0, "committed chaincode sequence")
	f.StringVar(&d.PeerMSPID, "peer-msp", "", "MSP ID of the hosting peer (the registering organization)")
	f.StringVar(&d.Endpoint, "endpoint", "", "endpoint of the hosting peer (informational)")
	f.StringVar(&d.ConfigDigest, "config-digest", "", "digest of the deploy configuration the enclave claims (slasa config digest FILE)")
	return cmd
}

// writeNewKey writes key as PKCS #8 PEM to a new file.
func writeNewKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode enclave key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--new-key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return fmt.Errorf("--new-key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--new-key: %w", err)
	}
	return nil
}
