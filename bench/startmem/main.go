// Command startmem measures W14 of PERFORMANCE.md: how long `canopy serve`
// takes from exec to answering /readyz, and its resident memory when idle,
// on a given database. Beside it, the ceiling measured in the same run: the
// same figures for a hello-world Go HTTP server (this program re-executed
// with -hello).
//
//	go build -o /tmp/canopy ./cmd/canopy
//	go run ./bench/startmem -bin /tmp/canopy -db /path/to/L.db
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "", "canopy binary")
	db := flag.String("db", "", "database URL or SQLite path to serve")
	idle := flag.Duration("idle", 5*time.Second, "how long to stay idle before reading RSS")
	runs := flag.Int("runs", 3, "starts to measure (the median is reported)")
	hello := flag.Bool("hello", false, "run a hello-world server (the ceiling) and print its address")
	flag.Parse()
	if *hello {
		serveHello()
		return
	}
	if *bin == "" || *db == "" {
		fmt.Fprintln(os.Stderr, "usage: startmem -bin CANOPY_BINARY -db DATABASE")
		os.Exit(2)
	}
	self, _ := os.Executable()
	report := func(name string, argv []string, ready string) {
		var starts []time.Duration
		var rss []int
		for i := 0; i < *runs; i++ {
			start, mem, err := measure(argv, ready, *idle)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				os.Exit(1)
			}
			starts, rss = append(starts, start), append(rss, mem)
		}
		fmt.Printf("%-28s start→ready median %7.1f ms   idle RSS median %6.1f MB   (runs: %v, %v kB)\n",
			name, float64(median(starts).Microseconds())/1000, float64(medianInt(rss))/1024, starts, rss)
	}
	report("canopy serve", []string{*bin, "serve", "--addr", "127.0.0.1:0", "--no-demo", "--workers", "1", "--log-level", "warn", "--database-url", *db}, "/readyz")
	report("ceiling: hello server", []string{self, "-hello"}, "/")
}

var servingPattern = regexp.MustCompile(`(?:serving on|listening on) (http://\S+)`)

// measure starts argv, waits until GET ready answers 200, idles, and reads
// the process's resident set from /proc.
func measure(argv []string, ready string, idle time.Duration) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var base string
	for sc.Scan() {
		if m := servingPattern.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		return 0, 0, fmt.Errorf("no serving line")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	var took time.Duration
	for {
		resp, err := client.Get(base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				took = time.Since(began)
				break
			}
		}
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("never ready")
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(idle)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	var kb int
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
		}
	}
	return took, kb, nil
}

func serveHello() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello\n")) }))
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func medianInt(v []int) int {
	s := append([]int(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
