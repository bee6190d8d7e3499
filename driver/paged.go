package driver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
)

// Page-level persistence: an aggregate stored as a small header plus pages
// under their own names, so that a batch reads the pages of its time
// window and writes back only the pages it changed and the header
// (O(batch) bytes), where MarshalBinary writes the whole period so far.
//
// The pages are the accumulator's own: a page of a probe's duplicate
// bitmap (4096 sampling slots, named "b<probe>-<index>") and a page of an
// availability metric's counters (256 sub-intervals, "a<metric>-<index>").
// The header holds everything else (the plan's fingerprint, the period,
// the intern tables, the counts, the states of the other metrics) and the
// directory of the stored pages, run-length encoded, so it grows with the
// number of probes and incidents and with the distinct values of a latency
// metric, not with the samples.
//
// The flow of one batch whose samples lie in [from, to):
//
//	acc, _ := plan.NewAccumulator(period)
//	acc.UnmarshalHeader(header)          // no page loaded yet
//	for _, name := range acc.PagesIn(from, to) {
//		acc.LoadPage(name, stored[name])
//	}
//	acc.Add(samples)                     // every sample in [from, to)
//	header, dirty, err := acc.MarshalPaged()
//
// and of the evaluation: UnmarshalHeader, LoadPage for every PageNames,
// Outcome. The arithmetic is the accumulator's, unchanged: a restored
// page is the page MarshalBinary would have restored. A sample that falls
// in a stored page that is not loaded cannot be counted correctly; the
// accumulator then refuses MarshalPaged, MarshalBinary and Outcome.

// pagedMagic starts the header of the paged form; the byte after it is
// PagedFormat.
const pagedMagic = "SLASA-ACCP"

// PagedFormat is the version of the paged form (header and pages) written
// by MarshalPaged.
const PagedFormat = 1

// Page is one stored page of an aggregate: its name and its bytes.
type Page struct {
	Name string
	Data []byte
}

// Page kinds, the first byte of a page name.
const (
	pageBitmap = 'b'
	pageAvail  = 'a'
)

// Encodings of a bitmap page: the tag byte, then the page's words for a
// partial page.
const (
	bitPagePartial = 0
	bitPageFull    = 1
)

// pageID names a page: a probe's bitmap page, or an availability metric's
// counter page.
type pageID struct {
	kind byte
	idx  uint32 // probe id or metric index
	page uint32
}

func (id pageID) String() string {
	return string(id.kind) + strconv.FormatUint(uint64(id.idx), 10) + "-" + strconv.FormatUint(uint64(id.page), 10)
}

func (id pageID) less(o pageID) bool {
	if id.kind != o.kind {
		return id.kind > o.kind // bitmap pages first
	}
	if id.idx != o.idx {
		return id.idx < o.idx
	}
	return id.page < o.page
}

// parsePageName parses a page name in canonical form.
func parsePageName(s string) (pageID, bool) {
	if len(s) < 4 || (s[0] != pageBitmap && s[0] != pageAvail) {
		return pageID{}, false
	}
	i := bytes.IndexByte([]byte(s), '-')
	if i < 2 {
		return pageID{}, false
	}
	idx, err1 := strconv.ParseUint(s[1:i], 10, 32)
	page, err2 := strconv.ParseUint(s[i+1:], 10, 32)
	id := pageID{kind: s[0], idx: uint32(idx), page: uint32(page)}
	if err1 != nil || err2 != nil || id.String() != s {
		return pageID{}, false
	}
	return id, true
}

// paging is the storage state of an accumulator that uses the page-level
// API.
type paging struct {
	// stored are the pages in storage: those of the restored header and
	// those MarshalPaged returned since.
	stored map[pageID]bool
	// unloaded are the stored pages not loaded (LoadPage) in this
	// accumulator.
	unloaded map[pageID]bool
	// orig holds the encoded bytes of every page loaded or written since
	// the restore, to tell which pages a batch changed.
	orig map[pageID][]byte
	// fault is set when a sample fell in a stored page not loaded.
	fault error
}

func newPaging() *paging {
	return &paging{stored: map[pageID]bool{}, unloaded: map[pageID]bool{}, orig: map[pageID][]byte{}}
}

// missBitmap is called when Add allocates bitmap page pi of probe.
func (pg *paging) missBitmap(probe uint32, pi uint64) {
	id := pageID{kind: pageBitmap, idx: probe, page: uint32(pi)}
	if pg.unloaded[id] && pg.fault == nil {
		pg.fault = fmt.Errorf("accumulator: a sample falls in stored page %s, which is not loaded", id)
	}
}

// check returns the fault, or an error when stored pages are not loaded
// and all is true.
func (a *Accumulator) checkPaging(all bool) error {
	if a.pg == nil {
		return nil
	}
	// mutate:check paged-bitmap-fault
	if a.pg.fault != nil {
		return a.pg.fault
	}
	for i, ma := range a.metrics {
		// mutate:check paged-counter-fault
		if ma.avail != nil && ma.avail.fault > 0 {
			return fmt.Errorf("accumulator: a sample falls in stored page %s, which is not loaded",
				pageID{kind: pageAvail, idx: uint32(i), page: uint32(ma.avail.fault - 1)})
		}
	}
	// mutate:check paged-all-loaded
	if all && len(a.pg.unloaded) > 0 {
		return fmt.Errorf("accumulator: %d stored pages are not loaded (first: %s)", len(a.pg.unloaded), sortedIDs(a.pg.unloaded)[0])
	}
	return nil
}

func sortedIDs(m map[pageID]bool) []pageID {
	out := make([]pageID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

func names(ids []pageID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// PageNames returns the names of the aggregate's stored pages (after
// UnmarshalHeader, and those written by MarshalPaged since), in a fixed
// order: bitmap pages by probe and index, then counter pages by metric and
// index.
func (a *Accumulator) PageNames() []string {
	if a.pg == nil {
		return []string{}
	}
	return names(sortedIDs(a.pg.stored))
}

// PagesIn returns the names of the stored pages not loaded yet that a
// sample with a time in [fromMS, toMS) may fall in, in PageNames order.
// Load them (LoadPage) before adding such samples.
func (a *Accumulator) PagesIn(fromMS, toMS int64) []string {
	if a.pg == nil || len(a.pg.unloaded) == 0 {
		return []string{}
	}
	from, to := max(fromMS, a.g.StartMS), min(toMS, a.g.EndMS)
	if from >= to {
		return []string{}
	}
	off0, off1 := uint64(from-a.g.StartMS), uint64(to-1-a.g.StartMS)
	slot0, slot1 := a.slotDiv.div(off0)>>bitPageShift, a.slotDiv.div(off1)>>bitPageShift
	sub0, sub1 := a.subDiv.div(off0)/availPageSubs, a.subDiv.div(off1)/availPageSubs
	var ids []pageID
	for id := range a.pg.unloaded {
		lo, hi := slot0, slot1
		if id.kind == pageAvail {
			lo, hi = sub0, sub1
		}
		if uint64(id.page) >= lo && uint64(id.page) <= hi {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].less(ids[j]) })
	return names(ids)
}

// encodeBitPage returns the stored form of a bitmap page.
func encodeBitPage(pg *bitPage) []byte {
	if *pg == *fullPage {
		return []byte{bitPageFull}
	}
	b := make([]byte, 1, 1+bitPageWords*8)
	b[0] = bitPagePartial
	for _, w := range pg {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// encodeCells returns the stored form of a counter page.
func encodeCells(cells []availCell) []byte {
	e := enc{b: make([]byte, 0, 2*len(cells))}
	for _, c := range cells {
		if c.valid < 0x80 {
			e.b = append(e.b, byte(c.valid), byte(c.failed))
			continue
		}
		e.u(c.valid)
		e.u(c.failed)
	}
	return e.b
}

// MarshalPaged returns the aggregate's header and the pages that changed
// since the accumulator was created or restored (UnmarshalHeader), or since
// the last MarshalPaged: new pages and loaded pages whose bytes differ.
// Store every returned page under its name (replacing the stored one) and
// the header; pages not returned keep their stored bytes. The header lists
// every stored page. It fails when a sample fell in a stored page that was
// not loaded.
func (a *Accumulator) MarshalPaged() ([]byte, []Page, error) {
	if err := a.checkPaging(false); err != nil {
		return nil, nil, err
	}
	if a.pg == nil {
		a.pg = newPaging()
	}
	dirty := []Page{}
	emit := func(id pageID, data []byte) {
		if old, ok := a.pg.orig[id]; ok && bytes.Equal(old, data) {
			return
		}
		a.pg.orig[id], a.pg.stored[id] = data, true
		dirty = append(dirty, Page{Name: id.String(), Data: data})
	}
	for probe, dir := range a.bitmaps {
		for pi, pg := range dir {
			if pg != nil && *pg != (bitPage{}) {
				emit(pageID{kind: pageBitmap, idx: uint32(probe), page: uint32(pi)}, encodeBitPage(pg))
			}
		}
	}
	for i, ma := range a.metrics {
		if ma.avail == nil {
			continue
		}
		for p, cells := range ma.avail.pages {
			if cells != nil && !zeroCells(cells) {
				emit(pageID{kind: pageAvail, idx: uint32(i), page: uint32(p)}, encodeCells(cells))
			}
		}
	}
	header, err := a.marshalHeader()
	if err != nil {
		return nil, nil, err
	}
	return header, dirty, nil
}

// writeDir writes the directory of the stored pages of kind and idx as
// runs of consecutive indices (pages are stored as the covered part of the
// period grows, so a month takes a few runs): the number of runs, then for
// each the gap from the end of the previous run and its length - 1.
func (a *Accumulator) writeDir(e *enc, kind byte, idx uint32) {
	var pages []uint32
	for id := range a.pg.stored {
		if id.kind == kind && id.idx == idx {
			pages = append(pages, id.page)
		}
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i] < pages[j] })
	var runs [][2]uint32 // first, last
	for _, p := range pages {
		if n := len(runs); n > 0 && runs[n-1][1]+1 == p {
			runs[n-1][1] = p
			continue
		}
		runs = append(runs, [2]uint32{p, p})
	}
	e.u(uint64(len(runs)))
	next := uint32(0)
	for _, r := range runs {
		e.u(uint64(r[0] - next))
		e.u(uint64(r[1] - r[0]))
		next = r[1] + 1
	}
}

// marshalHeader encodes everything but the pages, and the directory of
// the stored pages.
func (a *Accumulator) marshalHeader() ([]byte, error) {
	e := enc{b: make([]byte, 0, 512)}
	e.b = append(e.b, pagedMagic...)
	e.b = append(e.b, PagedFormat)
	e.b = append(e.b, a.plan.fingerprint[:]...)
	e.i(a.g.StartMS)
	e.i(a.g.EndMS)
	a.marshalTablesAndCounts(&e)
	e.u(uint64(len(a.bitmaps)))
	for probe := range a.bitmaps {
		a.writeDir(&e, pageBitmap, uint32(probe))
	}
	e.u(uint64(len(a.metrics)))
	for i, ma := range a.metrics {
		mc := ma.counts
		for _, v := range []int64{mc.Valid, mc.Failed, mc.RejectedRule, mc.MissingMeasurement} {
			e.i(v)
		}
		if ma.avail != nil {
			a.writeDir(&e, pageAvail, uint32(i))
			continue
		}
		st, err := ma.st.MarshalBinary()
		if err != nil {
			return nil, err
		}
		e.bytes(st)
	}
	if a.sup != nil {
		a.sup.marshal(&e)
	}
	return e.b, nil
}

// marshalTablesAndCounts writes the intern tables and the sample counts
// (as MarshalBinary does).
func (a *Accumulator) marshalTablesAndCounts(e *enc) {
	for _, t := range a.tables() {
		e.u(uint64(t.Len()))
		for _, n := range t.Names() {
			e.s(n)
		}
	}
	c := a.counts
	for _, v := range []int64{c.Read, c.Events, c.Accepted, c.OutsidePeriod, c.UnknownZone, c.ZoneRegionMismatch, c.Duplicate, c.TooManyProbes} {
		e.i(v)
	}
}

// readDir reads a directory written by writeDir with indices below n, in
// canonical form (runs separated by at least one index).
func readDir(d *dec, n int) ([]uint32, error) {
	k := d.count(n)
	if d.err != nil {
		return nil, d.err
	}
	var out []uint32
	next := uint64(0)
	for r := range k {
		gap, length := d.u(), d.u()
		if d.err != nil {
			return nil, d.err
		}
		if r > 0 && gap == 0 {
			return nil, fmt.Errorf("adjacent page runs: corrupt data")
		}
		if gap >= uint64(n)-next || length >= uint64(n)-next-gap {
			return nil, fmt.Errorf("page index beyond the period: corrupt data")
		}
		first := next + gap
		for p := first; p <= first+length; p++ {
			out = append(out, uint32(p))
		}
		next = first + length + 1
	}
	return out, nil
}

// UnmarshalHeader restores the header written by MarshalPaged into an
// Accumulator created by NewAccumulator of the same plan and period,
// without any page: load the pages a batch needs with PagesIn and
// LoadPage, or every page (PageNames) before Outcome. It fails, leaving a
// unchanged, on another SLA, period, format version, or corrupt data. As
// UnmarshalBinary, it replaces the intern tables.
func (a *Accumulator) UnmarshalHeader(b []byte) error {
	if len(b) < len(pagedMagic)+1+32 || string(b[:len(pagedMagic)]) != pagedMagic {
		return fmt.Errorf("accumulator header: not an accumulator header")
	}
	b = b[len(pagedMagic):]
	if b[0] != PagedFormat {
		return fmt.Errorf("accumulator header: format version %d, this code reads %d", b[0], PagedFormat)
	}
	if string(b[1:33]) != string(a.plan.fingerprint[:]) {
		return fmt.Errorf("accumulator header: state belongs to another SLA")
	}
	d := dec{b: b[33:]}
	if s, e := d.i(), d.i(); d.err == nil && (s != a.g.StartMS || e != a.g.EndMS) {
		return fmt.Errorf("accumulator header: state of another period")
	}
	in, c, err := a.unmarshalTablesAndCounts(&d)
	if err != nil {
		return fmt.Errorf("accumulator header: %w", err)
	}
	pg := newPaging()
	nb := d.count(in.Probes.Len())
	if d.err != nil {
		return fmt.Errorf("accumulator header: %w", d.err)
	}
	bitmaps := make([][]*bitPage, nb)
	nProbes := 0
	for probe := range bitmaps {
		pages, err := readDir(&d, a.dirLen)
		if err != nil {
			return fmt.Errorf("accumulator header: probe %d: %w", probe, err)
		}
		if len(pages) == 0 {
			continue
		}
		if nProbes++; nProbes > MaxProbes {
			return fmt.Errorf("accumulator header: more than %d probes with bitmaps: corrupt data", MaxProbes)
		}
		bitmaps[probe] = make([]*bitPage, a.dirLen)
		for _, p := range pages {
			id := pageID{kind: pageBitmap, idx: uint32(probe), page: p}
			pg.stored[id], pg.unloaded[id] = true, true
		}
	}
	if n := d.count(len(a.metrics)); d.err == nil && n != len(a.metrics) {
		return fmt.Errorf("accumulator header: %d metric states, want %d", n, len(a.metrics))
	}
	metrics := make([]metricAcc, len(a.metrics))
	for i, ma := range a.metrics {
		var mc MetricSamples
		for _, p := range []*int64{&mc.Valid, &mc.Failed, &mc.RejectedRule, &mc.MissingMeasurement} {
			*p = d.i()
		}
		if d.err != nil {
			return fmt.Errorf("accumulator header: %w", d.err)
		}
		st := ma.mp.calc.NewState(a.g)
		if av, ok := st.(*availabilityState); ok {
			pages, err := readDir(&d, len(av.pages))
			if err != nil {
				return fmt.Errorf("accumulator header: metric %s: %w", ma.mp.m.ID, err)
			}
			av.raw, av.unloaded = make([][]byte, len(av.pages)), make([]bool, len(av.pages))
			for _, p := range pages {
				id := pageID{kind: pageAvail, idx: uint32(i), page: p}
				pg.stored[id], pg.unloaded[id], av.unloaded[p] = true, true, true
			}
		} else if err := st.UnmarshalBinary(d.bytes()); d.err == nil && err != nil {
			return fmt.Errorf("accumulator header: metric %s: %w", ma.mp.m.ID, err)
		}
		metrics[i] = newMetricAcc(ma.mp, st)
		metrics[i].counts = mc
	}
	var sup *supportState
	if a.sup != nil && d.err == nil {
		var err error
		if sup, err = unmarshalSupport(&d, in.Incidents.Len(), len(a.plan.support.sevs)); err != nil {
			return fmt.Errorf("accumulator header: %w", err)
		}
	}
	if err := d.done(); err != nil {
		return fmt.Errorf("accumulator header: %w", err)
	}
	a.in, a.counts, a.bitmaps, a.nProbes, a.metrics, a.pg, a.sup = in, c, bitmaps, nProbes, metrics, pg, sup
	return nil
}

// LoadPage restores the stored page name (one of PageNames) with its
// bytes from MarshalPaged. A page is loaded once; a name the header does
// not list, and bytes that are not that page's canonical form, are
// refused, leaving a unchanged.
func (a *Accumulator) LoadPage(name string, data []byte) error {
	id, ok := parsePageName(name)
	// mutate:check paged-stored-page
	if !ok || a.pg == nil || !a.pg.stored[id] {
		return fmt.Errorf("accumulator page %q: not a stored page of this aggregate", name)
	}
	// mutate:check paged-load-once
	if !a.pg.unloaded[id] {
		return fmt.Errorf("accumulator page %q: already loaded", name)
	}
	switch id.kind {
	case pageBitmap:
		pg, err := a.decodeBitPage(id.page, data)
		if err != nil {
			return fmt.Errorf("accumulator page %q: %w", name, err)
		}
		a.bitmaps[id.idx][id.page] = pg
	default:
		av := a.metrics[id.idx].avail
		d := dec{b: data}
		nonZero, err := decodeCells(&d, av.pageSubs(int(id.page))*a.g.Zones, nil)
		if err == nil {
			err = d.done()
		}
		if err == nil && !nonZero {
			err = fmt.Errorf("empty page: corrupt data")
		}
		if err != nil {
			return fmt.Errorf("accumulator page %q: %w", name, err)
		}
		av.raw[id.page], av.unloaded[id.page] = bytes.Clone(data), false
	}
	a.pg.orig[id] = bytes.Clone(data)
	delete(a.pg.unloaded, id)
	return nil
}

// decodeBitPage decodes the stored form of bitmap page pi, in canonical
// form only: a full page by its tag, a partial page neither empty nor full
// and without a bit beyond the period's last slot.
func (a *Accumulator) decodeBitPage(pi uint32, data []byte) (*bitPage, error) {
	switch {
	case len(data) == 1 && data[0] == bitPageFull:
		if pi == uint32(a.dirLen-1) && a.slots%bitPageSlots != 0 {
			return nil, fmt.Errorf("the period's last page cannot be full: corrupt data")
		}
		return fullPage, nil
	case len(data) == 1+bitPageWords*8 && data[0] == bitPagePartial:
	default:
		return nil, fmt.Errorf("not a bitmap page: corrupt data")
	}
	pg := new(bitPage)
	for k := range pg {
		pg[k] = binary.LittleEndian.Uint64(data[1+8*k:])
	}
	if *pg == (bitPage{}) || *pg == *fullPage {
		return nil, fmt.Errorf("bitmap page empty or full, not in short form: corrupt data")
	}
	if pi == uint32(a.dirLen-1) {
		if used := a.slots - uint64(pi)*bitPageSlots; used < bitPageSlots {
			w, r := used/64, used%64
			if r != 0 {
				if pg[w]>>r != 0 {
					return nil, fmt.Errorf("bitmap bit beyond the period's last slot: corrupt data")
				}
				w++
			}
			for _, x := range pg[w:] {
				if x != 0 {
					return nil, fmt.Errorf("bitmap bit beyond the period's last slot: corrupt data")
				}
			}
		}
	}
	return pg, nil
}
