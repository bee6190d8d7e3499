package slaenclave

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/signedsla"
)

// MaxMSPs bounds the number of MSPs InitMSPs accepts, and MaxCAsPerMSP the
// roots and intermediates of each.
const (
	MaxMSPs      = 64
	MaxCAsPerMSP = 16
)

// MSPCAs are the CA certificates of one MSP, each one PEM certificate.
type MSPCAs struct {
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates,omitempty"`
}

// storedMSP is one MSP as stored (sorted by MSP ID).
type storedMSP struct {
	MSPID         string   `json:"msp_id"`
	Roots         []string `json:"roots"`
	Intermediates []string `json:"intermediates"`
}

// storedMSPs is the InitMSPs state value.
type storedMSPs struct {
	MSPs        []storedMSP `json:"msps"`
	Initialized string      `json:"initialized"`
}

// MSPsResult is the result of InitMSPs.
type MSPsResult struct {
	// MSPs are the MSP IDs now trusted, sorted.
	MSPs []string `json:"msps"`
	// Initialized is the transaction time of the InitMSPs call (RFC 3339).
	Initialized string `json:"initialized"`
}

// trust holds the parsed MSP certificates.
type trust struct {
	roots         map[string]*x509.CertPool
	intermediates map[string]*x509.CertPool
}

func mspsKey(stub shim.ChaincodeStubInterface) (string, error) {
	return stub.CreateCompositeKey(keyMSPs, nil)
}

func initMSPs(stub shim.ChaincodeStubInterface, args []string) (*MSPsResult, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("takes 1 argument (the MSPs JSON), got %d", len(args))
	}
	key, err := mspsKey(stub)
	if err != nil {
		return nil, err
	}
	var existing storedMSPs
	if found, err := getJSON(stub, key, &existing); err != nil {
		return nil, err
	} else if found {
		return nil, fmt.Errorf("the MSP roots were already set at %s (trust on first use); they cannot be changed", existing.Initialized)
	}
	var in map[string]MSPCAs
	if err := strictjson.Unmarshal([]byte(args[0]), &in); err != nil {
		return nil, fmt.Errorf("msps: %w", err)
	}
	if len(in) == 0 {
		return nil, errors.New("msps: must name at least one MSP")
	}
	if len(in) > MaxMSPs {
		return nil, fmt.Errorf("msps: %d MSPs, at most %d", len(in), MaxMSPs)
	}
	ids := make([]string, 0, len(in))
	for id := range in {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	st := storedMSPs{Initialized: now.Format(time.RFC3339Nano)}
	for _, id := range ids {
		cas := in[id]
		if id == "" || strings.IndexFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0 {
			return nil, fmt.Errorf("msps: MSP ID %q must be non-empty without spaces or control characters", id)
		}
		if len(cas.Roots) == 0 {
			return nil, fmt.Errorf("msps.%s.roots: must hold at least one root certificate", id)
		}
		if len(cas.Roots) > MaxCAsPerMSP || len(cas.Intermediates) > MaxCAsPerMSP {
			return nil, fmt.Errorf("msps.%s: at most %d roots and %d intermediates", id, MaxCAsPerMSP, MaxCAsPerMSP)
		}
		for i, p := range cas.Roots {
			if _, err := parseCA(p); err != nil {
				return nil, fmt.Errorf("msps.%s.roots[%d]: %w", id, i, err)
			}
		}
		for i, p := range cas.Intermediates {
			if _, err := parseCA(p); err != nil {
				return nil, fmt.Errorf("msps.%s.intermediates[%d]: %w", id, i, err)
			}
		}
		inter := cas.Intermediates
		if inter == nil {
			inter = []string{}
		}
		st.MSPs = append(st.MSPs, storedMSP{MSPID: id, Roots: cas.Roots, Intermediates: inter})
	}
	if err := putJSON(stub, key, &st); err != nil {
		return nil, err
	}
	return &MSPsResult{MSPs: ids, Initialized: st.Initialized}, nil
}

// parseCA parses one PEM CA certificate.
func parseCA(p string) (*x509.Certificate, error) {
	rest := []byte(p)
	block, rest := pem.Decode(rest)
	if block == nil {
		return nil, errors.New("no PEM certificate")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("holds more than one PEM block; give each certificate as its own entry")
	}
	cert, err := signedsla.ParseCertificatePEM([]byte(p))
	if err != nil {
		return nil, err
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("certificate %q is not a CA certificate", cert.Subject.CommonName)
	}
	return cert, nil
}

// loadTrust reads the MSP certificates set by InitMSPs.
func loadTrust(stub shim.ChaincodeStubInterface) (*trust, error) {
	key, err := mspsKey(stub)
	if err != nil {
		return nil, err
	}
	var st storedMSPs
	found, err := getJSON(stub, key, &st)
	if err != nil {
		return nil, fmt.Errorf("MSP roots: %w", err)
	}
	if !found {
		return nil, errors.New("the MSP roots are not set: call InitMSPs first (deploy step)")
	}
	t := &trust{roots: map[string]*x509.CertPool{}, intermediates: map[string]*x509.CertPool{}}
	for _, m := range st.MSPs {
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		for _, p := range m.Roots {
			c, err := parseCA(p)
			if err != nil {
				return nil, fmt.Errorf("stored roots of %s: %w", m.MSPID, err)
			}
			roots.AddCert(c)
		}
		for _, p := range m.Intermediates {
			c, err := parseCA(p)
			if err != nil {
				return nil, fmt.Errorf("stored intermediates of %s: %w", m.MSPID, err)
			}
			inter.AddCert(c)
		}
		t.roots[m.MSPID], t.intermediates[m.MSPID] = roots, inter
	}
	return t, nil
}

// options returns signedsla options chaining to these roots at time at.
func (t *trust) options(at time.Time) signedsla.Options {
	return signedsla.Options{Roots: t.roots, Intermediates: t.intermediates, At: at}
}

// chain checks that cert chains to the roots of MSP mspID at time at.
func (t *trust) chain(mspID string, cert *x509.Certificate, at time.Time) error {
	roots, ok := t.roots[mspID]
	if !ok {
		return fmt.Errorf("MSP %q is not one of the channel's MSPs known to the enclave", mspID)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: t.intermediates[mspID], CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("certificate %q does not chain to the roots of MSP %q: %w", cert.Subject.CommonName, mspID, err)
	}
	return nil
}
