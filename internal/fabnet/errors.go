package fabnet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/status"
)

// ErrorText is an error's message together with the chaincode messages a
// Fabric Gateway error carries in its details, and a commit's status code.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	msgs := []string{err.Error()}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if st, ok := status.FromError(e); ok {
			for _, d := range st.Details() {
				if ed, ok := d.(*gateway.ErrorDetail); ok {
					msgs = append(msgs, fmt.Sprintf("%s: %s", ed.GetMspId(), ed.GetMessage()))
				}
			}
			break
		}
	}
	var ce *client.CommitError
	if errors.As(err, &ce) {
		msgs = append(msgs, "commit status "+ce.Code.String())
	}
	return strings.Join(msgs, " | ")
}
