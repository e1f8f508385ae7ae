package secrets

// Pattern rules: the scan loop finds every keyword with the automaton, and
// each rule's regular expression runs only over a bounded window around a
// keyword of its own. A window starts before bytes before the keyword, ends
// context bytes after it, and then grows to the end of the token it cuts (at
// most maxExtend bytes more), so that a match is never a truncated token.

// window runs the rule of keyword w, which ends at end, over its window.
func (s *scanner) window(end int, w uint16) {
	set := s.set
	kw := &set.keywords.kws[w]
	rr := &set.regexes[kw.rule]
	if !s.on[rr.idx] {
		return
	}
	t := s.text
	ws := max(0, end-len(kw.text)-rr.before)
	we := min(len(t), end+rr.context)
	for lim := min(len(t), we+maxExtend); we < lim && !isSpace(t[we]); {
		we++
	}
	if we == len(t) && !s.eof {
		s.wait(ws)
		return
	}
	if !s.eof {
		return // the verdict is final and only holding was asked for
	}
	if !rr.need.in(t[ws:we]) {
		return // no run of bytes long enough to be the secret
	}
	for _, loc := range rr.re.FindAllStringSubmatchIndex(t[ws:we], -1) {
		a, b := loc[0], loc[1]
		for g := 1; g <= rr.groups; g++ {
			if loc[2*g] >= 0 {
				a, b = loc[2*g], loc[2*g+1]
				break
			}
		}
		if a < 0 || a == b {
			continue
		}
		a, b = a+ws, b+ws
		if b == we && we < len(t) && !isSpace(t[we]) {
			continue // the token goes on past the window
		}
		v := t[a:b]
		if isPlaceholder(v) || rr.entropy > 0 && entropy(v) < rr.entropy || rr.validate != nil && !rr.validate(v) {
			continue
		}
		s.add(rr.idx, a, b, rr.score, "")
	}
}
