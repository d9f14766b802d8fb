// Package rawjson reads JSON without reflection and writes JSON strings,
// for what typed decoding through package json cannot do: find one member
// of a body to edit it in place (MemberSpan), read a plain request by
// exact key and kind where that is much cheaper than decoding it
// (ReadFields), and carry a string literal from one protocol's message
// into another's without decoding it (AppendLiteral). Its fuzz tests hold
// each piece to encoding/json; its callers decode whole whatever it
// declines.
package rawjson
