package model_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

// evilModeling is shipped Python that runs a command through an aliased
// import (a test fixture: it is never run).
const evilModeling = `import subprocess as sp
from torch import nn


class EvilModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        sp.Popen(["id"])
`

const autoMapConfig = `{"model_type": "evil", "auto_map": {"AutoModel": "modeling_evil.EvilModel"}}`

// codeFindings returns the model.code findings of rep as "rule path:line".
func codeFindings(rep *finding.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.RuleID, "model.code.") {
			out = append(out, f.RuleID+" "+f.Location.Path+":"+strconv.Itoa(f.Location.Line))
		}
	}
	return out
}

func TestRemoteCodeFolder(t *testing.T) {
	root := t.TempDir()
	hub := filepath.Join(root, "org", "evil-model")
	write(t, filepath.Join(hub, "config.json"), []byte(autoMapConfig))
	write(t, filepath.Join(hub, "modeling_evil.py"), []byte(evilModeling))
	// Python in a sub-folder is not named by this folder's auto_map.
	write(t, filepath.Join(hub, "scripts", "convert.py"), []byte(evilModeling))

	rep := scan(t, model.Options{}, root)
	want := "model.code.process-exec " + filepath.Join(hub, "modeling_evil.py") + ":8"
	got := codeFindings(rep)
	if len(got) != 1 || got[0] != want {
		t.Errorf("code findings %v, want [%s]", got, want)
	}
	if rules(rep)["model.scan.remote-code"] != 1 {
		t.Errorf("the config's remote-code finding is gone: %v", rules(rep))
	}
	if max, _ := rep.Max(); max < finding.High {
		t.Errorf("report maximum %s, want at least high", max)
	}
}

func TestRemoteCodeTokenizerConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "tokenizer_config.json"), []byte(`{"auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", null]}}`))
	write(t, filepath.Join(dir, "tokenization_evil.py"), []byte(evilModeling))
	if got := codeFindings(scan(t, model.Options{}, dir)); len(got) != 1 {
		t.Errorf("code findings %v, want one", got)
	}
}

func TestPythonWithoutAutoMap(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "config.json"), []byte(`{"model_type": "bert", "hidden_size": 768}`))
	write(t, filepath.Join(dir, "package.json"), []byte(`{"name": "x", "note": "auto_map"}`))
	write(t, filepath.Join(dir, "modeling_evil.py"), []byte(evilModeling))
	if got := codeFindings(scan(t, model.Options{}, dir)); len(got) != 0 {
		t.Errorf("Python of a folder without auto_map was analysed: %v", got)
	}
}

func TestPythonFileGivenDirectly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "modeling_evil.py")
	write(t, p, []byte(evilModeling))
	got := codeFindings(scan(t, model.Options{}, p))
	if len(got) != 1 || got[0] != "model.code.process-exec "+p+":8" {
		t.Errorf("code findings %v", got)
	}
}

func TestRemoteCodeRulesListed(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range model.Rules() {
		ids[r.ID] = true
	}
	for _, id := range []string{"model.code.process-exec", "model.code.obfuscated-exec", "model.scan.remote-code"} {
		if !ids[id] {
			t.Errorf("model.Rules() lacks %s", id)
		}
	}
}
