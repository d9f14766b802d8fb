package cache

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

func sampleEntry() Entry {
	return Entry{Stored: time.UnixMilli(1_700_000_000_123), Model: "gpt-4o", Body: []byte(`{"id":"x"}`),
		Usage: api.Usage{InputTokens: 12, OutputTokens: 7, CachedTokens: 2, Reported: true}}
}

func TestEntryRoundTrip(t *testing.T) {
	e := sampleEntry()
	got, err := Decode(e.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Stored.Equal(e.Stored) || got.Model != e.Model || !bytes.Equal(got.Body, e.Body) || got.Usage != e.Usage {
		t.Fatalf("got %+v, want %+v", got, e)
	}
}

func TestCorruptEntries(t *testing.T) {
	e := sampleEntry()
	enc := e.Encode(nil)
	flipped := bytes.Clone(enc)
	flipped[len(magic)+3] ^= 1
	cases := map[string][]byte{
		"empty":          nil,
		"not an entry":   []byte("hello, world"),
		"truncated":      enc[:len(enc)-5],
		"one byte short": enc[:len(enc)-1],
		"flipped bit":    flipped,
		"other version":  append([]byte("SLC\x02"), enc[4:]...),
		"trailing bytes": append(bytes.Clone(enc), 0),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
		})
	}
}
