package postgres

import "time"

// parseTime reads the text forms PostgreSQL and the Realtime server give
// timestamps, timestamptz and dates: "2024-01-02", "2024-01-02 03:04:05",
// "2024-01-02T03:04:05.123456", with an optional zone "Z", "+00", "+05:30",
// "-0800" or "+05:30:15". A value without a zone is UTC. It reports false
// for anything else (including infinity and BC dates).
func parseTime(s string) (time.Time, bool) {
	i := 0
	year, i, ok := digits(s, i, 4, 6)
	if !ok || !expect(s, i, '-') {
		return time.Time{}, false
	}
	month, i, ok := digits(s, i+1, 2, 2)
	if !ok || !expect(s, i, '-') {
		return time.Time{}, false
	}
	day, i, ok := digits(s, i+1, 2, 2)
	if !ok || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	var hour, minute, sec, nsec int
	if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
		if hour, i, ok = digits(s, i+1, 2, 2); !ok || !expect(s, i, ':') {
			return time.Time{}, false
		}
		if minute, i, ok = digits(s, i+1, 2, 2); !ok {
			return time.Time{}, false
		}
		if expect(s, i, ':') {
			if sec, i, ok = digits(s, i+1, 2, 2); !ok {
				return time.Time{}, false
			}
			if expect(s, i, '.') {
				i++
				start, scale := i, 100000000
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					nsec += int(s[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == start {
					return time.Time{}, false
				}
			}
		}
		if hour > 23 || minute > 59 || sec > 59 {
			return time.Time{}, false
		}
	}
	loc := time.UTC
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			off, n, ok := zoneOffset(s, i)
			if !ok {
				return time.Time{}, false
			}
			i = n
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		default:
			return time.Time{}, false
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // February 30 and the like
		return time.Time{}, false
	}
	return t, true
}

// zoneOffset reads ±HH[[:]MM[[:]SS]] at s[i] and returns seconds east of UTC.
func zoneOffset(s string, i int) (int, int, bool) {
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	h, i, ok := digits(s, i+1, 2, 2)
	if !ok || h > 15 {
		return 0, 0, false
	}
	off := h * 3600
	for _, unit := range [...]int{60, 1} {
		j := i
		if expect(s, j, ':') {
			j++
		}
		v, n, ok := digits(s, j, 2, 2)
		if !ok {
			if j != i { // a colon with no digits after it
				return 0, 0, false
			}
			break
		}
		if v > 59 {
			return 0, 0, false
		}
		off += v * unit
		i = n
	}
	return sign * off, i, true
}

// digits reads between min and max decimal digits at s[i].
func digits(s string, i, min, max int) (int, int, bool) {
	v, n := 0, 0
	for i < len(s) && n < max && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int(s[i]-'0')
		i++
		n++
	}
	return v, i, n >= min
}

func expect(s string, i int, c byte) bool { return i < len(s) && s[i] == c }
