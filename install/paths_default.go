package install

import (
	"os"
	"runtime"
)

// DefaultPaths returns the paths for the running OS.
func DefaultPaths() Paths {
	return PathsFor(runtime.GOOS, os.Getenv("ProgramData"))
}
