package slaenclave

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	//lint:ignore SA1019 fabric-protos-go v0.3 messages (v1 shim side) are APIv1 messages without ProtoReflect
	"github.com/golang/protobuf/proto"
	"github.com/hyperledger/fabric-chaincode-go/shim"
	"github.com/hyperledger/fabric-protos-go/msp"
	pb "github.com/hyperledger/fabric-protos-go/peer"

	"github.com/slasa/slasa/internal/deploycfg"
	"github.com/slasa/slasa/signedsla"
)

// Function names.
const (
	FnRegisterAgreement  = "RegisterAgreement"
	FnIngestBatch        = "IngestBatch"
	FnEvaluate           = "Evaluate"
	FnGetAgreementStatus = "GetAgreementStatus"
)

// Composite key object types of the chaincode's state.
const (
	keySLA     = "slaenclave.sla"
	keyHead    = "slaenclave.head"
	keyPeriod  = "slaenclave.period"
	keyPage    = "slaenclave.page"
	keyVerdict = "slaenclave.verdict"
)

// stateFormat is the version of the chaincode's state layout: 2 splits
// the agreement into its record and its chain head and stores a period's
// aggregate as a header and pages (driver.Accumulator.MarshalPaged).
// State of another version is refused.
const stateFormat = 2

// Services are what the enclave offers this chaincode beyond the stub. The
// stub of the slasa FPC runtime implements it (it is structurally
// runtime.Services); an SGX build provides the same methods.
type Services interface {
	// Fetch returns content by CID through the untrusted tunneling shim.
	Fetch(id string) ([]byte, error)
	// EnclaveID is the enclave's id (upper-case hex SHA-256 of its verifying key).
	EnclaveID() string
	// ChaincodeName is the name of the chaincode the enclave serves.
	ChaincodeName() string
	// SignAsEnclave returns the enclave's ASN.1 ECDSA signature over SHA-256(msg).
	SignAsEnclave(msg []byte) ([]byte, error)
	// ChaincodeDecryptionKey is the private chaincode encryption key.
	ChaincodeDecryptionKey() *rsa.PrivateKey
	// DeployConfig is the deploy configuration the enclave was initialised
	// with and attested: the CA roots the chaincode trusts.
	DeployConfig() *deploycfg.Config
	// DeriveKey returns a 32-byte key derived from the enclave's sealed
	// state key (HKDF-SHA256, info = label || 0x00 || context).
	DeriveKey(label string, context []byte) ([]byte, error)
}

// Chaincode is the SLA enclave chaincode. The zero value is ready to use.
type Chaincode struct{}

var _ shim.Chaincode = Chaincode{}

// Init does nothing: the chaincode keeps no state until RegisterAgreement.
func (Chaincode) Init(shim.ChaincodeStubInterface) pb.Response { return shim.Success(nil) }

// Invoke dispatches a function; see the package documentation.
func (Chaincode) Invoke(stub shim.ChaincodeStubInterface) pb.Response {
	fn, args := stub.GetFunctionAndParameters()
	var (
		out any
		err error
	)
	switch fn {
	case FnRegisterAgreement:
		out, err = registerAgreement(stub, args)
	case FnIngestBatch:
		out, err = ingestBatch(stub, args)
	case FnEvaluate:
		out, err = evaluate(stub, args)
	case FnGetAgreementStatus:
		out, err = agreementStatus(stub, args)
	default:
		err = fmt.Errorf("unknown function %q; the functions are %s, %s, %s, %s", fn,
			FnRegisterAgreement, FnIngestBatch, FnEvaluate, FnGetAgreementStatus)
	}
	if err != nil {
		return shim.Error(fmt.Sprintf("%s: %v", fn, err))
	}
	payload, err := marshal(out)
	if err != nil {
		return shim.Error(fmt.Sprintf("%s: encode result: %v", fn, err))
	}
	return shim.Success(payload)
}

// marshal encodes v as compact JSON without HTML escaping and without a
// trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// services returns the enclave services of stub.
func services(stub shim.ChaincodeStubInterface) (Services, error) {
	svc, ok := stub.(Services)
	if !ok {
		return nil, errors.New("enclave services are unavailable: this chaincode runs only inside an FPC enclave")
	}
	return svc, nil
}

// txTime returns the transaction timestamp in UTC: inside the enclave, the
// timestamp of the signed proposal, which every endorsing peer's __endorse
// checks against its own clock.
func txTime(stub shim.ChaincodeStubInterface) (time.Time, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("transaction timestamp: %w", err)
	}
	if ts == nil {
		return time.Time{}, errors.New("transaction timestamp: not set")
	}
	return time.Unix(ts.Seconds, int64(ts.Nanos)).UTC(), nil
}

// getJSON reads and decodes the state under key; found is false when the
// key is absent.
func getJSON(stub shim.ChaincodeStubInterface, key string, v any) (found bool, err error) {
	raw, err := stub.GetState(key)
	if err != nil {
		return false, fmt.Errorf("read state: %w", err)
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode state: %w", err)
	}
	return true, nil
}

// putJSON encodes v and writes it under key, which carries the key-level
// endorsement policy policy (see put).
func putJSON(stub shim.ChaincodeStubInterface, key string, v any, policy []byte) error {
	raw, err := marshal(v)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return put(stub, key, raw, policy)
}

// put writes value under key and names the key-level endorsement policy
// the key carries: the runtime's __endorse sets it when the write creates
// the key, never again.
func put(stub shim.ChaincodeStubInterface, key string, value, policy []byte) error {
	if err := stub.PutState(key, value); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := stub.SetStateValidationParameter(key, policy); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// caller returns the MSP ID and certificate of the transaction's creator.
// The enclave runtime has checked the creator's signature on the proposal;
// callers of this function still chain the certificate to the MSP's roots,
// because a host that runs the enclave could make up a creator.
func caller(stub shim.ChaincodeStubInterface) (string, *x509.Certificate, error) {
	raw, err := stub.GetCreator()
	if err != nil {
		return "", nil, fmt.Errorf("creator: %w", err)
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(raw, &id); err != nil {
		return "", nil, fmt.Errorf("creator: %w", err)
	}
	cert, err := signedsla.ParseCertificatePEM(id.IdBytes)
	if err != nil {
		return "", nil, fmt.Errorf("creator %w", err)
	}
	return id.Mspid, cert, nil
}
