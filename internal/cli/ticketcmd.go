package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slasa/slasa/internal/identity"
)

// addTicketCommands adds the ticket command and its subcommands.
func addTicketCommands(root *cobra.Command) {
	t := subcommand(root, "ticket", "Trouble tickets of an SLA with its support clocks (the ticket chaincode)")
	t.AddCommand(newTicketCreateCommand(), newTicketAssignCommand(),
		newTicketTextCommand("ack", "vendor",
			"Acknowledge an assigned ticket as its vendor: stops the acceptance clock (AcknowledgeTicket)",
			"Records the acceptance outcome: met when the counted time is at most the severity's acceptance target,\n"+
				"else breached, with the margin and the penalty the SLA sets for it. Only the assigned vendor may\n"+
				"acknowledge (default --as vendor)."),
		newTicketUpdateCommand(),
		newTicketPauseCommand(),
		newTicketTextCommand("resume", "vendor",
			"End a ticket's pause: its clocks run again and it returns to the status it was paused in (ResumeTicket)",
			"The ticket's customer, provider or assigned vendor may resume it (default --as vendor)."),
		newTicketTextCommand("resolve", "vendor",
			"Resolve an acknowledged or in-progress ticket as its vendor: stops the closure clock (ResolveTicket)",
			"Records the closure outcome (met or breached, the margin, the penalty). Only the assigned vendor may\n"+
				"resolve (default --as vendor)."),
		newTicketTextCommand("close", "client",
			"Close a resolved ticket as its customer or provider (CloseTicket)",
			"Default --as client."),
		newTicketTextCommand("reopen", "client",
			"Put a resolved ticket back in progress and clear its closure outcome (ReopenTicket)",
			"The closure clock counts on from where it started, the time the ticket spent resolved included.\n"+
				"--reason (required, at most 1024 bytes) goes into the timeline. The customer or the provider may\n"+
				"reopen (default --as client)."),
		newTicketSeverityCommand(), newTicketEscalateCommand(),
		newTicketShowCommand(), newTicketListCommand(), newTicketHistoryCommand(), newTicketWatchCommand())
}

// ticketCCFlag adds --ticket-cc to cmd.
func ticketCCFlag(cmd *cobra.Command) {
	cmd.Flags().String("ticket-cc", defaultTicketCC, "ticket chaincode name")
}

// transitionLong is the part of every transition command's help on how it
// is submitted.
const transitionLong = "\nThe ticket's current record is read with GetTicket on a peer of the caller's organization and\n" +
	"passed back in the transient map (\"ticket\") with the input (\"input\"); the free text never goes into\n" +
	"the arguments, which every channel member reads. Exactly the ticket's organizations endorse it. While\n" +
	"the caller's peer has not seen the ticket's last transaction yet, the command reads and submits again\n" +
	"(up to 15s)."

// runTransition connects as --as (default def), builds the transition with
// build (which may read the network) and submits it.
func runTransition(cmd *cobra.Command, def, done, slaID, ticketID string, build func(ctx context.Context, l ticketLedger) (ticketTx, error)) error {
	cc, _ := cmd.Flags().GetString("ticket-cc")
	l, err := connectTickets(cmd, def)
	if err != nil {
		return err
	}
	defer l.Close()
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	tx, err := build(ctx, l)
	if err != nil {
		return err
	}
	res, err := transition(ctx, l, cc, slaID, ticketID, tx)
	if err != nil {
		return err
	}
	return writeTransition(cmd, done, res)
}

// newTicketTextCommand is the one-text transition name of ticketActions:
// its input is an optional --note or a required --reason.
func newTicketTextCommand(name, def, short, long string) *cobra.Command {
	a, ok := findTicketAction(name)
	if !ok {
		panic("no ticket action " + name)
	}
	var text string
	use, help := name+" SLA TICKET [--note TEXT]", "note recorded in the ticket's timeline (optional, at most 1024 bytes)"
	if a.Required {
		use, help = name+" SLA TICKET --"+a.Field+" TEXT", "why the resolution is not accepted (required, at most 1024 bytes)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long + "\n" + transitionLong,
		Args:  exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			tx, err := a.tx(text)
			if err != nil {
				return err
			}
			return runTransition(cmd, def, a.Done, args[0], args[1], func(context.Context, ticketLedger) (ticketTx, error) {
				return tx, nil
			})
		},
	}
	cmd.Flags().StringVar(&text, a.Field, "", help)
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketCreateCommand() *cobra.Command {
	var severity, kind, description, slaFile string
	cmd := &cobra.Command{
		Use:   "create SLA TICKET --severity S --type T --description D [--sla-file FILE]",
		Short: "Open a ticket on an SLA as its customer or provider (CreateTicket)",
		Long: "Opens ticket TICKET (1..64 letters, digits, '.', '_', '-'; new for the SLA) on SLA with a severity\n" +
			"of the SLA's support section, a type (one line, at most 64 bytes) and a description (at most 4096\n" +
			"bytes). The SLA document goes with it in the transient map (\"sla\"): from --sla-file (- for\n" +
			"standard input), else the caller's organization's private copy (agreement GetSLA on a peer of its\n" +
			"own). The input goes in the transient map (\"input\"), never in the arguments. The provider's and\n" +
			"the client's organizations endorse it; the clocks of the severity's acceptance and closure targets\n" +
			"start at the transaction. Default --as client (the customer).",
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			in, err := createTicketInput(severity, kind, description)
			if err != nil {
				return err
			}
			cc, _ := cmd.Flags().GetString("ticket-cc")
			agreementCC, _ := cmd.Flags().GetString("agreement-cc")
			l, err := connectTickets(cmd, "client")
			if err != nil {
				return err
			}
			defer l.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			raw, doc, orgs, err := slaDocument(ctx, cmd, l, agreementCC, args[0], slaFile)
			if err != nil {
				return err
			}
			if err := checkSeverity(doc, severity); err != nil {
				return err
			}
			txID, err := l.Submit(ctx, cc, "CreateTicket", []string{args[0], args[1]}, map[string][]byte{transientSLA: raw, transientInput: in}, orgs)
			if err != nil {
				return explain(cc+".CreateTicket", err)
			}
			res := &transitionResult{SLAID: args[0], TicketID: args[1], Action: "CreateTicket", EndorsedBy: orgs, TxID: txID}
			if v, err := getTicket(ctx, l, cc, args[0], args[1], 0); err == nil {
				res.Status, res.Seq, res.view = v.Record.Status, v.Ticket.Seq, v
			}
			return writeTransition(cmd, "created", res)
		},
	}
	cmd.Flags().StringVar(&severity, "severity", "", "severity, one of the SLA's support severities (required)")
	cmd.Flags().StringVar(&kind, "type", "", "ticket type, one line of at most 64 bytes (required)")
	cmd.Flags().StringVar(&description, "description", "", "description, at most 4096 bytes (required; private to the ticket's organizations)")
	cmd.Flags().StringVar(&slaFile, "sla-file", "", "the SLA document (- for standard input); default: the caller's organization's copy (GetSLA)")
	agreementCCFlag(cmd)
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketAssignCommand() *cobra.Command {
	var vendor, note string
	var explicit identity.ID
	cmd := &cobra.Command{
		Use:   "assign SLA TICKET (--vendor NAME | --vendor-msp MSP --vendor-subject DN --vendor-issuer DN) [--note TEXT]",
		Short: "Assign an open ticket to a vendor as the provider (AssignVendor)",
		Long: "Names the vendor that works the ticket: --vendor NAME, an identity of the local network's run\n" +
			"folder (e.g. vendor), or its MSP ID, certificate subject DN and issuer DN (see slasa identity).\n" +
			"The vendor's organization must run a peer and must not be the customer's; it joins the ticket's\n" +
			"organizations, holds the record from now on and endorses this and every later transition.\n" +
			"Only the ticket's provider may assign (default --as provider)." + "\n" + transitionLong,
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			if err := checkAssignInput(vendor, explicit, note); err != nil {
				return err
			}
			return runTransition(cmd, "provider", "assigned", args[0], args[1], func(_ context.Context, l ticketLedger) (ticketTx, error) {
				return assignTx(l.Network(), vendor, explicit, note)
			})
		},
	}
	cmd.Flags().StringVar(&vendor, "vendor", "", "the vendor: an identity name of the local network (e.g. vendor)")
	cmd.Flags().StringVar(&explicit.MSPID, "vendor-msp", "", "the vendor's MSP ID (with --vendor-subject and --vendor-issuer)")
	cmd.Flags().StringVar(&explicit.Subject, "vendor-subject", "", "the vendor's certificate subject DN (as slasa identity prints it)")
	cmd.Flags().StringVar(&explicit.Issuer, "vendor-issuer", "", "the vendor's certificate issuer DN (as slasa identity prints it)")
	cmd.Flags().StringVar(&note, "note", "", "note recorded in the ticket's timeline (optional, at most 1024 bytes)")
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketUpdateCommand() *cobra.Command {
	var reason, vendorTicket string
	cmd := &cobra.Command{
		Use:   "update SLA TICKET --reason TEXT [--vendor-ticket-id ID]",
		Short: "Record the vendor's progress on an acknowledged or in-progress ticket (UpdateTicket)",
		Long: "Status in_progress. --reason (required, at most 1024 bytes) goes into the timeline; --vendor-ticket-id\n" +
			"(one line, at most 128 bytes) records the vendor's own reference, replacing an earlier one. Only the\n" +
			"assigned vendor may update (default --as vendor)." + "\n" + transitionLong,
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			tx, err := updateTx(reason, vendorTicket)
			if err != nil {
				return err
			}
			return runTransition(cmd, "vendor", "updated", args[0], args[1], func(context.Context, ticketLedger) (ticketTx, error) {
				return tx, nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "what was done (required, at most 1024 bytes)")
	cmd.Flags().StringVar(&vendorTicket, "vendor-ticket-id", "", "the vendor's own ticket id (optional, one line, at most 128 bytes)")
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketPauseCommand() *cobra.Command {
	var status, reason string
	cmd := &cobra.Command{
		Use:   "pause SLA TICKET --status S --reason TEXT",
		Short: "Stop a ticket's clocks in one of the SLA's pause statuses (PauseTicket)",
		Long: "The provider or the vendor pauses a ticket while it waits on the customer, the customer when it\n" +
			"asks for a hold. --status is one of the SLA's pause statuses (checked against the ticket's terms\n" +
			"before anything is submitted), --reason (required, at most 1024 bytes) goes into the timeline.\n" +
			"The deadlines of the running targets are unknown until the pause ends (slasa ticket resume).\n" +
			"Default --as vendor." + "\n" + transitionLong,
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			tx, err := pauseTx(args[0], status, reason)
			if err != nil {
				return err
			}
			return runTransition(cmd, "vendor", "paused", args[0], args[1], func(context.Context, ticketLedger) (ticketTx, error) {
				return tx, nil
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "the pause status, one of the SLA's (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the ticket waits (required, at most 1024 bytes)")
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketSeverityCommand() *cobra.Command {
	var severity, reason, slaFile string
	cmd := &cobra.Command{
		Use:   "severity SLA TICKET --severity S --reason TEXT [--sla-file FILE]",
		Short: "Give a ticket another severity of its SLA, with that severity's targets (ChangeSeverity)",
		Long: "Targets without an outcome take the new severity's target and calendar; the time counted so far\n" +
			"is kept or restarted as the SLA's severity_change says, and their escalation levels start again.\n" +
			"The SLA document goes with it (\"sla\"): from --sla-file, else the caller's organization's copy\n" +
			"(GetSLA). The customer or the provider may change it (default --as client), on a ticket that is not\n" +
			"resolved or closed." + "\n" + transitionLong,
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			if err := checkSeverityInput(severity, reason); err != nil {
				return err
			}
			agreementCC, _ := cmd.Flags().GetString("agreement-cc")
			return runTransition(cmd, "client", "severity changed", args[0], args[1], func(ctx context.Context, l ticketLedger) (ticketTx, error) {
				raw, doc, _, err := slaDocument(ctx, cmd, l, agreementCC, args[0], slaFile)
				if err != nil {
					return ticketTx{}, err
				}
				return severityTx(args[0], args[1], raw, doc, severity, reason)
			})
		},
	}
	cmd.Flags().StringVar(&severity, "severity", "", "the new severity, one of the SLA's (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required, at most 1024 bytes)")
	cmd.Flags().StringVar(&slaFile, "sla-file", "", "the SLA document (- for standard input); default: the caller's organization's copy (GetSLA)")
	agreementCCFlag(cmd)
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketEscalateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "escalate SLA TICKET LEVEL",
		Short: "Record escalation level LEVEL of the ticket's running target (Escalate)",
		Long: "LEVEL (1..5) must be the running target's last recorded level plus one, and the target's counted\n" +
			"time must have reached the level's share of the target (the SLA's escalation at_bps); the chaincode\n" +
			"checks both at the transaction's time and records the level once, with whom to notify. The\n" +
			"customer, the provider or the vendor may escalate (default --as provider)." + "\n" + transitionLong,
		Args: exactArgs(3, "SLA TICKET LEVEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			tx, err := escalateTx(args[0], "LEVEL", args[2])
			if err != nil {
				return err
			}
			return runTransition(cmd, "provider", "escalated", args[0], args[1], func(context.Context, ticketLedger) (ticketTx, error) {
				return tx, nil
			})
		},
	}
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show SLA TICKET",
		Short: "Show a ticket: status, severity, assignee, each target's deadline, time left and outcome (GetTicket)",
		Long: "Reads the ticket on a peer of the caller's organization (only the ticket's organizations hold it)\n" +
			"and prints its status, severity, parties, the running target's clock at the query's time, whether\n" +
			"a target is breached and the penalty owed, then per target (acceptance: time to acknowledge,\n" +
			"closure: time to resolve) its limit, calendar, deadline, time left (\"paused\" while paused),\n" +
			"outcome with its margin, escalation level and penalty. --json prints the chaincode's answer.\n" +
			"Default --as client.",
		Args: exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			cc, _ := cmd.Flags().GetString("ticket-cc")
			l, err := connectTickets(cmd, "client")
			if err != nil {
				return err
			}
			defer l.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			v, err := getTicket(ctx, l, cc, args[0], args[1], 0)
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), []byte(v.raw))
			}
			return writeTicket(cmd.OutOrStdout(), v)
		},
	}
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketListCommand() *cobra.Command {
	var status string
	var breached bool
	var pageSize int
	cmd := &cobra.Command{
		Use:   "list SLA [--status S] [--breached] [--page-size N]",
		Short: "List the tickets of an SLA that the caller's organization holds, every page (ListTickets)",
		Long: "Reads every page of ListTickets on a peer of the caller's organization: the tickets of the SLA\n" +
			"in its collection, in ticket id order. --status keeps one status, --breached the tickets with a\n" +
			"target breached or past its deadline. One row per ticket: status, severity, assignee, each\n" +
			"target's outcome or deadline, the running target's time left, the last escalation and the\n" +
			"penalty owed. --json prints the chaincode's records as one list. Default --as client.",
		Args: exactArgs(1, "SLA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(args[0]) == "" {
				return usageError{errors.New("SLA: the SLA id must not be empty")}
			}
			if status != "" && !ticketStatusPattern.MatchString(status) {
				return usageError{fmt.Errorf("--status: %q is not a ticket status (lower-case letters, digits and '_')", status)}
			}
			if pageSize < 1 || pageSize > maxTicketPageSize {
				return usageError{fmt.Errorf("--page-size: %d is not within 1..%d", pageSize, maxTicketPageSize)}
			}
			cc, _ := cmd.Flags().GetString("ticket-cc")
			l, err := connectTickets(cmd, "client")
			if err != nil {
				return err
			}
			defer l.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			filter := ""
			if breached {
				filter = "true"
			}
			var raws []json.RawMessage
			var views []*ticketView
			seen := map[string]bool{}
			bookmark := ""
			for {
				page, err := listTicketPage(ctx, l, cc, args[0], status, filter, pageSize, bookmark)
				if err != nil {
					return err
				}
				raws, views = append(raws, page.raws...), append(views, page.views...)
				if page.bookmark == "" {
					break
				}
				if seen[page.bookmark] {
					return fmt.Errorf("%s.ListTickets: the bookmark %q came back twice", cc, page.bookmark)
				}
				seen[page.bookmark], bookmark = true, page.bookmark
			}
			if jsonFlag(cmd) {
				if raws == nil {
					raws = []json.RawMessage{}
				}
				return writeJSON(cmd.OutOrStdout(), raws)
			}
			return writeTicketList(cmd.OutOrStdout(), views)
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only tickets in this status")
	cmd.Flags().BoolVar(&breached, "breached", false, "only tickets with a target breached or past its deadline")
	cmd.Flags().IntVar(&pageSize, "page-size", 50, "tickets per ListTickets page (1..100); every page is read")
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketHistoryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history SLA TICKET",
		Short: "A ticket's timeline: every transition, oldest first, with who made it and its note (GetTicketHistory)",
		Long:  "Read on a peer of the caller's organization, like show. --json prints the chaincode's answer. Default --as client.",
		Args:  exactArgs(2, "SLA TICKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTicketArgs(args[0], args[1]); err != nil {
				return err
			}
			cc, _ := cmd.Flags().GetString("ticket-cc")
			l, err := connectTickets(cmd, "client")
			if err != nil {
				return err
			}
			defer l.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			out, err := l.Evaluate(ctx, cc, "GetTicketHistory", args[0], args[1])
			if err != nil {
				return explain(cc+".GetTicketHistory", err)
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var timeline []ticketTransition
			if err := json.Unmarshal(out, &timeline); err != nil {
				return fmt.Errorf("%s.GetTicketHistory: decode: %w", cc, err)
			}
			return writeTicketHistory(cmd.OutOrStdout(), timeline)
		},
	}
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTicketWatchCommand() *cobra.Command {
	var slaID string
	var start int64
	var max int
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "watch [--sla SLA] [--start-block N] [--max N] [--for D]",
		Short: "Print the live ticket events, each with the caller's view of the ticket, one line each",
		Long: "Follows the ticket chaincode's events (fabric-gateway ChaincodeEvents), which carry only the SLA id,\n" +
			"the ticket id and the transition's number, and reads each ticket with GetTicket on a peer of the\n" +
			"caller's organization: status, severity, assignee, the running target's time left, the outcomes,\n" +
			"the last escalation level with whom it notifies, the penalty owed. A ticket the caller's\n" +
			"organization does not hold is printed with the reason it could not be read. Runs from\n" +
			"--start-block (default: new events only) until interrupted, --max events or --for elapses. --json\n" +
			"prints one JSON object per event. Default --as client.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if max < 0 {
				return usageError{fmt.Errorf("--max: %d is negative", max)}
			}
			if duration < 0 {
				return usageError{fmt.Errorf("--for: %s is negative", duration)}
			}
			cc, _ := cmd.Flags().GetString("ticket-cc")
			l, err := connectTickets(cmd, "client")
			if err != nil {
				return err
			}
			defer l.Close()
			base := cmd.Context()
			if base == nil {
				base = context.Background()
			}
			ctx, stop := signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			return watchTickets(ctx, cmd, l, cc, slaID, start, max)
		},
	}
	cmd.Flags().StringVar(&slaID, "sla", "", "only the tickets of this SLA")
	cmd.Flags().Int64Var(&start, "start-block", -1, "first block to read events from (default: new events only)")
	cmd.Flags().IntVar(&max, "max", 0, "stop after this many events (0: no limit)")
	cmd.Flags().DurationVar(&duration, "for", 0, "stop after this long (0: until interrupted)")
	ticketCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// watchTickets prints the ticket events of cc (of slaID only, when set)
// until ctx ends or max events (0: no limit) are printed.
func watchTickets(ctx context.Context, cmd *cobra.Command, l ticketLedger, cc, slaID string, start int64, max int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := l.Events(ctx, cc, start)
	if err != nil {
		return explain("events of "+cc, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "watching %s events (Ctrl-C to stop)\n", cc)
	out := cmd.OutOrStdout()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("the event stream of %s ended (peer gone?)", cc)
			}
			var p ticketEvent
			if err := json.Unmarshal(ev.Payload, &p); err != nil || p.SLAID == "" || p.TicketID == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "block %d: event %s without a ticket payload: %q\n", ev.BlockNumber, ev.EventName, ev.Payload)
				continue
			}
			if slaID != "" && p.SLAID != slaID {
				continue
			}
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			v, readErr := getTicket(rctx, l, cc, p.SLAID, p.TicketID, 0)
			rcancel()
			if ctx.Err() != nil {
				return nil
			}
			if jsonFlag(cmd) {
				if err := json.NewEncoder(out).Encode(watchJSON(ev, p, v, readErr)); err != nil {
					return err
				}
			} else if _, err := fmt.Fprintln(out, watchLine(ev, p, v, readErr)); err != nil {
				return err
			}
			n++
			if max > 0 && n >= max {
				return nil
			}
		}
	}
}
