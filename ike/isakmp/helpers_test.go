package isakmp

import (
	"encoding/hex"
	"hash"
	"net/netip"
)

func hexs(b []byte) string { return hex.EncodeToString(b) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// recorder is a hash.Hash whose sum is everything written to it.
type recorder struct{ b []byte }

func newRecorder() hash.Hash { return &recorder{} }

func (r *recorder) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }
func (r *recorder) Sum(b []byte) []byte         { return append(b, r.b...) }
func (r *recorder) Reset()                      { r.b = nil }
func (r *recorder) Size() int                   { return len(r.b) }
func (r *recorder) BlockSize() int              { return 1 }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
