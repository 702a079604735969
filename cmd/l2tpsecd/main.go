// Command l2tpsecd is the L2TP/IPsec VPN concentrator daemon.
//
//	l2tpsecd -config /etc/l2tpsecd/l2tpsecd.toml
//	l2tpsecd -check-config -config FILE
//	l2tpsecd -version
//
// Exit codes: 0 after a clean shutdown or a valid -check-config, 1 when the
// daemon fails at run time, 2 for a bad command line or configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/l2tpsecd/l2tpsecd/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("l2tpsecd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "/etc/l2tpsecd/l2tpsecd.toml", "configuration `file`")
	checkOnly := fs.Bool("check-config", false, "validate the configuration, print every problem, and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "l2tpsecd: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "l2tpsecd %s\n", buildVersion())
		return 0
	}

	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "l2tpsecd: invalid configuration:\n%v\n", configErrorText(err))
		return 2
	}
	if *checkOnly {
		fmt.Fprintf(stdout, "%s: configuration is valid\n", *configPath)
		return 0
	}

	logger := server.NewLogger(stderr, cfg.Log)
	logger.Info("starting", "version", buildVersion(), "config", *configPath)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	d, err := server.New(cfg, server.Options{Logger: logger, Version: buildVersion()})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigs:
				switch s {
				case syscall.SIGHUP:
					if err := d.Reload(*configPath); err != nil {
						logger.Error("reload refused; still running on the previous configuration", "err", configErrorText(err))
					}
				case syscall.SIGUSR1:
					d.ReopenLogs()
				}
			}
		}
	}()

	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("stopped with an error", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func configErrorText(err error) string {
	var ce server.ConfigErrors
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return err.Error()
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
