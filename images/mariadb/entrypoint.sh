#!/bin/bash
# Entrypoint of edirunbook's MariaDB image: the official mysql image's environment contract on
# Debian's MariaDB 10.11.
#
#   first start (no mysql/ in the datadir): mariadb-install-db, a temporary server on the socket
#   only, root password, MYSQL_DATABASE, MYSQL_USER, /docker-entrypoint-initdb.d/*, stop it;
#   then (always): exec the real server, which listens on 0.0.0.0:3306. tini (PID 1) forwards
#   docker stop's SIGTERM to it; during initialisation the trap below stops the temporary server.
#
# testcontainers' MySqlContainer waits until ONE log stream (stderr here) contains
# ": ready for connections" twice: mysql:8.0 prints it once from its temporary server and once from
# the real one. The temporary server here prints it once too; when the datadir already exists there
# is no temporary server, so this script prints a marker line instead. Either way the second match
# is the real server's own line, so the wait ends only once port 3306 accepts connections.
set -Eeuo pipefail
shopt -s nullglob

SOCKET=/run/mysqld/mysqld.sock
INITDB_DIR=/docker-entrypoint-initdb.d
TEMP_SERVER_TIMEOUT=${MARIADB_TEMP_SERVER_TIMEOUT:-60}
TEMP_SERVER_PID=

log() { printf '%s [Note] [Entrypoint] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
warn() { printf '%s [Warning] [Entrypoint] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
    printf '%s [ERROR] [Entrypoint] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
    exit 1
}

# VAR or VAR_FILE (a file holding the value, as with Docker secrets); both at once is an error.
read_env() {
    local name=$1 file_name="${1}_FILE"
    if [[ -n "${!name:-}" && -n "${!file_name:-}" ]]; then
        die "both $name and $file_name are set; set only one of them"
    fi
    if [[ -n "${!file_name:-}" ]]; then
        [[ -r "${!file_name}" ]] || die "$file_name points at ${!file_name}, which cannot be read"
        printf -v "$name" '%s' "$(<"${!file_name}")"
    fi
    export "$name"="${!name:-}"
    unset "$file_name"
}

# A value inside '...' in SQL: escape backslashes and single quotes.
sql_string() {
    local value=${1//\\/\\\\}
    printf "'%s'" "${value//\'/\\\'}"
}

# A name inside `...` in SQL: double the backticks.
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

# Run SQL from stdin on the temporary server as the socket-authenticated mysql account.
run_sql() { mariadb --protocol=socket --socket="$SOCKET" --user=mysql --batch --skip-column-names "$@"; }

stop_temp_server() {
    if [[ -n "$TEMP_SERVER_PID" ]] && kill -0 "$TEMP_SERVER_PID" 2>/dev/null; then
        kill -TERM "$TEMP_SERVER_PID"
        wait "$TEMP_SERVER_PID" || true
    fi
    TEMP_SERVER_PID=
}

on_signal() {
    log "stop signal before the server started: stopping"
    stop_temp_server
    exit 143
}

start_temp_server() {
    "$@" --skip-networking --socket="$SOCKET" &
    TEMP_SERVER_PID=$!
    local deadline=$((SECONDS + TEMP_SERVER_TIMEOUT)) last_error=""
    until last_error=$(run_sql -e 'SELECT 1' 2>&1 >/dev/null); do
        kill -0 "$TEMP_SERVER_PID" 2>/dev/null \
            || die "the temporary server exited during initialisation; its log is above"
        ((SECONDS < deadline)) \
            || die "the temporary server did not answer on $SOCKET within ${TEMP_SERVER_TIMEOUT}s (last: $last_error)"
        sleep 0.2
    done
}

check_password_options() {
    if [[ -z "$MYSQL_ROOT_PASSWORD" && -z "$MYSQL_ALLOW_EMPTY_PASSWORD" && -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]]; then
        die "the database is not initialised and no root password option is set: set MYSQL_ROOT_PASSWORD" \
            "(or MYSQL_RANDOM_ROOT_PASSWORD=yes, or MYSQL_ALLOW_EMPTY_PASSWORD=yes for a socket-only empty root)"
    fi
    if [[ "$MYSQL_USER" == root ]]; then
        die "MYSQL_USER=root: MYSQL_USER and MYSQL_PASSWORD create an ordinary user; set the root password with MYSQL_ROOT_PASSWORD"
    fi
}

# Root: password login from localhost and from MYSQL_ROOT_HOST (default %). An empty password is
# honoured for localhost only: root never logs in over the network without a password.
setup_accounts() {
    local root_password=$MYSQL_ROOT_PASSWORD root_host=${MYSQL_ROOT_HOST:-%}
    if [[ -z "$root_password" && -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]]; then
        root_password=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
        (umask 077 && printf '%s\n' "$root_password" > /run/mysqld/generated-root-password)
        log "generated a random root password; it is in /run/mysqld/generated-root-password (mode 0600)"
    fi
    # mariadb-install-db leaves a proxy grant for the build-time host name, which the server warns
    # about on every start under skip-name-resolve; drop it (and any anonymous account).
    local sql="DROP USER IF EXISTS ''@'localhost';"
    sql+="DELETE FROM mysql.proxies_priv WHERE Host = @@hostname AND Host <> 'localhost'; FLUSH PRIVILEGES;"
    sql+="ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$root_password");"
    if [[ -n "$root_password" && "$root_host" != localhost ]]; then
        sql+="CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED BY $(sql_string "$root_password");"
        sql+="GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    elif [[ -z "$root_password" ]]; then
        warn "root has an EMPTY password and can log in from inside the container only"
    fi
    if [[ -n "$MYSQL_DATABASE" ]]; then
        log "creating database $MYSQL_DATABASE"
        sql+="CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"
    fi
    if [[ -n "$MYSQL_USER" && -z "$MYSQL_PASSWORD" ]]; then
        warn "MYSQL_USER is set but MYSQL_PASSWORD is not: user $MYSQL_USER is NOT created"
    elif [[ -n "$MYSQL_USER" ]]; then
        log "creating user $MYSQL_USER"
        sql+="CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
        if [[ -n "$MYSQL_DATABASE" ]]; then
            sql+="GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
        fi
    fi
    # The SQL goes through stdin, never the command line, so no password shows in ps.
    run_sql <<<"$sql"
}

run_init_scripts() {
    local database_args=() f
    [[ -n "$MYSQL_DATABASE" ]] && database_args=(--database="$MYSQL_DATABASE")
    for f in "$INITDB_DIR"/*; do
        case "$f" in
            *.sh)
                if [[ -x "$f" ]]; then
                    log "running $f"
                    "$f"
                else
                    log "sourcing $f"
                    # shellcheck disable=SC1090
                    . "$f"
                fi
                ;;
            *.sql)
                log "loading $f"
                run_sql "${database_args[@]}" < "$f"
                ;;
            *.sql.gz)
                log "loading $f"
                gunzip -c "$f" | run_sql "${database_args[@]}"
                ;;
            *) log "ignoring $f (not .sh, .sql or .sql.gz)" ;;
        esac
    done
}

initialise() {
    local datadir=$1
    shift
    check_password_options
    [[ -w "$datadir" ]] || die "the datadir $datadir is not writable by $(id -un) (uid $(id -u)):" \
        "mount it writable for that user (a tmpfs is mode 1777 by default) or start the container as root"
    log "initialising the database in $datadir"
    local install_log
    install_log=$(mktemp)
    # root@localhost and mysql@localhost start as unix_socket accounts: this script (OS user mysql)
    # uses mysql@localhost to configure the temporary server; root gets its password below.
    if ! mariadb-install-db --datadir="$datadir" --skip-test-db --skip-name-resolve \
        --auth-root-authentication-method=socket --auth-root-socket-user=mysql \
        "${@:2}" > "$install_log" 2>&1; then
        cat "$install_log" >&2
        die "mariadb-install-db failed (its output is above)"
    fi
    rm -f "$install_log"
    log "starting a temporary server on the socket only"
    start_temp_server "$@"
    setup_accounts
    run_init_scripts
    log "stopping the temporary server"
    stop_temp_server
    log "initialisation finished"
}

main() {
    if [[ "${1:-}" == -* ]]; then
        set -- mariadbd "$@"
    fi
    if [[ "${1:-}" != mariadbd && "${1:-}" != mysqld ]]; then
        exec "$@"
    fi
    if [[ "$(id -u)" == 0 ]]; then
        # Started as root (docker run --user root): hand the datadir to mysql and drop privileges.
        chown -R mysql:mysql /var/lib/mysql /run/mysqld
        exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
    fi
    trap on_signal TERM INT
    local var
    for var in MYSQL_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD MYSQL_ROOT_HOST \
        MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD; do
        read_env "$var"
    done
    # Validates the configuration too: a bad option fails here with the server's own message.
    local datadir
    datadir=$("$@" --verbose --help 2>/dev/null | awk '$1 == "datadir" { print $2; exit }')
    [[ -n "$datadir" ]] || { "$@" --verbose --help >/dev/null; die "could not read the datadir from the configuration"; }
    datadir=${datadir%/}
    if [[ -d "$datadir/mysql" ]]; then
        log "the datadir $datadir is already initialised: skipping initialisation;" \
            "the server logs this once it accepts connections: ready for connections"
    else
        initialise "$datadir" "$@"
    fi
    unset MYSQL_ROOT_PASSWORD MYSQL_PASSWORD
    log "starting the server on port 3306"
    exec "$@"
}

main "$@"
