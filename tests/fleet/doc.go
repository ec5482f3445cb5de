// Package fleet holds the multi-namespace tests of the supernode fleet
// (issue #6): several fleet members, each a separate process in its own
// network namespace with its own address, joined by a bridge.
package fleet
