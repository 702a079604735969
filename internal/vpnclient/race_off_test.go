//go:build !race

package vpnclient

const raceEnabled = false
