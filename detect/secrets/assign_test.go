package secrets

import "testing"

func TestPasswordKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"password", true},
		{"AdminPassword", true},
		{"PGPASSWORD", true},
		{"$db_password", true},
		{"--password", true},
		{"DB_PASS", true},
		{"creds.Secret", true},
		{"client_secret", true},
		{"Pwd", true},
		{"passphrase", true},
		{"bypass", false},
		{"compass", false},
		{"passwordLabel", false},
		{"forgot_password", false},
		{"password_reset", false},
		{"ERRCODE_INVALID_PASSWORD", false},
		{"api_key", false},
		{"token", false},
		{"secrets", false},
	} {
		if got := passwordKey(tc.key); got != tc.want {
			t.Errorf("passwordKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestLowValue(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"team10", true},
		{"open-sesame", true},
		{"goodspec", true},
		{"Secret123", true},
		{"hunter2", true},
		{"abc", false},           // too short
		{"12345", false},         // a run
		{"aaaaaa", false},        // one byte
		{"password", false},      // names the field
		{"PASSWORD!", false},     // names the field
		{"mypassword1", false},   // names the field
		{"secret", false},        // the whole value names the field
		{"${DB_PASS}", false},    // a reference
		{"%s", false},            // a format verb
		{"<password>", false},    // a placeholder
		{"string", false},        // a type
		{"required", false},      // a state
		{"1.3.6.1.4.1", false},   // an OID
		{"^1.0.0", false},        // a version range
		{"TRUNCATE", false},      // a constant
		{"test1234", false},      // a test value
		{"Password:", false},     // a label
		{",remember:", false},    // a piece of code
		{"https://a.b/c", false}, // a URL
	} {
		if got := lowValue(tc.v); got != tc.want {
			t.Errorf("lowValue(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestURLPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"secret", false},
		{"hunter2", false},
		{"3eCa3P", false},
		{"password", true},
		{"mypassword", true},
		{"pass", true},
		{"pw", true},
		{"****", true},
		{"${DB_PASSWORD}", true},
		{"<password>", true},
		{"xxxxxx", true},
		{"your-password", true},
	} {
		if got := urlPlaceholder(tc.pw); got != tc.want {
			t.Errorf("urlPlaceholder(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestCodeShapes(t *testing.T) {
	for _, tc := range []struct {
		v                        string
		member, words, reference bool
	}{
		{"req.body.pwd", true, false, false},
		{"settings.DB_PASS", true, false, false},
		{"a1.b2", true, false, false},
		{"1.2.3", false, false, false},
		{"hunter2", false, false, false},
		{"STANDARD_RIGHTS_READ", false, true, false},
		{"clientCredential", false, true, false},
		{"env:OPENAI_API_KEY", false, false, true},
		{"file:/run/secrets/key", false, false, true},
		{"J0lKWRDrbFadbQfORwB58AO38ZrXr7NJ", false, false, false},
	} {
		if got := memberAccess(tc.v); got != tc.member {
			t.Errorf("memberAccess(%q) = %v, want %v", tc.v, got, tc.member)
		}
		if got := wordsOnly(tc.v); got != tc.words {
			t.Errorf("wordsOnly(%q) = %v, want %v", tc.v, got, tc.words)
		}
		if got := secretRef(tc.v); got != tc.reference {
			t.Errorf("secretRef(%q) = %v, want %v", tc.v, got, tc.reference)
		}
	}
}

// TestMayName checks the letter prefilter of assign against the words it
// stands for: every key that keywordIn or the Azure test accepts passes it.
func TestMayName(t *testing.T) {
	for _, key := range []string{
		"password", "DB_PASSWD", "pwd", "DB_PASS", "smtpPass", "private-key", "access-key", "passphrase", "privateKey", "private_key", "client_secret", "token",
		"api_key", "ApiKey", "api-key", "accessKey", "access_key", "appkey", "app_key", "app-key",
		"application_key", "applicationkey", "Authorization", "credentials", "AccountKey", "SharedAccessKey",
	} {
		if keywordIn(key) == "" && !eqFold(key, "AccountKey") && !hasSuffixFold(key, "SharedAccessKey") {
			t.Fatalf("%q: not a key name assign reads", key)
		}
		if !mayName(letters(key)) {
			t.Errorf("mayName(%q) = false", key)
		}
	}
	s := scanner{text: `x "DB_Password" : 1`}
	if key, m := s.keyLetters(14); key != "DB_Password" || m != letters("dbpassword") {
		t.Errorf("keyLetters = %q, %x", key, m)
	}
	for _, key := range []string{"name", "port", "level", "status", "timeout"} {
		if mayName(letters(key)) {
			t.Errorf("mayName(%q) = true", key)
		}
	}
}

func TestEchoesKey(t *testing.T) {
	for _, tc := range []struct {
		key, v string
		want   bool
	}{
		{"PGSSLPASSWORD", "sslpassword", true},
		{"encodeUserPassword", "encodeUserPassword", true},
		{"user_password", "password", true},
		{"AdminPassword", "thisismypassword", false},
		{"Password", "myPassword", false},
		{"password", "", false},
		{"token", "-", false},
	} {
		if got := echoesKey(tc.key, tc.v); got != tc.want {
			t.Errorf("echoesKey(%q, %q) = %v, want %v", tc.key, tc.v, got, tc.want)
		}
	}
}

func TestWordAt(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want string // the label keywordIn gives
	}{
		{"DB_PASS", "PASSWORD"},
		{"smtpPass", "PASSWORD"},
		{"pass", ""}, // "--- PASS:", "in the same pass:"
		{"mysql.pass", "PASSWORD"},
		{"bypass", ""},
		{"passenger", ""},
		{"compass_heading", ""},
		{"passThrough", ""},
		{"PASSTHROUGH", ""},
	} {
		if got := keywordIn(tc.key); got != tc.want {
			t.Errorf("keywordIn(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
