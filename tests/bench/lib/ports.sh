# Sourced by the benchmark scripts (not itself a benchmark: make bench runs
# only tests/bench/*.sh).

# pick_port VAR sets VAR to a port nobody listens on, UDP or TCP.
pick_port() {
	while :; do
		# Below the ephemeral range (32768+): a socket bound to port 0
		# with SO_REUSEPORT by another root process (both servers set it)
		# could otherwise land in our port's group and take part of the
		# load. Never twice the same port in one run: two servers sharing
		# a SO_REUSEPORT port split the generator's flows between them.
		p=$(($(od -An -N2 -tu2 /dev/urandom) % 22000 + 10000))
		case " $used_ports " in *" $p "*) continue ;; esac
		if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then
			used_ports="$used_ports $p"
			eval "$1=$p"
			return
		fi
	done
}
used_ports=""
