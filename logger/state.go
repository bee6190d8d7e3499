package logger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateVersion is the version of the state file format.
const StateVersion = 1

// State is the persisted publishing position of one SLA.
type State struct {
	Version int    `json:"version"`
	SLAID   string `json:"sla_id"`
	// WindowSeconds is the batch window width the state was created with;
	// the spool's segments depend on it, so it cannot change.
	WindowSeconds int64 `json:"window_seconds"`
	// NextSeq is the sequence number of the next batch to cut; PrevCID the
	// CID of batch NextSeq-1 (empty before the first batch).
	NextSeq int64  `json:"next_seq"`
	PrevCID string `json:"prev_cid"`
	// NextWindowStart is the start of the next window to cut (RFC 3339).
	NextWindowStart string `json:"next_window_start"`
	// Pending is the batch cut and sealed but not yet anchored.
	Pending *Pending `json:"pending,omitempty"`
	// Published counts the batches anchored and PublishedRecords their
	// records.
	Published        int64 `json:"published"`
	PublishedRecords int64 `json:"published_records"`
}

// Pending is a sealed batch on its way to IPFS and the ledger.
type Pending struct {
	Seq         int64  `json:"seq"`
	PrevCID     string `json:"prev_cid"`
	WindowStart string `json:"window_start"`
	WindowEnd   string `json:"window_end"`
	Records     int64  `json:"records"`
	// CID is the CID of the sealed bytes, computed locally at sealing.
	CID string `json:"cid"`
	// File is the sealed batch's file name in the state folder.
	File string `json:"file"`
	// Added is true once IPFS holds the bytes (pinned).
	Added bool `json:"added"`
}

// LoadState reads a state file; it returns (nil, nil) when there is none.
func LoadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("state file %s: version %d, want %d", path, st.Version, StateVersion)
	}
	if st.NextSeq < 1 {
		return nil, fmt.Errorf("state file %s: next_seq %d must be at least 1", path, st.NextSeq)
	}
	return &st, nil
}

// SaveState writes st to path atomically and durably: a temporary file,
// fsynced, renamed over path, then the folder fsynced.
func SaveState(path string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic writes data to path atomically and durably.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	return nil
}
