#!/usr/bin/env bash
# Makes the certificates Strata's TLS needs, with openssl: one CA, a certificate per service
# or node (with the names and addresses clients dial as subject alternative names) and
# client certificates. Keys are mode 0600; nothing is overwritten.
#
#   deploy/certs.sh [--dir DIR] [--days N] ca
#   deploy/certs.sh [--dir DIR] [--days N] server NAME SAN...    SAN: DNS:host or IP:address
#   deploy/certs.sh [--dir DIR] [--days N] client NAME
#
# DIR defaults to /etc/strata/tls and holds ca.crt / ca.key and NAME.crt / NAME.key. A server
# certificate is good for both ends (services call each other with it). Example, one layerstore
# on two addresses and a runtime node:
#   deploy/certs.sh ca
#   deploy/certs.sh server layerstore DNS:store.example.internal IP:10.0.0.5
#   deploy/certs.sh server node-a DNS:node-a.example.internal IP:10.0.0.21
#   deploy/certs.sh client ann
# then start each service with --tls-cert DIR/NAME.crt --tls-key DIR/NAME.key
# --tls-client-ca DIR/ca.crt, and clients with --tls-ca DIR/ca.crt --tls-cert ... --tls-key ...
set -euo pipefail

dir=/etc/strata/tls
days=825
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    *) break ;;
  esac
done
kind="${1:-}"
[[ -n "$kind" ]] || { sed -n '2,17p' "$0" >&2; exit 2; }
shift
mkdir -p "$dir"
chmod 0755 "$dir"
umask 077

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

require_ca() {
  [[ -f "$dir/ca.crt" && -f "$dir/ca.key" ]] ||
    { echo "certs.sh: no CA in $dir: run '$0 --dir $dir ca' first" >&2; exit 1; }
}

refuse_overwrite() {
  [[ ! -e "$dir/$1.crt" ]] || { echo "certs.sh: $dir/$1.crt exists: not overwriting" >&2; exit 1; }
}

# sign NAME EXTENSIONS: a certificate for NAME's key, signed by the CA.
sign() {
  local name="$1" extensions="$2" csr
  csr=$(mktemp)
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$csr" 2>/dev/null
  openssl x509 -req -in "$csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile <(printf '%s\n' "$extensions") -out "$dir/$name.crt" 2>/dev/null
  rm -f "$csr"
  chmod 0644 "$dir/$name.crt"
  echo "$dir/$name.crt" "$dir/$name.key"
}

case "$kind" in
  ca)
    refuse_overwrite ca
    new_key "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=Strata CA" -days "$days" -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$dir/ca.crt" 2>/dev/null
    chmod 0644 "$dir/ca.crt"
    echo "$dir/ca.crt" "$dir/ca.key"
    ;;
  server)
    name="${1:?server NAME SAN...}"
    shift
    [[ $# -gt 0 ]] || { echo "certs.sh: server $name: give its names (DNS:host, IP:address)" >&2; exit 2; }
    require_ca
    refuse_overwrite "$name"
    sans=$(IFS=,; echo "$*")
    sign "$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$sans"
    ;;
  client)
    name="${1:?client NAME}"
    require_ca
    refuse_overwrite "$name"
    sign "$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    ;;
  *)
    echo "certs.sh: unknown kind '$kind' (ca, server, client)" >&2
    exit 2
    ;;
esac
