package keras

import "encoding/binary"

// isCode reports whether b looks like a marshalled Python code object: the
// TYPE_CODE byte ('c', optionally with FLAG_REF) followed by five (Python
// 3.7 and 3.11+) or six (3.8–3.10) 32-bit fields and then the bytecode as a
// bytes object ('s').
func isCode(b []byte) bool {
	if len(b) < 26 || b[0]&0x7F != 'c' {
		return false
	}
	return b[21]&0x7F == 's' || b[25]&0x7F == 's'
}

// maxCodeNames bounds the names codeNames returns.
const maxCodeNames = 32

// codeNames reads the identifier-like strings of a marshalled code object
// (its names, variable names and string constants) without interpreting
// the format fully: it looks for marshal string records (short ASCII 'z'/'Z'
// with a one-byte length, 'a'/'A'/'u'/'t' with a four-byte length) whose
// bytes are printable. Reading stays within b, and at most maxCodeNames
// distinct strings are kept.
func codeNames(b []byte) []string {
	var names []string
	seen := map[string]bool{}
	for i := 0; i < len(b) && len(names) < maxCodeNames; i++ {
		var n, start int
		switch b[i] & 0x7F {
		case 'z', 'Z':
			if i+1 >= len(b) {
				return names
			}
			n, start = int(b[i+1]), i+2
		case 'a', 'A', 'u', 't':
			if i+5 > len(b) {
				continue
			}
			l := binary.LittleEndian.Uint32(b[i+1:])
			if l > 4096 {
				continue
			}
			n, start = int(l), i+5
		default:
			continue
		}
		if n == 0 || start+n > len(b) {
			continue
		}
		s := b[start : start+n]
		if !printable(s) {
			continue
		}
		if str := string(s); !seen[str] && str[0] != '<' {
			seen[str] = true
			names = append(names, str)
		}
		i = start + n - 1
	}
	return names
}

func printable(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// suspiciousCodeNames are names in bytecode worth calling out in a finding.
var suspiciousCodeNames = map[string]bool{
	"os": true, "posix": true, "nt": true, "system": true, "popen": true, "subprocess": true,
	"Popen": true, "check_output": true, "exec": true, "eval": true, "compile": true,
	"__import__": true, "open": true, "socket": true, "connect": true, "builtins": true,
	"__builtins__": true, "getattr": true, "importlib": true, "import_module": true, "marshal": true,
	"pickle": true, "shutil": true, "rmtree": true, "remove": true, "unlink": true, "urlopen": true,
	"requests": true, "urllib": true, "b64decode": true, "ctypes": true, "spawn": true, "execve": true,
	"fork": true, "pty": true, "webbrowser": true, "__globals__": true, "__subclasses__": true,
	"globals": true, "environ": true, "getenv": true,
}
