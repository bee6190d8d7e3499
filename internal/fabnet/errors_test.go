package fabnet

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorText(t *testing.T) {
	if ErrorText(nil) != "" {
		t.Fatal("nil error has text")
	}
	st, err := status.New(codes.Aborted, "failed to endorse transaction").WithDetails(
		&gateway.ErrorDetail{MspId: "ClientOrgMSP", Message: "chaincode response 500, wallet \"x\" does not exist"})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := fmt.Errorf("submit: %w", st.Err())
	got := ErrorText(wrapped)
	for _, want := range []string{"submit:", "failed to endorse transaction", `ClientOrgMSP: chaincode response 500, wallet "x" does not exist`} {
		if !strings.Contains(got, want) {
			t.Errorf("ErrorText = %q, missing %q", got, want)
		}
	}
	if got := ErrorText(errors.New("plain")); got != "plain" {
		t.Errorf("ErrorText(plain) = %q", got)
	}
}
