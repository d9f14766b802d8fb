package cache

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// Entry is one stored answer: the whole answer as a plain body in the
// client's protocol (a streamed answer is stored as the body it adds up
// to), and the usage the provider reported for it.
type Entry struct {
	Stored time.Time
	Model  string // the model that answered, as the answer names it
	Body   []byte
	Usage  api.Usage
}

// ErrCorrupt is returned for bytes that are not a whole entry: a gateway
// treats it as a miss.
var ErrCorrupt = errors.New("cache: corrupt or truncated entry")

// magic starts every encoded entry; its last byte is the format version.
const magic = "SLC\x01"

// Encode appends e's encoding to dst: the magic, the fields, and a CRC-32
// of all before it, so that a truncated or altered entry is detected.
func (e *Entry) Encode(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, magic...)
	dst = binary.AppendVarint(dst, e.Stored.UnixMilli())
	dst = appendBytes(dst, []byte(e.Model))
	for _, n := range []int64{e.Usage.InputTokens, e.Usage.OutputTokens, e.Usage.CachedTokens,
		e.Usage.CacheWriteTokens, e.Usage.ReasoningTokens} {
		dst = binary.AppendUvarint(dst, uint64(max(n, 0)))
	}
	dst = appendBytes(dst, e.Body)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// Decode reads an entry that Encode wrote; anything else is ErrCorrupt.
// The entry's Body aliases b.
func Decode(b []byte) (Entry, error) {
	var e Entry
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return e, ErrCorrupt
	}
	sum := binary.BigEndian.Uint32(b[len(b)-4:])
	b = b[:len(b)-4]
	if crc32.ChecksumIEEE(b) != sum {
		return e, ErrCorrupt
	}
	r := reader{b: b[len(magic):]}
	e.Stored = time.UnixMilli(r.varint())
	e.Model = string(r.bytes())
	for _, n := range []*int64{&e.Usage.InputTokens, &e.Usage.OutputTokens, &e.Usage.CachedTokens,
		&e.Usage.CacheWriteTokens, &e.Usage.ReasoningTokens} {
		*n = int64(r.uvarint())
	}
	e.Usage.Reported = true
	e.Body = r.bytes()
	if r.bad || len(r.b) != 0 {
		return Entry{}, ErrCorrupt
	}
	return e, nil
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// reader reads what Encode wrote, remembering the first failure.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
