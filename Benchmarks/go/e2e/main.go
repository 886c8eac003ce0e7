// Command e2e is the go-dqlite side of swift-dqlite's end-to-end benchmark (scripts/bench-e2e.sh,
// docs/benchmarks.md "End-to-end"): the same workloads as Benchmarks/EndToEnd/Sources (the Swift side),
// through go-dqlite 1.11.5's driver and database/sql, against the same running cluster.
//
// It builds in GOPATH mode against Debian's packaged sources, without network:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 go build -o e2e-go ./Benchmarks/go/e2e
//
// Usage:
//
//	e2e-go -cluster 127.0.0.1:9001[,…] -db bench -workload W [-workers N] [-duration 5s] [-table-suffix go]
//
// Workloads (one JSON line on stdout per run):
//
//	point           SELECT v FROM t10k WHERE id = ? (random id), sequential, on one connection (sql.Conn)
//	point-prepared  the same through one prepared statement on that connection
//	scan            SELECT id, k, v FROM t10k (10,000 rows) on one connection, scanned into int64, string, string
//	insert          single-row autocommit INSERT INTO ins_<suffix>(k, v) VALUES (?, ?) (100-byte v), N workers
//	kvwrite         dqlite-benchmark's kvwrite: INSERT OR REPLACE INTO model_<suffix>(key, value) VALUES(?, ?),
//	                32-byte random key, 1024-byte value (512 × one letter + 512 random letters), N workers
//	kvreadwrite     dqlite-benchmark's kvreadwrite: per operation, a coin flip between a read of one of the
//	                worker's own keys (SELECT value FROM model_<suffix> WHERE key = ?) and a kvwrite
//	scan-wire       diagnostic, no go-dqlite code: the server's own streaming rate for the scan. One raw TCP
//	                connection (handshake, OPEN, then QUERY_SQL "SELECT id, k, v FROM t10k" over and over); each
//	                answer is read frame by frame, only the 8-byte headers and the end marker are looked at
//	                (no row decoding): an upper bound for any client's scan rate on this server.
//	                With -quickack, TCP_QUICKACK is re-armed before each frame is read: the client then ACKs at
//	                once, which the server needs (it does not set TCP_NODELAY, so Nagle holds its next write
//	                until our delayed ACK comes, up to 40 ms)
//
// The pool is database/sql's, with MaxOpenConns = MaxIdleConns = max(workers, 8) (the Swift client's default
// pool is 8 connections; database/sql's default of 2 idle connections would reconnect constantly).
// go-dqlite 1.11.5 has no busy handling: SQLITE_BUSY ("database is locked") reaches the caller, and is
// counted as an error here, by kind.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/canonical/go-dqlite/client"
	"github.com/canonical/go-dqlite/driver"
)

const (
	tableRows = 10000
	letters   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

type result struct {
	Side      string         `json:"side"`
	Workload  string         `json:"workload"`
	Workers   int            `json:"workers"`
	Ops       int            `json:"ops"`
	Rows      int            `json:"rows"`
	Seconds   float64        `json:"seconds"`
	OpsPerS   float64        `json:"ops_per_s"`
	RowsPerS  float64        `json:"rows_per_s"`
	P50us     float64        `json:"p50_us"`
	P90us     float64        `json:"p90_us"`
	P99us     float64        `json:"p99_us"`
	MaxUs     float64        `json:"max_us"`
	Reads     int            `json:"reads,omitempty"`
	Writes    int            `json:"writes,omitempty"`
	Errors    map[string]int `json:"errors"`
	Committed int            `json:"committed_check,omitempty"`
	CheckNote string         `json:"check,omitempty"`
	Loadavg   string         `json:"loadavg"`
}

// One worker's tally.
type tally struct {
	lat    []time.Duration
	rows   int
	reads  int
	writes int
	errors map[string]int
}

func newTally() *tally { return &tally{errors: map[string]int{}} }

func (t *tally) fail(err error) {
	t.errors[errorKind(err)]++
}

// errorKind names an error by its kind: "database is locked" (SQLITE_BUSY), or the server's code, or the text.
func errorKind(err error) string {
	var derr driver.Error
	if e, ok := err.(driver.Error); ok {
		derr = e
		switch derr.Code & 0xff {
		case driver.ErrBusy:
			return "database is locked (SQLITE_BUSY)"
		}
		return fmt.Sprintf("server code %d: %s", derr.Code, derr.Message)
	}
	msg := err.Error()
	if strings.Contains(msg, "database is locked") {
		return "database is locked (SQLITE_BUSY)"
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func randString(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.Intn(len(letters))]
	}
	return string(b)
}

// kvValue is dqlite-benchmark's value: n/2 copies of one random letter, then n/2 random letters.
func kvValue(r *rand.Rand, n int) string {
	return strings.Repeat(randString(r, 1), n/2) + randString(r, n/2)
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i].Nanoseconds()) / 1000
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "e2e-go: "+format+"\n", args...)
	os.Exit(1)
}

func count(ctx context.Context, db *sql.DB, table string) int {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		die("count %s: %v", table, err)
	}
	return n
}

func main() {
	cluster := flag.String("cluster", "", "comma-separated node addresses")
	dbName := flag.String("db", "bench", "database name")
	workload := flag.String("workload", "point", "point | point-prepared | scan | insert | kvwrite | kvreadwrite")
	workers := flag.Int("workers", 1, "concurrent workers (insert, kvwrite, kvreadwrite)")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up before the measurement")
	suffix := flag.String("table-suffix", "go", "suffix of the tables written (ins_<suffix>, model_<suffix>)")
	quickack := flag.Bool("quickack", false, "scan-wire: re-arm TCP_QUICKACK before each frame is read")
	flag.Parse()
	if *cluster == "" {
		die("-cluster is required")
	}

	store := client.NewInmemNodeStore()
	var infos []client.NodeInfo
	for _, a := range strings.Split(*cluster, ",") {
		infos = append(infos, client.NodeInfo{Address: a})
	}
	ctx := context.Background()
	if err := store.Set(ctx, infos); err != nil {
		die("node store: %v", err)
	}
	drv, err := driver.New(store, driver.WithLogFunc(func(client.LogLevel, string, ...interface{}) {}))
	if err != nil {
		die("driver: %v", err)
	}
	sql.Register("dqlite", drv)
	db, err := sql.Open("dqlite", *dbName)
	if err != nil {
		die("open: %v", err)
	}
	defer db.Close()
	pool := *workers
	if pool < 8 {
		pool = 8
	}
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)

	res := result{Side: "go", Workload: *workload, Workers: *workers, Errors: map[string]int{}}
	insTable := "ins_" + *suffix
	kvTable := "model_" + *suffix

	var run func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool)
	before := 0
	switch *workload {
	case "point", "point-prepared", "scan", "scan-wire":
		if n := count(ctx, db, "t10k"); n != tableRows {
			die("t10k has %d rows, want %d (run the Swift side's setup first)", n, tableRows)
		}
		res.Workers = 1
		*workers = 1
	case "insert":
		if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+insTable+
			" (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)"); err != nil {
			die("create: %v", err)
		}
		before = count(ctx, db, insTable)
	case "kvwrite", "kvreadwrite":
		// dqlite-benchmark's schema.
		if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+kvTable+
			" (key TEXT, value TEXT, UNIQUE(key))"); err != nil {
			die("create: %v", err)
		}
		before = count(ctx, db, kvTable)
	default:
		die("unknown workload %q", *workload)
	}

	if *workload == "scan-wire" {
		run = scanWire(strings.Split(*cluster, ",")[0], *dbName, *quickack)
		if *quickack {
			res.Workload = "scan-wire-quickack"
		}
	}

	v100 := strings.Repeat("x", 50) + randString(rand.New(rand.NewSource(1)), 50)
	switch *workload {
	case "point", "point-prepared", "scan":
		// One connection for the whole run.
		conn, err := db.Conn(ctx)
		if err != nil {
			die("conn: %v", err)
		}
		defer conn.Close()
		var stmt *sql.Stmt
		if *workload == "point-prepared" {
			if stmt, err = conn.PrepareContext(ctx, "SELECT v FROM t10k WHERE id = ?"); err != nil {
				die("prepare: %v", err)
			}
			defer stmt.Close()
		}
		run = func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool) {
			for measure() {
				start := time.Now()
				switch *workload {
				case "point", "point-prepared":
					id := 1 + r.Intn(tableRows)
					var v string
					var err error
					if stmt != nil {
						err = stmt.QueryRowContext(ctx, id).Scan(&v)
					} else {
						err = conn.QueryRowContext(ctx, "SELECT v FROM t10k WHERE id = ?", id).Scan(&v)
					}
					if err != nil {
						t.fail(err)
						continue
					}
					if len(v) != 100 {
						die("point: got %d bytes", len(v))
					}
					t.rows++
				case "scan":
					rows, err := conn.QueryContext(ctx, "SELECT id, k, v FROM t10k")
					if err != nil {
						t.fail(err)
						continue
					}
					n, sum := 0, int64(0)
					for rows.Next() {
						var id int64
						var k, v string
						if err := rows.Scan(&id, &k, &v); err != nil {
							die("scan: %v", err)
						}
						sum += id + int64(len(k)+len(v))
						n++
					}
					if err := rows.Err(); err != nil {
						t.fail(err)
						rows.Close()
						continue
					}
					rows.Close()
					if n != tableRows || sum == 0 {
						die("scan: %d rows", n)
					}
					t.rows += n
				}
				t.lat = append(t.lat, time.Since(start))
			}
		}
	case "insert":
		run = func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool) {
			for measure() {
				start := time.Now()
				if _, err := db.ExecContext(ctx, "INSERT INTO "+insTable+"(k, v) VALUES (?, ?)", r.Int63(), v100); err != nil {
					t.fail(err)
					continue
				}
				t.writes++
				t.lat = append(t.lat, time.Since(start))
			}
		}
	case "kvwrite", "kvreadwrite":
		readSQL := "SELECT value FROM " + kvTable + " WHERE key = ?"
		writeSQL := "INSERT OR REPLACE INTO " + kvTable + "(key, value) VALUES(?, ?)"
		run = func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool) {
			var keys []string
			for measure() {
				read := *workload == "kvreadwrite" && r.Intn(2) == 0 && len(keys) > 0
				start := time.Now()
				if read {
					var v string
					if err := db.QueryRowContext(ctx, readSQL, keys[r.Intn(len(keys))]).Scan(&v); err != nil {
						t.fail(err)
						continue
					}
					if len(v) != 1024 {
						die("kv read: got %d bytes", len(v))
					}
					t.reads++
				} else {
					k, v := randString(r, 32), kvValue(r, 1024)
					if _, err := db.ExecContext(ctx, writeSQL, k, v); err != nil {
						t.fail(err)
						continue
					}
					keys = append(keys, k)
					t.writes++
				}
				t.lat = append(t.lat, time.Since(start))
			}
		}
	}

	// Warm-up (not measured; its writes are subtracted from the committed-row check), then the measurement.
	tallies := make([]*tally, *workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	phase := 0 // 0 warm-up, 1 measuring, 2 done
	var measuredStart, measuredEnd time.Time
	warmWrites := make([]int, *workers)
	for w := 0; w < *workers; w++ {
		tallies[w] = newTally()
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(time.Now().UnixNano() + int64(w)*7919))
			t := tallies[w]
			myPhase := 0
			measure := func() bool {
				mu.Lock()
				p := phase
				mu.Unlock()
				if p != myPhase {
					if p == 1 {
						// Entering the measurement: forget the warm-up.
						warmWrites[w] = t.writes
						t.lat = t.lat[:0]
						t.rows, t.reads, t.writes = 0, 0, 0
						t.errors = map[string]int{}
					}
					myPhase = p
				}
				return p < 2
			}
			run(ctx, w, r, t, measure)
		}(w)
	}
	time.Sleep(*warmup)
	mu.Lock()
	phase = 1
	measuredStart = time.Now()
	mu.Unlock()
	time.Sleep(*duration)
	mu.Lock()
	phase = 2
	mu.Unlock()
	wg.Wait()
	// Every operation that started in the measured window counts, and the window ends when the last of
	// them has finished (the Swift side does the same).
	measuredEnd = time.Now()
	elapsed := measuredEnd.Sub(measuredStart).Seconds()

	var all []time.Duration
	writes, warm := 0, 0
	for w, t := range tallies {
		all = append(all, t.lat...)
		res.Rows += t.rows
		res.Reads += t.reads
		res.Writes += t.writes
		writes += t.writes
		warm += warmWrites[w]
		for k, v := range t.errors {
			res.Errors[k] += v
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.Ops = len(all)
	res.Seconds = elapsed
	res.OpsPerS = float64(res.Ops) / elapsed
	if *workload == "scan" || *workload == "point" || *workload == "point-prepared" || *workload == "scan-wire" {
		res.RowsPerS = float64(res.Rows) / elapsed
	} else {
		res.Rows = writes
		res.RowsPerS = float64(writes) / elapsed
	}
	res.P50us = percentile(all, 0.50)
	res.P90us = percentile(all, 0.90)
	res.P99us = percentile(all, 0.99)
	res.MaxUs = percentile(all, 1)
	switch *workload {
	case "insert":
		after := count(ctx, db, insTable)
		res.Committed = after - before - warm
		res.CheckNote = fmt.Sprintf("count(*) grew by %d = %d warm-up + %d measured successes", after-before, warm, writes)
		if res.Committed != writes {
			res.CheckNote += " MISMATCH"
		}
	case "kvwrite", "kvreadwrite":
		after := count(ctx, db, kvTable)
		res.Committed = after - before - warm
		res.CheckNote = fmt.Sprintf("count(*) grew by %d = %d warm-up + %d measured successes", after-before, warm, writes)
		if res.Committed != writes {
			res.CheckNote += " MISMATCH"
		}
	}
	res.Loadavg = loadavg()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// wireString appends a dqlite text: the bytes, a NUL, zero padding to a multiple of 8.
func wireString(b []byte, s string) []byte {
	b = append(b, s...)
	b = append(b, 0)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// wireFrame prefixes a body with the 8-byte header (words, type, schema 0, extra 0).
func wireFrame(mtype byte, body []byte) []byte {
	h := make([]byte, 8, 8+len(body))
	binary.LittleEndian.PutUint32(h[0:], uint32(len(body)/8))
	h[4] = mtype
	return append(h, body...)
}

// readFrame reads one frame into buf (grown as needed) and returns its type and body.
func readFrame(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.LittleEndian.Uint32(h[0:])) * 8
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return h[4], buf, nil
}

// scanWire is the "scan-wire" workload: the server's streaming rate, read without decoding rows.
func scanWire(address, dbName string, quickack bool) func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool) {
	conn, err := net.Dial("tcp", address)
	if err != nil {
		die("scan-wire: %v", err)
	}
	conn.(*net.TCPConn).SetNoDelay(true)
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		die("scan-wire: %v", err)
	}
	ack := func() {
		if quickack {
			raw.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
			})
		}
	}
	reader := bufio.NewReaderSize(conn, 1<<16)
	var hello [8]byte
	binary.LittleEndian.PutUint64(hello[:], 1) // protocol version 1
	open := wireString(nil, dbName)
	open = append(open, make([]byte, 8)...) // flags
	open = wireString(open, "volatile")
	if _, err := conn.Write(append(hello[:], wireFrame(3, open)...)); err != nil { // OPEN
		die("scan-wire: %v", err)
	}
	buf := make([]byte, 1<<16)
	if mtype, _, err := readFrame(reader, buf); err != nil || mtype != 4 { // DB
		die("scan-wire: OPEN answered with type %d: %v", mtype, err)
	}
	query := wireString(make([]byte, 8), "SELECT id, k, v FROM t10k") // db id 0, no parameters
	request := wireFrame(9, query)                                    // QUERY_SQL
	return func(ctx context.Context, w int, r *rand.Rand, t *tally, measure func() bool) {
		defer conn.Close()
		for measure() {
			start := time.Now()
			if _, err := conn.Write(request); err != nil {
				die("scan-wire: %v", err)
			}
			for {
				var mtype byte
				var body []byte
				ack()
				mtype, body, err = readFrame(reader, buf)
				if err != nil || mtype != 7 || len(body) < 8 { // ROWS
					die("scan-wire: answer type %d (%d bytes): %v", mtype, len(body), err)
				}
				if cap(body) > cap(buf) {
					buf = body
				}
				marker := binary.LittleEndian.Uint64(body[len(body)-8:])
				if marker == 0xffffffffffffffff { // DONE
					break
				}
				if marker != 0xeeeeeeeeeeeeeeee { // PART
					die("scan-wire: bad end marker %x", marker)
				}
			}
			t.rows += tableRows
			t.lat = append(t.lat, time.Since(start))
		}
	}
}
