// Command ferretdb-local runs FerretDB 1.x (MongoDB wire protocol) for `make run`
// and the tests, on PostgreSQL (the default) or on SQLite.
//
// It embeds FerretDB's public package (a `go build` of its cmd/ferretdb
// outside FerretDB's own repository panics on a missing generated version
// file). FerretDB itself is patched (ferretdb-1.24.2.patch), among other
// things so that every single-document write is atomic as in MongoDB: it runs
// an update as "query, then write" without isolation, so the patch lets one
// read-modify-write command (update, delete, findAndModify) at a time through
// per collection, and on SQLite one insert, update, delete or findAndModify
// at a time.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // profiles on GONGHUI_FERRETDB_PPROF (host:port), for looking into where time goes
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

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

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
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

	logger.Info("ferretdb listening", "addr", *listen, "handler", *handler)
	if err := f.Run(ctx); err != nil {
		logger.Error("ferretdb stopped", "error", err)
	}
}
