package cli

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// addLifecycleCommands adds the network lifecycle commands (sla
// propose|accept|renew|terminate|show|list|history|verify, wallet, verdict
// show, reputation, watch, invoice, statement), the connection flags and
// `slasa docs`.
func addLifecycleCommands(root *cobra.Command) {
	addConnectionFlags(root)
	addAgreementCommands(root)
	addWalletCommands(root)
	addVerdictCommands(root)
	addBillingCommands(root)
	addMoneyCommands(root)
	root.AddCommand(newDocsCommand())
}

func newDocsCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "docs [--out docs/cli.md]",
		Short: "Print the CLI reference (Markdown) generated from the command tree",
		Args:  exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			md := Reference()
			if out == "" {
				_, err := cmd.OutOrStdout().Write(md)
				return err
			}
			return os.WriteFile(out, md, 0o644)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

// Reference returns the Markdown CLI reference of every slasa command
// (docs/cli.md), in a stable order.
func Reference() []byte {
	root := newRootCommand(nil, nil, nil)
	var b bytes.Buffer
	b.WriteString("# slasa CLI reference\n\n")
	b.WriteString("Generated from the command tree by `slasa docs --out docs/cli.md` (a unit test checks it is up to date).\n\n")
	b.WriteString("Network commands connect as an identity of the local network (`--run-dir`, `--as`; see\n")
	b.WriteString("[network/README.md](../network/README.md)) or as an explicit identity on any Fabric network\n")
	b.WriteString("(`--msp-id --cert --key --peer --tls-ca [--peer-host-override] --channel`). Amounts are minor\n")
	b.WriteString("currency units. Exit status 0 on success, 1 when the command failed, 2 for a wrong command line.\n\n")
	b.WriteString("## Global flags\n\n")
	writeFlags(&b, root.PersistentFlags())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		cmds := c.Commands()
		sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
		for _, sub := range cmds {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			if sub.Runnable() {
				writeCommand(&b, sub)
			}
			walk(sub)
		}
	}
	walk(root)
	return b.Bytes()
}

func writeCommand(b *bytes.Buffer, c *cobra.Command) {
	path := c.CommandPath()
	fmt.Fprintf(b, "## %s\n\n%s\n\n", path, c.Short)
	use := strings.TrimPrefix(c.UseLine(), "")
	fmt.Fprintf(b, "```\n%s\n```\n\n", use)
	if c.Long != "" {
		fmt.Fprintf(b, "%s\n\n", strings.TrimSpace(c.Long))
	}
	writeFlags(b, c.LocalNonPersistentFlags())
}

func writeFlags(b *bytes.Buffer, fs *pflag.FlagSet) {
	var rows []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		def := f.DefValue
		if def == "[]" || def == "false" {
			def = ""
		}
		if def != "" {
			def = "`" + def + "`"
		}
		rows = append(rows, fmt.Sprintf("| `--%s` | %s | %s |", f.Name, def, strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;").Replace(f.Usage)))
	})
	if len(rows) == 0 {
		return
	}
	b.WriteString("| Flag | Default | Meaning |\n|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
}
