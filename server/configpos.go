package server

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// keyLines maps the path of every key and table in a TOML document to the
// line it is written on. Paths name array-of-tables elements by index, as
// the validation errors do: "pool[1].ranges", "ike.psk[0].secret".
//
// BurntSushi/toml keeps key positions private, and a configuration error
// that does not say where it is costs an administrator time, so the document
// is scanned once more here. The scan understands what configuration files
// use: [table] and [[array]] headers, bare, quoted and dotted keys, and
// values that span lines (arrays, multi-line strings).
type keyLines map[string]int

func scanKeyLines(doc string) keyLines {
	kl := keyLines{}
	arrayCount := map[string]int{} // array-of-tables path -> elements seen
	table := ""                    // current table path, with indices
	depth := 0                     // open brackets/braces of a value spanning lines
	inMulti := ""                  // closing delimiter of an open multi-line string
	for i, raw := range strings.Split(doc, "\n") {
		line := i + 1
		s := raw
		if inMulti != "" {
			idx := strings.Index(s, inMulti)
			if idx < 0 {
				continue
			}
			s = s[idx+len(inMulti):]
			inMulti = ""
			depth += bracketDelta(s, &inMulti)
			continue
		}
		if depth > 0 {
			depth += bracketDelta(s, &inMulti)
			continue
		}
		t := strings.TrimSpace(stripComment(s))
		switch {
		case t == "":
		case strings.HasPrefix(t, "[["):
			name := normKey(strings.TrimSuffix(strings.TrimPrefix(t, "[["), "]]"))
			full := resolveArrayPath(name, arrayCount, true)
			arrayCount[name]++
			table = full
			kl.set(table, line)
		case strings.HasPrefix(t, "["):
			name := normKey(strings.TrimSuffix(strings.TrimPrefix(t, "["), "]"))
			table = resolveArrayPath(name, arrayCount, false)
			kl.set(table, line)
		default:
			eq := keyEnd(t)
			if eq < 0 {
				continue
			}
			key := normKey(t[:eq])
			full := key
			if table != "" {
				full = table + "." + key
			}
			kl.set(full, line)
			depth += bracketDelta(t[eq+1:], &inMulti)
		}
	}
	return kl
}

func (kl keyLines) set(path string, line int) {
	if _, ok := kl[path]; !ok {
		kl[path] = line
	}
}

// lookup returns the line of path, or of its nearest enclosing key or table.
func (kl keyLines) lookup(path string) int {
	for p := path; p != ""; {
		if l, ok := kl[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// resolveArrayPath gives a table name like "ike.psk" the indices of the
// array-of-tables elements it lives in, e.g. "pool.x" -> "pool[2].x" while
// the third [[pool]] is open. For an [[array]] header (opening is true) the
// last part gets the index of the element being opened; the caller counts
// it after this call.
func resolveArrayPath(name string, arrayCount map[string]int, opening bool) string {
	parts := strings.Split(name, ".")
	var b strings.Builder
	prefix := ""
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
			prefix += "."
		}
		prefix += p
		b.WriteString(p)
		n, isArray := arrayCount[prefix]
		switch {
		case opening && i == len(parts)-1:
			fmt.Fprintf(&b, "[%d]", n)
		case isArray:
			fmt.Fprintf(&b, "[%d]", n-1)
		}
	}
	return b.String()
}

// keyEnd returns the index of the '=' that ends the key on a key/value line.
func keyEnd(t string) int {
	quote := byte(0)
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return i
		}
	}
	return -1
}

// normKey turns a written key into its path: quotes removed, dots inside
// quotes kept, white space around the dots dropped.
func normKey(k string) string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return strings.Join(parts, ".")
}

func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

// bracketDelta counts how many brackets or braces a value fragment leaves
// open, and notes a multi-line string left open.
func bracketDelta(s string, inMulti *string) int {
	d := 0
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		if strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], "'''") {
			delim := s[i : i+3]
			end := strings.Index(s[i+3:], delim)
			if end < 0 {
				*inMulti = delim
				return d
			}
			i += 3 + end + 2
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
		case '[', '{':
			d++
		case ']', '}':
			d--
		case '#':
			return d
		}
	}
	return d
}

// unknownKeys walks a generically decoded document against the struct type
// that the configuration decodes into and returns the paths of keys that
// have no field. BurntSushi/toml's Undecoded says which keys were not used
// but not in which element of an array of tables; this says both.
func unknownKeys(doc map[string]any, t reflect.Type) []string {
	var out []string
	walkUnknown(doc, t, "", &out)
	sort.Strings(out)
	return out
}

func walkUnknown(v any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("toml"), ",")[0]
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		if _, textual := reflect.New(t).Interface().(interface{ UnmarshalText([]byte) error }); textual {
			return
		}
		for k, sub := range m {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				*out = append(*out, p)
				continue
			}
			walkUnknown(sub, ft, p, out)
		}
	case reflect.Slice, reflect.Array:
		switch s := v.(type) {
		case []map[string]any:
			for i, e := range s {
				walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
			}
		case []any:
			for i, e := range s {
				walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				walkUnknown(sub, t.Elem(), path+"."+k, out)
			}
		}
	}
}
