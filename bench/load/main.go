// Command load measures an authenticated request against a running
// `canopy serve` (W3 of PERFORMANCE.md): it signs a staff person of the
// dataset in through a one-time link minted in the database, then sends
// GET requests from -c workers for -d, and prints requests/s and
// latency percentiles. Beside it, in the same run, the same load against
// a hello-world handler served by this process (the ceiling). Loopback
// only; the run stops by itself.
//
//	go run ./bench/load -db /tmp/canopy-L.db -base http://127.0.0.1:8080 -path /prospects
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

func main() {
	db := flag.String("db", "", "the database the server runs on (to mint a sign-in link)")
	base := flag.String("base", "http://127.0.0.1:8080", "the server (loopback)")
	path := flag.String("path", "/prospects", "authenticated page to request")
	workers := flag.Int("c", 16, "concurrent workers")
	dur := flag.Duration("d", 10*time.Second, "duration of each run (at most 60s)")
	flag.Parse()
	if *dur > time.Minute {
		*dur = time.Minute
	}
	u, err := url.Parse(*base)
	if err != nil || !isLoopback(u.Hostname()) {
		fail(fmt.Errorf("-base must be a loopback URL"))
	}
	cookie, err := signIn(*db, *base)
	if err != nil {
		fail(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	report("canopy "+*path, run(client, *base+*path, cookie, *workers, *dur))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello\n")) }))
	report("ceiling: hello handler", run(client, "http://"+ln.Addr().String()+"/", "", *workers, *dur))
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// signIn mints a one-time link for the first staff person of the first
// distributor (or MSP) and redeems it like a browser, returning the cookie.
func signIn(dbURL, base string) (string, error) {
	ctx := context.Background()
	s, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return "", err
	}
	defer s.Close()
	root, err := s.Platform(ctx)
	if err != nil {
		return "", err
	}
	all := canopy.ScopeOf(root)
	orgs, err := s.Orgs(ctx, all, []canopy.OrgKind{canopy.KindDistributor, canopy.KindMSP}, 50)
	if err != nil {
		return "", err
	}
	for _, o := range orgs {
		rows, err := s.StaffAt(ctx, all, o.ID, store.StaffQuery{Limit: 1})
		if err != nil || len(rows) == 0 {
			continue
		}
		a := app.New(app.Deps{Store: s})
		token, err := a.IssueSigninLink(ctx, rows[0].ID, o.ID, app.PurposeFirstSignIn, time.Hour)
		if err != nil {
			return "", err
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(base+"/signin/link", url.Values{"token": {token}})
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == "canopy_session" {
				fmt.Printf("signed in as %s at %s\n", rows[0].Email, o.Name)
				return ck.Name + "=" + ck.Value, nil
			}
		}
		return "", fmt.Errorf("sign-in answered %d without a session cookie", resp.StatusCode)
	}
	return "", fmt.Errorf("no staff in the dataset")
}

type result struct {
	n, errors int
	took      time.Duration
	latencies []time.Duration
}

func run(client *http.Client, target, cookie string, workers int, dur time.Duration) result {
	var mu sync.Mutex
	var all result
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, target, nil)
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all.latencies = append(all.latencies, lat...)
			all.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.took = time.Since(start)
	all.n = len(all.latencies)
	return all
}

func report(name string, r result) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[int(p*float64(len(r.latencies)-1))]
	}
	fmt.Printf("%-28s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %d   (%d requests)\n", name,
		float64(r.n)/r.took.Seconds(), ms(pct(0.50)), ms(pct(0.99)), r.errors, r.n)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", strings.TrimSpace(err.Error()))
	os.Exit(1)
}
