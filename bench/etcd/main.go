// etcd-bench: the other side of the comparison. It drives an etcd v3 cluster
// with the same workloads and the same JSON line as corral-bench, through
// etcd's own Go client, so the two run side by side on one machine
// (bench/etcd/cluster.sh, bench/round.sh).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var lastOK, maxGap atomic.Int64

type result struct {
	Workload  string  `json:"workload"`
	Ops       int64   `json:"ops"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	MaxGapMs  float64 `json:"max_gap_ms"`
	Extra     string  `json:"extra,omitempty"`
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return float64(d[i].Microseconds()) / 1000.0
}

func finish(name string, lat []time.Duration, errs int64, secs float64, extra string) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{Workload: name, Ops: int64(len(lat)), Errors: errs, Seconds: secs,
		OpsPerSec: float64(len(lat)) / secs, P50ms: pct(lat, 0.5), P99ms: pct(lat, 0.99), P999ms: pct(lat, 0.999), MaxGapMs: float64(maxGap.Load()) / 1e6, Extra: extra}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func clients(eps []string, n int) []*clientv3.Client {
	cs := make([]*clientv3.Client, n)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "connect:", err)
			os.Exit(1)
		}
		cs[i] = c
	}
	return cs
}

// run spreads `workers` goroutines over `conns` connections for `dur`.
func run(cs []*clientv3.Client, workers int, dur time.Duration, op func(c *clientv3.Client, r *rand.Rand) error) ([]time.Duration, int64, float64) {
	var mu sync.Mutex
	var all []time.Duration
	var errs int64
	deadline := time.Now().Add(dur)
	start := time.Now()
	lastOK.Store(start.UnixNano())
	stop := make(chan struct{})
	go func() { // availability: the longest stretch with no successful operation
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				if g := now.UnixNano() - lastOK.Load(); g > maxGap.Load() {
					maxGap.Store(g)
				}
			}
		}
	}()
	defer close(stop)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w) + 1))
			c := cs[w%len(cs)]
			var local []time.Duration
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := op(c, r); err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				local = append(local, time.Since(t))
				lastOK.Store(time.Now().UnixNano())
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return all, errs, time.Since(start).Seconds()
}

func main() {
	eps := flag.String("endpoints", "127.0.0.1:2379", "comma-separated endpoints")
	workload := flag.String("workload", "put", "put | get | watch | lease")
	conns := flag.Int("conns", 100, "gRPC connections")
	workers := flag.Int("clients", 1000, "concurrent clients (goroutines with one request in flight each)")
	ksize := flag.Int("key-size", 256, "key size in bytes (put)")
	keySpace := flag.Int64("key-space", 0, "put: draw keys from this many (0: every key new)")
	vsize := flag.Int("val-size", 1024, "value size in bytes (put)")
	dur := flag.Duration("duration", 10*time.Second, "how long to run (put, get); lease: how long to keep every lease alive after the last grant")
	serial := flag.Bool("serializable", false, "get: serializable instead of linearizable reads")
	watchers := flag.Int("watchers", 10000, "watch: number of watchers on one prefix")
	events := flag.Int("events", 100, "watch: puts whose delivery to every watcher is timed")
	leases := flag.Int("leases", 10000, "lease: leases to grant and keep alive")
	ttl := flag.Int64("ttl", 10, "lease: TTL in seconds")
	flag.Parse()
	if *keySpace < 0 {
		fmt.Fprintln(os.Stderr, "etcd-bench: -key-space must be 0 (every key new) or positive")
		os.Exit(2)
	}
	endpoints := strings.Split(*eps, ",")
	ctx := context.Background()

	switch *workload {
	case "put":
		cs := clients(endpoints, *conns)
		val := strings.Repeat("v", *vsize)
		lat, errs, secs := run(cs, *workers, *dur, func(c *clientv3.Client, r *rand.Rand) error {
			k := make([]byte, *ksize)
			n := r.Int63()
			if *keySpace > 0 {
				n %= *keySpace
			}
			binary.PutVarint(k, n)
			_, err := c.Put(ctx, "/bench/"+string(k), val)
			return err
		})
		finish(fmt.Sprintf("put clients=%d conns=%d key=%d val=%d", *workers, *conns, *ksize, *vsize), lat, errs, secs, "")
	case "get":
		cs := clients(endpoints, *conns)
		if _, err := cs[0].Put(ctx, "/bench/read", strings.Repeat("v", *vsize)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var opts []clientv3.OpOption
		if *serial {
			opts = append(opts, clientv3.WithSerializable())
		}
		lat, errs, secs := run(cs, *workers, *dur, func(c *clientv3.Client, r *rand.Rand) error {
			_, err := c.Get(ctx, "/bench/read", opts...)
			return err
		})
		finish(fmt.Sprintf("get clients=%d conns=%d serializable=%v", *workers, *conns, *serial), lat, errs, secs, "")
	case "watch":
		// Each watcher runs on one of `conns` clients; a put's latency is the
		// time until the last watcher has seen it.
		cs := clients(endpoints, *conns)
		var seen sync.WaitGroup
		var got int64
		recv := make([]chan struct{}, *events)
		for i := range recv {
			recv[i] = make(chan struct{}, *watchers)
		}
		wctx, cancel := context.WithCancel(ctx)
		for w := 0; w < *watchers; w++ {
			wc := cs[w%len(cs)].Watch(wctx, "/watch/", clientv3.WithPrefix())
			go func() {
				for resp := range wc {
					for _, ev := range resp.Events {
						var i int
						fmt.Sscanf(string(ev.Kv.Value), "%d", &i)
						atomic.AddInt64(&got, 1)
						recv[i] <- struct{}{}
					}
				}
			}()
		}
		time.Sleep(2 * time.Second) // let every watch register
		var lat []time.Duration
		start := time.Now()
		for i := 0; i < *events; i++ {
			t := time.Now()
			seen.Add(1)
			if _, err := cs[0].Put(ctx, fmt.Sprintf("/watch/%d", i), fmt.Sprintf("%d", i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			for n := 0; n < *watchers; n++ {
				<-recv[i]
			}
			lat = append(lat, time.Since(t))
		}
		secs := time.Since(start).Seconds()
		cancel()
		finish(fmt.Sprintf("watch watchers=%d conns=%d events=%d (latency = put until every watcher saw it)", *watchers, *conns, *events), lat, 0, secs,
			fmt.Sprintf("deliveries=%d deliveries_per_sec=%.0f", got, float64(got)/secs))
	case "lease":
		// Grant `leases` leases with one key each, then keep them all alive
		// for `duration` after the last grant, and count the keys still there.
		cs := clients(endpoints, *conns)
		var lat []time.Duration
		var mu sync.Mutex
		var lost int64
		var wg sync.WaitGroup
		start := time.Now()
		per := (*leases + len(cs) - 1) / len(cs)
		kctx, cancel := context.WithCancel(ctx)
		for ci, c := range cs {
			wg.Add(1)
			go func(ci int, c *clientv3.Client) {
				defer wg.Done()
				for j := 0; j < per && ci*per+j < *leases; j++ {
					t := time.Now()
					g, err := c.Grant(ctx, *ttl)
					if err != nil {
						atomic.AddInt64(&lost, 1)
						continue
					}
					if _, err := c.Put(ctx, fmt.Sprintf("/agents/%d-%d", ci, j), "up", clientv3.WithLease(g.ID)); err != nil {
						atomic.AddInt64(&lost, 1)
						continue
					}
					ka, err := c.KeepAlive(kctx, g.ID)
					if err != nil {
						atomic.AddInt64(&lost, 1)
						continue
					}
					go func() {
						for range ka {
						}
					}()
					mu.Lock()
					lat = append(lat, time.Since(t))
					mu.Unlock()
				}
			}(ci, c)
		}
		wg.Wait()
		granted := time.Since(start).Seconds()
		time.Sleep(*dur)
		r, err := cs[0].Get(ctx, "/agents/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		alive := int64(-1)
		if err == nil {
			alive = r.Count
		}
		finish(fmt.Sprintf("lease leases=%d ttl=%ds conns=%d (latency = grant+put+keepalive start)", *leases, *ttl, *conns), lat, lost, granted,
			fmt.Sprintf("keys_alive_after=%d", alive))
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", *workload)
		os.Exit(2)
	}
}
