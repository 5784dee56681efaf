# The ports of each Portcullis process on one host, sourced by run.sh and read by docs/operations.md.
# Every process reads the same config file; these override its http.listen / http.admin.listen ports.
# PORTCULLIS_PORT_BASE (default 9100) moves them all: HTTP base+1..5, admin base+101..105.
base=${PORTCULLIS_PORT_BASE:-9100}
SERVICES=(relay content reputation auth edge)   # consumers first, the edge last
declare -A HTTP_PORT=([edge]=$((base + 1)) [auth]=$((base + 2)) [reputation]=$((base + 3)) [content]=$((base + 4)) [relay]=$((base + 5)))
declare -A ADMIN_PORT=([edge]=$((base + 101)) [auth]=$((base + 102)) [reputation]=$((base + 103)) [content]=$((base + 104)) [relay]=$((base + 105)))
