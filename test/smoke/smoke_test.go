//go:build integration

// Package smoke checks the native Fabric network end to end: the smoke chaincode deployed twice under
// two names, invoked from both organizations through the Gateway, a chaincode-to-chaincode call, a
// chaincode event received with the Gateway's ChaincodeEvents, and a query through the peer CLI
// using network/env.sh.
package smoke

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/slasa/slasa/test/harness"
)

var network *harness.Network

func TestMain(m *testing.M) {
	os.Exit(harness.Run(m, harness.Options{Chaincodes: []harness.Chaincode{
		{Source: "smoke"},
		{Source: "smoke", Name: "smoke2"},
	}}, &network))
}

func contract(t *testing.T, identity, chaincode string) *client.Contract {
	t.Helper()
	c, err := network.Contract(identity, chaincode)
	if err != nil {
		t.Fatalf("contract %s as %s: %v", chaincode, identity, err)
	}
	return c
}

func TestIdentities(t *testing.T) {
	tests := []struct {
		identity string
		cn       string
		msp      string
	}{
		{"provider", "provider@providerorg.slasa.local", "ProviderOrgMSP"},
		{"logger", "logger@providerorg.slasa.local", "ProviderOrgMSP"},
		{"issuer", "issuer@providerorg.slasa.local", "ProviderOrgMSP"},
		{"client", "client@clientorg.slasa.local", "ClientOrgMSP"},
		{"provider-admin", "Admin@providerorg.slasa.local", "ProviderOrgMSP"},
		{"client-admin", "Admin@clientorg.slasa.local", "ClientOrgMSP"},
	}
	for _, tt := range tests {
		t.Run(tt.identity, func(t *testing.T) {
			c := contract(t, tt.identity, "smoke")
			cn, err := c.EvaluateTransaction("Whoami")
			if err != nil {
				t.Fatalf("Whoami: %v", err)
			}
			if string(cn) != tt.cn {
				t.Errorf("Whoami = %q, want %q", cn, tt.cn)
			}
			msp, err := c.EvaluateTransaction("MSPID")
			if err != nil {
				t.Fatalf("MSPID: %v", err)
			}
			if string(msp) != tt.msp {
				t.Errorf("MSPID = %q, want %q", msp, tt.msp)
			}
		})
	}
}

func TestInvokeFromEachOrg(t *testing.T) {
	tests := []struct {
		writer, reader, key, value string
	}{
		{"provider", "client", "from-provider", "p-1"},
		{"client", "provider", "from-client", "c-1"},
		{"logger", "client", "from-logger", "l-1"},
	}
	for _, tt := range tests {
		t.Run(tt.writer, func(t *testing.T) {
			// Submit waits for the commit on the writer's peer; SubmitAndSync also waits for the reader's.
			if _, err := network.SubmitAndSync(tt.writer, "smoke", "Put", tt.key, tt.value); err != nil {
				t.Fatalf("Put as %s: %v", tt.writer, err)
			}
			got, err := contract(t, tt.reader, "smoke").EvaluateTransaction("Get", tt.key)
			if err != nil {
				t.Fatalf("Get as %s: %v", tt.reader, err)
			}
			if string(got) != tt.value {
				t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.value)
			}
		})
	}
}

func TestMissingKeyIsAnError(t *testing.T) {
	_, err := contract(t, "client", "smoke").EvaluateTransaction("Get", "no-such-key")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Get(no-such-key) error = %v, want 'not found'", err)
	}
}

func TestChaincodeToChaincode(t *testing.T) {
	if _, err := network.SubmitAndSync("provider", "smoke", "Put", "c2c-read", "in-smoke"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := contract(t, "client", "smoke2").EvaluateTransaction("GetFrom", "smoke", "c2c-read")
	if err != nil {
		t.Fatalf("smoke2 GetFrom smoke: %v", err)
	}
	if string(got) != "in-smoke" {
		t.Errorf("smoke2 GetFrom smoke = %q, want in-smoke", got)
	}
	// A write through the call lands in the called chaincode's namespace.
	if _, err := network.SubmitAndSync("client", "smoke2", "PutTo", "smoke", "c2c-write", "via-smoke2"); err != nil {
		t.Fatalf("smoke2 PutTo smoke: %v", err)
	}
	got, err = contract(t, "provider", "smoke").EvaluateTransaction("Get", "c2c-write")
	if err != nil || string(got) != "via-smoke2" {
		t.Errorf("smoke Get(c2c-write) = %q, %v; want via-smoke2", got, err)
	}
	if _, err := contract(t, "provider", "smoke2").EvaluateTransaction("Get", "c2c-write"); err == nil {
		t.Errorf("smoke2 has c2c-write in its own namespace; want it only in smoke's")
	}
}

func TestHeightsAgree(t *testing.T) {
	res, err := network.SubmitAndSync("client", "smoke", "Put", "height-key", "h")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(res) != 0 {
		t.Errorf("Put result = %q, want empty", res)
	}
	hp, err := network.Height("provider")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := network.Height("client")
	if err != nil {
		t.Fatal(err)
	}
	if hp < 5 || hc < 5 { // genesis, two anchor-peer updates, two chaincode definitions at least
		t.Errorf("heights provider %d, client %d; want >= 5", hp, hc)
	}
}

func TestChaincodeEvent(t *testing.T) {
	gw, err := network.Gateway("client")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events, err := gw.GetNetwork(network.Info.Channel).ChaincodeEvents(ctx, "smoke")
	if err != nil {
		t.Fatalf("ChaincodeEvents: %v", err)
	}
	_, commit, err := contract(t, "provider", "smoke").SubmitAsync("Put", client.WithArguments("event-key", "event-value"))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	status, err := commit.Status()
	if err != nil || !status.Successful {
		t.Fatalf("commit status = %+v, %v", status, err)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event stream closed: %v", ctx.Err())
			}
			if ev.TransactionID != commit.TransactionID() {
				continue // an event of an earlier test's transaction
			}
			if ev.EventName != "Put" || ev.ChaincodeName != "smoke" {
				t.Fatalf("event = %s from %s, want Put from smoke", ev.EventName, ev.ChaincodeName)
			}
			var p struct{ Key, Value, Creator string }
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatalf("event payload %q: %v", ev.Payload, err)
			}
			if p.Key != "event-key" || p.Value != "event-value" || p.Creator != "provider@providerorg.slasa.local" {
				t.Errorf("event payload = %+v", p)
			}
			if ev.BlockNumber != status.BlockNumber {
				t.Errorf("event block %d, commit block %d", ev.BlockNumber, status.BlockNumber)
			}
			return
		case <-ctx.Done():
			t.Fatal("no Put event within a minute")
		}
	}
}

func TestPeerCLIQuery(t *testing.T) {
	if _, err := network.SubmitAndSync("provider", "smoke", "Put", "cli-key", "cli-value"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	out, err := network.PeerCLI("client", "client", "chaincode", "query", "-C", network.Info.Channel, "-n", "smoke",
		"-c", `{"Args":["Get","cli-key"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "cli-value" {
		t.Errorf("peer chaincode query = %q, want cli-value", out)
	}
}
