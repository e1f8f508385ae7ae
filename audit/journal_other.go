//go:build !unix

package audit

import (
	"errors"
	"os"
)

var errNoJournal = errors.New("the audit journal needs flock(2), which this platform lacks; use the audit writer")

func tryLock(*os.File) (bool, error) { return false, errNoJournal }

func linked(*os.File) (bool, error) { return false, errNoJournal }

func syncDir(string) error { return errNoJournal }
