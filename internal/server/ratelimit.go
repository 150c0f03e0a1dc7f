package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter throttles attempts per client address: sign-in, codes and
// reset requests. The per-account lockout lives in the database; this
// slows down one address trying many accounts.
type ipLimiter struct {
	mu      sync.Mutex
	perIP   map[string]*limiterEntry
	every   rate.Limit
	burst   int
	lastGC  time.Time
	idleTTL time.Duration
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perMinute, burst int) *ipLimiter {
	return &ipLimiter{perIP: map[string]*limiterEntry{}, every: rate.Limit(float64(perMinute) / 60), burst: burst, idleTTL: 10 * time.Minute}
}

func (l *ipLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > time.Minute {
		for k, e := range l.perIP {
			if now.Sub(e.seen) > l.idleTTL {
				delete(l.perIP, k)
			}
		}
		l.lastGC = now
	}
	e, ok := l.perIP[ip]
	if !ok {
		e = &limiterEntry{lim: rate.NewLimiter(l.every, l.burst)}
		l.perIP[ip] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// throttle answers 429 when the client address is over its rate.
func (l *ipLimiter) throttle(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if !l.allow(ip, time.Now()) {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "Too many attempts from your network. Wait a minute, then try again.", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}
