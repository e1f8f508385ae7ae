package main

import "testing"

func TestPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true},
		{`api_key = "YOUR_API_KEY_HERE"`, true},
		{"aws_secret_access_key:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
		{"key = 'A3T0ABCDEFGHIJKLMNOP'", true},
		{"token: k3J9aQ2mZ7xP4vR8", false},
		{"// Replace with your actual API key", false}, // "your" only in a short token
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEAAAAAAAAAAAAAAAAk3J9aQ2mZ7xP4vR8\n", false},
	} {
		if got := placeholder(tc.text); got != tc.want {
			t.Errorf("placeholder(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestHalfIsSeeded(t *testing.T) {
	n1, n2, same := 0, 0, 0
	for i := 0; i < 1000; i++ {
		text := string(rune('a'+i%26)) + string(rune('A'+i/26%26)) + string(rune('0'+i/676))
		a, b := half(1, text), half(2, text)
		if a {
			n1++
		}
		if b {
			n2++
		}
		if a == b {
			same++
		}
		if half(1, text) != a {
			t.Fatal("not deterministic")
		}
	}
	if n1 < 400 || n1 > 600 || n2 < 400 || n2 > 600 || same > 600 {
		t.Fatalf("halves %d and %d, %d the same across seeds", n1, n2, same)
	}
}
