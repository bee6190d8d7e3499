// Package cli implements the slasa command line (cmd/slasa).
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes of the slasa command.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and found a problem (invalid SLA, bad input)
	ExitUsage   = 2 // the command line itself is wrong
)

// usageError marks errors in the command line rather than in the input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs the slasa command with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "slasa: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return ExitUsage
		}
		return ExitFailure
	}
	return ExitOK
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "slasa",
		Short: "SLA self-assessment on Hyperledger Fabric",
		Long: "slasa manages Parametric SLAs: validate and digest them, evaluate service logs\n" +
			"against them, and drive the slasa chaincodes on a Fabric network.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newSLACommand())
	addSignCommands(root)
	addNetworkFlags(root)
	addEnclaveCommands(root)
	addLifecycleCommands(root)
	addConfigCommands(root)
	root.AddCommand(newIdentityCommand())
	addTicketCommands(root)
	addConsoleCommand(root)
	return root
}

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s): %s (got %d)", cmd.CommandPath(), n, names, len(args))}
		}
		return nil
	}
}
