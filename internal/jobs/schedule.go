package jobs

import (
	"fmt"
	"time"
)

// Schedule cuts time into periods; a scheduled task runs once per period.
// Start returns the start of the period containing t.
type Schedule interface {
	Start(t time.Time) time.Time
	String() string
}

// Every runs once per interval d, aligned to the Unix epoch (so every
// replica computes the same periods).
func Every(d time.Duration) Schedule { return every{d} }

type every struct{ d time.Duration }

func (e every) Start(t time.Time) time.Time { return t.Truncate(e.d) }
func (e every) String() string              { return "every " + e.d.String() }

// Daily runs once a day at hour:minute in loc.
func Daily(hour, minute int, loc *time.Location) Schedule {
	return daily{hour: hour, minute: minute, loc: loc}
}

type daily struct {
	hour, minute int
	loc          *time.Location
}

func (d daily) Start(t time.Time) time.Time {
	lt := t.In(d.loc)
	s := time.Date(lt.Year(), lt.Month(), lt.Day(), d.hour, d.minute, 0, 0, d.loc)
	if s.After(lt) {
		s = s.AddDate(0, 0, -1)
	}
	return s
}
func (d daily) String() string { return fmt.Sprintf("daily at %02d:%02d %s", d.hour, d.minute, d.loc) }

// Weekly runs once a week on day at hour:minute in loc.
func Weekly(day time.Weekday, hour, minute int, loc *time.Location) Schedule {
	return weekly{day: day, daily: daily{hour: hour, minute: minute, loc: loc}}
}

type weekly struct {
	day time.Weekday
	daily
}

func (w weekly) Start(t time.Time) time.Time {
	s := w.daily.Start(t)
	for s.Weekday() != w.day {
		s = s.AddDate(0, 0, -1)
	}
	return s
}
func (w weekly) String() string {
	return fmt.Sprintf("weekly on %s at %02d:%02d %s", w.day, w.hour, w.minute, w.loc)
}
