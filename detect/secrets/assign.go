package secrets

import "strings"

// maxValue bounds an assigned value.
const maxValue = 256

// keywordIn returns the label for the first secret-bearing word in a key
// name ("password", "secret", "token", "api_key", …), or "".
func keywordIn(key string) string {
	for i := 0; i < len(key); i++ {
		r := key[i:]
		switch lower(key[i]) {
		case 'p':
			if hasPrefixFold(r, "password") || hasPrefixFold(r, "passwd") || hasPrefixFold(r, "passphrase") || hasPrefixFold(r, "pwd") ||
				i > 0 && hasPrefixFold(r, "pass") && wordAt(key, i, 4) { // DB_PASS, not "PASS:" or "pass"
				return "PASSWORD"
			}
			if hasPrefixFold(r, "privatekey") || hasPrefixFold(r, "private_key") || hasPrefixFold(r, "private-key") {
				return "SECRET"
			}
		case 's':
			if hasPrefixFold(r, "secret") {
				return "SECRET"
			}
		case 't':
			if hasPrefixFold(r, "token") {
				return "TOKEN"
			}
		case 'a':
			if hasPrefixFold(r, "apikey") || hasPrefixFold(r, "api_key") || hasPrefixFold(r, "api-key") ||
				hasPrefixFold(r, "accesskey") || hasPrefixFold(r, "access_key") || hasPrefixFold(r, "access-key") {
				return "SECRET"
			}
			if hasPrefixFold(r, "appkey") || hasPrefixFold(r, "app_key") || hasPrefixFold(r, "app-key") ||
				hasPrefixFold(r, "application_key") || hasPrefixFold(r, "applicationkey") {
				return "SECRET"
			}
			if hasPrefixFold(r, "authorization") {
				return "TOKEN"
			}
		case 'c':
			if hasPrefixFold(r, "credential") {
				return "SECRET"
			}
		}
	}
	return ""
}

// letters returns the set of ASCII letters in key, case folded, as bits
// (a = 1<<0 … z = 1<<25).
func letters(key string) uint32 {
	var m uint32
	for i := 0; i < len(key); i++ {
		if c := key[i] | 0x20; 'a' <= c && c <= 'z' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}

// nameLetters are letter sets one of which every key name that assign
// reads must have: the letters of pwd (password, passwd), pass, passphrase,
// privatekey, secret, token, apkey (apikey, appkey, application_key),
// ackey (accesskey, AccountKey, SharedAccessKey), authorization and
// credential.
var nameLetters = [...]uint32{
	letters("pwd"), letters("pas"), letters("passphrase"), letters("privatekey"), letters("secret"), letters("token"),
	letters("apkey"), letters("ackey"), letters("authorization"), letters("credential"),
}

// mayName reports whether a key with the letters m (see letters) has all
// the letters of one of the words assign looks for (keywordIn, the Azure
// key names): a test cheaper than looking for the words, which most keys
// fail.
func mayName(m uint32) bool {
	for _, w := range nameLetters {
		if m&w == w {
			return true
		}
	}
	return false
}

// wordAt reports whether key[i:i+n] is a whole word of the key name: it
// starts the key or follows '_', '-' or '.' or a lower-case letter (when it
// starts with a capital: camelCase), and it ends the key or is followed by
// '_', '-', '.' or a capital after a lower-case letter ("DB_PASS",
// "smtpPass", "pass", not "bypass" or "passenger").
func wordAt(key string, i, n int) bool {
	sep := func(c byte) bool { return c == '_' || c == '-' || c == '.' }
	if i > 0 && !sep(key[i-1]) && !(class[key[i-1]]&cLower != 0 && class[key[i]]&cUpper != 0) {
		return false
	}
	j := i + n
	return j == len(key) || sep(key[j]) || class[key[j]]&cUpper != 0 && class[key[j-1]]&cLower != 0
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word w,
// ignoring ASCII case.
func hasPrefixFold(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lower(s[i]) != w[i] {
			return false
		}
	}
	return true
}

// notSecret are key names that contain a keyword but name something else.
var notSecret = [...]string{
	"tokeniz", "tokens", "token_type", "tokentype", "token_url", "token_uri", "token_endpoint",
	"token_count", "token_limit", "secret_name", "secretname", "secret_ref", "secretref",
	"password_length", "password_policy", "passwordpolicy", "keyref", "_file", "_path", "_env",
}

// placeholders in a value mark it as an example rather than a secret.
var placeholders = [...]string{
	"xxxx", "****", "...", "…", "your", "changeme", "change_me", "example", "placeholder", "redacted",
	"dummy", "fake", "sample", "password", "secret", "token", "<", "${", "{{", "%s", "process.env", "environ",
	"getenv", "null", "none", "undefined",
}

// assign handles '=' or ':' at p: a credential assigned to a key name
// ("password = …", "AccountKey=…", `"aws_secret_access_key": "…"`), or
// "scheme://user:password@host".
func (s *scanner) assign(p int) {
	t := s.text
	op := t[p]
	if op == ':' && strings.HasPrefix(t[p+1:], "//") {
		if s.on[rURLPassword] {
			s.urlPassword(p + 3)
		}
		return
	}
	kp := p // where the operator starts
	if op == '=' && p > 0 && strings.IndexByte(":=!<>", t[p-1]) >= 0 {
		if t[p-1] != '!' || p > 1 && t[p-2] == '=' {
			return // the second byte of :=, ==, <=, >=, ===
		}
		kp = p - 1 // !=
	}
	if op == ':' && (p > 0 && t[p-1] == ':' || s.at(p+1) == ':') {
		return // ::
	}
	end := p + 1
	if c := s.at(end); c == '=' || c == '>' {
		if op == '=' && c == '=' || op == ':' && c == '=' || op == '=' && c == '>' {
			end++
		}
	}
	if op == '=' && s.at(end) == '=' {
		end++ // ===, !==
	}
	key, m := s.keyLetters(kp)
	if key == "" || !mayName(m) {
		return
	}
	if eqFold(key, "AccountKey") || hasSuffixFold(key, "SharedAccessKey") || hasSuffixFold(key, "AccountKey") {
		if s.on[rAzure] {
			s.azure(end)
		}
		return
	}
	label := keywordIn(key)
	if label == "" {
		return
	}
	for _, n := range notSecret {
		if containsFold(key, n) {
			return
		}
	}
	aws := containsFold(key, "secret") && (containsFold(key, "aws") || containsFold(key, "access"))
	if !s.on[rGeneric] && !(aws && s.on[rAWSSecret]) {
		return
	}
	vs, ve, st := s.value(end)
	if st == more {
		s.wait(vs)
		return
	}
	if st != yes {
		return
	}
	v := t[vs:ve]
	if label == "TOKEN" && containsFold(key, "authorization") {
		// "Authorization: Bearer <token>": the scheme is not the secret.
		for _, scheme := range [...]string{"Bearer ", "Basic ", "Token "} {
			if len(v) == len(scheme)-1 && eqFold(v, scheme[:len(scheme)-1]) && s.at(ve) == ' ' {
				vs, ve, st = s.value(ve)
				if st == more {
					s.wait(vs)
					return
				}
				if st != yes {
					return
				}
				v = t[vs:ve]
				break
			}
		}
	}
	if !s.eof {
		if ve < len(t) && strings.Trim(t[ve:], " \t") == "" {
			s.wait(vs) // a YAML or INI value: what follows on its line decides
		}
		return // only holding: the verdict cannot change
	}
	if aws && s.on[rAWSSecret] && ve-vs == 40 && s.awsValue(vs, ve) {
		return
	}
	if aws && containsFold(key, "aws") && s.on[rAWSSecret] {
		return // the key names an AWS secret key and the value is not one
	}
	// Hand-picked passwords have less entropy than generated keys: a quoted
	// literal assigned to a password needs less.
	minBits := 3.0
	if label == "PASSWORD" && vs > 0 && strings.IndexByte("\"'`", t[vs-1]) >= 0 {
		minBits = 2.5
	}
	if !s.on[rGeneric] {
		return
	}
	quoted := vs > 0 && strings.IndexByte("\"'`", t[vs-1]) >= 0
	if !quoted && (memberAccess(v) || t[kp] == '!' || op == '=' && t[p+1] == '=' || op == ':' && strings.IndexByte(v, ':') >= 0) {
		// code (cfg.db.password, token.style == yaml_PLAIN_SCALAR_STYLE) or
		// a list of fields (groupname:password:GID:user_list)
		return
	}
	if secretRef(v) {
		return // a reference to the secret, not the secret
	}
	if echoesKey(key, v) {
		return // a field's name ("PGSSLPASSWORD": "sslpassword"), not its value
	}
	if plausibleValue(v, minBits) && (!wordsOnly(v) || passwordKey(key) && s.literal(kp, end, vs, ve)) {
		score := 0.6
		if entropy(v) >= 4.0 {
			score = 0.8
		}
		s.add(rGeneric, vs, ve, score, label)
		return
	}
	if passwordKey(key) && lowValue(v) && s.literal(kp, end, vs, ve) {
		s.add(rGeneric, vs, ve, 0.6, "PASSWORD")
	}
}

// literal reports whether the value t[vs:ve], assigned by the operator
// t[kp:end], is a literal rather than a variable: a quoted string; an
// unquoted value written without spaces around '=' after a command-line
// flag (--password=…), a query or connection-string parameter (?password=,
// ;Pwd=) or an upper-case environment variable (DB_PASSWORD=…); or a YAML
// value (a key at the start of its line, the value alone on the rest of
// it).
func (s *scanner) literal(kp, end, vs, ve int) bool {
	t := s.text
	if vs > 0 && strings.IndexByte("\"'`", t[vs-1]) >= 0 {
		return true
	}
	ke := kp // the key's end, before any spaces
	for ke > 0 && kp-ke < 4 && (t[ke-1] == ' ' || t[ke-1] == '\t') {
		ke--
	}
	ks := ke
	for ks > 0 && class[t[ks-1]]&(cWord|cDot) != 0 {
		ks--
	}
	key := t[ks:ke]
	switch t[kp] {
	case '=':
		if end-kp != 1 || strings.IndexByte(key, '.') >= 0 || strings.IndexByte(t[vs:ve], '.') >= 0 {
			return false
		}
		if ke != kp || vs != end {
			// "password = hunter2": code as often as INI; but a bare word
			// ending a PHP or Perl statement ("$password = goodspec;") is
			// no variable (those start with '$') and no call.
			return ks > 0 && t[ks-1] == '$' && ve < len(t) && t[ve] == ';' && wordsOnly(t[vs:ve])
		}
		if key[0] == '-' || ks > 0 && strings.IndexByte("?&;", t[ks-1]) >= 0 {
			return true
		}
		return !hasAll(key, cLower) && (ks == 0 || isSpace(t[ks-1]))
	case ':':
		if end-kp != 1 || vs == end || ke != kp || strings.IndexByte(key, '.') >= 0 || strings.IndexByte(t[vs:ve], '.') >= 0 {
			return false
		}
		return lineStart(t, ks) && lineEnd(t, ve)
	}
	return false
}

// lineStart reports whether only indentation or a list dash comes before
// i on its line.
func lineStart(t string, i int) bool {
	for i > 0 && (t[i-1] == ' ' || t[i-1] == '\t' || t[i-1] == '-') {
		i--
	}
	return i == 0 || t[i-1] == '\n' || t[i-1] == '\r'
}

// lineEnd reports whether only spaces, or spaces and a comment, follow i
// on its line.
func lineEnd(t string, i int) bool {
	for j := i; j < len(t); j++ {
		switch c := t[j]; {
		case c == '\n' || c == '\r' || (c == '#' || c == ';') && j > i:
			return true
		case c != ' ' && c != '\t':
			return false
		}
	}
	return true
}

// passwordKey reports whether a key name ends with a password-like word:
// password, passwd, passphrase or pwd, or a whole word secret or pass (
// "DB_PASS", "creds.Secret", but not "bypass"). Keys of labels, hints and
// forms ("password_label", "forgot_password") do not count.
func passwordKey(key string) bool {
	key = strings.TrimLeft(key, "-$")
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		key = key[i+1:]
	}
	for _, w := range [...]string{"forgot", "reset", "label", "hint", "prompt", "field", "input", "policy", "regex", "pattern", "format", "length", "invalid", "error", "errcode"} {
		if containsFold(key, w) {
			return false
		}
	}
	for _, w := range [...]string{"password", "passwd", "passphrase"} {
		if hasSuffixFold(key, w) {
			return true
		}
	}
	for _, w := range [...]string{"pwd", "pass", "secret"} {
		if !hasSuffixFold(key, w) {
			continue
		}
		i := len(key) - len(w)
		if i == 0 || key[i-1] == '_' || key[i-1] == '-' || class[key[i-1]]&cLower != 0 && class[key[i]]&cUpper != 0 {
			return true
		}
	}
	return false
}

// lowValues are whole values that name a type, a state or nothing rather
// than a password.
var lowValues = [...]string{
	"true", "false", "yes", "no", "on", "off", "null", "nil", "none", "string", "str", "text", "int", "bool",
	"boolean", "number", "any", "object", "required", "optional", "hidden", "masked", "empty", "default",
	"value", "pass", "pwd", "passwd", "admin", "secret",
}

// lowValue reports whether a value assigned to a password-like key is a
// hand-picked password even though its entropy is low ("team10",
// "open-sesame", "hunter2"): 4 to 64 bytes with at least three letters or
// digits, not a reference ($VAR, %s, {{…}}), path or URL, not a run
// ("aaaaa", "12345"), not a placeholder or a type name.
func lowValue(v string) bool {
	if len(v) < 4 || len(v) > 64 || strings.IndexByte("$%{<*#\\!|>/.:&,;=^~", v[0]) >= 0 || v[len(v)-1] == ':' || strings.Contains(v, "://") {
		return false
	}
	alnum, cls := 0, uint8(0)
	for i := 0; i < len(v); i++ {
		c := class[v[i]]
		if c&cAlnum != 0 {
			alnum++
		}
		if v[i] != '_' {
			cls |= c
		}
	}
	if alnum < 3 || hasRuns(v) || strings.Trim(v, v[:1]) == "" {
		return false
	}
	if cls&^(cDigit|cDot|cURL) == 0 || cls == cUpper {
		return false // a version, an OID or an address (1.3.6.1); a constant (TRUNCATE)
	}
	for _, p := range placeholders {
		if p != "secret" && containsFold(v, p) {
			return false // "secret" only as the whole value: "Secret123" is a password
		}
	}
	for _, w := range [...]string{"test", "example", "demo", "enter", "replace", "insert"} {
		if containsFold(v, w) {
			return false
		}
	}
	for _, w := range lowValues {
		if eqFold(v, w) {
			return false
		}
	}
	return true
}

// echoesKey reports whether value v repeats the key name or its end,
// counting letters and digits only and folding case: a map from one name
// of a field to another ("PGSSLPASSWORD": "sslpassword", encodeUserPassword:
// "encodeUserPassword").
func echoesKey(key, v string) bool {
	i, j, n := len(key)-1, len(v)-1, 0
	for j >= 0 {
		c := v[j] | 0x20
		if class[v[j]]&cAlnum == 0 {
			j--
			continue
		}
		for i >= 0 && class[key[i]]&cAlnum == 0 {
			i--
		}
		if i < 0 || key[i]|0x20 != c {
			return false
		}
		i, j, n = i-1, j-1, n+1
	}
	return n > 0
}

// prose handles a quote at p after " is ": "The password is 'Secret123'".
// A quoted hand-picked password after a password-like word is a finding.
func (s *scanner) prose(p int) {
	t := s.text
	key, _ := s.keyLetters(p - 3)
	if !s.on[rGeneric] || !passwordKey(key) {
		return
	}
	vs, ve, st := s.value(p)
	if st == more {
		s.wait(vs)
		return
	}
	if st != yes || !s.eof {
		return
	}
	v := t[vs:ve]
	if plausibleValue(v, 2.5) || lowValue(v) {
		s.add(rGeneric, vs, ve, 0.6, "PASSWORD")
	}
}

// awsValue reports an AWS secret key assigned to an AWS-looking key name.
func (s *scanner) awsValue(vs, ve int) bool {
	v := s.text[vs:ve]
	for i := 0; i < len(v); i++ {
		if class[v[i]]&cBase64 == 0 {
			return false
		}
	}
	// The key name vouches for the format: a 40-byte value needs only to
	// look random, not to have the full entropy of a generated key. It
	// has both cases (a random 40-byte base64 string without one has odds
	// of about 1e-9); a lower-case hex digest (a SHA-1) is not a key.
	if strings.Contains(v, "EXAMPLE") || containsFold(v, "fake") || !looksRandom(v, 3.0) || !hasAll(v, cUpper|cLower) {
		return false
	}
	s.add(rAWSSecret, vs, ve, 0.95, "")
	return true
}

// keyLetters returns the key name that ends just before the operator at
// p, skipping spaces and one closing quote (at most 64 bytes of it), and
// the letters of the key (see letters), read in the same pass.
func (s *scanner) keyLetters(p int) (string, uint32) {
	t := s.text
	i := p
	for n := 0; n < 4 && i > 0 && (t[i-1] == ' ' || t[i-1] == '\t'); n++ {
		i--
	}
	if i > 0 && (t[i-1] == '"' || t[i-1] == '\'' || t[i-1] == '`') {
		i--
		if i > 0 && t[i-1] == '\\' {
			i-- // \"key\": code or JSON inside a string literal
		}
	}
	var m uint32
	j := i
	for j > 0 && i-j < 64 {
		v := keyByte[t[j-1]]
		if v == 0 {
			break
		}
		m |= v
		j--
	}
	return t[j:i], m &^ isKeyByte
}

// keyByte is, for every byte that may be part of a key name (word bytes and
// '.'), isKeyByte and the byte's bit in letters' sets (none for digits and
// punctuation); 0 for other bytes.
var keyByte = func() (kb [256]uint32) {
	for c := 0; c < 256; c++ {
		if class[c]&(cWord|cDot) != 0 {
			kb[c] = isKeyByte | letters(string(rune(c)))
		}
	}
	return kb
}()

const isKeyByte = 1 << 31

// value reads the value after an operator ending at i: optional spaces, an
// optional quote, and a run of printable non-space bytes that ends at the
// closing quote (when quoted) or at a space, ',', ';', '&' or the end of
// the text (when not). Values followed by '(' '[' '{' '<' '.' are code, not
// literals.
func (s *scanner) value(i int) (int, int, status) {
	t := s.text
	for n := 0; n < 8 && i < len(t) && (t[i] == ' ' || t[i] == '\t'); n++ {
		i++
	}
	if i == len(t) {
		return i, i, no // a value would start at or after the end: nothing to hold
	}
	var q byte
	esc := false // \"value\": code or JSON inside a string literal
	if c := t[i]; c == '"' || c == '\'' || c == '`' {
		q = c
		i++
	} else if c == '\\' && i+1 < len(t) && (t[i+1] == '"' || t[i+1] == '\'') {
		q, esc = t[i+1], true
		i += 2
	}
	j := i
	lim := min(len(t), i+maxValue+1)
	for j < lim {
		c := t[j]
		if c <= ' ' || c >= 0x7f || c == q || esc && c == '\\' {
			break
		}
		if q == 0 && strings.IndexByte("\"'`,;&()[]{}<>", c) >= 0 {
			break
		}
		j++
	}
	if j-i > maxValue {
		return i, j, no
	}
	if j == len(t) {
		if !s.eof {
			return i, j, more
		}
		if q != 0 {
			return i, j, no
		}
		return i, j, yes
	}
	if esc {
		if j+1 >= len(t) && !s.eof {
			return i, j, more
		}
		if t[j] != '\\' || j+1 >= len(t) || t[j+1] != q {
			return i, j, no
		}
		return i, j, yes
	}
	if q != 0 {
		if t[j] != q {
			return i, j, no
		}
		return i, j, yes
	}
	if strings.IndexByte("([{<", t[j]) >= 0 {
		return i, j, no
	}
	return i, j, yes
}

// plausibleValue reports whether an assigned value looks like a real secret:
// 8 to 256 bytes, at least minBits of entropy per byte, mixed classes, no
// runs ("aaaaa", "12345"), not a placeholder or a reference to one.
func plausibleValue(v string, minBits float64) bool {
	if len(v) < 8 || len(v) > maxValue {
		return false
	}
	if strings.IndexByte("$%@#*!", v[0]) >= 0 && !hasAll(v, cDigit) {
		return false // a variable or template reference
	}
	if strings.IndexByte(",;:/.", v[0]) >= 0 || v[len(v)-1] == ':' {
		return false // a path or a piece of code
	}
	var cls uint8
	other := false
	for i := 0; i < len(v); i++ {
		c := class[v[i]]
		if c&cAlnum == 0 {
			other = true
		}
		cls |= c & cAlnum
	}
	n := 0
	for _, c := range [...]uint8{cDigit, cUpper, cLower} {
		if cls&c != 0 {
			n++
		}
	}
	if other {
		n++
	}
	if n < 2 || cls == cDigit || entropy(v) < minBits || hasRuns(v) {
		return false
	}
	for _, p := range placeholders {
		if containsFold(v, p) {
			return false
		}
	}
	switch strings.ToLower(v) {
	case "true", "false":
		return false
	}
	return true
}

// azure matches the base64 key after AccountKey= or SharedAccessKey=.
func (s *scanner) azure(i int) {
	t := s.text
	j := i
	lim := min(len(t), i+129)
	for j < lim && class[t[j]]&cBase64 != 0 {
		j++
	}
	for n := 0; n < 2 && j < len(t) && t[j] == '='; n++ {
		j++
	}
	if j == len(t) && !s.eof {
		s.wait(i)
		return
	}
	if j-i > 130 || j-i < 32 || j < len(t) && class[t[j]]&(cAny64|cDot) != 0 {
		return
	}
	if !looksRandom(strings.TrimRight(t[i:j], "="), 4.0) {
		return
	}
	s.add(rAzure, i, j, 0.95, "")
}

// urlPassword matches the password in scheme://user:password@host, with i
// just after "//".
func (s *scanner) urlPassword(i int) {
	t := s.text
	stop := func(c byte) bool {
		return c <= ' ' || c >= 0x7f || strings.IndexByte("/?#@:\"'<>`", c) >= 0
	}
	j := i
	for j < len(t) && j-i <= maxValue && !stop(t[j]) {
		j++
	}
	if j == len(t) && !s.eof {
		s.wait(i)
		return
	}
	if j-i > maxValue || j >= len(t) || t[j] != ':' {
		return
	}
	ps := j + 1
	k := ps
	for k < len(t) && k-ps <= maxValue && !stop(t[k]) {
		k++
	}
	if k == len(t) && !s.eof {
		s.wait(ps)
		return
	}
	if k == ps || k-ps > maxValue || k >= len(t) || t[k] != '@' {
		return
	}
	// The user name may be empty: redis://:password@host.
	if pw := t[ps:k]; urlPlaceholder(pw) {
		return
	}
	s.add(rURLPassword, ps, k, 0.8, "")
}

// urlPlaceholder reports a URL password that stands for one: shorter than
// three bytes, a variable or template ($VAR, ${…}, <…>, {{…}}, %s), masked
// (****, one byte repeated), or a word that names the field (password,
// pass, pwd, changeme, your…, xxx). A password in a URL is otherwise a
// finding whatever its entropy: "user:secret@localhost" connects.
func urlPlaceholder(pw string) bool {
	if len(pw) < 3 || strings.IndexByte("$<{%*[", pw[0]) >= 0 || strings.Trim(pw, pw[:1]) == "" {
		return true
	}
	for _, w := range [...]string{"pass", "passwd", "pwd", "pw", "changeme", "change_me", "redacted", "masked", "hidden"} {
		if eqFold(pw, w) {
			return true
		}
	}
	for _, w := range [...]string{"password", "xxx", "your", "placeholder", "****", "..."} {
		if containsFold(pw, w) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring ASCII case.
func containsFold(s, w string) bool {
	if len(w) == 0 {
		return true
	}
	for i := 0; i+len(w) <= len(s); i++ {
		if lower(s[i]) != w[0] {
			continue
		}
		k := 1
		for k < len(w) && lower(s[i+k]) == w[k] {
			k++
		}
		if k == len(w) {
			return true
		}
	}
	return false
}

func eqFold(a, b string) bool { return len(a) == len(b) && strings.EqualFold(a, b) }

func hasSuffixFold(s, suf string) bool {
	return len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf)
}

// memberAccess reports whether an unquoted value reads as code: two or
// more identifiers joined by dots ("req.body.pwd", "settings.DB_PASS").
func memberAccess(v string) bool {
	dots, start := 0, true
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			dots++
			start = true
		case start:
			if class[c]&(cUpper|cLower) == 0 && c != '_' {
				return false
			}
			start = false
		case class[c]&cAlnum == 0 && c != '_':
			return false
		}
	}
	return dots > 0 && !start
}

// secretRef reports a reference to a secret kept elsewhere, as Rampart's
// configuration and secret managers write them: env:NAME, file:/path,
// vault:…, aws-sm:…, gcp-sm:…, azure-kv:…, op://…
func secretRef(v string) bool {
	for _, p := range [...]string{"env:", "file:", "vault:", "aws-sm:", "gcp-sm:", "azure-kv:", "op:", "secretref:", "ref:"} {
		if hasPrefixFold(v, p) {
			return true
		}
	}
	return false
}

// wordsOnly reports a value of letters and underscores only: an
// identifier or a name ("STANDARD_RIGHTS_READ", "PrivKeyVal"), which a
// generated key or token of 8 bytes or more rarely is.
func wordsOnly(v string) bool {
	for i := 0; i < len(v); i++ {
		if class[v[i]]&(cUpper|cLower) == 0 && v[i] != '_' {
			return false
		}
	}
	return true
}
