package logs

// ParseTime parses a record time: RFC 3339 in UTC, "YYYY-MM-DDTHH:MM:SS"
// with an optional fraction of 1 to 9 digits and a final "Z". It returns
// Unix milliseconds, the fraction truncated to milliseconds.
func ParseTime(b []byte) (int64, bool) {
	n := len(b)
	if n < 20 || b[n-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	ms := 0
	switch {
	case n == 20:
	case b[19] == '.' && n >= 22 && n <= 30:
		frac := b[20 : n-1]
		for i, c := range frac {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i < 3 {
				ms = ms*10 + int(c-'0')
			}
		}
		for i := len(frac); i < 3; i++ {
			ms *= 10
		}
	default:
		return 0, false
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return secs*1000 + int64(ms), true
}

// daysSinceEpoch returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (year 0..9999), counting in 400-year eras that
// start on March 1st so that the leap day ends a year.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // year of era, 0..399
	mp := int64((month + 9) % 12)          // month from March, 0..11
	doy := (153*mp+2)/5 + int64(day) - 1   // day of the year from March 1st
	doe := yoe*365 + yoe/4 - yoe/100 + doy // day of era
	return era*146097 + doe - 719468       // 719468: days from 0000-03-01 to 1970-01-01
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
