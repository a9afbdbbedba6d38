# Shared by scripts/demo and scripts/test: install packages, build, install, run a private cluster.
# Source it; it defines functions and the PG* variables every client uses.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGREC_PORT=${PGREC_PORT:-54329}

# The PostgreSQL major to build and test with: PGREC_PG_MAJOR, else the newest installed server,
# else the one the machine's archive offers (Debian 12: 15, Debian 13: 17, unstable: 18).
pg_major() {
  local major
  if [ -n "${PGREC_PG_MAJOR:-}" ]; then echo "$PGREC_PG_MAJOR"; return; fi
  major=$(ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1)
  [ -z "$major" ] && major=$(apt-cache depends postgresql 2>/dev/null | grep -oE 'postgresql-[0-9]+' | head -1 | cut -d- -f2)
  if [ -z "$major" ]; then
    case "$(. /etc/os-release 2>/dev/null; echo "${VERSION_ID:-}")" in
      13) major=17 ;;
      "") major=18 ;;  # unstable has no VERSION_ID
      *) major=15 ;;
    esac
  fi
  echo "$major"
}
PG_MAJOR=$(pg_major)
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PACKAGES=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
  libtorch-dev libeigen3-dev libopenblas0-openmp libgloo-dev googletest libgtest-dev cmake g++ make)
# What the tests need besides: the client examples' drivers (examples/run), numpy for the
# factor-import test and matplotlib for scripts/report.
TEST_PACKAGES=(python3 python3-numpy python3-matplotlib python3-psycopg python3-psycopg2 python3-sqlalchemy python3-django ruby ruby-pg)
# Installed when the release has them: pgvector for the vector round trip (Debian 13 on), pg_cron
# for the README's recipe of retraining from cron (test/shell/pg_cron.sh).
OPTIONAL_PACKAGES=(postgresql-$PG_MAJOR-pgvector postgresql-$PG_MAJOR-cron)
# clang and its sanitizer runtime build the fuzzer, which runs on the host leg only.
[ -z "${PGREC_CHROOT_LEG:-}" ] && PACKAGES+=(clang libclang-rt-dev)

# Runs a command as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The archive apt already uses (deb822 .sources or a classic sources.list).
archive_uri() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)
  [ -z "$uri" ] && uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Where chroots of other Debian releases live between runs (outside the clone, so a fresh clone
# on the same machine reuses them).
CHROOTS=${PGREC_CHROOTS:-/var/cache/pgrec}

# Makes a minimal chroot of Debian release SUITE in DIR with debootstrap, from the archive apt uses.
debootstrap_into() {
  dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'install ok installed' ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  as_root rm -rf "$2"
  as_root mkdir -p "$2"
  as_root debootstrap --variant=minbase "$1" "$2" "$(archive_uri)" >/dev/null
}

# Mounts /proc and /dev into a chroot.
mount_chroot() {
  as_root mount --bind /proc "$1/proc"
  as_root mount --bind /dev "$1/dev"
  as_root mount --bind /dev/pts "$1/dev/pts" 2>/dev/null || true
  as_root mount --bind /dev/shm "$1/dev/shm" 2>/dev/null || true
}

# Unmounts what mount_chroot mounted.
unmount_chroot() {
  local m
  for m in dev/shm dev/pts dev proc; do as_root umount "$1/$m" 2>/dev/null || true; done
}

# Installs the Debian packages pgrec needs, unless they are all there already.
install_packages() {
  if dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -qv 'install ok installed' ||
     [ "$(dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | wc -l)" -ne "${#PACKAGES[@]}" ]; then
    echo "== installing packages: ${PACKAGES[*]}"
    # PGREC_APT_OPTS: options for apt-get (a chroot of Debian unstable needs Check-Valid-Until=false).
    as_root env DEBIAN_FRONTEND=noninteractive apt-get ${PGREC_APT_OPTS:-} update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get ${PGREC_APT_OPTS:-} install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
}

# Installs OPTIONAL_PACKAGES the archive has (a test that needs one that is missing skips).
install_optional_packages() {
  local p
  for p in "${OPTIONAL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
    apt-cache show "$p" >/dev/null 2>&1 || { echo "== $p is not in this release: its tests skip"; continue; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get ${PGREC_APT_OPTS:-} install -y -qq --no-install-recommends "$p" >/dev/null ||
      echo "== $p could not be installed: its tests skip"
  done
}

# Builds the extension (PGXS) and the LibTorch module (CMake) and installs both into PostgreSQL $PG_MAJOR.
build_and_install() {
  echo "== building the extension"
  make -C "$REPO" -j"$(nproc)" PG_CONFIG=$PG_BIN/pg_config >/dev/null
  as_root make -C "$REPO" install PG_CONFIG=$PG_BIN/pg_config >/dev/null
  echo "== building the LibTorch module (loaded by training workers only)"
  cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$REPO/build" --target pgrec_neural -j"$(nproc)" >/dev/null
  as_root install -m 755 "$REPO/build/libpgrec_neural.so" "$($PG_BIN/pg_config --pkglibdir)/pgrec_torch.so"
}

# The user that owns the private cluster: never root.
cluster_user() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Picks the data directory: the repo's .pgdata when the owner can write there, else a temp dir.
pick_datadir() {
  PGDATA_DIR="$REPO/.pgdata"
  mkdir -p "$PGDATA_DIR"
  [ "$(id -u)" = 0 ] && chown "$(cluster_user)" "$PGDATA_DIR"
  if ! as_owner test -w "$PGDATA_DIR" 2>/dev/null || ! as_owner test -x "$REPO" 2>/dev/null; then
    PGDATA_DIR=/tmp/pgrec-pgdata-$PGREC_PORT
    mkdir -p "$PGDATA_DIR"
    [ "$(id -u)" = 0 ] && chown "$(cluster_user)" "$PGDATA_DIR"
  fi
  export PGHOST="$PGDATA_DIR/run" PGPORT="$PGREC_PORT" PGUSER="$(cluster_user)" PGDATABASE=postgres
}

# Creates (first time) and starts the private cluster on its own socket directory and port.
start_cluster() {
  pick_datadir
  local data="$PGDATA_DIR/data"
  # A cluster of another major (the machine's PostgreSQL changed) is a test cluster: start afresh.
  if [ -f "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" != "$PG_MAJOR" ]; then
    as_owner $PG_BIN/pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "== creating a private cluster in $data"
    # pg_cron, when installed, runs its jobs as background workers from the postgres database.
    local preload=pgrec cron=
    if [ -f "/usr/lib/postgresql/$PG_MAJOR/lib/pg_cron.so" ]; then
      preload=pgrec,pg_cron
      cron=$'cron.database_name = \'postgres\'\ncron.use_background_workers = on'
    fi
    as_owner mkdir -p "$data" "$PGHOST"
    as_owner $PG_BIN/initdb -D "$data" -U "$PGUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat <<CONF | as_owner tee -a "$data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$PGHOST'
port = $PGREC_PORT
fsync = off                 # safe for the crash tests: a killed backend leaves the OS cache intact
max_worker_processes = 16
log_min_messages = warning
shared_preload_libraries = '$preload'
pgrec.naptime = 2
$cron
CONF
  fi
  as_owner mkdir -p "$PGHOST"
  # The postmaster keeps the library it preloaded: restart so a new build is what runs.
  if as_owner $PG_BIN/pg_ctl -D "$data" status >/dev/null 2>&1; then
    echo "== restarting PostgreSQL on port $PGREC_PORT (socket $PGHOST)"
    as_owner $PG_BIN/pg_ctl -D "$data" -l "$PGDATA_DIR/server.log" -m fast -w restart >/dev/null
  else
    echo "== starting PostgreSQL on port $PGREC_PORT (socket $PGHOST)"
    as_owner $PG_BIN/pg_ctl -D "$data" -l "$PGDATA_DIR/server.log" -w start >/dev/null
  fi
  SERVER_LOG="$PGDATA_DIR/server.log"
}

# Stops the private cluster.
stop_cluster() {
  pick_datadir
  as_owner $PG_BIN/pg_ctl -D "$PGDATA_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

# How to connect by hand.
connect_hint() {
  echo "psql -h $PGHOST -p $PGPORT -U $PGUSER ${1:-postgres}"
}
