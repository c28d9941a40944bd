#!/usr/bin/env bash
# Installs telegate on Debian or Ubuntu, from a clone of its repository:
# service user, directories, binary, systemd units, the secrets as encrypted
# systemd credentials in /etc/credstore.encrypted (never overwritten),
# /etc/telegate/telegate.env without any secret (mode 600, never
# overwritten), /etc/telegate/commands.toml from the relay's example (never
# overwritten; the relay stays off until COMMANDS_FILE names it), the nginx
# site, a Let's Encrypt certificate (webroot, with a deploy hook that reloads
# nginx), then enables and starts it all. Safe to run again. --dry-run
# prints every step instead of doing it.
#
# The secrets: WEBHOOK_SECRET is generated; the bot token is read from
# --token-file PATH (and the enrolment passcode from --passcode-file PATH),
# each encrypted with `systemd-creds encrypt` (the host key, and the TPM2
# chip where there is one) so that none is stored in plain text on disk.
#
# --direct-tls: no nginx; telegate terminates TLS itself on port 8443 with a
# certificate certbot gets on its own (--standalone, port 80), copied to
# /etc/telegate/tls by a deploy hook that reloads telegate after renewals.
# --print-env prints the env file it would write, and nothing else.
#
#   sudo deploy/install.sh --domain bot.example.org --email you@example.org \
#        [--token-file PATH] [--passcode-file PATH] \
#        [--binary target/release/telegate] [--direct-tls] [--dry-run]
set -euo pipefail

usage() {
  echo "usage: $0 --domain DOMAIN --email EMAIL [--token-file PATH] [--passcode-file PATH] [--binary PATH] [--direct-tls] [--dry-run | --print-env]" >&2
  exit 2
}

domain="" email="" binary="target/release/telegate" dry_run=0 direct_tls=0 print_env=0
token_file="" passcode_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --domain) domain="${2:-}"; shift 2 ;;
    --email) email="${2:-}"; shift 2 ;;
    --binary) binary="${2:-}"; shift 2 ;;
    --token-file) token_file="${2:-}"; shift 2 ;;
    --passcode-file) passcode_file="${2:-}"; shift 2 ;;
    --direct-tls) direct_tls=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --print-env) print_env=1; shift ;;
    *) usage ;;
  esac
done
[ -n "$domain" ] && [ -n "$email" ] || usage

# The domain and the address go into sed expressions, the nginx site, the
# env file and certbot's command line: only a plain host name and address
# may pass. A label: letters, digits and inner hyphens, 1-63 characters.
label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
host_re="^($label\.)+$label\$"
is_host_name() {
  [ "${#1}" -le 253 ] && [[ "$1" =~ $host_re ]] && [[ ! "${1##*.}" =~ ^[0-9]+$ ]]
}
refuse() {
  printf '%s: %s, got %q\n' "$0" "$1" "$2" >&2
  exit 2
}
is_host_name "$domain" ||
  refuse "--domain must be the DNS name of this server, such as bot.example.org (at least two dot-separated labels of letters, digits and inner hyphens, 63 characters each, 253 in all; no IP address)" "$domain"
email_local='^[A-Za-z0-9._%+-]{1,64}$'
[[ "$email" == *@* && "${email%@*}" =~ $email_local ]] && is_host_name "${email#*@}" ||
  refuse "--email must be an address such as you@example.org (letters, digits and . _ % + - before the @, a DNS name after it); Let's Encrypt writes to it about the certificate" "$email"
repo="$(cd "$(dirname "$0")/.." && pwd)"
tls_dir=/etc/telegate/tls
hook=/etc/telegate/certbot-deploy-hook
credstore=/etc/credstore.encrypted

# The env file for this host, from .env.example, with no secret in it: they
# are systemd credentials (see the unit's LoadCredentialEncrypted=).
env_file() {
  if [ "$direct_tls" -eq 1 ]; then
    sed -e "s|^WEBHOOK_URL=.*|WEBHOOK_URL=https://$domain:8443/telegram/webhook|" \
        -e "s|^LISTEN_ADDR=.*|LISTEN_ADDR=0.0.0.0:8443|" \
        -e "s|^TLS_CERT_FILE=.*|TLS_CERT_FILE=$tls_dir/fullchain.pem|" \
        -e "s|^TLS_KEY_FILE=.*|TLS_KEY_FILE=$tls_dir/privkey.pem|" \
        -e "s|^TRUSTED_PROXIES=.*|TRUSTED_PROXIES=|"
  else
    sed -e "s|^WEBHOOK_URL=.*|WEBHOOK_URL=https://$domain/telegram/webhook|"
  fi < "$repo/.env.example" |
    sed -e "s|^DATABASE_URL=.*|DATABASE_URL=sqlite:/var/lib/telegate/telegate.db|" \
        -e "s|^TELEGRAM_BOT_TOKEN=.*|TELEGRAM_BOT_TOKEN=|" \
        -e "s|^WEBHOOK_SECRET=.*|WEBHOOK_SECRET=|" \
        -e "s|^ENROLLMENT_PASSCODE=.*|ENROLLMENT_PASSCODE=|" \
        -e "s|^TOTP_SECRET=.*|TOTP_SECRET=|"
}
if [ "$print_env" -eq 1 ]; then
  env_file
  exit 0
fi
[ -x "$binary" ] || { echo "no telegate binary at $binary: run cargo build --release first" >&2; exit 1; }
for f in "$token_file" "$passcode_file"; do
  [ -z "$f" ] || [ -r "$f" ] || { echo "cannot read $f" >&2; exit 1; }
done
if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "run it as root (sudo), or with --dry-run to see the steps" >&2
  exit 1
fi

# Runs a step, or prints it under --dry-run.
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

# Encrypts stdin as the credential NAME, unless it exists already: the
# credential name is bound into the ciphertext, and the unit loads it under
# that name. Under --dry-run it says so, and reads (and shows) nothing.
credential() {
  local name="$1" path="$credstore/telegate.$1"
  if [ -e "$path" ]; then
    echo "keeping $path (never overwritten)"
    cat >/dev/null
  elif [ "$dry_run" -eq 1 ]; then
    printf '+ systemd-creds encrypt --name=%s - %s\n' "$name" "$path"
    cat >/dev/null
  else
    systemd-creds encrypt --name="$name" - "$path"
    chmod 600 "$path"
  fi
}

# Writes stdin to a file (mode and owner given), or says so under --dry-run.
write() {
  local path="$1" mode="$2" owner="$3"
  if [ "$dry_run" -eq 1 ]; then
    printf '+ write %s (mode %s, owner %s)\n' "$path" "$mode" "$owner"
    cat >/dev/null
  else
    install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" /dev/stdin "$path"
  fi
}

echo "== packages"
packages=(certbot)
[ "$direct_tls" -eq 1 ] || packages+=(nginx)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  run apt-get update
  run apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "== user and directories"
id telegate >/dev/null 2>&1 ||
  run useradd --system --home-dir /var/lib/telegate --shell /usr/sbin/nologin telegate
run install -d -m 700 -o telegate -g telegate /var/lib/telegate
run install -d -m 750 -o root -g telegate /etc/telegate
if [ "$direct_tls" -eq 1 ]; then
  run install -d -m 750 -o root -g telegate "$tls_dir"
else
  run install -d -m 755 /var/www/letsencrypt
fi

echo "== binary and systemd units"
run install -m 755 "$binary" /usr/local/bin/telegate
run install -m 755 "$repo/deploy/telegate-admin" /usr/local/sbin/telegate-admin
for unit in telegate.service telegate-backup.service telegate-backup.timer; do
  run install -m 644 "$repo/deploy/$unit" "/etc/systemd/system/$unit"
done
run install -m 644 "$repo/deploy/logrotate/telegate" /etc/logrotate.d/telegate
run install -D -m 644 "$repo/README.md" /usr/local/share/doc/telegate/README.md

echo "== secrets, as encrypted systemd credentials"
run install -d -m 700 "$credstore"
# 32 random bytes as 64 hex digits: Telegram's alphabet for secret_token.
head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | credential WEBHOOK_SECRET
if [ -n "$token_file" ]; then
  credential TELEGRAM_BOT_TOKEN <"$token_file"
elif [ ! -e "$credstore/telegate.TELEGRAM_BOT_TOKEN" ]; then
  echo "no --token-file: store the token from @BotFather with"
  echo "  systemd-ask-password -n 'Bot token:' | sudo systemd-creds encrypt --name=TELEGRAM_BOT_TOKEN - $credstore/telegate.TELEGRAM_BOT_TOKEN"
fi
if [ -n "$passcode_file" ]; then
  credential ENROLLMENT_PASSCODE <"$passcode_file"
fi

echo "== configuration"
if [ -e /etc/telegate/telegate.env ]; then
  echo "keeping /etc/telegate/telegate.env (never overwritten)"
else
  env_file | write /etc/telegate/telegate.env 600 telegate:telegate
  echo "set BOT_OWNER_ID in /etc/telegate/telegate.env before the service can start"
fi
# The relay's commands: a starting point, owned by root so that telegate
# cannot change what it may run, and off until COMMANDS_FILE names it.
commands=/etc/telegate/commands.toml
if [ -e "$commands" ]; then
  echo "keeping $commands (never overwritten)"
else
  write "$commands" 640 root:telegate <"$repo/deploy/commands.example.toml"
fi
if ! grep -q '^COMMANDS_FILE=.' /etc/telegate/telegate.env 2>/dev/null; then
  echo "the command relay is off: edit $commands, check it with"
  echo "  sudo telegate-admin commands check --file $commands"
  echo "then set COMMANDS_FILE=$commands in /etc/telegate/telegate.env and restart telegate"
fi

if [ "$direct_tls" -eq 1 ]; then
  echo "== the certificate, for telegate itself"
  # certbot runs the hook after issuing and after each renewal: the files
  # are copied where the telegate user may read them, and telegate reloads
  # them on SIGHUP (systemctl reload).
  write "$hook" 755 root:root <<HOOK
#!/bin/sh
set -e
for f in fullchain.pem privkey.pem; do
    install -m 640 -o root -g telegate "\$RENEWED_LINEAGE/\$f" $tls_dir/\$f
done
systemctl reload telegate 2>/dev/null || true
HOOK
  if [ ! -e "/etc/letsencrypt/live/$domain/fullchain.pem" ]; then
    run certbot certonly --standalone -d "$domain" \
      --email "$email" --agree-tos --non-interactive --deploy-hook "$hook"
  else
    run env RENEWED_LINEAGE="/etc/letsencrypt/live/$domain" "$hook"
  fi
else
echo "== nginx and the certificate"
site=/etc/nginx/sites-available/telegate.conf
if [ ! -e "/etc/letsencrypt/live/$domain/fullchain.pem" ]; then
  # Port 80 alone first: certbot's http-01 challenge needs it, and the full
  # site cannot load before its certificate exists.
  sed -n '/^server {/,/^}/p' "$repo/nginx/telegate.conf" | sed -n '1,/^}/p' |
    sed "s/bot.example.org/$domain/g" | write "$site" 644 root:root
  run ln -sf "$site" /etc/nginx/sites-enabled/telegate.conf
  run nginx -t
  run systemctl reload nginx
  run certbot certonly --webroot -w /var/www/letsencrypt -d "$domain" \
    --email "$email" --agree-tos --non-interactive \
    --deploy-hook "systemctl reload nginx"
fi
sed "s/bot.example.org/$domain/g" "$repo/nginx/telegate.conf" | write "$site" 644 root:root
run ln -sf "$site" /etc/nginx/sites-enabled/telegate.conf
run nginx -t
run systemctl reload nginx
fi

echo "== start"
run systemctl daemon-reload
run systemctl enable --now telegate-backup.timer
if grep -q 'replace-with' /etc/telegate/telegate.env 2>/dev/null; then
  echo "not starting telegate yet: /etc/telegate/telegate.env still has placeholders"
  run systemctl enable telegate
elif [ -z "$token_file" ] && [ ! -e "$credstore/telegate.TELEGRAM_BOT_TOKEN" ] &&
     ! grep -q '^TELEGRAM_BOT_TOKEN=.' /etc/telegate/telegate.env 2>/dev/null; then
  echo "not starting telegate yet: there is no bot token (the credential above)"
  run systemctl enable telegate
else
  run systemctl enable --now telegate
  run systemctl restart telegate
fi
echo "done. Check the configuration as the service sees it (its user, env file and credentials) with:"
echo "  sudo telegate-admin check"
echo "and follow the log with: journalctl -u telegate -f"
