// Package cidverify recomputes and checks IPFS content identifiers (CIDs) of log batches.
//
// The slasa Cloud Logger adds each batch to a kubo node with `ipfs add --cid-version=1`; the enclave later
// obtains the batch through the untrusted tunneling shim and must not accept bytes that do not belong to the
// anchored CID. This package offers two independent ways to check that:
//
//   - Sum and Verify recompute the CID of a byte slice exactly as kubo's `ipfs add --cid-version=1` does (boxo
//     UnixFS importer: fixed-size chunker of 262144 bytes, balanced layout, at most 174 links per node, raw
//     leaves, CIDv1, dag-pb internal nodes, sha2-256) and compare it with the expected CID.
//   - Fetcher walks a CID's DAG block by block from a BlockSource (for example the kubo HTTP API's block/get),
//     checks every block against the CID that names it before using it, and streams the file's bytes in order.
//     A lying node or proxy can make the fetch fail but cannot make it return wrong bytes.
//
// Verify only accepts bytes whose DAG was built with kubo's default parameters above; Fetcher accepts any
// well-formed UnixFS file DAG (raw or dag-pb leaves, any chunking), because every block is hash-checked.
//
// The package is pure Go and imports nothing from Fabric, so the enclave's chaincode can use it.
package cidverify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/multiformats/go-multicodec"
	mh "github.com/multiformats/go-multihash"
)

// Kubo's `ipfs add` defaults that determine the shape of the DAG, and therefore the CID.
const (
	// ChunkSize is the size of every leaf but the last (kubo's chunker "size-262144").
	ChunkSize = 262144
	// MaxLinks is the maximum number of children of an internal node (kubo's balanced layout).
	MaxLinks = 174
)

// Prefix is the CID prefix of `ipfs add --cid-version=1`: CIDv1, dag-pb internal nodes, sha2-256 with its
// default length. Leaves get the raw codec with the same hash.
var Prefix = cid.Prefix{Version: 1, Codec: cid.DagProtobuf, MhType: mh.SHA2_256, MhLength: -1}

// Sum returns the CID that `ipfs add --cid-version=1` (kubo v0.32, default chunker and layout) gives data.
func Sum(data []byte) (cid.Cid, error) {
	return SumReader(bytes.NewReader(data))
}

// SumReader is Sum for a stream; it reads r to its end and keeps at most one chunk and the pending internal
// nodes in memory.
func SumReader(r io.Reader) (cid.Cid, error) {
	root, err := build(r, discardDAG{})
	if err != nil {
		return cid.Undef, err
	}
	return root.Cid(), nil
}

// build imports r with kubo's parameters, adding every node to dserv, and returns the root node.
func build(r io.Reader, dserv ipld.DAGService) (ipld.Node, error) {
	params := helpers.DagBuilderParams{
		Maxlinks:   MaxLinks,
		RawLeaves:  true,
		CidBuilder: Prefix,
		Dagserv:    dserv,
	}
	db, err := params.New(chunker.NewSizeSplitter(r, ChunkSize))
	if err != nil {
		return nil, fmt.Errorf("cidverify: setting up the importer: %w", err)
	}
	root, err := balanced.Layout(db)
	if err != nil {
		return nil, fmt.Errorf("cidverify: building the DAG: %w", err)
	}
	return root, nil
}

// MismatchError reports that data does not belong to the expected CID.
type MismatchError struct {
	// Want is the expected CID.
	Want cid.Cid
	// Got is the CID recomputed from the data (cid.Undef when the mismatch was found before recomputing).
	Got cid.Cid
	// What names the property that differs, e.g. "root digest" or "block digest".
	What string
	// Size is the number of bytes that were checked.
	Size int64
}

// Error implements error.
func (e *MismatchError) Error() string {
	if e.Got.Defined() {
		return fmt.Sprintf("cidverify: %s mismatch: %d bytes hash to %s, want %s", e.What, e.Size, e.Got, e.Want)
	}
	return fmt.Sprintf("cidverify: %s mismatch for %s (%d bytes)", e.What, e.Want, e.Size)
}

// ErrMismatch is matched by errors.Is for every *MismatchError.
var ErrMismatch = errors.New("cidverify: content does not match its CID")

// Is lets errors.Is(err, ErrMismatch) match a *MismatchError.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Verify checks that data is exactly the content kubo names want when adding it with `--cid-version=1`.
// It fails with an error naming the unsupported CID property (version, codec, hash function, digest length)
// or, as a *MismatchError, naming what differs between want and the CID recomputed from data.
func Verify(want cid.Cid, data []byte) error {
	if err := CheckCID(want); err != nil {
		return err
	}
	got, err := Sum(data)
	if err != nil {
		return err
	}
	if got.Equals(want) {
		return nil
	}
	what := "root digest"
	if got.Type() != want.Type() {
		// A file of at most one chunk is a single raw block; a larger one has a dag-pb root.
		what = fmt.Sprintf("root codec (data gives %s, want %s: the sizes differ)", codecName(got.Type()), codecName(want.Type()))
	}
	return &MismatchError{Want: want, Got: got, What: what, Size: int64(len(data))}
}

// CheckCID returns an error naming the first property of c that kubo's `ipfs add --cid-version=1` never
// produces: a version other than 1, a codec other than raw or dag-pb, a hash other than a 32-byte sha2-256.
func CheckCID(c cid.Cid) error {
	if !c.Defined() {
		return errors.New("cidverify: CID is undefined")
	}
	p := c.Prefix()
	if p.Version != 1 {
		return fmt.Errorf("cidverify: CID %s: version is %d, want 1 (add with --cid-version=1)", c, p.Version)
	}
	if p.Codec != cid.Raw && p.Codec != cid.DagProtobuf {
		return fmt.Errorf("cidverify: CID %s: codec is %s, want raw or dag-pb", c, codecName(p.Codec))
	}
	if p.MhType != mh.SHA2_256 {
		return fmt.Errorf("cidverify: CID %s: hash function is %s, want sha2-256", c, hashName(p.MhType))
	}
	if p.MhLength != 32 {
		return fmt.Errorf("cidverify: CID %s: digest length is %d, want 32", c, p.MhLength)
	}
	return nil
}

// Parse decodes s (any multibase encoding of a CIDv1) and checks it with CheckCID.
func Parse(s string) (cid.Cid, error) {
	if s == "" {
		return cid.Undef, errors.New("cidverify: CID is empty")
	}
	if len(s) > 128 {
		return cid.Undef, fmt.Errorf("cidverify: CID is %d characters long, at most 128 allowed", len(s))
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("cidverify: CID %q does not parse: %w", s, err)
	}
	if err := CheckCID(c); err != nil {
		return cid.Undef, err
	}
	return c, nil
}

func codecName(c uint64) string {
	switch c {
	case cid.Raw:
		return "raw"
	case cid.DagProtobuf:
		return "dag-pb"
	}
	return fmt.Sprintf("%s (0x%x)", multicodec.Code(c), c)
}

func hashName(code uint64) string {
	if name, ok := mh.Codes[code]; ok {
		return name
	}
	return fmt.Sprintf("0x%x", code)
}

// discardDAG is an ipld.DAGService that keeps nothing: the importer only adds nodes, and Sum only needs the
// root's CID, so memory stays bounded by one chunk plus the open internal nodes.
type discardDAG struct{}

func (discardDAG) Get(_ context.Context, c cid.Cid) (ipld.Node, error) {
	return nil, ipld.ErrNotFound{Cid: c}
}

func (discardDAG) GetMany(_ context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	ch := make(chan *ipld.NodeOption, len(cs))
	for _, c := range cs {
		ch <- &ipld.NodeOption{Err: ipld.ErrNotFound{Cid: c}}
	}
	close(ch)
	return ch
}

func (discardDAG) Add(context.Context, ipld.Node) error        { return nil }
func (discardDAG) AddMany(context.Context, []ipld.Node) error  { return nil }
func (discardDAG) Remove(context.Context, cid.Cid) error       { return nil }
func (discardDAG) RemoveMany(context.Context, []cid.Cid) error { return nil }
