# Sourced by demo.sh and pg-local.sh: free_port prints a TCP port on 127.0.0.1 that nothing
# listens on. It is drawn below the kernel's ephemeral range (ip_local_port_range), where
# outgoing connections take their local ports: a port chosen inside that range can be taken by
# any client's connection before our server binds it, and the server then fails with "Address
# already in use" (CI saw exactly that: a private mosquitto that never came up).
free_port() {
  local low=32768 high p
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  [ "$low" -gt 11024 ] || low=61000  # a range that starts low: draw above it instead
  while :; do
    if [ "$low" -eq 61000 ]; then p=$((61000 + RANDOM % 4000)); else p=$((10000 + RANDOM % (low - 10000))); fi
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
