package logger

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	shell "github.com/ipfs/go-ipfs-api"

	fpcclient "github.com/slasa/slasa/fpc/client"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// KuboStore adds batches to a kubo node through its HTTP API
// (github.com/ipfs/go-ipfs-api): CIDv1, raw leaves, pinned. It implements
// Store.
type KuboStore struct {
	sh *shell.Shell
}

// NewKuboStore returns a store for the kubo API at api ("host:port",
// "http://host:port" or a multiaddr); timeout bounds one request.
func NewKuboStore(api string, timeout time.Duration) *KuboStore {
	api = strings.TrimSpace(api)
	sh := shell.NewShellWithClient(api, &http.Client{Timeout: timeout})
	return &KuboStore{sh: sh}
}

// Add stores data and returns its CID.
func (k *KuboStore) Add(ctx context.Context, data []byte) (string, error) {
	type result struct {
		cid string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := k.sh.Add(bytes.NewReader(data), shell.CidVersion(1), shell.RawLeaves(true), shell.Pin(true))
		ch <- result{c, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.err != nil {
			return "", fmt.Errorf("ipfs add: %w", r.err)
		}
		return r.cid, nil
	}
}

// EnclaveKeys reads the SLA enclave's chaincode encryption key from the
// enclave registry (through fpc/client, cached). It implements KeySource.
type EnclaveKeys struct {
	Client *fpcclient.Client
}

// NewEnclaveKeys returns the key source of the private chaincode named
// chaincode on network.
func NewEnclaveKeys(network *client.Network, chaincode string) *EnclaveKeys {
	return &EnclaveKeys{Client: fpcclient.New(network, chaincode)}
}

// EncryptionKey returns the chaincode encryption key.
func (e *EnclaveKeys) EncryptionKey(ctx context.Context) (*rsa.PublicKey, error) {
	rec, err := e.Client.Enclave(ctx)
	if err != nil {
		return nil, err
	}
	return rec.EncryptionKey()
}
