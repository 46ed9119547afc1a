//go:build tools

// This file pins the dependencies the packages under construction will use,
// so that go.mod/go.sum are complete while they land. Removed once each is
// imported by real code.
package main

import (
	_ "github.com/Microsoft/go-winio"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/kardianos/service"
	_ "github.com/rs/zerolog"
	_ "github.com/shirou/gopsutil/v4/process"
	_ "go.etcd.io/bbolt"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sys/windows/registry"
	_ "golang.org/x/sys/windows/svc/mgr"
	_ "howett.net/plist"
)
