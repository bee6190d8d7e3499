package monitor

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/internal/ctxtime"
	"github.com/slasa/slasa/logger"
)

// EnclaveClient calls the SLA enclave chaincode through fpc/client. It
// implements Enclave.
type EnclaveClient struct {
	FPC *fpcclient.Client
}

// NewEnclaveClient returns a client of the private chaincode chaincode.
func NewEnclaveClient(network *client.Network, chaincode string) *EnclaveClient {
	return &EnclaveClient{FPC: fpcclient.New(network, chaincode)}
}

func decode[T any](fn string, out []byte, err error) (*T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %s", fn, logger.GatewayError(err))
	}
	var v T
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("%s: result: %w", fn, err)
	}
	return &v, nil
}

// RegisterAgreement submits RegisterAgreement, endorsed by exactly the
// organizations orgs (the SLA's provider's and client's).
func (e *EnclaveClient) RegisterAgreement(ctx context.Context, signedRecord []byte, orgs []string) (*Status, error) {
	out, _, err := e.FPC.SubmitEndorsedBy(ctx, orgs, "RegisterAgreement", string(signedRecord))
	return decode[Status]("RegisterAgreement", out, err)
}

// Status queries GetAgreementStatus.
func (e *EnclaveClient) Status(ctx context.Context, slaID string) (*Status, error) {
	out, err := e.FPC.Query(ctx, "GetAgreementStatus", slaID)
	return decode[Status]("GetAgreementStatus", out, err)
}

// IngestBatch submits IngestBatch, endorsed by exactly the organizations
// orgs.
func (e *EnclaveClient) IngestBatch(ctx context.Context, slaID string, seq int64, cid string, orgs []string) (*IngestResult, error) {
	out, _, err := e.FPC.SubmitEndorsedBy(ctx, orgs, "IngestBatch", slaID, strconv.FormatInt(seq, 10), cid)
	return decode[IngestResult]("IngestBatch", out, err)
}

// Evaluate submits Evaluate (a write: the first endorsed verdict is
// frozen), endorsed by exactly the organizations orgs.
func (e *EnclaveClient) Evaluate(ctx context.Context, slaID, period string, orgs []string) (*Evaluation, error) {
	out, _, err := e.FPC.SubmitEndorsedBy(ctx, orgs, "Evaluate", slaID, period)
	return decode[Evaluation]("Evaluate", out, err)
}

// VerifyingKey returns the verifying key of the enclave enclaveID, as the
// enclave registry holds it.
func (e *EnclaveClient) VerifyingKey(ctx context.Context, enclaveID string) (*ecdsa.PublicKey, error) {
	rec, err := e.FPC.EnclaveByID(ctx, enclaveID)
	if err != nil {
		return nil, err
	}
	return rec.VerifyingKey()
}

// RefundClient calls the refund chaincode through the Fabric Gateway. It
// implements Refund.
type RefundClient struct {
	Contract *client.Contract
}

// GetEscrow evaluates GetEscrow.
func (r *RefundClient) GetEscrow(ctx context.Context, slaID, period string) (*Escrow, error) {
	out, err := r.Contract.EvaluateWithContext(ctx, "GetEscrow", client.WithArguments(slaID, period))
	return decode[Escrow]("GetEscrow", out, err)
}

// SettleVerdict submits SettleVerdict, endorsed by exactly the
// organizations orgs (the SLA's provider's and client's: no third
// organization endorses a transaction of an SLA), and waits for the commit.
func (r *RefundClient) SettleVerdict(ctx context.Context, signedVerdict []byte, orgs []string) (*Settlement, error) {
	out, err := r.Contract.SubmitWithContext(ctx, "SettleVerdict", client.WithArguments(string(signedVerdict)), client.WithEndorsingOrganizations(orgs...))
	return decode[Settlement]("SettleVerdict", out, err)
}

// CompactReputation submits CompactReputation and waits for the commit;
// the Gateway collects the endorsements the checkpoint's policy needs.
func (r *RefundClient) CompactReputation(ctx context.Context, providerMSP string) (*CompactResult, error) {
	out, err := r.Contract.SubmitWithContext(ctx, "CompactReputation", client.WithArguments(providerMSP))
	return decode[CompactResult]("CompactReputation", out, err)
}

// TicketClient calls the ticket chaincode through the Fabric Gateway. It
// implements Tickets.
type TicketClient struct {
	Contract *client.Contract
	// MSPID is the monitor's organization: the queries are evaluated on
	// its peers, since the chaincode reads the records from the implicit
	// collection of the organization of the peer it runs on, which must be
	// the caller's.
	MSPID string
}

// ListTickets evaluates ListTickets(slaID, any status, breached or not,
// TicketPageSize, bookmark) on a peer of MSPID.
func (c *TicketClient) ListTickets(ctx context.Context, slaID, bookmark string) (*TicketPage, error) {
	out, err := c.Contract.EvaluateWithContext(ctx, "ListTickets",
		client.WithArguments(slaID, "", "", strconv.Itoa(TicketPageSize), bookmark), client.WithEndorsingOrganizations(c.MSPID))
	return decode[TicketPage]("ListTickets", out, err)
}

// GetTicket evaluates GetTicket on a peer of MSPID.
func (c *TicketClient) GetTicket(ctx context.Context, slaID, ticketID string) (*TicketView, error) {
	out, err := c.Contract.EvaluateWithContext(ctx, "GetTicket",
		client.WithArguments(slaID, ticketID), client.WithEndorsingOrganizations(c.MSPID))
	return decode[TicketView]("GetTicket", out, err)
}

// Escalate submits Escalate with the record in the transient map under
// "ticket", endorsed by exactly the organizations orgs (the ticket's: each
// holds the record in its implicit collection and must endorse), and waits
// for the commit.
func (c *TicketClient) Escalate(ctx context.Context, slaID, ticketID string, level int, record []byte, orgs []string) error {
	_, err := c.Contract.SubmitWithContext(ctx, "Escalate", client.WithArguments(slaID, ticketID, strconv.Itoa(level)),
		client.WithTransient(map[string][]byte{"ticket": record}), client.WithEndorsingOrganizations(orgs...))
	if err != nil {
		return fmt.Errorf("Escalate: %s", logger.GatewayError(err))
	}
	return nil
}

// Checkpointer persists the event position (client.FileCheckpointer).
type Checkpointer interface {
	client.Checkpoint
	CheckpointChaincodeEvent(*client.ChaincodeEvent) error
}

// FollowEvents delivers the chaincode events of chaincode to m, from the
// checkpoint (or from startBlock when the checkpoint is empty), and
// checkpoints each event after m has recorded it. It reconnects with backoff
// when the stream ends or fails, until ctx ends. connected is called with
// the stream's state (may be nil).
func FollowEvents(ctx context.Context, network *client.Network, chaincode string, cp Checkpointer, startBlock uint64, m *Monitor, connected func(bool)) error {
	if connected == nil {
		connected = func(bool) {}
	}
	wait := time.Second
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events, err := network.ChaincodeEvents(sctx, chaincode, client.WithStartBlock(startBlock), client.WithCheckpoint(cp))
		if err != nil {
			cancel()
			connected(false)
			m.log.Warn("event stream failed, reconnecting", "err", logger.GatewayError(err), "retry_in", wait)
			if ctxtime.Sleep(ctx, wait) != nil {
				break
			}
			wait = min(2*wait, 30*time.Second)
			continue
		}
		connected(true)
		m.log.Info("following events", "chaincode", chaincode, "from_block", max(cp.BlockNumber(), startBlock), "after_tx", cp.TransactionID())
		var herr error
		for ev := range events {
			wait = time.Second
			herr = m.HandleEvent(Event{Block: ev.BlockNumber, TxID: ev.TransactionID, Name: ev.EventName, Payload: ev.Payload})
			if errors.Is(herr, ErrBadEvent) {
				m.log.Error("skipping event", "err", herr)
			} else if herr != nil {
				m.log.Error("handling event", "err", herr)
				break
			}
			if herr = cp.CheckpointChaincodeEvent(ev); herr != nil {
				m.log.Error("checkpoint", "err", herr)
				break
			}
		}
		cancel()
		connected(false)
		if ctx.Err() != nil {
			break
		}
		m.log.Warn("event stream ended, reconnecting", "retry_in", wait)
		if ctxtime.Sleep(ctx, wait) != nil {
			break
		}
		wait = min(2*wait, 30*time.Second)
	}
	return ctx.Err()
}

// QSCCChainInfo reads the channel's height from the peer's query system
// chaincode (qscc GetChainInfo) through the Gateway. It implements
// ChainInfo.
type QSCCChainInfo struct {
	Network *client.Network
}

// Height returns the number of blocks of the channel on the gateway's peer.
func (q *QSCCChainInfo) Height(ctx context.Context) (uint64, error) {
	res, err := q.Network.GetContract("qscc").EvaluateWithContext(ctx, "GetChainInfo", client.WithArguments(q.Network.Name()))
	if err != nil {
		return 0, fmt.Errorf("qscc GetChainInfo: %s", logger.GatewayError(err))
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(res, &info); err != nil {
		return 0, fmt.Errorf("qscc GetChainInfo: decoding the answer: %w", err)
	}
	return info.GetHeight(), nil
}
