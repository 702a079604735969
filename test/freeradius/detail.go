package freeradius

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Record is one request in the detail file: the header line (the time
// FreeRADIUS received it) and its attributes in order, values unquoted.
type Record struct {
	Header string
	Attrs  []Attr
}

// Get returns the first value of the attribute name.
func (r Record) Get(name string) (string, bool) {
	for _, a := range r.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Uint returns the attribute's value as a number (0, false when it is
// absent or not a number).
func (r Record) Uint(name string) (uint64, bool) {
	v, ok := r.Get(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// Octets is Acct-Input-Octets / Acct-Output-Octets with their Gigawords
// (RFC 2869 5.1, 5.2) folded in.
func (r Record) Octets() (in, out uint64) {
	in, _ = r.Uint("Acct-Input-Octets")
	out, _ = r.Uint("Acct-Output-Octets")
	gin, _ := r.Uint("Acct-Input-Gigawords")
	gout, _ := r.Uint("Acct-Output-Gigawords")
	return in + gin<<32, out + gout<<32
}

// Status is Acct-Status-Type ("Start", "Interim-Update", "Stop",
// "Accounting-On", ...).
func (r Record) Status() string {
	v, _ := r.Get("Acct-Status-Type")
	return v
}

// ParseDetail reads a detail file: records separated by blank lines, each a
// header line followed by tab-indented "Name = value" lines.
func ParseDetail(rd io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var recs []Record
	var cur *Record
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.TrimSpace(text) == "":
			cur = nil
		case text[0] != '\t' && text[0] != ' ':
			recs = append(recs, Record{Header: text})
			cur = &recs[len(recs)-1]
		default:
			if cur == nil {
				return recs, fmt.Errorf("%w: line %d: attribute outside a record", ErrMalformedDetail, line)
			}
			name, value, ok := strings.Cut(strings.TrimSpace(text), " = ")
			if !ok || name == "" {
				return recs, fmt.Errorf("%w: line %d: %q", ErrMalformedDetail, line, text)
			}
			cur.Attrs = append(cur.Attrs, Attr{Name: name, Value: unquote(value)})
		}
	}
	return recs, sc.Err()
}

// unquote removes the double quotes of a string value and its escapes.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
