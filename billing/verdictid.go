package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/slasa/slasa/verdict"
)

// VerdictID is the identifier billing documents give an enclave verdict:
// the lower-case hex SHA-256 of the exact bytes the enclave signed
// (verdict.Verdict.SigningBytes: the domain tag and the verdict's JSON).
// The ledger stores no verdict id, but the refund chaincode's settlement
// record holds every field of the verdict it settled (SLA id and digest,
// period, violated, credit tier and amount, penalty, currency, terminate,
// report digest, batch, chaincode, enclave id), so anyone with the record
// rebuilds the verdict and recomputes the id; any changed field changes
// it.
func VerdictID(v *verdict.Verdict) (string, error) {
	b, err := v.SigningBytes()
	if err != nil {
		return "", fmt.Errorf("verdict id: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
