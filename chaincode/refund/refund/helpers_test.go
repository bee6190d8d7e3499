package refund_test

import (
	"crypto/ecdsa"

	"github.com/slasa/slasa/verdict"
)

func enclaveID(pub *ecdsa.PublicKey) (string, error) { return verdict.EnclaveIDOf(pub) }
