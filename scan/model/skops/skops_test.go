package skops

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

// activation is the node of testdata/benign-pipeline.json the cases below
// replace: a FunctionNode for a SciPy ufunc.
const activation = `{"__class__": "expit", "__module__": "scipy.special._ufuncs", "__loader__": "FunctionNode"}`

func benign(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/benign-pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), activation) {
		t.Fatal("the activation node is missing from the benign schema")
	}
	return string(b)
}

func TestScan(t *testing.T) {
	base := benign(t)
	obj := `{"__class__": "LogisticRegression", "__module__": "sklearn.linear_model._logistic", "__loader__": "ObjectNode"}`
	for _, c := range []struct {
		name, node string
		allow      []string
		rule       *finding.Rule // nil: no finding
		excerpt    string
	}{
		{"benign", activation, nil, nil, ""},
		{"function builtins.exec", `{"__class__": "exec", "__module__": "builtins", "__loader__": "FunctionNode"}`, nil, RuleDangerous, "builtins.exec"},
		{"function os.system", `{"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"}`, nil, RuleDangerous, "os.system"},
		{"constructor subprocess.Popen", `{"__class__": "Popen", "__module__": "subprocess", "__loader__": "ConstructorFromReduceNode", "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": []}}`, nil, RuleDangerous, "subprocess.Popen"},
		{"type builtins.eval", `{"__class__": "eval", "__module__": "builtins", "__loader__": "TypeNode"}`, nil, RuleDangerous, "builtins.eval"},
		{"method through a special attribute", `{"__class__": "LogisticRegression", "__module__": "sklearn.linear_model._logistic", "__loader__": "MethodNode", "content": {"func": "__reduce_ex__", "obj": ` + obj + `}}`, nil, RuleDangerous, "sklearn.linear_model._logistic.LogisticRegression.__reduce_ex__"},
		{"benign method", `{"__class__": "LogisticRegression", "__module__": "sklearn.linear_model._logistic", "__loader__": "MethodNode", "content": {"func": "predict", "obj": ` + obj + `}}`, nil, RuleUntrusted, "sklearn.linear_model._logistic.LogisticRegression.predict"},
		{"methodcaller", `{"__class__": "methodcaller", "__module__": "operator", "__loader__": "OperatorFuncNode", "attrs": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": []}}`, nil, RuleDangerous, "operator.methodcaller"},
		{"itemgetter", `{"__class__": "itemgetter", "__module__": "operator", "__loader__": "OperatorFuncNode", "attrs": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": "\"x\"", "is_json": true, "name": "__init__.__globals__"}]}}`, nil, RuleDangerous, "operator.itemgetter"},
		{"unknown class", `{"__class__": "Net", "__module__": "mypkg.models", "__loader__": "ObjectNode"}`, nil, RuleUntrusted, "mypkg.models.Net"},
		{"unknown class allowed", `{"__class__": "Net", "__module__": "mypkg.models", "__loader__": "ObjectNode"}`, []string{"mypkg.*"}, nil, ""},
		{"wildcard never allows the dangerous", `{"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"}`, []string{"os.*"}, RuleDangerous, "os.system"},
		{"scikit-learn function", `{"__class__": "accuracy_score", "__module__": "sklearn.metrics._classification", "__loader__": "FunctionNode"}`, nil, RuleUntrusted, "sklearn.metrics._classification.accuracy_score"},
		{"node without a module", `{"__class__": "Net", "__loader__": "ObjectNode"}`, nil, RuleMalformed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(base, activation, c.node, 1)
			if !json.Valid([]byte(doc)) {
				t.Fatal("test schema is not JSON")
			}
			fs := Scan([]byte(doc), c.allow)
			if c.rule == nil {
				if len(fs) != 0 {
					t.Fatalf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].RuleID != c.rule.ID || c.excerpt != "" && fs[0].Excerpt != c.excerpt {
				t.Fatalf("findings %+v, want one %s with excerpt %q", fs, c.rule.ID, c.excerpt)
			}
			if !strings.HasPrefix(fs[0].Location.Field, "$.content.content.steps") {
				t.Errorf("field %q does not locate the node", fs[0].Location.Field)
			}
		})
	}
}

func TestScanHostile(t *testing.T) {
	t.Run("repeated name is one finding", func(t *testing.T) {
		n := `{"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"}`
		doc := `{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "protocol": 2, "content": [` + strings.Repeat(n+",", 500) + n + `]}`
		if fs := Scan([]byte(doc), nil); len(fs) != 1 || fs[0].RuleID != RuleDangerous.ID {
			t.Fatalf("%d findings %+v", len(fs), fs)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		doc := strings.Repeat(`{"a":`, 5000) + `{"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"}` + strings.Repeat("}", 5000)
		fs := Scan([]byte(doc), nil)
		if len(fs) != 1 || fs[0].RuleID != RuleMalformed.ID {
			t.Fatalf("findings %+v", fs)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		if fs := Scan([]byte(`{"__loader__": `), nil); len(fs) != 1 || fs[0].RuleID != RuleMalformed.ID {
			t.Fatalf("findings %+v", fs)
		}
	})
}

func TestIsSchema(t *testing.T) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(benign(t)), &top); err != nil {
		t.Fatal(err)
	}
	if !IsSchema(top) {
		t.Error("the benign schema is not recognised")
	}
	for _, doc := range []string{`{"class_name": "Sequential"}`, `{"__loader__": "ObjectNode", "__module__": "x"}`, `{"chat_template": "x"}`} {
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &top); err != nil {
			t.Fatal(err)
		}
		if IsSchema(top) {
			t.Errorf("IsSchema(%s) = true", doc)
		}
	}
}

func FuzzScan(f *testing.F) {
	b, err := os.ReadFile("testdata/benign-pipeline.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"__class__": "methodcaller", "__module__": "operator", "__loader__": "OperatorFuncNode", "attrs": ["__globals__"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fd := range Scan(b, []string{"mypkg.*"}) {
			if fd.RuleID == "" || len(fd.Excerpt) > 300 || len(fd.Location.Field) > 300 {
				t.Fatalf("invalid finding %+v", fd)
			}
		}
	})
}
