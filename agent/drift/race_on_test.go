//go:build race

package drift

// raceEnabled is true under -race, which makes the simulated year ~15x
// slower; CI runs that test in a separate pass without -race.
const raceEnabled = true
