package iac

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// Limits on Dockerfile input.
const (
	maxInstructions      = 1 << 16
	maxHeredocsPerInstr  = 16
	maxInstructionLength = 1 << 20
)

// instruction is one Dockerfile instruction with its continuation lines
// joined and its heredoc bodies attached.
type instruction struct {
	cmd      string // upper case, e.g. "RUN"
	args     string // the rest of the logical line
	heredocs []string
	line     int // 1-based line of the keyword
	offset   int // byte offset of the keyword
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	instrs []instruction
}

var (
	directiveRE = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$`)
	heredocRE   = regexp.MustCompile(`<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?)`)
	keywordRE   = regexp.MustCompile(`^[A-Za-z]+$`)
)

// dockerKeywords are the instructions of the Dockerfile reference.
var dockerKeywords = map[string]bool{
	"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "MAINTAINER": true, "EXPOSE": true, "ENV": true,
	"ADD": true, "COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true, "WORKDIR": true, "ARG": true,
	"ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true,
}

// looksLikeDockerfile reports whether data, whatever its name, is a
// Dockerfile: only Dockerfile instructions, the first being FROM (or ARG
// then FROM) with an image reference and nothing else but AS name.
func looksLikeDockerfile(data []byte) bool {
	df, err := parseDockerfile(data)
	if err != nil || len(df.instrs) == 0 {
		return false
	}
	for _, in := range df.instrs {
		if !dockerKeywords[in.cmd] {
			return false
		}
	}
	for _, in := range df.instrs {
		switch in.cmd {
		case "FROM":
			var ref []string
			for _, f := range dockerFields(in.args) {
				if !strings.HasPrefix(f, "--") {
					ref = append(ref, f)
				}
			}
			return len(ref) == 1 || (len(ref) == 3 && strings.EqualFold(ref[1], "as"))
		case "ARG":
			continue
		default:
			return false
		}
	}
	return false
}

// parseDockerfile splits data into instructions: parser directives at the
// top (escape changes the continuation character), comments, line
// continuations and heredocs (<<EOF … EOF) are handled as BuildKit does.
func parseDockerfile(data []byte) (*dockerfile, error) {
	text := string(data)
	lines := strings.SplitAfter(text, "\n")
	escape := byte('\\')
	df := &dockerfile{}
	i := 0
	offset := 0
	// Parser directives: only at the very top, before any other line.
	for i < len(lines) {
		m := directiveRE.FindStringSubmatch(strings.TrimRight(lines[i], "\r\n"))
		if m == nil {
			break
		}
		if strings.EqualFold(m[1], "escape") {
			if m[2] == "`" {
				escape = '`'
			} else if m[2] != "\\" {
				return nil, fmt.Errorf("dockerfile line %d (byte %d): invalid escape directive %q", i+1, offset, clip(m[2], 20))
			}
		}
		offset += len(lines[i])
		i++
	}
	for i < len(lines) {
		raw := lines[i]
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			offset += len(raw)
			i++
			continue
		}
		if len(df.instrs) >= maxInstructions {
			return nil, fmt.Errorf("dockerfile line %d (byte %d): more than %d instructions", i+1, offset, maxInstructions)
		}
		in := instruction{line: i + 1, offset: offset + strings.Index(raw, trimmed[:1])}
		// Join continuation lines.
		var b strings.Builder
		for i < len(lines) {
			l := strings.TrimRight(lines[i], "\r\n")
			offset += len(lines[i])
			i++
			lt := strings.TrimRight(l, " \t")
			if b.Len() > 0 {
				if t := strings.TrimSpace(lt); t == "" || strings.HasPrefix(t, "#") {
					continue // comment or empty line inside a continuation
				}
			}
			if len(lt) > 0 && lt[len(lt)-1] == escape {
				b.WriteString(lt[:len(lt)-1])
				b.WriteByte(' ')
				if b.Len() > maxInstructionLength {
					return nil, fmt.Errorf("dockerfile line %d (byte %d): instruction longer than %d bytes", in.line, in.offset, maxInstructionLength)
				}
				continue
			}
			b.WriteString(l)
			break
		}
		logical := strings.TrimSpace(b.String())
		kw, rest, _ := strings.Cut(logical, " ")
		if t := strings.IndexByte(kw, '\t'); t >= 0 {
			kw, rest = kw[:t], kw[t+1:]+" "+rest
		}
		if !keywordRE.MatchString(kw) {
			return nil, fmt.Errorf("dockerfile line %d (byte %d): %q is not an instruction", in.line, in.offset, clip(kw, 40))
		}
		in.cmd = strings.ToUpper(kw)
		in.args = strings.TrimSpace(rest)
		// Heredocs: the bodies follow the instruction line in order.
		if in.cmd == "RUN" || in.cmd == "COPY" || in.cmd == "ADD" {
			for _, m := range heredocRE.FindAllStringSubmatch(in.args, maxHeredocsPerInstr) {
				word, strip := m[3], m[1] == "-"
				var body strings.Builder
				for i < len(lines) {
					l := strings.TrimRight(lines[i], "\r\n")
					offset += len(lines[i])
					i++
					cmp := l
					if strip {
						cmp = strings.TrimLeft(l, "\t")
					}
					if cmp == word {
						break
					}
					body.WriteString(l)
					body.WriteByte('\n')
				}
				in.heredocs = append(in.heredocs, body.String())
			}
		}
		df.instrs = append(df.instrs, in)
	}
	return df, nil
}

// stage is one FROM … section.
type stage struct {
	from      instruction
	image     string // resolved image reference
	name      string // AS name, lower case
	parent    int    // index of the stage it builds on, or -1
	user      string // last USER, "" if none
	userInstr *instruction
}

var curlPipeRE = regexp.MustCompile(`(?i)\b(curl|wget)\b[^|;&\n]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+\S+\s+)?(ba|z|da|k|a)?sh\b|(?i)\b(ba|z|da)?sh\s+(-c\s+)?["']?\$\(\s*(curl|wget)\b|(?i)\b(ba|z|da)?sh\s+<\(\s*(curl|wget)\b|(?i)\b(curl|wget)\b[^|;&\n]*\|\s*(sudo\s+)?python[0-9.]*\b`)

// scanDockerfile applies the Dockerfile rules.
func scanDockerfile(df *dockerfile) []finding.Finding {
	var fs []finding.Finding
	globalArgs := map[string]string{}
	var stages []stage
	for idx := range df.instrs {
		in := &df.instrs[idx]
		switch in.cmd {
		case "FROM":
			st := stage{from: *in, parent: -1}
			fields := dockerFields(in.args)
			var ref []string
			for _, f := range fields {
				if strings.HasPrefix(f, "--") {
					continue
				}
				ref = append(ref, f)
			}
			if len(ref) == 0 {
				break
			}
			st.image = expandArgs(ref[0], globalArgs)
			if len(ref) >= 3 && strings.EqualFold(ref[1], "as") {
				st.name = strings.ToLower(ref[2])
			}
			for j, prev := range stages {
				if prev.name != "" && prev.name == strings.ToLower(st.image) {
					st.parent = j
				}
			}
			if st.parent < 0 {
				fs = append(fs, baseImageFindings(in, st.image)...)
			}
			stages = append(stages, st)
		case "ARG":
			for _, kv := range dockerFields(in.args) {
				k, v, hasValue := strings.Cut(kv, "=")
				v = unquote(v)
				if len(stages) == 0 && hasValue {
					globalArgs[k] = v
				} else if len(stages) == 0 {
					globalArgs[k] = ""
				}
				switch {
				case hasValue && secretValue(k, v):
					fs = append(fs, newFinding(dockerSecretEnv, in.line, in.offset, "ARG "+maskedExcerpt(k, v),
						fmt.Sprintf("ARG %s has a literal secret default; it is stored in the image history", clip(k, 80))))
				case !hasValue && secretKeyName(k):
					fs = append(fs, newFinding(dockerSecretArg, in.line, in.offset, "ARG "+clip(k, 80),
						fmt.Sprintf("build argument %s carries a secret; its value is recorded in the image history", clip(k, 80))))
				}
			}
		case "ENV":
			for _, kv := range envPairs(in.args) {
				if secretValue(kv[0], kv[1]) {
					fs = append(fs, newFinding(dockerSecretEnv, in.line, in.offset, "ENV "+maskedExcerpt(kv[0], kv[1]),
						fmt.Sprintf("ENV %s is a literal secret baked into the image", clip(kv[0], 80))))
				}
			}
		case "RUN":
			body := in.args + "\n" + strings.Join(in.heredocs, "\n")
			if loc := curlPipeRE.FindStringIndex(body); loc != nil {
				fs = append(fs, newFinding(dockerCurlPipe, in.line, in.offset, "RUN "+clip(body[loc[0]:loc[1]], 120),
					"a downloaded script is run without verifying it"))
			}
		case "ADD":
			fields := dockerFields(in.args)
			checksum := false
			for _, f := range fields {
				if strings.HasPrefix(f, "--checksum") {
					checksum = true
				}
			}
			for _, f := range fields {
				lf := strings.ToLower(f)
				if !checksum && (strings.HasPrefix(lf, "http://") || strings.HasPrefix(lf, "https://")) {
					fs = append(fs, newFinding(dockerAddURL, in.line, in.offset, "ADD "+clip(f, 120),
						"ADD downloads a remote file without verifying its checksum"))
					break
				}
			}
		case "USER":
			if len(stages) > 0 {
				stages[len(stages)-1].user = strings.TrimSpace(in.args)
				stages[len(stages)-1].userInstr = in
			}
		}
	}
	if len(stages) > 0 {
		fs = append(fs, finalUserFindings(stages)...)
	}
	return fs
}

// finalUserFindings reports a final stage that runs as root, following
// FROM <stage> to the stage it builds on.
func finalUserFindings(stages []stage) []finding.Finding {
	last := len(stages) - 1
	st := stages[last]
	for i, seen := last, 0; i >= 0 && seen <= len(stages); seen++ {
		s := stages[i]
		if s.user != "" {
			u, _, _ := strings.Cut(s.user, ":")
			u = strings.ToLower(strings.TrimSpace(u))
			if u == "root" || u == "0" {
				return []finding.Finding{newFinding(dockerRootUser, s.userInstr.line, s.userInstr.offset, "USER "+clip(s.user, 60),
					"the final stage switches to root and the container runs as root")}
			}
			return nil
		}
		i = s.parent
	}
	img := strings.ToLower(st.image)
	if strings.Contains(img, "nonroot") || strings.Contains(img, "scratch") {
		return nil
	}
	return []finding.Finding{newFinding(dockerRootUser, st.from.line, st.from.offset, "FROM "+clip(st.image, 120)+" (no USER)",
		"the final stage sets no USER, so the container runs as the base image's user, root by default")}
}

// baseImageFindings checks that a base image is pinned.
func baseImageFindings(in *instruction, image string) []finding.Finding {
	if image == "" || strings.EqualFold(image, "scratch") || strings.Contains(image, "$") {
		return nil
	}
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	_, tag := splitTag(image)
	if tag == "" || tag == "latest" {
		return []finding.Finding{newFinding(dockerUnpinned, in.line, in.offset, "FROM "+clip(image, 120),
			"the base image has no version tag; every build may pull a different image")}
	}
	return []finding.Finding{newFinding(dockerNoDigest, in.line, in.offset, "FROM "+clip(image, 120),
		"the base image is pinned by tag only; a re-pushed tag changes the build")}
}

// splitTag splits an image reference into repository and tag.
func splitTag(ref string) (repo, tag string) {
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		ref = ref[:at]
	}
	slash := strings.LastIndexByte(ref, '/')
	if c := strings.LastIndexByte(ref, ':'); c > slash {
		return ref[:c], ref[c+1:]
	}
	return ref, ""
}

// expandArgs substitutes $NAME and ${NAME} from args; unknown names stay.
func expandArgs(s string, args map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		braced := s[j] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		name := s[j:k]
		end := k
		def := ""
		if braced {
			close := strings.IndexByte(s[k:], '}')
			if close < 0 {
				b.WriteString(s[i:])
				break
			}
			if mod := s[k : k+close]; strings.HasPrefix(mod, ":-") {
				def = mod[2:]
			}
			end = k + close + 1
		}
		v, ok := args[name]
		if !ok || v == "" {
			v = def
		}
		if v == "" {
			b.WriteString(s[i:end])
		} else {
			b.WriteString(v)
		}
		i = end - 1
	}
	return b.String()
}

// dockerFields splits instruction arguments on white space, keeping quoted
// strings together (quotes removed).
func dockerFields(s string) []string {
	var out []string
	var b strings.Builder
	var quote byte
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// envPairs parses ENV arguments: "K=V K2=V2" or the legacy "K V".
func envPairs(args string) [][2]string {
	fields := dockerFields(args)
	if len(fields) == 0 {
		return nil
	}
	if !strings.Contains(fields[0], "=") {
		k, v, _ := strings.Cut(strings.TrimSpace(args), " ")
		return [][2]string{{k, unquote(strings.TrimSpace(v))}}
	}
	var out [][2]string
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
