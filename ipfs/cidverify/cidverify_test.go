package cidverify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mbase "github.com/multiformats/go-multibase"
	mh "github.com/multiformats/go-multihash"
)

// testData returns n deterministic pseudo-random bytes (ChaCha8 with a fixed seed, stable across Go versions).
// The same generator, with the same seed, produced the files whose kubo CIDs are pinned below.
func testData(n int, seed byte) []byte {
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// Known answers: `ipfs add --cid-version=1 -Q` of kubo v0.32.1 on testData(size, 7).
var knownAnswers = []struct {
	name string
	size int
	cid  string
}{
	{"empty", 0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
	{"one byte", 1, "bafkreidcbp62undlbch3jgmy3exrtj7k6274f6yk5yavou4wnwqqfdfxge"},
	{"one full chunk", ChunkSize, "bafkreicl52svf5qbcgallf5oo4v377dvz7t645hryatdrry7h6yef5gaba"},
	{"one chunk plus one byte", ChunkSize + 1, "bafybeiajbccanhndympis4zsnsspsxhyibx2hpio5rkf4hqxbszjmjjpqm"},
	{"174 chunks, one full level", MaxLinks * ChunkSize, "bafybeid742rocuvyduuxcdbc3zutxos6etlpjtwplqysivtiximwf4j63u"},
	{"175 chunks, two levels", MaxLinks*ChunkSize + 1, "bafybeigtuoril4b7mdazptvjtuuqh5vhj2ocaqwyhx3vdz5hl3atjgvxja"},
}

func TestMaxLinksMatchesBoxo(t *testing.T) {
	if MaxLinks != helpers.DefaultLinksPerBlock {
		t.Fatalf("MaxLinks = %d, boxo's DefaultLinksPerBlock = %d", MaxLinks, helpers.DefaultLinksPerBlock)
	}
}

func TestSumKnownAnswers(t *testing.T) {
	for _, tc := range knownAnswers {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(tc.size, 7)
			got, err := Sum(data)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.cid {
				t.Fatalf("Sum(%d bytes) = %s, kubo says %s", tc.size, got, tc.cid)
			}
			want := cid.MustParse(tc.cid)
			if err := Verify(want, data); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyRejectsAlteredContent(t *testing.T) {
	data := testData(3*ChunkSize+100, 7)
	want, err := Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	other := testData(3*ChunkSize+100, 8)
	cases := []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"first byte flipped", func(b []byte) []byte { b[0] ^= 1; return b }},
		{"byte in the second chunk flipped", func(b []byte) []byte { b[ChunkSize+17] ^= 0x80; return b }},
		{"last byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"one byte cut", func(b []byte) []byte { return b[:len(b)-1] }},
		{"one byte appended", func(b []byte) []byte { return append(b, 0) }},
		{"another CID's content", func([]byte) []byte { return other }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.mut(bytes.Clone(data))
			err := Verify(want, bad)
			var me *MismatchError
			if !errors.As(err, &me) || !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify = %v, want a *MismatchError", err)
			}
			if !me.Want.Equals(want) || me.Got.Equals(want) || me.Size != int64(len(bad)) {
				t.Fatalf("mismatch error fields wrong: %+v", me)
			}
			if !strings.Contains(err.Error(), want.String()) {
				t.Fatalf("error %q does not name the expected CID", err)
			}
		})
	}
}

func TestVerifySmallVersusLargeNamesCodec(t *testing.T) {
	large := testData(ChunkSize+1, 7)
	want, _ := Sum(large)
	err := Verify(want, large[:10])
	if err == nil || !strings.Contains(err.Error(), "root codec") {
		t.Fatalf("Verify = %v, want a root codec mismatch", err)
	}
}

func TestCheckCIDAndParse(t *testing.T) {
	data := []byte("hello")
	v1, _ := Sum(data)
	v0 := cid.NewCidV0(v1.Hash())
	sha512, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.SHA2_512, MhLength: -1}.Sum(data)
	cbor, _ := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: mh.SHA2_256, MhLength: -1}.Sum(data)
	short, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.SHA2_256, MhLength: 20}.Sum(data)
	cases := []struct {
		in      string
		wantErr string
	}{
		{v1.String(), ""},
		{mustBase(v1, mbase.Base58BTC), ""},
		{mustBase(v1, mbase.Base36), ""},
		{"", "empty"},
		{"not-a-cid", "does not parse"},
		{strings.Repeat("b", 129), "at most 128"},
		{v0.String(), "version is 0"},
		{sha512.String(), "hash function is sha2-512"},
		{cbor.String(), "codec is dag-cbor"},
		{short.String(), "digest length is 20"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			c, err := Parse(tc.in)
			if tc.wantErr == "" {
				if err != nil || !c.Equals(v1) {
					t.Fatalf("Parse = %v, %v; want %s", c, err, v1)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if err := Verify(v0, data); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("Verify(v0) = %v, want a version error", err)
	}
	if err := Verify(cid.Undef, data); err == nil {
		t.Fatal("Verify(undefined CID) succeeded")
	}
}

// mapDAG is an ipld.DAGService that keeps raw blocks, for building test DAGs.
type mapDAG struct {
	mu     sync.Mutex
	blocks map[string][]byte
}

func newMapDAG() *mapDAG { return &mapDAG{blocks: map[string][]byte{}} }

func (m *mapDAG) Get(_ context.Context, c cid.Cid) (ipld.Node, error) {
	return nil, ipld.ErrNotFound{Cid: c}
}
func (m *mapDAG) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	return discardDAG{}.GetMany(ctx, cs)
}
func (m *mapDAG) Add(_ context.Context, n ipld.Node) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocks[n.Cid().KeyString()] = bytes.Clone(n.RawData())
	return nil
}
func (m *mapDAG) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		if err := m.Add(ctx, n); err != nil {
			return err
		}
	}
	return nil
}
func (m *mapDAG) Remove(context.Context, cid.Cid) error       { return nil }
func (m *mapDAG) RemoveMany(context.Context, []cid.Cid) error { return nil }

// Block makes mapDAG a BlockSource.
func (m *mapDAG) Block(_ context.Context, c cid.Cid) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blocks[c.KeyString()]
	if !ok {
		return nil, fmt.Errorf("block %s not found", c)
	}
	return bytes.Clone(b), nil
}

func buildDAG(t testing.TB, data []byte) (*mapDAG, cid.Cid) {
	t.Helper()
	d := newMapDAG()
	root, err := build(bytes.NewReader(data), d)
	if err != nil {
		t.Fatal(err)
	}
	return d, root.Cid()
}

// lyingSource alters the answers of an honest source.
type lyingSource struct {
	honest *mapDAG
	lie    func(c cid.Cid, b []byte) []byte
}

func (l lyingSource) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	b, err := l.honest.Block(ctx, c)
	if err != nil {
		return nil, err
	}
	return l.lie(c, b), nil
}

func TestFetcherRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, ChunkSize, ChunkSize + 1, 10*ChunkSize + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := testData(n, 3)
			src, root := buildDAG(t, data)
			f := Fetcher{Source: src}
			got, err := f.FetchBytes(context.Background(), root)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("fetched %d bytes differ from the %d added", len(got), len(data))
			}
		})
	}
}

func TestFetcherRejectsLies(t *testing.T) {
	data := testData(5*ChunkSize+7, 3)
	src, root := buildDAG(t, data)
	otherSrc, otherRoot := buildDAG(t, testData(5*ChunkSize+7, 4))
	var someLeaf []byte
	for _, b := range src.blocks {
		if len(b) == ChunkSize {
			someLeaf = b
			break
		}
	}
	cases := []struct {
		name    string
		lie     func(c cid.Cid, b []byte) []byte
		wantErr string
	}{
		{"flip a byte in a leaf", func(c cid.Cid, b []byte) []byte {
			if c.Type() == cid.Raw {
				b[100] ^= 1
			}
			return b
		}, "block digest"},
		{"flip a byte in the root", func(c cid.Cid, b []byte) []byte {
			if c.Equals(root) {
				b[len(b)-1] ^= 1
			}
			return b
		}, "block digest"},
		{"serve another leaf", func(c cid.Cid, b []byte) []byte {
			if c.Type() == cid.Raw {
				return bytes.Clone(someLeaf[:len(someLeaf)-1])
			}
			return b
		}, "block digest"},
		{"serve another file's root", func(c cid.Cid, b []byte) []byte {
			if c.Equals(root) {
				ob, _ := otherSrc.Block(context.Background(), otherRoot)
				return ob
			}
			return b
		}, "block digest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f := Fetcher{Source: lyingSource{honest: src, lie: tc.lie}}
			_, err := f.Fetch(context.Background(), root, &out)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Fetch = %v, want a mismatch naming %q", err, tc.wantErr)
			}
			if !bytes.HasPrefix(data, out.Bytes()) {
				t.Fatal("bytes written before the failure are not a prefix of the true content")
			}
		})
	}
}

func TestFetcherLimitsAndErrors(t *testing.T) {
	data := testData(3*ChunkSize, 3)
	src, root := buildDAG(t, data)
	f := Fetcher{Source: src, MaxSize: 2 * ChunkSize}
	if _, err := f.FetchBytes(context.Background(), root); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("FetchBytes over the limit = %v, want a size limit error", err)
	}
	f = Fetcher{Source: src, MaxBlocks: 3}
	if _, err := f.FetchBytes(context.Background(), root); err == nil || !strings.Contains(err.Error(), "more blocks than the limit") {
		t.Fatalf("FetchBytes over the block limit = %v", err)
	}
	if _, err := (&Fetcher{Source: src, MaxBlocks: 4}).FetchBytes(context.Background(), root); err != nil {
		t.Fatalf("FetchBytes with exactly enough blocks: %v", err)
	}
	missing := newMapDAG()
	f = Fetcher{Source: missing}
	_, err := f.FetchBytes(context.Background(), root)
	var se *SourceError
	if !errors.As(err, &se) || !se.Cid.Equals(root) {
		t.Fatalf("FetchBytes from an empty source = %v, want a *SourceError for the root", err)
	}
	if _, err := (&Fetcher{}).FetchBytes(context.Background(), root); err == nil {
		t.Fatal("Fetcher without a source succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Fetcher{Source: src}).FetchBytes(ctx, root); !errors.Is(err, context.Canceled) {
		t.Fatalf("FetchBytes with a cancelled context = %v", err)
	}
}

// fakeKubo serves POST /api/v0/block/get from a mapDAG, like kubo's RPC API.
func fakeKubo(t testing.TB, d *mapDAG) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v0/block/get" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		c, err := cid.Decode(r.URL.Query().Get("arg"))
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"Message":%q,"Code":0,"Type":"error"}`, err.Error())
			return
		}
		b, err := d.Block(r.Context(), c)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"Message":"block was not found locally (offline): ipld: could not find %s","Code":0,"Type":"error"}`, c)
			return
		}
		_, _ = w.Write(b)
	}))
}

func TestKuboAPIFetch(t *testing.T) {
	data := testData(4*ChunkSize+9, 5)
	d, root := buildDAG(t, data)
	srv := fakeKubo(t, d)
	defer srv.Close()
	for _, u := range []string{srv.URL, strings.TrimPrefix(srv.URL, "http://")} {
		f := Fetcher{Source: KuboAPI{URL: u, Client: srv.Client()}}
		got, err := f.FetchBytes(context.Background(), root)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("FetchBytes via %s: %d bytes, %v", u, len(got), err)
		}
	}
	other, _ := Sum([]byte("absent"))
	f := Fetcher{Source: KuboAPI{URL: srv.URL}}
	_, err := f.FetchBytes(context.Background(), other)
	var se *SourceError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "not found locally") {
		t.Fatalf("FetchBytes of an absent CID = %v, want a *SourceError with kubo's message", err)
	}
}

func BenchmarkSum50MB(b *testing.B) {
	data := testData(50<<20, 1)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Sum(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify50MB(b *testing.B) {
	data := testData(50<<20, 1)
	want, _ := Sum(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if err := Verify(want, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFetcherInMemory50MB(b *testing.B) {
	data := testData(50<<20, 1)
	d, root := buildDAG(b, data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		var out bytes.Buffer
		out.Grow(len(data))
		if _, err := (&Fetcher{Source: d}).Fetch(context.Background(), root, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func mustBase(c cid.Cid, base mbase.Encoding) string {
	s, err := c.StringOfBase(base)
	if err != nil {
		panic(err)
	}
	return s
}

// FuzzFetcherRootBlock feeds arbitrary bytes as a root block whose CID matches them, so the dag-pb and UnixFS
// decoding paths see hostile input: Fetch must fail cleanly or succeed, never panic or loop.
func FuzzFetcherRootBlock(f *testing.F) {
	small := testData(3*ChunkSize+5, 1)
	src, root := buildDAG(f, small)
	rootBlock, _ := src.Block(context.Background(), root)
	f.Add(rootBlock)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x08, 0x02})
	f.Fuzz(func(t *testing.T, block []byte) {
		c, err := Prefix.Sum(block)
		if err != nil {
			t.Skip()
		}
		d := newMapDAG()
		for k, v := range src.blocks {
			d.blocks[k] = v
		}
		d.blocks[c.KeyString()] = block
		var out bytes.Buffer
		_, _ = (&Fetcher{Source: d, MaxSize: 8 << 20}).Fetch(context.Background(), c, &out)
	})
}
