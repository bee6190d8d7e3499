package runtime

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hyperledger/fabric-chaincode-go/shim"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/fpc/protocol"
	"github.com/slasa/slasa/internal/deploycfg"
)

// Simulated is the enclave backend for hosts without SGX. It implements the
// FPC protocol in process. It protects nothing from the host that runs it:
// use it for development, tests and demos, never for confidential data in
// production. Its credentials carry attestation type "simulated".
type Simulated struct {
	cc       shim.Chaincode
	sealPath string

	mu        sync.Mutex
	signKey   *ecdsa.PrivateKey
	chaincode *rsa.PrivateKey
	state     *protocol.StateCipher
	stateKey  []byte
	id        string
	// boundTo is the digest of the deploy configuration the keys are bound
	// to (empty until the first Init); cfg is that configuration, nil until
	// Init succeeded in this process.
	boundTo string
	cfg     *deploycfg.Config
}

// SimulatedOption configures a Simulated enclave.
type SimulatedOption func(*Simulated)

// WithSimulatedSealing keeps the enclave's keys in a file (mode 0600) so that
// a restarted process keeps its identity and can read its state. SIMULATED
// sealing: the keys are protected by file permissions only, where SGX would
// seal them to the enclave measurement.
func WithSimulatedSealing(path string) SimulatedOption {
	return func(s *Simulated) { s.sealPath = path }
}

// NewSimulated returns a simulated enclave running cc.
func NewSimulated(cc shim.Chaincode, opts ...SimulatedOption) *Simulated {
	s := &Simulated{cc: cc}
	for _, o := range opts {
		o(s)
	}
	return s
}

// sealedKeys is the simulated-sealing file format.
type sealedKeys struct {
	Warning   string `json:"warning"`
	SignKey   []byte `json:"sign_key"`      // PKCS#8
	Chaincode []byte `json:"chaincode_key"` // PKCS#8
	StateKey  []byte `json:"state_key"`
	// ConfigDigest is the deploy configuration the keys are bound to.
	ConfigDigest string `json:"config_digest"`
}

// ID returns the enclave id, empty before Init.
func (s *Simulated) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// ensureKeys loads the sealed keys or makes new ones; fresh reports the
// latter (they are not sealed yet).
func (s *Simulated) ensureKeys() (fresh bool, err error) {
	if s.signKey != nil {
		return false, nil
	}
	if s.sealPath != "" {
		if raw, err := os.ReadFile(s.sealPath); err == nil {
			return false, s.unseal(raw)
		} else if !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("read sealed keys: %w", err)
		}
	}
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, fmt.Errorf("generate enclave signing key: %w", err)
	}
	ek, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return false, fmt.Errorf("generate chaincode encryption key: %w", err)
	}
	stateKey, err := protocol.NewKey()
	if err != nil {
		return false, err
	}
	return true, s.setKeys(sk, ek, stateKey)
}

func (s *Simulated) setKeys(sk *ecdsa.PrivateKey, ek *rsa.PrivateKey, stateKey []byte) error {
	cipher, err := protocol.NewStateCipher(stateKey)
	if err != nil {
		return err
	}
	id, err := credentials.EnclaveID(&sk.PublicKey)
	if err != nil {
		return err
	}
	s.signKey, s.chaincode, s.state, s.stateKey, s.id = sk, ek, cipher, stateKey, id
	return nil
}

func (s *Simulated) seal() error {
	skDER, err := x509.MarshalPKCS8PrivateKey(s.signKey)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	ekDER, err := x509.MarshalPKCS8PrivateKey(s.chaincode)
	if err != nil {
		return fmt.Errorf("encode chaincode key: %w", err)
	}
	raw, err := json.Marshal(sealedKeys{Warning: "SIMULATED enclave sealing: these keys are not protected by SGX",
		SignKey: skDER, Chaincode: ekDER, StateKey: s.stateKey, ConfigDigest: s.boundTo})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.sealPath), 0o700); err != nil {
		return fmt.Errorf("seal keys: %w", err)
	}
	tmp := s.sealPath + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("seal keys: %w", err)
	}
	return os.Rename(tmp, s.sealPath)
}

func (s *Simulated) unseal(raw []byte) error {
	var k sealedKeys
	if err := json.Unmarshal(raw, &k); err != nil {
		return fmt.Errorf("sealed keys: %w", err)
	}
	skAny, err := x509.ParsePKCS8PrivateKey(k.SignKey)
	if err != nil {
		return fmt.Errorf("sealed signing key: %w", err)
	}
	ekAny, err := x509.ParsePKCS8PrivateKey(k.Chaincode)
	if err != nil {
		return fmt.Errorf("sealed chaincode key: %w", err)
	}
	sk, ok1 := skAny.(*ecdsa.PrivateKey)
	ek, ok2 := ekAny.(*rsa.PrivateKey)
	if !ok1 || !ok2 {
		return errors.New("sealed keys: unexpected key types")
	}
	if err := s.setKeys(sk, ek, k.StateKey); err != nil {
		return err
	}
	s.boundTo = k.ConfigDigest
	return nil
}

// Init creates (or unseals) the keys, binds them to the deploy
// configuration of p on first use and returns simulated credentials
// attesting the configuration's digest. Keys bound to another configuration
// are refused: a new configuration (other trust anchors) needs a new
// enclave, registered anew, which the SLAs pinned to this one do not follow
// without a handover.
func (s *Simulated) Init(p InitParams) (*credentials.Credentials, error) {
	if p.Config == nil {
		return nil, errors.New("init parameters: no deploy configuration")
	}
	cfg := *p.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("init parameters: deploy configuration: %w", err)
	}
	cfg.Normalize()
	digest, err := cfg.Digest()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh, err := s.ensureKeys()
	if err != nil {
		return nil, err
	}
	// mutate:check init-config-binding
	if s.boundTo != "" && s.boundTo != digest {
		return nil, fmt.Errorf("the enclave's keys are bound to deploy configuration %s; it is not initialised with another (%s): start a new enclave (without the sealed keys) and register it",
			s.boundTo, digest)
	}
	bind := s.boundTo == ""
	s.boundTo, s.cfg = digest, &cfg
	if s.sealPath != "" && (fresh || bind) {
		if err := s.seal(); err != nil {
			return nil, err
		}
	}
	vk, err := credentials.MarshalPublicKey(&s.signKey.PublicKey)
	if err != nil {
		return nil, err
	}
	ek, err := credentials.MarshalPublicKey(&s.chaincode.PublicKey)
	if err != nil {
		return nil, err
	}
	return credentials.NewSimulated(credentials.AttestedData{
		Channel: p.Channel, Chaincode: p.Chaincode, ChaincodeVersion: p.ChaincodeVersion,
		ChaincodeSequence: p.ChaincodeSequence, PeerMSPID: p.PeerMSPID, Endpoint: p.Endpoint,
		EnclaveVK: vk, ChaincodeEK: ek, ConfigDigest: digest,
	}, s.signKey)
}

// Resume readies an enclave restarted with sealed keys (WithSimulatedSealing)
// that an earlier process bound to cfg, as that process was after its Init:
// the same keys, enclave id and registration, so a chaincode server that
// crashed or was restarted serves __invoke again without its host's admin
// calling __initEnclave. It reports false and changes nothing when there is
// no sealing file, no sealed keys yet, or keys bound to another
// configuration (the admin then initialises and registers an enclave as for
// a new one, and Init refuses the other configuration's keys).
func (s *Simulated) Resume(cfg *deploycfg.Config) (bool, error) {
	if s.sealPath == "" || cfg == nil {
		return false, nil
	}
	c := *cfg
	c.Normalize()
	digest, err := c.Digest()
	if err != nil {
		return false, err
	}
	raw, err := os.ReadFile(s.sealPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read sealed keys: %w", err)
	}
	var bound struct {
		ConfigDigest string `json:"config_digest"`
	}
	if err := json.Unmarshal(raw, &bound); err != nil {
		return false, fmt.Errorf("sealed keys: %w", err)
	}
	// mutate:check resume-config-binding
	if bound.ConfigDigest == "" || bound.ConfigDigest != digest {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signKey == nil {
		if err := s.unseal(raw); err != nil {
			return false, err
		}
	}
	s.cfg = &c
	return true, nil
}

// Invoke runs one request inside the (simulated) enclave.
func (s *Simulated) Invoke(host Host, req *protocol.RequestMessage) (*protocol.SignedResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signKey == nil || s.cfg == nil {
		return nil, errors.New("enclave is not initialised: call __initEnclave and register it first")
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	propBytes, info, err := checkInvokeProposal(host, reqJSON)
	if err != nil {
		return nil, err
	}
	session, err := protocol.OpenRequest(req, s.chaincode)
	if err != nil {
		return nil, err
	}
	svc := &services{id: s.id, chaincode: info.Chaincode, sign: s.signKey, decrypt: s.chaincode, cfg: s.cfg, stateKey: s.stateKey}
	stub := newEnclaveStub(host, info.Timestamp, svc, s.state, session.Request)
	resp := s.cc.Invoke(stub)
	result := protocol.Result{Status: resp.Status, Message: resp.Message, Payload: resp.Payload}
	rwset := stub.rwset()
	if resp.Status >= shim.ERRORTHRESHOLD {
		// A failed invocation changes nothing.
		rwset = protocol.RWSet{Reads: []protocol.Read{}, Writes: []protocol.Write{}}
	}
	enc, err := session.SealResult(result)
	if err != nil {
		return nil, err
	}
	return protocol.SignResponse(&protocol.Response{
		EncryptedResult: enc, RWSet: rwset, Proposal: propBytes, RequestHash: session.RequestHash, EnclaveID: s.id,
	}, s.signKey)
}
