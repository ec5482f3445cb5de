package client

// HostRounds lets the external tests read the per-introduction bound.
const HostRounds = hostRounds

var MapUDPAt = mapUDP
