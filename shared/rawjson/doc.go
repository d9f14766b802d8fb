// Package rawjson reads JSON without reflection and writes JSON strings:
// the members of an object scanned in place, a few of them read by exact
// key and kind (ReadFields), strings carried from one protocol's message
// into another's (Text). It is the gateway's hot-path alternative to
// encoding/json; its fuzz tests hold each piece to encoding/json, and its
// callers decode whole whatever it declines.
package rawjson
