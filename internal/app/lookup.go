package app

import "time"

// Now is the app's clock, for adapters that show durations (a trial's days
// left) the same way the use cases compute them.
func (a *App) Now() time.Time { return a.clock.Now() }
