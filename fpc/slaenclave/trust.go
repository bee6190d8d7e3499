package slaenclave

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
)

// trust holds the CA certificates the enclave accepts: those of the deploy
// configuration it was initialised with (its digest is the registered
// enclave's config_digest).
type trust struct {
	roots         map[string]*x509.CertPool
	intermediates map[string]*x509.CertPool
}

// loadTrust reads the trusted CAs from the enclave services.
func loadTrust(stub shim.ChaincodeStubInterface) (*trust, error) {
	svc, err := services(stub)
	if err != nil {
		return nil, err
	}
	cfg := svc.DeployConfig()
	if cfg == nil {
		return nil, fmt.Errorf("the enclave was initialised without a deploy configuration")
	}
	roots, inter, err := cfg.Pools()
	if err != nil {
		return nil, fmt.Errorf("deploy configuration: %w", err)
	}
	return &trust{roots: roots, intermediates: inter}, nil
}

// options returns signedsla options chaining to these roots at time at.
func (t *trust) options(at time.Time) signedsla.Options {
	return signedsla.Options{Roots: t.roots, Intermediates: t.intermediates, At: at}
}

// chain checks that cert chains to the roots of MSP mspID at time at.
func (t *trust) chain(mspID string, cert *x509.Certificate, at time.Time) error {
	roots, ok := t.roots[mspID]
	if !ok {
		return fmt.Errorf("MSP %q is not one of the MSPs of the enclave's deploy configuration", mspID)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: t.intermediates[mspID], CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("certificate %s does not chain to the roots of MSP %q: %w", identity.DN(cert.Subject), mspID, err)
	}
	return nil
}
