#!/usr/bin/env bash
# Scores `mxlab check` against a world of third-party servers on loopback:
# NSD (root + TLD at 127.0.0.20, the domains' own server at 127.0.0.21), Unbound (127.0.0.30),
# Postfix (mx1.partner.test, 127.0.0.25:25) with postfix-policyd-spf-python, reject_rbl_client
# against bl.test, a size limit and, for one fault, postgrey (127.0.0.31:10023).
# Each fault starts from the healthy world, applies one change, starts the servers, runs check
# and stops them. Prints "fault expected got ok|MISS" and the share correct.
# Usage: run.sh [FAULT...]   (as root; MXLAB=path/to/mxlab; TPW_DIR=work dir, default /tmp/tpw)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
W=${TPW_DIR:-/tmp/tpw}
MXLAB=${MXLAB:-mxlab}
CHECK_LIMIT=${CHECK_LIMIT:-90}   # seconds per check, hard cap
RCPT=hanako@partner.test
FROM=taro@mycompany.test
SEND_IP=127.0.0.2

# fault | expected rule (an administrator's diagnosis, written before running) | check flags
FAULTS="
healthy|ok.deliverable|
healthy-send|ok.delivered|--send
implicit-mx|ok.deliverable|
nxdomain|dns.mx.nxdomain|
no-mx-no-a|dns.mx.missing|
null-mx|dns.mx.null|
mx-no-address|dns.mx.target-unresolvable|
zone-fails-to-load|dns.servfail|
lame-delegation|dns.lame-delegation|
mx-port-closed|smtp.connect.refused|
greylisting|smtp.greylisted|
spf-fail|spf.fail|
blocklisted|sender.blocklisted|
user-unknown|smtp.rcpt.user-unknown|
relay-denied|smtp.relay-denied|
too-big|smtp.message.too-big|--send
backup-mx|ok.deliverable|
ptr-missing|sender.ptr.missing|
"

log() { echo "# $*" >&2; }

# ---- the world --------------------------------------------------------------------------
fresh_world() {
    rm -rf "$W"; mkdir -p "$W"
    cp -r "$HERE/conf/." "$W/"
    grep -rl '@W@' "$W" | xargs sed -i "s#@W@#$W#g"
    mkdir -p "$W/xfr-root" "$W/xfr-auth" "$W/pfdata" "$W/postgrey" "$W/spool"
    chown postgrey "$W/postgrey"; chown postfix "$W/pfdata"
    chmod 755 "$W"; chmod -R a+rX "$W"
    echo "nameserver 127.0.0.30" > "$W/resolv.conf"
}
zone_edit() { sed -i "$2" "$W/zones/$1"; }          # zone_edit FILE SED-SCRIPT
pf() { postconf -c "$W/postfix" -e "$@"; }

MX_UP=1; GREY=0
apply_fault() {
    MX_UP=1; GREY=0
    case "$1" in
    healthy|healthy-send) ;;
    implicit-mx)   zone_edit partner.test.zone '/IN MX/d; $a @ IN A 127.0.0.25' ;;
    nxdomain)      zone_edit test.zone '/^partner \|^ns1.partner /d' ;;
    no-mx-no-a)    zone_edit partner.test.zone '/IN MX/d' ;;
    null-mx)       zone_edit partner.test.zone 's/IN MX  10 mx1/IN MX  0 ./' ;;
    mx-no-address) zone_edit partner.test.zone '/^mx1 /d' ;;
    zone-fails-to-load) zone_edit partner.test.zone '$a this line is not a record' ;;
    lame-delegation) sed -i '/@PARTNER@/,$d' "$W/nsd-auth.conf" ;;
    mx-port-closed) MX_UP=0 ;;
    greylisting)   GREY=1
                   pf 'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, reject_rbl_client bl.test, check_policy_service unix:private/policyd-spf, check_policy_service inet:127.0.0.31:10023' ;;
    spf-fail)      zone_edit mycompany.test.zone 's/ip4:127.0.0.2 /ip4:127.0.0.99 /' ;;
    blocklisted)   zone_edit bl.test.zone '$a 2.0.0.127 IN A 127.0.0.2\n2.0.0.127 IN TXT "listed by bl.test: spam trap hits"' ;;
    user-unknown)  sed -i '/^hanako/d' "$W/postfix/recipients" ;;
    relay-denied)  pf 'mydestination = localhost' ;;
    too-big)       pf 'message_size_limit = 200' ;;
    backup-mx)     zone_edit partner.test.zone 's/IN MX  10 mx1/IN MX  10 mx0\n@       IN MX  20 mx1\nmx0     IN A   127.0.0.26/' ;;
    ptr-missing)   zone_edit reverse.zone '/^2 /d'
                   pf 'smtpd_client_restrictions = reject_unknown_reverse_client_hostname' ;;
    *) echo "unknown fault $1" >&2; return 1 ;;
    esac
}

killpid() {   # the daemon's own pid file; it may vanish as the daemon exits
    local pid; pid=$(cat "$1" 2>/dev/null) || return 0; [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
}

start_world() {
    nsd -c "$W/nsd-root.conf" || log "nsd-root failed"
    nsd -c "$W/nsd-auth.conf" || log "nsd-auth failed"
    unbound -c "$W/unbound.conf" || log "unbound failed"
    if [ "$GREY" = 1 ]; then
        postgrey --inet=127.0.0.31:10023 --dbdir="$W/postgrey" --pidfile="$W/postgrey.pid" \
                 --delay=300 --user=postgrey --daemonize || log "postgrey failed"
        for _ in $(seq 50); do ss -lnt | grep -q '127.0.0.31:10023' && break; sleep 0.2; done
    fi
    if [ "$MX_UP" = 1 ]; then
        # Postfix, policyd-spf and the RBL lookups resolve through Unbound: a private mount
        # namespace gives the instance its own /etc/resolv.conf, leaving the host's alone.
        unshare -m --propagation private sh -c \
            "mount --bind '$W/resolv.conf' /etc/resolv.conf && postfix -c '$W/postfix' start" \
            >"$W/postfix-start.log" 2>&1 || log "postfix failed: $(tail -3 "$W/postfix-start.log")"
        for _ in $(seq 50); do ss -lnt | grep -q '127.0.0.25:25' && break; sleep 0.2; done
    fi
    sleep 0.5
}

stop_world() {
    [ -d "$W/postfix" ] && postfix -c "$W/postfix" stop >/dev/null 2>&1
    killpid "$W/postgrey.pid"; killpid "$W/unbound.pid"; killpid "$W/nsd-auth.pid"; killpid "$W/nsd-root.pid"
    for _ in $(seq 25); do ss -lnt | grep -q '127.0.0.25:25' || break; sleep 0.2; done
}

# ---- alternate_config_directories: postfix -c needs the instance listed in the system main.cf
ACD_OLD=$(postconf -h alternate_config_directories)
restore_acd() { if [ -n "$ACD_OLD" ]; then postconf -e "alternate_config_directories = $ACD_OLD"; else postconf -X alternate_config_directories; fi; }
postconf -e "alternate_config_directories = ${ACD_OLD:+$ACD_OLD, }$W/postfix"
trap 'stop_world; restore_acd' EXIT
trap 'exit 130' INT TERM

# ---- the run ----------------------------------------------------------------------------
want="${*:-}"
total=0; good=0
printf '%-20s %-28s %-28s %s\n' fault expected got result
while IFS='|' read -r fault expected flags; do
    [ -n "$fault" ] || continue
    if [ -n "$want" ] && ! [[ " $want " == *" $fault "* ]]; then continue; fi
    stop_world; fresh_world; apply_fault "$fault" || continue
    postfix -c "$W/postfix" check >/dev/null 2>&1
    start_world
    # shellcheck disable=SC2086
    timeout "$CHECK_LIMIT" "$MXLAB" check "$RCPT" --dns 127.0.0.30 --root 127.0.0.20 --smtp-port 25 \
        --ip "$SEND_IP" --from "$FROM" --helo mail.mycompany.test --timeout 10s $flags --json \
        >"$W/../tpw-$fault.json" 2>"$W/../tpw-$fault.err"
    got=$(python3 -c 'import json,sys
r=json.load(open(sys.argv[1])); v=r.get("verdict")
print(v.get("rule") or v.get("id") if isinstance(v,dict) else v)' "$W/../tpw-$fault.json" 2>/dev/null || echo "no-report")
    total=$((total+1))
    if [ "$got" = "$expected" ]; then res=ok; good=$((good+1)); else res=MISS; fi
    printf '%-20s %-28s %-28s %s\n' "$fault" "$expected" "$got" "$res"
    stop_world
done <<<"$FAULTS"
echo "correct: $good/$total"
