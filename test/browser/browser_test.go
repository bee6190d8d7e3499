package browser

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// pngOf encodes a 100x200 picture: white, with the first n rows striped in three colours.
func pngOf(t *testing.T, n int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 100, 200))
	stripes := []color.RGBA{{200, 0, 0, 255}, {0, 200, 0, 255}, {0, 0, 200, 255}}
	for y := 0; y < 200; y++ {
		for x := 0; x < 100; x++ {
			c := color.RGBA{255, 255, 255, 255}
			if y < n {
				c = stripes[(x/2)%3]
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBlank(t *testing.T) {
	for _, c := range []struct {
		what string
		data []byte
		want string
	}{
		{"a page", pngOf(t, 20), ""},
		{"all white", pngOf(t, 0), "looks blank: 1 colours, the commonest on 5000 of 5000 sampled pixels"},
		{"one striped row pair", pngOf(t, 2), "looks blank: 4 colours, the commonest on 4950 of 5000 sampled pixels"},
		{"no PNG", []byte("GIF89a"), "is not a PNG: "},
	} {
		if got := Blank(c.data); (c.want == "" && got != "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want %q", c.what, got, c.want)
		}
	}
}
