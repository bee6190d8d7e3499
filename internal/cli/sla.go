package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/sla"
	"github.com/spf13/cobra"
)

func newSLACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sla",
		Short: "Work with Parametric SLA documents",
	}
	cmd.AddCommand(newSLAValidateCommand(), newSLADigestCommand(), newSLAEvaluateCommand())
	return cmd
}

// loadSLA reads, validates and compiles an SLA document: the schema, the
// semantic rules and the algorithmic drivers it names.
func loadSLA(path string) (*sla.SLA, *driver.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read SLA: %w", err)
	}
	doc, err := sla.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	plan, err := driver.Compile(doc)
	if err != nil {
		return nil, nil, err
	}
	return doc, plan, nil
}

// describeInvalid turns a validation error into a report of one problem per
// line, naming the JSON path of each.
func describeInvalid(path string, err error) error {
	var verr *sla.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("%s: %w", path, err)
	}
	msg := fmt.Sprintf("%s: invalid SLA (%d problem(s)):", path, len(verr.Problems))
	for _, p := range verr.Problems {
		msg += fmt.Sprintf("\n  %s: %s", p.Path, p.Reason)
	}
	return errors.New(msg)
}

func newSLAValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate SLA documents against the schema, the semantic rules and the driver registry",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("sla validate needs at least one FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var failed []error
			for _, path := range args {
				doc, _, err := loadSLA(path)
				if err != nil {
					failed = append(failed, describeInvalid(path, err))
					continue
				}
				digest, err := sla.DigestHex(doc)
				if err != nil {
					return fmt.Errorf("%s: digest: %w", path, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid SLA %q, %d metric(s), digest %s\n", path, doc.ID, len(doc.Metrics), digest)
			}
			return errors.Join(failed...)
		},
	}
}

func newSLADigestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "digest FILE",
		Short: "Print the SHA-256 digest of the SLA's canonical form: the value both parties sign",
		Args:  exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, _, err := loadSLA(args[0])
			if err != nil {
				return describeInvalid(args[0], err)
			}
			digest, err := sla.DigestHex(doc)
			if err != nil {
				return fmt.Errorf("digest: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), digest)
			return nil
		},
	}
}

func newSLAEvaluateCommand() *cobra.Command {
	var slaPath, logsPath, periodText string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "evaluate --sla FILE --logs FILE.jsonl --period PERIOD [--json]",
		Short: "Evaluate service logs against an SLA for one billing period",
		Long: "Runs the SLA's algorithmic drivers (sampling, computation interval, metric\n" +
			"calculation) over a JSON Lines log file and prints the outcome: each metric's value\n" +
			"and whether its objective is met, whether the SLA is violated and the service credit.\n" +
			"PERIOD is the period's start (2026-03-01T00:00:00Z) or a shorthand: 2026-03 (month),\n" +
			"2026-03-05 (day), 2026-03-05T14 (hour). Use - as FILE.jsonl to read standard input.",
		Args: exactArgs(0, "none (use flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ name, value string }{{"--sla", slaPath}, {"--logs", logsPath}, {"--period", periodText}} {
				if f.value == "" {
					return usageError{fmt.Errorf("sla evaluate: %s is required", f.name)}
				}
			}
			doc, plan, err := loadSLA(slaPath)
			if err != nil {
				return describeInvalid(slaPath, err)
			}
			period, err := driver.ParsePeriod(doc, periodText)
			if err != nil {
				return fmt.Errorf("--period: %w", err)
			}
			var logs io.Reader
			if logsPath == "-" {
				logs = cmd.InOrStdin()
			} else {
				f, err := os.Open(logsPath)
				if err != nil {
					return fmt.Errorf("--logs: %w", err)
				}
				defer f.Close()
				logs = f
			}
			outcome, err := driver.Evaluate(plan, period, logs)
			if err != nil {
				return fmt.Errorf("evaluate %s: %w", logsPath, err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(outcome)
			}
			return printOutcome(cmd.OutOrStdout(), doc, outcome)
		},
	}
	cmd.Flags().StringVar(&slaPath, "sla", "", "SLA document (JSON)")
	cmd.Flags().StringVar(&logsPath, "logs", "", "log records (JSON Lines), - for standard input")
	cmd.Flags().StringVar(&periodText, "period", "", "billing period to evaluate")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return cmd
}

// printOutcome writes the human-readable outcome table.
func printOutcome(w io.Writer, doc *sla.SLA, o *driver.Outcome) error {
	fmt.Fprintf(w, "SLA %s, period %s\n\n", doc.ID, o.Period)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tVALUE\tOBJECTIVE\tMET")
	for _, m := range o.Metrics {
		objective := ""
		if def, ok := doc.Metric(m.ID); ok {
			objective = def.Objective.Operator + " " + def.Objective.Target + " " + def.Unit
		}
		met := "yes"
		if !m.Met {
			met = "NO"
		}
		value := m.Value + " " + m.Unit
		if m.NoData {
			value = "no data"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, value, objective, met)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "objectives met, no credit"
	if o.Violated {
		verdict = fmt.Sprintf("VIOLATED: credit %d bps = %d %s minor units", o.CreditBPS, o.CreditAmount, o.Currency)
		if o.PenaltyAmount > 0 {
			verdict += fmt.Sprintf(", penalties %d", o.PenaltyAmount)
		}
	}
	fmt.Fprintf(w, "\n%s\n", verdict)
	return nil
}
