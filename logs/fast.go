package logs

// The fast path: a single-pass scanner for the common shape of a record. It
// handles any key order and JSON whitespace, but only strings made of
// printable ASCII without escapes and integers that fit in 18 digits.
// Whenever it meets anything else (escapes, non-ASCII, duplicate keys,
// errors of any kind) it returns false and the caller decodes the line with
// the strict fallback, whose answer is authoritative.

const (
	seenTime = 1 << iota
	seenSource
	seenMeasurements
	seenEvent
)

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// plainByte marks the bytes a fast-path string may contain: printable
// ASCII except '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// simpleString scans a string starting at b[i] == '"' and returns its
// contents (without quotes) and the index after the closing quote.
func simpleString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	i++
	s := i
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' {
		return b[s:i], i + 1, true
	}
	return nil, i, false
}

// integer scans -?(0|[1-9][0-9]*) of at most 18 digits, not followed by a
// fraction or exponent.
func integer(b []byte, i int) (int64, int, bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	s := i
	var v int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	nd := i - s
	if nd == 0 || nd > 18 || (nd > 1 && b[s] == '0') {
		return 0, i, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

func hasPrefixAt(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// objectStart expects '{' at b[i] (after whitespace) and returns the index
// after it, skipping whitespace.
func objectStart(b []byte, i int) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	return skipWS(b, i+1), true
}

// member scans `"key" :` and returns the key and the index of the value.
func member(b []byte, i int) ([]byte, int, bool) {
	key, i, ok := simpleString(b, i)
	if !ok {
		return nil, i, false
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return nil, i, false
	}
	return key, skipWS(b, i+1), true
}

// next scans after a member value: ',' (more members, returns true, false)
// or '}' (end, returns false, false); ok is false on anything else.
func next(b []byte, i int) (int, bool, bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, false, false
	}
	switch b[i] {
	case ',':
		return skipWS(b, i+1), true, true
	case '}':
		return i + 1, false, true
	}
	return i, false, false
}

func parseFast(b []byte, names []string, in *Interner, s *Sample) bool {
	i, ok := objectStart(b, 0)
	if !ok || i >= len(b) || b[i] == '}' {
		return false
	}
	var (
		seen                       int
		probe, zone, region, incid []byte
		present                    uint8
		values                     [MaxMeasurements]int64
		ms                         int64
		evType                     EventType
		more                       = true
	)
	for more {
		var key []byte
		key, i, ok = member(b, i)
		if !ok {
			return false
		}
		switch string(key) {
		case "time":
			if seen&seenTime != 0 {
				return false
			}
			seen |= seenTime
			var ts []byte
			ts, i, ok = simpleString(b, i)
			if !ok {
				return false
			}
			if ms, ok = ParseTime(ts); !ok {
				return false
			}
		case "source":
			if seen&seenSource != 0 {
				return false
			}
			seen |= seenSource
			if i, ok = objectStart(b, i); !ok || i >= len(b) || b[i] == '}' {
				return false
			}
			var sseen int
			for m := true; m; {
				var k, v []byte
				if k, i, ok = member(b, i); !ok {
					return false
				}
				if v, i, ok = simpleString(b, i); !ok || len(v) == 0 || len(v) > MaxStringBytes {
					return false
				}
				switch string(k) {
				case "probe":
					if sseen&1 != 0 {
						return false
					}
					sseen |= 1
					probe = v
				case "zone":
					if sseen&2 != 0 {
						return false
					}
					sseen |= 2
					zone = v
				case "region":
					if sseen&4 != 0 {
						return false
					}
					sseen |= 4
					region = v
				default:
					return false
				}
				if i, m, ok = next(b, i); !ok {
					return false
				}
			}
			if sseen != 7 {
				return false
			}
		case "measurements":
			if seen&seenMeasurements != 0 {
				return false
			}
			seen |= seenMeasurements
			if i, ok = objectStart(b, i); !ok || i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			var mseen uint64 // duplicate detection for referenced names only
			for m := true; m; {
				var k []byte
				if k, i, ok = member(b, i); !ok || !validName(k) {
					return false
				}
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
						if mseen&(1<<uint(j)) != 0 {
							return false
						}
						mseen |= 1 << uint(j)
						values[j] = v
						present |= 1 << uint(j)
						break
					}
				}
				if i, m, ok = next(b, i); !ok {
					return false
				}
			}
		case "event":
			if seen&seenEvent != 0 {
				return false
			}
			seen |= seenEvent
			if i, ok = objectStart(b, i); !ok || i >= len(b) || b[i] == '}' {
				return false
			}
			var eseen int
			for m := true; m; {
				var k, v []byte
				if k, i, ok = member(b, i); !ok {
					return false
				}
				if v, i, ok = simpleString(b, i); !ok {
					return false
				}
				switch string(k) {
				case "incident":
					if eseen&1 != 0 || len(v) == 0 || len(v) > MaxStringBytes {
						return false
					}
					eseen |= 1
					incid = v
				case "type":
					if eseen&2 != 0 {
						return false
					}
					eseen |= 2
					switch string(v) {
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
				if i, m, ok = next(b, i); !ok {
					return false
				}
			}
			if eseen != 3 {
				return false
			}
		default:
			return false
		}
		if i, more, ok = next(b, i); !ok {
			return false
		}
	}
	if skipWS(b, i) != len(b) {
		return false
	}
	if seen&(seenTime|seenSource) != seenTime|seenSource {
		return false
	}
	var kind Kind
	switch seen & (seenMeasurements | seenEvent) {
	case seenMeasurements:
		kind = KindMeasurement
	case seenEvent:
		kind = KindEvent
	default:
		return false
	}
	return in.fill(s, ms, kind, evType, present, &values, probe, zone, region, incid)
}
