package logs

// parseCanonical handles the compact shape the Cloud Logger writes, keys in
// schema order and no whitespace:
//
//	{"time":"…","source":{"probe":"…","zone":"…","region":"…"},"measurements":{"ok":true,…}}
//	{"time":"…","source":{"probe":"…","zone":"…","region":"…"},"event":{"incident":"…","type":"…"}}
//
// by matching the fixed parts as literals. Anything else (another key
// order, whitespace, escapes, errors) returns false and the caller tries
// the general scanner, then the strict decoder.
func parseCanonical(b []byte, names []string, in *Interner, s *Sample) bool {
	const (
		litTime   = `{"time":"`
		litProbe  = `","source":{"probe":"`
		litZone   = `","zone":"`
		litRegion = `","region":"`
		litMeas   = `"},"measurements":{`
		litEvent  = `"},"event":{"incident":"`
		litType   = `","type":"`
	)
	if !hasPrefixAt(b, 0, litTime) {
		return false
	}
	i := len(litTime)
	ts, i, ok := rawString(b, i)
	if !ok {
		return false
	}
	ms, ok := ParseTime(ts)
	if !ok || !hasPrefixAt(b, i, litProbe) {
		return false
	}
	probe, i, ok := rawString(b, i+len(litProbe))
	if !ok || !hasPrefixAt(b, i, litZone) {
		return false
	}
	zone, i, ok := rawString(b, i+len(litZone))
	if !ok || !hasPrefixAt(b, i, litRegion) {
		return false
	}
	region, i, ok := rawString(b, i+len(litRegion))
	if !ok || len(probe) == 0 || len(zone) == 0 || len(region) == 0 ||
		len(probe) > MaxStringBytes || len(zone) > MaxStringBytes || len(region) > MaxStringBytes {
		return false
	}
	var (
		kind    Kind
		evType  EventType
		incid   []byte
		present uint8
		values  [MaxMeasurements]int64
	)
	switch {
	case hasPrefixAt(b, i, litMeas):
		kind = KindMeasurement
		i += len(litMeas)
		if i < len(b) && b[i] == '}' {
			i++
			break
		}
		for {
			var k []byte
			if i >= len(b) || b[i] != '"' {
				return false
			}
			if k, i, ok = rawString(b, i+1); !ok || !validName(k) || !hasPrefixAt(b, i, `":`) {
				return false
			}
			i += 2
			var v int64
			switch {
			case hasPrefixAt(b, i, "true"):
				v, i = 1, i+4
			case hasPrefixAt(b, i, "false"):
				v, i = 0, i+5
			default:
				if v, i, ok = integer(b, i); !ok {
					return false
				}
			}
			for j, n := range names {
				if string(k) == n {
					if present&(1<<uint(j)) != 0 {
						return false // duplicate: let the strict decoder report it
					}
					values[j] = v
					present |= 1 << uint(j)
					break
				}
			}
			if i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return false
			}
			i++
		}
	case hasPrefixAt(b, i, litEvent):
		kind = KindEvent
		if incid, i, ok = rawString(b, i+len(litEvent)); !ok || len(incid) == 0 || len(incid) > MaxStringBytes || !hasPrefixAt(b, i, litType) {
			return false
		}
		var t []byte
		if t, i, ok = rawString(b, i+len(litType)); !ok || !hasPrefixAt(b, i, `"}`) {
			return false
		}
		i += 2
		switch string(t) {
		case "opened":
			evType = EventOpened
		case "acknowledged":
			evType = EventAcknowledged
		case "resolved":
			evType = EventResolved
		default:
			return false
		}
	default:
		return false
	}
	if i != len(b)-1 || b[i] != '}' {
		return false
	}
	return in.fill(s, ms, kind, evType, present, &values, probe, zone, region, incid)
}

// rawString scans the contents of a string whose opening quote is just
// before b[i]: plain bytes up to the closing quote, returning the index
// of that quote.
func rawString(b []byte, i int) ([]byte, int, bool) {
	s := i
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' {
		return b[s:i], i, true
	}
	return nil, i, false
}
