package gateway

// SetCanaryForTest makes every request's canary token tok until the
// returned function is called.
func SetCanaryForTest(tok string) func() {
	old := newCanary
	newCanary = func() string { return tok }
	return func() { newCanary = old }
}
