package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/canopy-channel/canopy/internal/web"
)

// BenchmarkAuthenticatedRequest (W3 without the network): GET /api/v1/me
// through every middleware, the session check and the API adapter.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	s := storetest.Open(b, store.SQLite)
	w := newWorld(b, s)
	c := w.client(b, w.staffA.ID, w.mspA.ID)
	req, _ := http.NewRequest("GET", w.srv.URL+"/", nil)
	var cookie string
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == web.SessionCookie {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	h := w.srv.Config.Handler
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/api/v1/me", nil)
			r.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "maya") {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
