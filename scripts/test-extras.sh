#!/usr/bin/env bash
# Optional extras some of Hasura's conformance fixtures need: PostGIS, and the en_US.UTF-8
# locale (a fixture sets lc_monetary to it). Installed only when this runs as root on a
# Debian/Ubuntu machine; otherwise the cases that need them stay on the known-failures list.
set -uo pipefail

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "test extras: not root or no apt-get; PostGIS/locale cases will fail as listed"
  exit 0
fi

major="$(pg_config --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+).*/\1/')"
need=()
if [ -n "$major" ] && ! ls "/usr/share/postgresql/$major/extension/postgis.control" >/dev/null 2>&1; then
  need+=("postgresql-$major-postgis-3")
fi
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
  need+=(locales)
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "test extras: installing ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "test extras: could not install ${need[*]}; the cases that need them will fail as listed"
fi
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$' && [ -f /etc/locale.gen ]; then
  sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
  locale-gen >/dev/null 2>&1 || echo "test extras: could not generate en_US.UTF-8"
fi
exit 0
