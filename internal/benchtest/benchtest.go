// Package benchtest times the calls of a benchmark and reports the rate
// with the median and 99th-percentile latency (p50-µs, p99-µs), so every
// benchmark reports its figures the same way. For tests only.
package benchtest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel runs fn(0…b.N-1) on parallelism×GOMAXPROCS goroutines (at
// least 1×) and reports the rate as unit/s with p50 and p99.
func Parallel(b *testing.B, unit string, parallelism int, fn func(i int64) error) {
	var next atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	if parallelism > 1 {
		b.SetParallelism(parallelism)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 4096)
		for pb.Next() {
			start := time.Now()
			if err := fn(next.Add(1) - 1); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(start))
		}
		mu.Lock()
		all = append(all, local...)
		mu.Unlock()
	})
	b.StopTimer()
	Report(b, unit, all)
}

// Serial runs fn(0…b.N-1) on one goroutine and reports like Parallel.
func Serial(b *testing.B, unit string, fn func(i int64) error) {
	all := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := fn(int64(i)); err != nil {
			b.Fatal(err)
		}
		all = append(all, time.Since(start))
	}
	b.StopTimer()
	Report(b, unit, all)
}

// Report reports the rate of b.N calls as unit/s, and the median and 99th
// percentile of the calls' durations.
func Report(b *testing.B, unit string, all []time.Duration) {
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) }
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
