// Command slaenclave runs the SLA enclave chaincode (package slaenclave) as
// a Fabric Private Chaincode in a SIMULATED enclave, served as a
// chaincode-as-a-service (v1 shim, TLS off). Every organization that
// endorses the enclave chaincode runs its own server; only the enclave host's
// is initialised (__initEnclave) and answers __invoke, the others verify the
// host enclave's responses in __endorse.
//
// Flags and environment:
//
//	-config FILE              the organization's deploy configuration (default $SLASA_DEPLOY_CONFIG); required
//	-max-clock-skew D         refuse __invoke and __endorse when a transaction timestamp is further than D
//	                          from this server's clock (default $SLASA_MAX_CLOCK_SKEW, else 5m)
//	CHAINCODE_ID              the package id from the peer (required)
//	CHAINCODE_SERVER_ADDRESS  host:port to listen on (required)
//	SLASA_SHIM_URL            the tunneling shim ("http://127.0.0.1:27082"); without it IngestBatch fails
//	SLASA_ENCLAVE_SEAL_FILE   keep the enclave keys in this file (mode 0600) across restarts (optional)
//
// It refuses to start without a valid deploy configuration. The enclave
// registry's name is the configuration's chaincodes.registry.
//
// The simulated enclave protects nothing from whoever runs this process; see
// fpc/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/fpc/runtime"
	"github.com/slasa/slasa/fpc/slaenclave"
	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/internal/skew"
	"github.com/slasa/slasa/shim-tunnel/shimclient"
)

// fetchTimeout bounds one batch fetch through the shim.
const fetchTimeout = 60 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "slaenclave: %v\n", err)
		os.Exit(1)
	}
}

// settings are what the command line and the environment choose.
type settings struct {
	cfg     *deploycfg.Config
	maxSkew time.Duration
}

// loadSettings reads -config and -max-clock-skew with their environment
// defaults and loads the deploy configuration.
func loadSettings(args []string) (*settings, error) {
	fs := flag.NewFlagSet("slaenclave", flag.ContinueOnError)
	path := fs.String("config", os.Getenv(deploycfg.EnvFile), "deploy configuration file (default $"+deploycfg.EnvFile+")")
	skewDefault, err := skew.FromEnv()
	if err != nil {
		return nil, err
	}
	maxSkew := fs.Duration("max-clock-skew", skewDefault, "refuse transactions whose timestamp is further than this from the peer's clock (default $"+skew.EnvVar+", else 5m)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := skew.Validate(*maxSkew); err != nil {
		return nil, err
	}
	cfg, err := deploycfg.Load(*path)
	if err != nil {
		return nil, err
	}
	return &settings{cfg: cfg, maxSkew: *maxSkew}, nil
}

func run(args []string) error {
	s, err := loadSettings(args)
	if err != nil {
		return err
	}
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
	opts := []runtime.Option{runtime.WithConfig(s.cfg), runtime.WithMaxSkew(s.maxSkew)}
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
	cc, err := runtime.NewPrivateChaincode(runtime.NewSimulated(slaenclave.Chaincode{}, simOpts...), opts...)
	if err != nil {
		return err
	}
	logger.Printf("deploy configuration %s: enclave %s hosted by %s, registry %s, %s attestation; max clock skew %s",
		cc.ConfigDigest(), s.cfg.Chaincodes.Enclave, s.cfg.Enclave.HostMSPID, s.cfg.Chaincodes.Registry, s.cfg.Enclave.Attestation, s.maxSkew)
	server := &shim.ChaincodeServer{CCID: ccid, Address: addr, CC: cc, TLSProps: shim.TLSProperties{Disabled: true}}
	logger.Printf("serving chaincode %s on %s (TLS off)", ccid, addr)
	return server.Start()
}
