package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Config says what to load and how hard. Zero fields take the defaults
// noted beside them.
type Config struct {
	Target   netip.AddrPort
	Sockets  int           // parallel sockets, one goroutine each (default 4)
	Window   int           // requests in flight per socket (default 32)
	Batch    int           // datagrams per sendmmsg/recvmmsg (default 32)
	Duration time.Duration // how long to send (default 5s)
	// Timeout after which an unanswered request counts as lost and its
	// slot sends a fresh request (default 500ms).
	Timeout time.Duration
	// Rate paces the requests to this many per second over all sockets
	// (open loop: a slow or lost answer does not slow the sending while
	// the window has room); 0 sends as fast as the window allows (closed
	// loop, the default).
	Rate float64
	// CheckMapped counts an answer as Bad unless its XOR-MAPPED-ADDRESS
	// equals the socket's own address (true on loopback, false behind NAT).
	CheckMapped bool
}

func (c *Config) defaults() error {
	if !c.Target.IsValid() || c.Target.Port() == 0 {
		return errors.New("loadgen: the target needs an IP address and a non-zero port, e.g. 127.0.0.1:3478")
	}
	if c.Sockets <= 0 {
		c.Sockets = 4
	}
	if c.Window <= 0 {
		c.Window = 32
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 500 * time.Millisecond
	}
	if c.Rate < 0 {
		return errors.New("loadgen: the rate must be 0 (as fast as the window allows) or a positive number of requests per second")
	}
	return nil
}

// Result is what one run measured. Only answers whose transaction id
// matches a request still in flight count as Answered.
type Result struct {
	Sent     uint64 // requests sent
	Answered uint64 // valid Binding success responses matching an in-flight request
	Lost     uint64 // requests unanswered after Timeout
	Late     uint64 // valid answers to a request already counted lost
	Bad      uint64 // datagrams that are not a valid answer to one of our requests
	Refused  uint64 // ICMP port unreachable reports (nothing listening)
	Elapsed  time.Duration
	P50      time.Duration
	P99      time.Duration
	Max      time.Duration
	// CPU is the generator's own CPU time (user+system) over Elapsed, in
	// cores: near 1.0 per core it was given means the generator, not the
	// server, may be the limit.
	CPU float64
}

// Rate returns answered requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Answered) / r.Elapsed.Seconds()
}

// String is one line of key=value fields, the format the bench scripts parse.
func (r Result) String() string {
	return fmt.Sprintf("rps=%.0f answered=%d sent=%d lost=%d late=%d bad=%d refused=%d elapsed=%s p50=%s p99=%s max=%s gen_cpu=%.2f",
		r.Rate(), r.Answered, r.Sent, r.Lost, r.Late, r.Bad, r.Refused,
		r.Elapsed.Round(time.Millisecond), r.P50, r.P99, r.Max.Round(time.Microsecond), r.CPU)
}

// Run loads cfg.Target for cfg.Duration (or until ctx ends) and returns the
// totals. It fails if no socket can be opened or nothing was answered.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.defaults(); err != nil {
		return Result{}, err
	}
	workers := make([]*worker, cfg.Sockets)
	for i := range workers {
		w, err := newWorker(cfg, uint32(i))
		if err != nil {
			for _, o := range workers[:i] {
				o.sock.close()
			}
			return Result{}, fmt.Errorf("loadgen: %w", err)
		}
		workers[i] = w
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.run(ctx, start)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	var res Result
	hist := newHistogram()
	for _, w := range workers {
		w.sock.close()
		res.Sent += w.sent
		res.Answered += w.answered
		res.Lost += w.lost
		res.Late += w.late
		res.Bad += w.bad
		res.Refused += w.refused
		hist.merge(w.hist)
	}
	res.Elapsed = elapsed
	res.CPU = cpu.Seconds() / elapsed.Seconds()
	res.P50, res.P99, res.Max = hist.quantile(0.50), hist.quantile(0.99), hist.max
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("loadgen: %w", err)
	}
	if res.Answered == 0 {
		if res.Refused > 0 {
			return res, fmt.Errorf("loadgen: %s refused every request (ICMP port unreachable): is the server running?", cfg.Target)
		}
		return res, fmt.Errorf("loadgen: %s answered none of %d requests", cfg.Target, res.Sent)
	}
	return res, nil
}

// slot is one request in flight; its transaction id is
// prefix(4) | slot index(4) | generation(4), so an answer finds its slot
// without a map and a stale answer (older generation) is recognised.
type slot struct {
	gen    uint32
	sentAt time.Duration // since start
	busy   bool
}

type worker struct {
	cfg    Config
	sock   *udpSocket
	prefix uint32
	slots  []slot
	reqs   [][]byte // one 20-byte request buffer per slot
	recv   [][]byte
	sizes  []int
	queue  []int // slots waiting to be (re)sent
	out    [][]byte
	hist   *histogram

	sent, answered, lost, late, bad, refused uint64
}

func newWorker(cfg Config, id uint32) (*worker, error) {
	wait := 10 * time.Millisecond
	if cfg.Rate > 0 {
		wait = time.Millisecond // the pacing's step when nothing arrives
	}
	sock, err := dialUDP(cfg.Target, cfg.Batch, wait)
	if err != nil {
		return nil, err
	}
	var p [4]byte
	rand.Read(p[:])
	w := &worker{
		cfg:    cfg,
		sock:   sock,
		prefix: binary.BigEndian.Uint32(p[:]) ^ id,
		slots:  make([]slot, cfg.Window),
		reqs:   make([][]byte, cfg.Window),
		recv:   make([][]byte, cfg.Batch),
		sizes:  make([]int, cfg.Batch),
		queue:  make([]int, 0, cfg.Window),
		out:    make([][]byte, 0, cfg.Batch),
		hist:   newHistogram(),
	}
	for i := range w.reqs {
		w.reqs[i] = make([]byte, headerLen)
		w.queue = append(w.queue, i)
	}
	for i := range w.recv {
		w.recv[i] = make([]byte, 1500)
	}
	return w, nil
}

func (w *worker) run(ctx context.Context, start time.Time) error {
	lastScan := time.Duration(0)
	for ctx.Err() == nil {
		if err := w.flush(time.Since(start)); err != nil {
			return err
		}
		n, err := w.sock.recvBatch(w.recv, w.sizes)
		now := time.Since(start)
		switch {
		case err == unix.EAGAIN:
		case err == unix.ECONNREFUSED:
			w.refused++
			// Nothing listens yet; the requests in flight are gone.
			for i := range w.slots {
				if w.slots[i].busy {
					w.slots[i].busy = false
					w.queue = append(w.queue, i)
				}
			}
			time.Sleep(10 * time.Millisecond)
		case err != nil:
			return fmt.Errorf("recvmmsg: %w", err)
		}
		for i := 0; i < n; i++ {
			w.handle(w.recv[i][:w.sizes[i]], now)
		}
		if now-lastScan >= 10*time.Millisecond {
			w.expire(now)
			lastScan = now
		}
	}
	return nil
}

// flush sends every queued slot a fresh request, a batch at a time; with
// a Rate, only as many as the pace allows by now.
func (w *worker) flush(now time.Duration) error {
	for len(w.queue) > 0 {
		w.out = w.out[:0]
		k := min(len(w.queue), w.cfg.Batch)
		if w.cfg.Rate > 0 {
			due := int64(w.cfg.Rate/float64(w.cfg.Sockets)*now.Seconds()) - int64(w.sent)
			if due <= 0 {
				return nil
			}
			k = int(min(int64(k), due))
		}
		for _, s := range w.queue[:k] {
			sl := &w.slots[s]
			sl.gen++
			sl.busy = true
			sl.sentAt = now
			var tid [transactionIDLen]byte
			binary.BigEndian.PutUint32(tid[0:4], w.prefix)
			binary.BigEndian.PutUint32(tid[4:8], uint32(s))
			binary.BigEndian.PutUint32(tid[8:12], sl.gen)
			putRequest(w.reqs[s], tid)
			w.out = append(w.out, w.reqs[s])
		}
		n, err := w.sock.sendBatch(w.out)
		w.sent += uint64(n)
		if err == unix.ECONNREFUSED {
			// A previous request drew ICMP port unreachable; the slots
			// stay busy and expire.
			w.refused++
			n = k
		} else if err != nil {
			return fmt.Errorf("sendmmsg: %w", err)
		}
		w.queue = append(w.queue[:0], w.queue[n:]...)
	}
	return nil
}

func (w *worker) handle(b []byte, now time.Duration) {
	r, ok := parseResponse(b)
	if !ok || binary.BigEndian.Uint32(r.tid[0:4]) != w.prefix {
		w.bad++
		return
	}
	idx := binary.BigEndian.Uint32(r.tid[4:8])
	if idx >= uint32(len(w.slots)) {
		w.bad++
		return
	}
	sl := &w.slots[idx]
	if !sl.busy || binary.BigEndian.Uint32(r.tid[8:12]) != sl.gen {
		w.late++
		return
	}
	if w.cfg.CheckMapped && r.mapped != w.sock.local {
		w.bad++
		return
	}
	sl.busy = false
	w.answered++
	w.hist.record(now - sl.sentAt)
	w.queue = append(w.queue, int(idx))
}

// expire counts requests unanswered for longer than Timeout as lost and
// re-sends their slots, so a dropped datagram does not shrink the window.
func (w *worker) expire(now time.Duration) {
	for i := range w.slots {
		sl := &w.slots[i]
		if sl.busy && now-sl.sentAt > w.cfg.Timeout {
			sl.busy = false
			w.lost++
			w.queue = append(w.queue, i)
		}
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
