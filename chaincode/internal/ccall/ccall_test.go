package ccall_test

import (
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/chaincode/internal/ccall"
	"github.com/slasa/slasa/internal/fabricfake"
)

// echo answers Echo(x) with {"echo":"x"} and everything else with an error.
type echo struct{}

func (echo) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (echo) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	switch {
	case fn == "Echo" && len(args) == 1:
		return shim.Success([]byte(`{"echo":"` + args[0] + `"}`))
	case fn == "Raw":
		return shim.Success([]byte("not json"))
	}
	return &peer.Response{Status: 500, Message: "unknown function " + fn}
}

func TestCall(t *testing.T) {
	w := fabricfake.NewWorld()
	w.Deploy("echo", echo{})
	id := fabricfake.MustNewCA("ProviderOrgMSP").MustIssue("someone", "client")
	ctx := w.NewTx(id, "caller").Context()

	var v struct {
		Echo string `json:"echo"`
	}
	if err := ccall.JSON(ctx, &v, "echo", "Echo", "hi"); err != nil || v.Echo != "hi" {
		t.Fatalf("JSON: %+v %v", v, err)
	}
	for _, tc := range []struct {
		cc, fn string
		want   string
	}{
		{"echo", "Nope", "echo Nope: unknown function Nope"},
		{"missing", "Echo", "missing Echo: chaincode missing is not deployed"},
		{"echo", "Raw", "echo Raw: decode the answer: invalid character 'o' in literal null (expecting 'u')"},
	} {
		err := ccall.JSON(ctx, &v, tc.cc, tc.fn, "x")
		if err == nil || err.Error() != tc.want {
			t.Fatalf("%s %s: got %v, want %s", tc.cc, tc.fn, err, tc.want)
		}
	}
	if out, err := ccall.Call(ctx, "echo", "Echo", "x"); err != nil || !strings.Contains(string(out), `"x"`) {
		t.Fatalf("Call: %s %v", out, err)
	}
}
