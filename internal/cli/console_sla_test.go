package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// slaParties are a provider and a client identity issued by two test CAs.
type slaParties struct{ prov, cli *fabricfake.Identity }

func newSLAParties() slaParties {
	return slaParties{prov: fabricfake.MustNewCA("ProviderOrgMSP").MustIssue("provider@providerorg.slasa.local", "client"),
		cli: fabricfake.MustNewCA("ClientOrgMSP").MustIssue("client@clientorg.slasa.local", "client")}
}

// document is the demo SLA with the parties' identities, edited by edit
// (nil: none), without a nonce when noNonce.
func (ps slaParties) document(t *testing.T, noNonce bool, edit func(map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "demo", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	parties := d["parties"].(map[string]any)
	for role, who := range map[string]*fabricfake.Identity{"provider": ps.prov, "client": ps.cli} {
		id := identity.FromCert(who.MSPID, who.Cert)
		p := parties[role].(map[string]any)
		p["msp_id"], p["subject"], p["issuer"] = id.MSPID, id.Subject, id.Issuer
	}
	if noNonce {
		delete(d, "nonce")
	}
	if edit != nil {
		edit(d)
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signsAs checks that sig (base64) is who's signature over digest (hex).
func signsAs(t *testing.T, who *fabricfake.Identity, digest, sig string) {
	t.Helper()
	dg, _ := hex.DecodeString(digest)
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := signedsla.VerifyDigest(who.Cert, dg, raw); err != nil {
		t.Fatalf("signature over %s: %v", digest, err)
	}
}

var (
	digestField = regexp.MustCompile(`name="digest" value="([0-9a-f]{64})"`)
	slaField    = regexp.MustCompile(`(?s)<textarea name="sla"[^>]*>(.*?)</textarea>`)
)

func TestConsolePropose(t *testing.T) {
	ps := newSLAParties()
	c := newConsoleTest(t, roleProvider, "")
	c.fake.who, c.fake.caller = ps.prov, identity.FromCert(ps.prov.MSPID, ps.prov.Cert)
	csrf := c.signIn()
	code, _, body := c.get("/propose")
	wantPage(t, "propose form", code, http.StatusOK, body, `enctype="multipart/form-data"`, `data-check="/propose/check"`, `<a href="/propose" class="current">Propose</a>`)

	// The check as you type: every problem with its JSON path.
	bad := ps.document(t, true, func(d map[string]any) {
		d["price"].(map[string]any)["currency"] = "usd"
		d["validity"].(map[string]any)["end"] = "tomorrow"
	})
	code, _, body = c.post("/propose/check", url.Values{"csrf": {csrf}, "sla": {string(bad)}})
	var chk slaCheck
	if code != http.StatusOK || json.Unmarshal([]byte(body), &chk) != nil || chk.Valid || len(chk.Problems) < 2 {
		t.Fatalf("check: %d %s", code, body)
	}
	paths := map[string]bool{}
	for _, p := range chk.Problems {
		paths[p.Path] = true
	}
	if !paths["price.currency"] || !paths["validity.end"] {
		t.Errorf("check problems %+v: want price.currency and validity.end", chk.Problems)
	}
	code, _, body = c.post("/propose/check", url.Values{"csrf": {csrf}, "sla": {string(ps.document(t, false, nil))}})
	if json.Unmarshal([]byte(body), &chk) != nil || !chk.Valid || chk.ID != "demo-sla" || !digestText.MatchString(chk.Digest) {
		t.Fatalf("check of a valid document: %d %s", code, body)
	}
	code, _, body = c.post("/propose/check", url.Values{"sla": {string(bad)}})
	wantPage(t, "check without CSRF", code, http.StatusForbidden, body, "CSRF token is missing or wrong")

	// Bad input: each problem shown, nothing submitted.
	for _, tc := range []struct {
		form url.Values
		code int
		want []string
	}{
		{url.Values{"csrf": {csrf}, "step": {"review"}, "sla": {string(bad)}}, http.StatusBadRequest,
			[]string{"sla: the document is not a valid SLA", "<code>price.currency</code>", "<code>validity.end</code>"}},
		{url.Values{"csrf": {csrf}, "step": {"review"}, "sla": {"{"}}, http.StatusBadRequest, []string{"sla: add a nonce: the document is not a JSON object: unexpected end of JSON input: nothing was submitted"}},
		{url.Values{"csrf": {csrf}, "step": {"review"}, "sla": {" "}}, http.StatusBadRequest, []string{"sla: paste an SLA JSON document or choose a file: nothing was submitted"}},
		{url.Values{"csrf": {csrf}, "step": {"publish"}, "sla": {string(bad)}}, http.StatusBadRequest, []string{"step: &#34;publish&#34; is not review or sign"}},
		{url.Values{"csrf": {csrf}, "step": {"sign"}, "sla": {string(ps.document(t, true, nil))}}, http.StatusBadRequest, []string{"sla: the document has no nonce: review it first"}},
		{url.Values{"csrf": {csrf}, "step": {"sign"}, "sla": {string(ps.document(t, false, nil))}}, http.StatusBadRequest, []string{"digest: the reviewed digest (64 lower-case hex digits) is missing"}},
		{url.Values{"csrf": {csrf}, "step": {"sign"}, "sla": {string(ps.document(t, false, nil))}, "digest": {strings.Repeat("0", 64)}}, http.StatusBadRequest,
			[]string{"digest: the document&#39;s digest is", "not the reviewed 0000000000000000000000000000000000000000000000000000000000000000: review it again"}},
		{url.Values{"step": {"sign"}, "sla": {string(ps.document(t, false, nil))}}, http.StatusForbidden, []string{"CSRF token is missing or wrong"}},
	} {
		code, _, body := c.post("/propose", tc.form)
		wantPage(t, "propose "+tc.form.Get("step"), code, tc.code, body, tc.want...)
	}
	if n := len(c.fake.tickets.submits); n != 0 {
		t.Fatalf("bad input submitted %d transactions", n)
	}

	// Review: the nonce added, the digest shown; then sign what was reviewed.
	code, _, body = c.post("/propose", url.Values{"csrf": {csrf}, "step": {"review"}, "sla": {string(ps.document(t, true, nil))}})
	wantPage(t, "review", code, http.StatusOK, body, "(added now)", "1000.00 USD per period", "ClientOrgMSP and ProviderOrgMSP", `id="sign"`)
	dm, tm := digestField.FindStringSubmatch(body), slaField.FindStringSubmatch(body)
	if dm == nil || tm == nil {
		t.Fatalf("review without digest or document:\n%s", body)
	}
	doc := html.UnescapeString(tm[1])
	if d, _, err := sla.DigestOf([]byte(doc)); err != nil || hex.EncodeToString(d[:]) != dm[1] || !strings.Contains(body, `<dd class="mono" id="digest">`+dm[1]+`</dd>`) {
		t.Fatalf("the shown digest %s is not the document's (%v)", dm[1], err)
	}
	code, loc, body := c.post("/propose", url.Values{"csrf": {csrf}, "step": {"sign"}, "sla": {doc}, "digest": {dm[1]}})
	if code != http.StatusSeeOther || loc != "/slas/demo-sla?done=propose&tx=tx1" {
		t.Fatalf("sign: %d %q\n%s", code, loc, body)
	}
	sub := c.fake.tickets.submits
	if len(sub) != 1 || sub[0].CC != "agreement" || sub[0].Fn != "ProposeSLA" || len(sub[0].Args) != 1 || sub[0].Transient["sla"] != doc ||
		strings.Join(sub[0].Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP" {
		t.Fatalf("submitted %+v", sub)
	}
	signsAs(t, ps.prov, dm[1], sub[0].Args[0])

	// An uploaded file is reviewed like pasted text.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.WriteField("step", "review")
	fw, _ := mw.CreateFormFile("file", "sla.json")
	_, _ = fw.Write(ps.document(t, false, nil))
	_ = mw.Close()
	resp, err := c.browser.Post(c.ts.URL+"/propose", mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	var up bytes.Buffer
	_, _ = up.ReadFrom(resp.Body)
	resp.Body.Close()
	wantPage(t, "upload", resp.StatusCode, http.StatusOK, up.String(), "(the document's own)", "4d9df470a9ea12e13e0c66eae52be04c")

	// Another identity of the provider's organization is not the SLA's provider.
	o := newConsoleTest(t, roleProvider, "")
	other := fabricfake.MustNewCA("ProviderOrgMSP").MustIssue("ops@providerorg.slasa.local", "client")
	o.fake.who, o.fake.caller = other, identity.FromCert(other.MSPID, other.Cert)
	ocsrf := o.signIn()
	code, _, body = o.post("/propose", url.Values{"csrf": {ocsrf}, "step": {"review"}, "sla": {doc}})
	wantPage(t, "not the provider", code, http.StatusForbidden, body, "parties.provider: you are ProviderOrgMSP/ops@providerorg.slasa.local", "nothing was submitted")

	// The client and the vendor may not propose.
	for _, role := range []string{roleClient, roleVendor} {
		r := newConsoleTest(t, role, "x")
		rcsrf := r.signIn()
		code, _, body := r.get("/propose")
		wantPage(t, role+" propose page", code, http.StatusForbidden, body, "may not open this page (it is for provider)")
		code, _, body = r.post("/propose", url.Values{"csrf": {rcsrf}, "step": {"sign"}, "sla": {doc}, "digest": {dm[1]}})
		wantPage(t, role+" propose", code, http.StatusForbidden, body, "may not open this page (it is for provider)")
		if len(r.fake.tickets.submits) != 0 || r.fake.evaluations() != 0 {
			t.Errorf("%s: submitted or read", role)
		}
	}
}

// proposedView is agreement GetSLA's answer for doc proposed and signed by ps.prov.
func (ps slaParties) proposedView(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	dg, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signedsla.Sign(dg, ps.prov.Key)
	if err != nil {
		t.Fatal(err)
	}
	pub := func(who *fabricfake.Identity) map[string]string {
		id := identity.FromCert(who.MSPID, who.Cert)
		return map[string]string{"msp_id": id.MSPID, "subject": id.Subject, "issuer": id.Issuer, "common_name": identity.CommonName(id.Subject)}
	}
	return map[string]any{"id": billSLA, "status": "PROPOSED", "digest": hex.EncodeToString(dg[:]),
		"parties": map[string]any{"provider": pub(ps.prov), "client": pub(ps.cli)},
		"signed": signedsla.Record{Version: signedsla.Version, Document: doc, Digest: hex.EncodeToString(dg[:]),
			Provider: signedsla.Signature{MSPID: ps.prov.MSPID, Certificate: string(ps.prov.CertPEM), Signature: sig}}}
}

func TestConsoleAccept(t *testing.T) {
	ps := newSLAParties()
	doc := ps.document(t, false, func(d map[string]any) {
		cons := d["consequences"].(map[string]any)
		cons["collateral_minor"], cons["collateral_wallet"] = 500000, "provider-collateral"
		cons["escrow_expiry"] = map[string]any{"verdict_within_seconds": 600, "outcome": "refund_client"}
	})
	view := ps.proposedView(t, doc)
	digest := view["digest"].(string)
	c := newConsoleTest(t, roleClient, "")
	c.fake.who, c.fake.caller = ps.cli, identity.FromCert(ps.cli.MSPID, ps.cli.Cert)
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	csrf := c.signIn()

	code, _, body := c.get("/slas/" + billSLA + "/accept")
	wantPage(t, "accept page", code, http.StatusOK, body, "<strong>1000.00 USD</strong> from your wallet <strong>client</strong> into escrow",
		"5000.00 USD of the provider&#39;s, locked in the SLA&#39;s collateral hold", digest, `name="digest" value="`+digest+`"`)

	for _, tc := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"csrf": {csrf}}, http.StatusBadRequest, "digest: the reviewed digest (64 lower-case hex digits) is missing"},
		{url.Values{"csrf": {csrf}, "digest": {"zz"}}, http.StatusBadRequest, "digest: the reviewed digest (64 lower-case hex digits) is missing"},
		{url.Values{"csrf": {csrf}, "digest": {strings.Repeat("ab", 32)}}, http.StatusConflict, "digest: the SLA&#39;s digest is now " + digest + ", not the reviewed abab"},
		{url.Values{"digest": {digest}}, http.StatusForbidden, "CSRF token is missing or wrong"},
		{url.Values{"csrf": {"wrong"}, "digest": {digest}}, http.StatusForbidden, "CSRF token is missing or wrong"},
	} {
		code, _, body := c.post("/slas/"+billSLA+"/accept", tc.form)
		wantPage(t, "accept "+tc.form.Encode(), code, tc.code, body, tc.want)
	}
	if n := len(c.fake.tickets.submits); n != 0 {
		t.Fatalf("bad input submitted %d transactions", n)
	}

	code, loc, body := c.post("/slas/"+billSLA+"/accept", url.Values{"csrf": {csrf}, "digest": {digest}})
	if code != http.StatusSeeOther || loc != "/slas/demo-sla?done=accept&tx=tx1" {
		t.Fatalf("accept: %d %q\n%s", code, loc, body)
	}
	sub := c.fake.tickets.submits
	if len(sub) != 1 || sub[0].Fn != "AcceptSLA" || len(sub[0].Args) != 3 || sub[0].Args[0] != billSLA || sub[0].Args[1] != digest ||
		sub[0].Transient["sla"] != string(doc) || strings.Join(sub[0].Orgs, ",") != "ClientOrgMSP,ProviderOrgMSP" {
		t.Fatalf("submitted %+v", sub)
	}
	signsAs(t, ps.cli, digest, sub[0].Args[2])

	// A forged provider signature, an SLA already active, another client: nothing signed.
	forged := ps.proposedView(t, doc)
	rec := forged["signed"].(signedsla.Record)
	rec.Provider.Signature, _ = signedsla.Sign([32]byte(bytes.Repeat([]byte{1}, 32)), ps.prov.Key)
	forged["signed"] = rec
	c.fake.set(forged, "agreement", "GetSLA", billSLA)
	code, _, body = c.get("/slas/" + billSLA + "/accept")
	wantPage(t, "forged", code, http.StatusConflict, body, "SLA demo-sla: the provider&#39;s signature does not verify", "nothing was signed.")
	view["status"] = "ACTIVE"
	c.fake.set(view, "agreement", "GetSLA", billSLA)
	code, _, body = c.post("/slas/"+billSLA+"/accept", url.Values{"csrf": {csrf}, "digest": {digest}})
	wantPage(t, "active", code, http.StatusConflict, body, "SLA demo-sla is ACTIVE, not PROPOSED: there is nothing to accept.")
	view["status"] = "PROPOSED"
	o := newConsoleTest(t, roleClient, "")
	other := fabricfake.MustNewCA("ClientOrgMSP").MustIssue("other@clientorg.slasa.local", "client")
	o.fake.who, o.fake.caller = other, identity.FromCert(other.MSPID, other.Cert)
	o.fake.set(view, "agreement", "GetSLA", billSLA)
	o.signIn()
	code, _, body = o.get("/slas/" + billSLA + "/accept")
	wantPage(t, "another client", code, http.StatusForbidden, body, "sla accept: you are ClientOrgMSP/other@clientorg.slasa.local")
	if len(c.fake.tickets.submits) != 1 || len(o.fake.tickets.submits) != 0 {
		t.Fatal("a refused accept submitted")
	}

	// The provider may not accept.
	p := newConsoleTest(t, roleProvider, "")
	pcsrf := p.signIn()
	code, _, body = p.post("/slas/"+billSLA+"/accept", url.Values{"csrf": {pcsrf}, "digest": {digest}})
	wantPage(t, "provider accepts", code, http.StatusForbidden, body, "The provider role may not open this page (it is for client).")
	if p.fake.evaluations() != 0 || len(p.fake.tickets.submits) != 0 {
		t.Error("the provider's refused accept read or submitted")
	}
}
