package iac

import (
	"fmt"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// scanCompose applies the docker-compose rules to the documents of a file.
func scanCompose(docs []*node) []finding.Finding {
	var fs []finding.Finding
	for _, d := range docs {
		svcs := d.get("services")
		if svcs == nil || svcs.kind != mapNode {
			continue
		}
		for i, k := range svcs.keys {
			fs = append(fs, composeService(k.value, svcs.vals[i])...)
		}
	}
	return fs
}

func composeService(name string, s *node) []finding.Finding {
	if s == nil || s.kind != mapNode {
		return nil
	}
	var fs []finding.Finding
	where := fmt.Sprintf("service %q", clip(name, 60))
	if v := s.get("privileged"); v.isTrue() {
		fs = append(fs, newFinding(composePrivileged, v.line, v.offset, "privileged: true", where+" runs privileged"))
	}
	for _, k := range []string{"network_mode", "pid", "ipc"} {
		if v := s.get(k); v.str() == "host" {
			fs = append(fs, newFinding(composeHostNamespace, v.line, v.offset, k+": host",
				fmt.Sprintf("%s shares the host's namespace (%s: host)", where, k)))
		}
	}
	if u := s.get("user"); u != nil {
		uid, _, _ := strings.Cut(u.str(), ":")
		if uid == "root" || uid == "0" {
			fs = append(fs, newFinding(composeRootUser, u.line, u.offset, "user: "+clip(u.str(), 40), where+" runs as root"))
		}
	}
	for _, v := range s.get("volumes").items() {
		src := v.str()
		if v.kind == mapNode {
			src = v.get("source").str()
		} else {
			src, _, _ = strings.Cut(src, ":")
		}
		if src == "/var/run/docker.sock" || src == "/run/docker.sock" || src == "/" {
			fs = append(fs, newFinding(composeDockerSocket, v.line, v.offset, "volume "+clip(src, 80),
				fmt.Sprintf("%s mounts %s from the host", where, src)))
		}
	}
	fs = append(fs, composeEnv(where, s.get("environment"))...)
	image := s.get("image")
	if image != nil && s.get("build") == nil {
		img := image.str()
		if _, tag := splitTag(img); !strings.Contains(img, "@sha256:") && !strings.Contains(img, "$") && (tag == "" || tag == "latest") {
			fs = append(fs, newFinding(composeUnpinned, image.line, image.offset, "image: "+clip(img, 120),
				where+" uses an image without a version tag"))
		}
	}
	var cmd []string
	for _, k := range []string{"entrypoint", "command"} {
		c := s.get(k)
		if c.kindOr() == seqNode {
			for _, it := range c.items() {
				cmd = append(cmd, it.str())
			}
		} else {
			cmd = append(cmd, c.str())
		}
	}
	model := isModelServer(image.str(), strings.Join(cmd, " "))
	for _, p := range s.get("ports").items() {
		hostIP, published, target := composePort(p)
		if !model && !modelServerPorts[target] {
			continue
		}
		if published == "" || hostIP == "127.0.0.1" || hostIP == "localhost" || hostIP == "::1" || hostIP == "[::1]" {
			continue
		}
		fs = append(fs, newFinding(composeModelServerExposed, p.line, p.offset, "ports: "+clip(composePortText(p), 80),
			fmt.Sprintf("%s publishes the model server port %s on every host interface", where, clip(target, 20))))
	}
	return fs
}

// composePort returns the host IP, published port and container port of a
// ports entry in the short ("[ip:]host:container[/proto]") or long syntax.
func composePort(p *node) (hostIP, published, target string) {
	if p.kind == mapNode {
		return p.get("host_ip").str(), p.get("published").str(), p.get("target").str()
	}
	s, _, _ := strings.Cut(p.str(), "/")
	if strings.HasPrefix(s, "[") { // [::1]:8000:8000
		if end := strings.Index(s, "]:"); end > 0 {
			hostIP, s = s[:end+1], s[end+2:]
		}
	}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		return "", "", parts[0] // container port only: published on a random host port
	case 2:
		return hostIP, parts[0], parts[1]
	default:
		return parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	}
}

func composePortText(p *node) string {
	if p.kind == mapNode {
		_, pub, t := composePort(p)
		return pub + ":" + t
	}
	return p.str()
}

// composeEnv checks environment: as a mapping or a list of KEY=VALUE.
func composeEnv(where string, env *node) []finding.Finding {
	var fs []finding.Finding
	check := func(k, v string, at *node) {
		if secretValue(k, v) {
			fs = append(fs, newFinding(composeSecretEnv, at.line, at.offset, maskedExcerpt(k, v),
				fmt.Sprintf("%s sets %s to a literal secret", where, clip(k, 80))))
		}
	}
	switch env.kindOr() {
	case mapNode:
		for i, k := range env.keys {
			if v := env.vals[i]; v.kind == scalarNode {
				check(k.value, v.value, v)
			}
		}
	case seqNode:
		for _, it := range env.items() {
			if k, v, ok := strings.Cut(it.str(), "="); ok {
				check(k, v, it)
			}
		}
	}
	return fs
}

// kindOr returns n's kind, nullNode for nil.
func (n *node) kindOr() nodeKind {
	if n == nil {
		return nullNode
	}
	return n.kind
}
