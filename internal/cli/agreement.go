package cli

// SLA lifecycle commands on the agreement chaincode:
//
//	slasa sla propose FILE      provider: sign the digest, ProposeSLA
//	slasa sla accept ID         client: check and sign the stored digest, AcceptSLA (pays the first period)
//	slasa sla renew ID          client: RenewSLA (pays the next period)
//	slasa sla terminate ID      a party: TerminateSLA
//	slasa sla handover ID ENC   a party: ApproveEnclaveHandover
//	slasa sla show ID           GetSLA
//	slasa sla list              ListSLAs of the caller
//	slasa sla history ID        GetSLAHistory
//	slasa sla verify ID         re-verify the signed record offline

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/fpc/setup"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/spf13/cobra"
)

// agreementParty is a party of the agreement's terms: MSP ID, common name,
// the certificate's subject and issuer DNs, wallet.
type agreementParty sla.Party

func (p agreementParty) String() string {
	if p.MSPID == "" {
		return "-"
	}
	return idText(identity.ID{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer}, p.CommonName)
}

// idText names an identity for humans: "MSP/common name (issuer CA common
// name)". cn is used when the subject carries no common name.
func idText(id identity.ID, cn string) string {
	if id.IsZero() {
		return "-"
	}
	if c := identity.CommonName(id.Subject); c != "" {
		cn = c
	}
	if cn == "" {
		cn = id.Subject
	}
	s := id.MSPID + "/" + cn
	if id.Issuer != "" {
		issuer := identity.CommonName(id.Issuer)
		if issuer == "" {
			issuer = id.Issuer
		}
		s += " (issuer " + issuer + ")"
	}
	return s
}

// enclavePin is the agreement's pinned enclave (agreement.EnclavePin).
type enclavePin struct {
	Chaincode         string `json:"chaincode"`
	EnclaveID         string `json:"enclave_id"`
	ChaincodeVersion  string `json:"chaincode_version"`
	ChaincodeSequence int64  `json:"chaincode_sequence"`
	AttestationType   string `json:"attestation_type"`
	ConfigDigest      string `json:"config_digest"`
	PinnedAt          string `json:"pinned_at"`
	PinnedTxID        string `json:"pinned_tx_id"`
}

// handoverState holds the parties' pending approvals (agreement.Handover).
type handoverState struct {
	ProviderApproves string `json:"provider_approves"`
	ClientApproves   string `json:"client_approves"`
}

// agreementRecord is the agreement chaincode's public Agreement record, and
// with GetSLA its Signed record too (agreement.SLAView): the fields the CLI
// shows; --json prints the chaincode's document unchanged.
type agreementRecord struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Digest  string `json:"digest"`
	Parties struct {
		Provider agreementParty `json:"provider"`
		Client   agreementParty `json:"client"`
		Logger   agreementParty `json:"logger"`
	} `json:"parties"`
	ValidityStart string `json:"validity_start"`
	ValidityEnd   string `json:"validity_end"`
	// Signed is the Parametric SLA Signed record, with the document from
	// the caller's organization's private copy (GetSLA only).
	Signed         json.RawMessage `json:"signed"`
	ProposedAt     string          `json:"proposed_at"`
	AcceptedAt     string          `json:"accepted_at"`
	LastPeriod     string          `json:"last_period"`
	PaidThrough    string          `json:"paid_through"`
	PaidPeriods    int64           `json:"paid_periods"`
	Enclave        *enclavePin     `json:"enclave"`
	EnclaveHistory []enclavePin    `json:"enclave_history"`
	Handover       *handoverState  `json:"handover"`
	TerminatedAt   string          `json:"terminated_at"`
	TerminatedBy   identity.ID     `json:"terminated_by"`
	TerminatedAs   string          `json:"terminated_as"`
	Reason         string          `json:"reason"`
	EndsAt         string          `json:"ends_at"`
}

// document parses the SLA document of the Signed record GetSLA returned.
func (a *agreementRecord) document() (*signedsla.Record, *sla.SLA, error) {
	if len(a.Signed) == 0 {
		return nil, nil, fmt.Errorf("SLA %s: the agreement chaincode returned no signed record", a.ID)
	}
	rec, err := signedsla.Parse(a.Signed)
	if err != nil {
		return nil, nil, fmt.Errorf("SLA %s: signed record: %w", a.ID, err)
	}
	doc, err := sla.Parse(rec.Document)
	if err != nil {
		return nil, nil, describeInvalid("SLA "+a.ID, err)
	}
	return rec, doc, nil
}

// orgs returns the organizations that endorse the SLA's transactions: the
// provider's and the client's.
func (a *agreementRecord) orgs() ([]string, error) {
	return fabnet.SLAOrgs(a.Parties.Provider.MSPID, a.Parties.Client.MSPID)
}

// slaTxOptions are the proposal options of a transaction of an SLA between
// orgs: the arguments, the document as transient data (when doc is not
// nil) and the two parties' organizations as the endorsing organizations.
func slaTxOptions(orgs []string, doc []byte, args ...string) []client.ProposalOption {
	opts := []client.ProposalOption{client.WithArguments(args...), client.WithEndorsingOrganizations(orgs...)}
	if doc != nil {
		opts = append(opts, client.WithTransient(map[string][]byte{transientSLA: doc}))
	}
	return opts
}

// transientSLA is the transient key of the SLA document (agreement.TransientSLA).
const transientSLA = "sla"

// evaluateGetSLA evaluates GetSLA on a peer of the caller's organization:
// the chaincode returns the document from that organization's private copy
// only.
func evaluateGetSLA(ctx context.Context, s *session, cc, id string) ([]byte, error) {
	return s.Network.GetContract(cc).EvaluateWithContext(ctx, "GetSLA", client.WithArguments(id), client.WithEndorsingOrganizations(s.MSPID))
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
		newHandoverCommand(), newShowCommand(), newListCommand(), newHistoryCommand(), newVerifyCommand())
}

// fetchAgreement reads an SLA with its document (GetSLA, on a peer of the
// caller's organization); a missing SLA is retried for up to wait (a write
// committed through the other organization's peer may not have reached this
// one yet).
func fetchAgreement(cmd *cobra.Command, s *session, cc, id string, wait time.Duration) ([]byte, *agreementRecord, error) {
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	deadline := time.Now().Add(wait)
	for {
		out, err := evaluateGetSLA(ctx, s, cc, id)
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
		Short: "Propose an SLA as its provider: add a nonce, validate, compute the digest, sign it, ProposeSLA",
		Long: "Adds a fresh random nonce to the SLA document FILE (- for standard input) when it has none,\n" +
			"validates it, computes its canonical digest, signs it with the caller's private key and submits\n" +
			"ProposeSLA. The caller must be the SLA's provider (MSP ID, certificate subject and issuer, checked\n" +
			"before signing; default --as provider). The document travels as transient data, not as an\n" +
			"argument, and is stored in the provider's and the client's organizations' private collections\n" +
			"only; the channel sees its digest, the parties and the validity. The transaction is endorsed by\n" +
			"exactly the provider's and the client's organizations. The SLA gets status PROPOSED. Propose it\n" +
			"early enough for the client to accept before the first billing period starts: AcceptSLA pays the\n" +
			"first period that has not started. slasa sla show ID --document prints the document as proposed\n" +
			"(with its nonce).",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			data, err := readInput(cmd, args[0])
			if err != nil {
				return fmt.Errorf("read SLA: %w", err)
			}
			p, err := prepareProposal(args[0], data)
			if err != nil {
				return err
			}
			doc, orgs := p.Doc, p.Orgs
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			txID, err := proposeSLA(ctx, gatewayTickets{s}, cc, p)
			if err != nil {
				return err
			}
			nonce := "kept (the document has one)"
			if p.NonceAdded {
				nonce = "added " + doc.Nonce + " (slasa sla show " + doc.ID + " --document prints the document as proposed)"
			}
			res := map[string]string{"id": doc.ID, "status": "PROPOSED", "digest": p.DigestHex(), "nonce": doc.Nonce, "tx_id": txID}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{{"proposed", doc.ID}, {"digest", res["digest"]}, {"nonce", nonce},
				{"endorsed by", strings.Join(orgs, " and ")}, {"tx", res["tx_id"]},
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
		Short: "Accept a proposed SLA as its client: check and sign its digest, AcceptSLA (pays the first period, pins the enclave)",
		Long: "Reads the proposed SLA and its document from the client organization's private copy (GetSLA on\n" +
			"a peer of the caller's organization), recomputes the document's digest and checks it against the\n" +
			"recorded one and the provider's signature, checks that the caller is the SLA's client (MSP ID,\n" +
			"certificate subject and issuer), signs the digest with the caller's key and submits AcceptSLA\n" +
			"with the document as transient data, endorsed by exactly the provider's and the client's\n" +
			"organizations.\n" +
			"The chaincode pays the first billing period that has NOT started at the transaction time (accept\n" +
			"before the period you want paid begins): its fee moves from the client's wallet into escrow. It\n" +
			"pins the enclave the registry (ercc) holds now: only that enclave's verdicts settle the SLA until\n" +
			"both parties approve a handover (slasa sla handover). Default --as client.",
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
			acc, err := prepareAccept(gatewayTickets{s}, a)
			if err != nil {
				return err
			}
			doc := acc.Doc
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			txID, err := acceptSLA(ctx, gatewayTickets{s}, cc, acc)
			if err != nil {
				return err
			}
			res := map[string]string{"id": args[0], "status": "ACTIVE", "digest": a.Digest, "tx_id": txID}
			fields := [][2]string{{"accepted", args[0]}, {"digest", a.Digest}}
			if _, now, err := fetchAgreement(cmd, s, cc, args[0], 0); err == nil {
				res["period"], res["period_end"] = now.LastPeriod, now.PaidThrough
				fields = append(fields, [2]string{"first period", now.LastPeriod + " .. " + now.PaidThrough + ", " +
					money(doc.Price.AmountMinor, doc.Price.Currency) + " paid into escrow"})
				if now.Enclave != nil {
					res["enclave_id"] = now.Enclave.EnclaveID
					fields = append(fields, [2]string{"enclave", pinText(now.Enclave)})
				}
			} else {
				fields = append(fields, [2]string{"fee", money(doc.Price.AmountMinor, doc.Price.Currency) + " per period, first period paid into escrow"})
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return writeFields(cmd.OutOrStdout(), append(fields, [2]string{"tx", res["tx_id"]}))
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
	return reportSubmit(ctx, cmd, commit, err, cc, fn, done, args)
}

// reportSubmit waits for the commit of a submitted transaction and prints
// its id.
func reportSubmit(ctx context.Context, cmd *cobra.Command, commit *client.Commit, err error, cc, fn, done string, args []string) error {
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

// submitSLA submits fn(args) of the SLA a, endorsed by its two parties'
// organizations, with the document as transient data when doc is not nil,
// and prints the transaction id.
func submitSLA(cmd *cobra.Command, s *session, cc string, a *agreementRecord, doc []byte, fn, done string, args ...string) error {
	orgs, err := a.orgs()
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(cmd)
	defer cancel()
	_, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, fn, slaTxOptions(orgs, doc, args...)...)
	return reportSubmit(ctx, cmd, commit, err, cc, fn, done, args)
}

func newRenewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "renew ID",
		Short: "Pay the next billing period of an active SLA (client; RenewSLA)",
		Long: "Submits RenewSLA: the client pays the period that starts where the paid term ends (paid_through)\n" +
			"into escrow. The chaincode accepts it only once the last paid period has begun and only while the\n" +
			"next one has not started. The document (read from the client organization's private copy) goes\n" +
			"with it as transient data; the provider's and the client's organizations endorse it. Default\n" +
			"--as client.",
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			_, a, err := fetchAgreement(cmd, s, cc, args[0], 0)
			if err != nil {
				return err
			}
			rec, _, err := a.document()
			if err != nil {
				return err
			}
			return submitSLA(cmd, s, cc, a, rec.Document, "RenewSLA", "renewed", args[0])
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
		Short: "Withdraw a proposed SLA or terminate an active one at the end of the period under way (a party; TerminateSLA)",
		Long: "Submits TerminateSLA as the SLA's provider or client (default --as client): a PROPOSED SLA is\n" +
			"withdrawn (its collateral can be released at once), an ACTIVE one ends at the end of the period\n" +
			"under way, which is still judged; a paid period that has not started is refunded to the client.\n" +
			"--reason (1..256 bytes on one line) is recorded with the caller's identity and role.",
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			if reason == "" {
				return usageError{errors.New("sla terminate: --reason is required (it is recorded with the termination)")}
			}
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			_, a, err := fetchAgreement(cmd, s, cc, args[0], 0)
			if err != nil {
				return err
			}
			return submitSLA(cmd, s, cc, a, nil, "TerminateSLA", "terminated", args[0], reason)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "reason recorded with the termination (required)")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newShowCommand() *cobra.Command {
	var document bool
	cmd := &cobra.Command{
		Use:   "show ID [--document]",
		Short: "Show an SLA's agreement record and terms (GetSLA; readable by the parties' organizations)",
		Long: "Prints the agreement record: status, digest, the parties (MSP ID, common name, issuing CA), terms,\n" +
			"the paid term, the pinned enclave whose verdicts settle the SLA (with the enclaves a handover\n" +
			"replaced), the parties' pending handover approvals, and a termination. The terms come from the\n" +
			"caller's organization's private copy of the document (GetSLA is evaluated on a peer of the\n" +
			"caller's organization); the rest is public on the channel. --json prints the chaincode's answer\n" +
			"unchanged, --document the SLA document as proposed (with its nonce). Default --as provider.",
		Args: exactArgs(1, "ID"),
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
			if document {
				rec, _, err := a.document()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(rec.Document)
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), raw)
			}
			_, doc, err := a.document()
			if err != nil {
				return err
			}
			return writeFields(cmd.OutOrStdout(), agreementFields(a, doc))
		},
	}
	cmd.Flags().BoolVar(&document, "document", false, "print the SLA document as proposed (from the caller's organization's private copy)")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// agreementFields are the lines of `sla show`: the public record a and the
// terms of its document doc.
func agreementFields(a *agreementRecord, doc *sla.SLA) [][2]string {
	f := [][2]string{
		{"id", a.ID}, {"status", a.Status}, {"digest", a.Digest},
		{"provider", a.Parties.Provider.String()}, {"client", a.Parties.Client.String()}, {"logger", a.Parties.Logger.String()},
		{"product", doc.Service.ProductID}, {"fee", money(doc.Price.AmountMinor, doc.Price.Currency) + " per period (private to the parties)"},
		{"validity", a.ValidityStart + " .. " + a.ValidityEnd},
		{"proposed at", a.ProposedAt}, {"accepted at", orDash(a.AcceptedAt)},
		{"paid periods", strconv.FormatInt(a.PaidPeriods, 10)}, {"paid through", orDash(a.PaidThrough)},
		{"enclave", pinText(a.Enclave)},
	}
	for i := len(a.EnclaveHistory) - 1; i >= 0; i-- {
		f = append(f, [2]string{"replaced enclave", pinText(&a.EnclaveHistory[i])})
	}
	if a.Handover != nil {
		f = append(f, [2]string{"handover", handoverText(a.Handover)})
	}
	if a.TerminatedAt != "" {
		by := idText(a.TerminatedBy, "")
		if a.TerminatedAs != "" {
			by = "the " + a.TerminatedAs + " " + by
		}
		f = append(f, [2]string{"terminated", a.TerminatedAt + " by " + by + " (" + a.Reason + "), ends " + orDash(a.EndsAt)})
	}
	return f
}

// pinText describes a pinned enclave on one line.
func pinText(p *enclavePin) string {
	if p == nil || p.EnclaveID == "" {
		return "- (pinned when the client accepts)"
	}
	return fmt.Sprintf("%s of %s (version %s, sequence %d, %s attestation), pinned %s (tx %s)",
		p.EnclaveID, p.Chaincode, p.ChaincodeVersion, p.ChaincodeSequence, p.AttestationType, p.PinnedAt, short(p.PinnedTxID))
}

// handoverText describes the parties' pending approvals of another enclave.
func handoverText(h *handoverState) string {
	return fmt.Sprintf("pending: the provider approves %s, the client approves %s (the pin moves when both name the same enclave)",
		orDash(h.ProviderApproves), orDash(h.ClientApproves))
}

func newListCommand() *cobra.Command {
	var role string
	var pageSize int
	var bookmark string
	var wholeOrg, credit bool
	cmd := &cobra.Command{
		Use:   "list [--role provider|client] [--page-size N --bookmark B] [--credit]",
		Short: "List the SLAs in which the caller is provider or client (ListSLAs, one page)",
		Long: "Lists one page of the caller's SLAs in the given role (default: client for --as client, else\n" +
			"provider). --org lists every identity of the caller's organization. When more pages remain the\n" +
			"bookmark of the next one is printed. --credit also reads each SLA's document (GetSLA on a peer of\n" +
			"the caller's organization) and its score (refund GetSLAScore) and shows its product, settled and\n" +
			"violated periods and credit so far (credits and penalties paid to the client), as the console does.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			if pageSize < 1 || pageSize > 100 {
				return usageError{fmt.Errorf("--page-size: %d is not within 1..100", pageSize)}
			}
			bm, err := parseBookmark(bookmark)
			if err != nil {
				return err
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
			out, page, err := listSLAPage(ctx, s.evaluate, cc, role, s.MSPID, cn, pageSize, bm)
			if err != nil {
				return err
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			var credits []slaCredit
			if credit {
				refundCC, _ := cmd.Flags().GetString("refund-cc")
				credits = readSLACredits(ctx, newBillingSource(gatewayReader{s}, cc, refundCC, s.Network.Name()), page.Records, time.Now())
			}
			return writeSLAList(cmd, page.Records, credits, page.Bookmark, pageSize)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "provider or client (default from --as)")
	cmd.Flags().IntVar(&pageSize, "page-size", 20, "SLAs per page (1..100)")
	cmd.Flags().StringVar(&bookmark, "bookmark", "", "bookmark of the page to read, as the previous page printed it (its --json bookmark works too)")
	cmd.Flags().BoolVar(&wholeOrg, "org", false, "every identity of the caller's organization, not only the caller")
	cmd.Flags().BoolVar(&credit, "credit", false, "also each SLA's product, settled and violated periods and credit so far (GetSLA, GetSLAScore; not with --json)")
	agreementCCFlag(cmd)
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

// evaluateFunc evaluates cc.fn(args) and returns the chaincode's answer
// (errors not yet explained).
type evaluateFunc func(ctx context.Context, cc, fn string, args ...string) ([]byte, error)

// evaluate evaluates cc.fn(args) on a peer the Gateway chooses.
func (s *session) evaluate(ctx context.Context, cc, fn string, args ...string) ([]byte, error) {
	return s.Network.GetContract(cc).EvaluateWithContext(ctx, fn, clientArgs(args...)...)
}

// slaPage is one page of ListSLAs (agreement.Page[Agreement]).
type slaPage struct {
	Records  []agreementRecord `json:"records"`
	Bookmark string            `json:"bookmark"`
}

// listSLAPage evaluates one page of ListSLAs: the SLAs in which the
// identities of mspID with common name cn ("" for all of them) play role
// (provider or client). It returns the chaincode's answer and its decoded
// page; slasa sla list and the console read their pages with it.
func listSLAPage(ctx context.Context, ev evaluateFunc, cc, role, mspID, cn string, pageSize int, bookmark string) ([]byte, *slaPage, error) {
	out, err := ev(ctx, cc, "ListSLAs", role, mspID, cn, strconv.Itoa(pageSize), bookmark)
	if err != nil {
		return nil, nil, explain(cc+".ListSLAs", err)
	}
	var page slaPage
	if err := json.Unmarshal(out, &page); err != nil {
		return nil, nil, fmt.Errorf("%s.ListSLAs: decode: %w", cc, err)
	}
	return out, &page, nil
}

// readSLACredits reads the slaCredit of each record, one after the other.
func readSLACredits(ctx context.Context, src *billingSource, recs []agreementRecord, now time.Time) []slaCredit {
	out := make([]slaCredit, len(recs))
	for i := range recs {
		out[i] = readSLACredit(ctx, src, &recs[i], "", now)
	}
	return out
}

// writeSLAList prints the records, with their credits when credits is not
// nil (one per record; the errors after the table).
func writeSLAList(cmd *cobra.Command, recs []agreementRecord, credits []slaCredit, bookmark string, pageSize int) error {
	w := cmd.OutOrStdout()
	if len(recs) == 0 {
		fmt.Fprintln(w, "no SLAs")
		return nil
	}
	t := &table{header: []string{"ID", "STATUS", "PROVIDER", "CLIENT", "VALID UNTIL", "PAID THROUGH"}}
	if credits != nil {
		t.header = append(t.header, "PRODUCT", "SETTLED", "VIOLATED", "CREDIT SO FAR")
	}
	var errs []string
	for i, a := range recs {
		row := []string{a.ID, a.Status, a.Parties.Provider.CommonName, a.Parties.Client.CommonName, a.ValidityEnd, orDash(a.PaidThrough)}
		if credits != nil {
			c := credits[i]
			switch {
			case c.Err != "":
				row = append(row, "-", "-", "-", "-")
				errs = append(errs, a.ID+": "+c.Err)
			case c.ScoreErr != "":
				row = append(row, c.Product, "-", "-", "-")
				errs = append(errs, a.ID+": "+c.ScoreErr)
			default:
				row = append(row, c.Product, c.SettledText(), strconv.FormatInt(c.Violated, 10), c.Credit)
			}
		}
		t.add(row...)
	}
	if err := t.write(w); err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
	if bookmark != "" && len(recs) == pageSize {
		fmt.Fprintf(w, "more: --bookmark %s\n", bookmarkArg(bookmark))
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
			t := &table{header: []string{"TIMESTAMP", "STATUS", "PAID PERIODS", "PAID THROUGH", "ENCLAVE", "TX"}}
			for _, h := range hist {
				if h.IsDelete || h.Record == nil {
					t.add(h.Timestamp, "DELETED", "-", "-", "-", h.TxID)
					continue
				}
				enclave := "-"
				if p := h.Record.Enclave; p != nil && p.EnclaveID != "" {
					enclave = short(p.EnclaveID)
				}
				if h.Record.Handover != nil {
					enclave += " (handover pending)"
				}
				t.add(h.Timestamp, h.Record.Status, strconv.FormatInt(h.Record.PaidPeriods, 10), orDash(h.Record.PaidThrough), enclave, h.TxID)
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
			"certificates are the SLA's parties (MSP ID, subject and issuer). The certificates are also chained\n" +
			"to their MSP's root CAs:\n" +
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
			rec, err := signedRecord(a)
			if err != nil {
				return err
			}
			opts := signedsla.Options{}
			chained := "not chained (--no-chain)"
			if !noChain {
				pools, src, err := rootPools(s.Info, roots)
				if err != nil {
					return err
				}
				opts.Roots = pools
				chained = "chained to " + src
			}
			doc, err := verifySigned(a, rec, opts)
			if err != nil {
				return err
			}
			res := map[string]any{"id": args[0], "valid": true, "digest": rec.Digest,
				"provider": agreementParty(doc.Parties.Provider).String(), "client": agreementParty(doc.Parties.Client).String(), "certificates": chained}
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

// signedRecord parses the Signed record of a (GetSLA's answer) and checks
// that both parties signed it.
func signedRecord(a *agreementRecord) (*signedsla.Record, error) {
	rec, err := signedsla.Parse(a.Signed)
	if err != nil {
		return nil, fmt.Errorf("SLA %s: signed record: %w", a.ID, err)
	}
	if len(rec.Client.Signature) == 0 {
		return nil, fmt.Errorf("SLA %s is %s: the client has not signed it yet", a.ID, a.Status)
	}
	return rec, nil
}

// verifySigned verifies rec, the Signed record of a, offline: the
// document's canonical digest, both signatures, that the certificates are
// the SLA's parties (and chain to opts.Roots when set), and that the
// digest is the agreement's. slasa sla verify and the console's SLA page
// verify with it.
func verifySigned(a *agreementRecord, rec *signedsla.Record, opts signedsla.Options) (*sla.SLA, error) {
	doc, err := rec.Verify(opts)
	if err != nil {
		return nil, fmt.Errorf("SLA %s: the signed record does NOT verify: %w", a.ID, err)
	}
	if rec.Digest != a.Digest {
		return nil, fmt.Errorf("SLA %s: the signed record's digest %s differs from the agreement's %s", a.ID, rec.Digest, a.Digest)
	}
	return doc, nil
}

// rootPools returns the MSP root CAs to chain the parties' certificates
// to: the --root MSPID=FILE.pem given, else those of the run folder's MSP
// folders (info; nil for an explicit identity).
func rootPools(info *fabnet.Info, roots []string) (map[string]*x509.CertPool, string, error) {
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
	if info == nil {
		return nil, "", usageError{errors.New("sla verify: give --root MSPID=CA.pem for each party's MSP, or --no-chain")}
	}
	msps, err := setup.ChannelMSPs(info)
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
