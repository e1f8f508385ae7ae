package pickle

import (
	"testing"
)

func TestJudge(t *testing.T) {
	cases := []struct {
		module, name string
		want         Verdict
	}{
		{"torch._utils", "_rebuild_tensor_v2", Safe},
		{"torch", "_utils._rebuild_tensor_v2", Safe},
		{"torch", "FloatStorage", Safe},
		{"collections", "OrderedDict", Safe},
		{"numpy.core.multiarray", "_reconstruct", Safe},
		{"numpy._core.multiarray", "_reconstruct", Safe},
		{"numpy.core._multiarray_umath", "_reconstruct", Safe},
		{"_codecs", "encode", Safe},
		{"__builtin__", "set", Safe},
		{"copy_reg", "_reconstructor", Safe},
		{"joblib.numpy_pickle", "NumpyArrayWrapper", Safe},
		{"os", "system", Dangerous},
		{"posix", "system", Dangerous},
		{"nt", "system", Dangerous},
		{"__builtin__", "eval", Dangerous},
		{"builtins", "getattr", Dangerous},
		{"builtins", "object.__subclasses__", Dangerous},
		{"collections", "OrderedDict.__init__.__globals__", Dangerous},
		{"torch", "load", Dangerous},
		{"torch.storage", "_load_from_bytes", Dangerous},
		{"torch.serialization", "load", Dangerous},
		{"torch.utils.collect_env", "run", Dangerous},
		{"asyncio.unix_events", "_UnixSubprocessTransport._start", Dangerous},
		{"operator", "attrgetter", Dangerous},
		{"_operator", "methodcaller", Dangerous},
		{"importlib", "import_module", Dangerous},
		{"pickle", "loads", Dangerous},
		{"_pickle", "loads", Dangerous},
		{"cPickle", "loads", Dangerous},
		{"httplib", "HTTPSConnection", Dangerous},
		{"pip", "main", Dangerous},
		{"pydoc", "locate", Dangerous},
		{"uuid", "_get_command_stdout", Dangerous},
		{"marshal", "loads", Dangerous},
		{"types", "FunctionType", Dangerous},
		{"multiprocessing.util", "spawnv_passfds", Dangerous},
		{"numpy", "load", Dangerous},
		{"numpy.testing._private.utils", "runstring", Dangerous},
		{"pandas", "read_csv", Dangerous},
		{"ossystem", "x", Unknown},
		{"uuid", "UUID", Unknown},
		{"sklearn.linear_model._base", "LinearRegression", Unknown},
		{"__main__", "Net", Unknown},
		{"torch._utils", "_rebuild_anything_new", Unknown},
		{"", "eval", Dangerous},
		{"__builtin__", "reduce", Dangerous},
		{"__builtin__", "xrange", Safe},
		{"itertools", "imap", Dangerous},
		{"torch.nn.modules.linear", "Linear", Safe},
		{"torch.nn.modules.container", "Sequential", Safe},
		{"torch.nn.modules.module", "register_module_forward_hook", Unknown},
		{"torch.nn.modules.linear", "Linear.__init__", Dangerous},
		{"torch.nn.modules.linear", "Linear.forward", Unknown},
		{"torch.nn.modules", "Linear", Unknown},
		{"random", "_os.system", Dangerous},
		{"torch", "os.system", Dangerous},
		{"torch", "os", Dangerous},
		{"collections", "abc.sys.modules", Dangerous},
		{"mypkg", "_pickle.loads", Dangerous},
		{"numpy", "trace", Unknown},
		{"mypkg", "Model.code", Unknown},
	}
	for _, c := range cases {
		if got, why := Judge(c.module, c.name); got != c.want || why == "" {
			t.Errorf("Judge(%q, %q) = %v (%q), want %v", c.module, c.name, got, why, c.want)
		}
	}
}

// TestAllowDenyDisjoint checks that no allowlisted path lies under a
// denylist rule except where the allowlist deliberately carves out an
// exception (the list below), so that the lists do not contradict each
// other by accident.
func TestAllowDenyDisjoint(t *testing.T) {
	exceptions := map[string]bool{
		"joblib.numpy_pickle.NumpyArrayWrapper":                   true,
		"sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper": true,
		"copyreg._reconstructor":                                  true,
		"copyreg.__newobj__":                                      true,
		"copyreg.__newobj_ex__":                                   true,
		"torch.serialization._get_layout":                         true,
	}
	for p := range safeGlobals {
		for _, r := range denyRules {
			if under(p, r.prefix) && !exceptions[p] {
				t.Errorf("allowlisted %s is under the denylist rule %s", p, r.prefix)
			}
		}
	}
}

func TestCheckAllow(t *testing.T) {
	cases := []struct {
		entry string
		ok    bool
	}{
		{"mypkg.models.Net", true},
		{"sklearn.*", true},
		{"sklearn.linear_model.*", true},
		{"os.system", false},             // dangerous
		{"builtins.eval", false},         // dangerous
		{"torch.load", false},            // dangerous
		{"mypkg.Net.__globals__", false}, // special attribute
		{"Net", false},                   // no module
		{"mypkg..Net", false},            // empty part
		{"mypkg.1Net", false},            // not an identifier
		{"mypkg.Net; import os", false},  // not an identifier
		{".*", false},                    // no module
		{"*", false},                     // no module
		{"mypkg.*.Net", false},           // wildcard only at the end
		{"", false},
	}
	for _, c := range cases {
		if err := CheckAllow(c.entry); (err == nil) != c.ok {
			t.Errorf("CheckAllow(%q) = %v, want ok=%v", c.entry, err, c.ok)
		}
	}
}

func TestJudgeAllowWildcard(t *testing.T) {
	extra := map[string]bool{"sklearn.*": true, "os.*": true, "mypkg.models.Net": true}
	cases := []struct {
		module, name string
		want         Verdict
	}{
		{"sklearn.linear_model._logistic", "LogisticRegression", Safe},
		{"sklearn", "Pipeline", Safe},
		{"sklearnx.evil", "Thing", Unknown},                        // a prefix of the name is not the module
		{"sklearn.utils", "Thing.__init__.__globals__", Dangerous}, // special attribute escapes the wildcard
		{"os", "system", Dangerous},                                // on the denylist: the wildcard allows only unknowns
		{"mypkg.models", "Net", Safe},
		{"mypkg.models", "Other", Unknown},
	}
	for _, c := range cases {
		if got, why := judge(c.module, c.name, extra); got != c.want {
			t.Errorf("judge(%s, %s) = %v (%s), want %v", c.module, c.name, got, why, c.want)
		}
	}
}
