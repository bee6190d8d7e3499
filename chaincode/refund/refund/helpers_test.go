package refund_test

import (
	"crypto/ecdsa"

	"github.com/slasa/slasa/verdict"
)

type verdictT = verdict.Verdict

func enclaveID(pub *ecdsa.PublicKey) (string, error) { return verdict.EnclaveIDOf(pub) }

// withEnclave returns v naming another enclave id.
func withEnclave(v verdict.Verdict, id string) verdict.Verdict {
	v.EnclaveID = id
	return v
}
