#!/usr/bin/env bash
# A real Postfix sending through `mxlab serve`, each in a network namespace of its own.
# See README.md beside this file. Needs root (network namespaces, `postfix -c`).
#
#   postfix.sh DIR up STORY [--time-scale X] [--mxlab BIN] [--lifetime SECS] [--no-drop-syn]
#                           [--lab] [-o NAME=VALUE]...
#                           --lab: `mxlab lab STORY` (state in DIR/lab) instead of `serve`
#   postfix.sh DIR send TO [FROM] [SUBJECT]
#   postfix.sh DIR wait REGEX [SECS]          wait for a line of Postfix's log matching REGEX
#   postfix.sh DIR wait-mail USER [SECS]      wait for a message in USER's mailbox (a DSN)
#   postfix.sh DIR mail USER                  print every message in USER's mailbox
#   postfix.sh DIR log                        print Postfix's log
#   postfix.sh DIR exec CMD...                run CMD inside the namespace (swaks, dig, postqueue)
#   postfix.sh DIR down                       stop everything, delete the namespace; DIR stays
#
# DIR is the instance's directory (created by `up`; one instance per DIR, many side by side).
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "postfix.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || usage
D=$1
cmd=$2
shift 2

# The namespace of an instance that is up.
ns() { cat "$D/ns" 2>/dev/null || die "$D: no instance is up (run \`up\` first)"; }
in_ns() { ip netns exec "$(ns)" "$@"; }

# Waits up to $2 seconds for the shell condition $1 to hold; 1 when it never did.
poll() {
  local cond=$1 deadline=$((SECONDS + $2))
  until eval "$cond"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# The story's own sender, so Postfix says what the simulated sender would: EHLO name, sending
# address, mail domain. Read from scenarios/STORY.toml (or the file given); catalog defaults else.
sender_value() {
  local key=$1 default=$2 file=$3 v=""
  if [ -f "$file" ]; then
    v=$(awk -v k="$key" '
      /^\[/ { in_sender = ($0 == "[sender]") }
      in_sender && $1 == k && $2 == "=" { gsub(/"/, "", $3); print $3; exit }' "$file")
  fi
  echo "${v:-$default}"
}

# The `from` of each of the story's messages in the sender's domain; taro@DOMAIN when none.
story_senders() {
  local file=$1 domain=$2
  echo "taro@$domain"
  [ -f "$file" ] || return 0
  awk -v d="@$domain" '
    /^\[/ { in_msg = ($0 == "[[sender.messages]]") }
    in_msg && $1 == "from" && $2 == "=" { gsub(/"/, "", $3); if (index($3, d)) print $3 }' "$file"
}

up() {
  [ $# -ge 1 ] || usage
  local story=$1
  shift
  local scale=1 mxlab=${MXLAB:-mxlab} lifetime=600 drop_syn=1 lab=0 extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --time-scale) scale=$2; shift 2 ;;
      --mxlab) mxlab=$2; shift 2 ;;
      --lifetime) lifetime=$2; shift 2 ;;
      --no-drop-syn) drop_syn=0; shift ;;
      --lab) lab=1; shift ;;
      -o) extra+=("$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, a private Postfix)"
  for tool in ip postfix postconf sendmail; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install iproute2 postfix)"
  done
  [ ! -e "$D/ns" ] || die "$D: an instance is already up here"

  local file=$story here
  here=$(cd "$(dirname "$0")/../.." && pwd)
  [ -f "$file" ] || file="$here/scenarios/$story.toml"
  local helo domain ip
  helo=$(sender_value hostname srv01.mycompany.lan "$file")
  domain=$(sender_value domain mycompany.test "$file")
  ip=$(sender_value ip 127.0.0.2 "$file")

  mkdir -p "$D"
  D=$(cd "$D" && pwd)
  # Postfix's daemons run as `postfix` and the mailboxes belong to `nobody`: they must be able
  # to reach their directories under DIR.
  chmod 755 "$D"
  mkdir -p "$D/etc" "$D/queue" "$D/data" "$D/mail" "$D/store"
  chown postfix "$D/data"
  chown nobody:nogroup "$D/mail"

  # A namespace of its own, named after this shell's pid and a random word, so instances side
  # by side never meet. `ip netns exec` mounts /etc/netns/NAME/resolv.conf over
  # /etc/resolv.conf: Postfix asks the story's DNS on 127.0.0.1:53.
  local name="mxlab-pf-$$-$RANDOM"
  mkdir -p "/etc/netns/$name"
  printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$name/resolv.conf"
  ip netns add "$name"
  echo "$name" >"$D/ns"
  # From here on, any failure (or `die`) tears down what is up.
  trap 'down >/dev/null 2>&1 || true' EXIT
  ip netns exec "$name" ip link set lo up

  # A watchdog ends the instance after --lifetime seconds even if nobody calls `down`.
  setsid bash -c 'sleep "$1"; exec "$2" "$3" down' watchdog "$lifetime" "$0" "$D" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$D/watchdog.pid"

  # The story: DNS on :53 (the sender's resolver on 127.0.0.1, any authoritative servers on
  # their glue addresses), every SMTP host on :25 of its own address.
  local serve_flags=()
  if [ $drop_syn = 1 ] && command -v nft >/dev/null && "$mxlab" serve --help 2>/dev/null | grep -q -- --drop-syn; then
    serve_flags+=(--drop-syn)
  fi
  if [ $lab = 1 ]; then
    # A training lab: the same world at the story's own addresses (block 0: the namespace is
    # the lab's alone), DNS on :53 of the story's resolver address, its progress in DIR/lab.
    ip netns exec "$name" "$mxlab" lab "$story" --block 0 --dns-port 53 --smtp-port 25 \
      --time-scale "$scale" --state "$D/lab" "${serve_flags[@]}" \
      </dev/null >"$D/serve.out" 2>"$D/serve.err" &
  else
    ip netns exec "$name" "$mxlab" serve "$story" --dns 127.0.0.1:53 --smtp-port 25 \
      --time-scale "$scale" --store "$D/store" "${serve_flags[@]}" \
      </dev/null >"$D/serve.out" 2>"$D/serve.err" &
  fi
  echo $! >"$D/serve.pid"
  # The listener lines are printed together once every socket is bound.
  poll "[ -s '$D/serve.out' ] || ! kill -0 $(cat "$D/serve.pid") 2>/dev/null" 20 ||
    die "mxlab serve printed no listener line in 20 s"
  kill -0 "$(cat "$D/serve.pid")" 2>/dev/null ||
    die "mxlab serve stopped: $(cat "$D/serve.err")"
  sleep 0.2
  if [ $lab = 1 ]; then
    # The lab's DNS listens where the story's sender asks (`dns - <ip>:53`): the namespace's
    # resolver, so dig, nslookup and Postfix need no server or port.
    local dns_ip
    dns_ip=$(awk '$1 == "dns" && $2 == "-" { sub(/:[0-9]+$/, "", $3); print $3; exit }' "$D/serve.out")
    [ -n "$dns_ip" ] || die "the lab printed no \`dns -\` line"
    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$dns_ip" >"/etc/netns/$name/resolv.conf"
  fi

  cat >"$D/etc/main.cf" <<EOF
# A private Postfix for mxlab (tests/real-mta/postfix.sh): it sends as the story's sender and
# delivers only its own notices, to $D/mail/<user>/ (Maildir).
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $D
maillog_file = $D/maillog
myhostname = $helo
mydomain = $domain
myorigin = \$mydomain
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
smtp_bind_address = $ip
alias_maps =
alias_database =
biff = no
# The sender's own domain is delivered here: bounce and delay notices land in its mailboxes.
virtual_mailbox_domains = \$mydomain
virtual_mailbox_base = $D/mail
virtual_mailbox_maps = texthash:$D/etc/mailboxes
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
# Retries within seconds, so a story's deferrals show in a test's time.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
maximal_queue_lifetime = 10m
bounce_queue_lifetime = 10m
EOF
  # Each of the story's senders has a Maildir of its own; any other address of the domain
  # (postmaster's notices too) lands in other/. (A regexp map cannot name mailboxes.)
  {
    story_senders "$file" "$domain" | sort -u | while read -r a; do echo "$a ${a%@*}/"; done
    echo "@$domain other/"
  } >"$D/etc/mailboxes"
  local kv
  for kv in "${extra[@]}"; do
    postconf -c "$D/etc" -e "$kv"
  done
  # Only what sending and notices need, nothing chrooted, no smtpd: nothing listens.
  cat >"$D/etc/master.cf" <<'EOF'
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
tlsmgr    unix  - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
EOF
  # `start` checks the instance, creates the queue's directories and runs the master.
  ip netns exec "$name" postfix -c "$D/etc" start >/dev/null 2>&1 ||
    die "postfix did not start: $(tail -3 "$D/maillog" 2>/dev/null)"
  poll "grep -q 'daemon started' '$D/maillog' 2>/dev/null" 10 || die "postfix did not start"
  trap - EXIT
  echo "up $name (serve pid $(cat "$D/serve.pid"); sender $helo [$ip]; flags ${serve_flags[*]:-none})"
  cat "$D/serve.out"
}

send() {
  [ $# -ge 1 ] || usage
  local to=$1 from=${2:-} subject=${3:-mxlab real-MTA test}
  [ -n "$from" ] || from="taro@$(postconf -c "$D/etc" -h mydomain)"
  printf 'From: <%s>\nTo: <%s>\nSubject: %s\nDate: %s\nMessage-ID: <%s.%s@%s>\n\nSent by Postfix through mxlab serve.\n' \
    "$from" "$to" "$subject" "$(date -R)" "$(date +%s%N)" "$$" "$(postconf -c "$D/etc" -h myhostname)" |
    in_ns sendmail -C "$D/etc" -f "$from" -- "$to"
}

# poll, and when the time runs out, say what did not happen and show Postfix's log.
poll_or_show_log() {
  local cond=$1 secs=$2 what=$3
  if ! poll "$cond" "$secs"; then
    echo "postfix.sh: $what; the log:" >&2
    cat "$D/maillog" >&2 2>/dev/null || true
    exit 1
  fi
}

wait_log() {
  [ $# -ge 1 ] || usage
  local re=$1 secs=${2:-60}
  poll_or_show_log "grep -Eq -- \"\$re\" '$D/maillog' 2>/dev/null" "$secs" \
    "no log line matching /$re/ in $secs s"
  grep -E -- "$re" "$D/maillog"
}

mailbox_files() { find "$D/mail/$1/new" "$D/mail/$1/cur" -type f 2>/dev/null | sort; }

wait_mail() {
  [ $# -ge 1 ] || usage
  local user=$1 secs=${2:-60}
  poll_or_show_log "[ -n \"\$(mailbox_files '$user')\" ]" "$secs" \
    "nothing in $user's mailbox after $secs s"
  mail "$user"
}

mail() {
  [ $# -ge 1 ] || usage
  local f
  for f in $(mailbox_files "$1"); do
    echo "==> $f"
    cat "$f"
  done
}

# Idempotent, and safe on a half-built instance: every step tolerates what is already gone.
down() {
  local name
  name=$(cat "$D/ns" 2>/dev/null) || return 0
  local watchdog
  watchdog=$(cat "$D/watchdog.pid" 2>/dev/null || true)
  # Not the watchdog itself when it is the one calling.
  if [ -n "$watchdog" ] && [ "$watchdog" != "$PPID" ] && [ "$watchdog" != "$$" ]; then
    kill "$watchdog" 2>/dev/null || true
  fi
  if [ -f "$D/etc/main.cf" ]; then
    ip netns exec "$name" postfix -c "$D/etc" abort >/dev/null 2>&1 || true
  fi
  local pid
  pid=$(cat "$D/serve.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    poll "! kill -0 $pid 2>/dev/null" 5 || kill -KILL "$pid" 2>/dev/null || true
  fi
  # Whatever still runs in the namespace is this instance's (Postfix's daemons, a client
  # started with `exec`): kill it by pid, then delete the namespace.
  local pids
  pids=$(ip netns pids "$name" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  ip netns del "$name" 2>/dev/null || true
  rm -rf "/etc/netns/$name"
  rm -f "$D/ns"
  echo "down $name"
}

case $cmd in
  up) up "$@" ;;
  send) send "$@" ;;
  wait) wait_log "$@" ;;
  wait-mail) wait_mail "$@" ;;
  mail) mail "$@" ;;
  log) cat "$D/maillog" ;;
  exec) in_ns "$@" ;;
  down) down ;;
  *) usage ;;
esac
