// Package ccall makes the chaincode-to-chaincode calls of the slasa contract
// chaincodes (agreement, refund): a call of another chaincode on the same
// channel, inside the caller's transaction, as the same submitter.
package ccall

import (
	"encoding/json"
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Call invokes function fn of chaincode cc with args in the transaction of
// ctx and returns the answer's payload. An answer other than status 200 is
// the error "<cc> <fn>: <the called chaincode's message>".
func Call(ctx contractapi.TransactionContextInterface, cc, fn string, args ...string) ([]byte, error) {
	raw := make([][]byte, 0, len(args)+1)
	raw = append(raw, []byte(fn))
	for _, a := range args {
		raw = append(raw, []byte(a))
	}
	resp := ctx.GetStub().InvokeChaincode(cc, raw, "")
	// mutate:check call-status
	if resp == nil || resp.GetStatus() != 200 {
		return nil, fmt.Errorf("%s %s: %s", cc, fn, resp.GetMessage())
	}
	return resp.GetPayload(), nil
}

// JSON is Call that decodes the JSON answer into v.
func JSON(ctx contractapi.TransactionContextInterface, v any, cc, fn string, args ...string) error {
	payload, err := Call(ctx, cc, fn, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", cc, fn, err)
	}
	return nil
}
