//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"time"
)

// ownProcessGroup runs the go command in a process group of its own and
// ends the whole group (the go command and the test binaries it started)
// when the command's context is done.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
}
