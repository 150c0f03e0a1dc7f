// Command canopy runs the Canopy partner portal: `canopy serve` with no
// settings serves a demo tenant tree from an embedded SQLite file on
// 127.0.0.1:8080. `canopy -h` lists the other commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if code, ok := err.(exitCode); ok {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "canopy:", err)
		os.Exit(1)
	}
}

// exitCode is how a command asks for an exit status without an error
// message (e.g. after printing help).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// version is the release of this binary.
const version = "0.1.0-dev"
