package calendar

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"
)

// zoneinfoZip is the IANA time zone database compiled by Go (a copy of $GOROOT/lib/time/zoneinfo.zip), embedded
// so that every peer computes the same instants whatever its operating system's tz database says. Importing
// time/tzdata would not do: the time package prefers the system's files and only falls back to the embedded
// copy when there are none.
//
//go:embed zoneinfo.zip
var zoneinfoZip []byte

// TZDataVersion is the version of the IANA time zone database embedded in the package. Replacing the embedded
// database changes deadlines around the zones' rule changes, so it is a change of the computation.
const TZDataVersion = "2025c"

var zones struct {
	once  sync.Once
	files map[string]*zip.File
	err   error

	mu    sync.Mutex
	cache map[string]*time.Location
}

// loadZone loads the IANA zone name from the embedded database only.
func loadZone(name string) (*time.Location, error) {
	zones.once.Do(func() {
		r, err := zip.NewReader(bytes.NewReader(zoneinfoZip), int64(len(zoneinfoZip)))
		if err != nil {
			zones.err = fmt.Errorf("embedded time zone database: %w", err)
			return
		}
		zones.files = make(map[string]*zip.File, len(r.File))
		for _, f := range r.File {
			zones.files[f.Name] = f
		}
		zones.cache = make(map[string]*time.Location)
	})
	if zones.err != nil {
		return nil, zones.err
	}
	zones.mu.Lock()
	defer zones.mu.Unlock()
	if loc, ok := zones.cache[name]; ok {
		return loc, nil
	}
	f, ok := zones.files[name]
	if !ok {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	zones.cache[name] = loc
	return loc, nil
}
