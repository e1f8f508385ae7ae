package pii

import (
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Parsing with libphonenumber's metadata costs tens of microseconds, and a
// stream re-examines the same number on every chunk while it is in the
// look-behind window, so verdicts are cached (bounded; cleared when full).
var phoneCache = struct {
	sync.Mutex
	m map[phoneKey]bool
}{m: make(map[phoneKey]bool)}

const phoneCacheSize = 4096

// phoneKey is a cache key that costs no allocation: the region and the
// number as written (the scanner reads at most 33 bytes of one).
type phoneKey struct {
	region [2]byte
	n      uint8
	num    [40]byte
}

// validPhone reports whether num is a valid phone number: for any region
// when it starts with "+" (region ""), else for region.
func validPhone(num, region string) bool {
	if len(num) > 40 {
		return parseValid(num, region)
	}
	var key phoneKey
	copy(key.region[:], region)
	key.n = uint8(len(num))
	copy(key.num[:], num)
	phoneCache.Lock()
	v, ok := phoneCache.m[key]
	phoneCache.Unlock()
	if ok {
		return v
	}
	v = parseValid(num, region)
	phoneCache.Lock()
	if len(phoneCache.m) >= phoneCacheSize {
		clear(phoneCache.m)
	}
	phoneCache.m[key] = v
	phoneCache.Unlock()
	return v
}

func parseValid(num, region string) bool {
	if region == "" {
		n, err := phonenumbers.Parse(num, "ZZ")
		return err == nil && phonenumbers.IsValidNumber(n)
	}
	if (region == "US" || region == "CA") && !nanpShape(num) {
		return false
	}
	n, err := phonenumbers.Parse(num, region)
	return err == nil && phonenumbers.IsValidNumberForRegion(n, region)
}

// nanpShape reports whether a national number has the shape of a North
// American one: ten digits (eleven with a leading 1), an area code and an
// exchange that start with 2–9. It only saves parsing what cannot be valid.
func nanpShape(num string) bool {
	var d [11]byte
	n := 0
	for i := 0; i < len(num); i++ {
		if c := num[i]; c >= '0' && c <= '9' {
			if n == len(d) {
				return false
			}
			d[n] = c
			n++
		}
	}
	ds := d[:n]
	if n == 11 {
		if ds[0] != '1' {
			return false
		}
		ds = ds[1:]
	} else if n != 10 {
		return false
	}
	return ds[0] >= '2' && ds[3] >= '2'
}
