//go:build !unix

package registry

const openNonblock = 0
