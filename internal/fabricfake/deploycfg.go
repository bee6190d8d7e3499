package fabricfake

import (
	"encoding/pem"

	"github.com/slasa/slasa/internal/deploycfg"
)

// PEM returns the CA's certificate, PEM encoded.
func (ca *CA) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
}

// DeployConfig returns a valid deploy configuration for tests: the MSPs of
// orgs run the chaincodes and approve it, the first is the issuer and hosts
// the enclave (simulated attestation); the CAs of orgs and others are the
// trusted CAs (two CAs of one MSP are that MSP's two roots). The chaincodes
// are agreement, refund, ercc and slaenclave on channel "slasa".
func DeployConfig(orgs []*CA, others ...*CA) *deploycfg.Config {
	c := &deploycfg.Config{
		Version: deploycfg.Version, Channel: "slasa",
		Chaincodes: deploycfg.Chaincodes{Agreement: "agreement", Refund: "refund", Registry: "ercc", Enclave: "slaenclave"},
		Enclave:    deploycfg.Enclave{Attestation: deploycfg.AttestationSimulated},
	}
	idx := map[string]int{}
	add := func(ca *CA) {
		i, ok := idx[ca.MSPID]
		if !ok {
			i = len(c.MSPs)
			idx[ca.MSPID] = i
			c.MSPs = append(c.MSPs, deploycfg.MSP{MSPID: ca.MSPID, Intermediates: []string{}})
		}
		c.MSPs[i].Roots = append(c.MSPs[i].Roots, ca.PEM())
	}
	for _, ca := range orgs {
		if _, ok := idx[ca.MSPID]; !ok {
			c.Orgs = append(c.Orgs, ca.MSPID)
		}
		add(ca)
	}
	for _, ca := range others {
		add(ca)
	}
	if len(orgs) > 0 {
		c.IssuerMSPID, c.Enclave.HostMSPID = orgs[0].MSPID, orgs[0].MSPID
	}
	c.Normalize()
	return c
}
