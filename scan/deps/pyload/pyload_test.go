package pyload

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func got(t *testing.T, fs []findingLike) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d %s", f.line, f.rule))
	}
	slices.Sort(out)
	return out
}

type findingLike struct {
	line int
	rule string
}

func TestCheckFile(t *testing.T) {
	src, err := os.ReadFile("testdata/train.py")
	if err != nil {
		t.Fatal(err)
	}
	var fs []findingLike
	for _, f := range Check("train.py", src) {
		fs = append(fs, findingLike{f.Location.Line, f.RuleID})
		if strings.Contains(f.Excerpt, "3f7c5a8e") {
			t.Errorf("excerpt shows argument values: %q", f.Excerpt)
		}
	}
	want := []string{
		"18 deps.code.trust-remote-code",
		"18 deps.code.unpinned-download",
		"24 deps.code.unpinned-download",
		"27 deps.code.torch-load",
		"29 deps.code.torch-load-unsafe",
		"33 deps.code.pickle-load-downloaded",
		"34 deps.code.pickle-load",
		"35 deps.code.pickle-load",
		"37 deps.code.numpy-allow-pickle",
		"40 deps.code.yaml-unsafe-load",
		"43 deps.code.yaml-load-no-loader",
	}
	if g := got(t, fs); !slices.Equal(g, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestCases(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // rule ids
	}{
		{"comment", "# torch.load('x')\n", nil},
		{"string", "s = \"torch.load('x')\"\n", nil},
		{"comparison is not a keyword", "import torch\nf(trust_remote_code == True)\n", nil},
		{"from import", "from torch import load\nload('x')\n", []string{"deps.code.torch-load"}},
		{"alias chain", "import numpy\nnumpy.load('a', allow_pickle=True)\n", []string{"deps.code.numpy-allow-pickle"}},
		{"unrelated load", "import json\njson.load(open('x'))\n", nil},
		{"dill", "import dill\ndill.loads(b)\n", []string{"deps.code.pickle-load"}},
		{"pandas", "import pandas as pd\npd.read_pickle('x.pkl')\n", []string{"deps.code.pickle-load"}},
		{"urlretrieve taint", "import urllib.request, pickle\np, _ = urllib.request.urlretrieve(u)\nq = urllib.request.urlretrieve(u)\npickle.load(open(q, 'rb'))\n", []string{"deps.code.pickle-load-downloaded"}},
		{"snapshot pinned", "from huggingface_hub import snapshot_download\nsnapshot_download('a/b', revision='0123456789abcdef0123456789abcdef01234567')\n", nil},
		{"snapshot unpinned", "from huggingface_hub import snapshot_download\nsnapshot_download(repo_id='a/b')\n", []string{"deps.code.unpinned-download"}},
		{"local by keyword", "from transformers import AutoModel\nAutoModel.from_pretrained(pretrained_model_name_or_path='/models/x')\n", nil},
		{"dataset from the hub", "import datasets\ndatasets.load_dataset('org/tickets')\n", []string{"deps.code.unpinned-download"}},
		{"dataset pinned", "from datasets import load_dataset\nload_dataset('org/tickets', revision='0123456789abcdef0123456789abcdef01234567')\n", nil},
		{"packaged json builder", "from datasets import load_dataset\nload_dataset('json', data_files='data/train.jsonl', split='train')\n", nil},
		{"packaged builder by keyword", "from datasets import load_dataset\nload_dataset(path='parquet', data_files={'train': 'x.parquet'})\n", nil},
		{"tuple assignment from a download", "import pickle, urllib.request\np, _ = urllib.request.urlretrieve(u)\npickle.load(open(p, 'rb'))\n", []string{"deps.code.pickle-load-downloaded"}},
		{"comparison is no assignment", "import pickle, urllib.request\nif p == urllib.request.urlretrieve(u):\n    pickle.load(open(p, 'rb'))\n", []string{"deps.code.pickle-load"}},
		{"def is not a call", "def from_pretrained(x):\n    pass\n", nil},
		{"triple-quoted string", "x = '''\ntorch.load(p)\n'''\nimport torch\n", nil},
		{"unterminated string", "x = 'abc\nimport torch\ntorch.load(p)\n", []string{"deps.code.torch-load"}},
		{"yaml loader positional", "import yaml\nyaml.load(s, yaml.Loader)\n", []string{"deps.code.yaml-unsafe-load"}},
		{"yaml csafe", "import yaml\nyaml.load(s, Loader=yaml.CSafeLoader)\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var g []string
			for _, f := range Check("x.py", []byte(c.src)) {
				g = append(g, f.RuleID)
			}
			if !slices.Equal(g, c.want) {
				t.Errorf("got %v, want %v", g, c.want)
			}
		})
	}
}

func TestNotebook(t *testing.T) {
	nb := `{"cells": [
	  {"cell_type": "markdown", "source": ["torch.load(x)\n"]},
	  {"cell_type": "code", "source": ["!pip install transformers\n", "%matplotlib inline\n", "import torch\n", "m = torch.load('m.pt', weights_only=False)\n"]},
	  {"cell_type": "code", "source": "from transformers import AutoModel\nAutoModel.from_pretrained('org/m', trust_remote_code=True)\n"},
	  {"cell_type": "code", "source": ["import numpy as np\n", "import pickle, urllib.request\n", "path, _ = urllib.request.urlretrieve(URL, '/tmp/f.pkl')\n"]},
	  {"cell_type": "markdown", "source": "the imports above hold in the cells below"},
	  {"cell_type": "code", "source": ["emb = np.load('e.npy', allow_pickle=True)\n", "with open(path, 'rb') as fh:\n", "    obj = pickle.load(fh)\n"]}
	], "nbformat": 4}`
	fs, err := CheckNotebook("nb.ipynb", []byte(nb))
	if err != nil {
		t.Fatal(err)
	}
	var g []string
	for _, f := range fs {
		g = append(g, fmt.Sprintf("%s:%d %s", f.Location.Field, f.Location.Line, f.RuleID))
	}
	want := []string{"cells[1]:4 deps.code.torch-load-unsafe", "cells[2]:2 deps.code.trust-remote-code", "cells[2]:2 deps.code.unpinned-download",
		"cells[5]:1 deps.code.numpy-allow-pickle", "cells[5]:3 deps.code.pickle-load-downloaded"}
	if !slices.Equal(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
	if _, err := CheckNotebook("bad.ipynb", []byte("{")); err == nil {
		t.Error("malformed notebook: no error")
	}
}

func FuzzCheck(f *testing.F) {
	src, _ := os.ReadFile("testdata/train.py")
	f.Add(string(src))
	f.Add("x = '''\n")
	f.Add("f(a=(b, [c, {d: e}]), g=\\\n h)\n")
	f.Add(`{"cells": [{"cell_type": "code", "source": ["import torch\n", "torch.load(p)\n"]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, fd := range Check("f.py", []byte(s)) {
			if fd.Location.Line < 1 || fd.Location.Column < 1 {
				t.Fatalf("bad location %+v", fd.Location)
			}
		}
		// The same bytes as a notebook: an error or findings in its cells.
		fs, err := CheckNotebook("f.ipynb", []byte(s))
		if err == nil {
			for _, fd := range fs {
				if fd.Location.Line < 1 || !strings.HasPrefix(fd.Location.Field, "cells[") {
					t.Fatalf("bad notebook location %+v", fd.Location)
				}
			}
		}
	})
}
