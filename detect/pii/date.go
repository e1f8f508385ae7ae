package pii

// numericDate reports whether s begins with a calendar date written with
// numbers joined by one separator ('-', '/' or '.'): year-month-day,
// day.month.year or month/day/year, with a four-digit year in 1800–2099.
func numericDate(s string) bool {
	var f [3]int
	var w [3]int
	var sep byte
	i := 0
	for k := range 3 {
		j := i
		for j < len(s) && isDigit(s[j]) && j-i < 4 {
			j++
		}
		if j == i || j < len(s) && isDigit(s[j]) {
			return false
		}
		f[k], w[k] = atoi(s[i:j]), j-i
		i = j
		if k == 2 {
			break
		}
		if i == len(s) {
			return false
		}
		c := s[i]
		if c != '-' && c != '/' && c != '.' || sep != 0 && c != sep {
			return false
		}
		sep = c
		i++
	}
	switch {
	case w[0] == 4 && w[1] <= 2 && w[2] <= 2:
		return validDate(f[0], f[1], f[2])
	case w[0] <= 2 && w[1] <= 2 && w[2] == 4:
		return validDate(f[2], f[1], f[0]) || validDate(f[2], f[0], f[1])
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// validDate reports whether y-m-d is a day of the Gregorian calendar with
// y in 1800–2099.
func validDate(y, m, d int) bool {
	if y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
