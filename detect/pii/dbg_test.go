package pii
import ("testing";"runtime";"time";"slices";"context";"golang.org/x/sys/unix";"github.com/rampartsec/rampart/detect")
func TestDbgBreakdown(t *testing.T){
 runtime.LockOSThread(); defer runtime.UnlockOSThread()
 cpu := func() time.Duration { var ts unix.Timespec; unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); return time.Duration(ts.Nano()) }
 text := mixedPrompt()
 for _, e := range []string{"", "email","credit_card","us_ssn","iban","ip_address","phone_number","date_of_birth","national_id","passport","person","street_address"} {
  opts := map[string]any{}
  if e != "" { opts["entities"] = []any{e} }
  d, _ := New(opts)
  in := detect.Input{Text: text}
  var rs []time.Duration
  for range 9 { s := cpu(); for range 200 { d.Detect(context.Background(), in) }; rs = append(rs, (cpu()-s)/200) }
  slices.Sort(rs)
  t.Logf("%-15s %v", e, rs[4])
 }
}
