package audit

import "errors"

// JournalHeader is the first bytes of every journal file.
const JournalHeader = journalMagic

// JournalFrame returns payload framed as the journal stores it.
func JournalFrame(payload []byte) []byte { return appendFrame(nil, payload) }

// SetJournalCrashHook makes every Journal call fn at each named step of
// its protocol (the crash tests kill the process there). It returns a
// function that removes the hook; no Journal may be running meanwhile.
func SetJournalCrashHook(fn func(step string)) (restore func()) {
	old := crashHook
	crashHook = fn
	return func() { crashHook = old }
}

// AbandonJournal stops j as if its process died: no more shipping (a
// shipment in flight is cancelled, so its transaction rolls back), nothing
// deleted or forgotten, and its files closed, which releases their locks.
func AbandonJournal(j *Journal) {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.closeOnce.Do(func() {
		j.closeErr = errors.New("journal abandoned")
		close(j.stop)
		j.cancel()
		j.done.Wait()
		j.shipMu.Lock()
		defer j.shipMu.Unlock()
		for _, seg := range j.segs {
			seg.f.Close()
		}
		j.segs = nil
	})
}
