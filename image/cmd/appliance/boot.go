package main

import (
	"context"
	"errors"
	"io"
)

var errNotYet = errors.New("not implemented yet")

func cmdBoot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errNotYet
}
