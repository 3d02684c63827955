// Command ferretdb-local runs FerretDB 1.x (MongoDB wire protocol) for `make run`
// and the tests, on PostgreSQL (the default) or on SQLite.
//
// It embeds FerretDB's public package (a `go build` of its cmd/ferretdb
// outside FerretDB's own repository panics on a missing generated version
// file) and puts a small wire-protocol proxy in front of it: FerretDB runs an
// update as "query, then write" without isolation, so two concurrent `$inc`s
// can lose one, and a conditional update can match a document another writer
// has just changed. MongoDB makes every single-document write atomic, and
// gonghui relies on that (counters, capacity, budgets, the outbox). The proxy
// restores it by letting one read-modify-write command (update, delete,
// findAndModify) at a time through per collection; inserts (which read
// nothing) and reads stay concurrent. On SQLite, which has one writer per
// database file anyway, every write command takes one global lock.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // profiles on GONGHUI_FERRETDB_PPROF (host:port), for looking into where time goes
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const (
	opMsg       = 2013
	moreToCome  = 1 << 1
	headerBytes = 16
	maxMessage  = 48 * 1024 * 1024
)

// readModifyWrite are the commands that read documents and then write them.
var readModifyWrite = map[string]bool{"update": true, "delete": true, "findandmodify": true}

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "postgresql", "postgresql or sqlite")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL (handler postgresql)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URI with a trailing slash (handler sqlite)")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		log.Fatalf("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	socket := filepath.Join(os.TempDir(), fmt.Sprintf("ferretdb-%d.sock", os.Getpid()))
	_ = os.Remove(socket)
	defer os.Remove(socket)

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{Unix: socket},
		Logger:        logger,
		Handler:       *handler,
		PostgreSQLURL: *postgresURL,
		SQLiteURL:     *sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	if addr := os.Getenv("GONGHUI_FERRETDB_PPROF"); addr != "" {
		go func() { logger.Warn("pprof stopped", "error", http.ListenAndServe(addr, nil)) }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			logger.Error("ferretdb stopped", "error", err)
		}
	}()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()

	logger.Info("ferretdb listening", "addr", *listen, "handler", *handler)
	locks := &writeLocks{global: *handler == "sqlite", byNamespace: map[string]*sync.Mutex{}}
	for {
		client, err := ln.Accept()
		if err != nil {
			break
		}
		go serve(client, socket, locks, logger)
	}
	<-done
}

// writeLocks hands out the lock a write command must hold until its reply has come back.
type writeLocks struct {
	global      bool // SQLite: every write command, one at a time
	mu          sync.Mutex
	all         sync.Mutex
	byNamespace map[string]*sync.Mutex
}

// forCommand returns the lock for a request, or nil when it needs none.
func (w *writeLocks) forCommand(msg []byte) *sync.Mutex {
	command, collection, db, ok := parseCommand(msg)
	if !ok {
		return nil
	}
	command = strings.ToLower(command)
	if w.global {
		if readModifyWrite[command] || command == "insert" {
			return &w.all
		}
		return nil
	}
	if !readModifyWrite[command] {
		return nil
	}
	key := db + "." + collection
	w.mu.Lock()
	defer w.mu.Unlock()
	lock := w.byNamespace[key]
	if lock == nil {
		lock = new(sync.Mutex)
		w.byNamespace[key] = lock
	}
	return lock
}

// serve relays one client connection, holding a write command's lock until its reply has come back.
func serve(client net.Conn, socket string, locks *writeLocks, logger *slog.Logger) {
	defer client.Close()
	upstream, err := net.Dial("unix", socket)
	if err != nil {
		logger.Error("upstream unavailable", "error", err)
		return
	}
	defer upstream.Close()

	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		lock := locks.forCommand(request)
		if lock != nil {
			lock.Lock()
		}
		err = relay(request, client, upstream)
		if lock != nil {
			lock.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func relay(request []byte, client, upstream net.Conn) error {
	if _, err := upstream.Write(request); err != nil {
		return err
	}
	if flags(request)&moreToCome != 0 {
		return nil // fire-and-forget: no reply comes
	}
	for {
		reply, err := readMessage(upstream)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if flags(reply)&moreToCome == 0 {
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	header := make([]byte, headerBytes)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(header[0:4]))
	if length < headerBytes || length > maxMessage {
		return nil, fmt.Errorf("bad message length %d", length)
	}
	msg := make([]byte, length)
	copy(msg, header)
	if _, err := io.ReadFull(r, msg[headerBytes:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func flags(msg []byte) uint32 {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg || len(msg) < headerBytes+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[16:20])
}

// parseCommand reads an OP_MSG's command name, its collection (the command's string value) and $db
// from the body section.
func parseCommand(msg []byte) (command, collection, db string, ok bool) {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return "", "", "", false
	}
	pos := headerBytes + 4
	for pos < len(msg) {
		kind := msg[pos]
		pos++
		if pos+4 > len(msg) {
			return "", "", "", false
		}
		size := int(binary.LittleEndian.Uint32(msg[pos : pos+4]))
		if kind == 0 {
			if size < 5 || pos+size > len(msg) {
				return "", "", "", false
			}
			return readBody(msg[pos : pos+size])
		}
		pos += size // kind 1: a document sequence, its size includes itself
	}
	return "", "", "", false
}

// readBody walks the top-level elements of a BSON document.
func readBody(doc []byte) (command, collection, db string, ok bool) {
	pos := 4
	for first := true; pos < len(doc)-1; first = false {
		kind := doc[pos]
		pos++
		key, next, good := cstring(doc, pos)
		if !good {
			return "", "", "", false
		}
		pos = next
		var value string
		if kind == 0x02 && pos+4 <= len(doc) {
			n := int(binary.LittleEndian.Uint32(doc[pos : pos+4]))
			if n >= 1 && pos+4+n <= len(doc) {
				value = string(doc[pos+4 : pos+4+n-1])
			}
		}
		if first {
			command, collection = key, value
		} else if key == "$db" {
			db = value
		}
		size, good := valueSize(doc, pos, kind)
		if !good {
			return "", "", "", false
		}
		pos += size
	}
	return command, collection, db, command != ""
}

func cstring(b []byte, pos int) (string, int, bool) {
	for end := pos; end < len(b); end++ {
		if b[end] == 0 {
			return string(b[pos:end]), end + 1, true
		}
	}
	return "", 0, false
}

// valueSize is the length in bytes of a BSON value of the given type starting at pos.
func valueSize(b []byte, pos int, kind byte) (int, bool) {
	int32At := func(p int) (int, bool) {
		if p+4 > len(b) {
			return 0, false
		}
		return int(binary.LittleEndian.Uint32(b[p : p+4])), true
	}
	switch kind {
	case 0x01, 0x09, 0x11, 0x12: // double, date, timestamp, int64
		return 8, true
	case 0x02, 0x0D, 0x0E: // string, code, symbol
		n, ok := int32At(pos)
		return 4 + n, ok
	case 0x03, 0x04, 0x0F: // document, array, code with scope
		return int32At(pos)
	case 0x05: // binary
		n, ok := int32At(pos)
		return 5 + n, ok
	case 0x06, 0x0A, 0xFF, 0x7F: // undefined, null, min key, max key
		return 0, true
	case 0x07: // ObjectId
		return 12, true
	case 0x08: // bool
		return 1, true
	case 0x0B: // regex: two cstrings
		_, next, ok := cstring(b, pos)
		if !ok {
			return 0, false
		}
		_, end, ok := cstring(b, next)
		return end - pos, ok
	case 0x0C: // DBPointer
		n, ok := int32At(pos)
		return 4 + n + 12, ok
	case 0x10: // int32
		return 4, true
	case 0x13: // decimal128
		return 16, true
	}
	return 0, false
}
