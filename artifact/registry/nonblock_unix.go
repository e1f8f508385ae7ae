//go:build unix

package registry

import "syscall"

// openNonblock opens files without blocking on pipes.
const openNonblock = syscall.O_NONBLOCK
