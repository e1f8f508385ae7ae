package pycode

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

// ids returns the sorted, distinct rule ids of fs without the family prefix.
func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, strings.TrimPrefix(f.RuleID, "model.code."))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func maxSeverity(fs []finding.Finding) finding.Severity {
	var m finding.Severity
	for _, f := range fs {
		m = max(m, f.Severity)
	}
	return m
}

func TestBenignFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/benign/*.py")
	if err != nil || len(files) < 3 {
		t.Fatalf("benign fixtures: %v, %v", files, err)
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range Check(p, src) {
			if f.Severity > finding.Low {
				t.Errorf("%s:%d: %s (%s) %q: %s", p, f.Location.Line, f.RuleID, f.Severity, f.Excerpt, f.Message)
			}
		}
	}
}

func TestMaliciousFiles(t *testing.T) {
	for _, c := range []struct {
		file string
		want []string
		sev  finding.Severity
	}{
		{"modeling_process.py", []string{"process-exec"}, finding.High},
		{"modeling_dropper.py", []string{"process-exec"}, finding.Critical},
		{"modeling_split_b64.py", []string{"obfuscated-exec"}, finding.Critical},
		{"modeling_zlib_marshal.py", []string{"obfuscated-exec"}, finding.Critical},
		{"modeling_blob.py", []string{"encoded-blob"}, finding.Medium},
		{"modeling_dynamic.py", []string{"dynamic-code"}, finding.High},
		{"modeling_exfil.py", []string{"network"}, finding.High},
		{"modeling_persist.py", []string{"persistence"}, finding.High},
		{"modeling_install.py", []string{"runtime-install"}, finding.High},
		{"modeling_native.py", []string{"native-code"}, finding.Medium},
		{"modeling_pickle.py", []string{"unsafe-deserialization"}, finding.Medium},
		{"modeling_reflect.py", []string{"process-exec"}, finding.High},
		{"modeling_remote_exec.py", []string{"dynamic-code", "network"}, finding.Critical},
	} {
		t.Run(c.file, func(t *testing.T) {
			p := filepath.Join("testdata", "malicious", c.file)
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			fs := Check(p, src)
			if g := ids(fs); !slices.Equal(g, c.want) {
				for _, f := range fs {
					t.Logf("%d:%d %s %s %q %s", f.Location.Line, f.Location.Column, f.RuleID, f.Severity, f.Excerpt, f.Message)
				}
				t.Fatalf("rules %v, want %v", g, c.want)
			}
			if m := maxSeverity(fs); m != c.sev {
				t.Errorf("severity %s, want %s", m, c.sev)
			}
			for _, f := range fs {
				if f.Location.Path != p || f.Location.Line < 1 || f.Location.Column < 1 || f.Detector != Detector {
					t.Errorf("bad location or detector: %+v %q", f.Location, f.Detector)
				}
				if src[f.Location.Offset] == ' ' || src[f.Location.Offset] == '\n' {
					t.Errorf("offset %d points at white space", f.Location.Offset)
				}
			}
		})
	}
}

// TestRules has a true and a false case for each rule.
func TestRules(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      string // rule id without the family, "" for none
		sev       finding.Severity
	}{
		// Process execution.
		{"os.system", "import os\nos.system(cmd)\n", "process-exec", finding.High},
		{"from os import system", "from os import system as s\ns('ls')\n", "process-exec", finding.High},
		{"os.execvp", "import os\nos.execvp('sh', ['sh'])\n", "process-exec", finding.High},
		{"pty.spawn", "import pty\npty.spawn('/bin/sh')\n", "process-exec", finding.High},
		{"shell -c in a list", "import subprocess\nsubprocess.run(['bash', '-c', cmd])\n", "process-exec", finding.Critical},
		{"powershell", "import subprocess\nsubprocess.call('powershell -enc AAAA')\n", "process-exec", finding.Critical},
		{"command from a download", "import os\nc = conn.recv(4096)\nos.popen(c)\n", "process-exec", finding.Critical},
		{"alias of __import__", "o = __import__('os')\no.system(c)\n", "process-exec", finding.High},
		{"alias of getattr", "import subprocess\nrun = getattr(subprocess, 'Popen')\nrun(c)\n", "process-exec", finding.High},
		{"import after a semicolon", "x = 1; import subprocess as sp\nsp.Popen(c)\n", "process-exec", finding.High},
		{"sys.modules lookup", "import sys\nsys.modules['os'].system('id')\n", "process-exec", finding.High},
		{"no process: a method named system", "self.system('x')\nos_system = 1\n", "", 0},
		{"no process: a string", "s = 'os.system(\"id\")'\n", "", 0},
		{"no process: subprocess constant", "import subprocess\nx = subprocess.PIPE\n", "", 0},
		// Dynamic code.
		{"eval of a variable", "eval(expr)\n", "dynamic-code", finding.High},
		{"compile of a variable", "code = compile(src, 'f', 'exec')\n", "dynamic-code", finding.High},
		{"f-string import", "import importlib\nimportlib.import_module(f'm.{name}')\n", "dynamic-code", finding.High},
		{"__import__ of a variable", "m = __import__(name)\n", "dynamic-code", finding.High},
		{"getattr on __builtins__", "f = getattr(__builtins__, name)\n", "dynamic-code", finding.High},
		{"builtins.exec", "import builtins\nbuiltins.exec(code)\n", "dynamic-code", finding.High},
		{"no dynamic: exec of a literal", "exec('x = 1')\n", "", 0},
		{"no dynamic: literal import", "import importlib\nm = importlib.import_module('flash_attn')\n", "", 0},
		{"no dynamic: getattr on self", "v = getattr(self, name, None)\n", "", 0},
		{"no dynamic: methods", "model.eval()\nre.compile(p)\ntorch.compile(m)\n", "", 0},
		// Obfuscated payloads.
		{"exec of b64decode", "import base64\nexec(base64.b64decode(p))\n", "obfuscated-exec", finding.Critical},
		{"rot13 through codecs", "import codecs\nexec(codecs.decode(s, 'rot13'))\n", "obfuscated-exec", finding.Critical},
		{"decode method rot13", "eval(s.decode('rot_13'))\n", "obfuscated-exec", finding.Critical},
		{"two variables", "import lzma\na = lzma.decompress(b)\nc = a\nexec(c)\n", "obfuscated-exec", finding.Critical},
		{"through a function's return", "import zlib\ndef _load():\n    return zlib.decompress(B)\nclass M:\n    def __init__(self):\n        exec(_load())\n", "obfuscated-exec", finding.Critical},
		{"through a method's return", "import base64\nclass M:\n    def _p(self):\n        return base64.b64decode(B)\n    def run(self):\n        eval(self._p())\n", "obfuscated-exec", finding.Critical},
		{"literal exec runs a command", "exec(\"import os\\nos.system('id')\")\n", "process-exec", finding.High},
		{"literal exec of a raw string", "exec(r'import subprocess; subprocess.run(c)')\n", "process-exec", finding.High},
		{"locals of another function", "import base64\ndef vocab(t):\n    data = base64.b64decode(t)\n    return len(data)\ndef run(data):\n    exec(data)\n", "dynamic-code", finding.High},
		{"module level after a function", "import base64\ndef f():\n    pass\npayload = base64.b64decode(P)\nexec(payload)\n", "obfuscated-exec", finding.Critical},
		{"global read in a function", "import base64\npayload = base64.b64decode(P)\ndef f():\n    exec(payload)\n", "obfuscated-exec", finding.Critical},
		{"pickle of decoded", "import pickle, base64\npickle.loads(base64.b64decode(s))\n", "obfuscated-exec", finding.Critical},
		{"no obfuscation: decode not run", "import base64\nvocab = base64.b64decode(tok)\n", "", 0},
		{"long blob", "x = '" + strings.Repeat("QUJD0123", 30) + "'\n", "encoded-blob", finding.Medium},
		{"long escaped bytes", "x = b'" + strings.Repeat(`\x90\x41`, 30) + "'\n", "encoded-blob", finding.Medium},
		{"no blob: prose", "x = '" + strings.Repeat("some words ", 30) + "'\n", "", 0},
		{"no blob: dashes", "x = '" + strings.Repeat("-", 300) + "'\n", "", 0},
		{"no blob: short", "x = 'QUJD0123QUJD0123'\n", "", 0},
		// Network.
		{"socket", "import socket\ns = socket.socket()\n", "network", finding.Medium},
		{"httpx", "import httpx\nhttpx.get(u)\n", "network", finding.Medium},
		{"paramiko", "import paramiko\nc = paramiko.SSHClient()\n", "network", finding.Medium},
		{"with a token", "import os, requests\nt = os.getenv('OPENAI_API_KEY')\nrequests.post(u, data=t)\n", "network", finding.High},
		{"with the environment", "import os, smtplib\ns = smtplib.SMTP(h)\ns.send(str(dict(os.environ)))\n", "network", finding.High},
		{"with aws credentials", "import ftplib\nftplib.FTP(h)\nopen('/root/.aws/credentials')\n", "network", finding.High},
		{"no network: an exception class", "import requests\nraise requests.exceptions.HTTPError(r)\n", "", 0},
		{"no network: hf home", "import os\nh = os.environ.get('HF_HOME')\n", "", 0},
		// Persistence.
		{"authorized_keys", "import os\nopen(os.path.expanduser('~/.ssh/authorized_keys'), 'a').write(k)\n", "persistence", finding.High},
		{"crontab copy", "import shutil\nshutil.copy('job', '/etc/cron.d/job')\n", "persistence", finding.High},
		{"pathlib write", "from pathlib import Path\nPath.home().joinpath('.zshrc').write_text(s)\n", "persistence", finding.High},
		{"sitecustomize", "import site\nd = site.getusersitepackages()\nwith open(d + '/sitecustomize.py', 'w') as f:\n    f.write(s)\n", "persistence", finding.High},
		{"no persistence: read", "import os\nkeys = open(os.path.expanduser('~/.bashrc')).read()\n", "", 0},
		{"no persistence: saving a checkpoint", "open(os.path.join(d, 'model.pth'), 'wb').write(b)\n", "", 0},
		// Runtime installs.
		{"os.system pip", "import os\nos.system('pip install acme-fixture')\n", "runtime-install", finding.High},
		{"pip.main", "import pip\npip.main(['install', 'x'])\n", "runtime-install", finding.High},
		{"pip internal", "from pip._internal.cli.main import main as m\nm(['install', 'x'])\n", "runtime-install", finding.High},
		{"no install: pip in a message", "print('pip install x to use flash attention')\n", "", 0},
		// Native code.
		{"cdll", "import ctypes\nctypes.cdll.LoadLibrary(p)\n", "native-code", finding.Medium},
		{"windll", "import ctypes\nk = ctypes.windll.kernel32.VirtualAlloc(0, n, 0x3000, 0x40)\n", "native-code", finding.Medium},
		{"cffi", "from cffi import FFI\nffi = FFI()\nlib = ffi.dlopen(p)\n", "native-code", finding.Medium},
		{"no native: ctypes types", "import ctypes\nx = ctypes.c_int(3)\n", "", 0},
		// Deserialisation.
		{"pickle.load", "import pickle\npickle.load(f)\n", "unsafe-deserialization", finding.Medium},
		{"dill.loads", "import dill\ndill.loads(b)\n", "unsafe-deserialization", finding.Medium},
		{"joblib", "import joblib\njoblib.load(p)\n", "unsafe-deserialization", finding.Medium},
		{"torch.load", "import torch\ntorch.load(p)\n", "unsafe-deserialization", finding.Medium},
		{"torch.load weights_only=False", "import torch\ntorch.load(p, weights_only=False)\n", "unsafe-deserialization", finding.Medium},
		{"marshal", "import marshal\nmarshal.loads(b)\n", "unsafe-deserialization", finding.Medium},
		{"no deserialisation: weights_only", "import torch\ntorch.load(p, weights_only=True)\n", "", 0},
		{"no deserialisation: json", "import json\njson.load(f)\n", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := Check("x.py", []byte(c.src))
			var want []string
			if c.want != "" {
				want = []string{c.want}
			}
			if g := ids(fs); !slices.Equal(g, want) {
				for _, f := range fs {
					t.Logf("%d %s %s %q %s", f.Location.Line, f.RuleID, f.Severity, f.Excerpt, f.Message)
				}
				t.Fatalf("rules %v, want %v", g, want)
			}
			if c.want != "" && maxSeverity(fs) != c.sev {
				t.Errorf("severity %s, want %s", maxSeverity(fs), c.sev)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	big := make([]byte, MaxSource+1)
	fs := Check("big.py", big)
	if g := ids(fs); !slices.Equal(g, []string{"limit"}) {
		t.Errorf("oversized source: %v", g)
	}
	// Many findings of one rule are capped, with a summary.
	src := "import os\n" + strings.Repeat("os.system(c)\n", 500)
	fs = Check("many.py", []byte(src))
	if len(fs) != 101 {
		t.Errorf("%d findings, want 100 and a summary", len(fs))
	}
	// Deep nesting stays linear and does not fail.
	deep := strings.Repeat("exec(", 100000) + "x" + strings.Repeat(")", 100000)
	if fs := Check("deep.py", []byte(deep)); len(fs) == 0 {
		t.Error("deeply nested exec: no finding")
	}
}

func TestRulesList(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "model.code.") || r.Title == "" || r.Remediation == "" || r.Layer != finding.LayerModelWeights || seen[r.ID] {
			t.Errorf("bad rule %+v", r)
		}
		if r.ID != RuleLimit.ID && len(r.References.CWE) == 0 {
			t.Errorf("%s: no CWE", r.ID)
		}
		seen[r.ID] = true
	}
}

func FuzzCheck(f *testing.F) {
	for _, dir := range []string{"testdata/benign", "testdata/malicious"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.py"))
		for _, p := range files {
			src, _ := os.ReadFile(p)
			f.Add(src)
		}
	}
	f.Add([]byte("getattr(getattr(__import__('os'), 'x'), 'y')(\n"))
	f.Add([]byte("sys.modules['os'].system(x"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fs := Check("f.py", src)
		for _, fd := range fs {
			if fd.Location.Line < 0 || fd.Location.Column < 0 || fd.Location.Offset < 0 || fd.Location.Offset > int64(len(src)) {
				t.Fatalf("bad location %+v", fd.Location)
			}
		}
	})
}
