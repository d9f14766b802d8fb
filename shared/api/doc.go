// Package api holds what the gateway says at its edge: the error kinds every
// package returns, the one mapping from those kinds to an HTTP status and a
// client-protocol error body, and the few request fields the gateway reads
// before routing.
package api
