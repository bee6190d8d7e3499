// Package strictjson decodes JSON the way every slasa message is read:
// exactly one value, no unknown object fields, nothing after it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// ErrTrailingData is returned when data holds more than one JSON value.
var ErrTrailingData = errors.New("trailing data after the JSON object")

// Unmarshal decodes data into v, rejecting unknown fields and trailing data.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return ErrTrailingData
	}
	// dec.More is false at EOF and before a closing bracket; anything else
	// left (such as a stray "]") is still trailing data.
	var rest json.RawMessage
	if err := dec.Decode(&rest); err == nil || !errors.Is(err, io.EOF) {
		return ErrTrailingData
	}
	return nil
}
