package lab

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// dumpLines bounds how much of each log is printed on failure.
const dumpLines = 400

// logSource is one log printed into the test output when the test fails.
type logSource struct {
	name string
	read func() string
}

// AddLogFile registers a file whose content (its last lines) is printed when
// the test fails; the file is read at that time.
func (l *Lab) AddLogFile(name, path string) {
	l.AddLogHook(name, func() string {
		data, err := os.ReadFile(path)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return string(data)
	})
}

// AddLogHook registers a function whose result is printed when the test
// fails, e.g. the server's own log or a dump of its state.
func (l *Lab) AddLogHook(name string, read func() string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, logSource{name: name, read: read})
}

// addLogDir registers every file in dir (read at failure time).
func (l *Lab) addLogDir(prefix, dir string) {
	l.AddLogHook(prefix, func() string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		var names []string
		for _, e := range ents {
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		var b strings.Builder
		for _, n := range names {
			data, _ := os.ReadFile(filepath.Join(dir, n))
			b.WriteString("----- " + prefix + "/" + n + " -----\n")
			b.WriteString(tailLines(string(data), dumpLines))
			b.WriteString("\n")
		}
		return b.String()
	})
}

func (l *Lab) dumpLogs() {
	l.mu.Lock()
	logs := append([]logSource(nil), l.logs...)
	l.mu.Unlock()
	for _, s := range logs {
		l.t.Logf("===== lab log: %s =====\n%s", s.name, tailLines(s.read(), dumpLines*4))
	}
}
