// Command ferretdb-local runs FerretDB 1.x (MongoDB wire protocol) on its
// SQLite backend for `make run` and the tests.
//
// It embeds FerretDB's public package (a `go build` of its cmd/ferretdb
// outside FerretDB's own repository panics on a missing generated version
// file) and puts a small wire-protocol proxy in front of it: FerretDB's
// SQLite handler runs an update as "query, then write" without isolation, so
// two concurrent `$inc`s can lose one, and a conditional update can match a
// document another writer has just changed. MongoDB makes every single-document
// write atomic, and gonghui relies on that (counters, capacity, budgets, the
// outbox). The proxy restores it by letting one write command at a time through;
// reads stay concurrent.
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

var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
}

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URI (trailing slash)")
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
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
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

	logger.Info("ferretdb listening", "addr", *listen, "sqlite", *sqliteURL)
	var writes sync.Mutex
	for {
		client, err := ln.Accept()
		if err != nil {
			break
		}
		go serve(client, socket, &writes, logger)
	}
	<-done
}

// serve relays one client connection, holding the write lock from a write
// command until its reply has come back.
func serve(client net.Conn, socket string, writes *sync.Mutex, logger *slog.Logger) {
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
		write := isWrite(request)
		if write {
			writes.Lock()
		}
		err = relay(request, client, upstream)
		if write {
			writes.Unlock()
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

// isWrite reads the command name: the first key of the OP_MSG body section.
func isWrite(msg []byte) bool {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return false
	}
	pos := headerBytes + 4
	for pos < len(msg) {
		kind := msg[pos]
		pos++
		if pos+4 > len(msg) {
			return false
		}
		size := int(binary.LittleEndian.Uint32(msg[pos : pos+4]))
		if kind == 0 {
			// BSON document: int32 length, then type byte, then the key as a cstring.
			if pos+5 >= len(msg) {
				return false
			}
			key := msg[pos+5:]
			end := 0
			for end < len(key) && key[end] != 0 {
				end++
			}
			return writeCommands[strings.ToLower(string(key[:end]))]
		}
		pos += size // kind 1: a document sequence, its size includes itself
	}
	return false
}
