package pycode

import (
	"strings"

	"github.com/rampartsec/rampart/internal/pylex"
)

// decoders turn an encoded or compressed literal back into bytes.
var decoders = map[string]bool{
	"base64.b64decode": true, "base64.standard_b64decode": true, "base64.urlsafe_b64decode": true,
	"base64.b32decode": true, "base64.b32hexdecode": true, "base64.b16decode": true, "base64.b85decode": true,
	"base64.a85decode": true, "base64.decodebytes": true, "base64.decodestring": true, "base64.decode": true,
	"binascii.a2b_base64": true, "binascii.a2b_hex": true, "binascii.unhexlify": true, "binascii.a2b_uu": true,
	"binascii.a2b_qp": true, "bytes.fromhex": true, "bytearray.fromhex": true,
	"zlib.decompress": true, "lzma.decompress": true, "bz2.decompress": true, "gzip.decompress": true,
	"codecs.decode": true, "marshal.loads": true,
}

// codecNames are the codecs whose .decode(name) decodes a payload.
var codecNames = map[string]bool{
	"rot13": true, "rot_13": true, "base64": true, "base_64": true, "hex": true, "zlib": true, "bz2": true,
	"uu": true, "unicode_escape": true,
}

// isDecoder reports a call that decodes or decompresses: a decoder by
// name, or x.decode("rot13") and the like.
func isDecoder(callee string, c pylex.Call) bool {
	if decoders[callee] {
		return true
	}
	if strings.HasSuffix(callee, ".decode") && len(c.Pos) >= 1 {
		v, ok := plain(c.Pos[0])
		return ok && codecNames[strings.ToLower(v)]
	}
	return false
}

// fetchers return data read from the network.
var fetchers = map[string]bool{
	"urllib.request.urlopen": true, "urllib.request.urlretrieve": true, "urllib.urlopen": true,
	"urllib.urlretrieve": true, "urllib2.urlopen": true, "requests.get": true, "requests.post": true,
	"requests.request": true, "httpx.get": true, "httpx.post": true, "httpx.request": true,
}

func isFetch(callee string) bool {
	if fetchers[callee] {
		return true
	}
	switch last(callee) {
	case "recv", "recvfrom", "recv_into", "urlopen", "urlretrieve":
		return true
	}
	return false
}

func last(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

// processFuncs run operating-system commands.
var processFuncs = map[string]bool{
	"os.system": true, "os.popen": true, "os.popen2": true, "os.popen3": true, "os.popen4": true,
	"os.startfile": true, "posix.system": true, "nt.system": true, "posix.popen": true,
	"subprocess.run": true, "subprocess.call": true, "subprocess.check_call": true,
	"subprocess.check_output": true, "subprocess.Popen": true, "subprocess.getoutput": true,
	"subprocess.getstatusoutput": true, "pty.spawn": true, "commands.getoutput": true,
	"commands.getstatusoutput": true, "commands.getstatus": true, "platform.popen": true,
	"asyncio.create_subprocess_shell": true, "asyncio.create_subprocess_exec": true,
}

func isProcess(callee string) bool {
	if processFuncs[callee] {
		return true
	}
	for _, p := range []string{"os.exec", "os.spawn", "os.posix_spawn", "posix.exec", "posix.spawn"} {
		if strings.HasPrefix(callee, p) {
			return true
		}
	}
	return false
}

// networkFuncs open connections or send requests.
var networkFuncs = map[string]bool{
	"socket.socket": true, "socket.create_connection": true, "socket.create_server": true, "socket.fromfd": true,
	"urllib.request.urlopen": true, "urllib.request.urlretrieve": true, "urllib.request.build_opener": true,
	"urllib.urlopen": true, "urllib.urlretrieve": true, "urllib2.urlopen": true,
	"http.client.HTTPConnection": true, "http.client.HTTPSConnection": true,
	"httplib.HTTPConnection": true, "httplib.HTTPSConnection": true,
	"aiohttp.ClientSession": true, "aiohttp.request": true, "paramiko.SSHClient": true, "paramiko.Transport": true,
	"ftplib.FTP": true, "ftplib.FTP_TLS": true, "smtplib.SMTP": true, "smtplib.SMTP_SSL": true,
	"telnetlib.Telnet": true, "urllib3.PoolManager": true, "urllib3.request": true, "pycurl.Curl": true,
	"websocket.create_connection": true, "websockets.connect": true,
}

// httpVerbs are the request functions of requests and httpx.
var httpVerbs = map[string]bool{
	"get": true, "post": true, "put": true, "patch": true, "delete": true, "head": true, "options": true,
	"request": true, "stream": true, "Session": true, "session": true, "Client": true, "AsyncClient": true,
}

func isNetwork(callee string) bool {
	if networkFuncs[callee] {
		return true
	}
	mod, fn, ok := strings.Cut(callee, ".")
	return ok && (mod == "requests" || mod == "httpx") && httpVerbs[fn]
}

// pickleLoaders unpickle what they are given.
var pickleLoaders = map[string]bool{
	"pickle.load": true, "pickle.loads": true, "_pickle.load": true, "_pickle.loads": true,
	"cPickle.load": true, "cPickle.loads": true, "pickle.Unpickler": true, "dill.load": true, "dill.loads": true,
	"cloudpickle.load": true, "cloudpickle.loads": true, "joblib.load": true, "pandas.read_pickle": true,
	"shelve.open": true,
}

// nativeFuncs load native code.
var nativeFuncs = map[string]bool{
	"ctypes.CDLL": true, "ctypes.PyDLL": true, "ctypes.WinDLL": true, "ctypes.OleDLL": true,
	"ctypes.LibraryLoader": true, "_ctypes.dlopen": true, "_ctypes.LoadLibrary": true,
	"torch.ops.load_library": true, "torch.utils.cpp_extension.load": true,
	"torch.utils.cpp_extension.load_inline": true,
}

func isNative(callee string) bool {
	if nativeFuncs[callee] || last(callee) == "dlopen" {
		return true
	}
	for _, p := range []string{"ctypes.cdll.", "ctypes.windll.", "ctypes.oledll.", "ctypes.pydll.", "ctypes.pythonapi."} {
		if strings.HasPrefix(callee, p) {
			return true
		}
	}
	return false
}

// sitePackages name the folders Python imports from at start-up.
var sitePackages = map[string]bool{
	"site.getsitepackages": true, "site.getusersitepackages": true, "site.USER_SITE": true,
	"sysconfig.get_paths": true, "sysconfig.get_path": true, "distutils.sysconfig.get_python_lib": true,
}

// sensitivePath reports a (lower-cased) string naming a file whose
// change runs code later: shell start-up files, cron, SSH keys, Python
// start-up hooks.
func sensitivePath(v string) bool {
	if len(v) > 4096 {
		return false
	}
	for _, s := range []string{".bashrc", ".bash_profile", ".bash_login", ".zshrc", ".zprofile", ".zshenv",
		"config.fish", "crontab", "/etc/cron", "/var/spool/cron", "authorized_keys", "sitecustomize",
		"usercustomize", "site-packages", "dist-packages", "/etc/rc.local", "/etc/profile", "ld.so.preload",
		".config/autostart", "launchagents", "/etc/systemd", ".config/systemd", "/etc/sudoers", ".git/hooks"} {
		if strings.Contains(v, s) {
			return true
		}
	}
	return v == ".profile" || strings.HasSuffix(v, "/.profile")
}

// shellIndicator reports a (lower-cased) command string that downloads
// something or hands a string to a shell.
func shellIndicator(v string) bool {
	if len(v) > 1<<16 {
		v = v[:1<<16]
	}
	for _, s := range []string{"curl", "wget", "sh -c", "bash -c", "powershell", "/dev/tcp/", "| sh", "|sh",
		"| bash", "|bash", "nc -e", "mkfifo", "certutil", "invoke-expression", "iex(", "base64 -d"} {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// pipWord reports a string that names pip as a command.
func pipWord(v string) bool {
	for _, f := range strings.Fields(v) {
		switch f {
		case "pip", "pip3", "pip.exe", "easy_install":
			return true
		}
		if strings.HasSuffix(f, "/pip") || strings.HasSuffix(f, "/pip3") {
			return true
		}
	}
	return false
}

// credentials notes what the file reads that looks like a credential: an
// environment variable named like a secret, the whole environment, or a
// credential file.
func (a *analysis) credentials() {
	for i, t := range a.toks {
		switch t.Kind {
		case pylex.String:
			v := strings.ToLower(pylex.Unquote(t.Text))
			for _, s := range []string{".ssh/", "id_rsa", "id_ed25519", ".aws/credentials", "~/.aws", ".netrc",
				"huggingface/token", ".git-credentials", ".docker/config.json", ".kube/config", ".pypirc"} {
				if len(v) < 4096 && strings.Contains(v, s) {
					a.credential = s
					return
				}
			}
		case pylex.Name:
			if i > 0 && a.toks[i-1].Text == "." {
				continue
			}
			if h := a.head(t.Text); h != "os" && !strings.HasPrefix(h, "os.") {
				continue
			}
			name, j := pylex.Dotted(a.toks, i)
			switch a.imp.Resolve(name) {
			case "os.environ":
				if j+1 < len(a.toks) && a.toks[j].Text == "[" && a.toks[j+1].Kind == pylex.String {
					if v := pylex.Unquote(a.toks[j+1].Text); secretName(v) {
						a.credential = v
						return
					}
				}
				if j < len(a.toks) && (a.toks[j].Text == ")" || a.toks[j].Text == "," || a.toks[j].Text == "}") {
					a.credential = "the whole environment"
					return
				}
			case "os.environ.get", "os.getenv", "os.environ.pop", "os.environ.setdefault", "os.getenvb":
				if j+1 < len(a.toks) && a.toks[j].Text == "(" && a.toks[j+1].Kind == pylex.String {
					if v := pylex.Unquote(a.toks[j+1].Text); secretName(v) {
						a.credential = v
						return
					}
				}
			case "os.environ.copy", "os.environ.items", "os.environ.values", "os.environ.__dict__":
				a.credential = "the whole environment"
				return
			}
		}
	}
}

// secretName reports an environment variable named like a credential.
func secretName(v string) bool {
	if len(v) > 256 {
		return false
	}
	u := strings.ToUpper(v)
	for _, s := range []string{"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"} {
		if strings.Contains(u, s) {
			return true
		}
	}
	if !strings.HasPrefix(u, "HF_") && !strings.HasPrefix(u, "AWS_") && !strings.HasPrefix(u, "OPENAI") &&
		!strings.HasPrefix(u, "HUGGING_FACE_") {
		return false
	}
	// Settings under those prefixes that hold no secret.
	for _, s := range []string{"_HOME", "_CACHE", "_OFFLINE", "_ENDPOINT", "_REGION", "_DIR", "_VERBOSITY",
		"_TELEMETRY", "_TRANSFER", "_TIMEOUT", "_PROFILE", "_BASE_URL", "_ORG_ID", "_DEBUG"} {
		if strings.Contains(u, s) {
			return false
		}
	}
	return true
}

// minBlob is the length from which an encoded-looking literal is reported.
const minBlob = 200

// blobs reports long string literals (adjacent literals joined, as Python
// joins them) that are all base64, hex or escaped bytes.
func (a *analysis) blobs() {
	for i := 0; i < len(a.toks); i++ {
		if a.toks[i].Kind != pylex.String {
			continue
		}
		start, n, ok := i, 0, true
		for ; i < len(a.toks) && a.toks[i].Kind == pylex.String; i++ {
			v := pylex.Unquote(a.toks[i].Text)
			ok = ok && encoded(v)
			n += len(v)
		}
		if ok && n >= minBlob && mixed(a.toks[start:i]) {
			t := a.toks[start]
			a.at(RuleEncodedBlob, t.Off, t.Line, "", "a "+itoa(n)+"-character encoded string literal", 0.7)
		}
	}
}

// encoded reports a string of base64, hex or escape characters only
// (line breaks allowed).
func encoded(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '+' || c == '/' || c == '=' || c == '-' || c == '_' || c == '\\' || c == '\n' || c == '\r') {
			return false
		}
	}
	return true
}

// mixed reports literals holding both letters and digits: encoded data,
// not a line of dashes or a long identifier.
func mixed(ts []pylex.Token) bool {
	var letter, digit bool
	for _, t := range ts {
		v := pylex.Unquote(t.Text)
		for i := 0; i < len(v) && !(letter && digit); i++ {
			c := v[i]
			letter = letter || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			digit = digit || c >= '0' && c <= '9'
		}
	}
	return letter && digit
}

// writers copy, move or link files.
var writers = map[string]bool{
	"shutil.copy": true, "shutil.copy2": true, "shutil.copyfile": true, "shutil.copyfileobj": true,
	"shutil.move": true, "shutil.copytree": true, "os.rename": true, "os.replace": true, "os.symlink": true,
	"os.link": true, "os.open": true, "os.fdopen": true,
}

// persistence reports logical lines that write a file and name a
// sensitive path (directly or through a variable).
func (a *analysis) persistence() {
	ci := 0
	for _, l := range a.lines {
		for ci < len(a.calls) && a.calls[ci].Start < l[0] {
			ci++
		}
		if !has(a.sensitive, l[0], l[1]) && !has(a.refs[2], l[0], l[1]) {
			continue
		}
		off, line, what := a.writeIn(l, ci)
		if what != "" {
			a.at(RulePersistence, off, line, what, "writes a file that runs code later (shell start-up, cron, SSH keys, Python start-up)", 0.9)
		}
	}
}

// writeIn returns where line l writes a file, and what writes it; ""
// when it does not. ci is the index of the line's first call.
func (a *analysis) writeIn(l [2]int, ci int) (int, int, string) {
	for ; ci < len(a.calls) && a.calls[ci].Start < l[1]; ci++ {
		c := a.calls[ci]
		callee := normalize(c.Callee)
		switch {
		case callee == "open" || callee == "io.open" || callee == "codecs.open":
			mode := c.Kw["mode"]
			if len(c.Pos) >= 2 {
				mode = c.Pos[1]
			}
			if m, ok := plain(mode); ok && strings.ContainsAny(m, "wax+") {
				return c.Tok.Off, c.Tok.Line, c.Name + "(…)"
			}
		case writers[callee] || last(callee) == "CronTab":
			return c.Tok.Off, c.Tok.Line, c.Name + "(…)"
		}
	}
	// pathlib: p.write_text(…), p.open("a").
	for i := l[0] + 1; i+1 < l[1]; i++ {
		t := a.toks[i]
		if t.Kind != pylex.Name || a.toks[i-1].Text != "." || a.toks[i+1].Text != "(" {
			continue
		}
		switch t.Text {
		case "write_text", "write_bytes", "symlink_to", "hardlink_to":
			return t.Off, t.Line, "." + t.Text + "(…)"
		case "open":
			if i+2 < l[1] {
				if m, ok := plain(a.toks[i+2 : i+3]); ok && strings.ContainsAny(m, "wax+") {
					return t.Off, t.Line, ".open(…)"
				}
			}
		}
	}
	return 0, 0, ""
}
