package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	fpcclient "github.com/slasa/slasa/fpc/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// explain turns an error of a Fabric Gateway call (what: "agreement.AcceptSLA")
// into one line: the stage that failed (endorsement, ordering, commit), the
// chaincode's own message from the gRPC status details, and the transaction id.
func explain(what string, err error) error {
	if err == nil {
		return nil
	}
	return errors.New(explainText(what, err))
}

// explainText is explain's line.
func explainText(what string, err error) string {
	var (
		endorse *client.EndorseError
		submit  *client.SubmitError
		cstatus *client.CommitStatusError
		commit  *client.CommitError
		ccErr   *fpcclient.ChaincodeError
		failed  *commitFailure
	)
	details := chaincodeMessages(err)
	switch {
	case errors.As(err, &failed):
		return fmt.Sprintf("%s: the transaction %s was ordered but the peers rejected it at commit (%s)", what, failed.TxID, commitHint(failed.Code))
	case errors.As(err, &commit):
		return fmt.Sprintf("%s: the transaction %s was ordered but the peers rejected it at commit (%s)%s",
			what, commit.TransactionID, commitHint(commit.Code.String()), suffix(details))
	case errors.As(err, &endorse):
		return fmt.Sprintf("%s: endorsement failed%s%s", what, orStatus(details, err), txSuffix(endorse.TransactionID))
	case errors.As(err, &submit):
		return fmt.Sprintf("%s: the orderer did not accept the endorsed transaction%s%s", what, orStatus(details, err), txSuffix(submit.TransactionID))
	case errors.As(err, &cstatus):
		return fmt.Sprintf("%s: no commit status for the submitted transaction (it may still commit; check with the peer)%s%s", what, orStatus(details, err), txSuffix(cstatus.TransactionID))
	case errors.As(err, &ccErr):
		return fmt.Sprintf("%s: the enclave refused: %s", what, ccErr.Message)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s: timed out (raise --timeout?)", what)
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
		return fmt.Sprintf("%s: %s%s", what, statusText(st), suffix(details))
	}
	if len(details) > 0 {
		return fmt.Sprintf("%s: %s", what, strings.Join(details, "; "))
	}
	return fmt.Sprintf("%s: %v", what, err)
}

// chaincodeMessages collects the per-peer messages of the gRPC status details
// ("ProviderOrgMSP: chaincode response 500, SLA \"x\" is ACTIVE"), deduplicated
// by message, in the order given.
func chaincodeMessages(err error) []string {
	var out []string
	seen := map[string]bool{}
	for e := err; e != nil; e = errors.Unwrap(e) {
		st, ok := status.FromError(e)
		if !ok {
			continue
		}
		for _, d := range st.Details() {
			ed, ok := d.(*gateway.ErrorDetail)
			if !ok {
				continue
			}
			msg := cleanMessage(ed.GetMessage())
			if seen[msg] {
				continue
			}
			seen[msg] = true
			out = append(out, msg)
		}
		break
	}
	return out
}

// cleanMessage strips the peer's wrapping from a chaincode message.
func cleanMessage(m string) string {
	m = strings.TrimSpace(m)
	for _, p := range []string{"chaincode response 500, ", "chaincode response 400, ", "error in simulation: transaction returned with failure: "} {
		if i := strings.Index(m, p); i >= 0 {
			m = m[i+len(p):]
		}
	}
	return m
}

func statusText(st *status.Status) string {
	switch st.Code() {
	case codes.Unavailable:
		return "the peer is unreachable (" + st.Message() + "); is the network up?"
	case codes.DeadlineExceeded:
		return "the peer did not answer in time"
	case codes.PermissionDenied:
		return "permission denied: " + st.Message()
	}
	return st.Code().String() + ": " + st.Message()
}

func orStatus(details []string, err error) string {
	if len(details) > 0 {
		return ": " + strings.Join(details, "; ")
	}
	if st, ok := status.FromError(err); ok {
		return ": " + statusText(st)
	}
	return ": " + err.Error()
}

func suffix(details []string) string {
	if len(details) == 0 {
		return ""
	}
	return ": " + strings.Join(details, "; ")
}

func txSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (tx " + id + ")"
}

// commitHint explains the commonest validation codes.
func commitHint(code string) string {
	switch code {
	case "MVCC_READ_CONFLICT":
		return "MVCC_READ_CONFLICT: another transaction changed the same keys first; retry"
	case "ENDORSEMENT_POLICY_FAILURE":
		return "ENDORSEMENT_POLICY_FAILURE: the endorsements do not satisfy the chaincode's policy"
	case "PHANTOM_READ_CONFLICT":
		return "PHANTOM_READ_CONFLICT: a range read changed; retry"
	}
	return code
}

// commitFailure is a transaction that was ordered but committed invalid.
type commitFailure struct {
	TxID string
	Code string
}

func (e *commitFailure) Error() string {
	return fmt.Sprintf("transaction %s failed to commit with status code %s", e.TxID, e.Code)
}

// clientArgs is client.WithArguments(args...) as the only proposal option.
func clientArgs(args ...string) []client.ProposalOption {
	return []client.ProposalOption{client.WithArguments(args...)}
}

// waitCommit waits for the commit status of a submitted transaction; an
// invalid transaction is a *commitFailure.
func waitCommit(ctx context.Context, commit *client.Commit) error {
	st, err := commit.StatusWithContext(ctx)
	if err != nil {
		return err
	}
	if !st.Successful {
		return &commitFailure{TxID: st.TransactionID, Code: st.Code.String()}
	}
	return nil
}
