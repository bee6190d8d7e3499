package logs

// MaxTableEntries bounds the number of distinct strings one Table interns,
// so that a hostile log cannot grow it without limit.
const MaxTableEntries = 1 << 20

// Table interns strings into dense integer ids 0, 1, 2, ... in order of
// first appearance.
type Table struct {
	ids   map[string]uint32
	names []string
	// recent caches the last few strings looked up, round robin: logs
	// interleave a handful of probes and zones.
	recent [4]uint32
	next   uint8
}

// Intern returns the id of the string b, adding it when new. It reports
// false when the table is full. Looking up a known string does not allocate.
func (t *Table) Intern(b []byte) (uint32, bool) {
	if len(t.names) > 0 {
		for _, id := range t.recent {
			if int(id) < len(t.names) && t.names[id] == string(b) {
				return id, true
			}
		}
	}
	id, ok := t.ids[string(b)]
	if !ok {
		if id, ok = t.add(string(b)); !ok {
			return 0, false
		}
	}
	t.recent[t.next&3] = id
	t.next++
	return id, true
}

// InternString is Intern for a string.
func (t *Table) InternString(s string) (uint32, bool) {
	if id, ok := t.ids[s]; ok {
		return id, true
	}
	return t.add(s)
}

func (t *Table) add(s string) (uint32, bool) {
	if len(t.names) >= MaxTableEntries {
		return 0, false
	}
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	id := uint32(len(t.names))
	t.ids[s] = id
	t.names = append(t.names, s)
	return id, true
}

// Lookup returns the id of s if it has been interned.
func (t *Table) Lookup(s string) (uint32, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// Name returns the string of id, or "" for an unknown id.
func (t *Table) Name(id uint32) string {
	if int(id) >= len(t.names) {
		return ""
	}
	return t.names[id]
}

// Len returns the number of interned strings.
func (t *Table) Len() int { return len(t.names) }

// Names returns the interned strings in id order. The caller must not
// modify the returned slice.
func (t *Table) Names() []string { return t.names }

// Interner holds the string tables of the source and incident fields of
// decoded Samples. Decoders that share an Interner produce comparable ids.
// It is not safe for concurrent use.
type Interner struct {
	Probes    Table // source.probe
	Zones     Table // source.zone
	Regions   Table // source.region
	Incidents Table // event.incident
	// Severities holds event.severity (Sample.Severity - 1). It is not
	// part of an accumulator's saved state: its ids are read as the
	// samples are added.
	Severities Table
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner { return &Interner{} }

// fill interns a decoded line's source (and, for an event, its incident)
// and stores the sample in s. It reports false when a table is full, which
// sends the line to the strict decoder for the error.
func (in *Interner) fill(s *Sample, ms int64, kind Kind, ev EventType, present uint8, values *[MaxMeasurements]int64, probe, zone, region, incid []byte) bool {
	p, ok1 := in.Probes.Intern(probe)
	z, ok2 := in.Zones.Intern(zone)
	r, ok3 := in.Regions.Intern(region)
	var inc uint32
	ok4 := true
	if kind == KindEvent {
		inc, ok4 = in.Incidents.Intern(incid)
	}
	if !(ok1 && ok2 && ok3 && ok4) {
		return false
	}
	*s = Sample{TimeMS: ms, Values: *values, Probe: p, Zone: z, Region: r, Incident: inc, Present: present, Kind: kind, Event: ev}
	return true
}
