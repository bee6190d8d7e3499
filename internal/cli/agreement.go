package cli

// SLA lifecycle commands on the agreement chaincode:
//
//	slasa sla propose FILE      provider: sign the digest, ProposeSLA
//	slasa sla accept ID         client: check and sign the stored digest, AcceptSLA (pays the first period)
//	slasa sla renew ID          client: RenewSLA (pays the next period)
//	slasa sla terminate ID      a party: TerminateSLA
//	slasa sla show ID           GetSLA
//	slasa sla list              ListSLAs of the caller
//	slasa sla history ID        GetSLAHistory
//	slasa sla verify ID         re-verify the signed record offline

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/slasa/slasa/fpc/setup"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/spf13/cobra"
)

// agreementParty is a party of the agreement's terms.
type agreementParty struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
	Wallet     string `json:"wallet,omitempty"`
}

func (p agreementParty) String() string {
	if p.MSPID == "" {
		return "-"
	}
	return p.MSPID + "/" + p.CommonName
}

// agreementRecord is the agreement chaincode's Agreement (the fields the CLI
// shows; --json prints the chaincode's document unchanged).
type agreementRecord struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Digest string `json:"digest"`
	Terms  struct {
		Provider      agreementParty `json:"provider"`
		Client        agreementParty `json:"client"`
		Logger        agreementParty `json:"logger"`
		ProductID     string         `json:"product_id"`
		PriceMinor    int64          `json:"price_minor"`
		Currency      string         `json:"currency"`
		ValidityStart string         `json:"validity_start"`
		ValidityEnd   string         `json:"validity_end"`
	} `json:"terms"`
	Signed       json.RawMessage `json:"signed"`
	ProposedAt   string          `json:"proposed_at"`
	AcceptedAt   string          `json:"accepted_at"`
	LastPeriod   string          `json:"last_period"`
	PaidThrough  string          `json:"paid_through"`
	PaidPeriods  int64           `json:"paid_periods"`
	TerminatedAt string          `json:"terminated_at"`
	TerminatedBy string          `json:"terminated_by"`
	Reason       string          `json:"reason"`
	EndsAt       string          `json:"ends_at"`
}

func agreementCCFlag(cmd *cobra.Command) *string {
	var name string
	cmd.Flags().StringVar(&name, "agreement-cc", defaultAgreementCC, "agreement chaincode name")
	return &name
}

// addAgreementCommands adds the lifecycle commands under the sla command.
func addAgreementCommands(root *cobra.Command) {
	s := subcommand(root, "sla", "Work with Parametric SLA documents")
	s.AddCommand(newProposeCommand(), newAcceptCommand(), newRenewCommand(), newTerminateCommand(),
		newShowCommand(), newListCommand(), newHistoryCommand(), newVerifyCommand())
}

// fetchAgreement reads an SLA; a missing SLA is retried for up to wait
// (a write committed through the other organization's peer may not have
// reached this one yet).
func fetchAgreement(cmd *cobra.Command, s *session, cc, id string, wait time.Duration) ([]byte, *agreementRecord, error) {
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	deadline := time.Now().Add(wait)
	for {
		out, err := s.Network.GetContract(cc).EvaluateWithContext(ctx, "GetSLA", clientArgs(id)...)
		if err != nil {
			if strings.Contains(explainText("", err), "does not exist") && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			return nil, nil, explain(cc+".GetSLA", err)
		}
		var a agreementRecord
		if err := json.Unmarshal(out, &a); err != nil {
			return nil, nil, fmt.Errorf("%s.GetSLA: decode: %w", cc, err)
		}
		return out, &a, nil
	}
}

func newProposeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "propose FILE",
		Short: "Propose an SLA as its provider: validate, compute the digest, sign it, ProposeSLA",
		Long: "Validates the SLA document FILE (- for standard input), computes its canonical digest, signs it\n" +
			"with the caller's private key and submits ProposeSLA. The caller must be the SLA's provider\n" +
			"(default --as provider). The SLA gets status PROPOSED.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			data, err := readInput(cmd, args[0])
			if err != nil {
				return fmt.Errorf("read SLA: %w", err)
			}
			digest, doc, err := sla.DigestOf(data)
			if err != nil {
				return describeInvalid(args[0], err)
			}
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			if doc.Parties.Provider.MSPID != s.MSPID || doc.Parties.Provider.CommonName != s.CN {
				return fmt.Errorf("sla propose: the SLA's provider is %s/%s, you are %s/%s", doc.Parties.Provider.MSPID, doc.Parties.Provider.CommonName, s.MSPID, s.CN)
			}
			key, err := s.Key()
			if err != nil {
				return err
			}
			sig, err := signedsla.Sign(digest, key)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			_, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, "ProposeSLA", clientArgs(string(data), base64.StdEncoding.EncodeToString(sig))...)
			if err == nil {
				err = waitCommit(ctx, commit)
			}
			if err != nil {
				return explain(cc+".ProposeSLA", err)
			}
			res := map[string]string{"id": doc.ID, "status": "PROPOSED", "digest": hex.EncodeToString(digest[:]), "tx_id": commit.TransactionID()}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"proposed", doc.ID}, {"digest", res["digest"]}, {"tx", res["tx_id"]},
				{"next", "the client accepts with: slasa sla accept " + doc.ID + " --as client"}})
		},
	}
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newAcceptCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accept ID",
		Short: "Accept a proposed SLA as its client: check and sign its digest, AcceptSLA (pays the first period)",
		Long: "Reads the proposed SLA, recomputes the digest of the stored document and checks it against the\n" +
			"recorded one and the provider's signature, signs it with the caller's key and submits AcceptSLA.\n" +
			"The first period's fee moves from the client's wallet into escrow. Default --as client.",
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			_, a, err := fetchAgreement(cmd, s, cc, args[0], 15*time.Second)
			if err != nil {
				return err
			}
			rec, err := signedsla.Parse(a.Signed)
			if err != nil {
				return fmt.Errorf("SLA %s: signed record: %w", args[0], err)
			}
			digest, doc, err := sla.DigestOf(rec.Document)
			if err != nil {
				return describeInvalid("SLA "+args[0], err)
			}
			if hex.EncodeToString(digest[:]) != a.Digest {
				return fmt.Errorf("SLA %s: the stored document's digest %x differs from the recorded digest %s: not signing", args[0], digest, a.Digest)
			}
			if doc.Parties.Client.MSPID != s.MSPID || doc.Parties.Client.CommonName != s.CN {
				return fmt.Errorf("sla accept: the SLA's client is %s/%s, you are %s/%s", doc.Parties.Client.MSPID, doc.Parties.Client.CommonName, s.MSPID, s.CN)
			}
			if cert, err := signedsla.ParseCertificatePEM([]byte(rec.Provider.Certificate)); err != nil {
				return fmt.Errorf("SLA %s: provider certificate: %w", args[0], err)
			} else if err := signedsla.VerifyDigest(cert, digest[:], rec.Provider.Signature); err != nil {
				return fmt.Errorf("SLA %s: the provider's signature does not verify: %w", args[0], err)
			}
			key, err := s.Key()
			if err != nil {
				return err
			}
			sig, err := signedsla.Sign(digest, key)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			_, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, "AcceptSLA", clientArgs(args[0], a.Digest, base64.StdEncoding.EncodeToString(sig))...)
			if err == nil {
				err = waitCommit(ctx, commit)
			}
			if err != nil {
				return explain(cc+".AcceptSLA", err)
			}
			res := map[string]string{"id": args[0], "status": "ACTIVE", "digest": a.Digest, "tx_id": commit.TransactionID()}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"accepted", args[0]}, {"digest", a.Digest},
				{"fee", money(a.Terms.PriceMinor, a.Terms.Currency) + " per period, first period paid into escrow"}, {"tx", res["tx_id"]}})
		},
	}
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// submitSimple submits fn(args) and prints the transaction id.
func submitSimple(cmd *cobra.Command, s *session, cc, fn, done string, args ...string) error {
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	_, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, fn, clientArgs(args...)...)
	if err == nil {
		err = waitCommit(ctx, commit)
	}
	if err != nil {
		return explain(cc+"."+fn, err)
	}
	if jsonFlag(cmd) {
		return writeJSON(cmd.OutOrStdout(), map[string]string{"tx_id": commit.TransactionID()})
	}
	return writeFields(cmd.OutOrStdout(), [][2]string{{done, strings.Join(args, " ")}, {"tx", commit.TransactionID()}})
}

func newRenewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "renew ID",
		Short: "Pay the next billing period of an active SLA (client; RenewSLA)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "RenewSLA", "renewed", args[0])
		},
	}
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newTerminateCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "terminate ID [--reason TEXT]",
		Short: "Withdraw a proposed SLA or terminate an active one at the end of its paid term (a party; TerminateSLA)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "TerminateSLA", "terminated", args[0], reason)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "reason recorded with the termination")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an SLA's agreement record (GetSLA; readable by the parties' organizations)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			raw, a, err := fetchAgreement(cmd, s, cc, args[0], 0)
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), raw)
			}
			return writeFields(cmd.OutOrStdout(), agreementFields(a))
		},
	}
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// agreementFields are the lines of `sla show`.
func agreementFields(a *agreementRecord) [][2]string {
	f := [][2]string{
		{"id", a.ID}, {"status", a.Status}, {"digest", a.Digest},
		{"provider", a.Terms.Provider.String()}, {"client", a.Terms.Client.String()}, {"logger", a.Terms.Logger.String()},
		{"product", a.Terms.ProductID}, {"fee", money(a.Terms.PriceMinor, a.Terms.Currency) + " per period"},
		{"validity", a.Terms.ValidityStart + " .. " + a.Terms.ValidityEnd},
		{"proposed at", a.ProposedAt}, {"accepted at", orDash(a.AcceptedAt)},
		{"paid periods", strconv.FormatInt(a.PaidPeriods, 10)}, {"paid through", orDash(a.PaidThrough)},
	}
	if a.TerminatedAt != "" {
		f = append(f, [2]string{"terminated", a.TerminatedAt + " by " + a.TerminatedBy + " (" + a.Reason + "), ends " + orDash(a.EndsAt)})
	}
	return f
}

func newListCommand() *cobra.Command {
	var role string
	var pageSize int
	var bookmark string
	var wholeOrg bool
	cmd := &cobra.Command{
		Use:   "list [--role provider|client] [--page-size N --bookmark B]",
		Short: "List the SLAs in which the caller is provider or client (ListSLAs, one page)",
		Long: "Lists one page of the caller's SLAs in the given role (default: client for --as client, else\n" +
			"provider). --org lists every identity of the caller's organization. When more pages remain the\n" +
			"bookmark of the next one is printed.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			if pageSize < 1 || pageSize > 100 {
				return usageError{fmt.Errorf("--page-size: %d is not within 1..100", pageSize)}
			}
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			if role == "" {
				role = "provider"
				if s.Identity == "client" {
					role = "client"
				}
			}
			if role != "provider" && role != "client" {
				return usageError{fmt.Errorf("--role: %q is not provider or client", role)}
			}
			cn := s.CN
			if wholeOrg {
				cn = ""
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			out, err := s.Network.GetContract(cc).EvaluateWithContext(ctx, "ListSLAs", clientArgs(role, s.MSPID, cn, strconv.Itoa(pageSize), bookmark)...)
			if err != nil {
				return explain(cc+".ListSLAs", err)
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var page struct {
				Records  []agreementRecord `json:"records"`
				Bookmark string            `json:"bookmark"`
			}
			if err := json.Unmarshal(out, &page); err != nil {
				return fmt.Errorf("%s.ListSLAs: decode: %w", cc, err)
			}
			return writeSLAList(cmd, page.Records, page.Bookmark, pageSize)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "provider or client (default from --as)")
	cmd.Flags().IntVar(&pageSize, "page-size", 20, "SLAs per page (1..100)")
	cmd.Flags().StringVar(&bookmark, "bookmark", "", "bookmark of the page to read (printed by the previous page)")
	cmd.Flags().BoolVar(&wholeOrg, "org", false, "every identity of the caller's organization, not only the caller")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func writeSLAList(cmd *cobra.Command, recs []agreementRecord, bookmark string, pageSize int) error {
	w := cmd.OutOrStdout()
	if len(recs) == 0 {
		fmt.Fprintln(w, "no SLAs")
		return nil
	}
	t := &table{header: []string{"ID", "STATUS", "PROVIDER", "CLIENT", "FEE", "PAID THROUGH"}}
	for _, a := range recs {
		t.add(a.ID, a.Status, a.Terms.Provider.CommonName, a.Terms.Client.CommonName, money(a.Terms.PriceMinor, a.Terms.Currency), orDash(a.PaidThrough))
	}
	if err := t.write(w); err != nil {
		return err
	}
	if bookmark != "" && len(recs) == pageSize {
		fmt.Fprintf(w, "more: --bookmark %s\n", bookmark)
	}
	return nil
}

func newHistoryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "Every committed version of an SLA's record, newest first (GetSLAHistory)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			out, err := s.Network.GetContract(cc).EvaluateWithContext(ctx, "GetSLAHistory", clientArgs(args[0])...)
			if err != nil {
				return explain(cc+".GetSLAHistory", err)
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var hist []struct {
				TxID      string           `json:"tx_id"`
				Timestamp string           `json:"timestamp"`
				IsDelete  bool             `json:"is_delete"`
				Record    *agreementRecord `json:"record"`
			}
			if err := json.Unmarshal(out, &hist); err != nil {
				return fmt.Errorf("%s.GetSLAHistory: decode: %w", cc, err)
			}
			t := &table{header: []string{"TIMESTAMP", "STATUS", "PAID PERIODS", "PAID THROUGH", "TX"}}
			for _, h := range hist {
				if h.IsDelete || h.Record == nil {
					t.add(h.Timestamp, "DELETED", "-", "-", h.TxID)
					continue
				}
				t.add(h.Timestamp, h.Record.Status, strconv.FormatInt(h.Record.PaidPeriods, 10), orDash(h.Record.PaidThrough), h.TxID)
			}
			return t.write(cmd.OutOrStdout())
		},
	}
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newVerifyCommand() *cobra.Command {
	var roots []string
	var noChain bool
	cmd := &cobra.Command{
		Use:   "verify ID [--root MSPID=CA.pem]...",
		Short: "Fetch an SLA's signed record and re-verify both signatures offline (signedsla)",
		Long: "Reads the SLA's Parametric SLA Signed record from the ledger and verifies it locally: the\n" +
			"document's canonical digest, the provider's and the client's signatures over it, and that the\n" +
			"certificates name the SLA's parties. The certificates are also chained to their MSP's root CAs:\n" +
			"those of the run folder's MSP folders, or the --root MSPID=FILE.pem given (repeatable);\n" +
			"--no-chain skips chaining.",
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			_, a, err := fetchAgreement(cmd, s, cc, args[0], 0)
			if err != nil {
				return err
			}
			rec, err := signedsla.Parse(a.Signed)
			if err != nil {
				return fmt.Errorf("SLA %s: signed record: %w", args[0], err)
			}
			if len(rec.Client.Signature) == 0 {
				return fmt.Errorf("SLA %s is %s: the client has not signed it yet", args[0], a.Status)
			}
			opts := signedsla.Options{}
			chained := "not chained (--no-chain)"
			if !noChain {
				pools, src, err := rootPools(s, roots)
				if err != nil {
					return err
				}
				opts.Roots = pools
				chained = "chained to " + src
			}
			doc, err := rec.Verify(opts)
			if err != nil {
				return fmt.Errorf("SLA %s: the signed record does NOT verify: %w", args[0], err)
			}
			if rec.Digest != a.Digest {
				return fmt.Errorf("SLA %s: the signed record's digest %s differs from the agreement's %s", args[0], rec.Digest, a.Digest)
			}
			res := map[string]any{"id": args[0], "valid": true, "digest": rec.Digest,
				"provider": rec.Provider.MSPID + "/" + doc.Parties.Provider.CommonName, "client": rec.Client.MSPID + "/" + doc.Parties.Client.CommonName, "certificates": chained}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"SLA", args[0]}, {"digest", rec.Digest + " (recomputed from the document)"},
				{"provider signature", "valid, " + res["provider"].(string)}, {"client signature", "valid, " + res["client"].(string)},
				{"certificates", chained}, {"result", "VALID"}})
		},
	}
	cmd.Flags().StringArrayVar(&roots, "root", nil, "MSPID=FILE.pem: a root CA of an MSP to chain the certificates to (repeatable)")
	cmd.Flags().BoolVar(&noChain, "no-chain", false, "do not chain the certificates to MSP roots")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// rootPools builds the MSP root pools from --root flags, or else from the run
// folder's MSP folders.
func rootPools(s *session, roots []string) (map[string]*x509.CertPool, string, error) {
	pools := map[string]*x509.CertPool{}
	add := func(msp, pemData string) error {
		if pools[msp] == nil {
			pools[msp] = x509.NewCertPool()
		}
		if !pools[msp].AppendCertsFromPEM([]byte(pemData)) {
			return fmt.Errorf("root CA of %s: no PEM certificate", msp)
		}
		return nil
	}
	if len(roots) > 0 {
		for _, r := range roots {
			msp, file, ok := strings.Cut(r, "=")
			if !ok || msp == "" || file == "" {
				return nil, "", usageError{fmt.Errorf("--root %q: want MSPID=FILE.pem", r)}
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, "", fmt.Errorf("--root: %w", err)
			}
			if err := add(msp, string(data)); err != nil {
				return nil, "", err
			}
		}
		return pools, "the --root CAs", nil
	}
	if s.Info == nil {
		return nil, "", usageError{errors.New("sla verify: give --root MSPID=CA.pem for each party's MSP, or --no-chain")}
	}
	msps, err := setup.ChannelMSPs(s.Info)
	if err != nil {
		return nil, "", err
	}
	for msp, cas := range msps {
		for _, c := range cas.Roots {
			if err := add(msp, c); err != nil {
				return nil, "", err
			}
		}
	}
	return pools, "the network's MSP root CAs", nil
}
