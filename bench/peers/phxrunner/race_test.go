//go:build race

package phxrunner

const raceEnabled = true
