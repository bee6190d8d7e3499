package cli

// slasa verdict show SLA PERIOD: the enclave's verdict and detailed report of
// a period, decrypted for a party; slasa watch: live chaincode events.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/driver"
	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/verdict"
	"github.com/spf13/cobra"
)

// verdictReport is what `verdict show --json` prints.
type verdictReport struct {
	Verdict  *verdict.Signed `json:"verdict"`
	Report   *driver.Outcome `json:"report"`
	Verified string          `json:"verified"`
	// Pinned is the SLA's pinned enclave, which signed the verdict.
	Pinned *enclavePin     `json:"pinned_enclave,omitempty"`
	Escrow json.RawMessage `json:"escrow,omitempty"`
}

func addVerdictCommands(root *cobra.Command) {
	subcommand(root, "verdict", "Enclave verdicts settled by the refund chaincode").AddCommand(newVerdictShowCommand())
	root.AddCommand(newWatchCommand())
}

func newVerdictShowCommand() *cobra.Command {
	var enclaveCC, registry, refundCC, agreementCC string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "show SLA PERIOD [--wait 5m]",
		Short: "The enclave's verdict and detailed report of a billing period, decrypted for a party",
		Long: "Asks the SLA enclave (through the FPC client: requests and results encrypted, the enclave's\n" +
			"signature checked against the enclave registry) for the evaluation of PERIOD (its RFC 3339\n" +
			"start): the frozen verdict once a monitor has evaluated it, else a fresh evaluation of the\n" +
			"complete period (every batch up to the one whose window ends at the period end). Only the SLA's\n" +
			"provider and client may ask (default --as client). The verdict must come from the enclave the SLA\n" +
			"pinned (agreement GetSLA: enclave), its signature is verified with that enclave's key from the\n" +
			"registry (QueryEnclaveByID) and the report against its digest; the verdict names the period's last\n" +
			"log batch (batch_seq, batch_cid), whose anchor the refund chaincode checks. The period's escrow on\n" +
			"the refund chaincode is shown with it. --wait D retries (showing progress on standard error) until\n" +
			"the verdict exists and the escrow is settled, at most D.",
		Args: exactArgs(2, "SLA PERIOD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := withTimeout(cmd)
			if wait > 0 {
				cancel()
				ctx, cancel = context.WithTimeout(cmd.Context(), wait)
			}
			defer cancel()
			fc := fpcclient.New(s.Network, enclaveCC, fpcclient.WithRegistry(registry))
			var rep *verdictReport
			started, lastNote, prevNote := time.Now(), time.Time{}, ""
			for {
				rep, err = fetchVerdict(ctx, s, fc, verdictChaincodes{enclave: enclaveCC, registry: registry, refund: refundCC, agreement: agreementCC}, args[0], args[1])
				note := ""
				switch {
				case err != nil && wait == 0:
					return err
				case err != nil:
					note = err.Error()
				case wait > 0 && escrowStatus(rep.Escrow) != "SETTLED":
					note = "verdict ready, escrow " + orDash(escrowStatus(rep.Escrow)) + ": waiting for a monitor to settle it"
				}
				if note == "" {
					break
				}
				if ctx.Err() != nil {
					if prevNote != "" {
						note = prevNote
					}
					return fmt.Errorf("verdict show --wait: period %s of %s not settled within %s (last: %s)", args[1], args[0], wait, note)
				}
				prevNote = note
				if time.Since(lastNote) >= 10*time.Second {
					fmt.Fprintf(cmd.ErrOrStderr(), "[%3ds] waiting: %s\n", int(time.Since(started).Seconds()), note)
					lastNote = time.Now()
				}
				select {
				case <-ctx.Done():
				case <-time.After(3 * time.Second):
				}
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			return writeVerdict(cmd.OutOrStdout(), rep)
		},
	}
	cmd.Flags().StringVar(&enclaveCC, "enclave-cc", defaultEnclaveCC, "SLA enclave chaincode name")
	cmd.Flags().StringVar(&registry, "registry-cc", fpcclient.DefaultRegistry, "enclave registry chaincode name")
	cmd.Flags().StringVar(&refundCC, "refund-cc", defaultRefundCC, "refund chaincode name")
	cmd.Flags().StringVar(&agreementCC, "agreement-cc", defaultAgreementCC, "agreement chaincode name")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait (with progress) until the verdict exists and the period is settled, at most this long")
	addJSONFlag(cmd)
	return cmd
}

// verdictChaincodes names the chaincodes verdict show reads.
type verdictChaincodes struct{ enclave, registry, refund, agreement string }

// fetchVerdict asks the enclave for the evaluation of (id, period), checks
// the report digest, that the verdict comes from the SLA's pinned enclave
// and its signature with that enclave's registered key, and adds the
// period's escrow.
func fetchVerdict(ctx context.Context, s *session, fc *fpcclient.Client, cc verdictChaincodes, id, period string) (*verdictReport, error) {
	out, err := fc.Query(ctx, "Evaluate", id, period)
	if err != nil {
		return nil, explain(cc.enclave+".Evaluate", err)
	}
	rep, err := decodeEvaluation(out)
	if err != nil {
		return nil, err
	}
	raw, err := evaluateGetSLA(ctx, s, cc.agreement, id)
	if err != nil {
		return nil, explain(cc.agreement+".GetSLA", err)
	}
	var a agreementRecord
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("%s.GetSLA: decode: %w", cc.agreement, err)
	}
	v := rep.Verdict.Verdict
	if err := checkPinned(&v, a.Enclave); err != nil {
		return nil, err
	}
	raw, err = s.Network.GetContract(cc.registry).EvaluateWithContext(ctx, "QueryEnclaveByID", clientArgs(v.Chaincode, v.EnclaveID)...)
	if err != nil {
		return nil, explain(cc.registry+".QueryEnclaveByID", err)
	}
	var rec credentials.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("%s.QueryEnclaveByID: decode: %w", cc.registry, err)
	}
	if rec.Chaincode != v.Chaincode || rec.EnclaveID != v.EnclaveID {
		return nil, fmt.Errorf("the registry answered with enclave %s of %s, not %s of %s", rec.EnclaveID, rec.Chaincode, v.EnclaveID, v.Chaincode)
	}
	vk, err := rec.VerifyingKey()
	if err != nil {
		return nil, fmt.Errorf("enclave registry record: %w", err)
	}
	if err := verdict.Verify(rep.Verdict, vk); err != nil {
		return nil, fmt.Errorf("the verdict's enclave signature does NOT verify with the key of the SLA's pinned enclave %s: %w", v.EnclaveID, err)
	}
	rep.Verified += "; enclave signature valid (the SLA's pinned enclave " + short(rec.EnclaveID) + ")"
	rep.Pinned = a.Enclave
	if e, err := s.Network.GetContract(cc.refund).EvaluateWithContext(ctx, "GetEscrow", clientArgs(id, v.Period)...); err == nil {
		rep.Escrow = e
	}
	return rep, nil
}

// checkPinned fails unless the verdict names the SLA's pinned enclave
// (chaincode and enclave id): the refund chaincode pays no other.
func checkPinned(v *verdict.Verdict, pin *enclavePin) error {
	if pin == nil || pin.EnclaveID == "" {
		return fmt.Errorf("SLA %s has no pinned enclave: it was never accepted", v.SLAID)
	}
	if v.Chaincode != pin.Chaincode || v.EnclaveID != pin.EnclaveID {
		return fmt.Errorf("the verdict of period %s was signed by enclave %s of %s, not by the SLA's pinned enclave %s of %s: the refund chaincode does not pay it (a handover needs both parties: slasa sla handover)",
			v.Period, v.EnclaveID, v.Chaincode, pin.EnclaveID, pin.Chaincode)
	}
	return nil
}

// escrowStatus is the status of an escrow document ("" when unknown).
func escrowStatus(raw json.RawMessage) string {
	var e struct {
		Status string `json:"status"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil {
		return ""
	}
	return e.Status
}

// decodeEvaluation decodes the enclave's Evaluate result and checks the
// report against the verdict's report digest: HMAC-SHA256 under the SLA's
// report key, which the enclave returned with it.
func decodeEvaluation(out []byte) (*verdictReport, error) {
	ev, err := enclaveapi.ParseEvaluation(out)
	if err != nil {
		return nil, err
	}
	sv, err := ev.Check()
	if err != nil {
		return nil, err
	}
	o, err := driver.ParseOutcome(ev.Report)
	if err != nil {
		return nil, fmt.Errorf("evaluation: report: %w", err)
	}
	return &verdictReport{Verdict: sv, Report: o, Verified: "report matches the verdict's report digest (HMAC-SHA256 under the SLA's report key)"}, nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// writeVerdict prints a verdict and its report for humans.
func writeVerdict(w io.Writer, r *verdictReport) error {
	v := r.Verdict.Verdict
	o := r.Report
	outcome := "objectives met, no credit"
	if v.Violated {
		outcome = "VIOLATED: credit " + bps(v.CreditBPS) + " of the fee = " + money(v.CreditAmount, v.Currency)
	}
	fields := [][2]string{{"SLA", v.SLAID}, {"period", v.Period + " .. " + v.PeriodEnd}, {"outcome", outcome}}
	if v.PenaltyAmount > 0 {
		fields = append(fields, [2]string{"penalty", money(v.PenaltyAmount, v.Currency)})
	}
	if v.Terminate {
		fields = append(fields, [2]string{"terminate", "yes: a termination threshold was crossed"})
	}
	fields = append(fields, [2]string{"enclave", v.EnclaveID + " of " + v.Chaincode},
		[2]string{"last batch", fmt.Sprintf("seq %d, CID %s (its window ends at the period end)", v.BatchSeq, v.BatchCID)})
	fields = append(fields, [2]string{"samples", fmt.Sprintf("%d read, %d accepted, %d duplicate, %d outside the period",
		o.Samples.Read, o.Samples.Accepted, o.Samples.Duplicate, o.Samples.OutsidePeriod)})
	fields = append(fields, [2]string{"verified", r.Verified})
	if len(r.Escrow) > 0 {
		var e struct {
			Status     string `json:"status"`
			Amount     int64  `json:"amount"`
			Currency   string `json:"currency"`
			Settlement *struct {
				Credit        int64  `json:"credit"`
				Released      int64  `json:"released"`
				PenaltyOwed   int64  `json:"penalty_owed"`
				PenaltyPaid   int64  `json:"penalty_paid"`
				PenaltyUnpaid int64  `json:"penalty_unpaid"`
				TxID          string `json:"tx_id"`
			} `json:"settlement"`
		}
		if json.Unmarshal(r.Escrow, &e) == nil {
			line := e.Status + ", fee " + money(e.Amount, e.Currency)
			if st := e.Settlement; st != nil {
				line += fmt.Sprintf(": %s credited to the client, %s released to the provider", money(st.Credit, e.Currency), money(st.Released, e.Currency))
				if st.PenaltyOwed > 0 {
					line += fmt.Sprintf("; penalty %s paid from the collateral wallet, %s unpaid", money(st.PenaltyPaid, e.Currency), money(st.PenaltyUnpaid, e.Currency))
				}
				line += " (tx " + st.TxID + ")"
			}
			fields = append(fields, [2]string{"escrow", line})
		}
	}
	if err := writeFields(w, fields); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t := &table{header: []string{"METRIC", "VALUE", "OBJECTIVE", "MET", "CREDIT", "DETAILS"}}
	for _, m := range o.Metrics {
		val := m.Value + " " + m.Unit
		if m.NoData {
			val = "no data"
		}
		t.add(m.ID, val, m.Objective, yesNo(m.Met), bps(m.CreditBPS), detailsText(m.Details))
	}
	if o.Support == nil {
		return t.write(w)
	}
	for _, so := range o.Support.Objectives {
		val := so.ValueMS + " ms"
		if so.NoData {
			val = "no data"
		}
		t.add(so.ID, val, so.Objective+" ms", yesNo(so.Met), "-", fmt.Sprintf("%s tickets=%d", so.Measure, so.Tickets))
	}
	if err := t.write(w); err != nil {
		return err
	}
	sup := o.Support
	fmt.Fprintf(w, "\ntickets: %d targets counted, penalty %s, %d open at the period end (carried), %d ignored\n",
		len(sup.Tickets), money(sup.PenaltyAmount, o.Currency), sup.Open, sup.Ignored)
	if len(sup.Tickets) == 0 {
		return nil
	}
	tt := &table{header: []string{"TICKET", "SEVERITY", "TARGET", "RESULT", "ELAPSED MS", "MARGIN MS", "PENALTY", "AT"}}
	for _, to := range sup.Tickets {
		tt.add(to.Ticket, to.Severity, to.Target, to.Result, fmt.Sprint(to.ElapsedMS), fmt.Sprint(to.MarginMS), money(to.PenaltyMinor, o.Currency), to.At)
	}
	return tt.write(w)
}

// detailsText renders a metric's driver details as k=v pairs, sorted by key.
func detailsText(d any) string {
	raw, err := json.Marshal(d)
	if err != nil {
		return "-"
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// eventLine formats one chaincode event on one line.
func eventLine(ev *client.ChaincodeEvent) string {
	var p map[string]any
	detail := ""
	if json.Unmarshal(ev.Payload, &p) == nil {
		var parts []string
		for _, k := range []string{"sla_id", "seq", "period", "status", "amount", "violated", "credit_bps", "credit", "released", "cid",
			"approved_as", "enclave_id", "chaincode_sequence"} {
			if v, ok := p[k]; ok && v != "" {
				if id, ok := v.(string); ok && k == "enclave_id" {
					v = short(id)
				}
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		// The pinned enclave (SLASigned, EnclaveHandover) and who terminated (SLATerminated).
		if pin, ok := p["enclave"].(map[string]any); ok && p["enclave_id"] == nil {
			if id, ok := pin["enclave_id"].(string); ok && id != "" {
				parts = append(parts, "enclave="+short(id))
			}
		}
		if by, ok := p["by"].(map[string]any); ok && p["approved_as"] == nil {
			msp, _ := by["msp_id"].(string)
			cn, _ := by["common_name"].(string)
			parts = append(parts, "by="+msp+"/"+cn)
		}
		detail = strings.Join(parts, " ")
	}
	return fmt.Sprintf("block %d  %s.%s  %s  tx %s", ev.BlockNumber, ev.ChaincodeName, ev.EventName, detail, short(ev.TransactionID))
}

func newWatchCommand() *cobra.Command {
	var chaincodes []string
	var start int64
	var max int
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "watch [--chaincode agreement --chaincode refund] [--start-block N] [--max N] [--for D]",
		Short: "Print the live chaincode events of the agreement and refund chaincodes, one line each",
		Long: "Follows the chaincode events (fabric-gateway ChaincodeEvents) of the named chaincodes (default\n" +
			"agreement and refund) from --start-block (default: new events only) until interrupted, --max\n" +
			"events or --for elapses. --json prints one JSON object per event.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			ctx, cancelAll := context.WithCancel(ctx)
			defer cancelAll()
			events := make(chan *client.ChaincodeEvent)
			errs := make(chan error, len(chaincodes))
			var wg sync.WaitGroup
			for _, cc := range chaincodes {
				var opts []client.ChaincodeEventsOption
				if start >= 0 {
					opts = append(opts, client.WithStartBlock(uint64(start)))
				}
				ch, err := s.Network.ChaincodeEvents(ctx, cc, opts...)
				if err != nil {
					return explain("events of "+cc, err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ev := range ch {
						select {
						case events <- ev:
						case <-ctx.Done():
							return
						}
					}
					if ctx.Err() == nil {
						errs <- fmt.Errorf("the event stream of %s ended (peer gone?)", cc)
					}
				}()
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "watching %s events (Ctrl-C to stop)\n", strings.Join(chaincodes, ", "))
			n := 0
			out := cmd.OutOrStdout()
			for {
				select {
				case <-ctx.Done():
					cancelAll()
					wg.Wait()
					return nil
				case err := <-errs:
					return err
				case ev := <-events:
					n++
					if jsonFlag(cmd) {
						var payload any = json.RawMessage(ev.Payload)
						if !json.Valid(ev.Payload) {
							payload = string(ev.Payload)
						}
						_ = json.NewEncoder(out).Encode(map[string]any{"block": ev.BlockNumber, "tx_id": ev.TransactionID,
							"chaincode": ev.ChaincodeName, "event": ev.EventName, "payload": payload})
					} else {
						fmt.Fprintln(out, eventLine(ev))
					}
					if max > 0 && n >= max {
						cancelAll()
						wg.Wait()
						return nil
					}
				}
			}
		},
	}
	cmd.Flags().StringArrayVar(&chaincodes, "chaincode", []string{defaultAgreementCC, defaultRefundCC}, "chaincode whose events to follow (repeatable)")
	cmd.Flags().Int64Var(&start, "start-block", -1, "first block to read events from (default: new events only)")
	cmd.Flags().IntVar(&max, "max", 0, "stop after this many events (0: no limit)")
	cmd.Flags().DurationVar(&duration, "for", 0, "stop after this long (0: until interrupted)")
	addJSONFlag(cmd)
	return cmd
}
