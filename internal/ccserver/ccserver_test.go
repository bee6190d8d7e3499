package ccserver

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccguard"
)

type noop struct{ contractapi.Contract }

func (noop) Ping(contractapi.TransactionContextInterface) error { return nil }

func TestServeNeedsEnvironment(t *testing.T) {
	t.Setenv("CHAINCODE_ID", "")
	t.Setenv("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:0")
	if err := Serve(&noop{}); err == nil || !strings.Contains(err.Error(), "CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set") {
		t.Fatalf("Serve without CHAINCODE_ID: %v", err)
	}
}

func TestServeGuardedNeedsConfiguration(t *testing.T) {
	t.Setenv("SLASA_DEPLOY_CONFIG", "")
	t.Setenv("SLASA_MAX_CLOCK_SKEW", "")
	built := false
	build := func(*ccguard.Guard) contractapi.ContractInterface { built = true; return &noop{} }
	err := ServeGuarded("x chaincode", nil, build)
	if err == nil || err.Error() != "deploy configuration: no file given (set SLASA_DEPLOY_CONFIG or -config)" || built {
		t.Fatalf("ServeGuarded without a configuration: %v (built %v)", err, built)
	}
	err = ServeGuarded("x chaincode", []string{"-config", filepath.Join(t.TempDir(), "missing.json")}, build)
	if err == nil || !strings.Contains(err.Error(), "missing.json: no such file or directory") || built {
		t.Fatalf("ServeGuarded with a missing file: %v (built %v)", err, built)
	}
}
