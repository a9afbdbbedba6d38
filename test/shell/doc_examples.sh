#!/usr/bin/env bash
# Documentation that does not run is a bug: every fenced ```sql block of README.md and docs/*.md
# runs, in order, in a fresh database per file with pgrec and the demo data (scripts/demo_data.sql).
# A statement may fail only when the example says so, on one of its lines: `-- ERROR: SQLSTATE`
# (it must then fail with exactly that SQLSTATE). One TAP line per block.
# Prints TAP; run by scripts/test. Needs the private cluster of scripts/lib.sh to be running.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e
pick_datadir

# Writes the psql script of one block (lines FIRST..LAST of FILE): statements as written, and each
# statement marked `-- ERROR: XXXXX` wrapped so that it must fail with that SQLSTATE.
block_script() {
  awk -v first="$2" -v last="$3" -v where="$(basename "$1")" '
    NR < first || NR > last { next }
    {
      stmt = stmt $0 "\n"
      if (match($0, /-- ERROR: [0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z]/)) want = substr($0, RSTART + 10, 5)
      code = $0
      sub(/--.*$/, "", code)
      n = gsub(/\$\$/, "$$", code)
      if (n % 2 == 1) quoted = !quoted
      if (quoted || !(code ~ /;[ \t]*$/ || code ~ /\\g[a-z]*( [^ ]*)?[ \t]*$/ || $0 ~ /^\\/)) next
      if (want == "") { printf "%s", stmt }
      else {
        printf "\\set ON_ERROR_STOP 0\n%s\\set pgrec_doc_state :SQLSTATE\n\\set ON_ERROR_STOP 1\n", stmt
        printf "SELECT :'"'"'pgrec_doc_state'"'"' = '"'"'%s'"'"' AS pgrec_doc_ok \\gset\n", want
        printf "\\if :pgrec_doc_ok\n\\else\n\\warn %s line %d: expected SQLSTATE %s, got :pgrec_doc_state\n", where, NR, want
        printf "SELECT 1 / 0 AS expected_error_missing;\n\\endif\n"
      }
      stmt = ""; want = ""
    }
    END { printf "%s", stmt }' "$1"
}

files=("$REPO/README.md")
for f in "$REPO"/docs/*.md; do [ -f "$f" ] && files+=("$f"); done

# The blocks: FILE FIRST LAST (the lines between the fences).
blocks=$(for f in "${files[@]}"; do
  awk -v f="$f" '/^```sql[ \t]*$/ { start = NR + 1; next } /^```[ \t]*$/ && start { print f, start, NR - 1; start = 0 }' "$f"
done)
echo "1..$(( $(grep -c . <<<"$blocks") + 1 ))"

n=0
failed=0
current=""
while read -r file first last; do
  [ -z "$file" ] && continue
  n=$((n + 1))
  name=${file#"$REPO"/}
  if [ "$file" != "$current" ]; then
    current=$file
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_docs" -c "CREATE DATABASE pgrec_docs" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d pgrec_docs -c "CREATE EXTENSION pgrec" -f "$REPO/scripts/demo_data.sql" >/dev/null
  fi
  out=$(block_script "$file" "$first" "$last" |
        PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d pgrec_docs 2>&1 >/dev/null)
  if [ $? = 0 ]; then
    echo "ok $n - $name lines $first-$last"
  else
    echo "not ok $n - $name lines $first-$last"
    sed 's/^/# /' <<<"$out"
    failed=$((failed + 1))
  fi
done <<<"$blocks"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS pgrec_docs" >/dev/null 2>&1

# Every relative link of these pages names a file that exists.
broken=$(for f in "${files[@]}"; do
  grep -oE '\]\([^)#: ]+(#[^)]*)?\)' "$f" | sed -E 's/^\]\(([^)#]+).*/\1/' | while read -r target; do
    [ -e "$(dirname "$f")/$target" ] || echo "${f#"$REPO"/}: $target"
  done
done)
# And every #anchor of such a link names a heading of its file (GitHub's slugs).
broken+=$(/usr/bin/python3 - "${files[@]}" <<'PY'
import os, re, sys
def slug(heading):
    h = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return h.replace(' ', '-')
for f in sys.argv[1:]:
    for target, anchor in re.findall(r'\]\(([^)#: ]*)#([^)]+)\)', open(f).read()):
        path = os.path.join(os.path.dirname(f), target) if target else f
        if not os.path.exists(path):
            continue
        heads = [slug(m) for m in re.findall(r'^#+ (.*)$', open(path).read(), re.M)]
        if anchor not in heads:
            print(f"{os.path.basename(f)}: {target}#{anchor}")
PY
)
n=$((n + 1))
if [ -z "$broken" ]; then echo "ok $n - every relative link names a file that exists, and its #anchor a heading"; else
  echo "not ok $n - broken links"; sed 's/^/# /' <<<"$broken"; failed=$((failed + 1)); fi
[ "$failed" = 0 ]
