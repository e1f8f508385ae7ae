package pickle

import (
	"fmt"
	"strings"
)

// Verdict is the policy's judgement of one global (a module attribute a
// pickle imports).
type Verdict int

// The verdicts, from harmless to harmful.
const (
	// Unknown globals are neither on the allowlist nor on the denylist:
	// importing and calling them runs code Rampart has not reviewed.
	Unknown Verdict = iota
	// Safe globals are the constructors ordinary checkpoints use.
	Safe
	// Dangerous globals execute code, run programs, touch files or the
	// network, or load further pickles.
	Dangerous
)

var verdictNames = [...]string{"unknown", "safe", "dangerous"}

// String returns "unknown", "safe" or "dangerous".
func (v Verdict) String() string {
	if v < Unknown || v > Dangerous {
		return "verdict(?)"
	}
	return verdictNames[v]
}

// MarshalText encodes v as its name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// safeGlobals are the exact dotted paths ordinary checkpoints import:
// PyTorch's tensor and storage rebuild functions and types (the set
// torch.load(weights_only=True) admits), NumPy's array reconstruction,
// joblib's array wrapper (whose data Scan follows), and builtin data
// types. A path on this list is safe however it is spelled (module
// "torch", name "_utils._rebuild_tensor_v2" is the same path).
var safeGlobals = func() map[string]string {
	m := map[string]string{}
	add := func(why string, names ...string) {
		for _, n := range names {
			m[n] = why
		}
	}
	add("PyTorch tensor rebuild function (torch.save)",
		"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
		"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
		"torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
		"torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
		"torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_wrapper_subclass",
		"torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
		"torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2",
		"torch.serialization._get_layout")
	add("PyTorch type (torch.save)",
		"torch.Size", "torch.Tensor", "torch.device", "torch.nn.parameter.Parameter",
		"torch.nn.Parameter", "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
		"torch.UntypedStorage", "torch.TypedStorage")
	for _, s := range []string{"Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
		"ComplexFloat", "ComplexDouble", "QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4"} {
		add("PyTorch storage type (torch.save)", "torch."+s+"Storage", "torch.cuda."+s+"Storage")
		add("PyTorch tensor type", "torch."+s+"Tensor", "torch.cuda."+s+"Tensor")
	}
	for _, d := range []string{"float32", "float", "float64", "double", "float16", "half", "bfloat16",
		"complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf", "uint8", "uint16", "uint32", "uint64",
		"int8", "int16", "short", "int32", "int", "int64", "long", "bool", "qint8", "quint8", "qint32",
		"quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
		"strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn",
		"per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
		"per_channel_affine_float_qparams", "contiguous_format", "channels_last", "channels_last_3d",
		"preserve_format"} {
		add("PyTorch dtype, layout or memory format", "torch."+d)
	}
	add("collections container", "collections.OrderedDict", "collections.Counter",
		"collections.defaultdict", "collections.deque")
	add("NumPy array reconstruction (ndarray.__reduce__)",
		"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
		"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
		"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
		"numpy.ndarray", "numpy.dtype", "numpy.ma.core._mareconstruct")
	add("joblib array wrapper (its array data is followed and scanned)",
		"joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper")
	add("bytes from a latin-1 string (protocol 0-2 encoding of bytes)", "_codecs.encode")
	add("object reconstruction helper; the class it is given is judged separately",
		"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__", "builtins.object")
	add("builtin data type", "builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.slice",
		"builtins.complex", "builtins.range")
	add("date and time value", "datetime.date", "datetime.datetime", "datetime.time", "datetime.timedelta",
		"datetime.timezone")
	return m
}()

// denyRule marks as dangerous every global whose dotted path is prefix or
// lies under it (prefix + "."), so that a rule for a module covers its
// submodules and the attributes of its classes.
type denyRule struct {
	prefix string
	why    string
}

// denyRules is the denylist. Its reasons follow the public advisories
// against picklescan, modelscan and fickling (see docs/model/pickle.md).
var denyRules = func() []denyRule {
	var rs []denyRule
	add := func(why string, prefixes ...string) {
		for _, p := range prefixes {
			rs = append(rs, denyRule{p, why})
		}
	}
	add("runs operating-system commands or programs",
		"os", "posix", "nt", "subprocess", "_posixsubprocess", "pty", "commands", "popen2", "platform",
		"_winapi", "msvcrt", "winreg", "_winreg", "_osx_support", "_aix_support", "_pyrepl",
		"uuid._get_command_stdout", "asyncio", "multiprocessing", "concurrent", "pydoc.pipepager", "pydoc.tempfilepager",
		"webbrowser", "imaplib.IMAP4_stream", "venv", "ensurepip", "pip", "setuptools", "distutils", "signal")
	add("executes Python code",
		"builtins.eval", "builtins.exec", "builtins.execfile", "builtins.compile", "builtins.__import__",
		"builtins.breakpoint", "builtins.input", "builtins.apply", "builtins.reload", "builtins.help",
		"runpy", "code", "codeop", "pdb", "bdb", "trace", "timeit", "cProfile", "profile", "doctest",
		"idlelib", "lib2to3", "test", "importlib", "imp", "zipimport", "pkgutil", "pydoc", "types",
		"marshal", "ctypes", "_ctypes", "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib",
		"torch.jit", "torch._dynamo", "torch._inductor", "torch.fx", "torch.utils.bottleneck",
		"torch.utils._config_module", "torch.utils.data.datapipes", "torch.package", "torch.hub",
		"torch.utils.cpp_extension", "torch.utils.collect_env", "torch._export", "torch.export",
		"torch.distributed", "torch.ops", "torch.library", "torch.compile", "torch._C._jit", "site", "sitecustomize", "compileall", "py_compile",
		"builtins.classmethod", "builtins.staticmethod", "builtins.property", "builtins.type", "builtins.super",
		"builtins.memoryview")
	add("framework entry point that evaluates expressions, runs code or loads a nested model",
		"mlflow", "sympy", "keras", "tensorflow", "jinja2", "transformers.dynamic_module_utils",
		"transformers.trainer_utils", "huggingface_hub", "pandas.eval", "numexpr")
	add("reaches arbitrary attributes or calls (getattr chains, operator gadgets, partial application)",
		"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.globals", "builtins.locals",
		"builtins.vars", "builtins.dir", "operator", "_operator", "functools", "builtins.map", "builtins.filter",
		"copyreg", "copy_reg", "inspect", "gc", "weakref", "itertools.starmap")
	add("loads another pickle or serialised object that is not scanned",
		"pickle", "_pickle", "cPickle", "pickletools", "dill", "cloudpickle", "joblib", "shelve", "dbm",
		"torch.load", "torch.serialization", "torch.storage._load_from_bytes", "numpy.load", "numpy.lib.npyio",
		"numpy.lib.format.read_array", "yaml", "jsonpickle", "pandas.read_pickle", "pandas.io", "sklearn.externals.joblib")
	add("reads or writes files",
		"builtins.open", "builtins.file", "io", "_io", "tempfile", "shutil", "fileinput", "glob", "zipfile",
		"tarfile", "logging", "linecache", "filecmp", "pathlib.Path.write_text", "pathlib.Path.write_bytes",
		"pathlib.Path.unlink", "pathlib.Path.rmdir", "pathlib.Path.touch", "pathlib.Path.open",
		"pathlib.Path.rename", "pathlib.Path.replace", "pathlib.Path.symlink_to", "pathlib.Path.read_text",
		"pathlib.Path.read_bytes", "pathlib.PosixPath.write_text", "pathlib.PosixPath.write_bytes",
		"pathlib.PosixPath.unlink", "pathlib.PosixPath.open", "pathlib.PosixPath.read_text",
		"pathlib.PosixPath.read_bytes", "mmap", "sqlite3")
	add("opens network connections",
		"socket", "_socket", "ssl", "select", "selectors", "socketserver", "SocketServer", "http", "httplib",
		"urllib", "urllib2", "urllib3", "requests", "aiohttp", "httpx", "ftplib", "smtplib", "poplib", "imaplib",
		"telnetlib", "nntplib", "xmlrpc", "xmlrpclib", "wsgiref", "smtpd", "pandas.read_csv", "pandas.read_json",
		"pandas.read_html", "pandas.read_xml", "pandas.read_parquet", "pandas.read_table", "pandas.read_excel",
		"pandas.read_sql", "pandas.read_fwf", "pandas.read_feather", "pandas.read_orc", "pandas.read_stata",
		"pandas.read_sas", "pandas.read_spss", "pandas.read_hdf")
	add("changes the interpreter (modules, exit, tracing)",
		"sys", "builtins.exit", "builtins.quit", "_thread", "thread", "threading", "atexit", "ctypes.util",
		"_sitebuiltins", "resource", "faulthandler", "readline", "rlcompleter", "tkinter", "Tkinter", "turtle",
		"antigravity", "this")
	return rs
}()

// compatModules maps Python 2 module names to the Python 3 modules the
// unpickler imports for them (a subset of _compat_pickle.IMPORT_MAPPING),
// so that the policy judges "__builtin__.eval" as "builtins.eval".
var compatModules = map[string]string{
	"__builtin__": "builtins", "exceptions": "builtins", "copy_reg": "copyreg", "cPickle": "pickle",
	"httplib": "http.client", "urllib2": "urllib.request", "commands": "subprocess",
	"SocketServer": "socketserver", "Queue": "queue", "repr": "reprlib", "_winreg": "winreg",
	"thread": "_thread", "dummy_thread": "_dummy_thread", "ConfigParser": "configparser",
	"cStringIO": "io", "StringIO": "io", "UserDict": "collections", "UserList": "collections",
	"UserString": "collections", "xmlrpclib": "xmlrpc.client", "Tkinter": "tkinter",
	"numpy.core._multiarray_umath": "numpy.core.multiarray",
}

// compatNames maps Python 2 (module, name) pairs that Python 3's
// unpickler rewrites to a different module (a subset of
// _compat_pickle.NAME_MAPPING: the ones that matter to the policy).
var compatNames = map[[2]string][2]string{
	{"__builtin__", "reduce"}:    {"functools", "reduce"},
	{"__builtin__", "intern"}:    {"sys", "intern"},
	{"__builtin__", "raw_input"}: {"builtins", "input"},
	{"__builtin__", "xrange"}:    {"builtins", "range"},
	{"__builtin__", "unicode"}:   {"builtins", "str"},
	{"__builtin__", "long"}:      {"builtins", "int"},
	{"itertools", "imap"}:        {"builtins", "map"},
	{"itertools", "ifilter"}:     {"builtins", "filter"},
	{"itertools", "izip"}:        {"builtins", "zip"},
	{"os", "getcwdu"}:            {"os", "getcwd"},
	{"urllib", "urlopen"}:        {"urllib.request", "urlopen"},
	{"urllib", "urlretrieve"}:    {"urllib.request", "urlretrieve"},
}

// aliasModules are modules so dangerous that reaching them through
// another module's attribute (module "torch", name "os.system"; module
// "random", name "_os.system") is judged like importing them.
var aliasModules = map[string]bool{
	"os": true, "posix": true, "nt": true, "sys": true, "subprocess": true, "builtins": true,
	"__builtin__": true, "__builtins__": true, "importlib": true, "pickle": true, "cPickle": true,
	"dill": true, "cloudpickle": true, "shutil": true, "socket": true, "ctypes": true, "marshal": true,
	"runpy": true, "pty": true, "commands": true, "webbrowser": true, "multiprocessing": true,
	"asyncio": true, "posixsubprocess": true, "imp": true, "urllib": true, "requests": true,
	"tempfile": true, "pdb": true,
}

// harmlessDunders are special names that, as components of a global's
// name, do not reach code (every other __x__ component does: __globals__,
// __builtins__, __subclasses__, __getattribute__, …).
var harmlessDunders = map[string]bool{"__doc__": true, "__name__": true, "__qualname__": true, "__version__": true}

// Path returns the dotted path the policy judges for a global: the module
// (with Python 2 names mapped to Python 3) joined to the name.
func Path(module, name string) string {
	if mn, ok := compatNames[[2]string{module, name}]; ok {
		module, name = mn[0], mn[1]
	} else if m, ok := compatModules[module]; ok {
		module = m
	}
	if name == "" {
		return module
	}
	if module == "" {
		return name
	}
	return module + "." + name
}

// Judge judges the global module.name: Safe if its dotted path is on the
// allowlist, Dangerous if the path or one of its parents is on the
// denylist or the name walks through a special attribute such as
// __globals__, Unknown otherwise. why is a short reason.
func Judge(module, name string) (v Verdict, why string) {
	return judge(module, name, nil)
}

// Policy is the pickle policy with a scan's extra allowed paths
// (Options.Allow), for other formats that name Python globals: a skops
// schema's types and functions are judged as a pickle's globals are.
type Policy struct{ allow map[string]bool }

// NewPolicy returns the policy with the allowed entries added (dotted paths
// or "module.*"; check entries from users with CheckAllow).
func NewPolicy(allow []string) Policy {
	if len(allow) == 0 {
		return Policy{}
	}
	m := make(map[string]bool, len(allow))
	for _, a := range allow {
		m[a] = true
	}
	return Policy{allow: m}
}

// Judge judges module.name as Judge does, with the policy's allowed paths.
func (p Policy) Judge(module, name string) (Verdict, string) { return judge(module, name, p.allow) }

func judge(module, name string, extra map[string]bool) (Verdict, string) {
	p := Path(module, name)
	if why, ok := safeGlobals[p]; ok {
		return Safe, why
	}
	if extra[p] {
		return Safe, "allowed by the scan options"
	}
	v, why := judgeLists(module, name, p)
	if v == Unknown && len(extra) > 0 {
		// A "module.*" entry allows what the lists leave unknown under
		// that module, never what they call dangerous.
		for m := p; ; {
			i := strings.LastIndexByte(m, '.')
			if i <= 0 {
				break
			}
			m = m[:i]
			if extra[m+".*"] {
				return Safe, "allowed by the scan options (" + m + ".*)"
			}
		}
	}
	return v, why
}

// judgeLists is judge without the scan options: the allowlist of torch
// layer classes, the denylist and the special-attribute rules.
func judgeLists(module, name, p string) (Verdict, string) {
	if isTorchModuleClass(p) {
		return Safe, "PyTorch layer class (torch.save of a whole model)"
	}
	for _, r := range denyRules {
		if under(p, r.prefix) {
			return Dangerous, r.why
		}
	}
	// Modules reach other modules through their attributes (torch.os,
	// random._os): a name component that names one of the most dangerous
	// modules is that module.
	for part := range strings.SplitSeq(name, ".") {
		if m := strings.TrimLeft(part, "_"); aliasModules[m] || aliasModules[part] {
			return Dangerous, "reaches the module " + m + " through an attribute"
		}
	}
	// A path reaching a special attribute (obj.__class__.__subclasses__,
	// f.__globals__) escapes any allowlist.
	for part := range strings.SplitSeq(name, ".") {
		if len(part) > 4 && strings.HasPrefix(part, "__") && strings.HasSuffix(part, "__") && !harmlessDunders[part] {
			return Dangerous, "walks through the special attribute " + part
		}
	}
	if module == "" || strings.ContainsAny(p, "\x00\n\r") {
		return Dangerous, "not an importable name"
	}
	return Unknown, "not on the allowlist of checkpoint globals"
}

// CheckAllow reports an error when entry cannot be allowed: it must be a
// dotted Python path ("mypkg.models.Net") or a module followed by ".*"
// ("sklearn.*", every name under sklearn the denylist does not name), and
// an exact path must not be one the policy judges dangerous (os.system,
// builtins.eval, a path through __globals__): allowing those would switch
// off the check the scan exists for.
func CheckAllow(entry string) error {
	path, wildcard := strings.CutSuffix(entry, ".*")
	if !Dotted(path) || !wildcard && !strings.Contains(path, ".") {
		return fmt.Errorf("allowed global %q: want a dotted Python path such as mypkg.models.Net, or a module and .* such as sklearn.*", entry)
	}
	if wildcard {
		return nil
	}
	module, name := path, ""
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		module, name = path[:i], path[i+1:]
	}
	if v, why := Judge(module, name); v == Dangerous {
		return fmt.Errorf("allowed global %q: refused, the policy judges it dangerous (%s)", entry, why)
	}
	return nil
}

// Dotted reports whether s is a dotted Python name ("os", "mypkg.models.Net")
// of ASCII letters, digits and underscores, as pickles import them.
func Dotted(s string) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// isTorchModuleClass reports whether p names a class directly in a
// module under torch.nn.modules (torch.nn.modules.linear.Linear), which
// whole-model checkpoints rebuild with NEWOBJ and BUILD of their __dict__.
// Functions (lower case) and attributes of the classes are not covered.
func isTorchModuleClass(p string) bool {
	const prefix = "torch.nn.modules."
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	rest := p[len(prefix):]
	i := strings.IndexByte(rest, '.')
	if i <= 0 || strings.Contains(rest[i+1:], ".") {
		return false
	}
	cls := rest[i+1:]
	return cls != "" && cls[0] >= 'A' && cls[0] <= 'Z' && !strings.Contains(cls, "__")
}

// under reports whether the dotted path p is prefix or lies below it.
func under(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '.')
}
