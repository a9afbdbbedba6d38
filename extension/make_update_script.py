#!/usr/bin/env python3
"""Writes the update script between two versions of pgrec's install script.

Usage: extension/make_update_script.py OLD NEW [MIGRATION] > extension/pgrec--OLD--NEW.sql
(OLD and NEW are versions: extension/pgrec--OLD.sql and extension/pgrec--NEW.sql are read).

An update never drops a user's object. Every function, aggregate and view of NEW is created with
CREATE OR REPLACE, so views, functions and grants of users that depend on them stay; only when
PostgreSQL refuses to replace one in place (a changed return type, parameter name or view column)
is it dropped -- without CASCADE, so an update that would take a user's object with it fails
loudly instead -- and created again. Functions OLD had and NEW has not (a changed signature) are
dropped, or renamed NAME_before_NEW when a user's object depends on them.
Tables, indexes, policies, triggers and config-dump registrations that OLD already had, statement
for statement, are kept (their data with them); changed policies and triggers are re-created;
a table OLD had is never created again (a changed table needs ALTERs in MIGRATION.pre, or
extension/migrations/OLD--NEW.pre.sql, which runs first). MIGRATION (hand-written SQL:
backfills) runs last. test/shell/upgrade.sh checks that an updated database has the same catalog
as a fresh install of NEW and that users' views, functions and grants survive.
"""
import os
import re
import sys


def statements(sql):
    """Splits a script into top-level statements (dollar-quoted bodies kept whole)."""
    out, current, quote = [], [], None
    for line in sql.splitlines(keepends=True):
        if quote is None and not current and (line.startswith('--') or line.startswith('\\') or not line.strip()):
            continue
        current.append(line)
        for tag in re.findall(r'\$[A-Za-z_]*\$', line):
            quote = None if quote == tag else (tag if quote is None else quote)
        if quote is None and line.rstrip().endswith(';'):
            out.append(''.join(current))
            current = []
    return out


def normal(statement):
    """A statement with its whitespace normalised, for comparing scripts."""
    return ' '.join(statement.split())


# Statements that create or register storage: carried over from OLD, never run twice.
STORAGE = re.compile(r'(CREATE (UNIQUE )?INDEX|CREATE SEQUENCE|'
                     r'ALTER TABLE \S+ ENABLE ROW LEVEL SECURITY|SELECT pg_catalog\.pg_extension_config_dump)')
TABLE = re.compile(r'CREATE (UNLOGGED )?TABLE (\S+)')
POLICY = re.compile(r'CREATE POLICY (\S+) ON (\S+)')
TRIGGER = re.compile(r'CREATE TRIGGER (\S+) .*? ON (\S+)')
ROUTINE = re.compile(r'CREATE (FUNCTION|AGGREGATE) (rec\.\w+)\s*\(')
VIEW = re.compile(r'CREATE VIEW (\S+)')
MULTI_WORD_TYPE_STARTS = {'double', 'character', 'timestamp', 'time', 'bit'}


def arg_types(statement, start):
    """The argument types of the routine whose '(' is at `start`: names and DEFAULTs removed."""
    depth, i, args, current = 0, start, [], ''
    while True:
        ch = statement[i]
        if ch == '(':
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif ch == ')':
            depth -= 1
            if depth == 0:
                args.append(current)
                break
        if ch == ',' and depth == 1:
            args.append(current)
            current = ''
        else:
            current += ch
        i += 1
    types = []
    for a in args:
        a = re.split(r'\s+DEFAULT\s+', a.strip(), flags=re.I)[0].strip()
        if not a:
            continue
        words = a.split()
        # "name type": a parameter name first, unless the words are one multi-word type.
        if len(words) > 1 and words[0].lower() not in MULTI_WORD_TYPE_STARTS:
            words = words[1:]
        types.append(' '.join(words))
    return '(' + ', '.join(types) + ')'


def routine_key(statement):
    """(kind, 'rec.name(types)') of a CREATE FUNCTION or CREATE AGGREGATE, else None."""
    m = ROUTINE.match(normal(statement))
    if not m:
        return None
    n = normal(statement)
    return m.group(1), m.group(2) + arg_types(n, m.end() - 1)


def replace_or_recreate(statement, kind, name):
    """CREATE OR REPLACE; when PostgreSQL refuses, DROP (no CASCADE) and the same CREATE OR REPLACE."""
    replaced = re.sub(r'^CREATE ', 'CREATE OR REPLACE ', statement.strip(), count=1).rstrip(';')
    return (f'DO $pgrec_update$\nDECLARE\n    definition text := $pgrec_stmt${replaced}$pgrec_stmt$;\nBEGIN\n'
            f'    EXECUTE definition;\n'
            f'EXCEPTION WHEN invalid_function_definition OR invalid_table_definition OR wrong_object_type THEN\n'
            f'    -- Cannot be replaced in place: dropped without CASCADE (a user object that depends on it\n'
            f'    -- stops the update) and created again.\n'
            f'    EXECUTE $pgrec_stmt$DROP {kind} {name}$pgrec_stmt$;\n'
            f'    EXECUTE definition;\n'
            f'END\n$pgrec_update$;\n')


def drop_or_set_aside(kind, name, new):
    """Drops a routine NEW no longer has; one a user's object depends on (a view over an old
    signature) is renamed NAME_before_NEW instead, so the update succeeds and the object works."""
    bare = name.split('(')[0].split('.')[-1]
    aside = f'{bare}_before_{new.replace(".", "_")}'
    return (f'DO $pgrec_update$\nBEGIN\n'
            f'    EXECUTE $pgrec_stmt$DROP {kind} IF EXISTS {name}$pgrec_stmt$;\n'
            f'EXCEPTION WHEN dependent_objects_still_exist THEN\n'
            f'    EXECUTE $pgrec_stmt$ALTER {kind} {name} RENAME TO {aside}$pgrec_stmt$;\n'
            f'END\n$pgrec_update$;')


def update_statement(s, old_statements, old_tables, old_norm):
    """What the update runs for statement `s` of NEW (None: nothing)."""
    n = normal(s)
    if STORAGE.match(n):
        return None if n in old_norm else s
    t = TABLE.match(n)
    if t:
        return None if t.group(2) in old_tables else s
    p = POLICY.match(n)
    if p:
        return None if n in old_norm else f'DROP POLICY IF EXISTS {p.group(1)} ON {p.group(2)};\n{s}'
    t = TRIGGER.match(n)
    if t:
        return None if n in old_norm else f'DROP TRIGGER IF EXISTS {t.group(1)} ON {t.group(2)};\n{s}'
    key = routine_key(s)
    if key:
        return replace_or_recreate(s, key[0], key[1])
    v = VIEW.match(n)
    if v:
        return replace_or_recreate(s, 'VIEW', v.group(1))
    return s


def main():
    old, new = sys.argv[1], sys.argv[2]
    old_sql = open(f'extension/pgrec--{old}.sql').read()
    new_sql = open(f'extension/pgrec--{new}.sql').read()
    old_list, new_list = statements(old_sql), statements(new_sql)
    old_norm = {normal(s) for s in old_list}
    old_tables = {m.group(2) for m in (TABLE.match(normal(s)) for s in old_list) if m}
    new_routines = {routine_key(s) for s in new_list if routine_key(s)}
    new_views = {m.group(1) for m in (VIEW.match(normal(s)) for s in new_list) if m}
    print(f'-- pgrec {old} -> {new}. Generated by extension/make_update_script.py {" ".join(sys.argv[1:])};')
    print('-- edit the install scripts or the migrations, not this file.')
    print(f'\\echo Use "ALTER EXTENSION pgrec UPDATE TO \'{new}\'" to load this file. \\quit')
    print()
    pre = f'extension/migrations/{old}--{new}.pre.sql'
    if os.path.exists(pre):
        print(open(pre).read())
    for s in new_list:
        out = update_statement(s, old_list, old_tables, old_norm)
        if out is not None:
            print(out, end='' if out.endswith('\n') else '\n')
            print()
    # What NEW no longer has goes, without CASCADE: aggregates first (they use functions).
    gone = [routine_key(s) for s in old_list if routine_key(s) and routine_key(s) not in new_routines]
    for kind, name in sorted(gone, key=lambda k: k[0] != 'AGGREGATE'):
        print(drop_or_set_aside(kind, name, new))
    for s in old_list:
        v = VIEW.match(normal(s))
        if v and v.group(1) not in new_views:
            print(f'DROP VIEW IF EXISTS {v.group(1)};')
    print()
    if len(sys.argv) > 3:
        print(open(sys.argv[3]).read(), end='')


if __name__ == '__main__':
    main()
