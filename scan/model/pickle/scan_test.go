package pickle_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model/pickle"
	pt "github.com/rampartsec/rampart/scan/model/pickle/pickletest"
)

func scan(t testing.TB, b []byte) *pickle.Result {
	t.Helper()
	res, err := pickle.Scan(bytes.NewReader(b), pickle.Options{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return res
}

func rules(res *pickle.Result) []string {
	var ids []string
	for _, f := range res.Findings {
		ids = append(ids, strings.TrimPrefix(f.RuleID, "model.pickle.")+"["+f.Excerpt+"]")
	}
	return ids
}

func hasRule(res *pickle.Result, r *finding.Rule, excerpt string) bool {
	return slices.ContainsFunc(res.Findings, func(f finding.Finding) bool {
		return f.RuleID == r.ID && (excerpt == "" || f.Excerpt == excerpt)
	})
}

func global(res *pickle.Result, path string) (pickle.Global, bool) {
	for _, g := range res.Globals {
		if pickle.Path(g.Module, g.Name) == path || g.String() == path {
			return g, true
		}
	}
	return pickle.Global{}, false
}

// osSystem writes os.system("id") called by REDUCE the way protocol p
// pickles a global.
func osSystem(w *pt.Writer) *pt.Writer {
	return w.Call("os", "system", pt.S("id"))
}

// TestOpcodePaths covers each way a pickle imports and calls a global,
// in every protocol.
func TestOpcodePaths(t *testing.T) {
	type want struct {
		rule    *finding.Rule
		excerpt string
	}
	cases := []struct {
		name   string
		build  func(p int) []byte
		protos []int
		want   []want
		called map[string]bool // global path → called
	}{
		{
			name: "GLOBAL+REDUCE",
			build: func(p int) []byte {
				w := pt.New(p)
				return w.Global("os", "system").TupleOf(pt.S("id")).Reduce().Stop().Bytes()
			},
			protos: []int{0, 1, 2, 3, 4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "os.system"}},
			called: map[string]bool{"os.system": true},
		},
		{
			name: "STACK_GLOBAL+REDUCE",
			build: func(p int) []byte {
				return pt.New(p).StackGlobal("subprocess", "check_output").TupleOf(pt.S("id")).Reduce().Stop().Bytes()
			},
			protos: []int{4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "subprocess.check_output"}},
			called: map[string]bool{"subprocess.check_output": true},
		},
		{
			name: "STACK_GLOBAL with memo-assembled names",
			build: func(p int) []byte {
				// Strings stored early under unrelated keys, popped, and
				// fetched back for STACK_GLOBAL (the memo bypass).
				w := pt.New(p)
				w.Str("decoy").PutAt(7).Pop().Str("builtins").PutAt(3).Pop().Str("eval").PutAt(300).Pop()
				w.EmptyList().Pop()
				w.GetAt(3).GetAt(300).Op(pt.StackGlobal).TupleOf(pt.S("1+1")).Reduce().Stop()
				return w.Bytes()
			},
			protos: []int{1, 2, 3, 4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "builtins.eval"}},
			called: map[string]bool{"builtins.eval": true},
		},
		{
			name: "STACK_GLOBAL with MEMOIZE keys",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Str("po").Op(pt.Memoize).Pop().Str("six").Op(pt.Memoize).Pop().Str("posix").Op(pt.Memoize).Pop()
				w.Str("system").Op(pt.Memoize).Pop()
				w.GetAt(2).GetAt(3).Op(pt.StackGlobal).TupleOf(pt.S("id")).Reduce().Stop()
				return w.Bytes()
			},
			protos: []int{4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "posix.system"}},
		},
		{
			name: "INST",
			build: func(p int) []byte {
				return pt.New(p).Mark().Str("id").Inst("subprocess", "Popen").Stop().Bytes()
			},
			protos: []int{0, 1, 2, 3, 4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "subprocess.Popen"}},
			called: map[string]bool{"subprocess.Popen": true},
		},
		{
			name: "OBJ",
			build: func(p int) []byte {
				return pt.New(p).Mark().Global("builtins", "exec").Str("print(1)").ObjOp().Stop().Bytes()
			},
			protos: []int{0, 1, 2, 3, 4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "builtins.exec"}},
			called: map[string]bool{"builtins.exec": true},
		},
		{
			name: "NEWOBJ",
			build: func(p int) []byte {
				return pt.New(p).GlobalAuto("socket", "socket").EmptyTuple().NewObj().Stop().Bytes()
			},
			protos: []int{2, 3, 4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "socket.socket"}},
			called: map[string]bool{"socket.socket": true},
		},
		{
			name: "NEWOBJ_EX",
			build: func(p int) []byte {
				return pt.New(p).GlobalAuto("ctypes", "CDLL").TupleOf(pt.S("libc.so.6")).EmptyDict().NewObjEx().Stop().Bytes()
			},
			protos: []int{4, 5},
			want:   []want{{pickle.RuleDangerousGlobal, "ctypes.CDLL"}},
			called: map[string]bool{"ctypes.CDLL": true},
		},
		{
			name: "BUILD on a global setting __setstate__",
			build: func(p int) []byte {
				w := pt.New(p)
				// BUILD state (None, {"__setstate__": exec}): setattr on the class.
				w.GlobalAuto("collections", "OrderedDict")
				w.None().EmptyDict().Str("__setstate__").GlobalAuto("builtins", "exec").SetItem().Tuple2().Build().Stop()
				return w.Bytes()
			},
			protos: []int{2, 4},
			want: []want{
				{pickle.RuleBuildDunder, "__setstate__"},
				{pickle.RuleBuildOnGlobal, "collections.OrderedDict"},
				{pickle.RuleDangerousGlobal, "builtins.exec"},
			},
		},
		{
			name: "BUILD sets __reduce__ on an instance",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Call("collections", "OrderedDict")
				w.EmptyDict().Str("__reduce__").None().SetItem().Build().Stop()
				return w.Bytes()
			},
			protos: []int{0, 2, 4},
			want:   []want{{pickle.RuleBuildDunder, "__reduce__"}},
		},
		{
			name: "getattr(os, system) chain",
			build: func(p int) []byte {
				w := pt.New(p)
				w.GlobalAuto("builtins", "getattr")
				w.TupleOf(func(w *pt.Writer) { w.Call("importlib", "import_module", pt.S("os")) }, pt.S("system")).Reduce()
				return w.TupleOf(pt.S("id")).Reduce().Stop().Bytes()
			},
			protos: []int{0, 2, 4},
			want: []want{
				{pickle.RuleDangerousGlobal, "os.system"},
				{pickle.RuleDangerousGlobal, "builtins.getattr"},
				{pickle.RuleDangerousGlobal, "importlib.import_module"},
			},
			called: map[string]bool{"os.system": true, "builtins.getattr": true},
		},
		{
			name: "getattr on an allowlisted class reaching a dunder",
			build: func(p int) []byte {
				w := pt.New(p)
				w.GlobalAuto("builtins", "getattr").TupleOf(pt.G("builtins", "object"), pt.S("__subclasses__")).Reduce()
				return w.EmptyTuple().Reduce().Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleDangerousGlobal, "builtins.object.__subclasses__"}},
			called: map[string]bool{"builtins.object.__subclasses__": true},
		},
		{
			name: "operator.attrgetter on __import__(os)",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Call("operator", "attrgetter", pt.S("system"))
				w.TupleOf(func(w *pt.Writer) { w.Call("builtins", "__import__", pt.S("os")) }).Reduce()
				return w.TupleOf(pt.S("id")).Reduce().Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleDangerousGlobal, "os.system"}},
			called: map[string]bool{"os.system": true},
		},
		{
			name: "functools.partial calls the wrapped global",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Call("functools", "partial", pt.G("webbrowser", "open"), pt.S("http://x"))
				return w.EmptyTuple().Reduce().Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleDangerousGlobal, "webbrowser.open"}},
			called: map[string]bool{"webbrowser.open": true},
		},
		{
			name: "unresolvable STACK_GLOBAL (name from a call)",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Str("builtins")
				w.Call("codecs", "decode", pt.S("riny"), pt.S("rot13"))
				return w.Op(pt.StackGlobal).TupleOf(pt.S("1")).Reduce().Stop().Bytes()
			},
			protos: []int{4},
			want:   []want{{pickle.RuleUnresolvedGlobal, ""}, {pickle.RuleUnknownGlobal, "codecs.decode"}},
		},
		{
			name: "unresolvable STACK_GLOBAL (long name)",
			build: func(p int) []byte {
				return pt.New(p).Str("os").BinUnicode(strings.Repeat("x", 5000)).Op(pt.StackGlobal).Stop().Bytes()
			},
			protos: []int{4},
			want:   []want{{pickle.RuleUnresolvedGlobal, ""}},
		},
		{
			name: "EXT1 extension registry",
			build: func(p int) []byte {
				return pt.New(p).Ext(42).TupleOf(pt.S("id")).Reduce().Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleExtension, "extension 42"}},
		},
		{
			name: "EXT4 extension registry",
			build: func(p int) []byte {
				return pt.New(p).Ext(70000).Stop().Bytes()
			},
			protos: []int{2},
			want:   []want{{pickle.RuleExtension, "extension 70000"}},
		},
		{
			name: "call of a computed value",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Call("collections", "OrderedDict")
				return w.EmptyTuple().Reduce().Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleIndirectCall, "result of collections.OrderedDict"}},
		},
		{
			name: "copyreg._reconstructor calls its base",
			build: func(p int) []byte {
				return pt.New(p).Call("copy_reg", "_reconstructor", pt.G("mypkg", "Obj"), pt.G("subprocess", "Popen"), pt.S("id")).Stop().Bytes()
			},
			protos: []int{0, 2},
			want:   []want{{pickle.RuleDangerousGlobal, "subprocess.Popen"}, {pickle.RuleUnknownGlobal, "mypkg.Obj"}},
			called: map[string]bool{"subprocess.Popen": true, "mypkg.Obj": true},
		},
		{
			name: "allowlisted helper that calls its first argument",
			build: func(p int) []byte {
				return pt.New(p).Call("torch._tensor", "_rebuild_from_type_v2", pt.G("mypkg", "run"), pt.G("torch", "Tensor"),
					func(w *pt.Writer) { w.TupleOf(pt.S("x")) }, func(w *pt.Writer) { w.EmptyDict() }).Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleUnknownGlobal, "mypkg.run"}},
			called: map[string]bool{"mypkg.run": true, "torch._tensor._rebuild_from_type_v2": true},
		},
		{
			name: "Python 2 names",
			build: func(p int) []byte {
				return pt.New(p).Global("__builtin__", "eval").TupleOf(pt.S("1")).Reduce().Stop().Bytes()
			},
			protos: []int{0, 2},
			want:   []want{{pickle.RuleDangerousGlobal, "__builtin__.eval"}},
		},
		{
			name: "STRING and BINSTRING names",
			build: func(p int) []byte {
				w := pt.New(p)
				w.StringLine("o\\s").Pop().StringLine("os").ShortBinString("system").Op(pt.StackGlobal)
				w.Str("x").BinString("nt").Str("system").Op(pt.StackGlobal)
				return w.Stop().Bytes()
			},
			protos: []int{4},
			want:   []want{{pickle.RuleDangerousGlobal, "os.system"}, {pickle.RuleDangerousGlobal, "nt.system"}},
		},
		{
			name: "UNICODE escapes in names",
			build: func(p int) []byte {
				w := pt.New(p)
				w.Raw([]byte("Vo\\u0073\n")...).Raw([]byte("Vsys\\u0074em\n")...).Op(pt.StackGlobal).Stop()
				return w.Bytes()
			},
			protos: []int{4},
			want:   []want{{pickle.RuleDangerousGlobal, "os.system"}},
		},
		{
			name: "unknown global",
			build: func(p int) []byte {
				return pt.New(p).Call("mypkg.model", "Net").Stop().Bytes()
			},
			protos: []int{0, 2, 4},
			want:   []want{{pickle.RuleUnknownGlobal, "mypkg.model.Net"}},
			called: map[string]bool{"mypkg.model.Net": true},
		},
		{
			name: "dangerous global only referenced",
			build: func(p int) []byte {
				return pt.New(p).Call("collections", "OrderedDict", pt.G("os", "system")).Stop().Bytes()
			},
			protos: []int{2, 4},
			want:   []want{{pickle.RuleDangerousGlobal, "os.system"}},
			called: map[string]bool{"os.system": false, "collections.OrderedDict": true},
		},
		{
			name: "submodule of a denied module",
			build: func(p int) []byte {
				return pt.New(p).Call("asyncio.unix_events", "_UnixSubprocessTransport._start").Stop().Bytes()
			},
			protos: []int{4},
			want:   []want{{pickle.RuleDangerousGlobal, "asyncio.unix_events._UnixSubprocessTransport._start"}},
		},
	}
	for _, c := range cases {
		for _, p := range c.protos {
			t.Run(fmt.Sprintf("%s/proto%d", c.name, p), func(t *testing.T) {
				res := scan(t, c.build(p))
				for _, w := range c.want {
					if !hasRule(res, w.rule, w.excerpt) {
						t.Errorf("no %s finding for %q; got %v", w.rule.ID, w.excerpt, rules(res))
					}
				}
				for path, called := range c.called {
					g, ok := global(res, path)
					if !ok {
						t.Errorf("global %s not resolved; got %v", path, res.Globals)
					} else if g.Called != called {
						t.Errorf("global %s called = %v, want %v", path, g.Called, called)
					}
				}
				if hasRule(res, pickle.RuleMalformed, "") {
					t.Errorf("unexpected malformed finding: %v", rules(res))
				}
			})
		}
	}
}

// TestBenign checks that what PyTorch, NumPy and joblib write yields no
// finding at all.
func TestBenign(t *testing.T) {
	tensors := []pt.Tensor{
		{Name: "embed.weight", Shape: []int64{100, 16}},
		{Name: "ln.bias", Shape: []int64{16}, Storage: "HalfStorage"},
		{Name: "head.weight", Shape: []int64{16, 100}, Storage: "BFloat16Storage"},
	}
	big := make([]pt.Tensor, 2500)
	for i := range big {
		big[i] = pt.Tensor{Name: fmt.Sprintf("layers.%d.weight", i), Shape: []int64{4, 4}}
	}
	cases := []struct {
		name    string
		data    []byte
		pickles int
	}{
		{"torch zip data.pkl", pt.TorchDataPkl(tensors), 1},
		{"torch zip data.pkl, 2500 tensors", pt.TorchDataPkl(big), 1},
		{"torch legacy", pt.TorchLegacy(tensors, func(i int) []byte { return bytes.Repeat([]byte{0x80, 0x02, 'c', '\n'}, 100) }), 5},
		{"numpy object array proto 2", pt.NumpyObjectArray([]string{"a", "b"}, 2), 1},
		{"numpy object array proto 0", pt.NumpyObjectArray([]string{"a", "b"}, 0), 1},
		{"numpy object array proto 5", pt.NumpyObjectArray(nil, 5), 1},
		{"joblib float arrays", pt.Joblib([]pt.JoblibArray{{Name: "coef", Float64: []float64{1, 2, 3}}, {Name: "b", Float64: []float64{0.5}}}, nil), 1},
		{"joblib object array", pt.Joblib([]pt.JoblibArray{{Name: "labels", Objects: []string{"cat", "dog"}}, {Name: "w", Float64: []float64{2}}}, nil), 1},
		{"int dict", pt.IntDict(5000), 1},
		{"whole torch model", func() []byte {
			w := pt.New(2)
			w.GlobalMemo("torch.nn.modules.linear", "Linear").EmptyTuple().NewObj().Memo()
			w.EmptyDict().Memo().Mark().Str("training").Bool(true).Str("_parameters").Memo()
			w.GlobalMemo("collections", "OrderedDict").EmptyTuple().Reduce().Memo()
			w.Str("in_features").Int(4).SetItems().Build().Stop()
			return w.Bytes()
		}(), 1},
		{"bytes proto 1", pt.New(1).BytesVal([]byte{0, 1, 0xff}).Stop().Bytes(), 1},
		{"every container opcode", pt.New(4).
			Mark().Int(1).Int(2).List().Mark().Int(3).Appends().Int(4).Append().
			EmptySet().Mark().Int(5).AddItems().Mark().Int(6).FrozenSet().
			Mark().Str("k").Int(7).Dict().Str("k2").Float(1.5).SetItem().
			Mark().Int(8).Int(9).Tuple().Tuple3().
			Mark().None().Bool(true).PopMark().Dup().Pop().
			ByteArray8([]byte{1, 2}).ReadOnlyBufferOp().Pop().
			PersIDLine("x").Pop().Str("y").BinPersIDOp().Pop().
			FrameOp(0).Stop().Bytes(), 1},
		{"protocol 0 numbers", pt.New(0).Mark().Int(5).Int(-7).Float(2.5).Bool(true).Raw([]byte("L123456789012345678901234567890L\n")...).Tuple().Stop().Bytes(), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := scan(t, c.data)
			if len(res.Findings) > 0 {
				t.Errorf("findings on a benign stream: %v", rules(res))
			}
			if res.Pickles != c.pickles {
				t.Errorf("pickles = %d, want %d", res.Pickles, c.pickles)
			}
		})
	}
}

// TestStreams covers several pickles in one stream and what follows the
// last one.
func TestStreams(t *testing.T) {
	benign := pt.New(2).Call("collections", "OrderedDict").Stop().Bytes()
	evil := osSystem(pt.New(4)).Stop().Bytes()
	tensors := []pt.Tensor{{Name: "w", Shape: []int64{8}}}
	cases := []struct {
		name     string
		data     []byte
		pickles  int
		want     *finding.Rule
		excerpt  string
		trailing bool
	}{
		{name: "payload after a benign pickle", data: cat(benign, evil), pickles: 2, want: pickle.RuleDangerousGlobal, excerpt: "os.system"},
		{name: "payload after three benign pickles", data: cat(benign, benign, benign, evil), pickles: 4, want: pickle.RuleDangerousGlobal, excerpt: "os.system"},
		{name: "payload after legacy torch storages is not a pickle", data: cat(pt.TorchLegacy(tensors, nil), []byte("\x00\x01garbage")), pickles: 5, trailing: true},
		{name: "payload between legacy torch pickles", data: cat(pt.TorchLegacy(nil, nil)[:15], evil, pt.TorchLegacy(tensors, nil)[15:]), pickles: 6, want: pickle.RuleDangerousGlobal, excerpt: "os.system"},
		{name: "truncated payload after a benign pickle", data: cat(benign, evil[:len(evil)-1]), pickles: 1, want: pickle.RuleDangerousGlobal, excerpt: "os.system"},
		{name: "names parked in the previous pickle's memo", data: cat(
			pt.New(4).Str("os").MemoizeOp().Pop().Str("system").MemoizeOp().Pop().None().Stop().Bytes(),
			pt.New(4).GetAt(0).GetAt(1).Op(pt.StackGlobal).TupleOf(pt.S("id")).Reduce().Stop().Bytes()),
			pickles: 2, want: pickle.RuleDangerousGlobal, excerpt: "os.system"},
		{name: "broken pickle start after a benign pickle", data: cat(benign, []byte{0x80, 0x09}), pickles: 1, want: pickle.RuleTrailing},
		{name: "text after a pickle", data: cat(benign, []byte("\n\n\t\t")), pickles: 1, trailing: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := scan(t, c.data)
			if c.pickles > 0 && res.Pickles != c.pickles {
				t.Errorf("pickles = %d, want %d", res.Pickles, c.pickles)
			}
			if c.want != nil && !hasRule(res, c.want, c.excerpt) {
				t.Errorf("no %s %q finding; got %v", c.want.ID, c.excerpt, rules(res))
			}
			if strings.Contains(c.name, "previous pickle's memo") && !hasRule(res, pickle.RuleCrossMemo, "memo 0") {
				t.Errorf("no cross-pickle-memo finding: %v", rules(res))
			}
			if c.want == nil && len(res.Findings) > 0 {
				t.Errorf("unexpected findings %v", rules(res))
			}
			if hasRule(res, pickle.RuleMalformed, "") {
				t.Errorf("a stream whose first pickle is whole is not malformed: %v", rules(res))
			}
			if want := int64(len(c.data)) - res.End; c.trailing && (want == 0 || res.Trailing != want) {
				t.Errorf("Trailing = %d, want %d (End %d)", res.Trailing, want, res.End)
			}
			// The same without a seekable reader.
			res2, err := pickle.Scan(oneByte{bytes.NewReader(c.data)}, pickle.Options{})
			if err != nil || res2.Trailing != res.Trailing || res2.End != res.End {
				t.Errorf("one-byte reads: Trailing %d End %d err %v, want %d %d", res2.Trailing, res2.End, err, res.Trailing, res.End)
			}
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestJoblib checks that joblib's array data is skipped exactly, so
// opcodes after it are still analysed, and that array bytes that are
// themselves opcodes (run by plain pickle.load) are probed.
func TestJoblib(t *testing.T) {
	after := func(w *pt.Writer) { w.Str("evil"); osSystem(w) }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"payload after float array", pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: make([]float64, 1000)}}, after), "os.system"},
		{"payload after object array", pt.Joblib([]pt.JoblibArray{{Name: "o", Objects: []string{"x"}}}, after), "os.system"},
		{"payload inside object array", jobObjPayload(), "subprocess.call"},
		{"payload as array bytes", jobArrayBytesPayload(), "posix.system"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := scan(t, c.data)
			if !hasRule(res, pickle.RuleDangerousGlobal, c.want) {
				t.Errorf("no dangerous-global %s; got %v", c.want, rules(res))
			}
			if hasRule(res, pickle.RuleMalformed, "") || hasRule(res, pickle.RuleUnsizedArray, "") {
				t.Errorf("unexpected %v", rules(res))
			}
		})
	}
	t.Run("array bytes continuing the outer pickle", func(t *testing.T) {
		// Plain pickle.load runs the "array bytes" as opcodes of the outer
		// pickle: POP the wrapper, then a global from the outer memo.
		payload := pt.New(0).Pop().GetAt(0).GetAt(1).Op(pt.StackGlobal).BinUnicode("id").Tuple1().Reduce().Pop().Bytes()
		w := pt.New(4)
		w.Str("posix").MemoizeOp().Str("system").MemoizeOp().Pop().Pop()
		w.GlobalAuto("joblib.numpy_pickle", "NumpyArrayWrapper").EmptyTuple().NewObj()
		w.EmptyDict().Str("dtype").Call("numpy", "dtype", pt.S("u1")).SetItem()
		w.Str("shape").Int(int64(len(payload))).Tuple1().SetItem().Build()
		w.Raw(payload...).Stop()
		res := scan(t, w.Bytes())
		g, ok := global(res, "posix.system")
		if !ok || !g.Called || !strings.Contains(g.Op, "joblib array data") || !hasRule(res, pickle.RuleDangerousGlobal, "posix.system") {
			t.Errorf("posix.system not found in the array bytes: %v %v", rules(res), res.Globals)
		}
		if res.Pickles != 1 || hasRule(res, pickle.RuleMalformed, "") {
			t.Errorf("pickles %d, findings %v", res.Pickles, rules(res))
		}
	})
	t.Run("array bytes that hit a limit when probed", func(t *testing.T) {
		marks := make([]float64, 1000)
		for i := range marks {
			marks[i] = math.Float64frombits(0x2828282828282828) // MARK MARK …
		}
		data := pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: marks}}, nil)
		res, err := pickle.Scan(bytes.NewReader(data), pickle.Options{Limits: pickle.Limits{MaxStack: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) != 0 || res.Pickles != 1 {
			t.Errorf("findings %v, %d pickles", rules(res), res.Pickles)
		}
	})
	t.Run("unsized array", func(t *testing.T) {
		w := pt.New(4)
		w.GlobalAuto("joblib.numpy_pickle", "NumpyArrayWrapper").EmptyTuple().NewObj()
		w.EmptyDict().Str("dtype").Call("numpy", "dtype", pt.S("x9")).SetItem().Build()
		w.Raw(1, 2, 3).Stop()
		res := scan(t, w.Bytes())
		if !hasRule(res, pickle.RuleUnsizedArray, "") {
			t.Errorf("no joblib-array finding; got %v", rules(res))
		}
	})
}

// jobObjPayload is a joblib file whose object array's nested pickle runs
// subprocess.call.
func jobObjPayload() []byte {
	data := pt.Joblib([]pt.JoblibArray{{Name: "o", Objects: []string{"x"}}}, nil)
	nested := pt.NumpyObjectArray([]string{"x"}, 2)
	evil := pt.New(2).Call("subprocess", "call", pt.S("id")).Pop()
	evilNested := cat(nested[:2], evil.Bytes()[2:], nested[2:])
	return bytes.Replace(data, nested, evilNested, 1)
}

// jobArrayBytesPayload is a joblib file whose "array data" is a pickle.
func jobArrayBytesPayload() []byte {
	p := pt.New(2).Call("posix", "system", pt.S("id")).Pop().Bytes()[2:]
	p = append(p, make([]byte, 8-len(p)%8)...)
	vals := make([]float64, len(p)/8)
	data := pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: vals}}, nil)
	zero := make([]byte, len(p))
	i := bytes.LastIndex(data, zero)
	copy(data[i:], p)
	return data
}

// TestMalformed checks that invalid and truncated streams become
// findings, with the offset of the failing opcode.
func TestMalformed(t *testing.T) {
	valid := osSystem(pt.New(2)).Stop().Bytes()
	cases := []struct {
		name string
		data []byte
		off  int64
	}{
		{"unknown opcode", []byte{0x80, 0x02, 0xff}, 2},
		{"unsupported protocol", []byte{0x80, 0x06, '.'}, 0},
		{"stop on empty stack", []byte{'.'}, 0},
		{"pop on empty stack", []byte{'0', '.'}, 0},
		{"missing mark", []byte{'t', '.'}, 0},
		{"pop_mark without mark", []byte{'1'}, 0},
		{"memo miss", []byte{0x80, 0x02, 'h', 0x05, '.'}, 2},
		{"odd setitems", pt.New(2).EmptyDict().Mark().Int(1).SetItems().Stop().Bytes(), 6},
		{"STACK_GLOBAL on ints", pt.New(4).Int(1).Int(2).Op(pt.StackGlobal).Stop().Bytes(), 6},
		{"truncated BINUNICODE", []byte{0x80, 0x02, 'X', 0xff, 0xff, 0xff, 0x7f, 'a'}, 2},
		{"truncated BINBYTES8", []byte{0x80, 0x04, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 2},
		{"huge BYTEARRAY8", []byte{0x80, 0x05, 0x96, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 2},
		{"negative BINSTRING", []byte{'T', 0xff, 0xff, 0xff, 0xff}, 0},
		{"truncated GLOBAL", []byte("cos\nsys"), 0},
		{"unquoted STRING", []byte("Sabc\n."), 0},
		{"no STOP", valid[:len(valid)-1], int64(len(valid) - 1)},
		{"empty LONG4", []byte{0x80, 0x02, 0x8b, 0xff, 0xff, 0xff, 0xff}, 2},
		{"negative PUT", []byte("N p-1\n."), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := scan(t, c.data)
			i := slices.IndexFunc(res.Findings, func(f finding.Finding) bool { return f.RuleID == pickle.RuleMalformed.ID })
			if i < 0 {
				t.Fatalf("no malformed finding; got %v", rules(res))
			}
			if got := res.Findings[i].Location.Offset; got != c.off {
				t.Errorf("offset = %d, want %d (%s)", got, c.off, res.Findings[i].Message)
			}
			if res.Pickles != 0 {
				t.Errorf("pickles = %d, want 0", res.Pickles)
			}
		})
	}
	t.Run("truncated payload keeps the dangerous global", func(t *testing.T) {
		res := scan(t, valid[:len(valid)-3])
		if !hasRule(res, pickle.RuleDangerousGlobal, "os.system") || !hasRule(res, pickle.RuleMalformed, "") {
			t.Errorf("got %v", rules(res))
		}
	})
	t.Run("empty input", func(t *testing.T) {
		res := scan(t, nil)
		if len(res.Findings) != 0 || res.Pickles != 0 {
			t.Errorf("got %v, %d pickles", rules(res), res.Pickles)
		}
	})
}

// TestLimits checks that every bound stops the analysis with a finding.
func TestLimits(t *testing.T) {
	deep := pt.New(2)
	for range 200 {
		deep.EmptyList()
	}
	deep.Stop()
	marks := pt.New(2)
	for range 200 {
		marks.Mark()
	}
	memo := pt.New(2).None()
	for i := range 200 {
		memo.PutAt(i + 256)
	}
	memo.Stop()
	globals := pt.New(2)
	for i := range 200 {
		globals.Global("m", fmt.Sprint("n", i)).Pop()
	}
	globals.None().Stop()
	many := bytes.Repeat(pt.New(2).None().Stop().Bytes(), 200)
	longName := pt.New(0).Raw([]byte("cos\n" + strings.Repeat("a", 200) + "\n.")...).Bytes()
	lim := pickle.Limits{MaxStack: 100, MaxMemo: 100, MaxGlobals: 100, MaxPickles: 100, MaxOps: 1 << 20, MaxLine: 100}
	cases := []struct {
		name string
		data []byte
		lim  pickle.Limits
	}{
		{"stack", deep.Bytes(), lim},
		{"marks", marks.Bytes(), lim},
		{"memo", memo.Bytes(), lim},
		{"globals", globals.Bytes(), lim},
		{"pickles", many, lim},
		{"ops", pt.IntDict(1000), pickle.Limits{MaxOps: 100}},
		{"line", longName, lim},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := pickle.Scan(bytes.NewReader(c.data), pickle.Options{Limits: c.lim})
			if err != nil {
				t.Fatal(err)
			}
			if !hasRule(res, pickle.RuleLimit, "") {
				t.Errorf("no limit finding; got %v", rules(res))
			}
		})
	}
}

// TestOffsets checks that findings carry stream offsets of the opcode,
// shifted by Options.Offset.
func TestOffsets(t *testing.T) {
	benign := pt.New(2).None().Stop().Bytes() // 4 bytes
	data := cat(benign, pt.New(2).Global("os", "system").Stop().Bytes())
	res, err := pickle.Scan(bytes.NewReader(data), pickle.Options{Offset: 1000})
	if err != nil {
		t.Fatal(err)
	}
	g, ok := global(res, "os.system")
	if !ok || g.Offset != 1000+4+2 {
		t.Errorf("os.system at %d, want %d", g.Offset, 1000+4+2)
	}
	if len(res.Findings) != 1 || res.Findings[0].Location.Offset != 1006 || res.Findings[0].Detector != pickle.Detector {
		t.Errorf("findings %+v", res.Findings)
	}
}

// TestAllowOption checks Options.Allow.
func TestAllowOption(t *testing.T) {
	data := pt.New(2).Call("mypkg", "Net").Stop().Bytes()
	res, err := pickle.Scan(bytes.NewReader(data), pickle.Options{Allow: []string{"mypkg.Net"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("allowed global reported: %v", rules(res))
	}
}

// errReader fails after its data.
type errReader struct{ r io.Reader }

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// TestReadError checks that an I/O failure is an error, not a finding.
func TestReadError(t *testing.T) {
	_, err := pickle.Scan(errReader{bytes.NewReader(pt.New(2).None().Bytes())}, pickle.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

// oneByte reads one byte at a time, to exercise buffer refills.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestSmallReads checks that results do not depend on read sizes.
func TestSmallReads(t *testing.T) {
	data := cat(pt.TorchLegacy([]pt.Tensor{{Name: "w", Shape: []int64{3}}}, nil), []byte{})
	data = cat(pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: []float64{1, 2}}}, func(w *pt.Writer) { w.Str("e"); osSystem(w) }), data)
	a := scan(t, data)
	b, err := pickle.Scan(oneByte{bytes.NewReader(data)}, pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rules(a), a.Globals, a.Pickles) != fmt.Sprint(rules(b), b.Globals, b.Pickles) {
		t.Errorf("one-byte reads differ:\n%v %v\n%v %v", rules(a), a.Pickles, rules(b), b.Pickles)
	}
}

// TestExcerptEscaped checks that names with control characters or
// invalid UTF-8 are escaped in findings (they are printed to terminals).
func TestExcerptEscaped(t *testing.T) {
	data := pt.New(2).Global("evil\x1b[2J", "x\xff\u202e").Stop().Bytes()
	res := scan(t, data)
	if len(res.Findings) != 1 {
		t.Fatalf("findings %v", rules(res))
	}
	f := res.Findings[0]
	if f.Excerpt != `evil\u001b[2J.x\xff\u202e` || strings.ContainsAny(f.Message, "\x1b\u202e") {
		t.Errorf("excerpt %q message %q", f.Excerpt, f.Message)
	}
}

// TestConcurrent checks that scans running at once (sharing the pools of
// states and buffers) give the results they give alone.
func TestConcurrent(t *testing.T) {
	inputs := [][]byte{
		pt.TorchDataPkl([]pt.Tensor{{Name: "w", Shape: []int64{3}}}),
		osSystem(pt.New(4)).Stop().Bytes(),
		pt.Joblib([]pt.JoblibArray{{Name: "w", Float64: []float64{1, 2}}}, func(w *pt.Writer) { w.Str("e"); osSystem(w) }),
		jobObjPayload(),
		pt.IntDict(3000),
	}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		res := scan(t, in)
		want[i] = fmt.Sprint(rules(res), res.Globals, res.Pickles)
	}
	errs := make(chan error, 8*20)
	for g := range 8 {
		go func() {
			for k := range 20 {
				i := (g + k) % len(inputs)
				res, err := pickle.Scan(bytes.NewReader(inputs[i]), pickle.Options{})
				if err == nil {
					if got := fmt.Sprint(rules(res), res.Globals, res.Pickles); got != want[i] {
						err = fmt.Errorf("input %d: got %s, want %s", i, got, want[i])
					}
				}
				errs <- err
			}
		}()
	}
	for range 8 * 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
