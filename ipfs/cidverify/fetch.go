package cidverify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	cid "github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// Limits of the verifying fetcher.
const (
	// DefaultMaxSize is the default limit on the bytes of one fetched file (64 MiB).
	DefaultMaxSize = 64 << 20
	// MaxBlockSize is the largest block accepted from a BlockSource (2 MiB, twice kubo's own 1 MiB limit).
	MaxBlockSize = 2 << 20
	// DefaultMaxBlocks is the default limit on the blocks one fetch may request. A kubo DAG of 64 MiB has 258
	// blocks; the limit only stops hostile DAGs that link the same empty block over and over.
	DefaultMaxBlocks = 1 << 16
	// MaxDepth is the deepest DAG accepted (a balanced 174-ary DAG of 262144-byte chunks needs depth 4 for
	// 236 GB, so 16 is generous and bounds the recursion).
	MaxDepth = 16
)

// BlockSource returns the raw bytes of one block, unverified. Implementations need not be trusted.
type BlockSource interface {
	// Block returns the bytes of the block named c.
	Block(ctx context.Context, c cid.Cid) ([]byte, error)
}

// KuboAPI is a BlockSource backed by a kubo node's HTTP RPC API (POST /api/v0/block/get).
type KuboAPI struct {
	// URL is the base URL of the API, e.g. "http://127.0.0.1:27080" (a bare "host:port" is accepted too).
	URL string
	// Client is the HTTP client to use; nil means http.DefaultClient. Set its Timeout, or pass a context with a
	// deadline, to bound each request.
	Client *http.Client
}

// SourceError reports that a BlockSource failed to deliver a block (as opposed to delivering a wrong one).
type SourceError struct {
	// Cid is the block that was asked for.
	Cid cid.Cid
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *SourceError) Error() string {
	return fmt.Sprintf("cidverify: fetching block %s: %v", e.Cid, e.Err)
}

// Unwrap returns the underlying error.
func (e *SourceError) Unwrap() error { return e.Err }

// Block implements BlockSource.
func (k KuboAPI) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	base := k.URL
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u := strings.TrimRight(base, "/") + "/api/v0/block/get?arg=" + url.QueryEscape(c.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	client := k.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBlockSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var kerr struct{ Message string }
		if json.Unmarshal(body, &kerr) == nil && kerr.Message != "" {
			return nil, fmt.Errorf("kubo API answered %s: %s", resp.Status, kerr.Message)
		}
		return nil, fmt.Errorf("kubo API answered %s", resp.Status)
	}
	if len(body) > MaxBlockSize {
		return nil, fmt.Errorf("block is larger than %d bytes", MaxBlockSize)
	}
	return body, nil
}

// Fetcher reads a UnixFS file from an untrusted BlockSource, checking every block against its CID before using
// it, so that whatever it returns is exactly the content the root CID names.
type Fetcher struct {
	// Source delivers raw blocks.
	Source BlockSource
	// MaxSize limits the bytes of the file; 0 means DefaultMaxSize.
	MaxSize int64
	// MaxBlocks limits the blocks requested from Source; 0 means DefaultMaxBlocks.
	MaxBlocks int
}

// FetchBytes returns the verified content of root.
func (f *Fetcher) FetchBytes(ctx context.Context, root cid.Cid) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := f.Fetch(ctx, root, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Fetch writes the content of root to w and returns the number of bytes written. Bytes are written as soon as
// the block holding them has been verified; on error, what was written is a correct prefix of the content but
// the caller must discard it. Errors are a *MismatchError (a block does not hash to its CID, or the DAG
// contradicts itself), a *SourceError (the source failed), or an error naming the limit or the malformed node.
func (f *Fetcher) Fetch(ctx context.Context, root cid.Cid, w io.Writer) (int64, error) {
	if f.Source == nil {
		return 0, errors.New("cidverify: Fetcher.Source is nil")
	}
	if err := CheckCID(root); err != nil {
		return 0, err
	}
	max := f.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	maxBlocks := f.MaxBlocks
	if maxBlocks <= 0 {
		maxBlocks = DefaultMaxBlocks
	}
	wk := &walker{src: f.Source, w: w, max: max, root: root, blocksLeft: maxBlocks}
	n, err := wk.node(ctx, root, 0)
	return n, err
}

type walker struct {
	src     BlockSource
	w       io.Writer
	max     int64
	written int64
	root    cid.Cid
	// blocksLeft is the remaining block budget.
	blocksLeft int
}

// block fetches c and checks that its bytes hash to c.
func (wk *walker) block(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if wk.blocksLeft <= 0 {
		return nil, fmt.Errorf("cidverify: DAG of %s needs more blocks than the limit", wk.root)
	}
	wk.blocksLeft--
	data, err := wk.src.Block(ctx, c)
	if err != nil {
		return nil, &SourceError{Cid: c, Err: err}
	}
	if len(data) > MaxBlockSize {
		return nil, fmt.Errorf("cidverify: block %s is %d bytes, more than %d", c, len(data), MaxBlockSize)
	}
	got, err := c.Prefix().Sum(data)
	if err != nil {
		return nil, fmt.Errorf("cidverify: hashing block %s: %w", c, err)
	}
	if !got.Equals(c) {
		return nil, &MismatchError{Want: c, Got: got, What: "block digest (of a block of root " + wk.root.String() + ")", Size: int64(len(data))}
	}
	return data, nil
}

func (wk *walker) emit(data []byte) error {
	if wk.written+int64(len(data)) > wk.max {
		return fmt.Errorf("cidverify: content of %s exceeds the size limit of %d bytes", wk.root, wk.max)
	}
	n, err := wk.w.Write(data)
	wk.written += int64(n)
	if err != nil {
		return fmt.Errorf("cidverify: writing content: %w", err)
	}
	return nil
}

// node writes the content of the (sub-)DAG c and returns its length.
func (wk *walker) node(ctx context.Context, c cid.Cid, depth int) (int64, error) {
	if depth > MaxDepth {
		return 0, fmt.Errorf("cidverify: DAG of %s is deeper than %d levels", wk.root, MaxDepth)
	}
	p := c.Prefix()
	if p.MhType != mh.SHA2_256 || p.MhLength != 32 {
		return 0, fmt.Errorf("cidverify: block %s: hash function must be a 32-byte sha2-256", c)
	}
	data, err := wk.block(ctx, c)
	if err != nil {
		return 0, err
	}
	switch p.Codec {
	case cid.Raw:
		return int64(len(data)), wk.emit(data)
	case cid.DagProtobuf:
	default:
		return 0, fmt.Errorf("cidverify: block %s: codec %s is not a UnixFS file codec (raw or dag-pb)", c, codecName(p.Codec))
	}
	pn, err := dag.DecodeProtobuf(data)
	if err != nil {
		return 0, fmt.Errorf("cidverify: block %s is not valid dag-pb: %w", c, err)
	}
	fsn, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil {
		return 0, fmt.Errorf("cidverify: block %s is not a UnixFS node: %w", c, err)
	}
	if t := fsn.Type(); t != pb.Data_File && t != pb.Data_Raw {
		return 0, fmt.Errorf("cidverify: block %s is a UnixFS %s, not a file", c, t)
	}
	links := pn.Links()
	if len(links) > 0 && len(fsn.BlockSizes()) != len(links) {
		return 0, &MismatchError{Want: c, What: fmt.Sprintf("node structure (%d links but %d block sizes)", len(links), len(fsn.BlockSizes()))}
	}
	if want := fsn.FileSize(); want > uint64(wk.max-wk.written) {
		return 0, fmt.Errorf("cidverify: content of %s exceeds the size limit of %d bytes (node %s declares %d bytes)", wk.root, wk.max, c, want)
	}
	total := int64(len(fsn.Data()))
	if err := wk.emit(fsn.Data()); err != nil {
		return 0, err
	}
	for i, l := range links {
		n, err := wk.node(ctx, l.Cid, depth+1)
		if err != nil {
			return 0, err
		}
		if uint64(n) != fsn.BlockSize(i) {
			return 0, &MismatchError{Want: c, What: fmt.Sprintf("child %d size (%d bytes, node declares %d)", i, n, fsn.BlockSize(i))}
		}
		total += n
	}
	if uint64(total) != fsn.FileSize() {
		return 0, &MismatchError{Want: c, What: fmt.Sprintf("file size (%d bytes, node declares %d)", total, fsn.FileSize())}
	}
	return total, nil
}
