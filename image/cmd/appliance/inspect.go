package main

import "io"

func cmdInspect(args []string, stdout io.Writer) error { return usageError{errNotYet} }
