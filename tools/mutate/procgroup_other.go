//go:build !unix

package main

import "os/exec"

// ownProcessGroup leaves the default: the context ends only the go command.
func ownProcessGroup(*exec.Cmd) {}
