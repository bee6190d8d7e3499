package logger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/slasa/slasa/logs"
)

// Measurement is one named integer measurement of a sample.
type Measurement struct {
	Name  string
	Value int64
	// Bool writes the value as a JSON boolean (true for non-zero).
	Bool bool
}

// Sample is one measurement record taken by a probe.
type Sample struct {
	Time         time.Time
	Probe        string
	Zone         string
	Region       string
	Measurements []Measurement
}

// timeLayout is the record time format: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatRecord encodes s as one log record line (without the final line
// break) in the canonical compact shape of schemas/log-record.schema.json:
// keys in schema order, measurements in the order given, no whitespace.
func FormatRecord(s Sample) ([]byte, error) {
	if s.Probe == "" || s.Zone == "" || s.Region == "" {
		return nil, errors.New("sample: probe, zone and region must not be empty")
	}
	if len(s.Measurements) == 0 {
		return nil, errors.New("sample: measurements: must not be empty")
	}
	var b bytes.Buffer
	b.WriteString(`{"time":"`)
	b.WriteString(s.Time.UTC().Format(timeLayout))
	b.WriteString(`","source":{"probe":`)
	writeString(&b, s.Probe)
	b.WriteString(`,"zone":`)
	writeString(&b, s.Zone)
	b.WriteString(`,"region":`)
	writeString(&b, s.Region)
	b.WriteString(`},"measurements":{`)
	seen := map[string]bool{}
	for i, m := range s.Measurements {
		if !logs.ValidMeasurementName(m.Name) {
			return nil, fmt.Errorf("sample: measurement %q: invalid name", m.Name)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("sample: measurement %q: given twice", m.Name)
		}
		seen[m.Name] = true
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(m.Name)
		b.WriteString(`":`)
		switch {
		case m.Bool && m.Value != 0:
			b.WriteString("true")
		case m.Bool:
			b.WriteString("false")
		default:
			b.WriteString(strconv.FormatInt(m.Value, 10))
		}
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always encodes
	b.Write(enc)
}

// RecordTime returns the time of a log record line, in Unix milliseconds.
func RecordTime(line []byte) (int64, error) {
	var head struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	ms, ok := logs.ParseTime([]byte(head.Time))
	if !ok {
		return 0, fmt.Errorf("record: time: %q is not an RFC 3339 UTC time", head.Time)
	}
	return ms, nil
}

// CheckRecord validates one log record line against the log format (the
// same decoder the enclave runs) and returns its time in Unix milliseconds.
// The line must not contain a line break.
func CheckRecord(line []byte) (int64, error) {
	if bytes.ContainsAny(line, "\r\n") {
		return 0, errors.New("record: contains a line break")
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return 0, errors.New("record: empty line")
	}
	d, err := logs.NewDecoder(bytes.NewReader(line), logs.Options{})
	if err != nil {
		return 0, err
	}
	var s logs.Sample
	if err := d.Next(&s); err != nil {
		if err == io.EOF {
			return 0, errors.New("record: empty line")
		}
		return 0, err
	}
	return s.TimeMS, nil
}
