package fabricfake_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/internal/fabricfake"
)

const (
	P = "ProviderOrgMSP"
	C = "ClientOrgMSP"
	V = "VendorOrgMSP"
)

// lab is the lab chaincode of the Fabric checks behind this package (sbelab): no checks,
// just the state operations.
type lab struct{}

func (lab) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (lab) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	fail := func(err error) *peer.Response { return shim.Error(err.Error()) }
	switch fn {
	case "Put": // key value
		if err := stub.PutState(args[0], []byte(args[1])); err != nil {
			return fail(err)
		}
	case "Put2": // key1 key2 value
		for _, k := range args[:2] {
			if err := stub.PutState(k, []byte(args[2])); err != nil {
				return fail(err)
			}
		}
	case "PutSBE": // key value n orgs...: the value and the key's policy OutOf(n, orgs)
		n, _ := strconv.Atoi(args[2])
		if err := stub.PutState(args[0], []byte(args[1])); err != nil {
			return fail(err)
		}
		if err := stub.SetStateValidationParameter(args[0], fabricfake.SignaturePolicy(n, args[3:]...)); err != nil {
			return fail(err)
		}
	case "SetSBE": // key n orgs...
		n, _ := strconv.Atoi(args[1])
		if err := stub.SetStateValidationParameter(args[0], fabricfake.SignaturePolicy(n, args[2:]...)); err != nil {
			return fail(err)
		}
	case "GetSBE":
		p, err := stub.GetStateValidationParameter(args[0])
		if err != nil {
			return fail(err)
		}
		if p == nil {
			return shim.Success([]byte("none"))
		}
		return shim.Success([]byte(fabricfake.DescribePolicy(p)))
	case "Del":
		if err := stub.DelState(args[0]); err != nil {
			return fail(err)
		}
	case "Get":
		v, err := stub.GetState(args[0])
		if err != nil {
			return fail(err)
		}
		return shim.Success(v)
	case "Incr": // read key, write key+1
		v, err := stub.GetState(args[0])
		if err != nil {
			return fail(err)
		}
		n, _ := strconv.Atoi(string(v))
		if err := stub.PutState(args[0], []byte(strconv.Itoa(n+1))); err != nil {
			return fail(err)
		}
	case "AddItem": // owner n: a blind write of a new key
		k, _ := stub.CreateCompositeKey("item", []string{args[0], args[1]})
		if err := stub.PutState(k, []byte(args[1])); err != nil {
			return fail(err)
		}
	case "CountAndAdd": // owner n: a range read of the owner's items, then a new item
		it, err := stub.GetStateByPartialCompositeKey("item", []string{args[0]})
		if err != nil {
			return fail(err)
		}
		count := 0
		for it.HasNext() {
			if _, err := it.Next(); err != nil {
				return fail(err)
			}
			count++
		}
		it.Close()
		k, _ := stub.CreateCompositeKey("item", []string{args[0], args[1]})
		if err := stub.PutState(k, []byte(strconv.Itoa(count))); err != nil {
			return fail(err)
		}
	case "FirstAndAdd": // owner n: reads only the first item of the range, then a new item
		it, err := stub.GetStateByPartialCompositeKey("item", []string{args[0]})
		if err != nil {
			return fail(err)
		}
		if it.HasNext() {
			if _, err := it.Next(); err != nil {
				return fail(err)
			}
		}
		it.Close()
		k, _ := stub.CreateCompositeKey("item", []string{args[0], args[1]})
		if err := stub.PutState(k, []byte("x")); err != nil {
			return fail(err)
		}
	case "PageThenPut":
		it, _, err := stub.GetStateByRangeWithPagination("", "", 10, "")
		if err != nil {
			return fail(err)
		}
		it.Close()
		if err := stub.PutState(args[0], []byte("v")); err != nil {
			return fail(err)
		}
	case "PutThenPage":
		if err := stub.PutState(args[0], []byte("v")); err != nil {
			return fail(err)
		}
		if _, _, err := stub.GetStateByRangeWithPagination("", "", 10, ""); err != nil {
			return fail(err)
		}
	case "Nothing":
	default:
		return shim.Error("unknown function " + fn)
	}
	return shim.Success(nil)
}

type labWorld struct {
	t  *testing.T
	w  *fabricfake.World
	id *fabricfake.Identity
}

// newLab deploys the lab chaincode as "lab" with the chaincode policy
// OutOf(n, P, C, V).
func newLab(t *testing.T, n int) *labWorld {
	w := fabricfake.NewWorld()
	w.Deploy("lab", lab{})
	w.SetEndorsementPolicy("lab", fabricfake.SignaturePolicy(n, P, C, V))
	return &labWorld{t: t, w: w, id: fabricfake.MustNewCA(P).MustIssue("user@providerorg.slasa.local", "client")}
}

func (l *labWorld) submit(want peer.TxValidationCode, orgs []string, fn string, args ...string) fabricfake.Result {
	l.t.Helper()
	r := l.w.SubmitEndorsed(fabricfake.EndorsedBy(orgs...), l.id, "lab", fn, args...)
	if r.Status != shim.OK {
		l.t.Fatalf("%s%v: chaincode error %s", fn, args, r.Message)
	}
	if r.Code != want {
		l.t.Fatalf("%s%v endorsed by %v: %s (%s), want %s", fn, args, orgs, r.Code, r.Reason, want)
	}
	if r.OK() != (want == peer.TxValidationCode_VALID) {
		l.t.Fatalf("%s%v: OK() = %v with code %s", fn, args, r.OK(), r.Code)
	}
	return r
}

func (l *labWorld) value(key string) string {
	return string(l.w.State("lab", key))
}

func (l *labWorld) sbe(key string) string {
	l.t.Helper()
	r := l.w.Evaluate(l.id, "lab", "GetSBE", key)
	if !r.OK() {
		l.t.Fatal(r.Message)
	}
	return string(r.Payload)
}

var (
	valid = peer.TxValidationCode_VALID
	epf   = peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE
	mvcc  = peer.TxValidationCode_MVCC_READ_CONFLICT
	phant = peer.TxValidationCode_PHANTOM_READ_CONFLICT
)

// Fact 1a: the first write of a new key, in the transaction that sets its
// parameter, is validated by the chaincode policy only.
func TestCreationValidatedByChaincodePolicy(t *testing.T) {
	or := newLab(t, 1) // labor
	or.submit(valid, []string{P}, "PutSBE", "k1", "v1", "2", C, P)
	if or.sbe("k1") != "OutOf(2, 'ClientOrgMSP.peer', 'ProviderOrgMSP.peer')" {
		t.Fatalf("policy %s", or.sbe("k1"))
	}
	and := newLab(t, 2)
	r := and.submit(epf, []string{P}, "PutSBE", "k1", "v1", "2", C, P)
	if and.value("k1") != "" || and.sbe("k1") != "none" {
		t.Fatal("an invalid creation wrote the key")
	}
	if !strings.Contains(r.Reason, "chaincode lab needs OutOf(2, 'ProviderOrgMSP.peer', 'ClientOrgMSP.peer', 'VendorOrgMSP.peer'), endorsed by ProviderOrgMSP") {
		t.Fatalf("reason %q", r.Reason)
	}
	and.submit(valid, []string{C, P}, "PutSBE", "k1", "v1", "2", C, P)
	// Any two organizations, the owners or not, create a key with any policy.
	and.submit(valid, []string{V, C}, "PutSBE", "k2", "v", "1", P)
}

// Fact 1b: later writes and metadata writes are validated by the key's
// policy only, which replaces the chaincode policy (also when weaker).
func TestUpdatesValidatedByKeyPolicy(t *testing.T) {
	l := newLab(t, 1)
	l.w.AllowPolicyUpdates = true
	l.submit(valid, []string{P}, "PutSBE", "k1", "v1", "2", C, P)
	l.submit(epf, []string{P}, "Put", "k1", "v2")
	l.submit(epf, []string{C}, "Put", "k1", "v2")
	l.submit(epf, []string{V, P}, "Put", "k1", "v2")
	if l.value("k1") != "v1" {
		t.Fatalf("value %q after invalid writes", l.value("k1"))
	}
	l.submit(valid, []string{P, C}, "Put", "k1", "v2")
	l.submit(epf, []string{P}, "SetSBE", "k1", "1", P)
	if l.sbe("k1") != "OutOf(2, 'ClientOrgMSP.peer', 'ProviderOrgMSP.peer')" {
		t.Fatalf("policy changed by an invalid transaction: %s", l.sbe("k1"))
	}
	// A key policy weaker than the chaincode policy replaces it.
	and := newLab(t, 3)
	and.submit(valid, []string{P, C, V}, "PutSBE", "kp", "v", "1", P)
	and.submit(valid, []string{P}, "Put", "kp", "v2")
	// A key without a policy stays under the chaincode policy.
	and.submit(epf, []string{P}, "Put", "knew", "v")
	// A transaction writing a key with a policy and a key without one needs both.
	and.submit(epf, []string{P}, "Put2", "kp", "knew2", "v")
	and.submit(valid, []string{P, C, V}, "Put2", "kp", "knew2", "v")
	// A transaction without writes needs the chaincode policy.
	and.submit(epf, []string{P}, "Nothing")
	and.submit(valid, []string{P, C, V}, "Nothing")
}

// Fact 1c: a delete is validated by the key's policy and removes it: the
// key can then be created again under the chaincode policy.
func TestDeleteRemovesPolicy(t *testing.T) {
	l := newLab(t, 1)
	l.submit(valid, []string{P}, "PutSBE", "k1", "v1", "2", C, P)
	l.submit(epf, []string{P}, "Del", "k1")
	if l.value("k1") != "v1" {
		t.Fatal("an invalid delete removed the key")
	}
	l.submit(valid, []string{P, C}, "Del", "k1")
	if l.value("k1") != "" || l.sbe("k1") != "none" {
		t.Fatalf("after delete: value %q policy %s", l.value("k1"), l.sbe("k1"))
	}
	l.submit(valid, []string{P}, "Put", "k1", "again")
	if l.value("k1") != "again" {
		t.Fatal("re-creation")
	}
}

// The fake refuses to set the policy of a committed key (set it once, at
// creation); with AllowPolicyUpdates it models Fabric: a parameter set in
// a block invalidates the later writes of the key in that block, even
// with every endorsement and the same policy.
func TestPolicyUpdates(t *testing.T) {
	l := newLab(t, 1)
	l.submit(valid, []string{P}, "PutSBE", "kz", "v1", "2", C, P)
	r := l.w.SubmitEndorsed(fabricfake.EndorsedBy(P, C), l.id, "lab", "SetSBE", "kz", "2", C, P)
	if r.Status == shim.OK || r.Message != `fabricfake: SetStateValidationParameter("kz"): the key is committed already (policy OutOf(2, 'ClientOrgMSP.peer', 'ProviderOrgMSP.peer')); set a key's policy once, when it is created (Fabric invalidates every other write of the key in the same block)` {
		t.Fatalf("re-setting a policy: %+v", r)
	}
	l.w.AllowPolicyUpdates = true
	b := l.w.NewBlock()
	b.SubmitEndorsed(fabricfake.EndorsedBy(P, C), l.id, "lab", "SetSBE", "kz", "2", C, P)
	b.SubmitEndorsed(fabricfake.EndorsedBy(P, C), l.id, "lab", "Put", "kz", "v2")
	res := b.Commit()
	if res[0].Code != valid || res[1].Code != epf || !strings.Contains(res[1].Reason, "was set by an earlier transaction of block") {
		t.Fatalf("block: %+v", res)
	}
	if l.value("kz") != "v1" {
		t.Fatal("value")
	}
	// A key created with its policy in the block is such a key too.
	b = l.w.NewBlock()
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "PutSBE", "kn", "v1", "1", P)
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Put", "kn", "v2")
	res = b.Commit()
	if res[0].Code != valid || res[1].Code != epf {
		t.Fatalf("block: %+v", res)
	}
	// The policy of the state before the block validates a key deleted
	// earlier in the block.
	b = l.w.NewBlock()
	b.SubmitEndorsed(fabricfake.EndorsedBy(P, C), l.id, "lab", "Del", "kz")
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Put", "kz", "squat")
	res = b.Commit()
	if res[0].Code != valid || res[1].Code != epf {
		t.Fatalf("block: %+v", res)
	}
}

// Fact 6: MVCC within one block.
func TestMVCC(t *testing.T) {
	l := newLab(t, 1)
	run := func(fn string, owner func(i int) string) []fabricfake.Result {
		b := l.w.NewBlock()
		for i := 0; i < 50; i++ {
			b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", fn, owner(i), fmt.Sprint(i))
		}
		return b.Commit()
	}
	count := func(res []fabricfake.Result) map[peer.TxValidationCode]int {
		m := map[peer.TxValidationCode]int{}
		for _, r := range res {
			m[r.Code]++
		}
		return m
	}
	// Blind writes of 50 new keys: all valid.
	if c := count(run("AddItem", func(int) string { return "o1" })); c[valid] != 50 {
		t.Fatalf("blind writes %v", c)
	}
	// Range read plus add: one valid, 49 phantom reads.
	if c := count(run("CountAndAdd", func(int) string { return "o2" })); c[valid] != 1 || c[phant] != 49 {
		t.Fatalf("range read and add %v", c)
	}
	// Disjoint ranges do not conflict.
	if c := count(run("CountAndAdd", func(i int) string { return fmt.Sprint("own", i) })); c[valid] != 50 {
		t.Fatalf("disjoint ranges %v", c)
	}
	// The peer reads a range query in batches of 100 results (plus one):
	// reading the first key of a short range reads all of it, so the adds
	// conflict; of a long range, only the first batch, so the adds after
	// it commit.
	l.submit(valid, []string{P}, "AddItem", "o3", "!") // sorts before the digits
	if c := count(run("FirstAndAdd", func(int) string { return "o3" })); c[valid] != 1 || c[phant] != 49 {
		t.Fatalf("partial read of a short range %v", c)
	}
	b := l.w.NewBlock()
	for i := 0; i < 150; i++ {
		b.Submit(l.id, "lab", "AddItem", "o4", fmt.Sprintf("!%03d", i))
	}
	b.Commit()
	if c := count(run("FirstAndAdd", func(int) string { return "o4" })); c[valid] != 50 {
		t.Fatalf("partial read of a long range %v", c)
	}
	if c := count(run("CountAndAdd", func(int) string { return "o4" })); c[valid] != 1 || c[phant] != 49 {
		t.Fatalf("full read of a long range %v", c)
	}
	// Blind writes of one hot key: all valid, the last wins.
	b = l.w.NewBlock()
	for i := 0; i < 50; i++ {
		b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Put", "hot", fmt.Sprint("v", i))
	}
	if c := count(b.Commit()); c[valid] != 50 || l.value("hot") != "v49" {
		t.Fatalf("hot blind writes %v, value %s", c, l.value("hot"))
	}
	// Read and write of one hot key: one valid, the rest conflict.
	b = l.w.NewBlock()
	for i := 0; i < 50; i++ {
		b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Incr", "counter")
	}
	if c := count(b.Commit()); c[valid] != 1 || c[mvcc] != 49 || l.value("counter") != "1" {
		t.Fatalf("read-modify-write %v, value %s", c, l.value("counter"))
	}
	// An invalid transaction's writes are not applied and it does not
	// conflict with the next ones.
	b = l.w.NewBlock()
	b.SubmitEndorsed(fabricfake.EndorsedBy(), l.id, "lab", "Incr", "counter")
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Incr", "counter")
	if res := b.Commit(); res[0].Code != epf || res[1].Code != valid || l.value("counter") != "2" {
		t.Fatalf("%+v value %s", res, l.value("counter"))
	}
	// A key read while absent and created meanwhile conflicts.
	b = l.w.NewBlock()
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Incr", "fresh")
	b.SubmitEndorsed(fabricfake.EndorsedBy(P), l.id, "lab", "Incr", "fresh")
	if res := b.Commit(); res[0].Code != valid || res[1].Code != mvcc {
		t.Fatalf("%+v", res)
	}
}

// Paginated queries are for read-only transactions.
func TestPaginatedQueriesAreReadOnly(t *testing.T) {
	l := newLab(t, 1)
	for _, fn := range []string{"PageThenPut", "PutThenPage"} {
		r := l.w.Submit(l.id, "lab", fn, "k")
		if r.OK() || !strings.Contains(r.Message, "unsuppored transaction") {
			t.Fatalf("%s: %+v", fn, r)
		}
	}
}

// The default endorsement is World.PeerOrgs when set: a policy naming an
// organization without a peer is never met.
func TestDefaultEndorsement(t *testing.T) {
	l := newLab(t, 3)
	l.w.Submit(l.id, "lab", "Put", "k", "v")
	if l.value("k") != "v" {
		t.Fatal("the default endorsement did not meet OutOf(3)")
	}
	l.w.PeerOrgs = []string{P, C}
	if r := l.w.Submit(l.id, "lab", "Put", "k2", "v"); r.Code != epf {
		t.Fatalf("%+v", r)
	}
}

func TestPolicyEvaluation(t *testing.T) {
	for _, tc := range []struct {
		policy []byte
		orgs   []string
		want   bool
	}{
		{fabricfake.SignaturePolicy(2, P, C), []string{P, C}, true},
		{fabricfake.SignaturePolicy(2, P, C), []string{P}, false},
		{fabricfake.SignaturePolicy(2, P, P), []string{P}, false}, // one identity satisfies one principal
		{fabricfake.SignaturePolicy(1, P, C), []string{V}, false},
		{fabricfake.SignaturePolicy(0), nil, true},
	} {
		got, err := fabricfake.PolicySatisfied(tc.policy, fabricfake.EndorsedBy(tc.orgs...))
		if err != nil || got != tc.want {
			t.Errorf("%s by %v: %v %v", fabricfake.DescribePolicy(tc.policy), tc.orgs, got, err)
		}
	}
	if _, err := fabricfake.PolicySatisfied([]byte("junk"), fabricfake.EndorsedBy(P)); err == nil {
		t.Error("junk policy")
	}
}

// The sorted keys a range query seeks in follow every commit: keys added,
// deleted and added again, between range reads.
func TestRangeQueriesSeeCommittedKeys(t *testing.T) {
	l := newLab(t, 1)
	want := map[string]bool{}
	check := func() {
		t.Helper()
		var keys []string
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if got := l.w.Keys("lab"); !slices.Equal(got, keys) {
			t.Fatalf("Keys = %v, want %v", got, keys)
		}
		// A range read of owner o's items counts them.
		n := 0
		for _, k := range keys {
			if strings.HasPrefix(k, "\x00item\x00o\x00") {
				n++
			}
		}
		l.submit(valid, []string{P}, "CountAndAdd", "o", fmt.Sprint(1000+len(want)))
		k := "\x00item\x00o\x00" + fmt.Sprint(1000+len(want)) + "\x00"
		if got := string(l.w.State("lab", k)); got != fmt.Sprint(n) {
			t.Fatalf("range read counted %s items, want %d", got, n)
		}
		want[k] = true
	}
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("k%02d", (i*7)%20)
		if want[k] && i%3 == 0 {
			l.submit(valid, []string{P}, "Del", k)
			delete(want, k)
		} else {
			l.submit(valid, []string{P}, "Put", k, "v")
			want[k] = true
		}
		if i%4 == 0 {
			l.submit(valid, []string{P}, "AddItem", "o", fmt.Sprint(i))
			want["\x00item\x00o\x00"+fmt.Sprint(i)+"\x00"] = true
		}
		check()
	}
}
