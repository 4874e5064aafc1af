//go:build !race

package phxrunner

const raceEnabled = false
