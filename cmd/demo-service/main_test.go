package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseOutage(t *testing.T) {
	tests := []struct {
		in, err string
		zones   int
	}{
		{in: "zone-a+zone-b@2026-01-01T00:00:40Z/2026-01-01T00:00:45Z", zones: 2},
		{in: "zone-a@2026-01-01T00:00:40Z/2026-01-01T00:00:41Z", zones: 1},
		{in: "zone-a", err: "want ZONE"},
		{in: "zone-a@2026-01-01T00:00:40Z", err: "want FROM/TO"},
		{in: "zone-a@x/2026-01-01T00:00:40Z", err: "FROM"},
		{in: "zone-a@2026-01-01T00:00:40Z/y", err: "TO"},
		{in: "zone-a@2026-01-01T00:00:40Z/2026-01-01T00:00:40Z", err: "after FROM"},
	}
	for _, tc := range tests {
		o, err := parseOutage(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(o.Zones) != tc.zones {
			t.Errorf("%s: %+v, %v", tc.in, o, err)
		}
	}
}

func TestServeBySampleTime(t *testing.T) {
	o, err := parseOutage("zone-a+zone-b@2026-01-01T00:00:40Z/2026-01-01T00:00:45Z")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := newService([]string{"zone-a", "zone-b", "zone-c"}, []outage{o}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	svc.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 42, 0, time.UTC) }
	srv := httptest.NewServer(svc)
	defer srv.Close()
	tests := []struct {
		path, sample string
		want         int
	}{
		{"/zone-a", "2026-01-01T00:00:39.000Z", 200},
		{"/zone-a", "2026-01-01T00:00:40.000Z", 503},
		{"/zone-b", "2026-01-01T00:00:44.000Z", 503},
		{"/zone-b", "2026-01-01T00:00:45.000Z", 200},
		{"/zone-c", "2026-01-01T00:00:42.000Z", 200},
		{"/zone-a", "", 503}, // no header: the clock (00:00:42)
		{"/zone-a", "garbage", 400},
		{"/zone-x", "", 404},
		{"/healthz", "", 200},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
		if tc.sample != "" {
			req.Header.Set(sampleTimeHeader, tc.sample)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s at %q: status %d, want %d", tc.path, tc.sample, resp.StatusCode, tc.want)
		}
	}
}

func TestUnknownOutageZone(t *testing.T) {
	o, _ := parseOutage("zone-q@2026-01-01T00:00:40Z/2026-01-01T00:00:45Z")
	if _, err := newService([]string{"zone-a"}, []outage{o}, io.Discard); err == nil {
		t.Fatal("an outage of an unknown zone was accepted")
	}
}
