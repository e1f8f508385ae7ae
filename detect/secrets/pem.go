package secrets

import "strings"

// pem matches a PEM private key from "-----BEGIN … PRIVATE KEY-----" at p
// through its END line, with real or JSON-escaped ("\n") line breaks. When
// the END line is missing (a truncated answer) or more than maxHit bytes
// away, the hit runs through the last line of the key's body.
func (s *scanner) pem(p int) {
	t := s.text
	h, st := s.pemLine(p+len("-----BEGIN "), "PRIVATE KEY")
	if st == more {
		s.wait(p)
		return
	}
	if st != yes {
		return
	}
	limit := min(len(t), p+maxHit)
	// Look for the END line over bytes a key's body may contain.
	end := -1
	run, best := 0, 0 // base64 runs: a key has long ones
	for i := h; i < limit; i++ {
		c := t[i]
		if class[c]&(cAlnum|cB64) != 0 {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
		if c == '-' && strings.HasPrefix(t[i:], "-----END ") {
			e, st := s.pemLine(i+len("-----END "), "PRIVATE KEY")
			if st == more {
				s.wait(p)
				return
			}
			if st == yes && e <= limit && best >= 16 {
				end = e
			}
			break
		}
		if class[c]&(cAny64|cSpace) == 0 && strings.IndexByte("=:,\\.\"", c) < 0 {
			break
		}
		if i == len(t)-1 && !s.eof {
			s.wait(p)
			return
		}
	}
	if h == len(t) && !s.eof {
		s.wait(p)
		return
	}
	if end < 0 {
		var st status
		end, st = s.pemBody(h, limit)
		if st == more {
			s.wait(p)
			return
		}
		if st != yes {
			return
		}
	}
	r := rPrivateKey
	if s.on[rGCPService] && strings.Contains(t[max(0, p-40):p], `"private_key"`) {
		r = rGCPService
	} else if !s.on[rPrivateKey] {
		return
	}
	s.add(r, p, end, 1.0, "")
}

// pemLine reads the rest of a BEGIN or END line from i: a label of capitals,
// digits and spaces that contains want, then "-----". It returns the end of
// the line's dashes.
func (s *scanner) pemLine(i int, want string) (int, status) {
	t := s.text
	j := i
	for j < len(t) && j-i <= 60 && class[t[j]]&(cUpper|cDigit) != 0 || j < len(t) && t[j] == ' ' && j-i <= 60 {
		j++
	}
	if j-i > 60 {
		return j, no
	}
	label := t[i:j]
	rest := t[j:]
	if len(rest) < 5 {
		if !s.eof && strings.HasPrefix("-----", rest) {
			return j, more
		}
		return j, no
	}
	if rest[:5] != "-----" || !strings.Contains(label, want) {
		return j, no
	}
	return j + 5, yes
}

// pemBody returns the end of the body lines that follow a BEGIN line ending
// at h, reading no further than limit; no when there is no body line of at
// least 16 base64 bytes. Header lines ("Proc-Type: 4,ENCRYPTED") may come
// first. When the text may go on past limit and the body reaches it, the
// answer is more.
func (s *scanner) pemBody(h, limit int) (int, status) {
	t := s.text
	open := !s.eof && limit == len(t)
	end, best := -1, 0
	i := h
	for lines := 0; ; lines++ {
		if i >= limit {
			if open {
				return 0, more
			}
			break
		}
		// Line break: \r?\n or an escaped \n in a JSON or code string.
		n := 0
		switch rest := t[i:limit]; {
		case rest[0] == '\n':
			n = 1
		case strings.HasPrefix(rest, "\r\n"):
			n = 2
		case strings.HasPrefix(rest, `\r\n`):
			n = 4
		case strings.HasPrefix(rest, `\n`):
			n = 2
		case open && (rest == "\r" || rest == `\` || rest == `\r` || rest == `\r\`):
			return 0, more
		case rest[0] == '"':
			n = concatBreak(rest)
			if n < 0 {
				if open {
					return 0, more
				}
				n = 0
			}
		}
		if n == 0 && lines > 0 {
			break
		}
		i += n
		j := i
		for j < limit && (class[t[j]]&(cAlnum|cB64) != 0 || t[j] == '=') {
			j++
		}
		if j == i && lines < 4 {
			// A header line: Name: value.
			k := i
			for k < limit && (class[t[k]]&cAlnum != 0 || t[k] == '-') {
				k++
			}
			if k < limit && k > i && t[k] == ':' {
				for k < limit && t[k] != '\n' && t[k] != '\\' && t[k] != '\r' {
					k++
				}
				if k == limit && open {
					return 0, more
				}
				i = k
				continue
			}
			if k == limit && open {
				return 0, more
			}
		}
		if j == i {
			break
		}
		for j < limit && (t[j] == ' ' || t[j] == '\t') {
			j++
		}
		if j == limit && open {
			return 0, more
		}
		if j < limit && t[j] != '\n' && t[j] != '\r' && t[j] != '\\' && t[j] != '"' {
			break // the line goes on with something that is not base64
		}
		best = max(best, j-i)
		end = j
		i = j
	}
	if best < 16 {
		return 0, no
	}
	for end > h && (t[end-1] == ' ' || t[end-1] == '\t') {
		end--
	}
	return end, yes
}

// concatBreak returns the length of a line break in a string literal split
// over source lines: a closing quote, "+" and a line break, indentation and
// an opening quote (the "+" may also start the next line). It returns 0
// when rest does not start with one and -1 when rest ends before it could
// tell.
func concatBreak(rest string) int {
	i := 0
	skip := func() {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
	}
	if rest[0] != '"' {
		return 0
	}
	i++
	skip()
	plus := false
	if i < len(rest) && rest[i] == '+' {
		plus = true
		i++
		skip()
	}
	if i < len(rest) && rest[i] == '\r' {
		i++
	}
	if i == len(rest) {
		return -1
	}
	if rest[i] != '\n' {
		return 0
	}
	i++
	skip()
	if !plus && i < len(rest) && rest[i] == '+' {
		plus = true
		i++
		skip()
	}
	if i == len(rest) {
		return -1
	}
	if !plus || rest[i] != '"' {
		return 0
	}
	return i + 1
}
