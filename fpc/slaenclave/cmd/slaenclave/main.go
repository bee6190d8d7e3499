// Command slaenclave runs the SLA enclave chaincode (package slaenclave) as
// a Fabric Private Chaincode in a SIMULATED enclave, served as a
// chaincode-as-a-service (v1 shim, TLS off).
//
// Environment:
//
//	CHAINCODE_ID              the package id from the peer (required)
//	CHAINCODE_SERVER_ADDRESS  host:port to listen on (required)
//	SLASA_SHIM_URL            the tunneling shim ("http://127.0.0.1:27082"); without it IngestBatch fails
//	SLASA_ENCLAVE_SEAL_FILE   keep the enclave keys in this file (mode 0600) across restarts (optional)
//	SLASA_ERCC_NAME           the enclave registry chaincode's name (default "ercc")
//
// The simulated enclave protects nothing from whoever runs this process; see
// fpc/README.md.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"
	"github.com/slasa/slasa/fpc/runtime"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/shim-tunnel/shimclient"
)

// fetchTimeout bounds one batch fetch through the shim.
const fetchTimeout = 60 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "slaenclave: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	ccid, addr := os.Getenv("CHAINCODE_ID"), os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if ccid == "" || addr == "" {
		return fmt.Errorf("CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set (chaincode as a service)")
	}
	logger := log.New(os.Stderr, "slaenclave: ", log.LstdFlags|log.LUTC)
	logger.Print("**************************************************************************")
	logger.Print("*** SIMULATED ENCLAVE: no SGX. Keys and plaintext are visible to the    ***")
	logger.Print("*** operator of this process. Attestation type \"simulated\". Do not use ***")
	logger.Print("*** it for confidential data in production.                             ***")
	logger.Print("**************************************************************************")

	var simOpts []runtime.SimulatedOption
	if seal := os.Getenv("SLASA_ENCLAVE_SEAL_FILE"); seal != "" {
		logger.Printf("SIMULATED sealing: enclave keys kept in %s (file permissions only, not SGX sealing)", seal)
		simOpts = append(simOpts, runtime.WithSimulatedSealing(seal))
	} else {
		logger.Print("no SLASA_ENCLAVE_SEAL_FILE: enclave keys live in memory; after a restart the enclave must be re-initialised and re-registered, and existing state becomes unreadable")
	}
	opts := []runtime.Option{}
	if name := os.Getenv("SLASA_ERCC_NAME"); name != "" {
		opts = append(opts, runtime.WithRegistry(name))
	}
	if url := os.Getenv("SLASA_SHIM_URL"); url != "" {
		client, err := shimclient.New(url)
		if err != nil {
			return fmt.Errorf("SLASA_SHIM_URL: %w", err)
		}
		opts = append(opts, runtime.WithFetcher(func(id string) ([]byte, error) {
			ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
			defer cancel()
			// Unverified here on purpose: the enclave checks the bytes
			// against the CID itself.
			return client.Fetch(ctx, id)
		}))
		logger.Printf("tunneling shim: %s", url)
	} else {
		logger.Print("WARNING: SLASA_SHIM_URL is not set: IngestBatch will fail until the enclave host has a tunneling shim")
	}
	cc := runtime.NewPrivateChaincode(runtime.NewSimulated(slaenclave.Chaincode{}, simOpts...), opts...)
	server := &shim.ChaincodeServer{CCID: ccid, Address: addr, CC: cc, TLSProps: shim.TLSProperties{Disabled: true}}
	logger.Printf("serving chaincode %s on %s (TLS off)", ccid, addr)
	return server.Start()
}
