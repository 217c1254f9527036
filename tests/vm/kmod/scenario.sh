#!/bin/bash
# Runs one scenario of tests/vm/scenarios on team_rs.ko: boots the guest
# (boot.sh) on a script that loads team_rs.ko before the scenario, so every
# `ip link add ... type team` gets the Rust driver.
#
#   KBUILD=... BIN_DIR=target/release-like-dir tests/vm/kmod/scenario.sh teamnl-compat
set -u
name=${1:?usage: scenario.sh NAME}
here=$(cd "$(dirname "$0")" && pwd)
wrapper=$(mktemp "${TMPDIR:-/tmp}/team-rs-scenario.XXXXXX")
cat > "$wrapper" <<EOS
#!/bin/bash
insmod /opt/rteam/job/kmods/team_rs.ko || { echo "insmod team_rs.ko failed"; exit 1; }
bash /opt/rteam/tests/scenarios/$name.sh
status=\$?
dmesg | grep -iE "BUG|Oops|WARNING:|refcount|leak" && status=1
exit \$status
EOS
"$here/boot.sh" "$wrapper"
