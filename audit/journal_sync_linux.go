package audit

import (
	"os"
	"syscall"
)

// syncData flushes f's data and the metadata needed to read it back (the
// size) to the device: fdatasync(2).
func syncData(f *os.File) error {
	var err error
	if cerr := ctl(f, func(fd int) {
		for {
			if err = syscall.Fdatasync(fd); err != syscall.EINTR {
				return
			}
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	return nil
}
