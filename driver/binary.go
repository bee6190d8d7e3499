package driver

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// enc appends a deterministic binary encoding (varints, length-prefixed
// strings and byte strings).
type enc struct{ b []byte }

func (e *enc) u(v uint64)     { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)      { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) s(v string)     { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) bytes(v []byte) { e.u(uint64(len(v))); e.b = append(e.b, v...) }

// dec reads what enc wrote; the first error sticks.
type dec struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated or corrupt data")

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must not exceed max.
func (d *dec) count(max int) int {
	v := d.u()
	if d.err == nil && v > uint64(max) {
		d.err = fmt.Errorf("length %d exceeds %d: corrupt data", v, max)
		return 0
	}
	return int(v)
}

func (d *dec) bytes() []byte {
	v := d.u()
	if d.err == nil && v > uint64(len(d.b)) {
		d.err = errTruncated
	}
	if d.err != nil {
		return nil
	}
	n := int(v)
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *dec) s() string { return string(d.bytes()) }

// done fails when bytes are left over.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes: corrupt data", len(d.b))
	}
	return d.err
}
