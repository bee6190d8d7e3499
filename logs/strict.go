package logs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// parseStrict decodes one line with encoding/json's tokenizer, checking the
// record exactly: keys are case-sensitive, duplicates and unknown keys are
// rejected, measurement values must be integers or booleans. It is the
// authority for every line the fast path does not accept.
func parseStrict(b []byte, names []string, in *Interner, s *Sample) *LineError {
	p := strictParser{dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	var (
		seen                       = map[string]bool{}
		probe, zone, region, incid string
		severity                   string
		evType                     EventType
		ms                         int64
		present                    uint8
		values                     [MaxMeasurements]int64
	)
	if le := p.open(""); le != nil {
		return le
	}
	for p.dec.More() {
		key, le := p.key("")
		if le != nil {
			return le
		}
		if seen[key] {
			return &LineError{Field: key, Reason: "duplicate key"}
		}
		seen[key] = true
		switch key {
		case "time":
			v, le := p.str(key)
			if le != nil {
				return le
			}
			t, ok := ParseTime([]byte(v))
			if !ok {
				return &LineError{Field: key, Reason: fmt.Sprintf("%q is not an RFC 3339 UTC time like 2026-03-01T00:00:00.000Z", v)}
			}
			ms = t
		case "source":
			fields := map[string]string{}
			if le := p.open(key); le != nil {
				return le
			}
			for p.dec.More() {
				k, le := p.key(key)
				if le != nil {
					return le
				}
				f := key + "." + k
				if k != "probe" && k != "zone" && k != "region" {
					return &LineError{Field: f, Reason: "unknown field (expected probe, zone, region)"}
				}
				if _, dup := fields[k]; dup {
					return &LineError{Field: f, Reason: "duplicate key"}
				}
				v, le := p.str(f)
				if le != nil {
					return le
				}
				if v == "" || len(v) > MaxStringBytes {
					return &LineError{Field: f, Reason: fmt.Sprintf("must be 1 to %d bytes long", MaxStringBytes)}
				}
				fields[k] = v
			}
			if le := p.close(key); le != nil {
				return le
			}
			for _, k := range []string{"probe", "zone", "region"} {
				if _, ok := fields[k]; !ok {
					return &LineError{Field: key + "." + k, Reason: "missing"}
				}
			}
			probe, zone, region = fields["probe"], fields["zone"], fields["region"]
		case "measurements":
			if le := p.open(key); le != nil {
				return le
			}
			mseen := map[string]bool{}
			for p.dec.More() {
				k, le := p.key(key)
				if le != nil {
					return le
				}
				f := key + "." + k
				if !ValidMeasurementName(k) {
					return &LineError{Field: f, Reason: "measurement name must match ^[a-z][a-z0-9_]{0,63}$"}
				}
				if mseen[k] {
					return &LineError{Field: f, Reason: "duplicate key"}
				}
				mseen[k] = true
				tok, err := p.dec.Token()
				if err != nil {
					return syntaxError(err)
				}
				var v int64
				switch t := tok.(type) {
				case bool:
					if t {
						v = 1
					}
				case json.Number:
					n, reason := integerValue(string(t))
					if reason != "" {
						return &LineError{Field: f, Reason: reason}
					}
					v = n
				default:
					return &LineError{Field: f, Reason: "must be an integer or a boolean"}
				}
				for j, n := range names {
					if n == k {
						values[j] = v
						present |= 1 << uint(j)
					}
				}
			}
			if le := p.close(key); le != nil {
				return le
			}
		case "event":
			if le := p.open(key); le != nil {
				return le
			}
			eseen := map[string]bool{}
			for p.dec.More() {
				k, le := p.key(key)
				if le != nil {
					return le
				}
				f := key + "." + k
				if k != "incident" && k != "type" && k != "severity" {
					return &LineError{Field: f, Reason: "unknown field (expected incident, type, severity)"}
				}
				if eseen[k] {
					return &LineError{Field: f, Reason: "duplicate key"}
				}
				eseen[k] = true
				v, le := p.str(f)
				if le != nil {
					return le
				}
				if k == "incident" {
					if v == "" || len(v) > MaxStringBytes {
						return &LineError{Field: f, Reason: fmt.Sprintf("must be 1 to %d bytes long", MaxStringBytes)}
					}
					incid = v
					continue
				}
				if k == "severity" {
					if !ValidSeverity(v) {
						return &LineError{Field: f, Reason: "must match ^[a-z][a-z0-9_-]{0,63}$ (a severity id of the SLA's support section)"}
					}
					severity = v
					continue
				}
				t, ok := ParseEventType(v)
				if !ok {
					return &LineError{Field: f, Reason: fmt.Sprintf("%q is not one of opened, acknowledged, resolved, paused, resumed, reopened, closed, severity_changed", v)}
				}
				evType = t
			}
			if le := p.close(key); le != nil {
				return le
			}
			for _, k := range []string{"incident", "type"} {
				if !eseen[k] {
					return &LineError{Field: key + "." + k, Reason: "missing"}
				}
			}
			switch {
			case evType == EventSeverityChanged && severity == "":
				return &LineError{Field: key + ".severity", Reason: "missing (a severity_changed event names the new severity)"}
			case severity != "" && evType != EventOpened && evType != EventSeverityChanged:
				return &LineError{Field: key + ".severity", Reason: fmt.Sprintf("only an opened or severity_changed event has a severity, not %s", evType)}
			}
		default:
			return &LineError{Field: key, Reason: "unknown field (expected time, source, measurements or event)"}
		}
	}
	if le := p.close(""); le != nil {
		return le
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return &LineError{Reason: "unexpected data after the record"}
	}
	for _, k := range []string{"time", "source"} {
		if !seen[k] {
			return &LineError{Field: k, Reason: "missing"}
		}
	}
	var kind Kind
	switch {
	case seen["measurements"] && seen["event"]:
		return &LineError{Field: "event", Reason: "a record has either measurements or event, not both"}
	case seen["measurements"]:
		kind = KindMeasurement
	case seen["event"]:
		kind = KindEvent
	default:
		return &LineError{Field: "measurements", Reason: "missing (a record has either measurements or event)"}
	}
	pid, ok1 := in.Probes.InternString(probe)
	zid, ok2 := in.Zones.InternString(zone)
	rid, ok3 := in.Regions.InternString(region)
	if !(ok1 && ok2 && ok3) {
		return &LineError{Field: "source", Reason: "too many distinct sources"}
	}
	var iid, sev uint32
	if kind == KindEvent {
		var ok bool
		if iid, ok = in.Incidents.InternString(incid); !ok {
			return &LineError{Field: "event.incident", Reason: "too many distinct incidents"}
		}
		if severity != "" {
			if sev, ok = in.Severities.InternString(severity); !ok {
				return &LineError{Field: "event.severity", Reason: "too many distinct severities"}
			}
			sev++
		}
	}
	*s = Sample{TimeMS: ms, Values: values, Probe: pid, Zone: zid, Region: rid, Incident: iid, Severity: sev, Present: present, Kind: kind, Event: evType}
	return nil
}

// integerValue checks the JSON number text is an integer without fraction
// or exponent that fits in int64.
func integerValue(t string) (int64, string) {
	digits := t
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, "must be an integer"
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, fmt.Sprintf("%s is not an integer", t)
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Sprintf("%s is out of the 64-bit integer range", t)
	}
	return n, ""
}

type strictParser struct{ dec *json.Decoder }

func syntaxError(err error) *LineError {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &LineError{Reason: "invalid JSON: unexpected end of line"}
	}
	return &LineError{Reason: "invalid JSON: " + err.Error()}
}

func (p *strictParser) open(field string) *LineError {
	tok, err := p.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if field == "" {
			return &LineError{Reason: "a record must be a JSON object"}
		}
		return &LineError{Field: field, Reason: "must be an object"}
	}
	return nil
}

func (p *strictParser) close(field string) *LineError {
	tok, err := p.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '}' {
		return &LineError{Field: field, Reason: "invalid JSON: object not closed"}
	}
	return nil
}

func (p *strictParser) key(field string) (string, *LineError) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", syntaxError(err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", &LineError{Field: field, Reason: "invalid JSON: expected a key"}
	}
	return k, nil
}

func (p *strictParser) str(field string) (string, *LineError) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", syntaxError(err)
	}
	v, ok := tok.(string)
	if !ok {
		return "", &LineError{Field: field, Reason: "must be a string"}
	}
	return v, nil
}
