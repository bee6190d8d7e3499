package logger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/status"

	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// GatewayError returns the messages of a Gateway error, with the chaincode's
// own messages from the error details, on one line.
func GatewayError(err error) string {
	if err == nil {
		return ""
	}
	msgs := []string{err.Error()}
	for _, d := range status.Convert(err).Details() {
		if e, ok := d.(*gateway.ErrorDetail); ok {
			msgs = append(msgs, e.GetMessage())
		}
	}
	var ce *client.CommitError
	if errors.As(err, &ce) {
		msgs = append(msgs, "commit status "+ce.Code.String())
	}
	return strings.Join(msgs, " | ")
}

func gatewayErr(what string, err error) error {
	return fmt.Errorf("%s: %s", what, GatewayError(err))
}

// AgreementView is the part of the agreement chaincode's answer to GetSLA
// (agreement.SLAView: the public record and the Signed record with the
// document from the caller's organization's private copy) that the logger
// and the monitor use.
type AgreementView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Digest  string `json:"digest"`
	Parties struct {
		Provider PartyRef `json:"provider"`
		Client   PartyRef `json:"client"`
	} `json:"parties"`
	Signed      json.RawMessage `json:"signed"`
	AcceptedAt  string          `json:"accepted_at,omitempty"`
	LastPeriod  string          `json:"last_period,omitempty"`
	PaidThrough string          `json:"paid_through,omitempty"`
	PaidPeriods int64           `json:"paid_periods"`
	EndsAt      string          `json:"ends_at,omitempty"`
	// Enclave is the enclave the SLA is pinned to: only its verdicts are
	// paid (nil before acceptance).
	Enclave *EnclavePin `json:"enclave,omitempty"`
}

// PartyRef names a party of an SLA in the public record.
type PartyRef struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
}

// Orgs returns the organizations that endorse the SLA's transactions: the
// provider's and the client's (fabnet.SLAOrgs).
func (a *AgreementView) Orgs() ([]string, error) {
	return fabnet.SLAOrgs(a.Parties.Provider.MSPID, a.Parties.Client.MSPID)
}

// EnclavePin names the enclave an SLA is pinned to.
type EnclavePin struct {
	Chaincode string `json:"chaincode"`
	EnclaveID string `json:"enclave_id"`
}

// Record parses the agreement's signed SLA record.
func (a *AgreementView) Record() (*signedsla.Record, error) {
	return signedsla.Parse(a.Signed)
}

// SLA parses the agreement's SLA document.
func (a *AgreementView) SLA() (*sla.SLA, error) {
	r, err := a.Record()
	if err != nil {
		return nil, fmt.Errorf("SLA %q: signed record: %w", a.ID, err)
	}
	s, err := sla.Parse(r.Document)
	if err != nil {
		return nil, fmt.Errorf("SLA %q: document: %w", a.ID, err)
	}
	return s, nil
}

// AgreementClient calls the agreement chaincode through the Fabric Gateway.
// It implements Ledger.
type AgreementClient struct {
	Contract *client.Contract
	// MSPID is the caller's organization: GetSLA is evaluated on its peers,
	// since the chaincode returns the document from the private copy of the
	// organization of the peer it runs on.
	MSPID string
	// Orgs are the endorsing organizations of each SLA's transactions by
	// SLA id (SLAOrgs); AnchorLogBatch names them, so that no third
	// organization endorses.
	Orgs map[string][]string
}

// SLAOrgs returns the endorsing organizations of the transactions of each
// SLA (the provider's and the client's, fabnet.SLAOrgs) by SLA id.
func SLAOrgs(docs []*sla.SLA) (map[string][]string, error) {
	out := map[string][]string{}
	for _, d := range docs {
		orgs, err := fabnet.SLAOrgs(d.Parties.Provider.MSPID, d.Parties.Client.MSPID)
		if err != nil {
			return nil, fmt.Errorf("SLA %q: %w", d.ID, err)
		}
		out[d.ID] = orgs
	}
	return out, nil
}

// GetSLA returns the agreement record of an SLA with its document, evaluated
// on a peer of MSPID's organization (of any organization when MSPID is
// empty).
func (c *AgreementClient) GetSLA(ctx context.Context, id string) (*AgreementView, error) {
	opts := []client.ProposalOption{client.WithArguments(id)}
	if c.MSPID != "" {
		opts = append(opts, client.WithEndorsingOrganizations(c.MSPID))
	}
	out, err := c.Contract.EvaluateWithContext(ctx, "GetSLA", opts...)
	if err != nil {
		return nil, gatewayErr("GetSLA "+id, err)
	}
	var a AgreementView
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, fmt.Errorf("GetSLA %s: %w", id, err)
	}
	return &a, nil
}

// anchorRecord is the agreement chaincode's AnchorRecord.
type anchorRecord struct {
	signedsla.Anchor
	TxID string `json:"tx_id"`
}

// GetLogBatch returns the anchor of batch seq, or an error wrapping
// ErrNotAnchored. The chaincode reports a missing batch only in its error
// message ("... is not anchored"), which is what this matches.
func (c *AgreementClient) GetLogBatch(ctx context.Context, slaID string, seq int64) (*signedsla.Anchor, error) {
	out, err := c.Contract.EvaluateWithContext(ctx, "GetLogBatch", client.WithArguments(slaID, strconv.FormatInt(seq, 10)))
	if err != nil {
		msg := GatewayError(err)
		if strings.Contains(msg, "is not anchored") {
			return nil, fmt.Errorf("batch %d of SLA %q: %w", seq, slaID, ErrNotAnchored)
		}
		return nil, fmt.Errorf("GetLogBatch %s %d: %s", slaID, seq, msg)
	}
	var r anchorRecord
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("GetLogBatch %s %d: %w", slaID, seq, err)
	}
	return &r.Anchor, nil
}

// LastLogBatch pages through ListLogBatches and returns the last anchor, or
// nil when there is none.
func (c *AgreementClient) LastLogBatch(ctx context.Context, slaID string) (*signedsla.Anchor, error) {
	var last *signedsla.Anchor
	bookmark := ""
	for {
		out, err := c.Contract.EvaluateWithContext(ctx, "ListLogBatches", client.WithArguments(slaID, "100", bookmark))
		if err != nil {
			return nil, gatewayErr("ListLogBatches "+slaID, err)
		}
		var page struct {
			Records  []anchorRecord `json:"records"`
			Bookmark string         `json:"bookmark"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return nil, fmt.Errorf("ListLogBatches %s: %w", slaID, err)
		}
		for i := range page.Records {
			if last == nil || page.Records[i].Seq > last.Seq {
				a := page.Records[i].Anchor
				last = &a
			}
		}
		if page.Bookmark == "" || len(page.Records) == 0 {
			return last, nil
		}
		bookmark = page.Bookmark
	}
}

// AnchorLogBatch submits AnchorLogBatch, endorsed by the SLA's two parties'
// organizations (Orgs), and waits for the commit.
func (c *AgreementClient) AnchorLogBatch(ctx context.Context, a signedsla.Anchor, signature []byte) error {
	orgs, ok := c.Orgs[a.SLAID]
	if !ok {
		return fmt.Errorf("AnchorLogBatch: the endorsing organizations of SLA %q are not known (its document was not given)", a.SLAID)
	}
	_, err := c.Contract.SubmitWithContext(ctx, "AnchorLogBatch", client.WithArguments(a.SLAID, strconv.FormatInt(a.Seq, 10), a.CID, a.PrevCID,
		a.PeriodStart, a.PeriodEnd, b64(signature)), client.WithEndorsingOrganizations(orgs...))
	if err != nil {
		return gatewayErr("AnchorLogBatch", err)
	}
	return nil
}

// LoadMSPIdentity reads a signing identity from a Fabric MSP folder: the
// first certificate of signcerts/ and the first key of keystore/.
func LoadMSPIdentity(mspDir string) (Identity, error) {
	cert, err := firstFile(filepath.Join(mspDir, "signcerts"))
	if err != nil {
		return Identity{}, err
	}
	key, err := firstFile(filepath.Join(mspDir, "keystore"))
	if err != nil {
		return Identity{}, err
	}
	return LoadIdentityFiles(cert, key)
}

// LoadIdentityFiles reads a signing identity from a PEM certificate and a
// PEM private key file.
func LoadIdentityFiles(certPath, keyPath string) (Identity, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return Identity{}, fmt.Errorf("logger certificate: %w", err)
	}
	if _, err := signedsla.ParseCertificatePEM(certPEM); err != nil {
		return Identity{}, fmt.Errorf("logger certificate %s: %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return Identity{}, fmt.Errorf("logger key: %w", err)
	}
	key, err := signedsla.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("logger key %s: %w", keyPath, err)
	}
	return Identity{CertPEM: string(certPEM), Key: key}, nil
}

func firstFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("MSP folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("MSP folder: %s holds no file", dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, names[0]), nil
}

// Retry calls fn until it succeeds or ctx ends, with exponential backoff
// from min to max between attempts, logging each failure.
func Retry(ctx context.Context, what string, minWait, maxWait time.Duration, log func(msg string, args ...any), fn func() error) error {
	wait := minWait
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if log != nil {
			log(what+" failed, retrying", "err", err, "retry_in", wait)
		}
		if ctxtime.Sleep(ctx, wait) != nil {
			return ctx.Err()
		}
		wait = min(wait*2, maxWait)
	}
}
